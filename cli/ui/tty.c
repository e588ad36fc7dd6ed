/*
 * cli/ui/tty.c: ncurses for the page view.
 *
 * As htop does (CRT.c), a fatal signal gives the terminal back before
 * the program dies, and so does exit() from anywhere (atexit). SIGWINCH
 * only sets a flag: the loop asks for the new size between messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>

#include "cli/ui/tty.h"

static struct ui_tty *the;
static volatile sig_atomic_t got_winch;

static void on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

/*
 * The terminal as it was, and what was written to standard output and
 * error while the screen was up, not yet shown, after it: the last words
 * of a fatal error (out of memory, then abort) are not lost.
 */
static void restore(void)
{
	struct ui_tty *t = the;
	char buf[4096];
	ssize_t n;

	if (!t || !t->active)
		return;
	t->active = 0;
	endwin();
	fflush(t->term);
	dup2(t->saved_out, STDOUT_FILENO);
	dup2(t->saved_err, STDERR_FILENO);
	if (t->npartial)
		(void)!write(STDERR_FILENO, t->partial, t->npartial);
	t->npartial = 0;
	while ((n = read(t->pipe_rd, buf, sizeof(buf))) > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n);
}

static void on_fatal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

/* Colour pairs by style; monochrome attributes by style. */
static const struct {
	short fg, bg;
	attr_t color_attr, mono_attr;
} styles[UI_S_COUNT] = {
	[UI_S_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
	[UI_S_HEADER] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[UI_S_TITLE] = { COLOR_CYAN, -1, A_NORMAL, A_BOLD },
	[UI_S_FOCUS] = { COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE | A_BOLD },
	[UI_S_UNKNOWN] = { -1, -1, A_DIM, A_DIM },
	[UI_S_ABSENT] = { COLOR_WHITE, -1, A_DIM, A_NORMAL },
	[UI_S_REQUESTED] = { COLOR_YELLOW, -1, A_BOLD, A_UNDERLINE },
	[UI_S_RW] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[UI_S_RO] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
	[UI_S_NONE] = { COLOR_BLUE, -1, A_BOLD, A_DIM },
	[UI_S_WAIT] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE },
	[UI_S_SELECTED] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE },
	[UI_S_DIAG] = { COLOR_RED, -1, A_NORMAL, A_NORMAL },
	[UI_S_PROMPT] = { COLOR_WHITE, COLOR_BLUE, A_NORMAL, A_REVERSE },
};

