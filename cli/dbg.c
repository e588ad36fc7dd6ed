/*
 * cli/dbg.c: the debugger's commands, one table for batch scripts, -ex
 * and the interactive faces.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "cli/dbg-attach.h"
#include "decode/render.h"
#include "plugins/loader.h"
#include "util/parse.h"

/* Commands that act on the traffic need it live (not a recording). */
static int live_only(struct batch *b, const char *cmd)
{
	if (b->proxy)
		return 0;
	fprintf(stderr, "motrace: %s acts on live traffic; a recording (-r) is only read (break, step, continue, print, x, pages, list and info stopped work on it)\n",
		cmd);
	return -1;
}

static int add_rule(struct batch *b, const char *action, const char *args)
{
	struct mo_engine *e;
	char expr[1024], err[256];

	if (live_only(b, action) < 0)
		return BATCH_FAILED;
	e = mo_proxy_engine(b->proxy);
	if (e->no_rules) {
		fprintf(stderr, "motrace: %s: %s\n", action, e->no_rules);
		return BATCH_FAILED;
	}

	snprintf(expr, sizeof(expr), "%s=%s", action, args);
	if (mo_rules_parse(&e->rules, expr, err, sizeof(err)) != 1) {
		fprintf(stderr, "motrace: %s: %s\n", action,
			err[0] ? err : "bad rule");
		return BATCH_FAILED;
	}
	fprintf(b->out, "rule %u: %s\n", e->rules.n, expr);
	return BATCH_GOING;
}

static int run_delay(struct batch *b, const char *args, uint64_t now)
{
	return add_rule(b, "delay", args);
}

/* A stopped message's number, or 0 when ARGS is not one. */
static unsigned held_number(const char *args)
{
	char *end;
	unsigned long n = strtoul(args, &end, 10);

	return *args && !*end && n && n < 1000000000ul ? (unsigned)n : 0;
}

/* drop N: drops stopped message N; drop NAMES...: a drop rule. */
static int run_drop(struct batch *b, const char *args, uint64_t now)
{
	unsigned id = held_number(args);

	if (!id)
		return add_rule(b, "drop", args);
	if (live_only(b, "drop") < 0)
		return BATCH_FAILED;
	if (mo_engine_drop_held(mo_proxy_engine(b->proxy), id, now) < 0) {
		fprintf(stderr, "motrace: drop: no stopped message %u (see 'info stopped')\n", id);
		return BATCH_FAILED;
	}
	fprintf(b->out, "dropped message %u\n", id);
	return BATCH_GOING;
}

/* The stopped message ARGS names, or NULL after a message. */
static const struct mo_pmsg *stopped(struct batch *b, const char *cmd,
				     const char *args)
{
	unsigned id = *args ? held_number(args) : b->last_stop;
	const struct mo_pmsg *m;

	if (b->replaying) {
		/* Over a recording: the record the debugger stopped at. */
		if (b->rec_msg && (!*args || id == b->rec_number))
			return b->rec_msg;
		if (b->rec_msg)
			fprintf(stderr, "motrace: %s: the recording is stopped at record %u, not '%s'\n",
				cmd, b->rec_number, args);
		else
			fprintf(stderr, "motrace: %s: the recording is not stopped at a record (see 'break', 'step')\n",
				cmd);
		return NULL;
	}
	if (live_only(b, cmd) < 0)
		return NULL;
	if (!id) {
		fprintf(stderr, "motrace: %s: give a stopped message's number (see 'info stopped')\n", cmd);
		return NULL;
	}
	m = mo_engine_held(mo_proxy_engine(b->proxy), id);
	if (!m)
		fprintf(stderr, "motrace: %s: no stopped message %u (see 'info stopped')\n", cmd, id);
	return m;
}

/* print N: stopped message N whole: every header field and argument. */
static int run_print(struct batch *b, const char *args, uint64_t now)
{
	const struct mo_pmsg *m = stopped(b, "print", args);
	struct mo_render_opts ro = { 0 };
	struct strbuf sb = STRBUF_INIT;

	if (!m)
		return BATCH_FAILED;
	mo_render_text(&sb, (const uint8_t *)m->bytes.buf, &m->d, &ro);
	fprintf(b->out, "%s %u: k%u%c %s\n", b->replaying ? "record" : "message",
		b->replaying ? b->rec_number : *args ? held_number(args) : b->last_stop,
		m->kernel,
		m->dir == MO_K2M ? '>' : '<', sb.buf);
	strbuf_reset(&sb);
	mo_render_json(&sb, (const uint8_t *)m->bytes.buf, &m->d, &ro);
	fprintf(b->out, "%s\n", sb.buf);
	strbuf_release(&sb);
	return BATCH_GOING;
}

