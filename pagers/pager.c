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
#include <mach/notify.h>

#include "pagers/pager.h"
#include "util/parse.h"

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

uint64_t pager_num(const char *what, const char *s, uint64_t max)
{
	char err[160];
	uint64_t v;

	if (mo_parse_u64(what, s, MO_PARSE_PAGES, max, &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", P.prog, err);
		exit(2);
	}
	return v;
}

int pager_watch(mach_port_t ctl)
{
	mach_port_t prev = MACH_PORT_NULL;
	kern_return_t kr;

	/* sync 1: a port dead already is told at once (mach_port.defs). */
	kr = mach_port_request_notification(mach_task_self(), ctl,
					    MACH_NOTIFY_DEAD_NAME, 1, P.notify,
					    MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	if (kr != KERN_SUCCESS) {
		fprintf(stderr, "%s: control port %u: no dead-name notification "
			"(%#x): a kernel that dies keeps its place\n", P.prog,
			ctl, (unsigned)kr);
		return -1;
	}
	if (prev != MACH_PORT_NULL)
		mach_port_deallocate(mach_task_self(), prev);
	return 0;
}

/*
 * A notification on P.notify. A dead name is a kernel gone without
 * terminate: forgotten, and its name freed (every reference: each message
 * from the kernel brought one). Port-deleted (the name went at terminate)
 * and send-once notifications need nothing.
 */
static void notified(const mach_msg_header_t *h)
{
	const mach_dead_name_notification_t *n =
		(const mach_dead_name_notification_t *)h;
	mach_port_type_t type = 0;

	if (h->msgh_id != MACH_NOTIFY_DEAD_NAME || h->msgh_size < sizeof(*n))
		return;
	/* Only a name that is dead still: it cannot have been reused. */
	if (mach_port_type(mach_task_self(), n->not_port, &type) != KERN_SUCCESS ||
	    !(type & MACH_PORT_TYPE_DEAD_NAME))
		return;
	plog("kernel with control port %u is gone (dead name)", n->not_port);
	pager_forget(n->not_port);
	mach_port_destroy(mach_task_self(), n->not_port);
}

void pager_usage(int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f, "usage: %s\n", P.usage);
	if (P.usage_more)
		P.usage_more(f);
	exit(status);
}

int pager_options(int argc, char **argv, const struct option *own,
		  void (*on_option)(int c, const char *arg))
{
	static const struct option common[] = {
		{ "secret", required_argument, NULL, 0x100 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 0, nc = sizeof(common) / sizeof(common[0]);
	struct option *all;
	int c;

	while (own && own[n].name)
		n++;
	all = calloc(n + nc + 1, sizeof(*all));
	if (!all)
		pdie("out of memory");
	memcpy(all, common, sizeof(common));
	if (n)
		memcpy(all + nc, own, n * sizeof(*own));
	while ((c = getopt_long(argc, argv, "vh", all, NULL)) != -1) {
		switch (c) {
		case 0x100: P.secret = optarg; break;
		case 'v': P.verbose = 1; break;
		case 'h': pager_usage(0);
		case '?': pager_usage(2);
		default: on_option(c, optarg); break;
		}
	}
	free(all);
	return optind;
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
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &P.notify) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET, &P.pset) ||
	    mach_port_move_member(task, P.object, P.pset) ||
	    mach_port_move_member(task, P.reply, P.pset) ||
	    mach_port_move_member(task, P.sigport, P.pset) ||
	    mach_port_move_member(task, P.notify, P.pset)) {
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
		if (in.h.msgh_local_port == P.notify) {
			notified(&in.h);
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
