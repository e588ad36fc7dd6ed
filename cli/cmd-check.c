/*
 * cli/cmd-check.c: motrace check: run the page model and the protocol
 * checker over a recorded or written exchange between kernels and a
 * manager.
 *
 * Each line is one message, prefixed by who sent it: "kN>" from kernel N
 * to the manager, "kN<" from the manager to kernel N. The message is
 * either the text form motrace prints (memory_object_data_unlock(obj=5,
 * ...)) or hex words. An optional "@SECONDS" before the prefix gives the
 * time. "#" starts a comment.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "decode/decode.h"
#include "decode/encode.h"
#include "decode/hex.h"
#include "decode/render.h"
#include "tracer/model.h"
#include "cli/trace-opts.h"
#include "tracer/engine.h"
#include "util/strbuf.h"

static const char check_usage[] =
	"[--abi x86_64|user32|i386] [TRACE OPTIONS] [FILE|-]";

static void check_help(FILE *out)
{
	fprintf(out,
		"usage: motrace check %s\n"
		"\n"
		"Replay an exchange between kernels and a manager through the page\n"
		"model and the protocol checker; print each message and what the\n"
		"checker finds, then a summary.\n"
		"\n"
		"Each line: [@SECONDS] kN> MESSAGE   (kernel N to the manager)\n"
		"           [@SECONDS] kN< MESSAGE   (the manager to kernel N)\n"
		"MESSAGE is the text form motrace prints, or hex words. The log\n"
		"motrace writes reads back the same way.\n"
		"\n"
		"  --abi PROFILE          the layout of hex messages (x86_64)\n"
		"%s"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 when the checker found nothing, 1 when it found\n"
		"something, 2 on a usage error or a line it cannot read.\n",
		check_usage, trace_opts_help);
}

struct check_state {
	struct mo_trace *trace;
	struct mo_engine engine;
	enum mo_abi abi;
	/* memory object ports seen in init, by kernel: their index is the object */
	struct { unsigned kernel; uint32_t port; } objs[256];
	unsigned nobjs;
};

/* Which object a message is about, from the ports it names. */
static unsigned object_of(struct check_state *st, unsigned kernel,
			  enum mo_dir dir, const struct mo_decoded *d,
			  const uint8_t *buf)
{
	uint32_t ctl;

	if (dir == MO_M2K)
		return mo_model_object_of_control(mo_trace_model(st->trace), kernel, d->dest);
	if (d->schema->id != 2200) {
		ctl = (uint32_t)mo_arg_u64(d, buf, "memory_control", 0);
		if (ctl && mo_model_object_of_control(mo_trace_model(st->trace), kernel, ctl) !=
			   MO_OBJECT_UNKNOWN)
			return mo_model_object_of_control(mo_trace_model(st->trace), kernel, ctl);
	}
	/* init, or a message to the object port: one object per port */
	for (unsigned i = 0; i < st->nobjs; i++)
		if (st->objs[i].port == d->dest)
			return i;
	if (st->nobjs == sizeof(st->objs) / sizeof(st->objs[0]))
		return MO_OBJECT_UNKNOWN;
	st->objs[st->nobjs].kernel = kernel;
	st->objs[st->nobjs].port = d->dest;
	return st->nobjs++;
}

/*
 * "@SECONDS": a time in seconds, plain digits with an optional fraction
 * (no sign, exponent, hex, nan or inf), that fits in nanoseconds.
 * Returns the characters taken, or 0.
 */
static size_t parse_time(const char *p, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = 1000000000ULL;
	size_t i = 0;

	if (!isdigit((unsigned char)p[0]))
		return 0;
	for (; isdigit((unsigned char)p[i]); i++) {
		/* 18446744073 s is the last whole second in 64-bit ns. */
		if (whole > 18446744072ULL)
			return 0;
		whole = whole * 10 + (uint64_t)(p[i] - '0');
	}
	if (p[i] == '.') {
		i++;
		for (; isdigit((unsigned char)p[i]); i++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(p[i] - '0') * scale;
			}
	}
	/* The time ends at a blank: "1e3" or "0x10" are not seconds. */
	if (p[i] && !isspace((unsigned char)p[i]))
		return 0;
	if (whole > (UINT64_MAX - frac) / 1000000000ULL)
		return 0;
	*ns = whole * 1000000000ULL + frac;
	return i;
}

/*
 * "kN" or "k?" (a kernel the tracer could not tell, as the log writes
 * it). Returns the characters taken, or 0 for a number that is no
 * kernel's (past the last one motrace can number).
 */
static size_t parse_kernel(const char *p, unsigned *kernel)
{
	uint64_t n = 0;
	size_t i = 1;

	if (p[0] != 'k')
		return 0;
	if (p[1] == '?') {
		*kernel = MO_KERNEL_UNKNOWN;
		return 2;
	}
	for (; isdigit((unsigned char)p[i]); i++) {
		n = n * 10 + (uint64_t)(p[i] - '0');
		if (n >= MO_KERNEL_UNKNOWN)
			return 0;
	}
	if (i == 1)
		return 0;
	*kernel = (unsigned)n;
	return i;
}

/*
 * Handles one line (LEN bytes, no newline); returns 0, or -1 with ERR
 * and *COL (the column it names, from 1; 0: the line as a whole) for a
 * line it cannot read.
 */
