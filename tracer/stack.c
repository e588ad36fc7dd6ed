/*
 * tracer/stack.c: senders' stacks, symbolized with elfutils' libdwfl.
 *
 * A sender's process is reported to libdwfl once, from its /proc maps
 * (dwfl_linux_proc_report), and kept for the session with a cache of the
 * frames already looked up, so a stack costs a few hash look-ups once
 * its frames have been seen. What a frame is does not depend on the
 * process but on the file and the place in it, so frames are kept by
 * (file name, address from the file's start) for all processes: a new
 * process of the same programs (each mo-map run) costs its maps, not a
 * new reading of their debugging information. The addresses are return
 * addresses: each is looked up one byte before, in the call (as strace -k
 * and gdb do), and printed as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>

#include "tracer/stack.h"
#include "util/le.h"

#define SYM_PROCS 256		/* processes symbolized; later ones get addresses only */

/* What a place in a file is; its strings are its own. */
struct sym_place {
	char *file;		/* the module's file name */
	uint64_t rel;		/* from the module's start */
	struct mo_frame f;	/* pc unset */
};

struct sym_frame {
	uint64_t pc;		/* 0: free slot */
	const struct sym_place *at;	/* NULL: not in a module */
};

struct sym_proc {
	uint32_t pid;
	Dwfl *dwfl;		/* NULL: its /proc could not be read */
	struct sym_frame *tab;	/* open addressing by pc */
	size_t cap, count;
};

struct mo_symbolizer {
	struct sym_proc *procs;
	unsigned n;
	struct sym_place **places;	/* open addressing by (file, rel) */
	size_t cap, count;
};

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	return p;
}

struct mo_symbolizer *mo_symbolizer_new(void)
{
	struct mo_symbolizer *sy = xcalloc(1, sizeof(*sy));

	sy->procs = xcalloc(SYM_PROCS, sizeof(*sy->procs));
	sy->cap = 1024;
	sy->places = xcalloc(sy->cap, sizeof(*sy->places));
	return sy;
}

static char *xstrdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	return d;
}

void mo_symbolizer_free(struct mo_symbolizer *sy)
{
	if (!sy)
		return;
	for (unsigned i = 0; i < sy->n; i++) {
		if (sy->procs[i].dwfl)
			dwfl_end(sy->procs[i].dwfl);
		free(sy->procs[i].tab);
	}
	for (size_t i = 0; i < sy->cap; i++) {
		struct sym_place *pl = sy->places[i];

		if (!pl)
			continue;
		free(pl->file);
		free((char *)pl->f.module);
		free((char *)pl->f.function);
		free((char *)pl->f.file);
		free(pl);
	}
	free(sy->places);
	free(sy->procs);
	free(sy);
}

static struct sym_proc *proc_of(struct mo_symbolizer *sy, uint32_t pid)
{
	struct sym_proc *sp;

	for (unsigned i = 0; i < sy->n; i++)
		if (sy->procs[i].pid == pid)
			return &sy->procs[i];
	if (sy->n == SYM_PROCS)
		return NULL;
	sp = &sy->procs[sy->n++];
	sp->pid = pid;
	sp->cap = 256;
	sp->tab = xcalloc(sp->cap, sizeof(*sp->tab));
	sp->dwfl = dwfl_begin(&proc_callbacks);
	if (sp->dwfl && (dwfl_linux_proc_report(sp->dwfl, (pid_t)pid) != 0 ||
			 dwfl_report_end(sp->dwfl, NULL, NULL) != 0)) {
		dwfl_end(sp->dwfl);
		sp->dwfl = NULL;
	}
	return sp;
}

static size_t slot_of(const struct sym_proc *sp, uint64_t pc)
{
	return (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 20) & (sp->cap - 1);
}

static void grow(struct sym_proc *sp)
{
	struct sym_frame *old = sp->tab;
	size_t ocap = sp->cap;

	sp->cap *= 2;
	sp->tab = xcalloc(sp->cap, sizeof(*sp->tab));
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].pc)
			continue;
		for (j = slot_of(sp, old[i].pc); sp->tab[j].pc; j = (j + 1) & (sp->cap - 1))
			;
		sp->tab[j] = old[i];
	}
	free(old);
}

