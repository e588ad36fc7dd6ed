/*
 * tests/fuzz/fuzz-check.c: libFuzzer target for motrace check's reader:
 * the input is a file to replay, line by line, through the engine, the
 * trace (log, statistics, page table at the end), the page model and the
 * checker, as `motrace check --pages -c -T` would.
 *
 * The reader's functions are static to cli/cmd-check.c: the file is
 * taken in whole, so that what is fuzzed is what runs.
 */
#include "cli/cmd-check.c"

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_state st = { .abi = MO_ABI_X86_64 };
	struct mo_trace_opts o;
	struct mo_engine_ops ops = { 0 };
	struct strbuf in = STRBUF_INIT;
	uint64_t now = 0;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	memset(&o, 0, sizeof(o));
	o.out = sink;
	o.stats = 1;
	o.pages = 1;
	o.latency = 1;
	o.unlock_timeout_ns = 1000000000ULL;
	/* The first byte picks the layout of hex lines. */
	if (size)
		st.abi = (enum mo_abi)(data[0] % MO_ABI_COUNT);
	strbuf_add(&in, data, size);
	st.trace = mo_trace_new(&o);
	mo_engine_init(&st.engine, st.trace, &ops);
	check_text(&st, "fuzz", in.buf, in.len, &now, sink);
	mo_engine_release(&st.engine, 1, now);
	mo_trace_finish(st.trace);
	mo_trace_free(st.trace);
	strbuf_release(&in);
	return 0;
}
