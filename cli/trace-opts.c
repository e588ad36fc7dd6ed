/* cli/trace-opts.c: options shared by the commands that show traffic. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/trace-opts.h"
#include "plugins/loader.h"

enum {
	OPT_JSON = TRACE_OPT_BASE, OPT_NO_TIME, OPT_PAGES, OPT_UNLOCK_TIMEOUT,
	OPT_COLOR, OPT_QUIET, OPT_REQUEST_TIMEOUT, OPT_RELATIVE, OPT_PLUGIN,
	OPT_STOP_AFTER,
};

const struct option trace_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-time", no_argument, NULL, OPT_NO_TIME },
	{ "pages", no_argument, NULL, OPT_PAGES },
	{ "unlock-timeout", required_argument, NULL, OPT_UNLOCK_TIMEOUT },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "output", required_argument, NULL, 'o' },
	{ "relative", no_argument, NULL, OPT_RELATIVE },
	{ "plugin", required_argument, NULL, OPT_PLUGIN },
	{ "read", required_argument, NULL, 'r' },
	{ "write", required_argument, NULL, 'w' },
	{ "stop-after", required_argument, NULL, OPT_STOP_AFTER },
	{ NULL, 0, NULL, 0 }
};

const char trace_opts_help[] =
	"  -t, -tt, -ttt          time of day, with microseconds, or since the epoch\n"
	"  --relative             time since the previous line\n"
	"  -T                     time until each answer: data_request to data_supply,\n"
	"                         data_unlock to lock_request, lock_request to\n"
	"                         lock_completed, init to ready\n"
	"  -c                     a table per message: count, errors, answer latency\n"
	"  -k                     the sender's stack under each message (pagers and\n"
	"                         kernels on libmotrace-mach), symbolized as strace -k\n"
	"  -e trace=NAMES         show only these messages (data_request,... ; !NAMES: all but)\n"
	"  -e kernel=N,... / object=N,... / page=FIRST[-LAST]\n"
	"                         show only these kernels, objects, pages\n"
	"  -e delay=NAMES:by=DURATION[-MAX][:seed=N]   delay these messages\n"
	"  -e drop=NAMES          drop them\n"
	"  -e hold=NAMES[:for=DURATION]   hold them (until released)\n"
	"  -e inject=NAMES:send=CALL      after them, send CALL ($obj, $ctl,\n"
	"                         $offset, $length, $size, $reply, $page)\n"
	"     each rule takes :when=FIRST[..LAST][+STEP] (strace's), :dir=k2m|m2k,\n"
	"     :kernel=N, :object=N, :page=A[-B]\n"
	"  -o FILE                write the log to FILE (tracing: else standard error)\n"
	"  -w FILE                record every event to FILE (pcap; tcpdump reads it)\n"
	"  -r FILE                read a recording instead of live traffic\n"
	"  --stop-after N         -r: read only the first N messages\n"
	"  --plugin FILE|NAME[=ARG]  load a plugin (may be repeated)\n"
	"  --json                 one JSON object per line\n"
	"  --no-time              no times at all (deterministic output)\n"
	"  --pages                the page table at the end\n"
	"  --unlock-timeout SECS  report a data_unlock unanswered this long (1)\n"
	"  --request-timeout SECS report a data_request unanswered this long (1)\n"
	"  --color WHEN           always, never or auto (auto: on a terminal, unless NO_COLOR)\n"
	"  --quiet                print only diagnostics and what comes at the end\n";

void trace_cli_init(struct trace_cli *t)
{
	memset(t, 0, sizeof(*t));
	t->o.out = stdout;
}

int trace_cli_opt(struct trace_cli *t, int c, const char *arg,
		  const char *cmd)
{
	char err[200], *end;
	double secs;

	switch (c) {
	case 't':
		t->tcount++;
		return 1;
	case OPT_STOP_AFTER:
		t->stop_after = strtoull(arg, &end, 10);
		if (!*arg || *end || *arg == '-') {
			fprintf(stderr, "%s: --stop-after: '%s' is not a number of messages\n",
				cmd, arg);
			return -1;
		}
		t->have_stop_after = 1;
		return 1;
	case OPT_PLUGIN:
		if (t->nplugins == sizeof(t->plugins) / sizeof(t->plugins[0])) {
			fprintf(stderr, "%s: at most 16 --plugin\n", cmd);
			return -1;
		}
		t->plugins[t->nplugins++] = arg;
		return 1;
	case OPT_RELATIVE:
		t->o.tstamp = MO_TS_RELATIVE;
		return 1;
	case 'r':
		t->readfile = arg;
		return 1;
	case 'w':
		t->writefile = arg;
		return 1;
	case 'T':
		t->o.latency = 1;
		return 1;
	case 'c':
		t->o.stats = 1;
		t->o.quiet = 1;
		return 1;
	case 'k':
		t->o.stacks = 1;
		return 1;
	case 'o':
		t->outfile = arg;
		return 1;
	case 'e':
		switch (mo_rules_parse(&t->rules, arg, err, sizeof(err))) {
		case 1:
			return 1;
		case -1:
			fprintf(stderr, "%s: -e %s\n", cmd, err);
			return -1;
		}
		if (mo_filter_parse(&t->o.filter, arg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: -e %s\n", cmd, err);
			return -1;
		}
		return 1;
	case OPT_JSON:
		t->o.json = 1;
		return 1;
	case OPT_NO_TIME:
		t->o.no_time = 1;
		return 1;
	case OPT_PAGES:
		t->o.pages = 1;
		return 1;
	case OPT_QUIET:
		t->o.quiet = 1;
		return 1;
	case OPT_UNLOCK_TIMEOUT:
	case OPT_REQUEST_TIMEOUT:
		secs = strtod(arg, &end);
		if (*end || end == arg || !(secs > 0 && secs < 1e9)) {
			fprintf(stderr, "%s: --%s-timeout: '%s' is not a number of seconds\n",
				cmd, c == OPT_UNLOCK_TIMEOUT ? "unlock" : "request", arg);
			return -1;
		}
		if (c == OPT_UNLOCK_TIMEOUT)
			t->o.unlock_timeout_ns = (uint64_t)(secs * 1e9);
		else
			t->o.request_timeout_ns = (uint64_t)(secs * 1e9);
		return 1;
	case OPT_COLOR:
		if (!strcmp(arg, "always"))
			t->color_mode = 1;
		else if (!strcmp(arg, "never"))
			t->color_mode = -1;
		else if (!strcmp(arg, "auto"))
			t->color_mode = 0;
		else {
			fprintf(stderr, "%s: --color: '%s' is not always, never or auto\n",
				cmd, arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* -o FILE's buffer: one log a process. */
