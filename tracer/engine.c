/* tracer/engine.c: one message's way through motrace. */
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>

#include "tracer/engine.h"
#include "util/xalloc.h"

/* The transport a message came by: its own (attach), else the engine's. */
#define OPS(e, m) ((m)->via ? (m)->via : &(e)->ops)

void mo_engine_init(struct mo_engine *e, struct mo_trace *trace,
		    const struct mo_engine_ops *ops)
{
	memset(e, 0, sizeof(*e));
	e->trace = trace;
	e->ops = *ops;
	mo_sched_init(&e->sched);
}

/*
 * Messages freed, kept for the next ones with their byte buffers: a
 * message's way then costs no malloc for its record (which holds its
 * decoding, 2 KiB) or its bytes. Per thread, so no lock.
 */
#define PMSG_CACHE 32
#define PMSG_CACHE_BYTES 4096

static __thread struct mo_pmsg *pmsg_cache[PMSG_CACHE];
static __thread unsigned pmsg_cached;

static struct mo_pmsg *pmsg_alloc(void)
{
	struct mo_pmsg *m;

	if (pmsg_cached) {
		m = pmsg_cache[--pmsg_cached];
		strbuf_reset(&m->bytes);
	} else {
		m = mo_xmalloc(sizeof(*m));
		strbuf_init(&m->bytes, 0);
	}
	/* All but the decoding, which the caller writes whole. */
	m->kind = 0;
	m->ool_local = 0;
	m->carrier = NULL;
	m->stack = NULL;
	m->via = NULL;
	return m;
}

struct mo_pmsg *mo_pmsg_new(enum mo_dir dir, unsigned kernel, unsigned object,
			    uint64_t queue, uint64_t t, const void *bytes,
			    size_t len, enum mo_abi abi,
			    const struct mo_decoded *d)
{
	struct mo_pmsg *m = pmsg_alloc();

	m->dir = dir;
	m->kernel = kernel;
	m->object = object;
	m->queue = queue;
	m->t = t;
	strbuf_add(&m->bytes, bytes, len);
	if (d)
		m->d = *d;
	else
		mo_decode((const uint8_t *)m->bytes.buf, m->bytes.len, abi,
			  &m->d);
	return m;
}

void mo_pmsg_free(struct mo_pmsg *m)
{
	if (!m)
		return;
	free(m->stack);
	if (pmsg_cached < PMSG_CACHE && m->bytes.alloc <= PMSG_CACHE_BYTES) {
		pmsg_cache[pmsg_cached++] = m;
		return;
	}
	strbuf_release(&m->bytes);
	free(m);
}

static void emit(struct mo_engine *e, struct mo_pmsg *m,
		 enum mo_event_kind kind, uint64_t t, uint64_t delay)
{
	struct mo_event ev = {
		.kind = kind, .dir = m->dir, .kernel = m->kernel,
		.object = m->object, .t = t, .delay_ns = delay, .arrived = m->t,
		.buf = (const uint8_t *)m->bytes.buf, .len = m->bytes.len,
		.d = &m->d, .ool_local = m->ool_local, .stack = m->stack,
	};

	m->kind = kind;
	mo_trace_event(e->trace, &ev);
}

/* A message motrace makes from ENC, or NULL with ERR. */
static struct mo_pmsg *made(struct mo_enc *enc, unsigned kernel,
			    unsigned object, uint64_t t, char *err,
			    size_t errlen)
{
	struct strbuf bytes = STRBUF_INIT;
	struct mo_pmsg *m;

	/* As a sender writes it: the bytes of MIG's user stub. */
	enc->sent_view = 1;
	if (mo_encode(MO_ABI_X86_64, enc, &bytes, err, errlen) < 0) {
		strbuf_release(&bytes);
		return NULL;
	}
	/* memory_object.defs goes to the manager, mach.defs to the kernel. */
	m = mo_pmsg_new(enc->schema->id >= 2200 && enc->schema->id < 2300
			? MO_K2M : MO_M2K, kernel, object, 0, t, bytes.buf,
			bytes.len, MO_ABI_X86_64, NULL);
	strbuf_release(&bytes);
	return m;
}

