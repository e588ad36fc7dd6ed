/*
 * tests/tracer/subscribers.c: the trace's event stream.
 *
 * usage: subscribers FILE
 *
 * FILE holds an exchange as motrace check reads it ("k0> message" and
 * "k0< message", text form), and lines "note TEXT" (a note in the
 * stream) and "join" (a third subscriber comes in). The exchange runs
 * through the engine (with a rule that drops data_unlock) into a trace
 * with two subscribers from the start. Each subscriber writes down every
 * event, note and diagnostic it sees, and the end of the session; then
 * the two must have the same
 * list, and the third the part of it that came after it joined, nothing
 * before. Prints the first list and exits 0, or says what differs and
 * exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/encode.h"
#include "tracer/attrib.h"
#include "tracer/engine.h"
#include "util/strbuf.h"

static void on_event(void *ctx, const struct mo_event *ev)
{
	strbuf_addf(ctx, "event %d %s k%u o%u %s\n", (int)ev->kind,
		    ev->dir == MO_K2M ? ">" : "<", ev->kernel, ev->object,
		    ev->d->schema ? ev->d->schema->name : "?");
}

static void on_note(void *ctx, uint64_t t, const char *text)
{
	strbuf_addf(ctx, "note %s\n", text);
}

static void on_diag(void *ctx, const struct mo_diag *d)
{
	strbuf_addf(ctx, "diag %s k%u o%u\n", d->name, d->kernel, d->object);
}

static void on_end(void *ctx, unsigned ndiags)
{
	strbuf_addf(ctx, "end %u\n", ndiags);
}

int main(int argc, char **argv)
{
	struct strbuf seen[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	struct mo_trace_opts o = { 0 };
	struct mo_engine_ops ops = { 0 };
	struct mo_engine e;
	struct mo_attrib at;
	struct mo_trace *tr;
	size_t joined_at = 0;
	char line[1024], err[200];
	int joined = 0, bad = 0;
	uint64_t now = 0;
	FILE *in;

	if (argc != 2 || !(in = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: subscribers FILE\n");
		return 2;
	}
	o.out = fopen("/dev/null", "w");
	o.no_time = 1;
	tr = mo_trace_new(&o);
	for (int i = 0; i < 2; i++) {
		struct mo_subscriber s = { on_event, on_note, on_diag, &seen[i],
					   on_end };

		if (mo_trace_subscribe(tr, &s) < 0)
			return 2;
	}
	mo_engine_init(&e, tr, &ops);
	if (mo_rules_parse(&e.rules, "drop=data_unlock", err, sizeof(err)) < 0) {
		fprintf(stderr, "subscribers: %s\n", err);
		return 2;
	}
	mo_attrib_init(&at);
	while (fgets(line, sizeof(line), in)) {
		struct strbuf msg = STRBUF_INIT;
		struct mo_pmsg *m;
		struct mo_enc enc;

		line[strcspn(line, "\n")] = '\0';
		now += 1000;
		if (!line[0] || line[0] == '#')
			continue;
		if (!strcmp(line, "join")) {
			struct mo_subscriber s = { on_event, on_note, on_diag,
						   &seen[2], on_end };

			if (mo_trace_subscribe(tr, &s) < 0)
				return 2;
			joined = 1;
			joined_at = seen[0].len;
			continue;
		}
		if (!strncmp(line, "note ", 5)) {
			mo_trace_note(tr, now, "%s", line + 5);
			continue;
		}
		if (strncmp(line, "k0", 2) || (line[2] != '>' && line[2] != '<') ||
		    mo_parse_call(line + 4, MO_ABI_X86_64, &enc, err,
				  sizeof(err)) < 0 ||
		    mo_encode(MO_ABI_X86_64, &enc, &msg, err, sizeof(err)) < 0) {
			fprintf(stderr, "subscribers: cannot read '%s': %s\n",
				line, err);
			return 2;
		}
		m = mo_pmsg_new(line[2] == '>' ? MO_K2M : MO_M2K, 0,
				MO_OBJECT_UNKNOWN, 0, now, msg.buf, msg.len,
				MO_ABI_X86_64, NULL);
		mo_attrib_message(&at, mo_trace_model(tr), m);
		mo_engine_message(&e, m);
		strbuf_release(&msg);
	}
	mo_engine_release(&e, 1, now);
	mo_trace_finish(tr);
	fclose(in);

	if (seen[0].len != seen[1].len || memcmp(seen[0].buf, seen[1].buf,
						 seen[0].len)) {
		printf("the two subscribers saw different streams:\n%s---\n%s",
		       seen[0].buf, seen[1].buf);
		bad = 1;
	}
	if (!joined || seen[2].len != seen[0].len - joined_at ||
	    memcmp(seen[2].buf, seen[0].buf + joined_at, seen[2].len)) {
		printf("the subscriber that joined saw:\n%s---\nnot what came after it joined:\n%s",
		       seen[2].buf, seen[0].buf + joined_at);
		bad = 1;
	}
	if (!bad)
		printf("%s", seen[0].buf);
	mo_trace_free(tr);
	fclose(o.out);
	for (int i = 0; i < 3; i++)
		strbuf_release(&seen[i]);
	return bad;
}
