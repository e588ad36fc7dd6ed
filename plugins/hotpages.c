/*
 * plugins/hotpages.c: the pages that cost the most, per kernel: the most
 * faults (data_request), unlocks (data_unlock) and the longest waits
 * (from a request to its answer), at the end of the session and on the
 * command "hotpages [N]".
 *
 *   --plugin hotpages[=N]       (N rows per table, default 10)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motrace-plugin.h"

const unsigned motrace_plugin_abi = MOTRACE_PLUGIN_ABI;

struct page {
	unsigned kernel, object;
	uint64_t page;
	unsigned long faults, unlocks;
	uint64_t wait_max, wait_total;
	uint64_t asked;		/* when its open request came, or 0 */
};

static struct {
	struct page *p;
	size_t n, a;
	unsigned rows;
	uint64_t page_size;
} hp;

static struct page *page_of(unsigned kernel, unsigned object, uint64_t page)
{
	for (size_t i = 0; i < hp.n; i++)
		if (hp.p[i].kernel == kernel && hp.p[i].object == object &&
		    hp.p[i].page == page)
			return &hp.p[i];
	if (hp.n == hp.a) {
		hp.a = hp.a ? 2 * hp.a : 64;
		hp.p = realloc(hp.p, hp.a * sizeof(*hp.p));
		if (!hp.p)
			return NULL;
	}
	memset(&hp.p[hp.n], 0, sizeof(hp.p[0]));
	hp.p[hp.n].kernel = kernel;
	hp.p[hp.n].object = object;
	hp.p[hp.n].page = page;
	return &hp.p[hp.n++];
}

static int hp_start(void *ctx, const char *arg, char *err, size_t errlen)
{
	char *end;

	hp.rows = 10;
	hp.page_size = 4096;
	if (arg && *arg) {
		long v = strtol(arg, &end, 10);

		if (*end || v <= 0) {
			snprintf(err, errlen, "'%s' is not a number of rows", arg);
			return -1;
		}
		hp.rows = (unsigned)v;
	}
	return 0;
}

static int hp_event(void *ctx, const struct motrace_event *ev, char *err,
		    size_t errlen)
{
	const char *n = ev->name;
	struct page *p;

	if (!n || !(ev->has & MOTRACE_HAS_OFFSET) || ev->kind == MOTRACE_DROPPED ||
	    ev->kind == MOTRACE_HELD || ev->kind == MOTRACE_DELAYED)
		return 0;
	if (!strncmp(n, "memory_object_", 14))
		n += 14;
	if (!strcmp(n, "init") && ev->has & MOTRACE_HAS_LENGTH)
		return 0;
	p = page_of(ev->kernel, ev->object, ev->offset / hp.page_size);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!strcmp(n, "data_request")) {
		p->faults++;
		p->asked = ev->t_ns;
	} else if (!strcmp(n, "data_unlock")) {
		p->unlocks++;
		p->asked = ev->t_ns;
	} else if (p->asked && (!strcmp(n, "data_supply") ||
				!strcmp(n, "data_error") ||
				!strcmp(n, "data_unavailable") ||
				!strcmp(n, "lock_request"))) {
		uint64_t w = ev->t_ns - p->asked;

		p->wait_total += w;
		if (w > p->wait_max)
			p->wait_max = w;
		p->asked = 0;
	}
	return 0;
}

static int by_faults(const void *a, const void *b)
{
	const struct page *x = a, *y = b;

	if (x->kernel != y->kernel)
		return x->kernel < y->kernel ? -1 : 1;
	if (x->faults + x->unlocks != y->faults + y->unlocks)
		return x->faults + x->unlocks > y->faults + y->unlocks ? -1 : 1;
	if (x->wait_max != y->wait_max)
		return x->wait_max > y->wait_max ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

static void report(FILE *out, unsigned rows)
{
	unsigned shown = 0, kernel = MOTRACE_UNKNOWN;

	qsort(hp.p, hp.n, sizeof(*hp.p), by_faults);
	fprintf(out, "hot pages (per kernel: faults + unlocks, then the longest wait)\n");
	fprintf(out, "kernel object     page   faults  unlocks   max wait  mean wait\n");
	for (size_t i = 0; i < hp.n; i++) {
		const struct page *p = &hp.p[i];
		unsigned long answered = p->faults + p->unlocks;

		if (p->kernel != kernel) {
			kernel = p->kernel;
			shown = 0;
		}
		if (shown++ >= rows || !answered)
			continue;
		fprintf(out, "k%-5u %6u %8llu %8lu %8lu %9.6f %10.6f\n", p->kernel,
			p->object, (unsigned long long)p->page, p->faults,
			p->unlocks, p->wait_max / 1e9,
			p->wait_total / 1e9 / (double)answered);
	}
}

static int hp_finish(void *ctx, FILE *out, char *err, size_t errlen)
{
	report(out, hp.rows);
	return 0;
}

static int hp_command(void *ctx, int argc, char **argv, FILE *out,
		      char *err, size_t errlen)
{
	unsigned rows = hp.rows;

	if (argc > 2 || (argc == 2 && (rows = (unsigned)atoi(argv[1])) == 0)) {
		snprintf(err, errlen, "usage: hotpages [ROWS]");
		return -1;
	}
	report(out, rows);
	return 0;
}

static void hp_stop(void *ctx)
{
	free(hp.p);
	memset(&hp, 0, sizeof(hp));
}

static const struct motrace_plugin_command commands[] = {
	{ "hotpages", "[ROWS]", "the pages with the most faults and unlocks, per kernel", hp_command },
	{ NULL, NULL, NULL, NULL }
};

int motrace_plugin_register(struct motrace_plugin *p,
			    const struct motrace_host *host)
{
	if (host->abi != MOTRACE_PLUGIN_ABI)
		return -1;
	p->name = "hotpages";
	p->summary = "the pages with the most faults, unlocks and longest waits";
	p->start = hp_start;
	p->event = hp_event;
	p->finish = hp_finish;
	p->stop = hp_stop;
	p->commands = commands;
	return 0;
}
