/* tracer/engine.c: one message's way through motrace. */
#include <stdlib.h>
#include <string.h>

#include "tracer/engine.h"

void mo_engine_init(struct mo_engine *e, struct mo_trace *trace,
		    const struct mo_engine_ops *ops)
{
	memset(e, 0, sizeof(*e));
	e->trace = trace;
	e->ops = *ops;
	mo_sched_init(&e->sched);
}

struct mo_pmsg *mo_pmsg_new(enum mo_dir dir, unsigned kernel, unsigned object,
			    uint64_t queue, uint64_t t, const void *bytes,
			    size_t len, enum mo_abi abi,
			    const struct mo_decoded *d)
{
	struct mo_pmsg *m = calloc(1, sizeof(*m));

	if (!m) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	m->dir = dir;
	m->kernel = kernel;
	m->object = object;
	m->queue = queue;
	m->t = t;
	strbuf_init(&m->bytes, len);
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
	strbuf_release(&m->bytes);
	free(m);
}

static void emit(struct mo_engine *e, struct mo_pmsg *m,
		 enum mo_event_kind kind, uint64_t t, uint64_t delay)
{
	struct mo_event ev = {
		.kind = kind, .dir = m->dir, .kernel = m->kernel,
		.object = m->object, .t = t, .delay_ns = delay,
		.buf = (const uint8_t *)m->bytes.buf, .len = m->bytes.len,
		.d = &m->d,
	};

	m->kind = kind;
	mo_trace_event(e->trace, &ev);
}

static void inject_after(struct mo_engine *e, struct mo_pmsg *trigger,
			 const struct mo_verdict *v, uint64_t t)
{
	for (unsigned i = 0; i < v->ninject; i++) {
		struct mo_enc enc;
		struct strbuf bytes = STRBUF_INIT;
		struct mo_pmsg *m;
		char err[200];
		struct mo_event ev = {
			.dir = trigger->dir, .kernel = trigger->kernel,
			.object = trigger->object, .t = t,
			.buf = (const uint8_t *)trigger->bytes.buf,
			.len = trigger->bytes.len, .d = &trigger->d,
		};

		if (mo_rule_message(v->inject[i], &ev, &enc, err, sizeof(err)) < 0 ||
		    mo_encode(MO_ABI_X86_64, &enc, &bytes, err, sizeof(err)) < 0) {
			mo_trace_note(e->trace, t, "inject %s: %s",
				      v->inject[i]->spec, err);
			strbuf_release(&bytes);
			continue;
		}
		/* memory_object.defs goes to the manager, mach.defs to the kernel. */
		m = mo_pmsg_new(enc.schema->id >= 2200 && enc.schema->id < 2300
				? MO_K2M : MO_M2K, trigger->kernel,
				trigger->object, 0, t, bytes.buf, bytes.len,
				MO_ABI_X86_64, NULL);
		strbuf_release(&bytes);
		if (e->ops.inject &&
		    e->ops.inject(e->ops.ctx, trigger, m, err, sizeof(err)) < 0) {
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
		    enum mo_event_kind kind, uint64_t t)
{
	/* Logged before it goes, so that an answer never precedes it. */
	emit(e, m, kind, t, 0);
	if (e->ops.forward)
		e->ops.forward(e->ops.ctx, m);
	e->forwarded++;
}

struct waiting {
	struct mo_pmsg *m;
	uint64_t due;		/* when it may go, or 0 */
	struct mo_verdict v;	/* its injections come after it goes */
};

void mo_engine_message(struct mo_engine *e, struct mo_pmsg *m)
{
	struct mo_event ev = {
		.dir = m->dir, .kernel = m->kernel, .object = m->object,
		.t = m->t, .buf = (const uint8_t *)m->bytes.buf,
		.len = m->bytes.len, .d = &m->d,
	};
	struct mo_verdict v;

	mo_engine_tick(e, m->t);
	mo_rules_judge(&e->rules, &ev, &v);
	if (v.drop) {
		emit(e, m, MO_EV_DROPPED, m->t, 0);
		if (e->ops.discard)
			e->ops.discard(e->ops.ctx, m);
		e->dropped++;
		mo_pmsg_free(m);
		return;
	}
	if (v.hold || v.delay || mo_sched_busy(&e->sched, m->queue)) {
		struct waiting *w = malloc(sizeof(*w));
		uint64_t early = e->sched.let_go_early;
		unsigned id;

		if (!w) {
			fputs("motrace: out of memory\n", stderr);
			abort();
		}
		w->m = m;
		w->v = v;
		w->due = v.hold ? (v.hold_for ? m->t + v.hold_for : 0)
				: v.delay ? m->t + v.delay : 0;
		id = mo_sched_push(&e->sched, m->queue, w, w->due, v.hold);
		if (v.hold) {
			emit(e, m, MO_EV_HELD, m->t, 0);
			mo_trace_note(e->trace, m->t,
				      "held as %u: 'release %u' lets it go", id,
				      id);
		} else if (v.delay) {
			emit(e, m, MO_EV_DELAYED, m->t, v.delay);
		}
		/* else it waits, unannounced, behind its port's queue */
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
	forward(e, m, MO_EV_FORWARDED, m->t);
	inject_after(e, m, &v, m->t);
	mo_pmsg_free(m);
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
		enum mo_event_kind kind = m->kind == MO_EV_HELD ||
					  m->kind == MO_EV_DELAYED
					  ? MO_EV_RELEASED : MO_EV_FORWARDED;

		uint64_t t = w->due > m->t ? w->due : m->t;

		/* Replayed time jumps: a due message goes at its own time. */
		if (t > now)
			t = now;
		forward(e, m, kind, t);
		inject_after(e, m, &w->v, t);
		mo_pmsg_free(m);
		free(w);
	}
	mo_trace_tick(e->trace, now);
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

	if (e->ops.discard)
		e->ops.discard(e->ops.ctx, w->m);
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
}
