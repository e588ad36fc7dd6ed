/*
 * tests/hurd/shim/shim.c: our stand-ins for what the Hurd's C library
 * gives libports and libpager and Linux's has not (shim/hurd.h,
 * shim/hurd/sigpreempt.h; doc/pager-howto.md, "What the Hurd's C
 * library gives").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <hurd.h>
#include <hurd/sigpreempt.h>

/* One per thread that asked for its port or was cancelled. */
struct shim_thread {
	struct shim_thread *next;
	thread_t port;
	int cancel;			/* hurd_thread_cancel asked */
	pthread_cond_t *waiting;	/* in pthread_hurd_cond_wait_np on it */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_thread *threads;
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void thread_gone(void *arg)
{
	struct shim_thread *t = arg, **tp;

	pthread_mutex_lock(&lock);
	for (tp = &threads; *tp; tp = &(*tp)->next)
		if (*tp == t) {
			*tp = t->next;
			break;
		}
	pthread_mutex_unlock(&lock);
	mach_port_deallocate(mach_task_self(), t->port);
	free(t);
}

static void key_init(void)
{
	if (pthread_key_create(&key, thread_gone))
		abort();
}

static struct shim_thread *self(void)
{
	struct shim_thread *t;

	pthread_once(&once, key_init);
	t = pthread_getspecific(key);
	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	/* glibc keeps one send right per thread, made once. */
	t->port = mach_thread_self();
	pthread_setspecific(key, t);
	pthread_mutex_lock(&lock);
	t->next = threads;
	threads = t;
	pthread_mutex_unlock(&lock);
	return t;
}

thread_t hurd_thread_self(void)
{
	return self()->port;
}

error_t hurd_thread_cancel(thread_t thread)
{
	struct shim_thread *t;
	pthread_cond_t *c = NULL;

	pthread_mutex_lock(&lock);
	for (t = threads; t; t = t->next)
		if (t->port == thread)
			break;
	if (t) {
		t->cancel = 1;
		c = t->waiting;
	}
	pthread_mutex_unlock(&lock);
	if (!t)
		return ESRCH;
	if (c)
		pthread_cond_broadcast(c);
	return 0;
}

int hurd_check_cancel(void)
{
	struct shim_thread *t = self();
	int c;

	pthread_mutex_lock(&lock);
	c = t->cancel;
	t->cancel = 0;
	pthread_mutex_unlock(&lock);
	return c;
}

/*
 * NPTL gives no hook into a condition's wait queue (the Hurd's libpthread
 * takes the waiter off it in the canceller), so a cancel that comes
 * between the check and the wait would be missed: the wait wakes every
 * second to look again. A cancel that finds the waiter waiting wakes it
 * at once (the broadcast above).
 */
int pthread_hurd_cond_wait_np(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
	struct shim_thread *t = self();
	struct timespec ts;
	int cancelled = 0;

	pthread_mutex_lock(&lock);
	if (t->cancel) {
		t->cancel = 0;
		pthread_mutex_unlock(&lock);
		return 1;
	}
	t->waiting = cond;
	pthread_mutex_unlock(&lock);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_cond_timedwait(cond, mutex, &ts);

	pthread_mutex_lock(&lock);
	t->waiting = NULL;
	if (t->cancel) {
		t->cancel = 0;
		cancelled = 1;
	}
	pthread_mutex_unlock(&lock);
	return cancelled;
}

error_t get_privileged_ports(mach_port_t *host_priv_ptr,
			     mach_port_t *device_master_ptr)
{
	if (host_priv_ptr)
		*host_priv_ptr = MACH_PORT_NULL;
	if (device_master_ptr)
		*device_master_ptr = MACH_PORT_NULL;
	return MACH_SEND_INVALID_DEST;
}

error_t hurd_catch_signal(sigset_t sigset, unsigned long first,
			  unsigned long last,
			  error_t (*operate)(struct hurd_signal_preemptor *),
			  sighandler_t handler)
{
	struct hurd_signal_preemptor p = { sigset, first, last };

	(void)handler;
	return operate(&p);
}

/*
 * GNU Mach's debugging trap (kern/syscall_sw.c, mach_print; kernels
 * built with MACH_KDB print the string on their console), which the
 * Hurd's assert_backtrace uses for its backtrace: here, stderr.
 */
void mach_print(const char *s)
{
	fputs(s, stderr);
}
