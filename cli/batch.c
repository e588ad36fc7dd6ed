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
#include "plugins/loader.h"

#define MAX_SEEN 100000

void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->out = stdout;
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

/* Every event's text, kept for expect. */
static void listener(void *ctx, const struct mo_event *ev, const char *text)
{
	struct batch *b = ctx;

	(void)ev;
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

static int batch_run(struct batch *b, uint64_t now)
{
	if (!b->listening && b->trace) {
		mo_trace_listen(b->trace, listener, b);
		b->listening = 1;
	}
	for (;;) {
		const struct batch_line *l;
		const struct dbg_cmd *cmd;
		char name[32];
		const char *args;
		size_t k = 0;
		int r;

		if (b->waiting) {
			/* The waiting command is asked again. */
			l = &b->lines[b->pc - 1];
			cmd = dbg_find(b->waiting == 'w' ? "wait" : "expect");
			r = cmd->run(b, NULL, now);
			if (r != BATCH_GOING)
				return r;
			if (b->waiting)
				return BATCH_GOING;
			continue;
		}
		if (b->pc == b->n)
			return BATCH_DONE;
		l = &b->lines[b->pc++];
		for (args = l->text; *args && !isspace((unsigned char)*args) &&
				     k + 1 < sizeof(name); args++)
			name[k++] = *args;
		name[k] = '\0';
		while (isspace((unsigned char)*args))
			args++;
		if (b->plugins && !dbg_find_exact(name)) {
			int pr = plugin_command(b, l, name, args);

			if (pr >= 0) {
				if (pr == BATCH_FAILED && !b->status)
					b->status = 1;
				if (pr != BATCH_GOING)
					return pr;
				continue;
			}
		}
		cmd = dbg_find(name);
		if (!cmd) {
			fprintf(stderr, "motrace: %s:%u: ", l->origin, l->lineno);
			dbg_unknown(name, stderr);
			b->status = 1;
			return BATCH_FAILED;
		}
		r = cmd->run(b, args, now);
		if (r == BATCH_FAILED) {
			fprintf(stderr, "motrace: %s:%u: '%s' failed\n", l->origin,
				l->lineno, l->text);
			if (!b->status)
				b->status = 1;
			return r;
		}
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
	return r == BATCH_GOING ? BATCH_DONE : r;
}
