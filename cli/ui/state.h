/*
 * cli/ui/state.h: what the page view shows, as data (the first of its
 * three layers, as tmux's grid): the selected object's pages per kernel,
 * folded into runs, from the page model; the recent log, the stopped
 * messages and the diagnostics, from the trace's events.
 *
 * Nothing here draws or knows the terminal: cli/ui/draw.c lays this out,
 * cli/ui/tty.c puts it on the screen.
 */
#ifndef MO_UI_STATE_H
#define MO_UI_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/model.h"

/* The most kernels the grid has a column for (the header counts all). */
#define UI_MAX_KERNELS 16

enum ui_cell_state {
	UI_UNKNOWN,		/* this kernel has said nothing of the page */
	UI_ABSENT,
	UI_REQUESTED,
	UI_RESIDENT,
};

enum {
	UI_F_DIRTY = 1,		/* may be dirty */
	UI_F_PRECIOUS = 2,
	UI_F_UNLOCK = 4,	/* a data_unlock waits for its answer */
	UI_F_LOCKREQ = 8,	/* a lock_request waits for lock_completed */
	UI_F_FLUSH = 16,	/* ... one that flushes */
};

/* One kernel's page, as shown. */
struct ui_cell {
	uint8_t state;		/* enum ui_cell_state */
	uint8_t access;		/* requested: the access asked */
	uint8_t lock;		/* resident: page_lock */
	uint8_t flags;		/* UI_F_* */
};

/* Pages [first, first + n), every kernel's alike over the run. */
struct ui_row {
	uint64_t first, n;
	struct ui_cell cell[UI_MAX_KERNELS];
};

/* The longest line a pane keeps (longer ones are cut). */
#define UI_LINE_MAX 320

/* A message as a log line says it (made into text only when shown). */
struct ui_evline {
	const char *name;	/* the schema's (static), or NULL: unknown */
	struct mo_call call;
	unsigned kernel;
	uint8_t dir;		/* enum mo_dir */
	int8_t kind;		/* enum mo_event_kind, or -1: not said */
	uint8_t malformed;
};

/* A line kept for a pane, with the message number it belongs to. */
struct ui_line {
	uint64_t msg;
	int lazy;		/* EV is not yet TEXT */
	struct ui_evline ev;
	char text[UI_LINE_MAX];
};

/* The last CAP lines (a ring: no allocation per line). */
struct ui_ring {
	struct ui_line *v;
	size_t cap, head, count;
};

struct ui_state {
	/* objects and kernels the model knows */
	unsigned objects[256];
	unsigned nobjects;
	unsigned object;	/* the selected one */
	int have_object;
	unsigned kernels[UI_MAX_KERNELS];	/* the selected object's */
	unsigned nkernels, more_kernels;
	unsigned all_kernels;	/* every kernel of any object */
	const char *kstate[UI_MAX_KERNELS];
	/* the grid */
	struct ui_row *rows;
	size_t nrows, arows;
	uint64_t npages;	/* pages some kernel knows */
	/* panes fed by events */
	struct ui_ring log, diags;
	uint64_t messages;	/* events seen */
	unsigned ndiags;
};

void ui_state_init(struct ui_state *s);
void ui_state_release(struct ui_state *s);
/*
 * The objects and kernels of M, and the rows of the selected object
 * (the first when none is, or the selected one is gone).
 */
void ui_state_build(struct ui_state *s, const struct mo_model *m);
/* Selects the object after the selected one (wrapping). */
void ui_state_next_object(struct ui_state *s);
/* The row that holds PAGE, or the first after it (nrows when none). */
size_t ui_state_row_of(const struct ui_state *s, uint64_t page);

/* Appends TEXT (copied) for message MSG to R. */
void ui_ring_add(struct ui_ring *r, uint64_t msg, const char *text);
/*
 * Appends message EV for message number MSG: a copy of a few fields, no
 * text yet (the log pane costs the traffic next to nothing).
 */
void ui_ring_add_event(struct ui_ring *r, uint64_t msg,
		       const struct ui_evline *ev);
/* Line L's text (an event's is made the first time it is asked for). */
const char *ui_line_text(const struct ui_line *l);
/*
 * EV in a line, as the log pane shows it, into BUF:
 * "k0> memory_object_data_request offset 0x0 length 0x1000 access r--".
 */
void ui_brief(char *buf, size_t len, const struct ui_evline *ev);
/* Line I of R, 0 the oldest kept. */
const struct ui_line *ui_ring_at(const struct ui_ring *r, size_t i);
void ui_ring_clear(struct ui_ring *r);

/*
 * The cell's text, as the grid shows it in every mode (colour only adds
 * to it): "absent", "req r--", "res rw", "res ro", "res --", then the
 * flags DPULF, each its letter or a dot. BUF holds UI_CELL_TEXT bytes.
 */
#define UI_CELL_TEXT 16
void ui_cell_text(const struct ui_cell *c, char *buf);

#endif
