/*
 * cli/trace-opts.h: the options every command that shows traffic takes
 * (motrace check, the live proxy): timestamps, -T, -c, -e filters, -o,
 * --json, --no-time, --pages, colour.
 */
#ifndef MO_TRACE_OPTS_H
#define MO_TRACE_OPTS_H

#include <getopt.h>

#include "tracer/rules.h"
#include "tracer/trace.h"

/* Short options these take, for getopt's option string. */
#define TRACE_SHORTOPTS "tTckr:w:o:e:"

/* Long options; their val fields are >= TRACE_OPT_BASE. */
#define TRACE_OPT_BASE 0x1000
extern const struct option trace_longopts[];
extern const char trace_opts_help[];

struct trace_cli {
	struct mo_trace_opts o;
	int tcount;		/* how many -t */
	const char *outfile;
	const char *readfile;	/* -r: a recording to read */
	const char *writefile;	/* -w: where to record */
	const char *plugins[16];	/* --plugin FILE|NAME[=ARG] */
	unsigned nplugins;
	int color_mode;		/* -1 never, 0 auto, 1 always */
	struct mo_rules rules;	/* -e delay=, drop=, hold=, inject= */
	/* -r: read only this many messages (--stop-after N) */
	int have_stop_after;
	unsigned long long stop_after;
};

void trace_cli_init(struct trace_cli *t);
/*
 * Takes option C (with ARG) if it is one of these: 1 taken, 0 not ours,
 * -1 bad value (a message was printed, naming CMD).
 */
int trace_cli_opt(struct trace_cli *t, int c, const char *arg,
		  const char *cmd);
/* Opens -o FILE, settles colour and timestamps; 0, or -1 with a message. */
int trace_cli_finish(struct trace_cli *t, const char *cmd);
void trace_cli_release(struct trace_cli *t);

struct mo_plugins;
/*
 * The session's plugins: a set subscribed to TR, with each --plugin
 * loaded. Returns it, or NULL after a message naming CMD.
 */
struct mo_plugins *trace_cli_plugins(const struct trace_cli *t,
				     struct mo_trace *tr, const char *cmd);

#endif
