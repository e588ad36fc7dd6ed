/*
 * cli/batch.c: running commands while the proxy runs.
 *
 * The proxy's loop calls batch_step() between messages: commands run in
 * order; one that waits (wait, expect) keeps its place until its time or
 * its message comes, while the traffic goes on.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "decode/render.h"
#include "plugins/loader.h"

#define MAX_SEEN 100000

void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->out = stdout;
	strbuf_init(&b->reports, 0);
}

void batch_release(struct batch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		free(b->lines[i].text);
	free(b->lines);
	for (size_t i = 0; i < b->nseen; i++)
		free(b->seen[i]);
	free(b->seen);
	free(b->pattern);
	dbg_points_release(&b->points);
	for (size_t i = 0; i < b->nstops; i++)
		free(b->stops[i].text);
	free(b->stops);
	strbuf_release(&b->reports);
	free(b->last_text);
	free(b->kernels);
	mo_pmsg_free(b->rec_msg);
	free(b->rec_text);
	memset(b, 0, sizeof(*b));
}

void batch_add(struct batch *b, const char *text, const char *origin,
	       unsigned lineno)
{
	b->lines = realloc(b->lines, (b->n + 1) * sizeof(*b->lines));
	if (!b->lines) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	b->lines[b->n].text = strdup(text);
	b->lines[b->n].origin = origin;
	b->lines[b->n].lineno = lineno;
	b->n++;
}

int batch_add_file(struct batch *b, const char *path)
{
	struct strbuf in = STRBUF_INIT;
	FILE *f = fopen(path, "r");
	unsigned lineno = 0;
	char *line, *next;

	if (!f) {
		fprintf(stderr, "motrace: cannot open script '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	if (strbuf_fread_all(&in, f) < 0) {
		fprintf(stderr, "motrace: cannot read script '%s': %s\n", path,
			strerror(errno));
		fclose(f);
		strbuf_release(&in);
		return -1;
	}
	fclose(f);
	for (line = in.buf; line && *line; line = next) {
		char *p;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p && *p != '#')
			batch_add(b, p, path, lineno);
	}
	strbuf_release(&in);
	return 0;
}

static int batch_run(struct batch *b, uint64_t now);

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* What EV tells of its kernel: its object and the names of its ports. */
static void learn_kernel(struct batch *b, const struct mo_event *ev)
{
	const struct mo_call *c = &ev->d->call;
	struct batch_kernel *k;

	if (ev->kernel == MO_KERNEL_UNKNOWN || ev->kernel > 65535)
		return;
	if (ev->kernel >= b->nkernels) {
		size_t n = ev->kernel + 1;

		b->kernels = realloc(b->kernels, n * sizeof(*b->kernels));
		if (!b->kernels) {
			fputs("motrace: out of memory\n", stderr);
			abort();
		}
		memset(b->kernels + b->nkernels, 0,
		       (n - b->nkernels) * sizeof(*b->kernels));
		b->nkernels = n;
	}
	k = &b->kernels[ev->kernel];
	/* motrace's own messages, and the answers it keeps, name its ports. */
	if (ev->kind == MO_EV_INJECTED || ev->kind == MO_EV_CONSUMED)
		return;
	if (ev->object != MO_OBJECT_UNKNOWN) {
		k->known = 1;
		k->object = ev->object;
	}
	/*
	 * The names the log shows, which are those of the bytes: the
	 * decoding may be of the message as it came, before motrace renamed
	 * its ports (tracer/proxy.c pass_on).
	 */
	if (ev->d->abi != MO_ABI_X86_64 || !ev->d->have_header || ev->len < 20)
		return;
	if (ev->dir == MO_K2M) {
		if (c->has & MO_CALL_CONTROL)
			k->ctl = (uint32_t)mo_arg_u64(ev->d, ev->buf,
						      "memory_control", k->ctl);
		k->obj = get32(ev->buf + (ev->d->sent_view ? 8 : 16));
	} else if (c->has & MO_CALL_CONTROL) {
		k->ctl = get32(ev->buf + (ev->d->sent_view ? 8 : 16));
	}
}

/* Every event's text, kept for expect. */
static void listener(void *ctx, const struct mo_event *ev, const char *text)
{
	struct batch *b = ctx;

	learn_kernel(b, ev);
	/* The message before this one has reached the model by now. */
	dbg_watch_check(b, b->last_text);
	free(b->last_text);
	b->last_text = strdup(text);
	if (b->nseen == MAX_SEEN) {
		/* Forget the oldest half that expect has passed over. */
		size_t drop = b->next_seen < MAX_SEEN / 2 ? b->next_seen
							  : MAX_SEEN / 2;

		for (size_t i = 0; i < drop; i++)
			free(b->seen[i]);
		memmove(b->seen, b->seen + drop, (b->nseen - drop) * sizeof(char *));
		b->nseen -= drop;
		b->next_seen -= drop;
		if (b->nseen == MAX_SEEN) {
			free(b->seen[0]);
			memmove(b->seen, b->seen + 1, (b->nseen - 1) * sizeof(char *));
			b->nseen--;
			if (b->next_seen)
				b->next_seen--;
		}
	}
	if (b->nseen == b->aseen) {
		b->aseen = b->aseen ? 2 * b->aseen : 256;
		b->seen = realloc(b->seen, b->aseen * sizeof(char *));
		if (!b->seen) {
			fputs("motrace: out of memory\n", stderr);
			abort();
		}
	}
	b->seen[b->nseen++] = strdup(text);
}

