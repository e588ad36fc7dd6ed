/*
 * mach/thread.c: the thread calls a Hurd server makes (libports'
 * manage-multithread.c, adjust_priority), answering as GNU Mach answers
 * an unprivileged task: mach_thread_self, thread_switch,
 * thread_get_assignment, thread_priority, thread_max_priority and
 * host_processor_set_priv.
 *
 * Each thread's port and the default processor set's name port are
 * kernel objects here: ports whose receive right the library keeps, to
 * which a message is answered MIG_BAD_ID (mo_task_serve). A thread's port
 * dies when the thread exits, so the names for it become dead names, as
 * in GNU Mach (kern/thread.c, thread_deallocate, ipc_thread_terminate).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <mach.h>
#include <mach/mach_host.h>
#include <mach/thread_switch.h>

#include "mach/ipc.h"

/* GNU Mach kern/sched.h: NRQS run queues, the priority of user threads;
 * invalid_pri(). A thread's max_priority starts at its task's, which is
 * BASEPRI_USER for a task that nobody privileged changed. */
#define NRQS 50
#define BASEPRI_USER 25

struct kthread {
	struct kthread *next;
	struct kport *port;
	int priority, max_priority;
};

static struct kthread *threads;	/* mo_lock */
static struct kport *pset_name_port;	/* mo_lock */
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_gone(void *arg)
{
	struct kthread *t = arg, **tp;

	pthread_mutex_lock(&mo_lock);
	for (tp = &threads; *tp; tp = &(*tp)->next)
		if (*tp == t) {
			*tp = t->next;
			break;
		}
	mo_kport_kill(t->port);
	mo_kport_unref(t->port);
	pthread_mutex_unlock(&mo_lock);
	free(t);
}

static void key_init(void)
{
	if (pthread_key_create(&thread_key, thread_gone))
		abort();
}

/* A port of the library's, no name holding its receive right. */
static struct kport *kobject_new(void)
{
	struct kport *p = mo_kport_new(KP_LOCAL);

	p->kobject = 1;
	return p;
}

/* One more send right to P under its name here; mo_lock held. */
static mach_port_t send_right(struct kport *p)
{
	mo_kport_ref(p);
	p->srights++;
	return mo_space_copyout(p, MACH_MSG_TYPE_PORT_SEND);
}

/*
 * GNU Mach kern/ipc_tt.c, mach_thread_self: a new send right (one more
 * user reference) to the calling thread's port, which the caller
 * deallocates.
 */
mach_port_t mach_thread_self(void)
{
	struct kthread *t;
	mach_port_t name;

	mo_init();
	pthread_once(&key_once, key_init);
	t = pthread_getspecific(thread_key);
	pthread_mutex_lock(&mo_lock);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			abort();
		t->port = kobject_new();
		t->priority = t->max_priority = BASEPRI_USER;
		t->next = threads;
		threads = t;
		pthread_setspecific(thread_key, t);
	}
	name = send_right(t->port);
	pthread_mutex_unlock(&mo_lock);
	return name;
}

/*
 * The port NAME holds a send right to, as a kernel RPC's destination
 * is taken: not a send right, and the RPC's mach_msg would fail with
 * MACH_SEND_INVALID_DEST (*kr). mo_lock held.
 */
static struct kport *dest_port(mach_port_t name, kern_return_t *kr)
{
	struct entry *e = mo_space_lookup(name);

	if (!e || !(e->type & MACH_PORT_TYPE_SEND) || !e->port ||
	    e->port->kind == KP_DEAD) {
		*kr = MACH_SEND_INVALID_DEST;
		return NULL;
	}
	*kr = KERN_SUCCESS;
	return e->port;
}

/* The thread of a port, or NULL: MIG's convert_port_to_thread. */
static struct kthread *thread_of(struct kport *p)
{
	struct kthread *t;

	for (t = threads; t; t = t->next)
		if (t->port == p)
			return t;
	return NULL;
}