struct mo_pmsg *mo_inject_build(const struct mo_rule *r,
				const struct mo_pmsg *trigger, char *err,
				size_t errlen)
{
	struct mo_enc enc;
	struct mo_event ev = {
		.dir = trigger->dir, .kernel = trigger->kernel,
		.object = trigger->object, .t = trigger->t,
		.buf = (const uint8_t *)trigger->bytes.buf,
		.len = trigger->bytes.len, .d = &trigger->d,
	};

	if (mo_rule_message(r, &ev, &enc, err, errlen) < 0)
		return NULL;
	return made(&enc, trigger->kernel, trigger->object, trigger->t, err,
		    errlen);
}

static void inject_after(struct mo_engine *e, struct mo_pmsg *trigger,
			 const struct mo_verdict *v, uint64_t t)
{
	for (unsigned i = 0; i < v->ninject; i++) {
		struct mo_pmsg *m;
		char err[200];

		m = mo_inject_build(v->inject[i], trigger, err, sizeof(err));
		if (!m) {
			mo_trace_note(e->trace, t, "inject %s: %s",
				      v->inject[i]->spec, err);
			continue;
		}
		m->t = t;
		if (OPS(e, trigger)->inject &&
		    OPS(e, trigger)->inject(OPS(e, trigger)->ctx, trigger, m, err, sizeof(err)) < 0) {
			mo_trace_note(e->trace, t, "inject %s: %s",
				      v->inject[i]->spec, err);
			mo_pmsg_free(m);
			continue;
		}
		e->injected++;
		emit(e, m, MO_EV_INJECTED, t, 0);
		mo_pmsg_free(m);
	}
}

static void forward(struct mo_engine *e, struct mo_pmsg *m,
		    enum mo_event_kind kind, uint64_t t, uint64_t delay)
{
	/* Logged before it goes, so that an answer never precedes it. */
	emit(e, m, kind, t, delay);
	if (OPS(e, m)->forward)
		OPS(e, m)->forward(OPS(e, m)->ctx, m);
	e->forwarded++;
}

static void put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}

/* Element K of port item IT becomes NAME with type TYPE. */
static void set_port(uint8_t *msg, const struct mo_item *it, uint32_t k,
		     unsigned type, uint32_t name)
{
	if (it->longform) {
		uint16_t t = (uint16_t)type;

		memcpy(msg + it->desc_off + 4, &t, 2);
	} else {
		msg[it->desc_off] = (uint8_t)type;
	}
	put32(msg + it->data_off + 4 * k, name);
}

int mo_inject_prepare(struct mo_pmsg *m, const struct mo_inject_names *n,
		      struct strbuf *out, char *err, size_t errlen)
{
	const struct mo_decoded *d = &m->d;
	struct mo_decoded check;
	uint8_t *msg;
	uint32_t bits, local;

	if (!d->schema || d->status != MO_OK || !d->sent_view) {
		snprintf(err, errlen, "the message is malformed: %s",
			 d->status != MO_OK ? d->err : "not as a sender writes it");
		return -1;
	}
	strbuf_reset(out);
	strbuf_add(out, m->bytes.buf, m->bytes.len);
	msg = (uint8_t *)out->buf;
	/*
	 * Only names change: every type stays as the encoder wrote it, which
	 * is what MIG's stub writes (tests/tracer/inject-mig.c). A null port
	 * stays a null port of its type, as the stub sends MACH_PORT_NULL.
	 */
	for (unsigned i = 0; i < d->nitems; i++) {
		const struct mo_item *it = &d->items[i];
		const char *an = i < d->schema->nargs ? d->schema->args[i].name : "";

		if (!it->is_inline) {
			uint64_t bytes = mo_item_bytes(it);
			uint64_t addr = n->ool ? n->ool(n->ctx, bytes) : 0;

			if (!addr) {
				snprintf(err, errlen, "no memory for %llu bytes of %s",
					 (unsigned long long)bytes, an);
				return -1;
			}
			memcpy(msg + it->data_off, &addr, 8);
			continue;
		}
		if (!mo_type_is_port(it->name) || it->number != 1)
			continue;
		if (!strcmp(an, "memory_control")) {
			set_port(msg, it, 0, it->name, n->control);
		} else if (!mo_item_elem(msg, it, 0)) {
			continue;
		} else if (!strcmp(an, "reply_to")) {
			uint32_t rp = n->reply_port ? n->reply_port(n->ctx) : 0;

			if (!rp) {
				snprintf(err, errlen, "no port for the answer reply_to asks for");
				return -1;
			}
			set_port(msg, it, 0, it->name, rp);
			/* The log names the port its answer will come to. */
			set_port((uint8_t *)m->bytes.buf, it, 0, it->name, rp);
		} else {
			/* motrace holds no right the text could name. */
			set_port(msg, it, 0, it->name, 0);
		}
	}
	memcpy(&bits, msg, 4);
	memcpy(&local, msg + 16, 4);
	if (local) {
		/* A routine's reply port (MIG: mig_get_reply_port()). */
		local = n->reply_port ? n->reply_port(n->ctx) : 0;
		if (!local) {
			snprintf(err, errlen, "no port for the reply");
			return -1;
		}
		put32((uint8_t *)m->bytes.buf + 16, local);
	}
	put32(msg, MACH_MSGH_BITS_OTHER(bits) |
		   MACH_MSGH_BITS(n->dest_type ? n->dest_type
			   : MACH_MSGH_BITS_REMOTE(bits),
			   local ? MACH_MSGH_BITS_LOCAL(bits) : 0));
	put32(msg + 8, n->dest);
	memset(msg + 12, 0, 4);
	put32(msg + 16, local);
	memset(msg + 20, 0, 4);
	/* What the receiver would refuse is not sent. */
	if (mo_decode(msg, out->len, MO_ABI_X86_64, &check) < 0) {
		snprintf(err, errlen, "the receiver would refuse it: %s", check.err);
		return -1;
	}
	return 0;
}