/*
 * A command of a plugin's: BATCH_GOING or BATCH_FAILED when one ran,
 * -1 when no plugin has NAME.
 */
static int plugin_command(struct batch *b, const struct batch_line *l,
			  const char *name, const char *args)
{
	char *copy = strdup(args), *argv[32], *p, err[200];
	int argc = 0, status = 0;

	if (!copy)
		return BATCH_FAILED;
	argv[argc++] = (char *)name;
	for (p = strtok(copy, " \t"); p && argc < 31; p = strtok(NULL, " \t"))
		argv[argc++] = p;
	argv[argc] = NULL;
	if (!mo_plugins_command(b->plugins, argc, argv, b->out, &status, err,
				sizeof(err))) {
		free(copy);
		return -1;
	}
	free(copy);
	if (status < 0) {
		fprintf(stderr, "motrace: %s:%u: %s: %s\n", l->origin, l->lineno,
			name, err);
		return BATCH_FAILED;
	}
	return BATCH_GOING;
}

int batch_step(struct batch *b, uint64_t now)
{
	int r;

	/* What commands print follows what the log said before them. */
	if (b->trace)
		mo_trace_flush(b->trace);
	r = batch_run(b, now);
	fflush(b->out);
	return r;
}

/* The engine asks the breakpoints about each message. */
static unsigned engine_judge(void *ctx, const struct mo_pmsg *m)
{
	struct mo_event ev = {
		.dir = m->dir, .kernel = m->kernel, .object = m->object,
		.t = m->t, .buf = (const uint8_t *)m->bytes.buf,
		.len = m->bytes.len, .d = &m->d,
	};

	return dbg_points_judge(ctx, &ev);
}

/* Told between messages, after the log: see tell_stops(). */
static void engine_stopped(void *ctx, unsigned point, unsigned id,
			   const struct mo_pmsg *m)
{
	struct batch *b = ctx;
	struct mo_render_opts ro = { 0 };
	struct strbuf sb = STRBUF_INIT;

	/* As the log shows it: no addresses under --no-time. */
	ro.hide_addresses = b->trace && mo_trace_options(b->trace)->no_time;
	strbuf_addf(&sb, "k%u%c ", m->kernel, m->dir == MO_K2M ? '>' : '<');
	mo_render_text(&sb, (const uint8_t *)m->bytes.buf, &m->d, &ro);
	batch_stopped(b, point, id, m->kernel, sb.buf);
	strbuf_release(&sb);
}

void batch_stopped(struct batch *b, unsigned point, unsigned id,
		   unsigned kernel, const char *text)
{
	b->stops = realloc(b->stops, (b->nstops + 1) * sizeof(*b->stops));
	if (!b->stops) {
		fputs("motrace: out of memory\n", stderr);
		abort();
	}
	b->stops[b->nstops].point = point;
	b->stops[b->nstops].id = id;
	b->stops[b->nstops].kernel = kernel;
	b->stops[b->nstops].text = strdup(text);
	b->nstops++;
}

/*
 * Runs line L: a command of the table or of a plugin. Returns BATCH_*;
 * a failure is said, naming the line.
 */
static int run_line(struct batch *b, const struct batch_line *l,
		    uint64_t now)
{
	const struct dbg_cmd *cmd;
	char name[32];
	const char *args;
	size_t k = 0;
	int r;

	for (args = l->text; *args && !isspace((unsigned char)*args) &&
			     k + 1 < sizeof(name); args++)
		name[k++] = *args;
	name[k] = '\0';
	while (isspace((unsigned char)*args))
		args++;
	if (b->plugins && !dbg_find_exact(name)) {
		int pr = plugin_command(b, l, name, args);

		if (pr >= 0) {
			if (pr == BATCH_FAILED && !b->status && !b->interactive)
				b->status = 1;
			return pr;
		}
	}
	cmd = dbg_find(name);
	if (!cmd && !strcmp(name, "end")) {
		fprintf(stderr, "motrace: %s:%u: end: no 'commands N' to end\n",
			l->origin, l->lineno);
		r = BATCH_FAILED;
	} else if (!cmd) {
		fprintf(stderr, "motrace: %s:%u: ", l->origin, l->lineno);
		dbg_unknown(name, stderr);
		r = BATCH_FAILED;
	} else if (b->in_commands && (!strcmp(cmd->name, "wait") ||
				      !strcmp(cmd->name, "expect"))) {
		fprintf(stderr, "motrace: %s:%u: %s cannot run from a breakpoint's commands (they run at the stop, which nothing else may wait in)\n",
			l->origin, l->lineno, cmd->name);
		r = BATCH_FAILED;
	} else {
		r = cmd->run(b, args, now);
		/* At the prompt the error said enough. */
		if (r == BATCH_FAILED && !b->interactive)
			fprintf(stderr, "motrace: %s:%u: '%s' failed\n",
				l->origin, l->lineno, l->text);
	}
	if (r == BATCH_FAILED && !b->status && !b->interactive)
		b->status = 1;
	return r;
}

