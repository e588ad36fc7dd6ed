/*
 * tracer/attach.h: motrace attached to a running pager through its
 * control socket (mach/control.h; doc/attach.md).
 *
 * The pager's library sends each message of its memory objects to
 * motrace and keeps it; motrace's engine (rules, queues, trace) judges
 * it as it judges the proxy's, and the verdict goes back: pass, drop or
 * a rewritten field. In observe mode the frames are copies, already
 * delivered. Detaching gives every held message back first; a motrace
 * that dies gives them back too (the library passes what it holds).
 *
 * The frames come through a thread that only reads the socket and hands
 * each frame to a port in the proxy's set, so the proxy's loop (and the
 * faces on it) handles them as it handles Mach messages.
 */
#ifndef MO_ATTACH_H
#define MO_ATTACH_H

#include "tracer/proxy.h"

struct mo_attach;

struct mo_attach_opts {
	int observe;		/* copies only (--observe) */
	/* How the log names the manager: NULL for "pid N". */
	const char *manager;
	/* No message when no one listens there yet (a pager starting). */
	int quiet;
	/*
	 * For --listen/--to (cli/handoff.c): the objects are not announced
	 * in the log at the attach; mo_attach_adopt says which one kernels
	 * reach and where, and a pager that goes away is said to so.
	 */
	int handoff;
	/* Not NULL: why an attach failed goes here, not to standard error. */
	char *why;
	size_t whylen;
};

/*
 * Attaches to TARGET: a pid (its control socket is found in the usual
 * folders) or unix:PATH. Returns the attachment, or NULL after printing
 * a message that says why (no such process, not a pager on
 * libmotrace-mach, another user's, traced already).
 */
struct mo_attach *mo_attach_open(struct mo_proxy *p, const char *target,
				 const struct mo_attach_opts *opts);
/* The control socket's path for PID, whether it exists or not. */
void mo_attach_path(unsigned pid, char *buf, size_t len);
/* Has the pager closed the connection (exited, or detached us)? */
int mo_attach_gone(const struct mo_attach *a);
/* Kernels of the pager's that have not gone (as far as motrace saw). */
unsigned mo_attach_kernels(const struct mo_attach *a);
/*
 * Detaches: what the engine holds or delays is let go first (dropped
 * with DROP), then the pager is told, and motrace waits (up to 5 s) for
 * its answer. Returns 0, or -1 after a message.
 */
int mo_attach_detach(struct mo_attach *a, int drop);
/* Has it detached (mo_attach_detach, or the pager said so)? */
int mo_attach_detached(const struct mo_attach *a);
/* The pager's pid. */
unsigned mo_attach_pid(const struct mo_attach *a);
/* The attachments open (not freed), in the order they were made. */
unsigned mo_attach_count(void);
struct mo_attach *mo_attach_nth(unsigned i);
/* One line about A. */
void mo_attach_info(const struct mo_attach *a, struct strbuf *out);
/*
 * Hands the listening socket LFD, bound at LISTEN, to the pager: it serves
 * it as one more address of its object published at TO (kernels that
 * connect to LISTEN are the pager's, as if they had connected to TO;
 * KEY, when not NULL, is the secret they must prove), until motrace
 * detaches or dies. LFD stays the caller's. Returns 0 (the log says
 * "object N: kernels at LISTEN reach the manager at TO"), or -1 with WHY
 * set (no object of the pager's is at TO, or the pager refused). With
 * LFD -1 it only asks whether the pager would serve one (before the
 * socket is made).
 */
int mo_attach_adopt(struct mo_attach *a, int lfd, const char *listen,
		    const char *to, const unsigned char *key, char *why,
		    size_t whylen);
/* Frees A (detach first: a connection closed without it is a kill). */
void mo_attach_free(struct mo_attach *a);

#endif
