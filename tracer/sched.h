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

/*
 * The most messages that wait at once. Mach bounds a port's queue and
 * makes senders wait (GNU Mach ipc/ipc_mqueue.c, ipc_mqueue_send: the
 * queue limit); motrace may not make anyone wait, and loses no message:
 * past the bound the oldest waiting message goes on at once, its hold or
 * delay cut short (counted in let_go_early; the engine says so in the
 * log). Order per port is kept: only a queue's head goes.
 */
#define MO_SCHED_MAX 4096u

struct mo_sched {
	struct mo_qmsg **queues;	/* heads, one per queue in use */
	uint64_t *keys;
	unsigned nqueues, aqueues;
	unsigned next_id;
	unsigned count;
	unsigned max;			/* MO_SCHED_MAX, unless set lower */
	uint64_t let_go_early;		/* messages that went past the bound */
};

void mo_sched_init(struct mo_sched *s);
/* Frees the queue entries; the messages are the caller's. */
void mo_sched_release_all(struct mo_sched *s);

/* Is anything waiting for destination QUEUE? (A new message must follow it.) */
int mo_sched_busy(const struct mo_sched *s, uint64_t queue);
/* Queues MSG behind what waits for QUEUE; returns the entry's id. */
unsigned mo_sched_push(struct mo_sched *s, uint64_t queue, void *msg,
		       uint64_t due, int held);
/*
 * The next message whose turn has come at NOW, or NULL; while more than
 * MAX wait, the oldest head, whatever its time.
 */
void *mo_sched_pop(struct mo_sched *s, uint64_t now);
/* When the next waiting message falls due (UINT64_MAX: none, or held). */
uint64_t mo_sched_next_due(const struct mo_sched *s);
/* Lets held message ID go (0: all held); returns how many. */
unsigned mo_sched_release(struct mo_sched *s, unsigned id);
/* Calls FN for each waiting message, queue by queue, in order. */
void mo_sched_each(const struct mo_sched *s,
		   void (*fn)(void *ctx, const struct mo_qmsg *q), void *ctx);

#endif