static uint64_t place_hash(const char *file, uint64_t rel)
{
	uint64_t h = 1469598103934665603ULL ^ rel * 0x9e3779b97f4a7c15ULL;

	for (const char *c = file; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	return h;
}

static struct sym_place **place_slot(struct mo_symbolizer *sy, const char *file,
				     uint64_t rel)
{
	size_t j = (size_t)(place_hash(file, rel) & (sy->cap - 1));

	while (sy->places[j] && (sy->places[j]->rel != rel ||
				 strcmp(sy->places[j]->file, file)))
		j = (j + 1) & (sy->cap - 1);
	return &sy->places[j];
}

/* What PC is in PID's MOD (loaded at START): looked up once per file and place. */
static const struct sym_place *place_of(struct mo_symbolizer *sy, Dwfl_Module *mod,
					const char *file, Dwarf_Addr start, uint64_t pc)
{
	struct sym_place **slot = place_slot(sy, file, pc - start), *pl;
	GElf_Off off = 0;
	GElf_Sym sym;
	Dwfl_Line *line;
	const char *name, *src;
	int lineno = 0;

	if (*slot)
		return *slot;
	if (2 * (sy->count + 1) > sy->cap) {
		struct sym_place **old = sy->places;
		size_t ocap = sy->cap;

		sy->cap *= 2;
		sy->places = xcalloc(sy->cap, sizeof(*sy->places));
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				*place_slot(sy, old[i]->file, old[i]->rel) = old[i];
		free(old);
		slot = place_slot(sy, file, pc - start);
	}
	pl = xcalloc(1, sizeof(*pl));
	pl->file = xstrdup(file);
	pl->rel = pc - start;
	pl->f.module = xstrdup(file);
	name = dwfl_module_addrinfo(mod, pc - 1, &off, &sym, NULL, NULL, NULL);
	if (name) {
		pl->f.function = xstrdup(name);
		pl->f.offset = off + 1;
	}
	if ((line = dwfl_module_getsrc(mod, pc - 1)) &&
	    (src = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL))) {
		pl->f.file = xstrdup(src);
		pl->f.line = lineno > 0 ? (unsigned)lineno : 0;
	}
	*slot = pl;
	sy->count++;
	return pl;
}

static const struct sym_place *lookup(struct mo_symbolizer *sy, struct sym_proc *sp,
				      uint64_t pc)
{
	Dwfl_Module *mod;
	Dwarf_Addr start = 0;
	const char *file;

	if (!sp->dwfl || !(mod = dwfl_addrmodule(sp->dwfl, pc - 1)))
		return NULL;
	file = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (!file)
		return NULL;
	return place_of(sy, mod, file, start, pc);
}

static void frame_of(struct mo_symbolizer *sy, struct sym_proc *sp, uint64_t pc,
		     struct mo_frame *f)
{
	uint64_t key = pc ? pc : 1;	/* 0 marks a free slot */
	size_t j;

	for (j = slot_of(sp, key); sp->tab[j].pc; j = (j + 1) & (sp->cap - 1))
		if (sp->tab[j].pc == key)
			break;
	if (!sp->tab[j].pc) {
		if (2 * (sp->count + 1) > sp->cap) {
			grow(sp);
			for (j = slot_of(sp, key); sp->tab[j].pc; j = (j + 1) & (sp->cap - 1))
				;
		}
		sp->tab[j].pc = key;
		sp->tab[j].at = lookup(sy, sp, pc);
		sp->count++;
	}
	if (sp->tab[j].at)
		*f = sp->tab[j].at->f;
	else
		memset(f, 0, sizeof(*f));
	f->pc = pc;
}

/*
 * The library's own send path, between the program's call and the
 * capture (mach/send.c, mo_link_send_stack): not the sender's business.
 */
static int in_send_path(const struct mo_frame *f)
{
	static const char *const names[] = {
		"mo_link_send", "mo_kmsg_send", "msg_send", "mach_msg",
		"mach_msg_trap",
	};

	if (!f->function)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(f->function, names[i]))
			return 1;
	return 0;
}

struct mo_stack *mo_stack_new(struct mo_symbolizer *sy, uint32_t pid,
			      uint32_t tid, const uint64_t *pcs, unsigned n)
{
	struct mo_stack *st = malloc(sizeof(*st));

	if (!st) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	st->pid = pid;
	st->tid = tid;
	st->n = n < MO_STACK_MAX ? n : MO_STACK_MAX;
	for (unsigned i = 0; i < st->n; i++)
		st->f[i] = (struct mo_frame){ .pc = pcs[i] };
	st->sy = sy;
	return st;
}

/* Symbolizes ST if that is still to be done (mo_stack_new). */
static void resolve(const struct mo_stack *cst)
{
	struct mo_stack *st = (struct mo_stack *)cst;	/* filled in once, in place */
	struct sym_proc *sp;
	unsigned n = st->n;
	int leading = 1;

	if (!st->sy)
		return;
	sp = proc_of(st->sy, st->pid);
	st->n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mo_frame f = { .pc = st->f[i].pc };

		if (sp)
			frame_of(st->sy, sp, f.pc, &f);
		if (leading && in_send_path(&f))
			continue;
		leading = 0;
		st->f[st->n++] = f;
	}
	st->sy = NULL;
}

void mo_stack_text(struct strbuf *sb, const struct mo_stack *st,
		   int hide_addresses)
{
	resolve(st);
	for (unsigned i = 0; i < st->n; i++) {
		const struct mo_frame *f = &st->f[i];

		strbuf_addstr(sb, " > ");
		strbuf_addstr(sb, f->module ? f->module : "?");
		if (f->function) {
			strbuf_addch(sb, '(');
			strbuf_addstr(sb, f->function);
			if (!hide_addresses)
				strbuf_addf(sb, "+0x%llx", (unsigned long long)f->offset);
			strbuf_addch(sb, ')');
		}
		if (f->file)
			strbuf_addf(sb, " %s:%u", f->file, f->line);
		if (!hide_addresses)
			strbuf_addf(sb, " [0x%llx]", (unsigned long long)f->pc);
		strbuf_addch(sb, '\n');
	}
}

