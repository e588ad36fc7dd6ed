/*
 * plugins/timeline.c: the session as Chrome trace-event JSON, which
 * Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 *   --plugin timeline=FILE      (default: motrace-timeline.json)
 *
 * One process per object, one thread (track) per kernel; a complete
 * event ("ph":"X") per answered request, from the request to its answer:
 * data_request to the data_supply, data_error or data_unavailable of its
 * page; data_unlock to the lock_request covering its page; a
 * lock_request that asked for a reply to the lock_completed of its range.
 * init to ready (or change_attributes). Requests still unanswered at the
 * end are instant events ("ph":"i").
 * Format: the Trace Event Format (Google's document of that name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motrace-plugin.h"

const unsigned motrace_plugin_abi = MOTRACE_PLUGIN_ABI;

struct req {
	unsigned kernel, object;
	int kind;		/* 0 data_request, 1 data_unlock, 2 lock_request, 3 init */
	uint64_t offset, length, t;
	char name[40];
	int open;
};

struct timeline {
	char *path;
	FILE *f;
	int first;
	uint64_t t0;
	int have_t0;
	struct req *r;
	size_t n, a;
	unsigned long slices;
	/* objects and kernels named in metadata events */
	uint64_t seen[64];
	unsigned nseen;
};

static struct timeline tl;

static const char *short_name(const char *n)
{
	return n && !strncmp(n, "memory_object_", 14) ? n + 14 : n ? n : "?";
}

static double us(uint64_t t)
{
	return (double)(t - tl.t0) / 1000.0;
}

static void sep(void)
{
	fputs(tl.first ? "\n" : ",\n", tl.f);
	tl.first = 0;
}

static void meta(unsigned object, unsigned kernel)
{
	uint64_t key = (uint64_t)object << 32 | kernel;

	for (unsigned i = 0; i < tl.nseen; i++)
		if (tl.seen[i] == key)
			return;
	if (tl.nseen < 64)
		tl.seen[tl.nseen++] = key;
	sep();
	fprintf(tl.f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%u,\"args\":{\"name\":\"object %u\"}}",
		object, object);
	sep();
	fprintf(tl.f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":\"kernel %u\"}}",
		object, kernel, kernel);
}

static void slice(const struct req *q, uint64_t end, const char *answer)
{
	meta(q->object, q->kernel);
	sep();
	fprintf(tl.f, "{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"k%u\",\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"offset\":%llu,\"length\":%llu,\"answer\":\"%s\"}}",
		q->name, q->kernel, q->object, q->kernel, us(q->t),
		(double)(end - q->t) / 1000.0, (unsigned long long)q->offset,
		(unsigned long long)q->length, answer);
	tl.slices++;
}

static void open_req(const struct motrace_event *ev, int kind)
{
	struct req *q;

	if (tl.n == tl.a) {
		tl.a = tl.a ? 2 * tl.a : 64;
		tl.r = realloc(tl.r, tl.a * sizeof(*tl.r));
		if (!tl.r)
			abort();
	}
	q = &tl.r[tl.n++];
	q->kernel = ev->kernel;
	q->object = ev->object;
	q->kind = kind;
	q->offset = ev->offset;
	q->length = ev->length;
	q->t = ev->t_ns;
	q->open = 1;
	snprintf(q->name, sizeof(q->name), "%s", short_name(ev->name));
}

/* Closes the open requests of KIND that EV answers. */
static void close_req(const struct motrace_event *ev, int kind, int exact)
{
	for (size_t i = 0; i < tl.n; i++) {
		struct req *q = &tl.r[i];

		if (!q->open || q->kind != kind || q->kernel != ev->kernel ||
		    q->object != ev->object)
			continue;
		if (kind == 3)
			;	/* ready answers its kernel's init, whatever the range */
		else if (exact ? q->offset != ev->offset || q->length != ev->length
			       : q->offset + q->length <= ev->offset ||
				 ev->offset + ev->length <= q->offset)
			continue;
		slice(q, ev->t_ns, short_name(ev->name));
		q->open = 0;
		if (kind == 0 || exact)
			break;
	}
	/* Keep the table small: drop what was answered from its front. */
	while (tl.n && !tl.r[0].open) {
		memmove(tl.r, tl.r + 1, (tl.n - 1) * sizeof(*tl.r));
		tl.n--;
	}
}

static int tl_start(void *ctx, const char *arg, char *err, size_t errlen)
{
	tl.path = strdup(arg && *arg ? arg : "motrace-timeline.json");
	tl.f = tl.path ? fopen(tl.path, "w") : NULL;
	if (!tl.f) {
		snprintf(err, errlen, "cannot write '%s'", arg ? arg : "motrace-timeline.json");
		return -1;
	}
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", tl.f);
	tl.first = 1;
	return 0;
}

static int tl_event(void *ctx, const struct motrace_event *ev, char *err,
		    size_t errlen)
{
	const char *n = short_name(ev->name);

	/* A dropped or held message has not reached its peer (yet). */
	if (ev->kind == MOTRACE_DROPPED || ev->kind == MOTRACE_HELD ||
	    ev->kind == MOTRACE_DELAYED || !ev->name || ev->object == MOTRACE_UNKNOWN)
		return 0;
	if (!tl.have_t0) {
		tl.t0 = ev->t_ns;
		tl.have_t0 = 1;
	}
	if (!strcmp(n, "init"))
		open_req(ev, 3);
	else if (!strcmp(n, "ready") || !strcmp(n, "change_attributes"))
		close_req(ev, 3, 0);
	else if (!strcmp(n, "data_request"))
		open_req(ev, 0);
	else if (!strcmp(n, "data_unlock"))
		open_req(ev, 1);
	else if (!strcmp(n, "data_supply") || !strcmp(n, "data_error") ||
		 !strcmp(n, "data_unavailable"))
		close_req(ev, 0, 0);
	else if (!strcmp(n, "lock_request")) {
		close_req(ev, 1, 0);
		if (ev->has & MOTRACE_HAS_REPLY)
			open_req(ev, 2);
	} else if (!strcmp(n, "lock_completed"))
		close_req(ev, 2, 1);
	return ferror(tl.f) ? (snprintf(err, errlen, "writing '%s' failed", tl.path), -1) : 0;
}

static int tl_finish(void *ctx, FILE *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < tl.n; i++)
		if (tl.r[i].open) {
			meta(tl.r[i].object, tl.r[i].kernel);
			sep();
			fprintf(tl.f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"%s (unanswered)\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f}",
				tl.r[i].name, tl.r[i].object, tl.r[i].kernel,
				us(tl.r[i].t));
		}
	fputs("\n]}\n", tl.f);
	if (fclose(tl.f)) {
		tl.f = NULL;
		snprintf(err, errlen, "writing '%s' failed", tl.path);
		return -1;
	}
	tl.f = NULL;
	fprintf(out, "timeline: %lu slices in %s\n", tl.slices, tl.path);
	return 0;
}

static void tl_stop(void *ctx)
{
	if (tl.f)
		fclose(tl.f);
	free(tl.path);
	free(tl.r);
	memset(&tl, 0, sizeof(tl));
}

int motrace_plugin_register(struct motrace_plugin *p,
			    const struct motrace_host *host)
{
	if (host->abi != MOTRACE_PLUGIN_ABI)
		return -1;
	p->name = "timeline";
	p->summary = "the session as Chrome trace-event JSON (Perfetto)";
	p->start = tl_start;
	p->event = tl_event;
	p->finish = tl_finish;
	p->stop = tl_stop;
	return 0;
}
