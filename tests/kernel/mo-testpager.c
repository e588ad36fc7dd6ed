/*
 * tests/kernel/mo-testpager.c: a pager whose answers a test writes, to
 * drive the kernel side through each rule of doc/protocol.md.
 *
 *   mo-testpager ADDR RULES
 *
 * RULES has lines "on EVENT ACTION [; ACTION]...". EVENT is a message
 * the pager receives (init, data_request, data_unlock, data_return,
 * lock_completed, supply_completed, change_completed). The lines of one
 * event are used in turn, the last one for ever after. Actions:
 *
 *   ready [cache=1]            change [cache=1]        destroy
 *   attributes (get_attributes; the pager exits 1 unless ready)
 *   supply OFF LEN [lock=P] [precious=1] [reply=1] [fill=BYTE]
 *   lock OFF LEN [return=none|dirty|all] [flush=1] [lock=P] [reply=1]
 *   unavailable OFF LEN        error OFF LEN           sleep MS
 *   nothing
 *
 * OFF and LEN may be "=": the offset and length of the message answered.
 * P is none, read, write, all or nochange.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagers/pager.h"

enum event {
	EV_INIT, EV_DATA_REQUEST, EV_DATA_UNLOCK, EV_DATA_RETURN,
	EV_LOCK_COMPLETED, EV_SUPPLY_COMPLETED, EV_CHANGE_COMPLETED, EV_COUNT
};

static const char *const event_names[EV_COUNT] = {
	"init", "data_request", "data_unlock", "data_return",
	"lock_completed", "supply_completed", "change_completed",
};

static struct {
	char **lines;
	unsigned n, next;
} rules[EV_COUNT];

static mach_port_t control;

static const struct {
	const char *name;
	int value;
} words[] = {
	{ "none", VM_PROT_NONE }, { "read", VM_PROT_READ },
	{ "write", VM_PROT_WRITE }, { "all", VM_PROT_ALL },
	{ "nochange", VM_PROT_NO_CHANGE },
	{ "dirty", MEMORY_OBJECT_RETURN_DIRTY },
};

static int word_value(const char *s)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i].name, s))
			return words[i].value;
	return (int)pager_num("value", s, INT32_MAX);
}

/* key=value of an action, or DEF. */
static int opt(char **w, int n, const char *key, int def)
{
	size_t l = strlen(key);

	for (int i = 0; i < n; i++)
		if (!strncmp(w[i], key, l) && w[i][l] == '=') {
			if (!strcmp(key, "return"))
				return !strcmp(w[i] + l + 1, "all") ?
				       MEMORY_OBJECT_RETURN_ALL :
				       !strcmp(w[i] + l + 1, "none") ?
				       MEMORY_OBJECT_RETURN_NONE :
				       word_value(w[i] + l + 1);
			return word_value(w[i] + l + 1);
		}
	return def;
}

static uint64_t pos(const char *s, uint64_t cur)
{
	if (!strcmp(s, "="))
		return cur;
	return pager_num("offset", s, UINT64_MAX);
}

