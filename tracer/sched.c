/* tracer/sched.c: per-destination FIFO queues of waiting messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/sched.h"
#include "util/xalloc.h"

void mo_sched_init(struct mo_sched *s)
{
	memset(s, 0, sizeof(*s));
	s->next_id = 1;
	s->max = MO_SCHED_MAX;
}

void mo_sched_release_all(struct mo_sched *s)
{
	for (unsigned i = 0; i < s->nqueues; i++) {
		struct mo_qmsg *q, *next;

		for (q = s->queues[i]; q; q = next) {
			next = q->next;
			free(q);
		}
	}
	free(s->queues);
	free(s->keys);
	{
		unsigned max = s->max;
		uint64_t early = s->let_go_early;

		mo_sched_init(s);
		s->max = max;
		s->let_go_early = early;
	}
}

static int find(const struct mo_sched *s, uint64_t queue)
{
	for (unsigned i = 0; i < s->nqueues; i++)
		if (s->keys[i] == queue)
			return (int)i;
	return -1;
}

int mo_sched_busy(const struct mo_sched *s, uint64_t queue)
{
	return find(s, queue) >= 0;
}

unsigned mo_sched_push(struct mo_sched *s, uint64_t queue, void *msg,
		       uint64_t due, int held)
{
	struct mo_qmsg *q = mo_xcalloc(1, sizeof(*q)), **tail;
	int i = find(s, queue);

	q->queue = queue;
	q->due = due;
	q->held = held;
	q->msg = msg;
	q->id = s->next_id++;
	if (i < 0) {
		if (s->nqueues == s->aqueues) {
			s->aqueues = s->aqueues ? 2 * s->aqueues : 16;
			s->queues = mo_xrealloc(s->queues,
						s->aqueues * sizeof(*s->queues));
			s->keys = mo_xrealloc(s->keys,
					      s->aqueues * sizeof(*s->keys));
		}
		i = (int)s->nqueues++;
		s->queues[i] = NULL;
		s->keys[i] = queue;
	}
	for (tail = &s->queues[i]; *tail; tail = &(*tail)->next)
		;
	*tail = q;
	s->count++;
	return q->id;
}

/* Takes the head of queue I. */
static void *take(struct mo_sched *s, unsigned i)
{
	struct mo_qmsg *q = s->queues[i];
	void *msg = q->msg;

	s->queues[i] = q->next;
	free(q);
	s->count--;
	if (!s->queues[i]) {
		s->queues[i] = s->queues[s->nqueues - 1];
		s->keys[i] = s->keys[s->nqueues - 1];
		s->nqueues--;
	}
	/* Drained after a crowd: the tables go back too. */
	if (!s->nqueues && s->aqueues > 16) {
		free(s->queues);
		free(s->keys);
		s->queues = NULL;
		s->keys = NULL;
		s->aqueues = 0;
	}
	return msg;
}

void *mo_sched_pop(struct mo_sched *s, uint64_t now)
{
	if (s->count > s->max) {
		unsigned oldest = 0;

		for (unsigned i = 1; i < s->nqueues; i++)
			if (s->queues[i]->id < s->queues[oldest]->id)
				oldest = i;
		s->let_go_early++;
		return take(s, oldest);
	}
	for (unsigned i = 0; i < s->nqueues; i++) {
		struct mo_qmsg *q = s->queues[i];

		/* A hold with a time limit (hold=...:for=) lets go by itself. */
		if (q->held ? !q->due || q->due > now : q->due > now)
			continue;
		return take(s, i);
	}
	return NULL;
}

uint64_t mo_sched_next_due(const struct mo_sched *s)
{
	uint64_t due = UINT64_MAX;

	for (unsigned i = 0; i < s->nqueues; i++) {
		const struct mo_qmsg *q = s->queues[i];

		if ((!q->held || q->due) && q->due < due)
			due = q->due;
	}
	return due;
}

unsigned mo_sched_release(struct mo_sched *s, unsigned id)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nqueues; i++)
		for (struct mo_qmsg *q = s->queues[i]; q; q = q->next)
			if (q->held && (!id || q->id == id)) {
				q->held = 0;
				q->due = 0;
				n++;
			}
	return n;
}

void mo_sched_each(const struct mo_sched *s,
		   void (*fn)(void *ctx, const struct mo_qmsg *q), void *ctx)
{
	for (unsigned i = 0; i < s->nqueues; i++)
		for (const struct mo_qmsg *q = s->queues[i]; q; q = q->next)
			fn(ctx, q);
}
