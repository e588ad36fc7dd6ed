/*
 * cli/bp.c: breakpoints and watchpoints.
 *
 * A breakpoint selects messages as a hold rule does (names, direction,
 * kernel, object, pages) and, with "if CONDITION", on the fields the
 * decoder filled in d->call (decode/decode.h, struct mo_call). The
 * condition is compiled once into a small tree; C's operators with C's
 * precedence: ! first, then & (bits), then comparisons, then &&, then ||.
 * A field the message does not carry makes every test of it false (so
 * "flush" and "!flush" are both false for a data_request): a condition
 * only stops the messages it speaks of.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "cli/bp.h"
#include "decode/render.h"
#include "decode/xlat.h"
#include "util/parse.h"

enum {
	F_KERNEL, F_OBJECT, F_K2M, F_M2K, F_OFFSET, F_LENGTH, F_SIZE, F_PAGE,
	F_PAGES, F_LAST, F_ACCESS, F_LOCK, F_RETURN, F_FLUSH, F_REPLY,
	F_ERROR, F_PAGE_SIZE, F_PRECIOUS, F_DIRTY, F_KERNEL_COPY, F_DATA,
	F_CTL, F_OBJ, F_ID, F_COUNT
};

/* The fields, in the order of the enum; HAS: the MO_CALL_* they need. */
static const struct {
	const char *name;
	uint32_t has;
} fields[F_COUNT] = {
	[F_KERNEL] = { "kernel", 0 },
	[F_OBJECT] = { "object", 0 },
	[F_K2M] = { "k2m", 0 },
	[F_M2K] = { "m2k", 0 },
	[F_OFFSET] = { "offset", MO_CALL_OFFSET },
	[F_LENGTH] = { "length", MO_CALL_LENGTH },
	[F_SIZE] = { "size", MO_CALL_LENGTH },
	[F_PAGE] = { "page", MO_CALL_OFFSET },
	[F_PAGES] = { "pages", MO_CALL_LENGTH },
	[F_LAST] = { "last_page", MO_CALL_OFFSET | MO_CALL_LENGTH },
	[F_ACCESS] = { "access", MO_CALL_ACCESS },
	[F_LOCK] = { "lock", MO_CALL_LOCK },
	[F_RETURN] = { "return", MO_CALL_RETURN },
	[F_FLUSH] = { "flush", MO_CALL_FLUSH },
	[F_REPLY] = { "reply", MO_CALL_REPLY },
	[F_ERROR] = { "error", MO_CALL_ERROR },
	[F_PAGE_SIZE] = { "page_size", MO_CALL_PAGE_SIZE },
	[F_PRECIOUS] = { "precious", MO_CALL_FLAGS },
	[F_DIRTY] = { "dirty", MO_CALL_FLAGS },
	[F_KERNEL_COPY] = { "kernel_copy", MO_CALL_FLAGS },
	[F_DATA] = { "data", MO_CALL_DATA },
	[F_CTL] = { "ctl", MO_CALL_CONTROL },
	[F_OBJ] = { "obj", MO_CALL_OBJECT },
	[F_ID] = { "id", 0 },
};

const char *const dbg_cond_fields[] = {
	"kernel", "object", "k2m", "m2k", "offset", "length", "size", "page",
	"pages", "last_page", "access", "lock", "return", "flush", "reply",
	"error", "page_size", "precious", "dirty", "kernel_copy", "data",
	"ctl", "obj", "id", NULL,
};

enum { C_NUM, C_FIELD, C_NOT, C_BAND, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE,
       C_AND, C_OR };

struct dbg_cond {
	int op;
	uint64_t v;		/* C_NUM: the value; C_FIELD: the field */
	struct dbg_cond *l, *r;
};

static void cond_free(struct dbg_cond *c)
{
	if (!c)
		return;
	cond_free(c->l);
	cond_free(c->r);
	free(c);
}

static struct dbg_cond *node(int op, uint64_t v, struct dbg_cond *l,
			     struct dbg_cond *r)
{
	struct dbg_cond *c = calloc(1, sizeof(*c));

	if (!c) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	c->op = op;
	c->v = v;
	c->l = l;
	c->r = r;
	return c;
}

