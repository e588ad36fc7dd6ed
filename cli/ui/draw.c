/*
 * cli/ui/draw.c: the page view's panes on a screen of cells.
 *
 *   header      objects, kernels, messages a second, stopped, diagnostics
 *   grid        one row per run of pages, one column per kernel
 *   legend      what the cells say
 *   stopped     messages held at motrace (r, d, s act on the selected one)
 *   log         the recent log, filtered by /
 *   diagnostics the checker's, each with the message that caused it
 *   status      the command line, the last word, the keys to start from
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ui/draw.h"

#define PAGE_W 22
#define CELL_W 14

void ui_screen_resize(struct ui_screen *s, int w, int h)
{
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	if (w != s->w || h != s->h || !s->cells) {
		free(s->cells);
		s->cells = calloc((size_t)w * (size_t)h, sizeof(*s->cells));
		if (!s->cells) {
			fputs("motrace: out of memory\n", stderr);
			abort();
		}
		s->w = w;
		s->h = h;
	}
}

void ui_screen_release(struct ui_screen *s)
{
	free(s->cells);
	memset(s, 0, sizeof(*s));
}

static void clear(struct ui_screen *s)
{
	for (int i = 0; i < s->w * s->h; i++)
		s->cells[i] = (struct ui_scell){ ' ', UI_S_NORMAL };
}

/* Writes TEXT at Y, X in STYLE, cut at the right edge; returns the next X. */
static int put(struct ui_screen *s, int y, int x, int style, const char *text)
{
	if (y < 0 || y >= s->h)
		return x;
	for (; *text && x < s->w; text++, x++) {
		unsigned char c = (unsigned char)*text;

		if (x < 0)
			continue;
		s->cells[y * s->w + x].ch = c >= 32 && c < 127 ? (char)c : '?';
		s->cells[y * s->w + x].style = (unsigned char)style;
	}
	return x;
}

static int putf(struct ui_screen *s, int y, int x, int style, const char *fmt,
		...) __attribute__((format(printf, 5, 6)));
static int putf(struct ui_screen *s, int y, int x, int style, const char *fmt,
		...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(s, y, x, style, buf);
}

/* The whole line Y in STYLE (a bar). */
static void bar(struct ui_screen *s, int y, int style)
{
	if (y < 0 || y >= s->h)
		return;
	for (int x = 0; x < s->w; x++)
		s->cells[y * s->w + x] = (struct ui_scell){ ' ', (unsigned char)style };
}

int ui_log_pass(const char *filter, const char *text)
{
	return !filter || !*filter || strstr(text, filter);
}

size_t ui_log_selected(const struct ui_view *v)
{
	const struct ui_ring *r = &v->st->log;
	size_t back = 0;

	for (size_t i = r->count; i-- > 0;) {
		if (!ui_log_pass(v->filter, ui_line_text(ui_ring_at(r, i))))
			continue;
		if (back++ == v->log_back)
			return i;
	}
	return (size_t)-1;
}

int ui_line_name(const char *text, char *buf, size_t len)
{
	const char *p = strstr(text, "memory_object_"), *q;

	if (!p)
		return -1;
	for (q = p; *q && *q != '(' && *q != ' '; q++)
		;
	if ((size_t)(q - p) + 1 > len)
		return -1;
	memcpy(buf, p, (size_t)(q - p));
	buf[q - p] = '\0';
	return 0;
}

static int legend_lines(int w)
{
	return w >= 118 ? 1 : 2;
}

void ui_layout(const struct ui_view *v, int w, int h, struct ui_layout *l)
{
	int fixed = 3 + legend_lines(w);	/* header, titles, status */
	int held = 1 + (int)(v->nheld < 4 ? v->nheld : 4);
	int nd = (int)v->st->diags.count;
	int diag = 1 + (nd < 3 ? nd : 3);
	int rest = h - fixed - held - diag - 1;
	int log = rest / 3;

	if (log < 1)
		log = 1;
	if (rest - log < 1) {
		/* A tiny screen: the grid first. */
		log = 0;
		diag = 1;
		held = 1;
		rest = h - fixed - held - diag - 1;
	}
	l->grid_y = 2;
	l->grid_h = rest - log > 1 ? rest - log : 1;
	l->held_y = l->grid_y + l->grid_h + legend_lines(w);
	l->held_h = held;
	l->log_y = l->held_y + held;
	l->log_h = 1 + log;
	l->diag_y = l->log_y + l->log_h;
	l->diag_h = diag;
}

static const char *const legend_text[2] = {
	"absent | req ACC: requested, access asked | res rw/ro/--: resident, writable, read-only, no access",
	"D may be dirty  P precious  U unlock pending  L lock_request pending  F flush pending  - not known  ? keys",
};

static void draw_legend(struct ui_screen *s, int y)
{
	if (legend_lines(s->w) == 1) {
		putf(s, y, 0, UI_S_TITLE, "%s", "abs|req ACC|res rw/ro/--  D dirty P precious U unlock L lock_request F flush pending  - not known  ? keys");
		return;
	}
	put(s, y, 0, UI_S_TITLE, legend_text[0]);
	put(s, y + 1, 0, UI_S_TITLE, legend_text[1]);
}

