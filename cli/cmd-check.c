/*
 * cli/cmd-check.c: motrace check: run the page model and the protocol
 * checker over a recorded or written exchange between kernels and a
 * manager.
 *
 * Each line is one message, prefixed by who sent it: "kN>" from kernel N
 * to the manager, "kN<" from the manager to kernel N. The message is
 * either the text form motrace prints (memory_object_data_unlock(obj=5,
 * ...)) or hex words. An optional "@SECONDS" before the prefix gives the
 * time. "#" starts a comment. motrace's own log reads back too: its time
 * prefixes, marks and the lines that are not messages (log_time,
 * log_marks, log_only_line).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "cli/recording.h"
#include "plugins/loader.h"
#include "decode/decode.h"
#include "decode/encode.h"
#include "decode/hex.h"
#include "decode/render.h"
#include "tracer/attrib.h"
#include "tracer/model.h"
#include "cli/trace-opts.h"
#include "tracer/engine.h"
#include "util/strbuf.h"

static const char check_usage[] =
	"[--abi x86_64|user32|i386|x86_64-2023] [TRACE OPTIONS] [FILE|-]";

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
		"motrace writes reads back as it is, with any trace options: times,\n"
		"marks, notes, diagnostics, page and statistics tables; and so does\n"
		"a recording (motrace -w FILE).\n"
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
	struct mo_attrib attrib;
	/* motrace's own log read back: how its lines tell the time */
	enum { T_UNKNOWN, T_DAY } tmode;
	uint64_t day_base, last_day;	/* -t/-tt: days passed, last time of day */
};

/*
 * The lines of motrace's own log that are not messages: notes
 * ("+++ ... +++"), diagnostics ("  !! ..."), the page table, the
 * statistics table, the summary. Read back, they are passed over: the
 * checker finds its own again.
 */
static int log_only_line(const char *p)
{
	static const char *const states[] = { "absent ", "requested ", "resident ", NULL };
	size_t n = strlen(p);
	unsigned a, b;
	unsigned long long x, y, z;
	int k = 0;

	if (!strncmp(p, "+++ ", 4) && n >= 8 && !strcmp(p + n - 4, " +++"))
		return 1;
	if (!strncmp(p, "!! ", 3) || !strncmp(p, "pending lock_request offset ", 28) ||
	    !strncmp(p, "page        state ", 18) || !strncmp(p, "calls   errors ", 15) ||
	    !strncmp(p, "---------", 9))
		return 1;
	if (sscanf(p, "object %u kernel %u:%n", &a, &b, &k) == 2 && k)
		return 1;
	if (sscanf(p, "%llu diagnostic(s)%n", &x, &k) == 1 && (size_t)k == n)
		return 1;
	/* "    12  unlock-timeout   data_unlock unanswered..." */
	if (sscanf(p, "%llu  %n", &x, &k) == 1 && k) {
		for (int i = 0; mo_diag_table[i].name; i++)
			if (!strncmp(p + k, mo_diag_table[i].name,
				     strlen(mo_diag_table[i].name)) &&
			    p[k + strlen(mo_diag_table[i].name)] == ' ')
				return 1;
	}
	/* a page of the table: "0           resident   ---    -w-  ---" */
	k = 0;
	if (sscanf(p, "%llu %n", &x, &k) == 1 && k) {
		const char *q = p + k;

		while (*q == ' ')
			q++;
		for (int i = 0; states[i]; i++)
			if (!strncmp(q, states[i], strlen(states[i])))
				return 1;
	}
	/* a row of the statistics table, or its total */
	k = 0;
	if (sscanf(p, "%llu %llu %llu %n", &x, &y, &z, &k) == 3 && k)
		return 1;
	k = 0;
	if (sscanf(p, "%llu %llu total%n", &x, &y, &k) == 2 && (size_t)k == n)
		return 1;
	return 0;
}