/* The parser's state: where it is, and the first error. */
struct cparse {
	const char *p;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct cparse *cp, const char *fmt, const char *tok,
		size_t n)
{
	if (!cp->failed) {
		char t[64];

		snprintf(t, sizeof(t), "%.*s", (int)(n > 40 ? 40 : n), tok);
		snprintf(cp->err, cp->errlen, fmt, t);
	}
	cp->failed = 1;
	return -1;
}

static void skip(struct cparse *cp)
{
	while (isspace((unsigned char)*cp->p))
		cp->p++;
}

/* The length of the token at P, for naming it. */
static size_t token_len(const char *p)
{
	size_t n = 0;

	if (isalnum((unsigned char)*p) || *p == '_') {
		while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '|')
			n++;
		return n;
	}
	return *p ? (strchr("=!<>&|", p[1]) && strchr("=!<>&|", *p) ? 2 : 1) : 0;
}

/* A symbolic constant: VM_PROT_*, MEMORY_OBJECT_RETURN_*, KERN_*, true. */
static int constant(const char *w, size_t n, uint64_t *v)
{
	static const struct mo_xlat *const tables[] = {
		mo_xlat_vm_prot, mo_xlat_mo_return, mo_xlat_kern_return,
		mo_xlat_copy_strategy,
	};

	if ((n == 4 && !strncmp(w, "true", 4)) || (n == 4 && !strncmp(w, "TRUE", 4))) {
		*v = 1;
		return 0;
	}
	if ((n == 5 && !strncmp(w, "false", 5)) || (n == 5 && !strncmp(w, "FALSE", 5))) {
		*v = 0;
		return 0;
	}
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct mo_xlat *x = tables[t]; x->name; x++)
			if (x->len == n && !strncmp(x->name, w, n)) {
				*v = x->value;
				return 0;
			}
	return -1;
}

static struct dbg_cond *parse_or(struct cparse *cp);

static struct dbg_cond *parse_primary(struct cparse *cp)
{
	const char *t;
	size_t n;

	skip(cp);
	t = cp->p;
	if (*t == '!' && t[1] != '=') {
		struct dbg_cond *c;

		cp->p++;
		c = parse_primary(cp);
		return c ? node(C_NOT, 0, c, NULL) : NULL;
	}
	if (*t == '(') {
		struct dbg_cond *c;

		cp->p++;
		c = parse_or(cp);
		if (!c)
			return NULL;
		skip(cp);
		if (*cp->p != ')') {
			cond_free(c);
			fail(cp, *cp->p ? "expected ')' at '%s'"
				      : "expected ')' at the end%s", cp->p,
			     token_len(cp->p));
			return NULL;
		}
		cp->p++;
		return c;
	}
	if (isdigit((unsigned char)*t)) {
		char num[40], e[160];
		uint64_t v;

		n = 0;
		while (isalnum((unsigned char)t[n]))
			n++;
		snprintf(num, sizeof(num), "%.*s", (int)(n < 39 ? n : 39), t);
		if (mo_parse_u64(NULL, num, MO_PARSE_PAGES, UINT64_MAX, &v, e,
				 sizeof(e)) < 0) {
			fail(cp, "'%s' is not a number (decimal or 0x hex, with K, M, G, T or p)",
			     t, n);
			return NULL;
		}
		cp->p += n;
		return node(C_NUM, v, NULL, NULL);
	}
	if (isalpha((unsigned char)*t) || *t == '_') {
		uint64_t v;

		n = 0;
		while (isalnum((unsigned char)t[n]) || t[n] == '_')
			n++;
		cp->p += n;
		for (unsigned f = 0; f < F_COUNT; f++)
			if (strlen(fields[f].name) == n &&
			    !strncmp(fields[f].name, t, n))
				return node(C_FIELD, f, NULL, NULL);
		if (constant(t, n, &v) == 0)
			return node(C_NUM, v, NULL, NULL);
		fail(cp, "unknown field '%s' (fields: kernel, object, k2m, m2k, offset, length, size, page, pages, last_page, access, lock, return, flush, reply, error, page_size, precious, dirty, kernel_copy, data, ctl, obj, id)",
		     t, n);
		return NULL;
	}
	if (!*t)
		fail(cp, "a field or a number is missing at the end%s", "", 0);
	else
		fail(cp, "expected a field or a number at '%s'", t, token_len(t));
	return NULL;
}