struct waiting {
	struct mo_pmsg *m;
	uint64_t due;		/* when it may go, or 0 */
	struct mo_verdict v;	/* its injections come after it goes */
	int drop;		/* the user dropped it while it was held */
};

int mo_engine_rewrite(struct mo_engine *e, struct mo_pmsg *m,
		      const char *field, uint64_t value, char *err,
		      size_t errlen)
{
	int i = mo_arg_index(&m->d, field);
	const struct mo_item *it;
	uint8_t b[8];
	unsigned n;

	if (i < 0) {
		snprintf(err, errlen, "%s has no argument '%s'",
			 m->d.schema ? m->d.schema->name : "the message", field);
		return -1;
	}
	it = &m->d.items[i];
	n = it->size / 8;
	if (!it->is_inline || it->number != 1 || mo_type_is_port(it->name) ||
	    (n != 1 && n != 2 && n != 4 && n != 8)) {
		snprintf(err, errlen, "argument '%s' is not an inline number", field);
		return -1;
	}
	for (unsigned k = 0; k < n; k++)
		b[k] = (uint8_t)(value >> (8 * k));
	memcpy(m->bytes.buf + it->data_off, b, n);
	if (OPS(e, m)->patch)
		OPS(e, m)->patch(OPS(e, m)->ctx, m, it->data_off, b, n);
	mo_decode((const uint8_t *)m->bytes.buf, m->bytes.len, m->d.abi, &m->d);
	return 0;
}

