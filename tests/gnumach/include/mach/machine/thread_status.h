/*
 * tests/gnumach/include/mach/machine/thread_status.h: the x86_64 thread
 * state flavors GNU Mach's tests name, as GNU Mach's
 * i386/include/mach/i386/thread_status.h has them for x86_64 (the
 * installed gnumach-dev header has the i386 layout only). No call of
 * libmotrace-mach takes them: it has no thread ports (mach/README.md).
 */
#ifndef _MACH_I386_THREAD_STATUS_H_
#define _MACH_I386_THREAD_STATUS_H_

#include <stdint.h>

#define i386_THREAD_STATE	1
#define i386_FLOAT_STATE	2
#define i386_ISA_PORT_MAP_STATE	3
#define i386_V86_ASSIST_STATE	4
#define i386_REGS_SEGS_STATE	5
#define i386_DEBUG_STATE	6
#define i386_FSGS_BASE_STATE	7

struct i386_thread_state {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rsp, rbx, rdx, rcx, rax, rip;
	unsigned int cs;
	uint64_t rfl, ursp;
	unsigned int ss;
};
#define i386_THREAD_STATE_COUNT \
	(sizeof(struct i386_thread_state) / sizeof(unsigned int))

struct i386_fsgs_base_state {
	unsigned long fs_base;
	unsigned long gs_base;
};
#define i386_FSGS_BASE_STATE_COUNT \
	(sizeof(struct i386_fsgs_base_state) / sizeof(unsigned int))

#endif