/* l KIND what operand parses next; NULL (l freed) when that fails. */
static struct dbg_cond *binary(struct cparse *cp, int kind, struct dbg_cond *l,
			       struct dbg_cond *(*operand)(struct cparse *))
{
	struct dbg_cond *r = operand(cp);

	if (!r) {
		cond_free(l);
		return NULL;
	}
	return node(kind, 0, l, r);
}

static struct dbg_cond *parse_band(struct cparse *cp)
{
	struct dbg_cond *l = parse_primary(cp);

	while (l) {
		skip(cp);
		if (cp->p[0] != '&' || cp->p[1] == '&')
			return l;
		cp->p++;
		l = binary(cp, C_BAND, l, parse_primary);
	}
	return l;
}

static struct dbg_cond *parse_cmp(struct cparse *cp)
{
	static const struct { const char *op; int c; } ops[] = {
		{ "==", C_EQ }, { "!=", C_NE }, { "<=", C_LE }, { ">=", C_GE },
		{ "<", C_LT }, { ">", C_GT },
	};
	struct dbg_cond *l = parse_band(cp);

	if (!l)
		return NULL;
	skip(cp);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].op);

		if (strncmp(cp->p, ops[i].op, n))
			continue;
		cp->p += n;
		return binary(cp, ops[i].c, l, parse_band);
	}
	if (*cp->p == '=') {
		cond_free(l);
		fail(cp, "'%s': compare with '=='", cp->p, 1);
		return NULL;
	}
	return l;
}

/*
 * A chain of one binary operator, left to right: "&&" over comparisons,
 * "||" over "&&" chains (C's precedence).
 */
static struct dbg_cond *parse_chain(struct cparse *cp, const char *op,
				    int kind,
				    struct dbg_cond *(*operand)(struct cparse *))
{
	struct dbg_cond *l = operand(cp);

	while (l) {
		skip(cp);
		if (strncmp(cp->p, op, 2))
			return l;
		cp->p += 2;
		l = binary(cp, kind, l, operand);
	}
	return l;
}

static struct dbg_cond *parse_and(struct cparse *cp)
{
	return parse_chain(cp, "&&", C_AND, parse_cmp);
}

static struct dbg_cond *parse_or(struct cparse *cp)
{
	return parse_chain(cp, "||", C_OR, parse_and);
}

/* Compiles TEXT; returns the tree, or NULL with ERR naming the token. */
static struct dbg_cond *cond_parse(const char *text, char *err, size_t errlen)
{
	struct cparse cp = { text, err, errlen, 0 };
	struct dbg_cond *c = parse_or(&cp);

	if (!c)
		return NULL;
	skip(&cp);
	if (*cp.p) {
		cond_free(c);
		fail(&cp, "unexpected '%s' (operators: == != < <= > >= & && || ! and parentheses)",
		     cp.p, token_len(cp.p));
		return NULL;
	}
	return c;
}

/* Field F of EV into *V; 0 when the message does not carry it. */
static int field(const struct mo_event *ev, unsigned f, uint64_t *v)
{
	const struct mo_call *c = &ev->d->call;

	if (fields[f].has && (c->has & fields[f].has) != fields[f].has)
		return 0;
	switch (f) {
	case F_KERNEL: *v = ev->kernel; break;
	case F_OBJECT: *v = ev->object; break;
	case F_K2M: *v = ev->dir == MO_K2M; break;
	case F_M2K: *v = ev->dir == MO_M2K; break;
	case F_OFFSET: *v = c->offset; break;
	case F_LENGTH: case F_SIZE: *v = c->length; break;
	case F_PAGE: *v = c->first_page; break;
	case F_PAGES: *v = c->npages; break;
	case F_LAST: *v = c->first_page + (c->npages ? c->npages - 1 : 0); break;
	case F_ACCESS: *v = c->access; break;
	case F_LOCK: *v = c->lock; break;
	case F_RETURN: *v = c->should_return; break;
	case F_FLUSH: *v = c->should_flush; break;
	case F_REPLY: *v = c->reply; break;
	case F_ERROR: *v = (uint32_t)c->error; break;
	case F_PAGE_SIZE: *v = c->page_size; break;
	case F_PRECIOUS: *v = !!(c->flags & MO_FLAG_PRECIOUS); break;
	case F_DIRTY: *v = !!(c->flags & MO_FLAG_DIRTY); break;
	case F_KERNEL_COPY: *v = !!(c->flags & MO_FLAG_KERNEL_COPY); break;
	case F_DATA: *v = c->data_bytes; break;
	case F_CTL: *v = c->control; break;
	case F_OBJ: *v = c->object; break;
	case F_ID:
		if (!ev->d->have_header)
			return 0;
		*v = (uint32_t)ev->d->h.id;
		break;
	default: return 0;
	}
	return 1;
}

