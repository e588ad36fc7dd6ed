/*
 * cli/ui/state.c: the page view's data: runs of pages from the model,
 * rings of lines from the events.
 *
 * The rows are made again from the model when it changed (the face says
 * when, at most as often as it redraws); moving over them costs nothing,
 * so 100,000 touched pages scroll as ten do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/vm_prot.h>

#include "cli/ui/state.h"
#include "util/xalloc.h"

static void prot3(char *b, unsigned prot);

void ui_state_init(struct ui_state *s)
{
	memset(s, 0, sizeof(*s));
	s->log.cap = 2000;
	s->diags.cap = 500;
}

void ui_ring_clear(struct ui_ring *r)
{
	r->head = r->count = 0;
}

/* The ring's next line, the oldest given up when it is full. */
static struct ui_line *ring_next(struct ui_ring *r, uint64_t msg)
{
	struct ui_line *l;

	if (!r->v)
		r->v = mo_xrealloc(NULL, r->cap * sizeof(*r->v));
	if (r->count == r->cap) {
		r->head = (r->head + 1) % r->cap;
		r->count--;
	}
	l = &r->v[(r->head + r->count++) % r->cap];
	l->msg = msg;
	return l;
}

void ui_ring_add(struct ui_ring *r, uint64_t msg, const char *text)
{
	struct ui_line *l = ring_next(r, msg);
	size_t n = strlen(text);

	l->lazy = 0;
	if (n >= sizeof(l->text))
		n = sizeof(l->text) - 1;
	memcpy(l->text, text, n);
	l->text[n] = '\0';
}

void ui_ring_add_event(struct ui_ring *r, uint64_t msg,
		       const struct ui_evline *ev)
{
	struct ui_line *l = ring_next(r, msg);

	l->lazy = 1;
	l->ev = *ev;
}

const char *ui_line_text(const struct ui_line *l)
{
	if (l->lazy) {
		/* The line's text is made once, where the ring keeps it. */
		struct ui_line *w = (struct ui_line *)l;

		ui_brief(w->text, sizeof(w->text), &l->ev);
		w->lazy = 0;
	}
	return l->text;
}

void ui_brief(char *buf, size_t len, const struct ui_evline *ev)
{
	static const char *const kinds[] = {
		"", " [injected]", " [dropped]", " [delayed]", " [held]",
		" [released]", " [consumed]",
	};
	const struct mo_call *c = &ev->call;
	char k[16], p[4];
	size_t n;

	if (ev->kernel == MO_KERNEL_UNKNOWN)
		snprintf(k, sizeof(k), "k?");
	else
		snprintf(k, sizeof(k), "k%u", ev->kernel);
	n = (size_t)snprintf(buf, len, "%s%s %s%s", k,
			     ev->dir == MO_K2M ? ">" : "<",
			     ev->name ? ev->name : "(unknown message)",
			     ev->malformed ? " (malformed)" : "");
#define ADD(...) do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
	if (c->has & MO_CALL_OFFSET)
		ADD(" offset 0x%llx", (unsigned long long)c->offset);
	if (c->has & MO_CALL_LENGTH)
		ADD(" length 0x%llx", (unsigned long long)c->length);
	if (c->has & MO_CALL_ACCESS) {
		prot3(p, c->access);
		ADD(" access %s", p);
	}
	if (c->has & MO_CALL_LOCK) {
		prot3(p, c->lock);
		ADD(" lock %s", p);
	}
	if (c->has & MO_CALL_FLUSH && c->should_flush)
		ADD(" flush");
	if (ev->kind > 0 && ev->kind < (int)(sizeof(kinds) / sizeof(kinds[0])))
		ADD("%s", kinds[ev->kind]);
#undef ADD
}

const struct ui_line *ui_ring_at(const struct ui_ring *r, size_t i)
{
	return i < r->count ? &r->v[(r->head + i) % r->cap] : NULL;
}

