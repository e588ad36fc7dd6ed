/*
 * cli/spawn.h: motrace -- PAGER ARGS: start a pager and attach to it.
 *
 * The pager runs with MOTRACE_TAP_WAIT=1 (mach/control.h): its first
 * mo_mach_publish() waits until a tracer attached through its control
 * socket, so no kernel reaches it before motrace sees the traffic; and
 * with MOTRACE_TAP_SESSION=1: once motrace is gone (detached, or killed)
 * and its last kernel has gone, it exits by itself. Ending motrace is a
 * detach: a pager that still serves kernels runs on until they are done.
 */
#ifndef MO_SPAWN_H
#define MO_SPAWN_H

#include <sys/types.h>

#include "tracer/attach.h"

struct spawn {
	pid_t pid;
	const char *argv0;
	int exit_status;	/* its status, or 128 + signal */
	int exited;		/* it ended by itself (exit_status is its own) */
	int own_group;		/* in a process group of its own (Ctrl-C is motrace's) */
	int runs_on;		/* left running for its kernels at the end */
};

/* Checks the arguments; returns 0, or -1 after a message. */
int spawn_pager(struct spawn *s, char **argv, const char **listen,
		unsigned nlisten);
/* Runs ARGV. Returns 0, or -1 after a message (also when it cannot run). */
int spawn_start(struct spawn *s, char **argv);
/*
 * Attaches to the pager once its control socket is there (it made it
 * when it first published). Returns 0 with *OUT (NULL when the pager
 * exited first), or -1 after a message.
 */
int spawn_attach(struct spawn *s, struct mo_proxy *p,
		 const struct mo_attach_opts *opts, struct mo_attach **out);
/* Has the pager exited? (Sets exit_status.) */
int spawn_exited(struct spawn *s);
/*
 * At the end: a pager that serves no kernel (KERNELS 0) gets a second to
 * finish, then SIGTERM; one that does runs on (runs_on is set).
 */
void spawn_release(struct spawn *s, unsigned kernels);

#endif
