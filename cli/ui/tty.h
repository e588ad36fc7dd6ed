/*
 * cli/ui/tty.h: the page view's terminal (the last of its three layers,
 * as tmux's tty): ncurses, keys, the window's size, colours or their
 * monochrome form, and the terminal given back as it was on every way out
 * (quit, a signal, a fatal error).
 *
 * While the view is up, standard output and error (motrace's and the
 * pager's it starts) go into a pipe whose lines the view shows in its log
 * pane: nothing writes over the screen.
 */
#ifndef MO_UI_TTY_H
#define MO_UI_TTY_H

#include <stdio.h>

#include "cli/ui/draw.h"

struct ui_tty {
	FILE *term;		/* the terminal ncurses writes to */
	void *screen;		/* ncurses' SCREEN */
	int mono;
	int active;
	int saved_out, saved_err;	/* the terminal's standard output, error */
	int pipe_rd;		/* what was written to them, while up */
	char partial[1024];	/* a line not yet ended */
	size_t npartial;
	void *prev;		/* the screen last put (struct ui_scell) */
	int prev_w, prev_h;
};

/*
 * Takes the terminal: ncurses on standard input and output, colours
 * unless COLOR_MODE is -1 (never) or, when 0 (auto), NO_COLOR is set or
 * the terminal has none. Returns 0, or -1 with ERR (nothing changed).
 */
int ui_tty_open(struct ui_tty *t, int color_mode, char *err, size_t errlen);
/* Gives the terminal back as it was; what the pipe still holds goes to it. */
void ui_tty_close(struct ui_tty *t);
/* The next key, or -1 when none waits. */
int ui_tty_key(struct ui_tty *t);
/* Did the window change size since the last call? Takes the new size. */
int ui_tty_resized(struct ui_tty *t);
void ui_tty_size(struct ui_tty *t, int *w, int *h);
/* The next ui_tty_put draws everything again (the screen may be garbled). */
void ui_tty_invalidate(struct ui_tty *t);
/* Shows S. */
void ui_tty_put(struct ui_tty *t, const struct ui_screen *s);
/* Calls FN for each whole line written to standard output or error. */
void ui_tty_drain(struct ui_tty *t, void (*fn)(void *ctx, const char *line),
		  void *ctx);
/*
 * Waits until the terminal has a key, the pipe has output or the window
 * changed size, for up to MS milliseconds; 1 when one did.
 */
int ui_tty_wait(struct ui_tty *t, int ms);

/* Key codes ui_tty_key returns besides characters. */
enum {
	UI_KEY_UP = 0x1000, UI_KEY_DOWN, UI_KEY_PGUP, UI_KEY_PGDN,
	UI_KEY_HOME, UI_KEY_END, UI_KEY_BACKSPACE, UI_KEY_ENTER, UI_KEY_ESC,
	UI_KEY_TAB, UI_KEY_RESIZE,
};

#endif
