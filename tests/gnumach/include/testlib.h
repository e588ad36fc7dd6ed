/*
 * tests/gnumach/include/testlib.h: the stand-in for GNU Mach's tests/
 * include/testlib.h, with the same calls, so that GNU Mach's IPC tests
 * (tests/test-*.c in its repository) build unchanged as Linux programs on
 * libmotrace-mach. Each check is counted (standin.c): a failed one is
 * said with GNU Mach's failure marker and the function goes on, so that
 * the runner can tell how many of a function's checks pass.
 */
#ifndef MO_GNUMACH_TESTLIB_H
#define MO_GNUMACH_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mach.h>
#include <syscalls.h>

/* Every check: COND true passes; WHAT and MSG name it when it fails. */
void mo_gt_check(int ok, const char *what, const char *msg, int ret);

#define ASSERT(cond, msg) mo_gt_check(!!(cond), #cond, (msg), 0)
#define ASSERT_RET(ret, msg) do { \
	int ret_ = (int)(ret); \
	mo_gt_check(ret_ == KERN_SUCCESS, NULL, (msg), ret_); \
} while (0)
#define FAILURE(msg) do { \
	mo_gt_check(0, NULL, (msg), 0); \
	halt(); \
} while (0)

extern const char *TEST_SUCCESS_MARKER;
extern const char *TEST_FAILURE_MARKER;

const char *e2s(int err);
const char *e2s_gnumach(int err);
void __attribute__((noreturn)) halt(void);
int msleep(uint32_t timeout);
thread_t test_thread_start(task_t task, void (*routine)(void *), void *arg);

mach_port_t host_priv(void);
mach_port_t device_priv(void);
void wait_thread_terminated(thread_t th);
void wait_thread_suspended(thread_t th);

/*
 * GNU Mach's tests lay their messages out for the ABI of its headers; the
 * library speaks MIG's layout of gnumach-dev's, packed at 4 (doc/wire.md,
 * "Message bytes"), and an 8-byte pointer after a 4-byte type descriptor
 * sits at offset 36 there. MACH_MSG_USER_ALIGNMENT is that packing.
 */
#ifndef MACH_MSG_USER_ALIGNMENT
#define MACH_MSG_USER_ALIGNMENT 4
#endif


#endif
