/*
 * tests/fuzz/fuzz-engine.c: libFuzzer target for a received message's
 * way through the proxy's engine: rules (delay, hold, drop, inject), the
 * per-port queues, the trace (log, latencies, statistics), the page model
 * and the checker, with a fake transport in place of the proxy's sockets
 * (struct mo_engine_ops, the seam the live proxy and the replayer share).
 *
 * Input: one control byte, then records. Bits 0-3 of the control byte
 * choose which of four rules are in force; with bit 7 set the records
 * are bare messages (a recorded stream, as the seeds are): each goes the
 * way its id says (memory_object.defs, 2200-2299: to the manager), from
 * kernel 0, a millisecond after the one before. Else a record is one
 * byte (bit 0:
 * the direction, kernel to manager or manager to kernel; bits 1-3: the
 * kernel, 7 for one the proxy could not tell; bits 4-7: how many
 * milliseconds pass before it), then a message in the x86_64 layout, as
 * long as its header says (decode/decode.h, mo_stream_next). Each message
 * is copied into a buffer of exactly its length, so a read past it is
 * caught.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "tracer/engine.h"

static const char *const rule_specs[] = {
	"delay=data_supply,lock_request:by=2ms",
	"hold=data_unlock:for=5ms",
	"drop=data_request:when=3..9+3",
	"inject=data_request:when=2:send=memory_object_lock_request(ctl=$ctl, offset=$offset, size=0x1000, should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=0)",
};

/* The fake transport: what it is given must come back once, and only once. */
struct fake {
	unsigned carriers;	/* handed out, not yet forwarded or discarded */
	unsigned injects;
};

static void *carrier_new(struct fake *f)
{
	f->carriers++;
	return malloc(1);
}

static void carrier_done(struct fake *f, struct mo_pmsg *m)
{
	if (!m->carrier)
		return;
	free(m->carrier);
	m->carrier = NULL;
	f->carriers--;
}

static void op_forward(void *ctx, struct mo_pmsg *m)
{
	carrier_done(ctx, m);
}

static void op_discard(void *ctx, struct mo_pmsg *m)
{
	carrier_done(ctx, m);
}

static int op_inject(void *ctx, const struct mo_pmsg *trigger,
		     struct mo_pmsg *m, char *err, size_t errlen)
{
	struct fake *f = ctx;

	/* Every other injection finds no way, as the proxy's can. */
	if (f->injects++ & 1) {
		snprintf(err, errlen, "no kernel %u", trigger->kernel);
		return -1;
	}
	m->queue = trigger->queue ^ 1;
	return 0;
}

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f = { 0 };
	struct mo_engine_ops ops = { .forward = op_forward, .discard = op_discard,
				     .inject = op_inject, .ctx = &f };
	struct mo_trace_opts o;
	struct mo_trace *tr;
	struct mo_engine e;
	uint64_t now = 1000000000ULL;
	char err[200];
	size_t pos = 1;
	int stop = 0;

	if (!size)
		return 0;
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	memset(&o, 0, sizeof(o));
	o.out = sink;
	o.stats = 1;
	o.pages = 1;
	o.latency = 1;
	o.unlock_timeout_ns = 3000000ULL;
	tr = mo_trace_new(&o);
	mo_engine_init(&e, tr, &ops);
	for (unsigned i = 0; i < 4; i++)
		if ((data[0] & (1u << i)) &&
		    mo_rules_parse(&e.rules, rule_specs[i], err, sizeof(err)) < 0)
			abort();	/* the specs above are good ones */
	while (pos < size && !stop) {
		uint8_t rec = data[0] & 0x80 ? 0x10 : data[pos++];
		enum mo_dir dir = rec & 1 ? MO_M2K : MO_K2M;
		unsigned kernel = (rec >> 1) & 7;
		size_t n;
		uint8_t *copy;
		struct mo_pmsg *m;

		if (kernel == 7)
			kernel = MO_KERNEL_UNKNOWN;
		now += (uint64_t)(rec >> 4) * 1000000ULL;
		mo_engine_tick(&e, now);
		if (pos >= size)
			break;
		n = mo_stream_next(data + pos, size - pos, MO_ABI_X86_64, &stop);
		copy = malloc(n ? n : 1);
		memcpy(copy, data + pos, n);
		pos += n;
		if (data[0] & 0x80 && n >= 24) {
			int32_t id;

			memcpy(&id, copy + 20, 4);	/* msgh_id, x86_64 */
			dir = id >= 2200 && id < 2300 ? MO_K2M : MO_M2K;
		}
		m = mo_pmsg_new(dir, kernel,
				kernel == MO_KERNEL_UNKNOWN ? MO_OBJECT_UNKNOWN : 0,
				(uint64_t)kernel << 1 | (uint64_t)dir, now, copy, n,
				MO_ABI_X86_64, NULL);
		free(copy);
		m->carrier = carrier_new(&f);
		mo_engine_message(&e, m);
	}
	mo_engine_let_go(&e, 0, now);
	mo_engine_release(&e, 1, now + 10000000ULL);
	/* Everything the engine took went on or was let go of. */
	if (f.carriers)
		abort();
	mo_trace_finish(tr);
	mo_trace_free(tr);
	return 0;
}