/* x N: stopped message N's bytes, as 32-bit words (motrace decode --hex). */
static int run_x(struct batch *b, const char *args, uint64_t now)
{
	const struct mo_pmsg *m = stopped(b, "x", args);
	const uint8_t *p;

	if (!m)
		return BATCH_FAILED;
	p = (const uint8_t *)m->bytes.buf;
	for (size_t i = 0; i < m->bytes.len; i += 4) {
		uint32_t w = 0;

		for (size_t k = 0; k < 4 && i + k < m->bytes.len; k++)
			w |= (uint32_t)p[i + k] << (8 * k);
		fprintf(b->out, "%s%08x", i % 32 ? " " : i ? "\n" : "", w);
	}
	fputc('\n', b->out);
	return BATCH_GOING;
}

/* list [N]: the last N messages (10), as the log shows them. */
static int run_list(struct batch *b, const char *args, uint64_t now)
{
	unsigned long n = 10;
	char *end;

	if (*args) {
		n = strtoul(args, &end, 10);
		if (*end || !n) {
			fprintf(stderr, "motrace: list: '%s' is not a number of messages\n", args);
			return BATCH_FAILED;
		}
	}
	for (size_t i = b->nseen > n ? b->nseen - n : 0; i < b->nseen; i++)
		fprintf(b->out, "%s\n", b->seen[i]);
	return BATCH_GOING;
}

static int run_hold(struct batch *b, const char *args, uint64_t now)
{
	return add_rule(b, "hold", args);
}

static int run_inject(struct batch *b, const char *args, uint64_t now)
{
	return add_rule(b, "inject", args);
}

static int run_rules(struct batch *b, const char *args, uint64_t now)
{
	const struct mo_rules *rs;

	if (live_only(b, "rules") < 0)
		return BATCH_FAILED;
	rs = &mo_proxy_engine(b->proxy)->rules;

	for (unsigned i = 0; i < rs->n; i++)
		fprintf(b->out, "rule %u: %s (matched %llu, acted %llu)\n", i + 1,
			rs->r[i].spec, (unsigned long long)rs->r[i].seen,
			(unsigned long long)rs->r[i].applied);
	if (!rs->n)
		fprintf(b->out, "no rules\n");
	return BATCH_GOING;
}

static int run_release(struct batch *b, const char *args, uint64_t now)
{
	unsigned long id = 0;
	char *end;
	unsigned n;

	if (*args && strcmp(args, "all")) {
		id = strtoul(args, &end, 10);
		if (end == args || *end || !id) {
			fprintf(stderr, "motrace: release: '%s' is not a held message's number\n",
				args);
			return BATCH_FAILED;
		}
	}
	if (live_only(b, "release") < 0)
		return BATCH_FAILED;
	n = mo_engine_let_go(mo_proxy_engine(b->proxy), (unsigned)id, now);
	if (!n && id) {
		fprintf(stderr, "motrace: release: no held message %lu\n", id);
		return BATCH_FAILED;
	}
	fprintf(b->out, "released %u message(s)\n", n);
	return BATCH_GOING;
}

/* wait DURATION */
static int run_wait(struct batch *b, const char *args, uint64_t now)
{
	uint64_t ns;

	if (args) {
		if (mo_parse_duration(args, &ns) < 0) {
			fprintf(stderr, "motrace: wait: '%s' is not a duration (10ms, 2s)\n",
				args);
			return BATCH_FAILED;
		}
		b->waiting = 'w';
		b->until = now + ns;
	}
	if (now >= b->until || b->ended)
		b->waiting = 0;
	return BATCH_GOING;
}

/*
 * expect PATTERN [within DURATION]: a message whose line (as the log
 * shows it, without time) matches PATTERN (a glob; '*' around it is
 * implied) comes within DURATION (5s) of the last one expect matched.
 */
static int run_expect(struct batch *b, const char *args, uint64_t now)
{
	if (args) {
		const char *within = strstr(args, " within ");
		uint64_t ns = 5000000000ULL;
		size_t n = within ? (size_t)(within - args) : strlen(args);

		if (within && mo_parse_duration(within + 8, &ns) < 0) {
			fprintf(stderr, "motrace: expect: '%s' is not a duration\n",
				within + 8);
			return BATCH_FAILED;
		}
		while (n && isspace((unsigned char)args[n - 1]))
			n--;
		if (!n) {
			fprintf(stderr, "motrace: expect: what message? (expect PATTERN [within DURATION])\n");
			return BATCH_FAILED;
		}
		free(b->pattern);
		b->pattern = malloc(n + 3);
		if (!b->pattern)
			abort();
		sprintf(b->pattern, "*%.*s*", (int)n, args);
		b->waiting = 'e';
		b->until = now + ns;
	}
	for (; b->next_seen < b->nseen; b->next_seen++) {
		if (!fnmatch(b->pattern, b->seen[b->next_seen], 0)) {
			fprintf(b->out, "expect: got %s\n", b->seen[b->next_seen]);
			b->next_seen++;
			b->waiting = 0;
			return BATCH_GOING;
		}
	}
	/* Over a recording, the record it is stopped at comes first. */
	if (b->rec_stopped && b->rec_text && !b->rec_matched &&
	    !fnmatch(b->pattern, b->rec_text, 0)) {
		fprintf(b->out, "expect: got %s (stopped)\n", b->rec_text);
		b->rec_matched = 1;
		b->waiting = 0;
		return BATCH_GOING;
	}
	if (now >= b->until || b->ended) {
		b->waiting = 0;
		fprintf(stderr, "motrace: expect: no message matching '%s' came %s; the last was: %s\n",
			b->pattern, b->ended ? "before the traffic ended" : "in time",
			b->nseen ? b->seen[b->nseen - 1] : "(none)");
		return BATCH_FAILED;
	}
	return BATCH_GOING;
}