static void act(char *a, uint64_t off, uint64_t len)
{
	char *w[12], *save;
	int n = 0;

	for (char *t = strtok_r(a, " \t", &save); t && n < 12;
	     t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (!n || !strcmp(w[0], "nothing"))
		return;
	plog("do: %s", w[0]);
	if (!strcmp(w[0], "ready")) {
		memory_object_ready(control, opt(w, n, "cache", 0),
				    MEMORY_OBJECT_COPY_DELAY);
	} else if (!strcmp(w[0], "change")) {
		memory_object_change_attributes(control, opt(w, n, "cache", 0),
						MEMORY_OBJECT_COPY_DELAY,
						P.reply);
	} else if (!strcmp(w[0], "attributes")) {
		boolean_t ready, cache;
		memory_object_copy_strategy_t strategy;
		kern_return_t kr = memory_object_get_attributes(control, &ready,
								&cache,
								&strategy);

		if (kr != KERN_SUCCESS || !ready)
			pdie("get_attributes: %#x, ready %d", kr, ready);
	} else if (!strcmp(w[0], "destroy")) {
		memory_object_destroy(control, KERN_FAILURE);
	} else if (!strcmp(w[0], "sleep") && n == 2) {
		pager_sleep_ms((unsigned)word_value(w[1]));
	} else if (n >= 3 && !strcmp(w[0], "supply")) {
		uint64_t o = pos(w[1], off), l = pos(w[2], len);
		size_t m = (l + PAGE - 1) & ~(PAGE - 1);
		vm_address_t buf = 0;

		if (vm_allocate(mach_task_self(), &buf, m ? m : PAGE, TRUE))
			pdie("out of memory");
		memset((void *)buf, opt(w, n, "fill", 0), m);
		memory_object_data_supply(control, o, buf, l, TRUE,
					  opt(w, n, "lock", VM_PROT_NONE),
					  opt(w, n, "precious", 0),
					  opt(w, n, "reply", 0) ? P.reply :
					  MACH_PORT_NULL);
	} else if (n >= 3 && !strcmp(w[0], "lock")) {
		memory_object_lock_request(control, pos(w[1], off),
					   pos(w[2], len),
					   opt(w, n, "return", 0),
					   opt(w, n, "flush", 0),
					   opt(w, n, "lock", VM_PROT_NO_CHANGE),
					   opt(w, n, "reply", 0) ? P.object :
					   MACH_PORT_NULL);
	} else if (n >= 3 && !strcmp(w[0], "unavailable")) {
		memory_object_data_unavailable(control, pos(w[1], off),
					       pos(w[2], len));
	} else if (n >= 3 && !strcmp(w[0], "error")) {
		memory_object_data_error(control, pos(w[1], off),
					 pos(w[2], len), KERN_MEMORY_ERROR);
	} else {
		pdie("bad action '%s'", w[0]);
	}
}

static void on(enum event ev, uint64_t off, uint64_t len)
{
	char *line, *save, *copy;
	unsigned i;

	if (!rules[ev].n)
		return;
	i = rules[ev].next < rules[ev].n ? rules[ev].next++ : rules[ev].n - 1;
	copy = strdup(rules[ev].lines[i]);
	for (line = strtok_r(copy, ";", &save); line;
	     line = strtok_r(NULL, ";", &save))
		act(line, off, len);
	free(copy);
}

void pager_forget(mach_port_t ctl)
{
}

kern_return_t memory_object_init(mach_port_t mo, mach_port_t ctl,
				 mach_port_t name, vm_size_t page_size)
{
	control = ctl;
	on(EV_INIT, 0, 0);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_request(mach_port_t mo, mach_port_t ctl,
					 vm_offset_t off, vm_size_t len,
					 vm_prot_t access)
{
	on(EV_DATA_REQUEST, off, len);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_unlock(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_size_t len,
					vm_prot_t access)
{
	on(EV_DATA_UNLOCK, off, len);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_return(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_offset_t data,
					mach_msg_type_number_t cnt,
					boolean_t dirty, boolean_t kernel_copy)
{
	vm_deallocate(mach_task_self(), data, cnt);
	on(EV_DATA_RETURN, off, cnt);
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_completed(mach_port_t reply, mach_port_t ctl,
					   vm_offset_t off, vm_size_t len)
{
	on(EV_LOCK_COMPLETED, off, len);
	return KERN_SUCCESS;
}

kern_return_t memory_object_supply_completed(mach_port_t reply,
					     mach_port_t ctl, vm_offset_t off,
					     vm_size_t len, kern_return_t result,
					     vm_offset_t error_offset)
{
	on(EV_SUPPLY_COMPLETED, off, len);
	return KERN_SUCCESS;
}

kern_return_t memory_object_change_completed(mach_port_t reply,
					     boolean_t may_cache,
					     memory_object_copy_strategy_t s)
{
	on(EV_CHANGE_COMPLETED, 0, 0);
	return KERN_SUCCESS;
}

int main(int argc, char **argv)
{
	char buf[1024];
	FILE *f;

	P.prog = "mo-testpager";
	P.verbose = getenv("MO_TESTPAGER_VERBOSE") != NULL;
	if (argc != 3)
		pdie("usage: mo-testpager ADDR RULES");
	if (!(f = fopen(argv[2], "r")))
		pdie("cannot open '%s'", argv[2]);
	while (fgets(buf, sizeof(buf), f)) {
		char ev[64];
		int used = 0;
		unsigned i;

		buf[strcspn(buf, "\n#")] = '\0';
		if (sscanf(buf, " on %63s %n", ev, &used) != 1)
			continue;
		for (i = 0; i < EV_COUNT; i++)
			if (!strcmp(event_names[i], ev))
				break;
		if (i == EV_COUNT)
			pdie("unknown event '%s'", ev);
		rules[i].lines = realloc(rules[i].lines,
					 (rules[i].n + 1) * sizeof(char *));
		rules[i].lines[rules[i].n++] = strdup(buf + used);
	}
	fclose(f);
	if (pager_start(argv[1], NULL) < 0)
		return 1;
	pager_run(argv[1]);
	return 0;
}
