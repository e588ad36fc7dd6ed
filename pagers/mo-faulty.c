/*
 * pagers/mo-faulty.c: a memory pager with one deliberate bug per run,
 * the classes motrace exists to catch (doc/pagers.md).
 *
 *   mo-faulty [--size N] [--delay MS] [-v] ADDR --bug=NAME
 *
 * Without its bug it is a plain memory pager: zero-filled pages held in
 * the pager, supplied write-locked for reads and unlocked for writes;
 * data_unlock is granted with lock_request(lock_value VM_PROT_NONE,
 * reply_to), returned data is kept.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagers/pager.h"

enum bug {
	BUG_NONE, BUG_NEVER_UNLOCK, BUG_NOCHANGE_UNLOCK, BUG_FLUSH_NO_CLEAN,
	BUG_MISALIGNED, BUG_DOUBLE_SUPPLY, BUG_WRONG_LENGTH, BUG_SLOW,
};

static const struct {
	const char *name;
	enum bug bug;
	const char *what;
} bugs[] = {
	{ "none", BUG_NONE, "no bug: a correct memory pager" },
	{ "never-unlock", BUG_NEVER_UNLOCK,
	  "ignores data_unlock: the writing thread sleeps for ever" },
	{ "nochange-unlock", BUG_NOCHANGE_UNLOCK,
	  "answers data_unlock with lock_request(VM_PROT_NO_CHANGE), which wakes nobody" },
	{ "flush-no-clean", BUG_FLUSH_NO_CLEAN,
	  "flushes the object with MEMORY_OBJECT_RETURN_NONE before each data_request: writes are lost" },
	{ "misaligned", BUG_MISALIGNED,
	  "grants data_unlock with a lock_request at offset+0x10: the kernel finds no page there" },
	{ "double-supply", BUG_DOUBLE_SUPPLY,
	  "supplies each requested page twice: the second gets KERN_MEMORY_PRESENT" },
	{ "wrong-length", BUG_WRONG_LENGTH,
	  "supplies half a page: the kernel refuses it and the fault waits" },
	{ "slow", BUG_SLOW, "answers every request after --delay MS (500)" },
};

static enum bug bug = BUG_NONE;
static unsigned delay_ms = 500;
static uint64_t size = 64 * PAGE;
static uint8_t *store;
static int written;	/* write access granted since the last flush */

void pager_forget(mach_port_t ctl)
{
}

kern_return_t memory_object_init(mach_port_t mo, mach_port_t ctl,
				 mach_port_t name, vm_size_t page_size)
{
	plog("init: control %u", ctl);
	pager_watch(ctl);
	return memory_object_ready(ctl, FALSE, MEMORY_OBJECT_COPY_DELAY);
}

static kern_return_t supply(mach_port_t ctl, vm_offset_t off, vm_size_t len,
			    vm_prot_t lock, mach_port_t reply)
{
	vm_address_t buf = 0;

	if (vm_allocate(mach_task_self(), &buf, len, TRUE) != KERN_SUCCESS)
		return KERN_RESOURCE_SHORTAGE;
	if (off < size)
		memcpy((void *)buf, store + off,
		       off + len <= size ? len : size - off);
	if (lock == VM_PROT_NONE)
		written = 1;
	return memory_object_data_supply(ctl, off, buf,
					 bug == BUG_WRONG_LENGTH ? len / 2 : len,
					 TRUE, lock, FALSE, reply);
}

