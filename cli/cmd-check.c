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

/* Handles one line; returns 0, or -1 with ERR for a line it cannot read. */
static int check_line(struct check_state *st, char *line, uint64_t *now,
		      char *err, size_t errlen)
{
	struct strbuf msg = STRBUF_INIT;
	struct mo_pmsg *m;
	enum mo_dir dir;
	unsigned kernel;
	char *p = line, *end;
	int r = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	if (*p == '@') {
		double t = strtod(p + 1, &end);

		if (end == p + 1 || t < 0) {
			snprintf(err, errlen, "bad time '%.20s'", p);
			return -1;
		}
		*now = (uint64_t)(t * 1e9);
		p = end;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p != 'k' || !isdigit((unsigned char)p[1])) {
		snprintf(err, errlen, "expected 'kN>' or 'kN<' at '%.20s'", p);
		return -1;
	}
	kernel = (unsigned)strtoul(p + 1, &end, 10);
	if (*end != '>' && *end != '<') {
		snprintf(err, errlen, "expected '>' or '<' after k%u", kernel);
		return -1;
	}
	dir = *end == '>' ? MO_K2M : MO_M2K;
	p = end + 1;
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
	unsigned lineno = 0, ndiags;
	const char *path;
	uint64_t now = 0;
	char *line, *next;

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
	for (line = in.buf; line && *line; line = next) {
		char err[200];

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (check_line(&st, line, &now, err, sizeof(err)) < 0) {
			fprintf(stderr, "motrace check: %s:%u: %s\n", path,
				lineno, err);
			bad = 1;
		}
	}
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
