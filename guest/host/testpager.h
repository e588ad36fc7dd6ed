/*
 * guest/host/testpager.h: a minimal memory manager on the host, for
 * driving the real kernel until pagers/ can be reached over mach/.
 *
 * It serves one object: a page reads as a recognisable pattern
 * (testpager_word) until the kernel returns data for it, and from then on
 * as what was returned; requests get read-only data unless they asked for
 * write, unlocks are granted, and the agent's "cmd clean N" / "cmd flush
 * N" / "cmd flushall N" become lock_requests answered with "ok" on
 * lock_completed.
 */
#ifndef MO_GUEST_TESTPAGER_H
#define MO_GUEST_TESTPAGER_H

#include <stdint.h>

#include "guest/host/relay.h"

struct testpager_out {
	/* Sends a manager -> kernel message through the relay (and records it). */
	int (*send)(void *ctx, const void *msg, uint32_t len,
		    const struct relay_ool *ool, int nool);
	/* Answers the agent. */
	int (*answer)(void *ctx, const char *text);
	/* What the pager saw, for the log. */
	void (*note)(void *ctx, const char *text);
	void *ctx;
};

#define TESTPAGER_MAX_LOCKS 64

struct testpager {
	struct testpager_out out;
	uint32_t object;	/* the object port, as the agent names it */
	uint32_t control;	/* from memory_object_init */
	uint32_t page_size;
	int terminated;
	unsigned nlocks;	/* lock_requests awaiting lock_completed */
	struct {
		uint32_t offset, length;
		char answer[48];	/* for the agent, or "" */
	} locks[TESTPAGER_MAX_LOCKS];
	uint32_t returns;	/* data_return messages seen */
	uint8_t **store;	/* returned pages, by page number (sparse) */
	uint32_t nstore;
	/* Pages whose next data_request gets data_error / data_unavailable. */
	uint32_t error_page[8], nerror, zero_page[8], nzero;
	char err[200];
};

void testpager_init(struct testpager *tp, const struct testpager_out *out);
void testpager_release(struct testpager *tp);
/* The relay_peer callbacks; CTX is the struct testpager. */
int testpager_on_msg(void *ctx, const uint8_t *msg, uint32_t len,
		     const struct relay_ool *ool, int nool);
int testpager_cmd(struct testpager *tp, const char *verb, uint32_t page);
/* Word I of page P as the pager supplies it. */
uint32_t testpager_word(uint32_t page, uint32_t i);

#endif
