/*
 * tracer/loop.c: what the loop waits on besides its ports (engine.h,
 * mo_engine_add_fd and mo_engine_add_timer).
 *
 * Timers are the loop's own: the transport sleeps no longer than the
 * next one's due time and runs them when it wakes. Descriptors are
 * polled by one thread of the engine's, which never calls a callback:
 * it marks what poll found, stops watching those descriptors, and wakes
 * the loop once (the transport's waker); the loop's thread then calls
 * the callbacks and gives the descriptors back to the poller. The
 * poller's own pipe ends its poll whenever the set changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/engine.h"
#include "util/xalloc.h"

struct lfd {
	int fd;
	unsigned events;
	unsigned serial;	/* tells a slot's watch from an earlier one's */
	mo_engine_fd_fn *fn;
	void *ctx;
	unsigned revents;	/* what poll found, for the loop to hand on */
	int armed;		/* the poller watches it */
};

struct ltimer {
	unsigned id;
	uint64_t due, period;
	mo_engine_timer_fn *fn;
	void *ctx;
};

struct mo_engine_loop {
	pthread_mutex_t lock;	/* the descriptors, woken, stop */
	struct lfd *fds;
	unsigned nfds, afds, serial;
	int ctl[2];		/* the poller's pipe: the set changed, or stop */
	pthread_t poller;
	int have_poller, stop;
	int woken;		/* a wake is on its way and not yet taken */
	int running;		/* mo_engine_run_fds is calling back */
	void (*wake)(void *ctx);
	void *wake_ctx;
	struct ltimer *timers;
	unsigned ntimers, atimers, next_id;
};

static struct mo_engine_loop *loop_of(struct mo_engine *e)
{
	if (!e->loop) {
		e->loop = mo_xcalloc(1, sizeof(*e->loop));
		pthread_mutex_init(&e->loop->lock, NULL);
		e->loop->ctl[0] = e->loop->ctl[1] = -1;
	}
	return e->loop;
}

void mo_engine_set_waker(struct mo_engine *e, void (*wake)(void *ctx),
			 void *ctx)
{
	struct mo_engine_loop *l = loop_of(e);

	pthread_mutex_lock(&l->lock);
	l->wake = wake;
	l->wake_ctx = ctx;
	pthread_mutex_unlock(&l->lock);
}

/* Ends the poller's poll: it looks at the set again. */
static void poke(struct mo_engine_loop *l)
{
	char c = 0;

	if (l->ctl[1] >= 0)
		while (write(l->ctl[1], &c, 1) < 0 && errno == EINTR)
			;
}

static void *poller_main(void *arg)
{
	struct mo_engine_loop *l = arg;
	struct pollfd *pfd = NULL;
	unsigned *serial = NULL, cap = 0;

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		unsigned n = 1, found = 0;
		int r;

		if (cap < l->nfds + 1) {
			cap = l->nfds + 1;
			pfd = mo_xrealloc(pfd, cap * sizeof(*pfd));
			serial = mo_xrealloc(serial, cap * sizeof(*serial));
		}
		pfd[0].fd = l->ctl[0];
		pfd[0].events = POLLIN;
		for (unsigned i = 0; i < l->nfds; i++)
			if (l->fds[i].armed) {
				pfd[n].fd = l->fds[i].fd;
				pfd[n].events = (short)l->fds[i].events;
				serial[n++] = l->fds[i].serial;
			}
		pthread_mutex_unlock(&l->lock);
		r = poll(pfd, n, -1);
		pthread_mutex_lock(&l->lock);
		if (r <= 0)
			continue;
		if (pfd[0].revents) {
			char buf[64];

			while (read(l->ctl[0], buf, sizeof(buf)) > 0)
				;
		}
		for (unsigned k = 1; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			/* A descriptor taken away meanwhile is not told of. */
			for (unsigned i = 0; i < l->nfds; i++)
				if (l->fds[i].serial == serial[k] && l->fds[i].armed) {
					l->fds[i].revents |= (unsigned)pfd[k].revents;
					l->fds[i].armed = 0;
					found = 1;
				}
		}
		if (found && !l->woken && l->wake) {
			l->woken = 1;
			/* The waker sends a message: no lock held across it. */
			pthread_mutex_unlock(&l->lock);
			l->wake(l->wake_ctx);
			pthread_mutex_lock(&l->lock);
		}
	}
	pthread_mutex_unlock(&l->lock);
	free(pfd);
	free(serial);
	return NULL;
}

