/*
 * tests/mach/mo-test.h: what the memory-object test pair shares: the
 * values each message carries, so that each side can check them on
 * arrival, and small helpers.
 */
#ifndef MO_TEST_H
#define MO_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef MO_TEST_KERNEL
/*
 * The kernel side serves mach.defs, so it cannot see <mach.h>'s user
 * prototypes of the same routines; it takes the parts it needs.
 */
#include <mach/mach_traps.h>
#include <mach/mach_port.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <mach/notify.h>
#include "memory_object.h"
#include "memory_object_default.h"
kern_return_t vm_allocate(mach_port_t, vm_address_t *, vm_size_t, boolean_t);
kern_return_t vm_deallocate(mach_port_t, vm_address_t, vm_size_t);
#else
#include <mach.h>
#endif
#include <mach/memory_object.h>

#define PAGE		4096
#define SUPPLY_OFF	0x1000
#define UNLOCK_OFF	0x1000
#define ERROR_OFF	0x2000
#define COPY_OFF	0x3000
#define RETURN_OFF	0x0
#define RETURN_LEN	(3 * 1024 * 1024 + 3 * PAGE)	/* several MiB */
#define INIT_LEN	(2 * PAGE)
#define DESTROY_REASON	42
#define CREATE_SIZE	0x10000

static const char *prog = "mo-test";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define CHECK(what, got, want) do { \
	unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
	if (g_ != w_) \
		die("%s: %s is %#llx, expected %#llx", what, #got, g_, w_); \
} while (0)

#define KR(call) do { \
	kern_return_t kr_ = (call); \
	if (kr_ != KERN_SUCCESS) \
		die("%s: %#x", #call, (unsigned)kr_); \
} while (0)

/* Bytes that differ by position and by SEED, so a shifted page shows. */
static inline void pattern_fill(void *p, size_t len, unsigned seed)
{
	unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 7 + (i >> 12) * 13 + seed * 31);
}

static inline int pattern_check(const void *p, size_t len, unsigned seed)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != (unsigned char)(i * 7 + (i >> 12) * 13 + seed * 31))
			return (int)i + 1;
	return 0;
}

static inline int has_right(mach_port_t name, mach_port_type_t bit)
{
	mach_port_type_t t;

	return mach_port_type(mach_task_self(), name, &t) == KERN_SUCCESS &&
	       (t & bit);
}

#endif
