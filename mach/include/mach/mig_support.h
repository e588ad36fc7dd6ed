/*
 * mach/mig_support.h: what MIG-generated stubs expect from the C library.
 * On the Hurd glibc provides it; gnumach-dev does not. mig_reply_setup
 * is not declared: Hurd servers (libpager's demuxer.c) define their own.
 */
#ifndef MACH_MIG_SUPPORT_H
#define MACH_MIG_SUPPORT_H

#include <string.h>
#include <mach/std_types.h>
#include <mach/port.h>
#include <mach/message.h>

mach_port_t mig_get_reply_port(void);
void mig_dealloc_reply_port(mach_port_t port);
void mig_put_reply_port(mach_port_t port);
void mig_init(void *first);
void mig_allocate(vm_address_t *addr, vm_size_t size);
void mig_deallocate(vm_address_t addr, vm_size_t size);
vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len);

#endif