static char log_buf[1 << 16];

int trace_cli_finish(struct trace_cli *t, const char *cmd)
{
	struct timespec mono, real;

	if (t->tcount == 1)
		t->o.tstamp = MO_TS_TIME;
	else if (t->tcount == 2)
		t->o.tstamp = MO_TS_TIME_US;
	else if (t->tcount >= 3)
		t->o.tstamp = MO_TS_EPOCH;
	if (t->outfile) {
		t->o.out = fopen(t->outfile, "w");
		if (!t->o.out) {
			fprintf(stderr, "%s: cannot write '%s': %s\n", cmd,
				t->outfile, strerror(errno));
			return -1;
		}
		/*
		 * The loop writes it once a burst (proxy.c): in one go, not
		 * in 4 KiB pieces (glibc gives a buffer of its own that size).
		 */
		setvbuf(t->o.out, log_buf, _IOFBF, sizeof(log_buf));
	}
	if (t->color_mode > 0)
		t->o.color = 1;
	else if (t->color_mode == 0)
		t->o.color = !t->o.json && !getenv("NO_COLOR") &&
			     isatty(fileno(t->o.out));
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	t->o.realtime_base_ns =
		(uint64_t)real.tv_sec * 1000000000ULL + (uint64_t)real.tv_nsec -
		((uint64_t)mono.tv_sec * 1000000000ULL + (uint64_t)mono.tv_nsec);
	return 0;
}

void trace_cli_release(struct trace_cli *t)
{
	mo_rules_release(&t->rules);
	if (t->o.out && t->o.out != stdout && t->o.out != stderr)
		fclose(t->o.out);
	t->o.out = NULL;
}

struct mo_plugins *trace_cli_plugins(const struct trace_cli *t,
				     struct mo_trace *tr, const char *cmd)
{
	struct mo_plugins *ps = mo_plugins_new(tr);
	char err[400];

	for (unsigned i = 0; i < t->nplugins; i++)
		if (mo_plugin_load(ps, t->plugins[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: --plugin %s: %s\n", cmd, t->plugins[i],
				err);
			mo_plugins_free(ps);
			return NULL;
		}
	return ps;
}