/* "A" or "A-B" into [*FIRST, *LAST]; 0, or -1. */
static int page_range(const char *s, uint64_t *first, uint64_t *last)
{
	char a[32], e[160];
	const char *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : strlen(s);

	if (n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (mo_parse_u64(NULL, a, 0, UINT64_MAX, first, e, sizeof(e)) < 0)
		return -1;
	*last = *first;
	if (dash && (mo_parse_u64(NULL, dash + 1, 0, UINT64_MAX, last, e,
				  sizeof(e)) < 0 || *last < *first))
		return -1;
	return 0;
}

/*
 * pages [object O] [kernel K] [FIRST[-LAST]]: the page table, or the part
 * of it that speaks of those objects, kernels and pages.
 */
static int run_pages(struct batch *b, const char *args, uint64_t now)
{
	struct strbuf out = STRBUF_INIT, kept = STRBUF_INIT;
	char *spec = strdup(args), *tok, *save, *line, *next;
	long object = -1, kernel = -1;
	uint64_t first = 0, last = UINT64_MAX;
	int in = 1, header = 0;

	(void)now;
	for (tok = strtok_r(spec, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(tok, "object") || !strcmp(tok, "kernel")) {
			char *v = strtok_r(NULL, " \t", &save), *end;
			unsigned long n = v ? strtoul(v, &end, 10) : 0;

			if (!v || *end || end == v || n > 0xfffffffful) {
				fprintf(stderr, "motrace: pages: '%s' needs a number (pages [object O] [kernel K] [FIRST[-LAST]])\n",
					tok);
				free(spec);
				return BATCH_FAILED;
			}
			*(tok[0] == 'o' ? &object : &kernel) = (long)n;
		} else if (page_range(tok, &first, &last) < 0) {
			fprintf(stderr, "motrace: pages: '%s' is not a page or a range of pages (pages [object O] [kernel K] [FIRST[-LAST]])\n",
				tok);
			free(spec);
			return BATCH_FAILED;
		}
	}
	free(spec);
	mo_model_pages(mo_trace_model(b->trace), &out);
	/* The table's lines: "object O kernel K: ...", then its pages. */
	for (line = out.len ? out.buf : NULL; line && *line; line = next) {
		unsigned o, k;
		unsigned long long pg, pg2;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "object %u kernel %u:", &o, &k) == 2) {
			in = (object < 0 || o == (unsigned long)object) &&
			     (kernel < 0 || k == (unsigned long)kernel);
			header = 0;
		} else if (!in) {
			continue;
		} else if (!strncmp(line, "  page ", 7)) {
			header = 1;
			continue;
		} else if (sscanf(line, "  pages %llu-%llu", &pg, &pg2) == 2) {
			if (pg2 < first || pg > last)
				continue;
		} else if (sscanf(line, "  %llu", &pg) == 1) {
			if (pg < first || pg > last)
				continue;
			if (header == 1) {
				strbuf_addstr(&kept, "  page        state      access lock unlock flags\n");
				header = 2;
			}
		}
		if (in) {
			strbuf_addstr(&kept, line);
			strbuf_addch(&kept, '\n');
		}
	}
	fputs(kept.len ? kept.buf : "no pages\n", b->out);
	strbuf_release(&kept);
	strbuf_release(&out);
	return BATCH_GOING;
}

