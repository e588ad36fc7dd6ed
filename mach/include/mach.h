/*
 * mach.h: the Mach calls a GNU Mach program uses, for Linux processes
 * (libmotrace-mach). Declares what glibc's <mach.h> declares on the Hurd
 * for the calls this library provides; the routines of mach.defs
 * (memory_object_data_supply, memory_object_lock_request, ...) come from
 * <mach/mach_interface.h>, MIG's header for mach.defs, installed with it.
 */
#ifndef _MACH_H
#define _MACH_H

#include <mach/mach_types.h>
#include <mach_init.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <mach/notify.h>
#include <mach/port.h>
#include <mach/mach_traps.h>
#include <mach/mach_port.h>
#include <mach/mach_host.h>
#include <mach/mach_interface.h>
#include <mach/mach_host.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The server loop and message destruction, as glibc's (mach/server.c). */
mach_msg_return_t mach_msg_server_timeout(
	boolean_t (*demux)(mach_msg_header_t *request,
			   mach_msg_header_t *reply),
	mach_msg_size_t max_size, mach_port_t rcv_name,
	mach_msg_option_t option, mach_msg_timeout_t timeout);
mach_msg_return_t mach_msg_server(
	boolean_t (*demux)(mach_msg_header_t *request,
			   mach_msg_header_t *reply),
	mach_msg_size_t max_size, mach_port_t rcv_name);
void mach_msg_destroy(mach_msg_header_t *msg);

#ifdef __cplusplus
}
#endif

#endif
