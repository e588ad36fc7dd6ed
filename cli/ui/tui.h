/*
 * cli/ui/tui.h: motrace --tui, the curses page view: a face on the
 * proxy's one main loop (live traffic) or on a recording it moves over
 * in time (motrace -r FILE --tui).
 */
#ifndef MO_UI_TUI_H
#define MO_UI_TUI_H

#include <stdint.h>
#include <stdio.h>

struct batch;
struct mo_proxy;
struct mo_trace;
struct trace_cli;
struct tui;

/*
 * Takes the terminal, before the pager starts (so that what it writes
 * goes to the log pane, not over the screen). Without -o the log's
 * per-message lines are the pane's alone. Returns the view, or NULL
 * after a message.
 */
struct tui *tui_open(struct trace_cli *tc, const char *cmd);
/* Where the commands' answers go: the log pane. */
FILE *tui_stream(struct tui *u);
/*
 * Starts showing TR's traffic through proxy P; commands typed go to B.
 * The proxy's loop watches the terminal (mo_engine_add_fd). 0, or -1.
 */
int tui_start(struct tui *u, struct batch *b, struct mo_proxy *p,
	      struct mo_trace *tr);
/* The loop woke (or timed out): keys, output to show, a redraw when due. */
void tui_poll(struct tui *u);
/* How long the loop may sleep before a redraw is due, in ms. */
unsigned tui_timeout_ms(const struct tui *u);
/* q was pressed. */
int tui_done(const struct tui *u);
/* Gives the terminal back as it was; what comes after goes unseen. */
void tui_close(struct tui *u);
/* Frees U, after the trace it watched is gone. */
void tui_free(struct tui *u);

/*
 * The view command at the prompt: the page view of TR through P until q,
 * the log as the prompt showed it (in the log pane, through the pipe),
 * commands to B. *U is made the first time, opened again after. 0, or -1
 * after a message (the prompt goes on).
 */
int tui_view(struct tui **u, struct trace_cli *tc, struct batch *b,
	     struct mo_proxy *p, struct mo_trace *tr);

/*
 * motrace -r FILE --tui: the recording PATH, message by message, back
 * and forth. Returns the exit status (as cli_read_recording's).
 */
int tui_travel(struct trace_cli *tc, const char *path, struct batch *b,
	       const char *cmd);

#endif