/* A word of send's value for argument KEY, as the text form spells it. */
static void send_value(struct strbuf *sb, const char *key, const char *v)
{
	static const struct { const char *word, *name; } prot[] = {
		{ "none", "VM_PROT_NONE" }, { "read", "VM_PROT_READ" },
		{ "write", "VM_PROT_WRITE" }, { "execute", "VM_PROT_EXECUTE" },
		{ "rw", "VM_PROT_READ|VM_PROT_WRITE" },
		{ "rwx", "VM_PROT_READ|VM_PROT_WRITE|VM_PROT_EXECUTE" },
		{ "all", "VM_PROT_READ|VM_PROT_WRITE|VM_PROT_EXECUTE" },
		{ "no_change", "VM_PROT_NO_CHANGE" },
	}, ret[] = {
		{ "none", "MEMORY_OBJECT_RETURN_NONE" },
		{ "dirty", "MEMORY_OBJECT_RETURN_DIRTY" },
		{ "all", "MEMORY_OBJECT_RETURN_ALL" },
		{ "anything", "MEMORY_OBJECT_RETURN_ANYTHING" },
	};
	uint64_t n;
	char e[160];

	if (!strcmp(v, "true") || !strcmp(v, "yes")) {
		strbuf_addstr(sb, "TRUE");
		return;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no")) {
		strbuf_addstr(sb, "FALSE");
		return;
	}
	if (!strcmp(key, "lock_value") || !strcmp(key, "desired_access"))
		for (size_t i = 0; i < sizeof(prot) / sizeof(prot[0]); i++)
			if (!strcmp(v, prot[i].word)) {
				strbuf_addstr(sb, prot[i].name);
				return;
			}
	if (!strcmp(key, "should_return"))
		for (size_t i = 0; i < sizeof(ret) / sizeof(ret[0]); i++)
			if (!strcmp(v, ret[i].word)) {
				strbuf_addstr(sb, ret[i].name);
				return;
			}
	if (!strcmp(key, "reply_to") && !strcmp(v, "motrace")) {
		/* Any port will do: motrace makes its own, keeps the answer. */
		strbuf_addstr(sb, "1");
		return;
	}
	if (!strcmp(key, "reply_to") && !strcmp(v, "none")) {
		strbuf_addstr(sb, "0");
		return;
	}
	if (mo_parse_u64(NULL, v, MO_PARSE_PAGES, UINT64_MAX, &n, e,
			 sizeof(e)) == 0) {
		strbuf_addf(sb, "0x%llx", (unsigned long long)n);
		return;
	}
	strbuf_addstr(sb, v);
}

/* Does schema S take argument NAME (its .defs name or short one)? */
static int takes(const struct mo_msg_schema *s, const char *name)
{
	if (!strcmp(s->dest, name) ||
	    (s->dest_alias && !strcmp(s->dest_alias, name)))
		return 1;
	for (uint32_t i = 0; i < s->nargs; i++)
		if (!strcmp(s->args[i].name, name) ||
		    (s->args[i].alias && !strcmp(s->args[i].alias, name)))
			return 1;
	return 0;
}

/*
 * send CALL [kernel=K] [object=O] [ARG=VALUE]...: sends CALL now, as the
 * kernel (memory_object.defs) or as the manager (the others), through
 * the inject rules' machinery. Short names (flush=, return=, lock=,
 * access=, reply=) and words (true, all, write, 3p, reply=motrace) are
 * spelled out; the ports come from what the kernel's messages named.
 */
