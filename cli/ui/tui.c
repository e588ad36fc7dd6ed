/*
 * cli/ui/tui.c: the page view's face: keys (one table, shown by ?), the
 * panes' selections, when to redraw, and the two ways it is fed: live
 * traffic on the proxy's loop, or a recording moved over in time.
 *
 * As the prompt (cli/repl.c), it lives on the proxy's one main loop: a
 * reader thread only waits for the terminal (or the pipe that takes
 * standard output and error) and wakes the loop through the proxy's wake
 * port; keys, commands and redraws happen on the loop, between messages.
 * Redraws are coalesced: at most one each 33 ms, and neither the rows
 * (made again from the model) nor the screen sooner than a hundred times
 * what the last one cost, so that the view never takes more than a
 * hundredth of the loop from the traffic, however many pages it shows;
 * a key is answered at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mach.h>
#include <mach/vm_prot.h>

#include "cli/batch.h"
#include "cli/trace-opts.h"
#include "cli/ui/draw.h"
#include "cli/ui/state.h"
#include "cli/ui/tty.h"
#include "cli/ui/tui.h"
#include "tracer/proxy.h"
#include "tracer/record.h"
#include "util/xalloc.h"

#define FRAME_NS 33000000ULL	/* ~30 redraws a second at most */
/*
 * ... and no sooner than this many times what the last one cost (rows
 * made, screen drawn): the view takes a hundredth of the loop at most.
 */
#define COST_FACTOR 100
/* Messages between two checkpoints of the model, at first. */
#define CHECKPOINT_EVERY 1000
/*
 * Pages all checkpoints may hold before every second one goes (a page
 * costs some 300 bytes in a copy: its entry in the kernel's and the
 * object's tables, half full).
 */
#define CHECKPOINT_PAGES 500000

struct checkpoint {
	uint64_t msg;		/* messages applied */
	uint64_t offset;	/* the next record's byte offset */
	unsigned number;	/* records before it */
	uint64_t t;
	struct mo_model *model;
};

/* A diagnostic of a recording, at the message that caused it. */
struct tdiag {
	uint64_t msg;
	char *text;
};

struct travel {
	struct mo_playback *pb;
	struct mo_trace *view;
	struct checkpoint *ck;
	size_t nck, ack;
	uint64_t every;
	size_t ckpages;		/* pages the checkpoints hold */
	size_t maxpages;	/* ... at most */
	uint64_t total;		/* messages in the recording */
	uint64_t pos;		/* messages the view has seen */
	uint64_t t;		/* the recorded time at pos */
	struct tdiag *diags;
	size_t ndiags, adiags;
	uint64_t scanned;	/* while scanning: messages so far */
	int failed;
	char err[400];
};

enum input_mode { IN_KEYS, IN_FILTER, IN_COMMAND, IN_GOTO_PAGE, IN_GOTO_MSG };

struct tui {
	struct ui_tty tty;
	struct ui_state st;
	struct ui_screen scr;
	struct ui_layout lay;
	FILE *stream;
	struct batch *b;
	struct mo_proxy *p;
	struct mo_trace *tr;
	struct mo_engine *e;
	struct travel *tv;
	/* the loop watches the terminal and the pipe (mo_engine_add_fd) */
	int watching;
	unsigned resize_tick;	/* the timer that looks for a new size */
	int keyed;		/* keys came since the last tui_poll */
	/* what the screen shows */
	enum ui_pane focus;
	size_t grid_top, grid_sel;
	uint64_t sel_page;
	size_t log_back, held_sel, diag_back;
	struct ui_held *held;
	size_t nheld, aheld;
	int help;
	enum input_mode mode;
	char input[256];
	size_t ninput;
	char filter[256];
	char status[256];
	/* when to draw */
	int dirty, changed, full;
	uint64_t last_draw, last_build, build_cost, draw_cost;
	uint64_t rate_t0, rate_n0;
	double rate;
	/* the events */
	uint64_t msgno;
	struct ui_evline last;	/* the last message seen */
	int done, no_time;
	int closed;		/* the terminal was given back: events go unseen */
	int own_notes;		/* the trace's notes do not reach the pane by themselves */
	int trace_log;		/* ... and its log lines do: no line of our own */
	unsigned lineno;
	char partial[512];
	size_t npartial;
};

static const struct ui_key_help *tui_help(size_t *n, int travel);

/* What a log line keeps of a message. */
static void evline(struct ui_evline *l, unsigned kernel, int dir,
		   const struct mo_decoded *d, int kind)
{
	l->name = d->schema ? d->schema->name : NULL;
	l->call = d->call;
	l->kernel = kernel;
	l->dir = (uint8_t)dir;
	l->kind = (int8_t)kind;
	l->malformed = d->status != MO_OK;
}

/* The trace's events: a line in the log pane, and the model changed. */
static void on_event(void *ctx, const struct mo_event *ev)
{
	struct tui *u = ctx;

	if (u->closed)
		return;
	u->msgno++;
	evline(&u->last, ev->kernel, ev->dir, ev->d, ev->kind);
	if (!u->trace_log)
		ui_ring_add_event(&u->st.log, u->msgno, &u->last);
	u->changed = 1;
}