static int cell_style(const struct ui_cell *c)
{
	switch (c->state) {
	case UI_UNKNOWN:
		return UI_S_UNKNOWN;
	case UI_ABSENT:
		return UI_S_ABSENT;
	case UI_REQUESTED:
		return UI_S_REQUESTED;
	default:
		return c->lock & 1 ? UI_S_NONE : c->lock & 2 ? UI_S_RO : UI_S_RW;
	}
}

static void draw_grid(struct ui_screen *s, const struct ui_view *v,
		      const struct ui_layout *l)
{
	const struct ui_state *st = v->st;
	int ncols = (s->w - PAGE_W - 1) / CELL_W;
	int x;

	if (ncols > (int)st->nkernels)
		ncols = (int)st->nkernels;
	bar(s, 1, v->focus == UI_PANE_GRID ? UI_S_FOCUS : UI_S_TITLE);
	x = putf(s, 1, 0, v->focus == UI_PANE_GRID ? UI_S_FOCUS : UI_S_TITLE,
		 " %-*s", PAGE_W, st->have_object ? "page" : "no object yet");
	for (int k = 0; k < ncols; k++)
		x = putf(s, 1, 1 + PAGE_W + k * CELL_W,
			 v->focus == UI_PANE_GRID ? UI_S_FOCUS : UI_S_TITLE,
			 "k%-3u %-8.8s", st->kernels[k], st->kstate[k]);
	if (ncols < (int)st->nkernels + (int)st->more_kernels)
		putf(s, 1, x + 1, UI_S_TITLE, "+%u",
		     st->nkernels + st->more_kernels - (unsigned)ncols);
	for (int r = 0; r < l->grid_h; r++) {
		size_t i = v->grid_top + (size_t)r;
		const struct ui_row *row;
		char range[48], text[UI_CELL_TEXT];
		int y = l->grid_y + r, sel;

		if (i >= st->nrows)
			break;
		row = &st->rows[i];
		sel = i == v->grid_sel;
		if (row->n == 1)
			snprintf(range, sizeof(range), "%llu",
				 (unsigned long long)row->first);
		else
			snprintf(range, sizeof(range), "%llu-%llu",
				 (unsigned long long)row->first,
				 (unsigned long long)(row->first + row->n - 1));
		putf(s, y, 0, sel ? UI_S_SELECTED : UI_S_NORMAL, "%c%-*s",
		     sel ? '>' : ' ', PAGE_W, range);
		for (int k = 0; k < ncols; k++) {
			const struct ui_cell *c = &row->cell[k];
			int cx = 1 + PAGE_W + k * CELL_W;

			ui_cell_text(c, text);
			put(s, y, cx, cell_style(c), text);
			/* The flags of a page that waits stand out. */
			if (c->flags & (UI_F_UNLOCK | UI_F_LOCKREQ | UI_F_FLUSH) &&
			    strlen(text) > 8)
				put(s, y, cx + 8, UI_S_WAIT, text + 8);
		}
	}
	if (st->have_object && !st->nrows)
		put(s, l->grid_y, 1, UI_S_ABSENT, "no page known yet");
}

static void title(struct ui_screen *s, const struct ui_view *v, int y,
		  enum ui_pane p, const char *text)
{
	int style = v->focus == p ? UI_S_FOCUS : UI_S_TITLE;

	bar(s, y, style);
	put(s, y, 0, style, text);
}

static void draw_held(struct ui_screen *s, const struct ui_view *v,
		      const struct ui_layout *l)
{
	char t[80];
	size_t first = 0;

	snprintf(t, sizeof(t), " stopped (%zu)%s", v->nheld,
		 v->nheld ? ": r release  d drop  s step  c continue  b break on its name" : "");
	title(s, v, l->held_y, UI_PANE_HELD, t);
	if (v->held_sel >= (size_t)(l->held_h - 1) && l->held_h > 1)
		first = v->held_sel - (size_t)(l->held_h - 2);
	for (int r = 0; r + 1 < l->held_h; r++) {
		size_t i = first + (size_t)r;
		int sel = v->focus == UI_PANE_HELD && i == v->held_sel;

		if (i >= v->nheld)
			break;
		putf(s, l->held_y + 1 + r, 0, sel ? UI_S_SELECTED : UI_S_NORMAL,
		     "%c%4u  %s", sel ? '>' : ' ', v->held[i].id, v->held[i].text);
	}
}

