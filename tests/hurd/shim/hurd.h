/*
 * hurd.h: what the Hurd's libports and libpager take from the Hurd's C
 * library (glibc's hurd/hurd.h, hurd/signal.h and pthread extensions)
 * and Linux's glibc has not, for building them on Linux against
 * libmotrace-mach (tests/hurd/, doc/pager-howto.md). Our own stand-ins,
 * declared as the Hurd's C library declares them.
 */
#ifndef _HURD_H
#define _HURD_H

#include <errno.h>
#include <pthread.h>
#include <mach.h>
#include <hurd/hurd_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The Hurd's libpthread initializes spin locks statically; NPTL has no
 * initializer. Its pthread_spinlock_t is an int that pthread_spin_init
 * sets to the unlocked value: 1 on x86 (glibc
 * sysdeps/x86_64/nptl/pthread_spin_lock.S takes it with lock decl, and
 * pthread_spin_unlock.S stores 1), 0 elsewhere (nptl/pthread_spin_init.c).
 */
#ifndef PTHREAD_SPINLOCK_INITIALIZER
#if defined(__x86_64__) || defined(__i386__)
#define PTHREAD_SPINLOCK_INITIALIZER 1
#else
#define PTHREAD_SPINLOCK_INITIALIZER 0
#endif
#endif

/*
 * The calling thread's port: a send right the C library keeps (the
 * caller does not deallocate it), as glibc's hurd_thread_self
 * (hurd/hurd/threadvar.h, _hurd_self_sigstate ()->thread).
 */
thread_t hurd_thread_self(void);

/*
 * Cancellation (glibc hurd/thread-cancel.c): THREAD's pending or next
 * pthread_hurd_cond_wait_np returns nonzero, and hurd_check_cancel in it
 * returns nonzero and clears the request; ESRCH for a port that is no
 * thread's here. The Hurd also interrupts THREAD's RPC in progress
 * (interrupt_operation to its server); Linux has no such thing.
 */
error_t hurd_thread_cancel(thread_t thread);
int hurd_check_cancel(void);

/*
 * pthread_cond_wait that a hurd_thread_cancel of the waiting thread ends:
 * returns nonzero when cancelled (the mutex held again), else 0
 * (glibc htl, pthread_hurd_cond_wait_np).
 */
int pthread_hurd_cond_wait_np(pthread_cond_t *cond, pthread_mutex_t *mutex);

/*
 * The privileged host and device master ports (glibc hurd/privports.c):
 * a task started by the kernel has them, others ask the proc server,
 * which gives them to root. Here there is neither:
 * MACH_SEND_INVALID_DEST, what glibc returns with no proc server.
 */
error_t get_privileged_ports(mach_port_t *host_priv_ptr,
			     mach_port_t *device_master_ptr);

#ifdef __cplusplus
}
#endif

#endif
