/*
 * tests/plugins/probe.c: a plugin for the loader's tests, built out of
 * tree with pkg-config motrace-plugin as any user's would be.
 *
 *   --plugin probe.so=FILE[,drop=NAME][,fail=N]
 *
 * Writes each event as "kN> TEXT [kind]" (as the log shows it) to FILE;
 * with drop=NAME, drops every message NAME (its verdict); with fail=N,
 * its N-th event callback fails. -DPROBE_ABI=N builds it for another ABI
 * version, -DPROBE_NO_REGISTER without its register function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <motrace-plugin.h>

#ifndef PROBE_ABI
#define PROBE_ABI MOTRACE_PLUGIN_ABI
#endif

const unsigned motrace_plugin_abi = PROBE_ABI;

static FILE *out;
static char drop[64];
static long fail_at, events;

static const char *const kinds[] = {
	"", " [injected]", " [dropped]", " [delayed]", " [held]", " [released]",
	" [consumed]",
};

static int start(void *ctx, const char *arg, char *err, size_t errlen)
{
	char buf[512], *p, *opt;

	snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
	p = strchr(buf, ',');
	if (p)
		*p++ = '\0';
	out = fopen(buf, "w");
	if (!out) {
		snprintf(err, errlen, "cannot write '%s'", buf);
		return -1;
	}
	while (p && (opt = strsep(&p, ","))) {
		if (!strncmp(opt, "drop=", 5))
			snprintf(drop, sizeof(drop), "memory_object_%s", opt + 5);
		else if (!strncmp(opt, "fail=", 5))
			fail_at = atol(opt + 5);
	}
	return 0;
}

static int event(void *ctx, const struct motrace_event *ev, char *err,
		 size_t errlen)
{
	if (fail_at && ++events == fail_at) {
		snprintf(err, errlen, "failing at event %ld, as asked", events);
		return -1;
	}
	fprintf(out, "k%u%c %s%s\n", ev->kernel, ev->dir == MOTRACE_K2M ? '>' : '<',
		ev->text, ev->kind >= 0 && ev->kind <= 6 ? kinds[ev->kind] : "");
	fflush(out);
	return 0;
}

static int verdict(void *ctx, const struct motrace_event *ev,
		   struct motrace_verdict *v, char *err, size_t errlen)
{
	if (drop[0] && ev->name && !strcmp(ev->name, drop))
		v->action = MOTRACE_DROP;
	return 0;
}

static void stop(void *ctx)
{
	if (out)
		fclose(out);
	out = NULL;
}

#ifndef PROBE_NO_REGISTER
int motrace_plugin_register(struct motrace_plugin *p,
			    const struct motrace_host *host)
{
	p->name = "probe";
	p->summary = "the loader's test plugin";
	p->start = start;
	p->event = event;
	p->verdict = verdict;
	p->stop = stop;
	return 0;
}
#endif
