/*
 * cli/ui/draw.h: the page view's layout (the second of its three layers,
 * as tmux's screen-write): panes composed into a screen of cells, each a
 * character and a style. The terminal layer (cli/ui/tty.c) turns styles
 * into colours or, in monochrome, into attributes; the text alone tells
 * every state apart, so a screen captured without colour says it all.
 */
#ifndef MO_UI_DRAW_H
#define MO_UI_DRAW_H

#include <stddef.h>

#include "cli/ui/state.h"

enum ui_pane { UI_PANE_GRID, UI_PANE_HELD, UI_PANE_LOG, UI_PANE_DIAGS, UI_NPANES };

enum ui_style {
	UI_S_NORMAL,
	UI_S_HEADER,		/* the header line */
	UI_S_TITLE,		/* a pane's title */
	UI_S_FOCUS,		/* the title of the pane that has the keys */
	UI_S_UNKNOWN,		/* a page this kernel said nothing of */
	UI_S_ABSENT,
	UI_S_REQUESTED,
	UI_S_RW,		/* resident, writable */
	UI_S_RO,		/* resident, read-only */
	UI_S_NONE,		/* resident, no access */
	UI_S_WAIT,		/* the flags of a page that waits (U, L, F) */
	UI_S_SELECTED,		/* the line the keys act on */
	UI_S_DIAG,
	UI_S_PROMPT,		/* the command line, the status line */
	UI_S_COUNT
};

struct ui_scell {
	char ch;
	unsigned char style;
};

/* A screen of W x H cells. */
struct ui_screen {
	int w, h;
	struct ui_scell *cells;
};

/* A stopped message, as the stopped pane lists it. */
struct ui_held {
	unsigned id;
	char text[200];
};

/* A key and what it does, for the help screen. */
struct ui_key_help {
	const char *keys;
	const char *what;
};

/* Everything a screen shows. */
struct ui_view {
	const struct ui_state *st;
	enum ui_pane focus;
	size_t grid_top, grid_sel;	/* rows */
	size_t log_back;		/* selected log line: 0 the newest shown */
	size_t held_sel, diag_back;
	const struct ui_held *held;
	size_t nheld;
	const char *filter;		/* the log's filter, or NULL */
	const char *where;		/* "live", "message 12 of 40"... */
	double rate;			/* messages a second; < 0: not shown */
	unsigned stopped, ndiags;
	const char *prompt, *input;	/* the line being typed, or NULL */
	const char *status;		/* the last word to the user, or NULL */
	int help;			/* the key table over everything */
	const struct ui_key_help *keys;
	size_t nkeys;
};

/* Where the panes went on the last screen drawn. */
struct ui_layout {
	int grid_y, grid_h;
	int held_y, held_h;
	int log_y, log_h;
	int diag_y, diag_h;
};

void ui_screen_resize(struct ui_screen *s, int w, int h);
void ui_screen_release(struct ui_screen *s);
/* Lays V out on S; L (if not NULL) gets the panes' places. */
void ui_draw(struct ui_screen *s, const struct ui_view *v, struct ui_layout *l);
/* The panes' places on a W x H screen for V (as ui_draw lays them). */
void ui_layout(const struct ui_view *v, int w, int h, struct ui_layout *l);
/*
 * Index in V->st->log of the line log_back says (counting only lines the
 * filter lets through), or (size_t)-1.
 */
size_t ui_log_selected(const struct ui_view *v);
/* Does log line TEXT pass FILTER (a substring; NULL or empty: all)? */
int ui_log_pass(const char *filter, const char *text);
/* The message name in a log or stopped line ("data_unlock"), into BUF. */
int ui_line_name(const char *text, char *buf, size_t len);

#endif