int ui_tty_open(struct ui_tty *t, int color_mode, char *err, size_t errlen)
{
	int fd, p[2];
	SCREEN *scr;

	memset(t, 0, sizeof(*t));
	t->pipe_rd = -1;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "--tui wants a terminal on standard input and output");
		return -1;
	}
	fd = dup(STDOUT_FILENO);
	if (fd < 0 || !(t->term = fdopen(fd, "w"))) {
		snprintf(err, errlen, "cannot open the terminal: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Ours before ncurses looks: it then leaves SIGWINCH to us. */
	signal(SIGWINCH, on_winch);
	scr = newterm(NULL, t->term, stdin);
	if (!scr) {
		snprintf(err, errlen, "cannot set up the terminal (TERM=%s)",
			 getenv("TERM") ? getenv("TERM") : "");
		fclose(t->term);
		signal(SIGWINCH, SIG_DFL);
		return -1;
	}
	t->screen = scr;
	if (pipe(p) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		endwin();
		delscreen(scr);
		fclose(t->term);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	t->saved_out = dup(STDOUT_FILENO);
	t->saved_err = dup(STDERR_FILENO);
	dup2(p[1], STDOUT_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	t->pipe_rd = p[0];
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(t->saved_out, F_SETFD, FD_CLOEXEC);
	fcntl(t->saved_err, F_SETFD, FD_CLOEXEC);
	fcntl(fileno(t->term), F_SETFD, FD_CLOEXEC);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	t->mono = color_mode < 0 ||
		  (color_mode == 0 && getenv("NO_COLOR") && *getenv("NO_COLOR")) ||
		  !has_colors();
	if (!t->mono) {
		start_color();
		use_default_colors();
		for (int i = 1; i < UI_S_COUNT; i++)
			init_pair((short)i, styles[i].fg, styles[i].bg);
	}
	the = t;
	t->active = 1;
	atexit(restore);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		signal(fatal_signals[i], on_fatal);
	return 0;
}

void ui_tty_close(struct ui_tty *t)
{
	if (!t->screen)
		return;
	restore();
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		signal(fatal_signals[i], SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	close(t->pipe_rd);
	close(t->saved_out);
	close(t->saved_err);
	delscreen(t->screen);
	fclose(t->term);
	t->screen = NULL;
	free(t->prev);
	t->prev = NULL;
	the = NULL;
}

int ui_tty_key(struct ui_tty *t)
{
	int c = getch();

	switch (c) {
	case ERR:
		return -1;
	case KEY_UP:
		return UI_KEY_UP;
	case KEY_DOWN:
		return UI_KEY_DOWN;
	case KEY_PPAGE:
		return UI_KEY_PGUP;
	case KEY_NPAGE:
		return UI_KEY_PGDN;
	case KEY_HOME:
		return UI_KEY_HOME;
	case KEY_END:
		return UI_KEY_END;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		return UI_KEY_BACKSPACE;
	case KEY_ENTER:
	case '\r':
	case '\n':
		return UI_KEY_ENTER;
	case 27:
		return UI_KEY_ESC;
	case '\t':
		return UI_KEY_TAB;
	case KEY_RESIZE:
		return UI_KEY_RESIZE;
	default:
		return c >= 0 && c < 256 ? c : -1;
	}
}

int ui_tty_resized(struct ui_tty *t)
{
	struct winsize ws;

	if (!got_winch)
		return 0;
	got_winch = 0;
	if (ioctl(fileno(t->term), TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	return 1;
}

void ui_tty_size(struct ui_tty *t, int *w, int *h)
{
	(void)t;
	*w = COLS;
	*h = LINES;
}

void ui_tty_put(struct ui_tty *t, const struct ui_screen *s)
{
	chtype line[1024];
	int full = t->prev_w != s->w || t->prev_h != s->h || !t->prev;

	if (full) {
		free(t->prev);
		t->prev = calloc((size_t)s->w * (size_t)s->h, sizeof(*s->cells));
		t->prev_w = s->w;
		t->prev_h = s->h;
	}
	for (int y = 0; y < s->h && y < LINES; y++) {
		const struct ui_scell *row = &s->cells[y * s->w];
		int n = s->w < COLS ? s->w : COLS;

		/* Only the lines that changed go to ncurses (it diffs the rest). */
		if (!full && t->prev &&
		    !memcmp(row, (struct ui_scell *)t->prev + y * s->w,
			    (size_t)s->w * sizeof(*row)))
			continue;
		if (n > (int)(sizeof(line) / sizeof(line[0])))
			n = (int)(sizeof(line) / sizeof(line[0]));
		/* The last cell of the screen would scroll it. */
		if (y == LINES - 1 && n == COLS)
			n--;
		for (int x = 0; x < n; x++) {
			const struct ui_scell *c = &row[x];
			attr_t a = t->mono ? styles[c->style].mono_attr
					   : styles[c->style].color_attr |
					     (c->style ? COLOR_PAIR(c->style) : 0);

			line[x] = (chtype)(unsigned char)c->ch | a;
		}
		mvaddchnstr(y, 0, line, n);
		if (t->prev)
			memcpy((struct ui_scell *)t->prev + y * s->w, row,
			       (size_t)s->w * sizeof(*row));
	}
	wnoutrefresh(stdscr);
	doupdate();
}

void ui_tty_drain(struct ui_tty *t, void (*fn)(void *ctx, const char *line),
		  void *ctx)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(t->pipe_rd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || t->npartial == sizeof(t->partial) - 1) {
				t->partial[t->npartial] = '\0';
				fn(ctx, t->partial);
				t->npartial = 0;
				if (buf[i] == '\n')
					continue;
			}
			t->partial[t->npartial++] = buf[i];
		}
	}
}

int ui_tty_wait(struct ui_tty *t, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = t->pipe_rd, .events = POLLIN },
	};

	if (got_winch)
		return 1;
	return poll(pfd, 2, ms) > 0 || got_winch;
}

void ui_tty_invalidate(struct ui_tty *t)
{
	free(t->prev);
	t->prev = NULL;
	clearok(curscr, TRUE);
}