/* Removes colour escapes (--color=always) in place. */
static void strip_escapes(char *line)
{
	char *w = line;

	for (char *r = line; *r; r++) {
		if (*r == '\033' && r[1] == '[') {
			r += 2;
			while (*r && !isalpha((unsigned char)*r))
				r++;
			if (!*r)
				break;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

/*
 * Reads the time prefix motrace's log may have (-t 12:34:56, -tt
 * 12:34:56.123456, -ttt 1700000000.123456, --relative "     0.000123" since
 * the previous line, PADDED with spaces); sets *NOW and returns what
 * follows, or P when there is none. -r times add up; -t times of day that
 * go back by more than half a day have passed midnight.
 */
static char *log_time(struct check_state *st, char *p, int padded,
		      uint64_t *now)
{
	char *q = p, *end;
	unsigned h, m, sec, us = 0;
	int n = 0;

	if (sscanf(q, "%2u:%2u:%2u%n", &h, &m, &sec, &n) == 3 && n == 8 &&
	    h < 24 && m < 60 && sec < 61) {
		uint64_t t;

		q += n;
		if (*q == '.') {
			us = (unsigned)strtoul(q + 1, &end, 10);
			if (end - q != 7)
				return p;
			q = end;
		}
		if (*q != ' ')
			return p;
		t = ((uint64_t)h * 3600 + m * 60 + sec) * 1000000000ULL +
		    (uint64_t)us * 1000;
		/*
		 * Midnight is a step back of more than half a day; a
		 * smaller one is a log of other times (motrace's own
		 * never go back).
		 */
		if (st->tmode == T_DAY &&
		    t + 43200ULL * 1000000000ULL < st->last_day)
			st->day_base += 86400ULL * 1000000000ULL;
		st->tmode = T_DAY;
		st->last_day = t;
		*now = st->day_base + t;
		return q + 1;
	}
	if (isdigit((unsigned char)*q)) {
		double t = strtod(q, &end);

		/* Past 2^64 ns (584 years) it is no time of a log's. */
		if (end == q || *end != ' ' || !strchr(q, '.') ||
		    strchr(q, '.') > end || !(t >= 0 && t < 1.8e10))
			return p;
		/* -r pads its seconds to six digits; -ttt does not. */
		if (padded)
			*now += (uint64_t)(t * 1e9 + 0.5);
		else
			*now = (uint64_t)(t * 1e9 + 0.5);
		return end + 1;
	}
	return p;
}

/*
 * Cuts what motrace's log adds after a message: " <0.000123>" (-T) and
 * its marks ("[injected]", "[delayed 0.1s]"...). Returns -1 for a message
 * that did not happen there (dropped, or held: its [released] line
 * follows), else 0.
 */
static int log_marks(char *p)
{
	char *close = strrchr(p, ')');
	int happened = 0;

	if (!close)
		return 0;
	for (char *q = close + 1; *q;) {
		while (*q == ' ')
			q++;
		if (*q == '<' || *q == '[') {
			char *e = strchr(q, *q == '<' ? '>' : ']');

			if (!e)
				break;
			if (!strncmp(q, "[dropped]", 9) || !strncmp(q, "[held]", 6))
				happened = -1;
			q = e + 1;
			continue;
		}
		if (*q)
			return 0;
	}
	close[1] = '\0';
	return happened;
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
	/* A log written in colour reads back as one written without. */
	strip_escapes(line);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	p = log_time(st, p, p > line, now);
	while (isspace((unsigned char)*p))
		p++;
	if (log_only_line(p))
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
	if (log_marks(p) < 0)
		return 0;

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
	mo_attrib_message(&st->attrib, mo_trace_model(st->trace), m);
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
	struct mo_plugins *plugins;
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
	if (tc.readfile || (optind < argc && mo_is_recording(argv[optind]))) {
		/* A recording: its events as they happened, through the checker. */
		path = tc.readfile ? tc.readfile : argv[optind];
		if (trace_cli_finish(&tc, "motrace check") < 0)
			return 2;
		r = cli_read_recording(&tc, path, argc, argv, "motrace check",
				       &ndiags, NULL);
		trace_cli_release(&tc);
		return r == 1 ? 2 : r ? r : ndiags ? 1 : 0;
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
	mo_attrib_init(&st.attrib);
	plugins = trace_cli_plugins(&tc, st.trace, "motrace check");
	if (!plugins) {
		mo_trace_free(st.trace);
		trace_cli_release(&tc);
		strbuf_release(&in);
		return 2;
	}
	{
		/* Replay: nothing is sent; injected messages only count. */
		struct mo_engine_ops ops = { 0 };

		mo_engine_init(&st.engine, st.trace, &ops);
		st.engine.rules = tc.rules;
		tc.rules.n = 0;
	}
	mo_plugins_attach(plugins, &st.engine);
	bad = check_text(&st, path, in.buf, in.len, &now, stderr) > 0;
	mo_engine_release(&st.engine, 1, now);
	mo_plugins_finish(plugins, tc.o.out);
	mo_trace_finish(st.trace);
	ndiags = mo_trace_ndiags(st.trace);
	mo_plugins_free(plugins);
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