void mo_engine_message(struct mo_engine *e, struct mo_pmsg *m)
{
	struct mo_event ev = {
		.dir = m->dir, .kernel = m->kernel, .object = m->object,
		.t = m->t, .buf = (const uint8_t *)m->bytes.buf,
		.len = m->bytes.len, .d = &m->d,
	};
	struct mo_verdict v, pv = { 0 };
	unsigned point = 0;

	mo_engine_tick(e, m->t);
	if (e->verdict) {
		e->verdict(e->verdict_ctx, m, &pv);
		ev.buf = (const uint8_t *)m->bytes.buf;
		ev.len = m->bytes.len;
	}
	mo_rules_judge(&e->rules, &ev, &v);
	v.drop |= pv.drop;
	if (pv.hold && !v.hold) {
		v.hold = 1;
		v.hold_for = pv.hold_for;
	}
	if (pv.delay > v.delay)
		v.delay = pv.delay;
	/* A breakpoint stops what the rules let pass, as a hold rule would. */
	if (!v.drop && !v.hold && e->dbg.judge &&
	    (point = e->dbg.judge(e->dbg.ctx, m))) {
		v.hold = 1;
		v.hold_for = 0;
	}
	/* Stopped (Ctrl-C, step): each message stops where it is, on its port. */
	if (e->stopped && !v.drop && !v.hold) {
		v.hold = 1;
		v.hold_for = 0;
	}
	if (v.drop) {
		emit(e, m, MO_EV_DROPPED, m->t, 0);
		if (OPS(e, m)->discard)
			OPS(e, m)->discard(OPS(e, m)->ctx, m);
		e->dropped++;
		mo_pmsg_free(m);
		return;
	}
	if (v.hold || v.delay || mo_sched_busy(&e->sched, m->queue)) {
		struct waiting *w = mo_xmalloc(sizeof(*w));
		uint64_t early = e->sched.let_go_early;
		unsigned id;

		w->m = m;
		w->drop = 0;
		w->v = v;
		w->due = v.hold ? (v.hold_for ? m->t + v.hold_for : 0)
				: v.delay ? m->t + v.delay : 0;
		id = mo_sched_push(&e->sched, m->queue, w, w->due, v.hold);
		if (v.delay && !v.hold) {
			struct mo_event kept = ev;

			kept.kind = MO_EV_DELAYED;
			mo_trace_kept(e->trace, &kept);
		}
		if (v.hold) {
			emit(e, m, MO_EV_HELD, m->t, 0);
			mo_trace_note(e->trace, m->t,
				      "held as %u: 'release %u' lets it go", id,
				      id);
			if (point && e->dbg.stopped)
				e->dbg.stopped(e->dbg.ctx, point, id, m);
		}
		/*
		 * A delayed message is logged once, when it goes, with how
		 * long it was kept; one that waits behind its port's queue
		 * is not announced either.
		 */
		mo_engine_tick(e, m->t);
		/* Said at the first, then at each power of two. */
		if (e->sched.let_go_early != early &&
		    !(e->sched.let_go_early & (e->sched.let_go_early - 1)))
			mo_trace_note(e->trace, m->t,
				      "%u message(s) wait, the most there may be: the oldest went on before its time (%llu so far)",
				      e->sched.max,
				      (unsigned long long)e->sched.let_go_early);
		return;
	}
	forward(e, m, MO_EV_FORWARDED, m->t, 0);
	inject_after(e, m, &v, m->t);
	mo_pmsg_free(m);
}

void mo_engine_passed(struct mo_engine *e, struct mo_pmsg *m)
{
	emit(e, m, MO_EV_FORWARDED, m->t, 0);
	/* Nothing to send: the transport lets go of what carried it. */
	if (OPS(e, m)->forward)
		OPS(e, m)->forward(OPS(e, m)->ctx, m);
	e->forwarded++;
	mo_pmsg_free(m);
}

int mo_engine_judging(const struct mo_engine *e)
{
	return e->may_stop || e->stopped || e->verdict || e->rules.n ||
	       e->dbg.judge;
}

void mo_engine_consumed(struct mo_engine *e, struct mo_pmsg *m)
{
	emit(e, m, MO_EV_CONSUMED, m->t, 0);
	mo_pmsg_free(m);
}

void mo_engine_tick(struct mo_engine *e, uint64_t now)
{
	struct waiting *w;

	while ((w = mo_sched_pop(&e->sched, now))) {
		struct mo_pmsg *m = w->m;
		/* A message that only waited behind another is just forwarded. */
		enum mo_event_kind kind = m->kind == MO_EV_HELD ? MO_EV_RELEASED
					  : w->v.delay ? MO_EV_DELAYED
					  : MO_EV_FORWARDED;

		uint64_t t = w->due > m->t ? w->due : m->t;

		/* Replayed time jumps: a due message goes at its own time. */
		if (t > now)
			t = now;
		if (w->drop) {
			emit(e, m, MO_EV_DROPPED, t, 0);
			if (OPS(e, m)->discard)
				OPS(e, m)->discard(OPS(e, m)->ctx, m);
			e->dropped++;
			mo_pmsg_free(m);
			free(w);
			continue;
		}
		forward(e, m, kind, t, t - m->t);
		inject_after(e, m, &w->v, t);
		mo_pmsg_free(m);
		free(w);
	}
	mo_trace_tick(e->trace, now);
}

struct each_held {
	void (*fn)(void *ctx, unsigned id, const struct mo_pmsg *m);
	void *ctx;
	unsigned first;
};

static void on_held(void *ctx, const struct mo_qmsg *q)
{
	struct each_held *h = ctx;
	const struct waiting *w = q->msg;

	if (!q->held)
		return;
	if (h->fn)
		h->fn(h->ctx, q->id, w->m);
	if (!h->first || q->id < h->first)
		h->first = q->id;
}

