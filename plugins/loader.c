/*
 * plugins/loader.c: plugins checked with libelf, loaded with dlopen, fed
 * the trace's event stream.
 *
 * The checks come before dlopen because loading runs the object's
 * constructors: a file that is not a plugin of this ABI must never run.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/render.h"
#include "plugins/loader.h"
#include "plugins/motrace-plugin.h"
#include "util/strbuf.h"

#ifndef MOTRACE_PLUGIN_DIR
#define MOTRACE_PLUGIN_DIR "/usr/local/lib/motrace/plugins"
#endif

#if defined(__x86_64__)
#define OWN_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define OWN_MACHINE EM_AARCH64
#elif defined(__i386__)
#define OWN_MACHINE EM_386
#endif
#define OWN_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

struct loaded {
	char *path;
	void *dl;
	struct motrace_plugin p;
	int failed;		/* a callback failed: unload at the next chance */
};

struct mo_plugins {
	struct mo_trace *trace;
	struct mo_engine *engine;	/* whose messages the plugins judge */
	struct loaded *v;
	unsigned n, a;
	struct motrace_host host;
	struct strbuf text;
	struct mo_render_opts ropts;
	int busy;		/* inside a callback: unload later */
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* Refuses a file or folder that someone else may write or replace. */
static int check_owner(const char *what, const char *path, int dir,
		       char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!dir && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s %s belongs to uid %u, neither you nor root",
			 what, path, (unsigned)st.st_uid);
		return -1;
	}
	/* A sticky folder (/tmp) lets no one else replace what is ours. */
	if ((st.st_mode & S_IWOTH && !(dir && st.st_mode & S_ISVTX)) ||
	    (st.st_mode & S_IWGRP && !(dir && st.st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s %s is writable by others (mode %04o)",
			 what, path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The value of the 4-byte object SYM, read from the file. */
static int read_u32(Elf *e, const GElf_Sym *sym, uint32_t *out)
{
	Elf_Scn *scn = elf_getscn(e, sym->st_shndx);
	GElf_Shdr sh;
	Elf_Data *data;
	uint64_t off;

	if (!scn || !gelf_getshdr(scn, &sh) || sym->st_size < 4)
		return -1;
	if (sh.sh_type == SHT_NOBITS) {
		*out = 0;
		return 0;
	}
	data = elf_getdata(scn, NULL);
	if (!data || sym->st_value < sh.sh_addr)
		return -1;
	off = sym->st_value - sh.sh_addr;
	if (off > data->d_size || data->d_size - off < 4)
		return -1;
	memcpy(out, (const char *)data->d_buf + off, 4);
	return 0;
}

int mo_plugin_check(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	int fd = -1, found_reg = 0, found_abi = 0, rc = -1;
	uint32_t abi = 0;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (check_owner("folder", dirname(copy), 1, err, errlen) < 0 ||
	    check_owner("file", path, 0, err, errlen) < 0)
		goto out;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		snprintf(err, errlen, "%s is not an ELF file", path);
		goto out;
	}
	if (!gelf_getehdr(e, &eh)) {
		snprintf(err, errlen, "%s: %s", path, elf_errmsg(-1));
		goto out;
	}
	if (gelf_getclass(e) != OWN_CLASS) {
		snprintf(err, errlen, "%s is a %d-bit object, motrace is %d-bit", path,
			 gelf_getclass(e) == ELFCLASS64 ? 64 : 32,
			 OWN_CLASS == ELFCLASS64 ? 64 : 32);
		goto out;
	}
#ifdef OWN_MACHINE
	if (eh.e_machine != OWN_MACHINE) {
		snprintf(err, errlen, "%s is for another machine (e_machine %u, motrace's is %u)",
			 path, eh.e_machine, OWN_MACHINE);
		goto out;
	}
#endif
	if (eh.e_type != ET_DYN) {
		snprintf(err, errlen, "%s is not a shared object (e_type %u)", path,
			 eh.e_type);
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && sh.sh_entsize &&
		     i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			if (!strcmp(name, "motrace_plugin_register") &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC)
				found_reg = 1;
			else if (!strcmp(name, "motrace_plugin_abi") &&
				 GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
				 read_u32(e, &sym, &abi) == 0)
				found_abi = 1;
		}
	}
	if (!found_reg) {
		snprintf(err, errlen, "%s exports no motrace_plugin_register function",
			 path);
		goto out;
	}
	if (!found_abi) {
		snprintf(err, errlen, "%s exports no motrace_plugin_abi", path);
		goto out;
	}
	if (abi != MOTRACE_PLUGIN_ABI) {
		snprintf(err, errlen, "%s wants plugin ABI %u, this motrace has %u",
			 path, abi, MOTRACE_PLUGIN_ABI);
		goto out;
	}
	rc = 0;
out:
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* Where NAME is: a path as given, else NAME.so in the plugin folders. */
static char *find(const char *name)
{
	const char *env = getenv("MOTRACE_PLUGIN_PATH");
	const char *home = getenv("HOME");
	char *dirs[4] = { NULL, NULL, NULL, NULL };
	char *path = NULL, self[4096];
	ssize_t n;

	if (strchr(name, '/'))
		return strdup(name);
	if (env && *env)
		dirs[0] = strdup(env);
	if (home && asprintf(&dirs[1], "%s/.local/lib/motrace/plugins", home) < 0)
		dirs[1] = NULL;
	dirs[2] = strdup(MOTRACE_PLUGIN_DIR);
	/* Beside the program, as the build tree has them (build/plugins). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (asprintf(&dirs[3], "%s/plugins", dirname(self)) < 0)
			dirs[3] = NULL;
	}
	for (int i = 0; i < 4 && !path; i++) {
		char *p;

		if (!dirs[i])
			continue;
		if (asprintf(&p, "%s/%s.so", dirs[i], name) < 0)
			continue;
		if (access(p, F_OK) == 0)
			path = p;
		else
			free(p);
	}
	for (int i = 0; i < 4; i++)
		free(dirs[i]);
	return path;
}

static void host_diag(void *ctx, const char *name, unsigned kernel,
		      unsigned object, uint64_t offset, const char *text)
{
	struct mo_plugins *ps = ctx;
	struct mo_diag d = { .name = name, .kernel = kernel, .object = object,
			     .offset = offset };

	snprintf(d.text, sizeof(d.text), "%s", text);
	mo_trace_diag(ps->trace, &d);
}

static void host_note(void *ctx, const char *text)
{
	struct mo_plugins *ps = ctx;

	mo_trace_note(ps->trace, 0, "%s", text);
}

static void on_verdict(void *ctx, struct mo_pmsg *m, struct mo_verdict *v);

/*
 * The engine asks the plugins for a verdict only while one of them gives
 * verdicts: with none, no message need wait for one (mo_engine_judging).
 */
static void hook_engine(struct mo_plugins *ps)
{
	int any = 0;

	if (!ps->engine)
		return;
	for (unsigned i = 0; i < ps->n; i++)
		any |= ps->v[i].p.verdict != NULL;
	ps->engine->verdict = any ? on_verdict : NULL;
	ps->engine->verdict_ctx = ps;
}

static void unload_one(struct mo_plugins *ps, unsigned i)
{
	struct loaded *l = &ps->v[i];

	if (l->p.stop)
		l->p.stop(l->p.ctx);
	dlclose(l->dl);
	free(l->path);
	memmove(ps->v + i, ps->v + i + 1, (ps->n - i - 1) * sizeof(*ps->v));
	ps->n--;
	hook_engine(ps);
}

/* A callback of plugin I failed with ERR: said, and it goes. */
static void failed(struct mo_plugins *ps, unsigned i, const char *what,
		   const char *err)
{
	ps->v[i].failed = 1;
	mo_trace_note(ps->trace, 0, "plugin %s: %s: %s; unloaded", ps->v[i].p.name,
		      what, err[0] ? err : "failed");
}

static void sweep(struct mo_plugins *ps)
{
	if (ps->busy)
		return;
	for (unsigned i = ps->n; i-- > 0;)
		if (ps->v[i].failed)
			unload_one(ps, i);
}

/* What a plugin sees of an event: the call's fields, as decoded once. */
static void to_public(struct mo_plugins *ps, const struct mo_event *ev,
		      struct motrace_event *pe)
{
	const struct mo_decoded *d = ev->d;
	const struct mo_call *c = &d->call;

	memset(pe, 0, sizeof(*pe));
	pe->kind = (int)ev->kind;
	pe->dir = ev->dir == MO_K2M ? MOTRACE_K2M : MOTRACE_M2K;
	pe->kernel = ev->kernel;
	pe->object = ev->object;
	pe->t_ns = ev->t;
	pe->delay_ns = ev->delay_ns;
	pe->id = d->h.id;
	pe->name = d->schema ? d->schema->name : NULL;
	pe->msg = ev->buf;
	pe->len = ev->len;
	strbuf_reset(&ps->text);
	mo_render_text(&ps->text, ev->buf, d, &ps->ropts);
	pe->text = ps->text.buf;
	if (!d->schema || d->status != MO_OK)
		return;
	pe->offset = c->offset;
	pe->length = c->length;
	pe->access = c->has & MO_CALL_ACCESS ? c->access : c->lock;
	pe->should_return = c->should_return;
	pe->should_flush = c->should_flush;
	pe->has = (c->has & MO_CALL_OFFSET ? MOTRACE_HAS_OFFSET : 0) |
		  (c->has & (MO_CALL_LENGTH | MO_CALL_DATA) ? MOTRACE_HAS_LENGTH : 0) |
		  (c->has & (MO_CALL_ACCESS | MO_CALL_LOCK) ? MOTRACE_HAS_ACCESS : 0) |
		  (c->has & MO_CALL_RETURN ? MOTRACE_HAS_RETURN : 0) |
		  (c->has & MO_CALL_FLUSH ? MOTRACE_HAS_FLUSH : 0) |
		  (c->has & MO_CALL_REPLY && c->reply ? MOTRACE_HAS_REPLY : 0);
}

static void on_event(void *ctx, const struct mo_event *ev)
{
	struct mo_plugins *ps = ctx;
	struct motrace_event pe;
	int have = 0;
	char err[200];

	ps->busy++;
	for (unsigned i = 0; i < ps->n; i++) {
		struct loaded *l = &ps->v[i];

		if (!l->p.event || l->failed)
			continue;
		if (!have) {
			to_public(ps, ev, &pe);
			have = 1;
		}
		err[0] = '\0';
		if (l->p.event(l->p.ctx, &pe, err, sizeof(err)) < 0)
			failed(ps, i, "event", err);
	}
	ps->busy--;
	sweep(ps);
}

static void on_diag(void *ctx, const struct mo_diag *d)
{
	struct mo_plugins *ps = ctx;
	struct motrace_diag pd = { d->name, d->text, d->kernel, d->object,
				   d->offset };
	char err[200];

	ps->busy++;
	for (unsigned i = 0; i < ps->n; i++) {
		struct loaded *l = &ps->v[i];

		err[0] = '\0';
		if (l->p.diag && !l->failed &&
		    l->p.diag(l->p.ctx, &pd, err, sizeof(err)) < 0)
			failed(ps, i, "diag", err);
	}
	ps->busy--;
	sweep(ps);
}

static void on_verdict(void *ctx, struct mo_pmsg *m, struct mo_verdict *v)
{
	struct mo_plugins *ps = ctx;
	struct mo_event ev = {
		.kind = MO_EV_FORWARDED, .dir = m->dir, .kernel = m->kernel,
		.object = m->object, .t = m->t,
		.buf = (const uint8_t *)m->bytes.buf, .len = m->bytes.len,
		.d = &m->d,
	};
	char err[200];

	ps->busy++;
	for (unsigned i = 0; i < ps->n; i++) {
		struct loaded *l = &ps->v[i];
		struct motrace_verdict pv = { .action = MOTRACE_PASS };
		struct motrace_event pe;

		if (!l->p.verdict || l->failed)
			continue;
		ev.buf = (const uint8_t *)m->bytes.buf;
		to_public(ps, &ev, &pe);
		err[0] = '\0';
		if (l->p.verdict(l->p.ctx, &pe, &pv, err, sizeof(err)) < 0) {
			failed(ps, i, "verdict", err);
			continue;
		}
		for (unsigned k = 0; k < pv.nset && k < 8; k++)
			if (mo_engine_rewrite(ps->engine, m, pv.set[k].field,
					      pv.set[k].value, err,
					      sizeof(err)) < 0) {
				failed(ps, i, "rewrite", err);
				break;
			}
		switch (pv.action) {
		case MOTRACE_DROP:
			v->drop = 1;
			break;
		case MOTRACE_DELAY:
			if (pv.delay_ns > v->delay)
				v->delay = pv.delay_ns;
			break;
		case MOTRACE_HOLD:
			v->hold = 1;
			v->hold_for = pv.hold_ns;
			break;
		}
	}
	ps->busy--;
	sweep(ps);
}

struct mo_plugins *mo_plugins_new(struct mo_trace *tr)
{
	struct mo_plugins *ps = xrealloc(NULL, sizeof(*ps));
	struct mo_subscriber s = { .event = on_event, .diag = on_diag };

	memset(ps, 0, sizeof(*ps));
	ps->trace = tr;
	ps->host.abi = MOTRACE_PLUGIN_ABI;
	ps->host.ctx = ps;
	ps->host.diag = host_diag;
	ps->host.note = host_note;
	ps->ropts.hide_addresses = 1;
	strbuf_init(&ps->text, 256);
	s.ctx = ps;
	mo_trace_subscribe(tr, &s);
	return ps;
}

void mo_plugins_attach(struct mo_plugins *ps, struct mo_engine *e)
{
	ps->engine = e;
	hook_engine(ps);
}

int mo_plugin_load(struct mo_plugins *ps, const char *spec, char *err,
		   size_t errlen)
{
	char *name = strdup(spec), *arg, *path;
	int (*reg)(struct motrace_plugin *, const struct motrace_host *);
	struct loaded l = { 0 };

	if (!name) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	arg = strchr(name, '=');
	if (arg)
		*arg++ = '\0';
	path = find(name);
	if (!path) {
		snprintf(err, errlen, "no plugin '%s' (looked in $MOTRACE_PLUGIN_PATH, ~/.local/lib/motrace/plugins, %s and beside motrace)",
			 name, MOTRACE_PLUGIN_DIR);
		free(name);
		return -1;
	}
	if (mo_plugin_check(path, err, errlen) < 0)
		goto fail;
	l.path = path;
	l.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!l.dl) {
		snprintf(err, errlen, "%s", dlerror());
		goto fail;
	}
	*(void **)&reg = dlsym(l.dl, "motrace_plugin_register");
	if (!reg || reg(&l.p, &ps->host) < 0 || !l.p.name) {
		snprintf(err, errlen, "%s: its register function failed", path);
		goto fail;
	}
	for (unsigned i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].p.name, l.p.name)) {
			snprintf(err, errlen, "a plugin named '%s' is loaded already",
				 l.p.name);
			if (l.p.stop)
				l.p.stop(l.p.ctx);
			goto fail;
		}
	if (l.p.start) {
		char e2[200] = "";

		if (l.p.start(l.p.ctx, arg, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "plugin %s: %s", l.p.name,
				 e2[0] ? e2 : "it failed to start");
			if (l.p.stop)
				l.p.stop(l.p.ctx);
			goto fail;
		}
	}
	if (ps->n == ps->a) {
		ps->a = ps->a ? 2 * ps->a : 4;
		ps->v = xrealloc(ps->v, ps->a * sizeof(*ps->v));
	}
	ps->v[ps->n++] = l;
	hook_engine(ps);
	free(name);
	return 0;
fail:
	if (l.dl)
		dlclose(l.dl);
	free(path);
	free(name);
	return -1;
}

