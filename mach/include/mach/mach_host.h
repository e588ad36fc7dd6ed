/*
 * mach/mach_host.h: the calls of mach_host.defs the library has, as local
 * calls on the host port of mach_host_self() (libmotrace-mach; glibc has
 * a header of this name on the Hurd, from MIG).
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

#ifdef __cplusplus
}
#endif

#endif