static int run_send(struct batch *b, const char *args, uint64_t now)
{
	static const struct { const char *word, *arg; } keys[] = {
		{ "flush", "should_flush" }, { "return", "should_return" },
		{ "lock", "lock_value" }, { "access", "desired_access" },
		{ "reply", "reply_to" },
	};
	static const struct { const char *arg, *value; } lock_defaults[] = {
		{ "should_return", "MEMORY_OBJECT_RETURN_NONE" },
		{ "should_flush", "FALSE" }, { "lock_value", "VM_PROT_NO_CHANGE" },
		{ "reply_to", "0" },
	};
	const struct mo_msg_schema *s;
	struct strbuf text = STRBUF_INIT, given = STRBUF_INIT;
	char *spec, *tok, *save, name[80], err[400];
	long kernel = -1, object = -1;
	const struct batch_kernel *bk;
	int k2m, n = 0;

	if (live_only(b, "send") < 0)
		return BATCH_FAILED;
	spec = strdup(args);
	tok = strtok_r(spec, " \t", &save);
	if (!tok) {
		fprintf(stderr, "motrace: send: what? e.g. 'send lock_request kernel=0 offset=3p size=1p flush=true return=all lock=write reply=motrace'\n");
		free(spec);
		return BATCH_FAILED;
	}
	s = mo_schema_by_name(MO_ABI_X86_64, tok);
	snprintf(name, sizeof(name), "memory_object_%s", tok);
	if (!s)
		s = mo_schema_by_name(MO_ABI_X86_64, name);
	if (!s) {
		fprintf(stderr, "motrace: send: unknown call '%s' (lock_request, data_supply, data_unlock, lock_completed...)\n",
			tok);
		free(spec);
		return BATCH_FAILED;
	}
	k2m = s->id >= 2200 && s->id < 2300;
	strbuf_addf(&text, "%s(", s->name);
	for (tok = strtok_r(NULL, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		const char *key = tok;

		if (!eq || eq == tok || !eq[1]) {
			fprintf(stderr, "motrace: send: '%s' is not ARG=VALUE\n", tok);
			goto fail;
		}
		*eq++ = '\0';
		if (!strcmp(key, "kernel") || !strcmp(key, "object")) {
			char *end;
			unsigned long v = strtoul(eq, &end, 10);

			if (*end || end == eq || v > 0xfffffffful) {
				fprintf(stderr, "motrace: send: %s=%s: not a number\n", key, eq);
				goto fail;
			}
			*(key[0] == 'k' ? &kernel : &object) = (long)v;
			continue;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i].word) && !takes(s, key))
				key = keys[i].arg;
		/* size and length name the same thing. */
		if (!strcmp(key, "size") && !takes(s, "size") && takes(s, "length"))
			key = "length";
		else if (!strcmp(key, "length") && !takes(s, "length") && takes(s, "size"))
			key = "size";
		if (!takes(s, key)) {
			fprintf(stderr, "motrace: send: %s has no argument '%s'\n",
				s->name, key);
			goto fail;
		}
		strbuf_addf(&text, "%s%s=", n++ ? ", " : "", key);
		send_value(&text, key, eq);
		strbuf_addf(&given, " %s ", key);
	}
	if (kernel < 0 && b->have_stop_kernel)
		/* The kernel of the last stopped message. */
		kernel = b->stop_kernel;
	if (kernel < 0) {
		/* One kernel known: that one. */
		for (size_t i = 0; i < b->nkernels; i++)
			if (b->kernels[i].known)
				kernel = kernel < 0 ? (long)i : -2;
		if (kernel < 0) {
			fprintf(stderr, "motrace: send: to which kernel? give kernel=K (see 'info kernels'; without it, the kernel of the last stopped message)\n");
			goto fail;
		}
	}
	bk = (size_t)kernel < b->nkernels ? &b->kernels[kernel] : NULL;
	if (!bk || !bk->known) {
		fprintf(stderr, "motrace: send: no message of kernel %ld has come (see 'info kernels')\n",
			kernel);
		goto fail;
	}
	if (object >= 0 && (unsigned long)object != bk->object) {
		fprintf(stderr, "motrace: send: kernel %ld maps object %u, not %ld\n",
			kernel, bk->object, object);
		goto fail;
	}
	/* The ports, as the kernel's messages named them. */
	{
		const char *dest = s->dest_alias ? s->dest_alias : s->dest;
		char pat[64];

		snprintf(pat, sizeof(pat), " %s ", s->dest);
		if (!strstr(given.buf ? given.buf : "", pat)) {
			snprintf(pat, sizeof(pat), " %s ", dest);
			if (!strstr(given.buf ? given.buf : "", pat))
				strbuf_addf(&text, "%s%s=%u", n++ ? ", " : "", dest,
					    k2m ? bk->obj : bk->ctl);
		}
		if (k2m && takes(s, "memory_control") &&
		    !strstr(given.buf ? given.buf : "", " memory_control ") &&
		    !strstr(given.buf ? given.buf : "", " ctl "))
			strbuf_addf(&text, ", ctl=%u", bk->ctl);
	}
	if (s->id == 2044)
		for (size_t i = 0; i < sizeof(lock_defaults) / sizeof(lock_defaults[0]); i++) {
			char pat[40];

			snprintf(pat, sizeof(pat), " %s ", lock_defaults[i].arg);
			if (!strstr(given.buf ? given.buf : "", pat))
				strbuf_addf(&text, ", %s=%s", lock_defaults[i].arg,
					    lock_defaults[i].value);
		}
	strbuf_addch(&text, ')');
	if (mo_engine_send(mo_proxy_engine(b->proxy), text.buf,
			   (unsigned)kernel, bk->object, now, err, sizeof(err)) < 0) {
		fprintf(stderr, "motrace: send: %s\n", err);
		goto fail;
	}
	if (k2m)
		fprintf(b->out, "sent %s to the manager as kernel %ld\n",
			s->name, kernel);
	else
		fprintf(b->out, "sent %s to kernel %ld\n", s->name, kernel);
	free(spec);
	strbuf_release(&text);
	strbuf_release(&given);
	return BATCH_GOING;
fail:
	free(spec);
	strbuf_release(&text);
	strbuf_release(&given);
	return BATCH_FAILED;
}

/*
 * set: the trace options between messages. set filter [EXPR...] (as -e
 * trace=, kernel=, object=, page=; nothing: all), set timestamps
 * none|time|us|epoch|relative (-t, -tt, -ttt, --relative), set latency on|off (-T).
 */