static void on_note(void *ctx, uint64_t t, const char *text)
{
	struct tui *u = ctx;
	char line[300];

	if (u->closed)
		return;
	/* A note may say the model changed (a kernel went away). */
	u->changed = 1;
	if (!u->own_notes)
		return;
	snprintf(line, sizeof(line), "+++ %s +++", text);
	ui_ring_add(&u->st.log, u->msgno, line);
	u->changed = 1;
}

static void on_diag(void *ctx, const struct mo_diag *d)
{
	struct tui *u = ctx;
	char line[600], cause[240];

	if (u->closed)
		return;
	/*
	 * The model speaks after the subscribers saw the message: it is its
	 * cause, shown first (a pane cuts long lines). A timeout's cause is
	 * the wait its text names, not the message that came last.
	 */
	if (strstr(d->name, "-timeout")) {
		snprintf(line, sizeof(line), "%s: %s", d->name, d->text);
	} else {
		ui_brief(cause, sizeof(cause), &u->last);
		snprintf(line, sizeof(line), "%s: #%llu %s: %s", d->name,
			 (unsigned long long)u->msgno, cause, d->text);
	}
	ui_ring_add(&u->st.diags, u->msgno, line);
	u->st.ndiags++;
	u->changed = 1;
}

/* The commands' answers, line by line, into the log pane. */
static ssize_t stream_write(void *cookie, const char *buf, size_t len)
{
	struct tui *u = cookie;

	if (!u->tty.active) {
		size_t done = 0;

		while (done < len) {
			ssize_t n = write(STDERR_FILENO, buf + done, len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		return (ssize_t)len;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || u->npartial == sizeof(u->partial) - 1) {
			u->partial[u->npartial] = '\0';
			ui_ring_add(&u->st.log, u->msgno, u->partial);
			u->npartial = 0;
			u->dirty = 1;
			if (buf[i] == '\n')
				continue;
		}
		u->partial[u->npartial++] = buf[i];
	}
	return (ssize_t)len;
}

static void on_output(void *ctx, const char *line)
{
	struct tui *u = ctx;
	char clean[UI_LINE_MAX];
	size_t n = 0;

	/* The log's colours (SGR sequences, ESC [ ... m) have no place in a pane. */
	for (const char *p = line; *p && n + 1 < sizeof(clean); p++) {
		if (*p == '\033' && p[1] == '[') {
			for (p += 2; *p && !(*p >= '@' && *p <= '~'); p++)
				;
			if (!*p)
				break;
			continue;
		}
		clean[n++] = *p;
	}
	clean[n] = '\0';
	ui_ring_add(&u->st.log, u->msgno, clean);
	u->dirty = 1;
}

struct tui *tui_open(struct trace_cli *tc, const char *cmd)
{
	struct tui *u = calloc(1, sizeof(*u));
	cookie_io_functions_t io = { .write = stream_write };
	char err[200];

	if (!u) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return NULL;
	}
	ui_state_init(&u->st);
	if (ui_tty_open(&u->tty, tc->color_mode, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		ui_state_release(&u->st);
		free(u);
		return NULL;
	}
	u->stream = fopencookie(u, "w", io);
	if (u->stream)
		setvbuf(u->stream, NULL, _IOLBF, 0);
	/*
	 * The log's lines would write over the screen: without -o they are
	 * the pane's alone (its own short form); the log's colours never
	 * reach a pane.
	 */
	u->no_time = tc->o.no_time;
	/* With -o FILE the log's notes go there: the pane takes them itself. */
	u->own_notes = tc->outfile != NULL;
	if (!tc->outfile)
		tc->o.quiet = 1;
	tc->o.color = 0;
	u->full = u->dirty = u->changed = 1;
	return u;
}

FILE *tui_stream(struct tui *u)
{
	return u->stream ? u->stream : stderr;
}

static void key(struct tui *u, int c);

/* Keys, the pipe's lines, a new size: what the terminal has for the view. */
static void tui_input(struct tui *u)
{
	int c;

	ui_tty_drain(&u->tty, on_output, u);
	if (ui_tty_resized(&u->tty))
		u->full = u->dirty = 1;
	/* A key is answered at once: keys come at a person's pace. */
	while ((c = ui_tty_key(&u->tty)) >= 0) {
		key(u, c);
		u->keyed = 1;
	}
}

/* The loop found the terminal or the pipe readable. */
static void on_tty(void *ctx, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	tui_input(ctx);
}

/* SIGWINCH only sets a flag: the loop looks at it ten times a second. */
#define RESIZE_NS 100000000ULL

static void on_resize_tick(void *ctx, uint64_t now)
{
	struct tui *u = ctx;

	(void)now;
	if (ui_tty_resized(&u->tty))
		u->full = u->dirty = 1;
}

static void unwatch(struct tui *u)
{
	if (!u->watching)
		return;
	mo_engine_remove_fd(u->e, STDIN_FILENO);
	mo_engine_remove_fd(u->e, u->tty.pipe_rd);
	mo_engine_remove_timer(u->e, u->resize_tick);
	u->watching = 0;
}

/* The loop watches the terminal, the pipe and the size. 0, or -1. */
static int watch(struct tui *u)
{
	if (mo_engine_add_fd(u->e, STDIN_FILENO, POLLIN, on_tty, u) < 0)
		return -1;
	if (mo_engine_add_fd(u->e, u->tty.pipe_rd, POLLIN, on_tty, u) < 0) {
		mo_engine_remove_fd(u->e, STDIN_FILENO);
		return -1;
	}
	u->resize_tick = mo_engine_add_timer(u->e, mo_now() + RESIZE_NS,
					     RESIZE_NS, on_resize_tick, u);
	u->watching = 1;
	return 0;
}

int tui_start(struct tui *u, struct batch *b, struct mo_proxy *p,
	      struct mo_trace *tr)
{
	struct mo_subscriber s = { on_event, on_note, on_diag, u };

	u->b = b;
	u->p = p;
	u->tr = tr;
	u->e = mo_proxy_engine(p);
	if (mo_trace_subscribe(tr, &s) < 0) {
		fprintf(stderr, "motrace: --tui: the trace has too many subscribers\n");
		return -1;
	}
	if (watch(u) < 0) {
		fprintf(stderr, "motrace: --tui: the loop cannot watch the terminal\n");
		return -1;
	}
	u->rate_t0 = mo_now();
	return 0;
}

static void add_held(void *ctx, unsigned id, const struct mo_pmsg *m)
{
	struct tui *u = ctx;

	struct ui_evline l;

	if (u->nheld == u->aheld) {
		u->aheld = u->aheld ? 2 * u->aheld : 16;
		u->held = mo_xrealloc(u->held, u->aheld * sizeof(*u->held));
	}
	evline(&l, m->kernel, m->dir, &m->d, -1);
	u->held[u->nheld].id = id;
	ui_brief(u->held[u->nheld].text, sizeof(u->held[u->nheld].text), &l);
	u->nheld++;
}

/* Keeps the selected row (by its page) on the grid. */
static void grid_follow(struct tui *u)
{
	const struct ui_state *st = &u->st;
	size_t h = u->lay.grid_h > 0 ? (size_t)u->lay.grid_h : 1;

	if (!st->nrows) {
		u->grid_sel = u->grid_top = 0;
		return;
	}
	if (u->grid_sel >= st->nrows)
		u->grid_sel = st->nrows - 1;
	u->sel_page = st->rows[u->grid_sel].first;
	if (u->grid_sel < u->grid_top)
		u->grid_top = u->grid_sel;
	if (u->grid_sel >= u->grid_top + h)
		u->grid_top = u->grid_sel - h + 1;
}

static void build(struct tui *u, uint64_t now)
{
	const struct mo_model *m = u->tv ? mo_trace_model(u->tv->view)
			       : mo_trace_model(u->tr);
	uint64_t t0 = mo_now();

	ui_state_build(&u->st, m);
	u->grid_sel = ui_state_row_of(&u->st, u->sel_page);
	grid_follow(u);
	u->nheld = 0;
	if (u->e)
		mo_engine_each_held(u->e, add_held, u);
	if (u->held_sel >= u->nheld)
		u->held_sel = u->nheld ? u->nheld - 1 : 0;
	u->build_cost = mo_now() - t0;
	u->last_build = now;
	u->changed = 0;
}

static void draw(struct tui *u, uint64_t now)
{
	const struct ui_key_help *help;
	size_t nhelp;
	struct ui_view v = { 0 };
	char where[120], prompt[40];
	int w, h;

	help = tui_help(&nhelp, u->tv != NULL);
	if (u->tv)
		snprintf(where, sizeof(where), "recording: message %llu of %llu",
			 (unsigned long long)u->tv->pos,
			 (unsigned long long)u->tv->total);
	else
		snprintf(where, sizeof(where), "live");
	ui_tty_size(&u->tty, &w, &h);
	ui_screen_resize(&u->scr, w, h);
	v.st = &u->st;
	v.focus = u->focus;
	v.grid_top = u->grid_top;
	v.grid_sel = u->grid_sel;
	v.log_back = u->log_back;
	v.held_sel = u->held_sel;
	v.diag_back = u->diag_back;
	v.held = u->held;
	v.nheld = u->nheld;
	v.filter = u->filter;
	v.where = where;
	v.rate = u->no_time || u->tv ? -1 : u->rate;
	v.stopped = (unsigned)u->nheld;
	v.ndiags = u->st.ndiags;
	v.help = u->help;
	v.keys = help;
	v.nkeys = nhelp;
	v.status = u->status[0] ? u->status : NULL;
	if (u->mode != IN_KEYS) {
		snprintf(prompt, sizeof(prompt), "%s",
			 u->mode == IN_FILTER ? " filter: " :
			 u->mode == IN_COMMAND ? " :" :
			 u->mode == IN_GOTO_PAGE ? " go to page: " :
			 " go to message: ");
		v.prompt = prompt;
		v.input = u->input;
	}
	ui_draw(&u->scr, &v, &u->lay);
	ui_tty_put(&u->tty, &u->scr);
	u->last_draw = now;
	u->dirty = 0;
}

/* Runs debugger command TEXT (the one table, cli/dbg.c). */
static void command(struct tui *u, const char *text)
{
	char line[300];

	snprintf(line, sizeof(line), ":%s", text);
	ui_ring_add(&u->st.log, u->msgno, line);
	batch_add(u->b, text, "(tui)", ++u->lineno);
	if (u->tv) {
		int r = batch_step(u->b, u->tv->t);

		if (r == BATCH_QUIT)
			u->done = 1;
	}
	u->changed = u->dirty = 1;
}

static void set_status(struct tui *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_status(struct tui *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->status, sizeof(u->status), fmt, ap);
	va_end(ap);
}

/* The message name on the selected line of the stopped or log pane. */
static int selected_name(struct tui *u, char *name, size_t len)
{
	if (u->focus == UI_PANE_HELD && u->held_sel < u->nheld)
		return ui_line_name(u->held[u->held_sel].text, name, len);
	if (u->focus == UI_PANE_LOG) {
		struct ui_view v = { .st = &u->st, .filter = u->filter,
				     .log_back = u->log_back };
		size_t i = ui_log_selected(&v);

		if (i != (size_t)-1)
			return ui_line_name(ui_line_text(ui_ring_at(&u->st.log, i)),
					    name, len);
	}
	return -1;
}

static size_t log_lines(const struct tui *u)
{
	size_t n = 0;

	for (size_t i = 0; i < u->st.log.count; i++)
		if (ui_log_pass(u->filter, ui_line_text(ui_ring_at(&u->st.log, i))))
			n++;
	return n;
}

/* Moves the selection of the focused pane by D lines (<0 up). */
static void move(struct tui *u, long d)
{
	size_t n;

	switch (u->focus) {
	case UI_PANE_GRID:
		if (d < 0)
			u->grid_sel = (size_t)-d > u->grid_sel ? 0 : u->grid_sel - (size_t)-d;
		else
			u->grid_sel += (size_t)d;
		grid_follow(u);
		break;
	case UI_PANE_HELD:
		if (d < 0)
			u->held_sel = (size_t)-d > u->held_sel ? 0 : u->held_sel - (size_t)-d;
		else
			u->held_sel += (size_t)d;
		if (u->held_sel >= u->nheld)
			u->held_sel = u->nheld ? u->nheld - 1 : 0;
		break;
	case UI_PANE_LOG:
		/* The log's newest line is at the bottom: up goes back. */
		n = log_lines(u);
		if (d < 0)
			u->log_back += (size_t)-d;
		else
			u->log_back = (size_t)d > u->log_back ? 0 : u->log_back - (size_t)d;
		if (n && u->log_back >= n)
			u->log_back = n - 1;
		break;
	default:
		n = u->st.diags.count;
		if (d < 0)
			u->diag_back += (size_t)-d;
		else
			u->diag_back = (size_t)d > u->diag_back ? 0 : u->diag_back - (size_t)d;
		if (n && u->diag_back >= n)
			u->diag_back = n - 1;
		break;
	}
}

static long pane_height(const struct tui *u)
{
	int h = u->focus == UI_PANE_GRID ? u->lay.grid_h
		: u->focus == UI_PANE_HELD ? u->lay.held_h - 1
		: u->focus == UI_PANE_LOG ? u->lay.log_h - 1 : u->lay.diag_h - 1;

	return h > 1 ? h : 1;
}

static void travel_to(struct tui *u, uint64_t msg);

static void k_up(struct tui *u) { move(u, -1); }
static void k_down(struct tui *u) { move(u, 1); }
static void k_pgup(struct tui *u) { move(u, -pane_height(u)); }
static void k_pgdn(struct tui *u) { move(u, pane_height(u)); }
static void k_home(struct tui *u) { move(u, -(long)(1L << 40)); }
static void k_end(struct tui *u) { move(u, 1L << 40); }
static void k_tab(struct tui *u) { u->focus = (u->focus + 1) % UI_NPANES; }
static void k_object(struct tui *u)
{
	ui_state_next_object(&u->st);
	u->sel_page = 0;
	u->grid_top = 0;
	u->changed = 1;
}
static void k_help(struct tui *u) { u->help = 1; }
static void k_quit(struct tui *u) { u->done = 1; }
static void k_redraw(struct tui *u) { u->full = 1; }

static void prompt(struct tui *u, enum input_mode m)
{
	u->mode = m;
	u->ninput = 0;
	u->input[0] = '\0';
	if (m == IN_FILTER) {
		snprintf(u->input, sizeof(u->input), "%s", u->filter);
		u->ninput = strlen(u->input);
	}
}

static void k_filter(struct tui *u) { prompt(u, IN_FILTER); }
static void k_command(struct tui *u) { prompt(u, IN_COMMAND); }
static void k_goto(struct tui *u) { prompt(u, u->tv ? IN_GOTO_MSG : IN_GOTO_PAGE); }
static void k_goto_page(struct tui *u) { prompt(u, IN_GOTO_PAGE); }
static void k_step(struct tui *u) { command(u, "step"); }
static void k_continue(struct tui *u) { command(u, "continue"); }

static void held_command(struct tui *u, const char *verb)
{
	char c[64];

	if (!u->nheld) {
		set_status(u, "no message is stopped");
		return;
	}
	snprintf(c, sizeof(c), "%s %u", verb,
		 u->held[u->focus == UI_PANE_HELD ? u->held_sel : 0].id);
	command(u, c);
}

static void k_release(struct tui *u) { held_command(u, "release"); }
static void k_drop(struct tui *u) { held_command(u, "drop"); }

static void k_break(struct tui *u)
{
	char name[80], c[120];

	if (selected_name(u, name, sizeof(name)) < 0) {
		set_status(u, "b: select a message in the stopped or log pane (Tab)");
		return;
	}
	snprintf(c, sizeof(c), "break %s", name);
	command(u, c);
}

static void k_back1(struct tui *u) { travel_to(u, u->tv->pos ? u->tv->pos - 1 : 0); }
static void k_fwd1(struct tui *u) { travel_to(u, u->tv->pos + 1); }
static void k_back100(struct tui *u) { travel_to(u, u->tv->pos > 100 ? u->tv->pos - 100 : 0); }
static void k_fwd100(struct tui *u) { travel_to(u, u->tv->pos + 100); }

struct key {
	int key, key2;
	const char *name;
	const char *what;
	void (*fn)(struct tui *u);
	int where;		/* 0 both, 1 live only, 2 recordings only */
};

/* The keys, in the order ? shows them. */
static const struct key keys[] = {
	{ UI_KEY_UP, 'k', "Up k", "move up", k_up, 0 },
	{ UI_KEY_DOWN, 'j', "Down j", "move down", k_down, 0 },
	{ UI_KEY_PGUP, 0, "PgUp", "page up", k_pgup, 0 },
	{ UI_KEY_PGDN, ' ', "PgDn Space", "page down", k_pgdn, 0 },
	{ UI_KEY_HOME, 0, "Home", "the first line", k_home, 0 },
	{ UI_KEY_END, 0, "End", "the last line", k_end, 0 },
	{ 'g', 0, "g", "go to page N (a recording: message N)", k_goto, 0 },
	{ 'p', 0, "p", "go to page N", k_goto_page, 0 },
	{ 'o', 0, "o", "next object", k_object, 0 },
	{ UI_KEY_TAB, 0, "Tab", "next pane (grid, stopped, log, diagnostics)", k_tab, 0 },
	{ '/', 0, "/", "filter the log (empty: all)", k_filter, 0 },
	{ 's', 0, "s", "step: one stopped message goes, stop at the next", k_step, 1 },
	{ 'c', 0, "c", "continue: the stopped messages go", k_continue, 1 },
	{ 'r', 0, "r", "release the selected stopped message", k_release, 1 },
	{ 'd', 0, "d", "drop the selected stopped message", k_drop, 1 },
	{ 'b', 0, "b", "break on the selected message's name", k_break, 1 },
	{ '[', 0, "[ ]", "one message back, forward", k_back1, 2 },
	{ ']', 0, NULL, NULL, k_fwd1, 2 },
	{ '{', 0, "{ }", "a hundred messages back, forward", k_back100, 2 },
	{ '}', 0, NULL, NULL, k_fwd100, 2 },
	{ ':', 0, ":", "a debugger command (help lists them)", k_command, 0 },
	{ 12, 0, "Ctrl-L", "redraw", k_redraw, 0 },
	{ '?', 0, "?", "these keys", k_help, 0 },
	{ 'q', 0, "q", "quit", k_quit, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct ui_key_help *tui_help(size_t *n, int travel)
{
	static struct ui_key_help h[2][NKEYS];
	static size_t nh[2];
	int t = travel != 0;

	if (!nh[t])
		for (size_t i = 0; i < NKEYS; i++)
			if (keys[i].name && keys[i].where != (t ? 1 : 2))
				h[t][nh[t]++] = (struct ui_key_help){ keys[i].name,
								      keys[i].what };
	*n = nh[t];
	return h[t];
}

static void input_key(struct tui *u, int c)
{
	enum input_mode m = u->mode;
	char *end;

	if (c == UI_KEY_ESC) {
		u->mode = IN_KEYS;
		return;
	}
	if (c == 21) {		/* Ctrl-U: the whole line, as readline's */
		u->ninput = 0;
		u->input[0] = '\0';
		return;
	}
	if (c == UI_KEY_BACKSPACE) {
		if (u->ninput)
			u->input[--u->ninput] = '\0';
		return;
	}
	if (c != UI_KEY_ENTER) {
		if (c >= 32 && c < 127 && u->ninput + 1 < sizeof(u->input)) {
			u->input[u->ninput++] = (char)c;
			u->input[u->ninput] = '\0';
		}
		return;
	}
	u->mode = IN_KEYS;
	if (m == IN_FILTER) {
		snprintf(u->filter, sizeof(u->filter), "%s", u->input);
		u->log_back = 0;
	} else if (m == IN_COMMAND) {
		if (u->ninput)
			command(u, u->input);
	} else if (u->ninput) {
		unsigned long long n = strtoull(u->input, &end, 0);

		if (*end) {
			set_status(u, "'%s' is not a number", u->input);
			return;
		}
		if (m == IN_GOTO_PAGE) {
			u->sel_page = n;
			u->grid_sel = ui_state_row_of(&u->st, n);
			u->focus = UI_PANE_GRID;
			grid_follow(u);
			u->changed = 1;
		} else {
			travel_to(u, n);
		}
	}
}

static void key(struct tui *u, int c)
{
	u->dirty = 1;
	if (c == UI_KEY_RESIZE) {
		u->full = 1;
		return;
	}
	if (u->help) {
		u->help = 0;
		return;
	}
	if (u->mode != IN_KEYS) {
		input_key(u, c);
		return;
	}
	u->status[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].key != c && (!keys[i].key2 || keys[i].key2 != c))
			continue;
		if (keys[i].where == 1 && u->tv) {
			set_status(u, "a recording is only read: no message to let go");
			return;
		}
		if (keys[i].where == 2 && !u->tv) {
			set_status(u, "[ ] { } move over a recording (motrace -r FILE --tui)");
			return;
		}
		keys[i].fn(u);
		return;
	}
	set_status(u, "no key %s%c: ? lists them", c < 32 ? "^" : "",
		   c < 32 ? c + 64 : c < 127 ? c : '?');
}

void tui_poll(struct tui *u)
{
	uint64_t now = mo_now();
	int keyed;

	/*
	 * Under the proxy's loop the terminal and the pipe are read when the
	 * loop finds them readable (on_tty): a message on its way costs no
	 * system call here. A recording's view has no such loop.
	 */
	if (!u->watching)
		tui_input(u);
	keyed = u->keyed;
	u->keyed = 0;
	if (now - u->rate_t0 >= 1000000000ULL) {
		u->rate = (double)(u->msgno - u->rate_n0) * 1e9 /
			  (double)(now - u->rate_t0);
		u->rate_t0 = now;
		u->rate_n0 = u->msgno;
		u->dirty = 1;
	}
	if (u->changed && (keyed || (now - u->last_build >= FRAME_NS &&
				     now - u->last_build >= COST_FACTOR * u->build_cost))) {
		build(u, now);
		u->dirty = 1;
	}
	if (u->dirty && (u->full || keyed ||
			 (now - u->last_draw >= FRAME_NS &&
			  now - u->last_draw >= COST_FACTOR * u->draw_cost))) {
		if (u->full)
			ui_tty_invalidate(&u->tty);
		u->full = 0;
		draw(u, now);
		u->draw_cost = mo_now() - now;
	}
}

unsigned tui_timeout_ms(const struct tui *u)
{
	uint64_t now = mo_now(), due;

	if (!u->changed && !u->dirty)
		return 1000;
	due = u->last_draw + FRAME_NS;
	if (u->last_draw + COST_FACTOR * u->draw_cost > due)
		due = u->last_draw + COST_FACTOR * u->draw_cost;
	if (u->changed && u->last_build + COST_FACTOR * u->build_cost > due)
		due = u->last_build + COST_FACTOR * u->build_cost;
	return due <= now ? 1 : (unsigned)((due - now) / 1000000 + 1);
}

int tui_done(const struct tui *u)
{
	return u->done;
}

void tui_close(struct tui *u)
{
	if (!u || u->closed)
		return;
	u->closed = 1;
	unwatch(u);
	ui_tty_close(&u->tty);
}

int tui_view(struct tui **up, struct trace_cli *tc, struct batch *b,
	     struct mo_proxy *p, struct mo_trace *tr)
{
	struct tui *u = *up;
	char err[200];
	int quiet = tc->o.quiet;

	if (!u) {
		/* The trace is made: what tui_open would change in TC stays. */
		u = tui_open(tc, "motrace");
		tc->o.quiet = quiet;
		if (!u)
			return -1;
		u->trace_log = !tc->outfile && !quiet;
		if (tui_start(u, b, p, tr) < 0) {
			tui_close(u);
			*up = u;
			return -1;
		}
		*up = u;
		return 0;
	}
	if (ui_tty_open(&u->tty, tc->color_mode, err, sizeof(err)) < 0) {
		fprintf(stderr, "motrace: view: %s\n", err);
		return -1;
	}
	u->closed = u->done = u->keyed = 0;
	u->full = u->dirty = u->changed = 1;
	u->mode = IN_KEYS;
	if (watch(u) < 0) {
		fprintf(stderr, "motrace: view: the loop cannot watch the terminal\n");
		tui_close(u);
		return -1;
	}
	return 0;
}

void tui_free(struct tui *u)
{
	if (!u)
		return;
	tui_close(u);
	if (u->stream)
		fclose(u->stream);
	ui_screen_release(&u->scr);
	ui_state_release(&u->st);
	free(u->held);
	free(u);
}

/*
 * Time travel over a recording. A first pass reads it all through a
 * trace of its own (no log) and keeps a copy of the model every
 * CHECKPOINT_EVERY messages with the place of the record that follows;
 * moving to message N copies the checkpoint before it into the view's
 * model and reads on from there, so a jump costs at most the messages
 * between two checkpoints, whatever the recording's length.
 */

static void event_of(const struct mo_record *rec, struct mo_decoded *d,
		     struct mo_event *ev)
{
	mo_decode(rec->msg, rec->len, (enum mo_abi)rec->abi, d);
	memset(ev, 0, sizeof(*ev));
	ev->kind = rec->kind;
	ev->dir = rec->dir;
	ev->kernel = rec->kernel;
	ev->object = rec->object;
	ev->t = rec->t;
	ev->delay_ns = rec->delay_ns;
	ev->arrived = rec->arrived;
	ev->buf = rec->msg;
	ev->len = rec->len;
	ev->d = d;
	ev->ool = rec->ool;
	ev->nool = rec->nool;
}

static void scan_diag(void *ctx, const struct mo_diag *d)
{
	struct travel *tv = ctx;
	char line[400];

	if (tv->ndiags == tv->adiags) {
		tv->adiags = tv->adiags ? 2 * tv->adiags : 64;
		tv->diags = mo_xrealloc(tv->diags, tv->adiags * sizeof(*tv->diags));
	}
	if (strstr(d->name, "-timeout"))
		snprintf(line, sizeof(line), "%s: %s", d->name, d->text);
	else
		snprintf(line, sizeof(line), "%s: #%llu: %s", d->name,
			 (unsigned long long)tv->scanned, d->text);
	tv->diags[tv->ndiags].msg = tv->scanned;
	tv->diags[tv->ndiags].text = strdup(line);
	tv->ndiags++;
}

static void checkpoint_add(struct travel *tv, uint64_t msg,
			   const struct mo_model *m, uint64_t t)
{
	size_t pages = 0;

	if (tv->nck == tv->ack) {
		tv->ack = tv->ack ? 2 * tv->ack : 64;
		tv->ck = mo_xrealloc(tv->ck, tv->ack * sizeof(*tv->ck));
	}
	tv->ck[tv->nck++] = (struct checkpoint){ msg, 0, 0, t, mo_model_clone(m) };
	tv->ckpages += mo_model_npages(m);
	/* Too many pages kept: every second checkpoint goes. */
	if (tv->ckpages > tv->maxpages && tv->nck > 2) {
		size_t k = 0;

		for (size_t i = 0; i < tv->nck; i++) {
			if (i % 2 && i + 1 < tv->nck) {
				mo_model_free(tv->ck[i].model);
				continue;
			}
			tv->ck[k++] = tv->ck[i];
			pages += mo_model_npages(tv->ck[i].model);
		}
		tv->nck = k;
		tv->ckpages = pages;
		tv->every *= 2;
	}
}

/* Reads the whole recording: its length, its diagnostics, the checkpoints. */
static int scan(struct travel *tv, const struct trace_cli *tc, const char *path)
{
	struct mo_trace_opts o = tc->o;
	struct mo_subscriber s = { NULL, NULL, scan_diag, tv };
	struct mo_trace *tr;
	struct mo_record rec;
	struct mo_decoded d;
	struct mo_event ev;
	FILE *null = fopen("/dev/null", "w");
	int r, pending = 1;

	if (!null) {
		snprintf(tv->err, sizeof(tv->err), "cannot open /dev/null: %s",
			 strerror(errno));
		return -1;
	}
	o.out = null;
	o.quiet = 1;
	o.stats = 0;
	o.pages = 0;
	o.json = 0;
	tr = mo_trace_new(&o);
	mo_trace_subscribe(tr, &s);
	tv->every = CHECKPOINT_EVERY;
	tv->maxpages = CHECKPOINT_PAGES;
	/* Smaller figures, for tests that want every path of the jumps. */
	if (getenv("MOTRACE_CHECKPOINT_EVERY") &&
	    strtoull(getenv("MOTRACE_CHECKPOINT_EVERY"), NULL, 10))
		tv->every = strtoull(getenv("MOTRACE_CHECKPOINT_EVERY"), NULL, 10);
	if (getenv("MOTRACE_CHECKPOINT_PAGES") &&
	    strtoull(getenv("MOTRACE_CHECKPOINT_PAGES"), NULL, 10))
		tv->maxpages = strtoull(getenv("MOTRACE_CHECKPOINT_PAGES"), NULL, 10);
	checkpoint_add(tv, 0, mo_trace_model(tr), 0);
	while ((r = mo_playback_next(tv->pb, &rec, tv->err, sizeof(tv->err))) == 1) {
		if (pending) {
			tv->ck[tv->nck - 1].offset = rec.offset;
			tv->ck[tv->nck - 1].number = rec.number - 1;
			pending = 0;
		}
		if (rec.type != MO_REC_MESSAGE)
			continue;
		event_of(&rec, &d, &ev);
		tv->scanned++;
		mo_trace_event(tr, &ev);
		if (tv->scanned % tv->every == 0) {
			checkpoint_add(tv, tv->scanned, mo_trace_model(tr), rec.t);
			pending = 1;
		}
	}
	tv->total = tv->scanned;
	if (pending)
		tv->nck--, mo_model_free(tv->ck[tv->nck].model);
	mo_trace_free(tr);
	fclose(null);
	if (r < 0)
		tv->failed = 1;
	return 0;
}

/* The view at message MSG (within the recording). */
static void travel_to(struct tui *u, uint64_t msg)
{
	struct travel *tv = u->tv;
	struct mo_record rec;
	struct mo_decoded d;
	struct mo_event ev;
	char err[400];
	size_t i;

	if (msg > tv->total)
		msg = tv->total;
	if (msg < tv->pos || msg - tv->pos > tv->every) {
		/* The last checkpoint at or before MSG. */
		for (i = tv->nck; i-- > 1 && tv->ck[i].msg > msg;)
			;
		mo_model_assign(mo_trace_model(tv->view), tv->ck[i].model);
		mo_playback_seek(tv->pb, tv->ck[i].offset, tv->ck[i].number);
		tv->pos = tv->ck[i].msg;
		tv->t = tv->ck[i].t;
		u->msgno = tv->pos;
		ui_ring_clear(&u->st.log);
	}
	while (tv->pos < msg) {
		int r = mo_playback_next(tv->pb, &rec, err, sizeof(err));

		if (r <= 0)
			break;
		if (rec.type == MO_REC_NOTE) {
			on_note(u, rec.t, rec.text);
			continue;
		}
		if (rec.type != MO_REC_MESSAGE)
			continue;
		event_of(&rec, &d, &ev);
		mo_trace_event(tv->view, &ev);
		tv->pos++;
		tv->t = rec.t;
	}
	/* The diagnostics up to here. */
	ui_ring_clear(&u->st.diags);
	u->st.ndiags = 0;
	for (i = 0; i < tv->ndiags && tv->diags[i].msg <= tv->pos; i++)
		u->st.ndiags++;
	for (size_t j = i > u->st.diags.cap ? i - u->st.diags.cap : 0; j < i; j++)
		ui_ring_add(&u->st.diags, tv->diags[j].msg, tv->diags[j].text);
	u->changed = u->dirty = 1;
	u->last_build = 0;
}

int tui_travel(struct trace_cli *tc, const char *path, struct batch *b,
	       const char *cmd)
{
	struct travel tv = { 0 };
	struct mo_subscriber s = { on_event, on_note, NULL, NULL };
	struct mo_trace_opts o;
	struct tui *u;
	FILE *null = NULL;
	char err[400];
	int status = 0;

	tv.pb = mo_playback_open(path, err, sizeof(err));
	if (!tv.pb) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 2;
	}
	if (scan(&tv, tc, path) < 0) {
		fprintf(stderr, "%s: %s\n", cmd, tv.err);
		mo_playback_close(tv.pb);
		return 1;
	}
	u = tui_open(tc, cmd);
	if (!u) {
		status = 1;
		goto out;
	}
	o = tc->o;
	o.quiet = 1;
	o.stats = 0;
	o.pages = 0;
	o.json = 0;
	/* What the view replays was shown by the scan: the panes say it. */
	null = fopen("/dev/null", "w");
	o.out = null ? null : stderr;
	tv.view = mo_trace_new(&o);
	s.ctx = u;
	mo_trace_subscribe(tv.view, &s);
	u->tv = &tv;
	u->own_notes = 1;
	u->b = b;
	b->out = tui_stream(u);
	b->trace = tv.view;
	b->proxy = NULL;
	if (tv.failed)
		set_status(u, "%s (read up to message %llu)", tv.err,
			   (unsigned long long)tv.total);
	/* The scan read to the end: the first move goes back to a checkpoint. */
	tv.pos = UINT64_MAX;
	travel_to(u, 0);
	while (!u->done) {
		tui_poll(u);
		if (u->done)
			break;
		if (!ui_tty_wait(&u->tty, (int)tui_timeout_ms(u)))
			continue;
	}
	tui_close(u);
	mo_trace_free(tv.view);
	tui_free(u);
	if (null)
		fclose(null);
	if (tv.failed) {
		fprintf(stderr, "%s: %s\n", cmd, tv.err);
		status = 1;
	}
out:
	for (size_t i = 0; i < tv.nck; i++)
		mo_model_free(tv.ck[i].model);
	free(tv.ck);
	for (size_t i = 0; i < tv.ndiags; i++)
		free(tv.diags[i].text);
	free(tv.diags);
	mo_playback_close(tv.pb);
	return status ? status : b->status;
}
