/*
 * cli/bp.h: the debugger's breakpoints and watchpoints, their
 * conditions and their commands, for every face (the prompt, -x, -ex,
 * live traffic or a recording).
 *
 *   break NAMES[:SEL]... [if CONDITION]
 *   watch page N [object O] [kernel K] [stop]
 *
 * Breakpoints and watchpoints share one numbering, as gdb's do.
 */
#ifndef MO_CLI_BP_H
#define MO_CLI_BP_H

#include <stdint.h>
#include <stdio.h>

#include "tracer/trace.h"

struct batch;
struct dbg_cond;

/* What a watchpoint last saw of its page in one object and kernel. */
struct dbg_watched {
	unsigned object, kernel;
	char *state;
};

struct dbg_point {
	unsigned num;
	int watch;		/* a watchpoint, else a breakpoint */
	int enabled;
	char *spec;		/* as given, for listing */
	/* break: which messages, and the condition on their fields */
	struct mo_filter sel;
	int dirs;		/* 1 << MO_K2M | 1 << MO_M2K; 0: both */
	struct dbg_cond *cond;
	/* watch: the page, where, and whether its messages stop */
	uint64_t page;
	int any_object, any_kernel, stop;
	unsigned object, kernel;
	struct dbg_watched *seen;
	size_t nseen;
	/* commands N ... end */
	char **cmds;
	unsigned ncmds;
	uint64_t hits;
};

struct dbg_points {
	struct dbg_point *p;
	unsigned n, last;	/* last: the highest number given */
};

void dbg_points_release(struct dbg_points *ps);

/*
 * The breakpoint or watchpoint that stops EV (its number), or 0; counts
 * the hit. EV is a message about to reach its receiver.
 */
unsigned dbg_points_judge(struct batch *b, const struct mo_event *ev);
/*
 * The model may have changed since the last look: each watched page
 * whose state differs is reported (to B's queue) with old -> new and
 * BY, the message that was last fed.
 */
void dbg_watch_check(struct batch *b, const char *by);
/* Point NUM, or NULL. */
struct dbg_point *dbg_point(struct batch *b, unsigned num);

/* The condition language's field names, NULL-terminated (completion). */
extern const char *const dbg_cond_fields[];

/* The commands of the table that live here (cli/dbg.c lists them). */
int dbg_run_break(struct batch *b, const char *args, uint64_t now);
int dbg_run_watch(struct batch *b, const char *args, uint64_t now);
int dbg_run_delete(struct batch *b, const char *args, uint64_t now);
int dbg_run_disable(struct batch *b, const char *args, uint64_t now);
int dbg_run_enable(struct batch *b, const char *args, uint64_t now);
int dbg_run_commands(struct batch *b, const char *args, uint64_t now);
int dbg_run_info_points(struct batch *b, const char *args, uint64_t now);

#endif