void ui_state_release(struct ui_state *s)
{
	ui_ring_clear(&s->log);
	ui_ring_clear(&s->diags);
	free(s->log.v);
	free(s->diags.v);
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* One kernel's known pages as sorted, non-overlapping segments. */
struct seg {
	uint64_t first, n;
	struct ui_cell cell;
};

struct segs {
	struct seg *v;
	size_t n, a;
	struct seg *spans;
	size_t nspans, aspans;
};

static void seg_push(struct seg **v, size_t *n, size_t *a, const struct seg *s)
{
	if (*n == *a) {
		*a = *a ? 2 * *a : 64;
		*v = mo_xrealloc(*v, *a * sizeof(**v));
	}
	(*v)[(*n)++] = *s;
}

static void on_page(void *ctx, const struct mo_page_info *p)
{
	struct segs *ss = ctx;
	struct seg s = { p->first, p->n, { 0 } };

	s.cell.state = p->state == MO_PAGE_RESIDENT ? UI_RESIDENT
		       : p->state == MO_PAGE_REQUESTED ? UI_REQUESTED
		       : UI_ABSENT;
	s.cell.access = p->access;
	s.cell.lock = p->state == MO_PAGE_RESIDENT ? p->lock : 0;
	s.cell.flags = (p->may_dirty ? UI_F_DIRTY : 0) |
		       (p->precious ? UI_F_PRECIOUS : 0) |
		       (p->unlock_pending ? UI_F_UNLOCK : 0) |
		       (p->lock_pending ? UI_F_LOCKREQ : 0) |
		       (p->flush_pending ? UI_F_FLUSH : 0);
	if (p->span)
		seg_push(&ss->spans, &ss->nspans, &ss->aspans, &s);
	else
		seg_push(&ss->v, &ss->n, &ss->a, &s);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Pages sorted, then each span's pages that no page entry holds put in
 * as segments of their own: a span stands for the pages the map lacks.
 */
static void segs_finish(struct segs *ss)
{
	if (ss->n)
		qsort(ss->v, ss->n, sizeof(*ss->v), seg_cmp);
	if (!ss->nspans)
		return;
	size_t npages = ss->n;

	for (size_t j = 0; j < ss->nspans; j++) {
		struct seg sp = ss->spans[j];
		uint64_t at = sp.first, end = sp.first + sp.n;
		size_t lo = 0, hi = npages;

		/* The first page entry at or after the span's start. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ss->v[mid].first < at)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; at < end; i++) {
			uint64_t next = i < npages && ss->v[i].first < end
					? ss->v[i].first : end;

			if (next > at) {
				struct seg g = { at, next - at, sp.cell };

				seg_push(&ss->v, &ss->n, &ss->a, &g);
			}
			at = next + 1;
			if (next == end)
				break;
		}
	}
	qsort(ss->v, ss->n, sizeof(*ss->v), seg_cmp);
}

struct okern_walk {
	struct ui_state *s;
	int seen_selected;
	unsigned all[1024];
	unsigned nall;
};

static void on_okern(void *ctx, const struct mo_okern_info *o)
{
	struct okern_walk *w = ctx;
	struct ui_state *s = w->s;
	unsigned i;

	for (i = 0; i < s->nobjects && s->objects[i] != o->object; i++)
		;
	if (i == s->nobjects && s->nobjects < sizeof(s->objects) / sizeof(s->objects[0]))
		s->objects[s->nobjects++] = o->object;
	for (i = 0; i < w->nall && w->all[i] != o->kernel; i++)
		;
	if (i == w->nall && w->nall < sizeof(w->all) / sizeof(w->all[0]))
		w->all[w->nall++] = o->kernel;
}

struct kcol {
	unsigned kernel;
	const char *state;
	int over;		/* terminated or gone: after the live ones */
};

struct kcols {
	unsigned object;
	struct kcol v[1024];
	unsigned n;
};

static void on_okern_kernels(void *ctx, const struct mo_okern_info *o)
{
	struct kcols *k = ctx;

	if (o->object != k->object || k->n == sizeof(k->v) / sizeof(k->v[0]))
		return;
	k->v[k->n].kernel = o->kernel;
	k->v[k->n].state = o->state;
	k->v[k->n].over = !strcmp(o->state, "terminated") ||
			  !strcmp(o->state, "gone");
	k->n++;
}

static int kcol_cmp(const void *a, const void *b)
{
	const struct kcol *x = a, *y = b;

	if (x->over != y->over)
		return x->over - y->over;
	return x->kernel < y->kernel ? -1 : x->kernel > y->kernel;
}

/*
 * The selected object's kernels: the live ones first, then those that
 * terminated it or went away, each in number order; as many as there
 * are columns.
 */
static void kernels_of(struct ui_state *s, const struct mo_model *m)
{
	static struct kcols k;

	k.object = s->object;
	k.n = 0;
	mo_model_each_okern(m, on_okern_kernels, &k);
	qsort(k.v, k.n, sizeof(k.v[0]), kcol_cmp);
	for (unsigned i = 0; i < k.n; i++) {
		if (s->nkernels == UI_MAX_KERNELS) {
			s->more_kernels++;
			continue;
		}
		s->kernels[s->nkernels] = k.v[i].kernel;
		s->kstate[s->nkernels] = k.v[i].state;
		s->nkernels++;
	}
}

static void row_push(struct ui_state *s, uint64_t first, uint64_t n,
		     const struct ui_cell *cells)
{
	size_t k = s->nkernels * sizeof(*cells);

	if (s->nrows) {
		struct ui_row *last = &s->rows[s->nrows - 1];

		if (last->first + last->n == first &&
		    !memcmp(last->cell, cells, k)) {
			last->n += n;
			return;
		}
	}
	if (s->nrows == s->arows) {
		s->arows = s->arows ? 2 * s->arows : 256;
		s->rows = mo_xrealloc(s->rows, s->arows * sizeof(*s->rows));
	}
	s->rows[s->nrows].first = first;
	s->rows[s->nrows].n = n;
	memset(s->rows[s->nrows].cell, 0, sizeof(s->rows[s->nrows].cell));
	memcpy(s->rows[s->nrows].cell, cells, k);
	s->nrows++;
}

void ui_state_build(struct ui_state *s, const struct mo_model *m)
{
	struct okern_walk w = { .s = s };
	struct segs ss[UI_MAX_KERNELS];
	size_t at[UI_MAX_KERNELS] = { 0 };
	uint64_t pos = UINT64_MAX;
	unsigned i;

	s->nobjects = 0;
	s->nkernels = s->more_kernels = 0;
	s->nrows = 0;
	s->npages = 0;
	mo_model_each_okern(m, on_okern, &w);
	s->all_kernels = w.nall;
	for (i = 0; i < s->nobjects && s->objects[i] != s->object; i++)
		;
	if (!s->have_object || i == s->nobjects) {
		s->have_object = s->nobjects > 0;
		s->object = s->nobjects ? s->objects[0] : 0;
	}
	if (!s->have_object)
		return;
	kernels_of(s, m);
	memset(ss, 0, sizeof(ss));
	for (i = 0; i < s->nkernels; i++) {
		mo_model_each_page(m, s->object, s->kernels[i], on_page, &ss[i]);
		segs_finish(&ss[i]);
		if (ss[i].n && ss[i].v[0].first < pos)
			pos = ss[i].v[0].first;
	}
	/*
	 * A sweep over every kernel's segments at once: between two
	 * boundaries each kernel's page is one state; a run goes on while
	 * all of them stay the same and no page is missing.
	 */
	while (pos != UINT64_MAX) {
		struct ui_cell cells[UI_MAX_KERNELS];
		uint64_t end = UINT64_MAX, next = UINT64_MAX;
		int any = 0;

		memset(cells, 0, sizeof(cells));
		for (i = 0; i < s->nkernels; i++) {
			const struct seg *g;

			while (at[i] < ss[i].n &&
			       ss[i].v[at[i]].first + ss[i].v[at[i]].n <= pos)
				at[i]++;
			if (at[i] == ss[i].n)
				continue;
			g = &ss[i].v[at[i]];
			if (g->first <= pos) {
				cells[i] = g->cell;
				any = 1;
				if (g->first + g->n < end)
					end = g->first + g->n;
			} else {
				if (g->first < next)
					next = g->first;
				if (g->first < end)
					end = g->first;
			}
		}
		if (!any) {
			pos = next;
			continue;
		}
		row_push(s, pos, end - pos, cells);
		s->npages += end - pos;
		pos = end;
	}
	for (i = 0; i < s->nkernels; i++) {
		free(ss[i].v);
		free(ss[i].spans);
	}
}

void ui_state_next_object(struct ui_state *s)
{
	unsigned i;

	if (!s->nobjects)
		return;
	for (i = 0; i < s->nobjects && s->objects[i] != s->object; i++)
		;
	s->object = s->objects[i + 1 < s->nobjects ? i + 1 : 0];
	s->have_object = 1;
}

size_t ui_state_row_of(const struct ui_state *s, uint64_t page)
{
	size_t lo = 0, hi = s->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->rows[mid].first + s->rows[mid].n <= page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void prot3(char *b, unsigned prot)
{
	b[0] = prot & VM_PROT_READ ? 'r' : '-';
	b[1] = prot & VM_PROT_WRITE ? 'w' : '-';
	b[2] = prot & VM_PROT_EXECUTE ? 'x' : '-';
	b[3] = '\0';
}

void ui_cell_text(const struct ui_cell *c, char *buf)
{
	char p[4], word[9];

	switch (c->state) {
	case UI_UNKNOWN:
		snprintf(buf, UI_CELL_TEXT, "-");
		return;
	case UI_ABSENT:
		snprintf(word, sizeof(word), "absent");
		break;
	case UI_REQUESTED:
		prot3(p, c->access);
		snprintf(word, sizeof(word), "req %s", p);
		break;
	default:
		/* page_lock is what the kernel may not do (GNU Mach vm_page.h). */
		snprintf(word, sizeof(word), "res %s",
			 !(c->lock & (VM_PROT_READ | VM_PROT_WRITE)) ? "rw"
			 : !(c->lock & VM_PROT_READ) ? "ro" : "--");
		break;
	}
	if (!c->flags) {
		snprintf(buf, UI_CELL_TEXT, "%s", word);
		return;
	}
	snprintf(buf, UI_CELL_TEXT, "%-7s %c%c%c%c%c", word,
		 c->flags & UI_F_DIRTY ? 'D' : '.',
		 c->flags & UI_F_PRECIOUS ? 'P' : '.',
		 c->flags & UI_F_UNLOCK ? 'U' : '.',
		 c->flags & UI_F_LOCKREQ ? 'L' : '.',
		 c->flags & UI_F_FLUSH ? 'F' : '.');
}