int mo_plugin_unload(struct mo_plugins *ps, const char *name, char *err,
		     size_t errlen)
{
	for (unsigned i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].p.name, name)) {
			if (ps->busy)
				ps->v[i].failed = 1;
			else
				unload_one(ps, i);
			return 0;
		}
	snprintf(err, errlen, "no plugin '%s' is loaded", name);
	return -1;
}

void mo_plugins_list(const struct mo_plugins *ps, FILE *out)
{
	if (!ps->n)
		fprintf(out, "no plugins loaded\n");
	for (unsigned i = 0; i < ps->n; i++)
		fprintf(out, "%-12s %s (%s)\n", ps->v[i].p.name,
			ps->v[i].p.summary ? ps->v[i].p.summary : "",
			ps->v[i].path);
}

unsigned mo_plugins_count(const struct mo_plugins *ps)
{
	return ps->n;
}

int mo_plugins_command(struct mo_plugins *ps, int argc, char **argv,
		       FILE *out, int *status, char *err, size_t errlen)
{
	for (unsigned i = 0; i < ps->n; i++) {
		const struct motrace_plugin_command *c = ps->v[i].p.commands;

		for (; c && c->name; c++) {
			if (strcmp(c->name, argv[0]))
				continue;
			err[0] = '\0';
			ps->busy++;
			*status = c->run(ps->v[i].p.ctx, argc, argv, out, err,
					 errlen);
			ps->busy--;
			if (*status < 0 && !err[0])
				snprintf(err, errlen, "%s failed", c->name);
			return 1;
		}
	}
	return 0;
}

void mo_plugins_each_command(const struct mo_plugins *ps,
			     void (*fn)(void *ctx, const char *name,
					const char *usage, const char *help),
			     void *ctx)
{
	for (unsigned i = 0; i < ps->n; i++)
		for (const struct motrace_plugin_command *c = ps->v[i].p.commands;
		     c && c->name; c++)
			fn(ctx, c->name, c->usage ? c->usage : "",
			   c->help ? c->help : "");
}

void mo_plugins_finish(struct mo_plugins *ps, FILE *out)
{
	char err[200];

	ps->busy++;
	for (unsigned i = 0; i < ps->n; i++) {
		struct loaded *l = &ps->v[i];

		err[0] = '\0';
		if (l->p.finish && !l->failed &&
		    l->p.finish(l->p.ctx, out, err, sizeof(err)) < 0)
			failed(ps, i, "finish", err);
	}
	ps->busy--;
	sweep(ps);
}

void mo_plugins_free(struct mo_plugins *ps)
{
	if (!ps)
		return;
	/* The engine may be gone already: the plugins no longer judge. */
	ps->engine = NULL;
	while (ps->n)
		unload_one(ps, ps->n - 1);
	free(ps->v);
	strbuf_release(&ps->text);
	free(ps);
}
