/*
 * tests/gnumach/include/syscalls.h: GNU Mach's tests call a few traps
 * directly (syscall_*); on libmotrace-mach they are the same calls.
 */
#ifndef MO_GNUMACH_SYSCALLS_H
#define MO_GNUMACH_SYSCALLS_H

#include <mach.h>

#define syscall_mach_port_allocate mach_port_allocate
#define syscall_mach_port_deallocate mach_port_deallocate
#define syscall_mach_port_insert_right mach_port_insert_right
#define syscall_mach_port_allocate_name mach_port_allocate_name
#define syscall_mach_msg mach_msg_trap

/* A trap the library may lack; standin-missing.c answers for it then. */
mach_port_t mach_thread_self(void);

/*
 * GNU Mach's tests end each thread they start (test_thread_start) with
 * thread_terminate(mach_thread_self()). libmotrace-mach has no thread
 * ports (mach/README.md, "Threads"): its thread_terminate is MIG's stub
 * of mach.defs, which finds no port to send to. The stand-in ends the
 * calling thread itself (standin.c) and refuses any other.
 */
kern_return_t mo_gt_thread_terminate(mach_port_t thread);
#define thread_terminate mo_gt_thread_terminate

#endif