static void json_name(struct strbuf *sb, const char *key, const char *v)
{
	strbuf_addf(sb, ",\"%s\":", key);
	if (v)
		strbuf_addjson(sb, v);
	else
		strbuf_addstr(sb, "null");
}

void mo_stack_json(struct strbuf *sb, const struct mo_stack *st,
		   int hide_addresses)
{
	resolve(st);
	strbuf_addch(sb, '{');
	if (!hide_addresses)
		strbuf_addf(sb, "\"pid\":%u,\"tid\":%u,", st->pid, st->tid);
	strbuf_addstr(sb, "\"frames\":[");
	for (unsigned i = 0; i < st->n; i++) {
		const struct mo_frame *f = &st->f[i];

		strbuf_addstr(sb, i ? ",{" : "{");
		if (hide_addresses)
			strbuf_addstr(sb, "\"pc\":null");
		else
			strbuf_addf(sb, "\"pc\":\"0x%llx\",\"offset\":%llu",
				    (unsigned long long)f->pc,
				    (unsigned long long)f->offset);
		json_name(sb, "module", f->module);
		json_name(sb, "function", f->function);
		json_name(sb, "file", f->file);
		strbuf_addf(sb, ",\"line\":%u}", f->line);
	}
	strbuf_addstr(sb, "]}");
}


static size_t name_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 255 ? 255 : n;
}

/* doc/recording.md, "The sender's stack": 16 bytes, then each frame's 32 and its names. */
void mo_stack_encode(struct strbuf *sb, const struct mo_stack *st)
{
	size_t start = sb->len;
	uint8_t h[16] = { 0 };

	resolve(st);
	put32(h, st->pid);
	put32(h + 4, st->tid);
	put32(h + 8, st->n);
	strbuf_add(sb, h, sizeof(h));
	for (unsigned i = 0; i < st->n; i++) {
		const struct mo_frame *f = &st->f[i];
		const char *names[3] = { f->module, f->function, f->file };
		uint8_t e[32] = { 0 };
		size_t len = 0;

		put64(e, f->pc);
		put64(e + 8, f->offset);
		put32(e + 16, f->line);
		for (int k = 0; k < 3; k++) {
			put16(e + 20 + 2 * k, (uint16_t)name_len(names[k]));
			len += name_len(names[k]);
		}
		strbuf_add(sb, e, sizeof(e));
		for (int k = 0; k < 3; k++)
			strbuf_add(sb, names[k] ? names[k] : "", name_len(names[k]));
		while (len++ & 7)
			strbuf_addch(sb, 0);
	}
	put32((uint8_t *)sb->buf + start + 12, (uint32_t)(sb->len - start));
}

long mo_stack_decode(const uint8_t *p, size_t n, struct mo_stack *st,
		     char *names, char *err, size_t errlen)
{
	size_t at = 16, used = 0, total, head;

	if (n < 16) {
		snprintf(err, errlen, "stack: %zu bytes, not even its 16-byte head", n);
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->sy = NULL;
	st->pid = get32(p);
	st->tid = get32(p + 4);
	st->n = get32(p + 8);
	total = get32(p + 12);
	if (st->n > MO_STACK_MAX) {
		snprintf(err, errlen, "stack at byte 8: %u frames (at most %u)", st->n,
			 MO_STACK_MAX);
		return -1;
	}
	if (total < 16 || total > n || (total & 7)) {
		snprintf(err, errlen, "stack at byte 12: length %zu (%zu bytes left, a multiple of 8)",
			 total, n);
		return -1;
	}
	for (unsigned i = 0; i < st->n; i++) {
		struct mo_frame *f = &st->f[i];
		const char **out[3] = { &f->module, &f->function, &f->file };
		size_t len = 0;

		if (total - at < 32) {
			snprintf(err, errlen, "stack at byte %zu: frame %u runs past the block",
				 at, i);
			return -1;
		}
		f->pc = get64(p + at);
		f->offset = get64(p + at + 8);
		f->line = get32(p + at + 16);
		for (int k = 0; k < 3; k++) {
			size_t l = get16(p + at + 20 + 2 * k);

			if (l > 255) {
				snprintf(err, errlen, "stack at byte %zu: a name of %zu bytes (at most 255)",
					 at + 20 + 2 * k, l);
				return -1;
			}
			len += l;
		}
		if (total - at - 32 < ((len + 7) & ~(size_t)7)) {
			snprintf(err, errlen, "stack at byte %zu: frame %u's names run past the block",
				 at, i);
			return -1;
		}
		head = at;
		at += 32;
		for (int k = 0; k < 3; k++) {
			size_t l = get16(p + head + 20 + 2 * k);

			if (l) {
				memcpy(names + used, p + at, l);
				names[used + l] = '\0';
				*out[k] = names + used;
				used += l + 1;
			}
			at += l;
		}
		at = (at + 7) & ~(size_t)7;
	}
	if (at != total) {
		snprintf(err, errlen, "stack at byte 12: length %zu, its frames %zu", total, at);
		return -1;
	}
	return (long)total;
}