static int run_set(struct batch *b, const char *args, uint64_t now)
{
	static const struct { const char *word; enum mo_tstamp ts; } stamps[] = {
		{ "none", MO_TS_NONE }, { "time", MO_TS_TIME },
		{ "us", MO_TS_TIME_US }, { "epoch", MO_TS_EPOCH },
		{ "relative", MO_TS_RELATIVE },
	};
	struct mo_trace_opts *o;
	const char *v = args;

	(void)now;
	if (!b->trace) {
		fprintf(stderr, "motrace: set: no trace to set\n");
		return BATCH_FAILED;
	}
	o = mo_trace_options(b->trace);
	while (*v && !isspace((unsigned char)*v))
		v++;
	while (isspace((unsigned char)*v))
		v++;
	if (!strncmp(args, "filter", 6) && (!args[6] || isspace((unsigned char)args[6]))) {
		struct mo_filter f = { 0 };
		char *spec = strdup(v), *tok, *save, err[300];

		for (tok = strtok_r(spec, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save))
			if (mo_filter_parse(&f, tok, err, sizeof(err)) < 0) {
				fprintf(stderr, "motrace: set filter: %s\n", err);
				free(spec);
				return BATCH_FAILED;
			}
		free(spec);
		o->filter = f;
		fprintf(b->out, "filter: %s\n", *v ? v : "every message");
		return BATCH_GOING;
	}
	if (!strncmp(args, "timestamps", 10) && (!args[10] || isspace((unsigned char)args[10]))) {
		for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++)
			if (!strcmp(v, stamps[i].word)) {
				if (o->no_time && stamps[i].ts != MO_TS_NONE) {
					fprintf(stderr, "motrace: set timestamps: --no-time keeps times out of this session\n");
					return BATCH_FAILED;
				}
				o->tstamp = stamps[i].ts;
				fprintf(b->out, "timestamps: %s\n", v);
				return BATCH_GOING;
			}
		fprintf(stderr, "motrace: set timestamps: '%s' is not none, time, us, epoch or relative\n", v);
		return BATCH_FAILED;
	}
	if (!strncmp(args, "latency", 7) && (!args[7] || isspace((unsigned char)args[7]))) {
		if (strcmp(v, "on") && strcmp(v, "off")) {
			fprintf(stderr, "motrace: set latency: '%s' is not on or off\n", v);
			return BATCH_FAILED;
		}
		if (o->no_time && !strcmp(v, "on")) {
			fprintf(stderr, "motrace: set latency: --no-time keeps times out of this session\n");
			return BATCH_FAILED;
		}
		o->latency = !strcmp(v, "on");
		fprintf(b->out, "latency: %s\n", v);
		return BATCH_GOING;
	}
	fprintf(stderr, "motrace: set: '%s': give 'set filter [EXPR...]', 'set timestamps none|time|us|epoch|relative' or 'set latency on|off'\n",
		args);
	return BATCH_FAILED;
}

static void show_held(void *ctx, unsigned id, const struct mo_pmsg *m)
{
	struct batch *b = ctx;
	struct mo_render_opts ro = { 0 };
	struct strbuf sb = STRBUF_INIT;

	mo_render_text(&sb, (const uint8_t *)m->bytes.buf, &m->d, &ro);
	fprintf(b->out, "%4u  k%u%c %s\n", id, m->kernel,
		m->dir == MO_K2M ? '>' : '<', sb.buf);
	strbuf_release(&sb);
}

static int run_info(struct batch *b, const char *args, uint64_t now)
{
	struct strbuf out = STRBUF_INIT;

	if (!strcmp(args, "rules")) {
		strbuf_release(&out);
		return run_rules(b, "", now);
	}
	if (!strcmp(args, "breakpoints") || !strcmp(args, "watchpoints")) {
		strbuf_release(&out);
		return dbg_run_info_points(b, "", now);
	}
	if (!strcmp(args, "stopped") && b->replaying) {
		strbuf_release(&out);
		if (b->rec_msg)
			show_held(b, b->rec_number, b->rec_msg);
		else
			fprintf(b->out, "the recording is not stopped at a record\n");
		return BATCH_GOING;
	}
	if (!strcmp(args, "stopped")) {
		strbuf_release(&out);
		if (live_only(b, "info stopped") < 0)
			return BATCH_FAILED;
		if (!mo_engine_first_held(mo_proxy_engine(b->proxy)))
			fprintf(b->out, "no message is stopped%s\n",
				mo_proxy_engine(b->proxy)->stopped
				? " (the next one will be)" : "");
		mo_engine_each_held(mo_proxy_engine(b->proxy), show_held, b);
		return BATCH_GOING;
	}
	if (strcmp(args, "objects") && strcmp(args, "kernels")) {
		fprintf(stderr, "motrace: info: 'info objects', 'info kernels', 'info breakpoints', 'info rules' or 'info stopped'\n");
		return BATCH_FAILED;
	}
	if (live_only(b, "info") < 0) {
		strbuf_release(&out);
		return BATCH_FAILED;
	}
	mo_proxy_info(b->proxy, args, &out);
	fputs(out.len ? out.buf : "none\n", b->out);
	strbuf_release(&out);
	return BATCH_GOING;
}

static int run_stats(struct batch *b, const char *args, uint64_t now)
{
	struct strbuf out = STRBUF_INIT;

	mo_trace_stats(b->trace, &out);
	fputs(out.buf, b->out);
	strbuf_release(&out);
	return BATCH_GOING;
}

static int run_echo(struct batch *b, const char *args, uint64_t now)
{
	fprintf(b->out, "%s\n", args);
	return BATCH_GOING;
}

/* view: the face at the prompt opens the page view (cli/ui/), until q. */
static int run_view(struct batch *b, const char *args, uint64_t now)
{
	b->view = 1;
	return BATCH_GOING;
}

