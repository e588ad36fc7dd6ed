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
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <mach/notify.h>
#include <mach/port.h>
#include <mach/mach_traps.h>
#include <mach/mach_port.h>
#include <mach/mach_host.h>
#include <mach/mach_interface.h>

#endif
