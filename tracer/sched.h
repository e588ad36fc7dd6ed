/*
 * tracer/sched.h: messages waiting to be passed on, one FIFO queue per
 * destination port.
 *
 * Mach keeps the messages one sender sends to one port in order; a proxy
 * that delays or holds a message must hold back what follows it to the
 * same port, and nothing else (DESIGN.md: a delayed or held message delays
 * only its own port's queue).
 */
#ifndef MO_SCHED_H
#define MO_SCHED_H

#include <stdint.h>

struct mo_qmsg {
	struct mo_qmsg *next;
	uint64_t queue;		/* the destination's key */
	uint64_t due;		/* monotonic ns when it may go; 0: now */
	int held;		/* waits for mo_sched_release() (or DUE, if set) */
	unsigned id;		/* number for the user (held messages) */
	void *msg;		/* the caller's message */
};

struct mo_sched {
	struct mo_qmsg **queues;	/* heads, one per queue in use */
	uint64_t *keys;
	unsigned nqueues, aqueues;
	unsigned next_id;
	unsigned count;
};

void mo_sched_init(struct mo_sched *s);
/* Frees the queue entries; the messages are the caller's. */
void mo_sched_release_all(struct mo_sched *s);

/* Is anything waiting for destination QUEUE? (A new message must follow it.) */
int mo_sched_busy(const struct mo_sched *s, uint64_t queue);
/* Queues MSG behind what waits for QUEUE; returns the entry's id. */
unsigned mo_sched_push(struct mo_sched *s, uint64_t queue, void *msg,
		       uint64_t due, int held);
/* The next message whose turn has come at NOW, or NULL. */
void *mo_sched_pop(struct mo_sched *s, uint64_t now);
/* When the next waiting message falls due (UINT64_MAX: none, or held). */
uint64_t mo_sched_next_due(const struct mo_sched *s);
/* Lets held message ID go (0: all held); returns how many. */
unsigned mo_sched_release(struct mo_sched *s, unsigned id);
/* Calls FN for each waiting message, queue by queue, in order. */
void mo_sched_each(const struct mo_sched *s,
		   void (*fn)(void *ctx, const struct mo_qmsg *q), void *ctx);

#endif
