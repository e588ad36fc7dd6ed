/*
 * mach/mach_traps.h: the calls that are traps in GNU Mach (libmotrace-mach;
 * glibc has a header of this name on the Hurd). mach_msg and mach_msg_trap
 * are declared by GNU Mach's <mach/message.h>.
 */
#ifndef _MACH_MACH_TRAPS_H
#define _MACH_MACH_TRAPS_H

#include <mach/message.h>
#include <mach/port.h>

#ifdef __cplusplus
extern "C" {
#endif

mach_port_t mach_task_self(void);
mach_port_t mach_reply_port(void);
/* A send right to the host port, one user reference more per call. */
mach_port_t mach_host_self(void);

/* The calling thread's port and the scheduler trap (mach/thread.c). */
mach_port_t mach_thread_self(void);
kern_return_t thread_switch(mach_port_t thread, int option,
			    mach_msg_timeout_t option_time);

#ifdef __cplusplus
}
#endif

#endif
