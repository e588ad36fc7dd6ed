/*
 * cli/batch.h: commands run while tracing: from -x FILE and -ex CMD in
 * batch mode, and from the interactive debugger. One table of commands
 * (cli/dbg.c) serves every face.
 */
#ifndef MO_BATCH_H
#define MO_BATCH_H

#include <stdint.h>

#include "cli/bp.h"
#include "tracer/proxy.h"
#include "util/strbuf.h"

enum { BATCH_GOING, BATCH_DONE, BATCH_FAILED, BATCH_QUIT };

struct batch_line {
	char *text;
	const char *origin;	/* file name or "-ex" */
	unsigned lineno;
};

/* A stop not yet told: breakpoint POINT stopped message ID. */
struct batch_stop {
	unsigned point, id, kernel;
	char *text;
};

/* What the messages told of a kernel (for send, watch). */
struct batch_kernel {
	int known;
	unsigned object;
	uint32_t ctl, obj;	/* its control and object ports as the log names them */
};

struct batch {
	struct batch_line *lines;
	unsigned n, pc;
	struct mo_proxy *proxy;
	struct mo_trace *trace;
	struct mo_plugins *plugins;	/* their commands join the table */
	FILE *out;
	/* messages seen, as text, for expect */
	char **seen;
	size_t nseen, aseen, next_seen;
	/* the command that waits */
	int waiting;		/* 0, 'w' (wait), 'e' (expect), 'g' (a recording goes on) */
	uint64_t until;
	char *pattern;
	int status;		/* exit status asked by quit or a failure */
	int ended;		/* the traffic is over: nothing more will come */
	int listening;
	int hooked;		/* the engine asks the breakpoints */
	int interactive;	/* the prompt: a failed command does not end the session */
	int in_commands;	/* a breakpoint's commands are running */
	/* breakpoints and watchpoints (cli/bp.c) */
	struct dbg_points points;
	unsigned collecting;	/* commands N ... end: the point the lines go to */
	struct batch_stop *stops;
	size_t nstops;
	unsigned last_stop;	/* the message the last stop held (print, x) */
	unsigned stop_kernel;	/* its kernel (send's default) */
	int have_stop_kernel;
	struct strbuf reports;	/* watchpoints' news, told between messages */
	char *last_text;	/* the last message, as expect sees it */
	struct batch_kernel *kernels;
	size_t nkernels;
	/*
	 * Over a recording (-r): the debugger stops before a record that a
	 * breakpoint selects, or the next one after step; the stopped
	 * record's message is REC_MSG, record REC_NUMBER.
	 */
	int replaying;
	int rec_stopped, rec_step;
	unsigned rec_number;
	struct mo_pmsg *rec_msg;
	char *rec_text;		/* its line, which expect may match */
	int rec_matched;	/* expect matched it: its event is passed over */
	/*
	 * The prompt's wait for what is typed while a recording is stopped
	 * or ended: returns nonzero when the session should end (Ctrl-D).
	 */
	int (*idle)(void *ctx);
	void *idle_ctx;
	int view;		/* view: the face is asked for the page view */
};

void batch_init(struct batch *b);
void batch_release(struct batch *b);
/* Adds one command, from ORIGIN line LINENO. */
void batch_add(struct batch *b, const char *text, const char *origin,
	       unsigned lineno);
/* Breakpoint POINT stopped message ID of KERNEL (TEXT): told between messages. */
void batch_stopped(struct batch *b, unsigned point, unsigned id,
		   unsigned kernel, const char *text);
/* Adds the commands of FILE; returns 0, or -1 after a message. */
int batch_add_file(struct batch *b, const char *path);
/* Runs commands until one waits; returns BATCH_*. */
int batch_step(struct batch *b, uint64_t now);
/*
 * The traffic ended: runs what is left, where a wait ends at once and an
 * expect fails unless its message already came. Returns BATCH_*.
 */
int batch_end(struct batch *b, uint64_t now);

/* One command of the table (cli/dbg.c). */
struct dbg_cmd {
	const char *name;
	const char *usage;
	const char *help;
	/* Returns BATCH_GOING (done or waiting), BATCH_FAILED or BATCH_QUIT. */
	int (*run)(struct batch *b, const char *args, uint64_t now);
};

extern const struct dbg_cmd dbg_table[];
/* The command NAME names (a unique prefix will do), or NULL. */
const struct dbg_cmd *dbg_find(const char *name);
/* Says why NAME finds no command: unknown, or what it could be. */
void dbg_unknown(const char *name, FILE *out);
/* The command named exactly NAME, or NULL. */
const struct dbg_cmd *dbg_find_exact(const char *name);

#endif