struct find_held {
	unsigned id;
	struct waiting *w;
};

static void on_find(void *ctx, const struct mo_qmsg *q)
{
	struct find_held *f = ctx;

	if (q->held && q->id == f->id)
		f->w = q->msg;
}

int mo_engine_drop_held(struct mo_engine *e, unsigned id, uint64_t now)
{
	struct find_held f = { id, NULL };

	mo_sched_each(&e->sched, on_find, &f);
	if (!f.w)
		return -1;
	f.w->drop = 1;
	mo_engine_let_go(e, id, now);
	return 0;
}

const struct mo_pmsg *mo_engine_held(const struct mo_engine *e, unsigned id)
{
	struct find_held f = { id, NULL };

	mo_sched_each(&e->sched, on_find, &f);
	return f.w ? f.w->m : NULL;
}

unsigned mo_engine_first_held(const struct mo_engine *e)
{
	struct each_held h = { NULL, NULL, 0 };

	mo_sched_each(&e->sched, on_held, &h);
	return h.first;
}

void mo_engine_each_held(const struct mo_engine *e,
			 void (*fn)(void *ctx, unsigned id,
				    const struct mo_pmsg *m),
			 void *ctx)
{
	struct each_held h = { fn, ctx, 0 };

	mo_sched_each(&e->sched, on_held, &h);
}

unsigned mo_engine_let_go(struct mo_engine *e, unsigned id, uint64_t now)
{
	unsigned n = mo_sched_release(&e->sched, id);

	mo_engine_tick(e, now);
	return n;
}

static void drop_waiting(void *ctx, const struct mo_qmsg *q)
{
	struct mo_engine *e = ctx;
	struct waiting *w = q->msg;

	if (OPS(e, w->m)->discard)
		OPS(e, w->m)->discard(OPS(e, w->m)->ctx, w->m);
	mo_pmsg_free(w->m);
	free(w);
}

void mo_engine_release(struct mo_engine *e, int flush, uint64_t now)
{
	if (flush) {
		uint64_t due;

		/* What waits for a time goes; what is held for the user stays. */
		while ((due = mo_sched_next_due(&e->sched)) != UINT64_MAX)
			mo_engine_tick(e, due > now ? due : now);
	}
	if (e->sched.count)
		mo_trace_note(e->trace, now, "%u message(s) still waiting were not passed on",
			      e->sched.count);
	mo_sched_each(&e->sched, drop_waiting, e);
	mo_sched_release_all(&e->sched);
	mo_rules_release(&e->rules);
	mo_engine_loop_free(e);
}

int mo_engine_add_ops(struct mo_engine *e, const struct mo_engine_ops *ops)
{
	if (e->nothers == sizeof(e->others) / sizeof(e->others[0]))
		return -1;
	e->others[e->nothers++] = ops;
	return 0;
}

void mo_engine_remove_ops(struct mo_engine *e, const struct mo_engine_ops *ops)
{
	for (unsigned i = 0; i < e->nothers; i++)
		if (e->others[i] == ops) {
			e->others[i] = e->others[--e->nothers];
			return;
		}
}

int mo_engine_send(struct mo_engine *e, const char *call, unsigned kernel,
		   unsigned object, uint64_t now, char *err, size_t errlen)
{
	struct mo_enc enc;
	struct mo_pmsg trigger = { .kernel = kernel, .object = object,
				   .t = now };
	struct mo_pmsg *m;
	const struct mo_engine_ops *ops = &e->ops;

	for (unsigned i = 0; i < e->nothers; i++)
		if (e->others[i]->has_kernel &&
		    e->others[i]->has_kernel(e->others[i]->ctx, kernel))
			ops = e->others[i];
	if (!ops->inject) {
		snprintf(err, errlen, "nothing to send it through");
		return -1;
	}
	if (mo_parse_call(call, MO_ABI_X86_64, &enc, err, errlen) < 0)
		return -1;
	m = made(&enc, kernel, object, now, err, errlen);
	if (!m)
		return -1;
	trigger.dir = m->dir;
	if (ops->inject(ops->ctx, &trigger, m, err, errlen) < 0) {
		mo_pmsg_free(m);
		return -1;
	}
	if (ops != &e->ops)
		m->via = ops;
	e->injected++;
	emit(e, m, MO_EV_INJECTED, now, 0);
	mo_pmsg_free(m);
	return 0;
}
