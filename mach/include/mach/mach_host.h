/*
 * mach/mach_host.h: the calls of mach_host.defs, as local calls
 * (libmotrace-mach; glibc has MIG's header of this name on the Hurd).
 */
#ifndef _MACH_MACH_HOST_H
#define _MACH_MACH_HOST_H

#include <mach/message.h>
#include <mach/port.h>
#include <mach/mach_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Threads and processor sets, as an unprivileged task (mach/thread.c). */
kern_return_t thread_get_assignment(mach_port_t thread,
				    mach_port_t *assigned_set);
kern_return_t host_processor_set_priv(mach_port_t host_priv,
				      mach_port_t set_name, mach_port_t *set);
kern_return_t thread_priority(mach_port_t thread, int priority,
			      boolean_t set_max);
kern_return_t thread_max_priority(mach_port_t thread, mach_port_t processor_set,
				  int max_priority);

#ifdef __cplusplus
}
#endif

#endif