/*
 * What breakpoints stopped and watchpoints saw since the last look; a
 * stop's commands run then, as gdb's do, before the rest of the script.
 * Returns BATCH_GOING, or what a command returned that ends the script.
 */
static int tell_stops(struct batch *b, uint64_t now)
{
	int r = BATCH_GOING;

	dbg_watch_check(b, b->last_text);
	if (b->reports.len) {
		fputs(b->reports.buf, b->out);
		strbuf_reset(&b->reports);
	}
	while (b->nstops && r == BATCH_GOING) {
		struct batch_stop s = b->stops[0];
		const struct dbg_point *p = dbg_point(b, s.point);
		char origin[40];

		memmove(b->stops, b->stops + 1, --b->nstops * sizeof(*b->stops));
		if (!s.point)
			fprintf(b->out, "stopped at record %u: %s\n", s.id, s.text);
		else
			fprintf(b->out, "%s %u, %s %u: %s\n",
				p && p->watch ? "watchpoint" : "breakpoint",
				s.point, b->replaying ? "record" : "message",
				s.id, s.text);
		free(s.text);
		b->last_stop = s.id;
		b->stop_kernel = s.kernel;
		b->have_stop_kernel = 1;
		snprintf(origin, sizeof(origin), "commands %u", s.point);
		b->in_commands = 1;
		for (unsigned k = 0; p && k < p->ncmds && r == BATCH_GOING; k++) {
			/* The command may delete P, or add a point: copy. */
			char *text = strdup(p->cmds[k]);
			unsigned n = p->ncmds, num = p->num;
			struct batch_line l = { text, origin, k + 1 };

			r = run_line(b, &l, now);
			free(text);
			if (r == BATCH_FAILED && b->interactive)
				r = BATCH_GOING;
			p = dbg_point(b, num);
			if (p && p->ncmds != n)
				break;
		}
		b->in_commands = 0;
	}
	return r;
}

static int batch_run(struct batch *b, uint64_t now)
{
	int r;

	if (!b->listening && b->trace) {
		mo_trace_listen(b->trace, listener, b);
		b->listening = 1;
	}
	if (!b->hooked && b->proxy) {
		struct mo_engine *e = mo_proxy_engine(b->proxy);

		e->dbg.judge = engine_judge;
		e->dbg.stopped = engine_stopped;
		e->dbg.ctx = b;
		b->hooked = 1;
	}
	if ((r = tell_stops(b, now)) != BATCH_GOING)
		return r;
	for (;;) {
		const struct batch_line *l;

		if (b->waiting == 'g') {
			/* continue, step over a recording: until it stops again. */
			if (!b->rec_stopped && !b->ended)
				return BATCH_GOING;
			b->waiting = 0;
			continue;
		}
		if (b->waiting) {
			/* The waiting command is asked again. */
			r = dbg_find(b->waiting == 'w' ? "wait" : "expect")->run(b, NULL, now);
			if (r == BATCH_FAILED && b->interactive) {
				b->waiting = 0;
				continue;
			}
			if (r == BATCH_FAILED && !b->status)
				b->status = 1;
			if (r != BATCH_GOING)
				return r;
			if (b->waiting)
				return BATCH_GOING;
			continue;
		}
		if (b->pc == b->n)
			return BATCH_DONE;
		l = &b->lines[b->pc++];
		if (b->collecting) {
			/* commands N ... end: kept for when N stops a message. */
			struct dbg_point *p = dbg_point(b, b->collecting);

			if (!strcmp(l->text, "end")) {
				fprintf(b->out, "commands of %u: %u line(s)\n",
					b->collecting, p ? p->ncmds : 0);
				b->collecting = 0;
				continue;
			}
			if (p) {
				p->cmds = realloc(p->cmds, (p->ncmds + 1) *
						  sizeof(*p->cmds));
				if (!p->cmds)
					abort();
				p->cmds[p->ncmds++] = strdup(l->text);
			}
			continue;
		}
		r = run_line(b, l, now);
		/* At the prompt a failed command is said, and the session goes on. */
		if (r == BATCH_FAILED && b->interactive)
			continue;
		if (r != BATCH_GOING)
			return r;
		if (b->waiting)
			return BATCH_GOING;
	}
}

int batch_end(struct batch *b, uint64_t now)
{
	int r;

	b->ended = 1;
	r = batch_step(b, now);
	if (b->collecting && r != BATCH_FAILED && r != BATCH_QUIT) {
		fprintf(stderr, "motrace: commands %u: the commands ended before 'end'\n",
			b->collecting);
		if (!b->status)
			b->status = 1;
		return BATCH_FAILED;
	}
	return r == BATCH_GOING ? BATCH_DONE : r;
}