/*
 * GNU Mach kern/syscall_subr.c, thread_switch: an unknown option is
 * KERN_INVALID_ARGUMENT; the hint names a thread to run instead (a
 * Linux process cannot hand its processor to one thread, so it only
 * yields); SWITCH_OPTION_DEPRESS depresses the caller's priority for
 * TIME ms and yields (Linux lets no unprivileged thread raise its
 * priority back, so the depression is the yield alone);
 * SWITCH_OPTION_WAIT blocks for TIME ms.
 */
kern_return_t thread_switch(mach_port_t thread, int option,
			    mach_msg_timeout_t time)
{
	struct timespec ts;

	(void)thread;
	switch (option) {
	case SWITCH_OPTION_NONE:
	case SWITCH_OPTION_DEPRESS:
		sched_yield();
		return KERN_SUCCESS;
	case SWITCH_OPTION_WAIT:
		ts.tv_sec = time / 1000;
		ts.tv_nsec = (long)(time % 1000) * 1000000;
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		return KERN_SUCCESS;
	default:
		return KERN_INVALID_ARGUMENT;
	}
}

/*
 * mach_host.defs, thread_get_assignment: a send right to the name port
 * of the thread's processor set (GNU Mach has one, the default set);
 * a port that is no thread's is THREAD_NULL, KERN_INVALID_ARGUMENT
 * (kern/thread.c).
 */
kern_return_t thread_get_assignment(mach_port_t thread, mach_port_t *assigned_set)
{
	struct kport *p;
	kern_return_t kr;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	p = dest_port(thread, &kr);
	if (p && !thread_of(p))
		kr = KERN_INVALID_ARGUMENT;
	if (kr == KERN_SUCCESS) {
		if (!pset_name_port)
			pset_name_port = kobject_new();
		*assigned_set = send_right(pset_name_port);
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * mach_host.defs, host_processor_set_priv: needs the privileged host
 * port, which a task gets only from the kernel at boot or from the proc
 * server (get_privileged_ports); the library has none, so any port is
 * HOST_NULL there and the answer KERN_INVALID_ARGUMENT
 * (kern/processor.c, host_processor_set_priv).
 */
kern_return_t host_processor_set_priv(mach_port_t host_priv,
				      mach_port_t set_name, mach_port_t *set)
{
	kern_return_t kr;

	(void)set_name;
	*set = MACH_PORT_NULL;
	pthread_mutex_lock(&mo_lock);
	if (dest_port(host_priv, &kr))
		kr = KERN_INVALID_ARGUMENT;
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * GNU Mach kern/thread.c, thread_priority: lower numbers run first; a
 * priority out of [0, NRQS) or a port that is no thread's is
 * KERN_INVALID_ARGUMENT, one above the thread's max_priority (a smaller
 * number) KERN_FAILURE; SET_MAX lowers max_priority with it. What the
 * thread is given is recorded, not passed to Linux's scheduler.
 */
kern_return_t thread_priority(mach_port_t thread, int priority,
			      boolean_t set_max)
{
	struct kthread *t = NULL;
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	p = dest_port(thread, &kr);
	if (p && (!(t = thread_of(p)) || priority < 0 || priority >= NRQS))
		kr = KERN_INVALID_ARGUMENT;
	else if (t && priority < t->max_priority)
		kr = KERN_FAILURE;
	else if (t) {
		t->priority = priority;
		if (set_max)
			t->max_priority = priority;
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * GNU Mach kern/thread.c, thread_max_priority: needs the thread's
 * processor set's control port (processor_set_t), which only
 * host_processor_set_priv gives; a name port or any other is
 * PROCESSOR_SET_NULL, KERN_INVALID_ARGUMENT (libports' adjust_priority
 * reads that as "not permitted").
 */
kern_return_t thread_max_priority(mach_port_t thread, mach_port_t pset,
				  int max_priority)
{
	kern_return_t kr;

	(void)max_priority;
	pthread_mutex_lock(&mo_lock);
	if (dest_port(thread, &kr) && dest_port(pset, &kr))
		kr = KERN_INVALID_ARGUMENT;
	pthread_mutex_unlock(&mo_lock);
	return kr;
}
