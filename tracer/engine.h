/*
 * tracer/engine.h: one message's way through motrace, whatever carries it.
 *
 * A message arrives (decoded) -> the rules judge it -> it is dropped,
 * delayed, held, queued behind its destination's waiting messages, or
 * passed on -> injections follow it -> every step is an event for the
 * trace (log, model, checker, statistics). The proxy gives the engine a
 * way to send and to discard messages; the replayer gives it one that
 * only records.
 */
#ifndef MO_ENGINE_H
#define MO_ENGINE_H

#include "tracer/rules.h"
#include "tracer/sched.h"
#include "tracer/trace.h"
#include "util/strbuf.h"

/* A message on its way; the engine owns it from mo_engine_message() on. */
struct mo_pmsg {
	enum mo_dir dir;
	unsigned kernel, object;
	uint64_t queue;		/* its destination, for ordering */
	uint64_t t;		/* when it arrived */
	int kind;		/* enum mo_event_kind of its last event */
	struct strbuf bytes;
	struct mo_decoded d;
	void *carrier;		/* the transport's own (rights, link), or NULL */
};

struct mo_engine_ops {
	/* Passes M on; the engine frees M afterwards (see free_carrier). */
	void (*forward)(void *ctx, struct mo_pmsg *m);
	/* M is dropped: release whatever rights it carries. */
	void (*discard)(void *ctx, struct mo_pmsg *m);
	/*
	 * Sends a message motrace makes, about TRIGGER's kernel and object;
	 * fills M's queue and carrier. Returns 0, or -1 with ERR.
	 */
	int (*inject)(void *ctx, const struct mo_pmsg *trigger,
		      struct mo_pmsg *m, char *err, size_t errlen);
	void *ctx;
};

struct mo_engine {
	struct mo_trace *trace;
	struct mo_rules rules;
	struct mo_sched sched;
	struct mo_engine_ops ops;
	uint64_t forwarded, dropped, injected;
};

void mo_engine_init(struct mo_engine *e, struct mo_trace *trace,
		    const struct mo_engine_ops *ops);
/*
 * Ends: with FLUSH, what waits for a time is passed on when due; what
 * is still held is discarded and said so. Frees the rules.
 */
void mo_engine_release(struct mo_engine *e, int flush, uint64_t now);

/*
 * Makes a message from bytes; returns it with its decoding done: taken
 * from D when given (the same layout, decoded already), else made here.
 */
struct mo_pmsg *mo_pmsg_new(enum mo_dir dir, unsigned kernel, unsigned object,
			    uint64_t queue, uint64_t t, const void *bytes,
			    size_t len, enum mo_abi abi,
			    const struct mo_decoded *d);
void mo_pmsg_free(struct mo_pmsg *m);

/* A message arrived: judge it and act; takes ownership of M. */
void mo_engine_message(struct mo_engine *e, struct mo_pmsg *m);
/*
 * M answers a message motrace made: it goes no further; the trace sees
 * it as consumed. Takes ownership of M (its carrier already released).
 */
void mo_engine_consumed(struct mo_engine *e, struct mo_pmsg *m);
/* Passes on what has fallen due by NOW. */
void mo_engine_tick(struct mo_engine *e, uint64_t now);
/* Lets held message ID go (0: all); returns how many. */
unsigned mo_engine_let_go(struct mo_engine *e, unsigned id, uint64_t now);

#endif
