/*
 * mach_init.h: what glibc's <mach_init.h> declares on the Hurd: the task
 * port, the page size and its rounding (libmotrace-mach).
 */
#ifndef _MACH_INIT_H
#define _MACH_INIT_H

#include <mach/mach_types.h>
#include <mach/mach_traps.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The page size, set when the program starts; both names, as glibc. */
extern vm_size_t __vm_page_size;
extern vm_size_t vm_page_size;

#define round_page(x) \
	((((vm_offset_t)(x) + __vm_page_size - 1) / __vm_page_size) * \
	 __vm_page_size)
#define trunc_page(x) \
	((((vm_offset_t)(x)) / __vm_page_size) * __vm_page_size)

#ifdef __cplusplus
}
#endif

#endif