static int run_quit(struct batch *b, const char *args, uint64_t now)
{
	char *end;

	if (*args) {
		b->status = (int)strtol(args, &end, 10);
		if (*end) {
			fprintf(stderr, "motrace: quit: '%s' is not an exit status\n", args);
			return BATCH_FAILED;
		}
	}
	return BATCH_QUIT;
}

/* continue: lets every stopped message go; traffic flows again. */
static int run_continue(struct batch *b, const char *args, uint64_t now)
{
	struct mo_engine *e;
	unsigned n;

	if (b->replaying) {
		/* The commands after it run at the next stop. */
		b->rec_stopped = 0;
		b->rec_step = 0;
		b->waiting = 'g';
		fprintf(b->out, "continuing: to the next breakpoint or the end of the recording\n");
		return BATCH_GOING;
	}
	if (live_only(b, "continue") < 0)
		return BATCH_FAILED;
	e = mo_proxy_engine(b->proxy);
	e->stopped = 0;
	n = mo_engine_let_go(e, 0, now);
	fprintf(b->out, "continuing: %u message(s) let go\n", n);
	return BATCH_GOING;
}

/* step: lets the first stopped message go and stops at the next one. */
static int run_step(struct batch *b, const char *args, uint64_t now)
{
	struct mo_engine *e;
	unsigned id;

	if (b->replaying) {
		b->rec_stopped = 0;
		b->rec_step = 1;
		b->waiting = 'g';
		return BATCH_GOING;
	}
	if (live_only(b, "step") < 0)
		return BATCH_FAILED;
	e = mo_proxy_engine(b->proxy);
	e->stopped = 1;
	id = mo_engine_first_held(e);
	if (id) {
		mo_engine_let_go(e, id, now);
		fprintf(b->out, "stepped: message %u let go; the next message stops\n", id);
	} else {
		fprintf(b->out, "the next message stops\n");
	}
	return BATCH_GOING;
}

/* stop: holds every message from now on (as Ctrl-C at the prompt). */
static int run_stop(struct batch *b, const char *args, uint64_t now)
{
	if (live_only(b, "stop") < 0)
		return BATCH_FAILED;
	if (mo_proxy_engine(b->proxy)->no_rules) {
		fprintf(stderr, "motrace: stop: %s\n",
			mo_proxy_engine(b->proxy)->no_rules);
		return BATCH_FAILED;
	}
	mo_proxy_engine(b->proxy)->stopped = 1;
	fprintf(b->out, "all traffic stopped: each message waits at motrace; 'continue' lets it go\n");
	return BATCH_GOING;
}

static int run_diagnostics(struct batch *b, const char *args, uint64_t now)
{
	unsigned long want = 0;
	unsigned have = mo_trace_ndiags(b->trace);
	char *end;

	if (*args) {
		want = strtoul(args, &end, 10);
		if (*end || end == args) {
			fprintf(stderr, "motrace: diagnostics: '%s' is not a number\n",
				args);
			return BATCH_FAILED;
		}
	}
	if (have != want) {
		fprintf(stderr, "motrace: diagnostics: the checker reported %u, expected %lu\n",
			have, want);
		return BATCH_FAILED;
	}
	fprintf(b->out, "diagnostics: %u, as expected\n", have);
	return BATCH_GOING;
}

static void help_plugin_command(void *ctx, const char *name,
				const char *usage, const char *help)
{
	struct batch *b = ctx;

	fprintf(b->out, "  %-11s %-40s %s (plugin)\n", name, usage, help);
}

static int run_help(struct batch *b, const char *args, uint64_t now)
{
	if (*args) {
		const struct dbg_cmd *c = dbg_find(args);

		if (!c) {
			fputs("motrace: help: ", stderr);
			dbg_unknown(args, stderr);
			return BATCH_FAILED;
		}
		fprintf(b->out, "%s %s\n  %s\n", c->name, c->usage, c->help);
		return BATCH_GOING;
	}
	for (const struct dbg_cmd *c = dbg_table; c->name; c++)
		fprintf(b->out, "  %-11s %-40s %s\n", c->name, c->usage, c->help);
	if (b->plugins)
		mo_plugins_each_command(b->plugins, help_plugin_command, b);
	return BATCH_GOING;
}

static int run_plugin(struct batch *b, const char *args, uint64_t now)
{
	char err[400];
	const char *what = args, *arg = args;

	while (*arg && !isspace((unsigned char)*arg))
		arg++;
	while (isspace((unsigned char)*arg))
		arg++;
	if (!b->plugins) {
		fprintf(stderr, "motrace: plugin: plugins act on a live session or a recording\n");
		return BATCH_FAILED;
	}
	if (!strncmp(what, "list", 4) && !*arg) {
		mo_plugins_list(b->plugins, b->out);
		return BATCH_GOING;
	}
	if (!strncmp(what, "load ", 5) && *arg) {
		if (mo_plugin_load(b->plugins, arg, err, sizeof(err)) < 0) {
			fprintf(stderr, "motrace: plugin load: %s\n", err);
			return BATCH_FAILED;
		}
		return BATCH_GOING;
	}
	if (!strncmp(what, "unload ", 7) && *arg) {
		if (mo_plugin_unload(b->plugins, arg, err, sizeof(err)) < 0) {
			fprintf(stderr, "motrace: plugin unload: %s\n", err);
			return BATCH_FAILED;
		}
		return BATCH_GOING;
	}
	fprintf(stderr, "motrace: plugin: give 'load FILE|NAME[=ARG]', 'unload NAME' or 'list'\n");
	return BATCH_FAILED;
}