kern_return_t memory_object_data_request(mach_port_t mo, mach_port_t ctl,
					 vm_offset_t off, vm_size_t len,
					 vm_prot_t access)
{
	vm_prot_t lock = access & VM_PROT_WRITE ? VM_PROT_NONE : VM_PROT_WRITE;

	plog("data_request: %#lx access %d", (unsigned long)off, access);
	if (bug == BUG_SLOW)
		pager_sleep_ms(delay_ms);
	if (bug == BUG_FLUSH_NO_CLEAN && written) {
		/* Meant to clean first; forgot should_return. */
		written = 0;
		memory_object_lock_request(ctl, 0, size,
					   MEMORY_OBJECT_RETURN_NONE, TRUE,
					   VM_PROT_NO_CHANGE, P.reply);
	}
	supply(ctl, off, len, lock, MACH_PORT_NULL);
	if (bug == BUG_DOUBLE_SUPPLY)
		supply(ctl, off, len, lock, P.reply);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_unlock(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_size_t len,
					vm_prot_t access)
{
	plog("data_unlock: %#lx access %d", (unsigned long)off, access);
	switch (bug) {
	case BUG_NEVER_UNLOCK:
		return KERN_SUCCESS;
	case BUG_NOCHANGE_UNLOCK:
		return memory_object_lock_request(ctl, off, len,
						  MEMORY_OBJECT_RETURN_NONE,
						  FALSE, VM_PROT_NO_CHANGE,
						  P.reply);
	case BUG_MISALIGNED:
		off += 0x10;
		break;
	case BUG_SLOW:
		pager_sleep_ms(delay_ms);
		break;
	default:
		break;
	}
	written = 1;
	return memory_object_lock_request(ctl, off, len,
					  MEMORY_OBJECT_RETURN_NONE, FALSE,
					  VM_PROT_NONE, P.reply);
}

kern_return_t memory_object_data_return(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_offset_t data,
					mach_msg_type_number_t cnt,
					boolean_t dirty, boolean_t kernel_copy)
{
	plog("data_return: %#lx+%#x dirty %d", (unsigned long)off, cnt, dirty);
	if (off < size)
		memcpy(store + off, (void *)data,
		       off + cnt <= size ? cnt : size - off);
	vm_deallocate(mach_task_self(), data, cnt);
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_completed(mach_port_t reply, mach_port_t ctl,
					   vm_offset_t off, vm_size_t len)
{
	plog("lock_completed: %#lx+%#lx", (unsigned long)off,
	     (unsigned long)len);
	return KERN_SUCCESS;
}

kern_return_t memory_object_supply_completed(mach_port_t reply,
					     mach_port_t ctl, vm_offset_t off,
					     vm_size_t len, kern_return_t result,
					     vm_offset_t error_offset)
{
	plog("supply_completed: %#lx result %#x", (unsigned long)off, result);
	return KERN_SUCCESS;
}

static const char *bug_name;

static void list_bugs(FILE *f)
{
	fprintf(f, "\nbugs:\n");
	for (size_t i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++)
		fprintf(f, "  %-16s %s\n", bugs[i].name, bugs[i].what);
}

static void on_option(int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'b':
		bug_name = arg;
		break;
	case 's':
		v = pager_num("--size", arg, UINT64_MAX);
		if (!v || (v & (PAGE - 1)))
			pdie("--size: '%s' is not a number of whole pages", arg);
		size = v;
		break;
	case 'd':
		delay_ms = (unsigned)pager_num("--delay", arg, UINT32_MAX);
		break;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bug", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "delay", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	size_t i;
	int op;

	P.prog = "mo-faulty";
	P.usage = "mo-faulty [--size N] [--delay MS] [--secret FILE] [-v] ADDR --bug=NAME";
	P.usage_more = list_bugs;
	op = pager_options(argc, argv, longopts, on_option);
	if (argc - op != 1 || !bug_name)
		pager_usage(2);
	for (i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++)
		if (!strcmp(bugs[i].name, bug_name))
			break;
	if (i == sizeof(bugs) / sizeof(bugs[0])) {
		fprintf(stderr, "mo-faulty: unknown bug '%s'\n", bug_name);
		pager_usage(2);
	}
	bug = bugs[i].bug;
	store = calloc(1, size);
	if (!store)
		pdie("cannot allocate %#lx bytes", (unsigned long)size);
	if (pager_start(argv[op], P.secret) < 0)
		return 1;
	plog("bug: %s", bug_name);
	pager_run(argv[op]);
	return 0;
}
