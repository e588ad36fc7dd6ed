/*
 * pagers/pager.c: the loop and the chores the pagers share (pager.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mach.h>
#include <mach/motrace.h>

#include "pagers/pager.h"

boolean_t memory_object_server(mach_msg_header_t *in, mach_msg_header_t *out);

struct pager P;

void plog(const char *fmt, ...)
{
	va_list ap;

	if (!P.verbose)
		return;
	fprintf(stderr, "%s: ", P.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pdie(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", P.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int pager_num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (end == s || errno)
		return -1;
	if (*end == 'p') {
		*v *= PAGE;
		end++;
	}
	return *end ? -1 : 0;
}

void pager_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Signals become messages to P.sigport (id = the signal), so the one
 * thread that serves the kernels also handles them, between messages.
 */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	while (sigwait(set, &sig) == 0) {
		mach_msg_header_t h;

		memset(&h, 0, sizeof(h));
		h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
		h.msgh_remote_port = P.sigport;
		h.msgh_size = sizeof(h);
		h.msgh_id = sig;
		mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
			 MACH_PORT_NULL);
		if (sig != SIGUSR1)
			break;
	}
	return NULL;
}

int pager_start(const char *addr, const char *secret)
{
	static sigset_t set;
	mach_port_t task = mach_task_self();
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &P.object) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &P.reply) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &P.sigport) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET, &P.pset) ||
	    mach_port_move_member(task, P.object, P.pset) ||
	    mach_port_move_member(task, P.reply, P.pset) ||
	    mach_port_move_member(task, P.sigport, P.pset)) {
		fprintf(stderr, "%s: cannot allocate ports\n", P.prog);
		return -1;
	}
	if (mo_mach_publish(addr, P.object, secret, NULL) < 0)
		return -1;
	if (pthread_create(&t, NULL, signal_thread, &set)) {
		fprintf(stderr, "%s: cannot start the signal thread\n", P.prog);
		return -1;
	}
	pthread_detach(t);
	plog("serving at %s", addr);
	return 0;
}

void pager_run(const char *addr)
{
	union {
		mach_msg_header_t h;
		char buf[8192];
	} in, out;

	while (!P.quit) {
		mig_reply_header_t *r = (mig_reply_header_t *)&out.h;
		mach_msg_return_t mr;

		mr = mo_mach_receive(&in.h, sizeof(in), P.pset, 0, MACH_MSG_TIMEOUT_NONE);
		if (mr != MACH_MSG_SUCCESS) {
			fprintf(stderr, "%s: receive: %#x\n", P.prog,
				(unsigned)mr);
			break;
		}
		if (in.h.msgh_local_port == P.sigport) {
			if (in.h.msgh_id == SIGUSR1) {
				if (P.on_signal)
					P.on_signal(SIGUSR1);
			} else {
				plog("signal %d: leaving", in.h.msgh_id);
				P.quit = 1;
			}
			continue;
		}
		if (!memory_object_server(&in.h, &out.h)) {
			plog("message %d is not of memory_object.defs",
			     in.h.msgh_id);
			continue;
		}
		if (r->RetCode != MIG_NO_REPLY &&
		    out.h.msgh_remote_port != MACH_PORT_NULL)
			mach_msg(&out.h, MACH_SEND_MSG, out.h.msgh_size, 0,
				 MACH_PORT_NULL, 0, MACH_PORT_NULL);
	}
	mo_mach_unpublish(addr);
}

/*
 * memory_object_terminate, shared: the control and name receive rights
 * arrive here (under the names their send rights had) and are dropped;
 * the pager forgets the kernel first (pager_forget).
 */
kern_return_t memory_object_terminate(mach_port_t mo, mach_port_t ctl,
				      mach_port_t name)
{
	plog("terminate: control %u", ctl);
	pager_forget(ctl);
	mach_port_destroy(mach_task_self(), ctl);
	mach_port_destroy(mach_task_self(), name);
	return KERN_SUCCESS;
}
