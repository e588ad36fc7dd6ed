/*
 * hurd/sigpreempt.h: the Hurd C library's signal preemption (glibc
 * hurd/hurd/sigpreempt.h), our stand-in: hurd_catch_signal runs OPERATE
 * and returns its result; a fault in it is not caught (Linux delivers it
 * as a signal to the process), so libpager's pager_memcpy must not fault.
 */
#ifndef _HURD_SIGPREEMPT_H
#define _HURD_SIGPREEMPT_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/types.h>
#include <mach/kern_return.h>

#ifdef __cplusplus
extern "C" {
#endif

/* glibc hurd/hurd/sigpreempt.h: the range of sigcodes it takes; the
 * operation may move it (libpager's pager_memcpy does, window by window). */
struct hurd_signal_preemptor {
	sigset_t signals;
	unsigned long int first, last;
};

/*
 * A handler's third argument on the Hurd: its struct sigcontext, whose
 * sc_error holds the kernel's error for a memory fault (glibc
 * sysdeps/mach/hurd/x86/bits/sigcontext.h). Linux's has no such field;
 * this one stands in for it under the same name.
 */
struct hurd_sigcontext {
	int sc_error;
};
#define sigcontext hurd_sigcontext

/* The Hurd's C library gives the kernel's return codes errno names of the
 * same value (glibc sysdeps/mach/hurd/bits/errno.h). */
#ifndef EKERN_MEMORY_ERROR
#define EKERN_MEMORY_ERROR KERN_MEMORY_ERROR
#endif

/* glibc: "sigcode" is the faulting address for SIGSEGV and SIGBUS. */
error_t hurd_catch_signal(sigset_t sigset, unsigned long first,
			  unsigned long last, error_t (*operate)(struct hurd_signal_preemptor *),
			  sighandler_t handler);

#ifdef __cplusplus
}
#endif

#endif