/* C's value on EV into *V; 0 when it speaks of a field EV lacks. */
static int eval(const struct dbg_cond *c, const struct mo_event *ev,
		uint64_t *v)
{
	uint64_t a, b;
	int ka, kb;

	switch (c->op) {
	case C_NUM:
		*v = c->v;
		return 1;
	case C_FIELD:
		return field(ev, (unsigned)c->v, v);
	case C_NOT:
		if (!eval(c->l, ev, &a))
			return 0;
		*v = !a;
		return 1;
	case C_AND:
	case C_OR:
		ka = eval(c->l, ev, &a) && a;
		if (c->op == C_AND && !ka) {
			*v = 0;
			return 1;
		}
		if (c->op == C_OR && ka) {
			*v = 1;
			return 1;
		}
		*v = eval(c->r, ev, &b) && b;
		return 1;
	}
	ka = eval(c->l, ev, &a);
	kb = eval(c->r, ev, &b);
	if (!ka || !kb)
		return 0;
	switch (c->op) {
	case C_BAND: *v = a & b; break;
	case C_EQ: *v = a == b; break;
	case C_NE: *v = a != b; break;
	case C_LT: *v = a < b; break;
	case C_LE: *v = a <= b; break;
	case C_GT: *v = a > b; break;
	case C_GE: *v = a >= b; break;
	}
	return 1;
}

static void point_release(struct dbg_point *p)
{
	free(p->spec);
	cond_free(p->cond);
	for (size_t i = 0; i < p->nseen; i++)
		free(p->seen[i].state);
	free(p->seen);
	for (unsigned i = 0; i < p->ncmds; i++)
		free(p->cmds[i]);
	free(p->cmds);
}

void dbg_points_release(struct dbg_points *ps)
{
	for (unsigned i = 0; i < ps->n; i++)
		point_release(&ps->p[i]);
	free(ps->p);
	memset(ps, 0, sizeof(*ps));
}

struct dbg_point *dbg_point(struct batch *b, unsigned num)
{
	for (unsigned i = 0; i < b->points.n; i++)
		if (b->points.p[i].num == num)
			return &b->points.p[i];
	return NULL;
}

static struct dbg_point *point_new(struct batch *b)
{
	struct dbg_points *ps = &b->points;
	struct dbg_point *p;

	ps->p = realloc(ps->p, (ps->n + 1) * sizeof(*ps->p));
	if (!ps->p) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	p = &ps->p[ps->n++];
	memset(p, 0, sizeof(*p));
	p->num = ++ps->last;
	p->enabled = 1;
	return p;
}

/* Undoes point_new after a bad spec: its number is given again. */
static void point_undo(struct batch *b)
{
	point_release(&b->points.p[--b->points.n]);
	b->points.last--;
}

/* Does watchpoint P's page take part in EV? */
static int watch_covers(const struct dbg_point *p, const struct mo_event *ev)
{
	const struct mo_call *c = &ev->d->call;
	uint64_t n;

	if ((!p->any_object && ev->object != p->object) ||
	    (!p->any_kernel && ev->kernel != p->kernel) ||
	    !(c->has & MO_CALL_OFFSET))
		return 0;
	n = c->npages ? c->npages : 1;
	return p->page >= c->first_page && p->page - c->first_page < n;
}

unsigned dbg_points_judge(struct batch *b, const struct mo_event *ev)
{
	for (unsigned i = 0; i < b->points.n; i++) {
		struct dbg_point *p = &b->points.p[i];
		uint64_t v;

		if (!p->enabled || !ev->d->schema)
			continue;
		if (p->watch) {
			if (!p->stop || !watch_covers(p, ev))
				continue;
		} else {
			if (p->dirs && !(p->dirs >> ev->dir & 1))
				continue;
			if (!mo_filter_pass(&p->sel, ev))
				continue;
			if (p->cond && !(eval(p->cond, ev, &v) && v))
				continue;
		}
		p->hits++;
		return p->num;
	}
	return 0;
}

