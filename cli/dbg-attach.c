/*
 * cli/dbg-attach.c: attach and detach at the prompt and in scripts, as
 * gdb's: 'attach PID' does what -p PID does, 'detach' what ending motrace
 * does for the pagers it is attached to (doc/attach.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "cli/dbg-attach.h"
#include "tracer/attach.h"

int dbg_run_attach(struct batch *b, const char *args, uint64_t now)
{
	struct mo_attach_opts o = { 0 };
	char target[600];
	const char *sp;
	struct mo_attach *a;

	(void)now;
	if (!b->proxy) {
		fprintf(stderr, "motrace: attach acts on live traffic; a recording (-r) is only read\n");
		return BATCH_FAILED;
	}
	sp = strchr(args, ' ');
	snprintf(target, sizeof(target), "%.*s",
		 (int)(sp ? (size_t)(sp - args) : strlen(args)), args);
	if (sp && !strcmp(sp + 1, "observe"))
		o.observe = 1;
	else if (sp) {
		fprintf(stderr, "motrace: attach: give PID or unix:PATH, then 'observe' or nothing\n");
		return BATCH_FAILED;
	}
	if (!*target) {
		fprintf(stderr, "motrace: attach: give PID or unix:PATH\n");
		return BATCH_FAILED;
	}
	if (o.observe && mo_proxy_engine(b->proxy)->rules.n) {
		fprintf(stderr, "motrace: attach: an observer gets copies, which rules cannot act on: delete the rules first\n");
		return BATCH_FAILED;
	}
	a = mo_attach_open(b->proxy, target, &o);
	if (!a)
		return BATCH_FAILED;
	if (o.observe)
		mo_proxy_engine(b->proxy)->no_rules =
			"rules and breakpoints need the messages in motrace's hands, and an observer only gets copies of messages the pager has delivered already";
	fprintf(b->out, "attached to pid %u%s\n", mo_attach_pid(a),
		o.observe ? " (observing)" : "");
	return BATCH_GOING;
}

int dbg_run_detach(struct batch *b, const char *args, uint64_t now)
{
	unsigned long pid = 0;
	int drop = 0, n = 0, failed = 0;
	char *end;

	(void)now;
	if (!b->proxy) {
		fprintf(stderr, "motrace: detach acts on live traffic; a recording (-r) is only read\n");
		return BATCH_FAILED;
	}
	while (*args) {
		if (!strncmp(args, "drop", 4) && (!args[4] || args[4] == ' ')) {
			drop = 1;
			args += 4;
		} else if (*args >= '0' && *args <= '9') {
			pid = strtoul(args, &end, 10);
			args = end;
		} else {
			fprintf(stderr, "motrace: detach: give [PID] [drop]\n");
			return BATCH_FAILED;
		}
		while (*args == ' ')
			args++;
	}
	for (unsigned i = 0; i < mo_attach_count(); i++) {
		struct mo_attach *a = mo_attach_nth(i);

		if (mo_attach_detached(a) || mo_attach_gone(a) ||
		    (pid && mo_attach_pid(a) != pid))
			continue;
		if (mo_attach_detach(a, drop) < 0)
			failed = 1;
		else
			fprintf(b->out, "detached from pid %u\n", mo_attach_pid(a));
		n++;
	}
	if (!n) {
		if (pid)
			fprintf(stderr, "motrace: detach: not attached to pid %lu\n", pid);
		else
			fprintf(stderr, "motrace: detach: not attached to any pager\n");
		return BATCH_FAILED;
	}
	return failed ? BATCH_FAILED : BATCH_GOING;
}