static int start_poller(struct mo_engine_loop *l)
{
	sigset_t all, old;
	int r;

	if (l->have_poller)
		return 0;
	if (pipe2(l->ctl, O_NONBLOCK | O_CLOEXEC) < 0) {
		l->ctl[0] = l->ctl[1] = -1;
		return -1;
	}
	l->stop = 0;
	/*
	 * No signal for the poller: SIGINT and the rest go to a thread whose
	 * wait they end (the loop's, in mach_msg with MACH_RCV_INTERRUPT).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&l->poller, NULL, poller_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(l->ctl[0]);
		close(l->ctl[1]);
		l->ctl[0] = l->ctl[1] = -1;
		return -1;
	}
	l->have_poller = 1;
	return 0;
}

int mo_engine_add_fd(struct mo_engine *e, int fd, unsigned events,
		     mo_engine_fd_fn *fn, void *ctx)
{
	struct mo_engine_loop *l = loop_of(e);
	struct lfd *f;

	if (fd < 0 || !fn || !l->wake)
		return -1;
	for (unsigned i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd)
			return -1;
	if (start_poller(l) < 0)
		return -1;
	pthread_mutex_lock(&l->lock);
	if (l->nfds == l->afds) {
		l->afds = l->afds ? 2 * l->afds : 4;
		l->fds = mo_xrealloc(l->fds, l->afds * sizeof(*l->fds));
	}
	f = &l->fds[l->nfds++];
	f->fd = fd;
	f->events = events;
	f->serial = ++l->serial;
	f->fn = fn;
	f->ctx = ctx;
	f->revents = 0;
	f->armed = 1;
	pthread_mutex_unlock(&l->lock);
	poke(l);
	return 0;
}

void mo_engine_remove_fd(struct mo_engine *e, int fd)
{
	struct mo_engine_loop *l = e->loop;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	for (unsigned i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			break;
		}
	pthread_mutex_unlock(&l->lock);
	poke(l);
}

unsigned mo_engine_run_fds(struct mo_engine *e)
{
	struct mo_engine_loop *l = e->loop;
	unsigned ran = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	l->woken = 0;
	/*
	 * A callback that makes the loop turn again (a detach's drain) finds
	 * this one calling back: what it found ready waits for this one.
	 */
	if (l->running) {
		pthread_mutex_unlock(&l->lock);
		return 0;
	}
	l->running = 1;
	for (;;) {
		unsigned serial = 0, revents = 0;
		mo_engine_fd_fn *fn = NULL;
		void *ctx = NULL;
		int fd = -1;

		for (unsigned i = 0; i < l->nfds; i++)
			if (l->fds[i].revents) {
				serial = l->fds[i].serial;
				revents = l->fds[i].revents;
				fn = l->fds[i].fn;
				ctx = l->fds[i].ctx;
				fd = l->fds[i].fd;
				l->fds[i].revents = 0;
				break;
			}
		if (!fn)
			break;
		pthread_mutex_unlock(&l->lock);
		fn(ctx, fd, revents);
		ran++;
		pthread_mutex_lock(&l->lock);
		/* Watched again, unless the callback took it away. */
		for (unsigned i = 0; i < l->nfds; i++)
			if (l->fds[i].serial == serial && !l->fds[i].revents)
				l->fds[i].armed = 1;
	}
	l->running = 0;
	pthread_mutex_unlock(&l->lock);
	if (ran)
		poke(l);
	return ran;
}

unsigned mo_engine_add_timer(struct mo_engine *e, uint64_t due,
			     uint64_t period, mo_engine_timer_fn *fn,
			     void *ctx)
{
	struct mo_engine_loop *l = loop_of(e);
	struct ltimer *t;

	if (l->ntimers == l->atimers) {
		l->atimers = l->atimers ? 2 * l->atimers : 4;
		l->timers = mo_xrealloc(l->timers, l->atimers * sizeof(*l->timers));
	}
	t = &l->timers[l->ntimers++];
	if (!++l->next_id)
		l->next_id = 1;
	t->id = l->next_id;
	t->due = due;
	t->period = period;
	t->fn = fn;
	t->ctx = ctx;
	return t->id;
}

void mo_engine_remove_timer(struct mo_engine *e, unsigned id)
{
	struct mo_engine_loop *l = e->loop;

	if (!l)
		return;
	for (unsigned i = 0; i < l->ntimers; i++)
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
}

uint64_t mo_engine_next_timer(const struct mo_engine *e)
{
	const struct mo_engine_loop *l = e->loop;
	uint64_t due = UINT64_MAX;

	if (l)
		for (unsigned i = 0; i < l->ntimers; i++)
			if (l->timers[i].due < due)
				due = l->timers[i].due;
	return due;
}

unsigned mo_engine_run_timers(struct mo_engine *e, uint64_t now)
{
	struct mo_engine_loop *l = e->loop;
	unsigned ran = 0;

	if (!l)
		return 0;
	for (;;) {
		struct ltimer t;
		unsigned k = l->ntimers;

		/* The earliest first, so that two timers go in their order. */
		for (unsigned i = 0; i < l->ntimers; i++)
			if (l->timers[i].due <= now &&
			    (k == l->ntimers || l->timers[i].due < l->timers[k].due))
				k = i;
		if (k == l->ntimers)
			break;
		t = l->timers[k];
		if (t.period) {
			/* A late loop runs it once, not once per period missed. */
			l->timers[k].due = t.due + t.period > now ? t.due + t.period
								  : now + t.period;
		} else {
			l->timers[k] = l->timers[--l->ntimers];
		}
		t.fn(t.ctx, now);
		ran++;
	}
	return ran;
}

void mo_engine_loop_free(struct mo_engine *e)
{
	struct mo_engine_loop *l = e->loop;

	if (!l)
		return;
	if (l->have_poller) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_mutex_unlock(&l->lock);
		poke(l);
		pthread_join(l->poller, NULL);
		close(l->ctl[0]);
		close(l->ctl[1]);
	}
	pthread_mutex_destroy(&l->lock);
	free(l->fds);
	free(l->timers);
	free(l);
	e->loop = NULL;
}