/* The state P last saw in OBJECT and KERNEL, made "absent" when new. */
static struct dbg_watched *watched(struct dbg_point *p, unsigned object,
				   unsigned kernel)
{
	struct dbg_watched *w;

	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i].object == object && p->seen[i].kernel == kernel)
			return &p->seen[i];
	p->seen = realloc(p->seen, (p->nseen + 1) * sizeof(*p->seen));
	if (!p->seen) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	w = &p->seen[p->nseen++];
	w->object = object;
	w->kernel = kernel;
	w->state = strdup("absent");
	return w;
}

/*
 * What watchpoint p last saw of its page in kernel k, the page's state now
 * in *now; NULL when p does not speak of kernel k or its object, or the
 * model does not know the page.
 */
static struct dbg_watched *watch_now(struct batch *b, struct dbg_point *p,
				     size_t k, struct strbuf *now)
{
	const struct batch_kernel *bk = &b->kernels[k];

	if (!bk->known || (!p->any_kernel && k != p->kernel) ||
	    (!p->any_object && bk->object != p->object))
		return NULL;
	strbuf_reset(now);
	if (mo_model_page_state(mo_trace_model(b->trace), bk->object,
				(unsigned)k, p->page, now) < 0)
		return NULL;
	return watched(p, bk->object, (unsigned)k);
}

void dbg_watch_check(struct batch *b, const char *by)
{
	struct strbuf now = STRBUF_INIT;

	if (!b->trace || !b->points.n)
		return;
	for (unsigned i = 0; i < b->points.n; i++) {
		struct dbg_point *p = &b->points.p[i];

		if (!p->watch || !p->enabled)
			continue;
		/* Every object and kernel the watchpoint may speak of. */
		for (size_t k = 0; k < b->nkernels; k++) {
			struct dbg_watched *w = watch_now(b, p, k, &now);

			if (!w || !strcmp(w->state, now.buf))
				continue;
			p->hits++;
			strbuf_addf(&b->reports, "watchpoint %u: object %u kernel %zu page %llu: %s -> %s, by %s\n",
				    p->num, w->object, k,
				    (unsigned long long)p->page, w->state, now.buf,
				    by ? by : "(none)");
			free(w->state);
			w->state = strdup(now.buf);
		}
	}
	strbuf_release(&now);
}

/* Splits "break" arguments into the selection and the condition. */
int dbg_run_break(struct batch *b, const char *args, uint64_t now)
{
	struct dbg_point *p;
	char err[400], sub[200], *spec, *tok, *save, *cond = NULL;
	const char *ifp;
	int first = 1;

	(void)now;
	if (!*args) {
		fprintf(stderr, "motrace: break: give the messages to stop, e.g. 'break data_unlock', 'break lock_request:kernel=1' or 'break lock_request if flush && page >= 3'\n");
		return BATCH_FAILED;
	}
	spec = strdup(args);
	for (ifp = spec; (ifp = strstr(ifp, "if")); ifp += 2)
		if ((ifp == spec || isspace((unsigned char)ifp[-1])) &&
		    (!ifp[2] || isspace((unsigned char)ifp[2])))
			break;
	if (ifp) {
		cond = (char *)ifp + 2;
		((char *)ifp)[0] = '\0';
		while (isspace((unsigned char)*cond))
			cond++;
		if (!*cond) {
			fprintf(stderr, "motrace: break: 'if' needs a condition, e.g. 'break lock_request if flush && page >= 3'\n");
			free(spec);
			return BATCH_FAILED;
		}
	}
	p = point_new(b);
	p->spec = strdup(args);
	/* NAMES, then selectors, by ':' or blanks. */
	for (tok = strtok_r(spec, ": \t", &save); tok;
	     tok = strtok_r(NULL, ": \t", &save), first = 0) {
		if (first) {
			snprintf(sub, sizeof(sub), "trace=%s", tok);
			if (mo_filter_parse(&p->sel, sub, err, sizeof(err)) < 0)
				goto bad;
		} else if (!strcmp(tok, "dir=k2m")) {
			p->dirs |= 1 << MO_K2M;
		} else if (!strcmp(tok, "dir=m2k")) {
			p->dirs |= 1 << MO_M2K;
		} else if (!strncmp(tok, "kernel=", 7) || !strncmp(tok, "object=", 7) ||
			   !strncmp(tok, "page=", 5)) {
			if (mo_filter_parse(&p->sel, tok, err, sizeof(err)) < 0)
				goto bad;
		} else {
			snprintf(err, sizeof(err), "unknown part '%s' (dir=k2m|m2k, kernel=N, object=N, page=A[-B], if CONDITION)",
				 tok);
			goto bad;
		}
	}
	if (first) {
		snprintf(err, sizeof(err), "no message names before 'if'");
		goto bad;
	}
	if (cond) {
		char cerr[300];

		p->cond = cond_parse(cond, cerr, sizeof(cerr));
		if (!p->cond) {
			snprintf(err, sizeof(err), "condition: %s", cerr);
			goto bad;
		}
	}
	free(spec);
	fprintf(b->out, "breakpoint %u: %s\n", p->num, p->spec);
	return BATCH_GOING;
bad:
	fprintf(stderr, "motrace: break: %s\n", err);
	point_undo(b);
	free(spec);
	return BATCH_FAILED;
}

