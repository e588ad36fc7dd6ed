/*
 * cli/repl.h: the interactive debugger's prompt (readline), a face on the
 * proxy's main loop: "(motrace) " while traffic flows, commands of the one
 * table (cli/dbg.c), log lines above the line being typed.
 */
#ifndef MO_CLI_REPL_H
#define MO_CLI_REPL_H

#include <stdio.h>

struct batch;
struct mo_engine;

struct repl {
	struct batch *batch;	/* where typed commands go */
	struct mo_engine *e;	/* whose loop watches the terminal, or NULL */
	FILE *out;
	int watching;		/* the loop watches the terminal */
	int prompting;		/* the prompt is on the screen */
	int pending;		/* a command was typed */
	int done;		/* quit, Ctrl-D */
	unsigned lineno;
	char *history;
	FILE *err, *old_stderr;	/* standard error above the prompt, and before */
};

/*
 * A stream for FD (standard output or error) whose lines are written
 * above the prompt. Returns it, or NULL.
 */
FILE *repl_stream(int fd);
/*
 * Shows the prompt; typed commands go to B (they run from B later). E's
 * loop watches the terminal and reads what is typed, in its own thread.
 * Reads ~/.motracerc unless NO_INIT; history in $MOTRACE_HISTORY or
 * ~/.motrace_history. Returns 0, or -1 after a message.
 */
int repl_start(struct repl *r, struct batch *b, struct mo_engine *e,
	       int no_init);
/* Ctrl-C at the prompt: the first stops all traffic, the SECOND quits. */
void repl_interrupt(struct repl *r, int second);
/*
 * The prompt over a recording (-r on a terminal): the log of O and B's
 * output go above the prompt, and B waits for typed commands whenever the
 * recording is stopped (B->idle). Returns 0, or -1 after a message.
 */
struct mo_trace_opts;
int repl_start_recording(struct repl *r, struct batch *b,
			 struct mo_trace_opts *o, int no_init);
/* Waits a little for typed input and reads it; nonzero once the session ends. */
int repl_idle(void *ctx);
/* Takes the prompt away, keeps the history; the terminal as it was. */
void repl_stop(struct repl *r);

#endif