static int check_line(struct check_state *st, char *line, size_t len,
		      uint64_t *now, char *err, size_t errlen, size_t *col)
{
	struct strbuf msg = STRBUF_INIT;
	struct mo_pmsg *m;
	enum mo_dir dir;
	unsigned kernel;
	char *p = line, *nul = memchr(line, '\0', len);
	size_t n;
	int r = 0;

	*col = 0;
	if (nul) {
		*col = (size_t)(nul - line) + 1;
		snprintf(err, errlen, "a NUL byte");
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	if (*p == '@') {
		if (!(n = parse_time(p + 1, now))) {
			*col = (size_t)(p - line) + 1;
			snprintf(err, errlen, "bad time '%.20s': seconds, as 1.5", p);
			return -1;
		}
		p += 1 + n;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p != 'k' || !(isdigit((unsigned char)p[1]) || p[1] == '?')) {
		*col = (size_t)(p - line) + 1;
		snprintf(err, errlen, "expected 'kN>' or 'kN<' at '%.20s'", p);
		return -1;
	}
	if (!(n = parse_kernel(p, &kernel))) {
		*col = (size_t)(p - line) + 1;
		snprintf(err, errlen, "kernel number '%.*s' out of range (%u at most)",
			 (int)(1 + strspn(p + 1, "0123456789")), p,
			 MO_KERNEL_UNKNOWN - 1);
		return -1;
	}
	if (p[n] != '>' && p[n] != '<') {
		*col = (size_t)(p - line) + n + 1;
		snprintf(err, errlen, "expected '>' or '<' after %.*s", (int)n, p);
		return -1;
	}
	p += n;
	dir = *p == '>' ? MO_K2M : MO_M2K;
	p++;
	while (isspace((unsigned char)*p))
		p++;

	if (isalpha((unsigned char)*p) || *p == '_') {
		struct mo_enc e;

		if (mo_parse_call(p, st->abi, &e, err, errlen) < 0)
			return -1;
		/* Written text is what the receiver sees. */
		if (mo_encode(st->abi, &e, &msg, err, errlen) < 0) {
			strbuf_release(&msg);
			return -1;
		}
	} else if (mo_hex_line(p, strlen(p), &msg, err, errlen) < 0) {
		strbuf_release(&msg);
		return -1;
	}

	m = mo_pmsg_new(dir, kernel, MO_OBJECT_UNKNOWN, 0, *now, msg.buf,
			msg.len, st->abi, NULL);
	if (m->d.schema && m->d.status == MO_OK)
		m->object = object_of(st, kernel, dir, &m->d,
				      (const uint8_t *)m->bytes.buf);
	/* One queue per destination port of each kernel and direction. */
	m->queue = (uint64_t)kernel << 40 | (uint64_t)dir << 32 | m->d.dest;
	if (m->d.status != MO_OK) {
		snprintf(err, errlen, "%s", m->d.err);
		r = -1;
	}
	mo_engine_message(&st->engine, m);
	strbuf_release(&msg);
	return r;
}

/*
 * Replays BUF (LEN bytes, the whole input, which it may change; BUF[LEN]
 * is a NUL) line by line; each line it cannot read is named on ERRS by
 * PATH, line and column. Returns how many lines could not be read.
 */
static unsigned check_text(struct check_state *st, const char *path,
			   char *buf, size_t len, uint64_t *now, FILE *errs)
{
	unsigned lineno = 0, bad = 0;
	size_t pos = 0;

	while (pos < len) {
		char *line = buf + pos, err[200];
		char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos, col;

		lineno++;
		line[n] = '\0';	/* the newline, or the strbuf's own NUL */
		pos += n + 1;
		if (check_line(st, line, n, now, err, sizeof(err), &col) < 0) {
			if (col)
				fprintf(errs, "motrace check: %s:%u:%zu: %s\n",
					path, lineno, col, err);
			else
				fprintf(errs, "motrace check: %s:%u: %s\n",
					path, lineno, err);
			bad++;
		}
	}
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option own[] = {
		{ "abi", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[sizeof(own) / sizeof(own[0]) + 32];
	struct check_state st = { .abi = MO_ABI_X86_64 };
	struct strbuf in = STRBUF_INIT;
	struct trace_cli tc;
	int c, bad = 0, r;
	unsigned ndiags;
	const char *path;
	uint64_t now = 0;

	cli_longopts(longopts, own, sizeof(own) / sizeof(own[0]));
	trace_cli_init(&tc);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h" TRACE_SHORTOPTS, longopts,
				NULL)) != -1) {
		if ((r = trace_cli_opt(&tc, c, optarg, "motrace check")) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		switch (c) {
		case 'a':
			if (cli_abi("motrace check", optarg, &st.abi) < 0)
				return 2;
			break;
		case 'h':
			check_help(stdout);
			return 0;
		default:
			return cli_bad_option("motrace check", c, argv);
		}
	}
	if ((r = cli_read_input("motrace check", argc, argv, optind, &in,
				&path)) != 0) {
		strbuf_release(&in);
		return r;
	}
	if (trace_cli_finish(&tc, "motrace check") < 0) {
		strbuf_release(&in);
		return 2;
	}
	/* Recorded times are the clock: -ttt shows them as they are. */
	tc.o.realtime_base_ns = 0;

	st.trace = mo_trace_new(&tc.o);
	{
		/* Replay: nothing is sent; injected messages only count. */
		struct mo_engine_ops ops = { 0 };

		mo_engine_init(&st.engine, st.trace, &ops);
		st.engine.rules = tc.rules;
		tc.rules.n = 0;
	}
	bad = check_text(&st, path, in.buf, in.len, &now, stderr) > 0;
	mo_engine_release(&st.engine, 1, now);
	mo_trace_finish(st.trace);
	ndiags = mo_trace_ndiags(st.trace);
	mo_trace_free(st.trace);
	trace_cli_release(&tc);
	strbuf_release(&in);
	return bad ? 2 : ndiags ? 1 : 0;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = check_usage,
	.summary = "run the page model and protocol checker over an exchange",
	.exec = cmd_check,
};
