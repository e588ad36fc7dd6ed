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

/* Commands that act on the traffic need it live (not a recording). */
static int live_only(struct batch *b, const char *cmd)
{
	if (b->proxy)
		return 0;
	fprintf(stderr, "motrace: %s acts on live traffic; a recording (-r) is only read\n",
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
	unsigned id = held_number(args);
	const struct mo_pmsg *m;

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
	fprintf(b->out, "message %s: k%u%c %s\n", args, m->kernel,
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

static int run_delete(struct batch *b, const char *args, uint64_t now)
{
	char *end;
	unsigned long i = strtoul(args, &end, 10);

	if (live_only(b, "delete") < 0)
		return BATCH_FAILED;
	if (end == args || *end ||
	    mo_rules_delete(&mo_proxy_engine(b->proxy)->rules,
			    (unsigned)i - 1) < 0) {
		fprintf(stderr, "motrace: delete: no rule '%s' (see 'rules')\n", args);
		return BATCH_FAILED;
	}
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
	if (now >= b->until || b->ended) {
		b->waiting = 0;
		fprintf(stderr, "motrace: expect: no message matching '%s' came %s; the last was: %s\n",
			b->pattern, b->ended ? "before the traffic ended" : "in time",
			b->nseen ? b->seen[b->nseen - 1] : "(none)");
		return BATCH_FAILED;
	}
	return BATCH_GOING;
}

static int run_pages(struct batch *b, const char *args, uint64_t now)
{
	struct strbuf out = STRBUF_INIT;

	mo_model_pages(mo_trace_model(b->trace), &out);
	fputs(out.len ? out.buf : "no pages\n", b->out);
	strbuf_release(&out);
	return BATCH_GOING;
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

	if (!strcmp(args, "breakpoints") || !strcmp(args, "rules")) {
		strbuf_release(&out);
		return run_rules(b, "", now);
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
		fprintf(stderr, "motrace: info: 'info objects', 'info kernels', 'info breakpoints' or 'info stopped'\n");
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

/* diagnostics [N]: the checker has reported N diagnostics so far (0). */
/*
 * break NAMES[:OPTIONS]: stop each matching message at motrace, on its own
 * port (the others keep flowing, as gdb's non-stop mode): a hold rule.
 */
static int run_break(struct batch *b, const char *args, uint64_t now)
{
	if (!*args) {
		fprintf(stderr, "motrace: break: give the messages to stop, e.g. 'break data_unlock' or 'break lock_request:kernel=1'\n");
		return BATCH_FAILED;
	}
	if (add_rule(b, "hold", args) != BATCH_GOING)
		return BATCH_FAILED;
	fprintf(b->out, "breakpoint %u: %s\n",
		mo_proxy_engine(b->proxy)->rules.n, args);
	return BATCH_GOING;
}

/* continue: lets every stopped message go; traffic flows again. */
static int run_continue(struct batch *b, const char *args, uint64_t now)
{
	struct mo_engine *e;
	unsigned n;

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
	{ "delete", "N", "delete rule N", run_delete },
	{ "expect", "PATTERN [within DURATION]", "wait for a matching message (5s); fail if none", run_expect },
	{ "wait", "DURATION", "let traffic run for a time", run_wait },
	{ "pages", "", "the page table", run_pages },
	{ "info", "objects|kernels|breakpoints|stopped", "the objects, kernels, breakpoints or stopped messages", run_info },
	{ "stats", "", "the statistics table", run_stats },
	{ "diagnostics", "[N]", "fail unless the checker reported N diagnostics so far (0)", run_diagnostics },
	{ "break", "NAMES[:kernel=N][:page=A-B]...", "stop matching messages at motrace (b)", run_break },
	{ "continue", "", "let the stopped messages go (c)", run_continue },
	{ "step", "", "let one stopped message go, stop at the next (s)", run_step },
	{ "stop", "", "stop all traffic until continue", run_stop },
	{ "print", "N", "stopped message N whole, every field", run_print },
	{ "x", "N", "stopped message N's bytes", run_x },
	{ "list", "[N]", "the last N messages (10)", run_list },
	{ "echo", "TEXT", "print TEXT", run_echo },
	{ "plugin", "load SPEC|unload NAME|list", "load, unload or list plugins", run_plugin },
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
