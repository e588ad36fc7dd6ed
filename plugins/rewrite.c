/*
 * plugins/rewrite.c: the example of a verdict hook, the one to copy when
 * writing a plugin (doc/plugins.md). It turns each data_supply's
 * lock_value into another before the rules see it, to provoke a pager bug
 * on purpose: the kernel then holds the page with another lock than the
 * pager meant.
 *
 *   --plugin rewrite=LOCK        LOCK: none, read, write, all, or a number
 *                                (VM_PROT_* bits); default read
 *
 * It also raises its own diagnostic, rewritten, for each message it
 * changed, so the log says what motrace did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motrace-plugin.h"

const unsigned motrace_plugin_abi = MOTRACE_PLUGIN_ABI;

/* VM_PROT_* (GNU Mach include/mach/vm_prot.h). */
#define PROT_READ 1u
#define PROT_WRITE 2u
#define PROT_EXECUTE 4u

static struct {
	uint32_t lock;
	const struct motrace_host *host;
	unsigned long changed;
} rw;

static int rw_start(void *ctx, const char *arg, char *err, size_t errlen)
{
	char *end;

	rw.lock = PROT_WRITE;	/* lock_value locks out writes: read only */
	if (!arg || !*arg || !strcmp(arg, "read"))
		return 0;
	if (!strcmp(arg, "none"))
		rw.lock = 0;
	else if (!strcmp(arg, "write"))
		rw.lock = PROT_WRITE;
	else if (!strcmp(arg, "all"))
		rw.lock = PROT_READ | PROT_WRITE | PROT_EXECUTE;
	else {
		rw.lock = (uint32_t)strtoul(arg, &end, 0);
		if (*end || rw.lock > 7) {
			snprintf(err, errlen, "'%s' is not none, read, write, all or 0-7", arg);
			return -1;
		}
	}
	return 0;
}

static int rw_verdict(void *ctx, const struct motrace_event *ev,
		      struct motrace_verdict *v, char *err, size_t errlen)
{
	char text[160];

	if (!ev->name || strcmp(ev->name, "memory_object_data_supply") ||
	    !(ev->has & MOTRACE_HAS_ACCESS) || ev->access == rw.lock)
		return 0;
	v->set[v->nset].field = "lock_value";
	v->set[v->nset].value = rw.lock;
	v->nset++;
	rw.changed++;
	snprintf(text, sizeof(text), "data_supply of offset 0x%llx: lock_value 0x%x made 0x%x",
		 (unsigned long long)ev->offset, ev->access, rw.lock);
	rw.host->diag(rw.host->ctx, "rewritten", ev->kernel, ev->object,
		      ev->offset, text);
	return 0;
}

static int rw_finish(void *ctx, FILE *out, char *err, size_t errlen)
{
	fprintf(out, "rewrite: %lu data_supply rewritten\n", rw.changed);
	return 0;
}

static const char *const diags[] = { "rewritten", NULL };

int motrace_plugin_register(struct motrace_plugin *p,
			    const struct motrace_host *host)
{
	if (host->abi != MOTRACE_PLUGIN_ABI)
		return -1;
	rw.host = host;
	p->name = "rewrite";
	p->summary = "turns each data_supply's lock_value into another (a verdict hook)";
	p->start = rw_start;
	p->verdict = rw_verdict;
	p->finish = rw_finish;
	p->diag_names = diags;
	return 0;
}