const struct dbg_cmd dbg_table[] = {
	{ "delay", "NAMES:by=DURATION[-MAX][:when=...]", "delay messages", run_delay },
	{ "drop", "N | NAMES[:when=...]", "drop stopped message N, or messages", run_drop },
	{ "hold", "NAMES[:for=DURATION][:when=...]", "hold messages until released", run_hold },
	{ "inject", "NAMES:send=CALL[:when=...]", "send CALL after messages", run_inject },
	{ "release", "[N|all]", "let held message N (or all) go", run_release },
	{ "rules", "", "list the rules", run_rules },
	{ "delete", "N | rule N", "delete breakpoint or watchpoint N, or rule N", dbg_run_delete },
	{ "disable", "N", "breakpoint or watchpoint N stops nothing until enabled", dbg_run_disable },
	{ "enable", "N", "breakpoint or watchpoint N acts again", dbg_run_enable },
	{ "commands", "[N] ... end", "commands run when breakpoint N stops a message", dbg_run_commands },
	{ "watch", "page N [object O] [kernel K] [stop]", "report each change of a page's state", dbg_run_watch },
	{ "expect", "PATTERN [within DURATION]", "wait for a matching message (5s); fail if none", run_expect },
	{ "wait", "DURATION", "let traffic run for a time", run_wait },
	{ "pages", "[object O] [kernel K] [FIRST[-LAST]]", "the page table, or part of it", run_pages },
	{ "send", "CALL [kernel=K] [object=O] [ARG=VALUE]...", "send a message now, as the kernel or the manager", run_send },
	{ "set", "filter EXPR...|timestamps WHICH|latency on|off", "change the trace options", run_set },
	{ "info", "objects|kernels|breakpoints|rules|stopped", "the objects, kernels, breakpoints, rules or stopped messages", run_info },
	{ "stats", "", "the statistics table", run_stats },
	{ "diagnostics", "[N]", "fail unless the checker reported N diagnostics so far (0)", run_diagnostics },
	{ "break", "NAMES[:kernel=N][:page=A-B]... [if CONDITION]", "stop matching messages at motrace (b)", dbg_run_break },
	{ "continue", "", "let the stopped messages go (c)", run_continue },
	{ "step", "", "let one stopped message go, stop at the next (s)", run_step },
	{ "stop", "", "stop all traffic until continue", run_stop },
	{ "print", "N", "stopped message N whole, every field", run_print },
	{ "x", "N", "stopped message N's bytes", run_x },
	{ "list", "[N]", "the last N messages (10)", run_list },
	{ "echo", "TEXT", "print TEXT", run_echo },
	{ "plugin", "load SPEC|unload NAME|list", "load, unload or list plugins", run_plugin },
	{ "view", "", "the page view until q (at the prompt)", run_view },
	{ "attach", "PID|unix:PATH [observe]", "attach to a running pager, as -p", dbg_run_attach },
	{ "detach", "[PID] [drop]", "let held messages go (or drop them), then detach", dbg_run_detach },
	{ "quit", "[STATUS]", "stop tracing", run_quit },
	{ "help", "[COMMAND]", "this list, or one command", run_help },
	{ NULL, NULL, NULL, NULL },
};

void dbg_unknown(const char *name, FILE *out)
{
	size_t n = strlen(name), k = 0;

	for (const struct dbg_cmd *c = dbg_table; c->name; c++)
		k += !strncmp(c->name, name, n);
	if (!k) {
		fprintf(out, "unknown command '%s' (try 'help')\n", name);
		return;
	}
	fprintf(out, "'%s' is ambiguous: it could be", name);
	for (const struct dbg_cmd *c = dbg_table; c->name; c++)
		if (!strncmp(c->name, name, n))
			fprintf(out, " %s", c->name);
	fputc('\n', out);
}

const struct dbg_cmd *dbg_find_exact(const char *name)
{
	for (const struct dbg_cmd *c = dbg_table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct dbg_cmd *dbg_find(const char *name)
{
	/* gdb's one-letter names. */
	static const char *const alias[][2] = {
		{ "b", "break" }, { "c", "continue" }, { "s", "step" },
	};
	const struct dbg_cmd *found = NULL;
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(name, alias[i][0]))
			return dbg_find_exact(alias[i][1]);
	for (const struct dbg_cmd *c = dbg_table; c->name; c++) {
		if (!strcmp(c->name, name))
			return c;
		if (n && !strncmp(c->name, name, n)) {
			if (found)
				return NULL;
			found = c;
		}
	}
	return found;
}
