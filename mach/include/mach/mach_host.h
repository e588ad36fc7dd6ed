/*
 * mach/mach_host.h: the calls of mach_host.defs the library has, as local
 * calls (libmotrace-mach; glibc has MIG's header of this name on the Hurd).
 */
#ifndef _MACH_MACH_HOST_H
#define _MACH_MACH_HOST_H

#include <mach/message.h>
#include <mach/port.h>
#include <mach/mach_types.h>
#include <mach/host_info.h>
#include <mach/time_value.h>

#ifdef __cplusplus
extern "C" {
#endif

kern_return_t host_get_time(mach_port_t host, time_value_t *current_time);
kern_return_t host_info(mach_port_t host, int flavor, host_info_t info,
			mach_msg_type_number_t *count);

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
