/*
 * cli/spawn.h: motrace -- PAGER ARGS: start a pager whose published
 * addresses are served through motrace.
 *
 * The pager runs with MOTRACE_INTERPOSE set to an address of motrace's;
 * libmotrace-mach's mo_mach_publish() then hands the port to motrace
 * instead of publishing it (mach/interpose.c), and motrace publishes the
 * address itself, with its object proxy behind it.
 */
#ifndef MO_SPAWN_H
#define MO_SPAWN_H

#include <sys/types.h>

#include "tracer/proxy.h"

struct spawn {
	pid_t pid;
	const char *argv0;
	int exit_status;	/* its status, or 128 + signal */
	int exited;		/* it ended by itself (exit_status is its own) */
	char *dir;		/* private folder of the registration socket */
	char *addr;
	int own_group;		/* in a process group of its own (Ctrl-C is motrace's) */
};

/* Starts ARGV; returns 0, or -1 after a message. */
int spawn_pager(struct spawn *s, char **argv, const char **listen,
		unsigned nlisten);
/* Serves the addresses the pager publishes, once it has published one. */
int spawn_wait_published(struct spawn *s, struct mo_proxy *p,
			 const char *secret);
/*
 * Runs the pager, which now finds motrace at s->addr. Returns 0, or -1
 * after a message (also when the program cannot be run).
 */
int spawn_start(struct spawn *s, char **argv);
/* Has the pager exited? (Sets exit_status.) */
int spawn_exited(struct spawn *s);
/* Stops the pager if it still runs, and cleans up. */
void spawn_release(struct spawn *s);

#endif