/* watch page N [object O] [kernel K] [stop] */
int dbg_run_watch(struct batch *b, const char *args, uint64_t now)
{
	char *spec = strdup(args), *tok, *save, err[300];
	struct dbg_point *p = point_new(b);
	int have_page = 0;

	(void)now;
	p->watch = 1;
	p->any_object = p->any_kernel = 1;
	p->spec = strdup(args);
	for (tok = strtok_r(spec, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		const char *what = tok;
		uint64_t v;

		if (!strcmp(tok, "stop")) {
			p->stop = 1;
			continue;
		}
		if (strcmp(tok, "page") && strcmp(tok, "object") &&
		    strcmp(tok, "kernel")) {
			snprintf(err, sizeof(err), "unknown word '%s' (watch page N [object O] [kernel K] [stop])",
				 tok);
			goto bad;
		}
		tok = strtok_r(NULL, " \t", &save);
		if (!tok) {
			snprintf(err, sizeof(err), "'%s' needs a number", what);
			goto bad;
		}
		if (mo_parse_u64(what, tok, 0,
				 !strcmp(what, "page") ? UINT64_MAX : 0xfffffffeu,
				 &v, err, sizeof(err)) < 0)
			goto bad;
		if (!strcmp(what, "page")) {
			p->page = v;
			have_page = 1;
		} else if (!strcmp(what, "object")) {
			p->object = (unsigned)v;
			p->any_object = 0;
		} else {
			p->kernel = (unsigned)v;
			p->any_kernel = 0;
		}
	}
	if (!have_page) {
		snprintf(err, sizeof(err), "which page? (watch page N [object O] [kernel K] [stop])");
		goto bad;
	}
	free(spec);
	/* What the page is now is the start: only changes are reported. */
	if (b->trace) {
		struct strbuf st = STRBUF_INIT;

		for (size_t k = 0; k < b->nkernels; k++) {
			struct dbg_watched *w = watch_now(b, p, k, &st);

			if (!w)
				continue;
			free(w->state);
			w->state = strdup(st.buf);
		}
		strbuf_release(&st);
	}
	fprintf(b->out, "watchpoint %u: page %llu", p->num,
		(unsigned long long)p->page);
	if (!p->any_object)
		fprintf(b->out, " of object %u", p->object);
	if (!p->any_kernel)
		fprintf(b->out, " in kernel %u", p->kernel);
	fprintf(b->out, "%s\n", p->stop ? "; its messages stop" : "");
	return BATCH_GOING;
bad:
	fprintf(stderr, "motrace: watch: %s\n", err);
	point_undo(b);
	free(spec);
	return BATCH_FAILED;
}

/* The point ARGS names, or NULL after a message naming CMD. */
static struct dbg_point *named(struct batch *b, const char *cmd,
			       const char *args)
{
	char *end;
	unsigned long n = strtoul(args, &end, 10);
	struct dbg_point *p;

	if (!*args || *end || end == args || !isdigit((unsigned char)*args)) {
		fprintf(stderr, "motrace: %s: '%s' is not a breakpoint's number (see 'info breakpoints')\n",
			cmd, args);
		return NULL;
	}
	p = n <= 0xffffffffu ? dbg_point(b, (unsigned)n) : NULL;
	if (!p)
		fprintf(stderr, "motrace: %s: no breakpoint or watchpoint %s (see 'info breakpoints')\n",
			cmd, args);
	return p;
}

int dbg_run_delete(struct batch *b, const char *args, uint64_t now)
{
	struct dbg_point *p;

	(void)now;
	if (!strncmp(args, "rule", 4) && (!args[4] || isspace((unsigned char)args[4]))) {
		const char *n = args + 4;
		char *end;
		unsigned long i;

		while (isspace((unsigned char)*n))
			n++;
		i = strtoul(n, &end, 10);
		if (!b->proxy) {
			fprintf(stderr, "motrace: delete rule acts on live traffic; a recording (-r) is only read (break, step, continue, print, x, pages, list and info stopped work on it)\n");
			return BATCH_FAILED;
		}
		if (end == n || *end || !i ||
		    mo_rules_delete(&mo_proxy_engine(b->proxy)->rules,
				    (unsigned)i - 1) < 0) {
			fprintf(stderr, "motrace: delete rule: no rule '%s' (see 'info rules')\n", n);
			return BATCH_FAILED;
		}
		fprintf(b->out, "deleted rule %lu\n", i);
		return BATCH_GOING;
	}
	p = named(b, "delete", args);
	if (!p)
		return BATCH_FAILED;
	if (b->collecting == p->num)
		b->collecting = 0;
	fprintf(b->out, "deleted %s %u\n", p->watch ? "watchpoint" : "breakpoint",
		p->num);
	point_release(p);
	memmove(p, p + 1, (size_t)(b->points.p + b->points.n - p - 1) * sizeof(*p));
	b->points.n--;
	return BATCH_GOING;
}

static int set_enabled(struct batch *b, const char *cmd, const char *args,
		       int on)
{
	struct dbg_point *p = named(b, cmd, args);

	if (!p)
		return BATCH_FAILED;
	p->enabled = on;
	fprintf(b->out, "%s %u %s\n", p->watch ? "watchpoint" : "breakpoint",
		p->num, on ? "enabled" : "disabled");
	return BATCH_GOING;
}

int dbg_run_disable(struct batch *b, const char *args, uint64_t now)
{
	(void)now;
	return set_enabled(b, "disable", args, 0);
}

int dbg_run_enable(struct batch *b, const char *args, uint64_t now)
{
	(void)now;
	return set_enabled(b, "enable", args, 1);
}

/* commands [N]: the lines up to "end" run when N stops a message. */
int dbg_run_commands(struct batch *b, const char *args, uint64_t now)
{
	struct dbg_point *p;
	char num[16];

	(void)now;
	if (!*args) {
		if (!b->points.n) {
			fprintf(stderr, "motrace: commands: no breakpoint yet (see 'break')\n");
			return BATCH_FAILED;
		}
		snprintf(num, sizeof(num), "%u", b->points.p[b->points.n - 1].num);
		args = num;
	}
	p = named(b, "commands", args);
	if (!p)
		return BATCH_FAILED;
	for (unsigned i = 0; i < p->ncmds; i++)
		free(p->cmds[i]);
	p->ncmds = 0;
	b->collecting = p->num;
	return BATCH_GOING;
}

int dbg_run_info_points(struct batch *b, const char *args, uint64_t now)
{
	(void)args;
	(void)now;
	if (!b->points.n) {
		fprintf(b->out, "no breakpoints or watchpoints\n");
		return BATCH_GOING;
	}
	fprintf(b->out, "Num  Type        Enb  Hits  What\n");
	for (unsigned i = 0; i < b->points.n; i++) {
		const struct dbg_point *p = &b->points.p[i];

		fprintf(b->out, "%-4u %-11s %-4s %-5llu %s\n", p->num,
			p->watch ? "watchpoint" : "breakpoint",
			p->enabled ? "y" : "n", (unsigned long long)p->hits,
			p->spec);
		for (unsigned k = 0; k < p->ncmds; k++)
			fprintf(b->out, "         %s\n", p->cmds[k]);
	}
	return BATCH_GOING;
}