static void draw_log(struct ui_screen *s, const struct ui_view *v,
		     const struct ui_layout *l)
{
	const struct ui_ring *r = &v->st->log;
	char t[200];
	int y = l->log_y + l->log_h - 1;
	size_t back = 0, skip = 0;

	if (v->filter && *v->filter)
		snprintf(t, sizeof(t), " log (filter: %s)", v->filter);
	else
		snprintf(t, sizeof(t), " log");
	title(s, v, l->log_y, UI_PANE_LOG, t);
	/* The selected line stays on the pane: skip the newest ones. */
	if (v->log_back >= (size_t)(l->log_h - 1) && l->log_h > 1)
		skip = v->log_back - (size_t)(l->log_h - 2);
	for (size_t i = r->count; i-- > 0 && y > l->log_y;) {
		const struct ui_line *ln = ui_ring_at(r, i);
		int sel;

		if (!ui_log_pass(v->filter, ui_line_text(ln)))
			continue;
		if (back < skip) {
			back++;
			continue;
		}
		sel = v->focus == UI_PANE_LOG && back == v->log_back;
		putf(s, y--, 0, sel ? UI_S_SELECTED : UI_S_NORMAL, "%c%s",
		     sel ? '>' : ' ', ui_line_text(ln));
		back++;
	}
}

static void draw_diags(struct ui_screen *s, const struct ui_view *v,
		       const struct ui_layout *l)
{
	const struct ui_ring *r = &v->st->diags;
	char t[80];
	int y = l->diag_y + l->diag_h - 1;
	size_t back = 0, skip = 0;

	snprintf(t, sizeof(t), " diagnostics (%u)", v->ndiags);
	title(s, v, l->diag_y, UI_PANE_DIAGS, t);
	if (v->diag_back >= (size_t)(l->diag_h - 1) && l->diag_h > 1)
		skip = v->diag_back - (size_t)(l->diag_h - 2);
	for (size_t i = r->count; i-- > 0 && y > l->diag_y; back++) {
		int sel;

		if (back < skip)
			continue;
		sel = v->focus == UI_PANE_DIAGS && back == v->diag_back;
		putf(s, y--, 0, sel ? UI_S_SELECTED : UI_S_DIAG, "%c%s",
		     sel ? '>' : ' ', ui_line_text(ui_ring_at(r, i)));
	}
}

static void draw_help(struct ui_screen *s, const struct ui_view *v)
{
	/* Two columns when one does not fit the screen's height. */
	int cols = (int)v->nkeys + 4 > s->h && s->w >= 100 ? 2 : 1;
	int rows = ((int)v->nkeys + cols - 1) / cols;
	int cw = 62, w = cw * cols + 2, h = rows + 3;
	int x0 = (s->w - w) / 2, y0 = (s->h - h) / 2;

	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	for (int y = y0; y < y0 + h && y < s->h; y++)
		for (int x = x0; x < x0 + w && x < s->w; x++)
			s->cells[y * s->w + x] = (struct ui_scell){ ' ', UI_S_PROMPT };
	for (int x = x0; x < x0 + w && x < s->w; x++)
		s->cells[y0 * s->w + x].style = UI_S_HEADER;
	put(s, y0, x0, UI_S_HEADER, " keys (any key closes this)");
	for (size_t i = 0; i < v->nkeys; i++)
		putf(s, y0 + 2 + (int)i % rows, x0 + 2 + cw * ((int)i / rows),
		     UI_S_PROMPT, "%-12s %.*s", v->keys[i].keys, cw - 14,
		     v->keys[i].what);
}

void ui_draw(struct ui_screen *s, const struct ui_view *v, struct ui_layout *out)
{
	const struct ui_state *st = v->st;
	struct ui_layout l;
	unsigned obj_i = 0;

	clear(s);
	ui_layout(v, s->w, s->h, &l);
	for (unsigned i = 0; i < st->nobjects; i++)
		if (st->objects[i] == st->object)
			obj_i = i;
	bar(s, 0, UI_S_HEADER);
	{
		char rate[40] = "";
		int x;

		/* No rate without times (--no-time: a screen that tests compare). */
		if (v->rate >= 0)
			snprintf(rate, sizeof(rate), "  msgs/s %.0f", v->rate);
		if (st->have_object)
			x = putf(s, 0, 0, UI_S_HEADER,
				 " motrace  object %u (%u of %u)  kernels %u  pages %llu",
				 st->object, obj_i + 1, st->nobjects,
				 st->all_kernels, (unsigned long long)st->npages);
		else
			x = put(s, 0, 0, UI_S_HEADER, " motrace  no object yet");
		putf(s, 0, x, UI_S_HEADER, "%s  stopped %u  diagnostics %u  %s",
		     rate, v->stopped, v->ndiags, v->where ? v->where : "");
	}
	draw_grid(s, v, &l);
	draw_legend(s, l.grid_y + l.grid_h);
	draw_held(s, v, &l);
	if (l.log_h > 1 || s->h > 12)
		draw_log(s, v, &l);
	draw_diags(s, v, &l);
	bar(s, s->h - 1, UI_S_PROMPT);
	if (v->prompt)
		putf(s, s->h - 1, 0, UI_S_PROMPT, "%s%s_", v->prompt,
		     v->input ? v->input : "");
	else if (v->status)
		putf(s, s->h - 1, 0, UI_S_PROMPT, " %s", v->status);
	else
		put(s, s->h - 1, 0, UI_S_PROMPT,
		    " q quit  ? keys  Tab pane  o object  g go to  / filter  : command  s step  c continue");
	if (v->help)
		draw_help(s, v);
	if (out)
		*out = l;
}
