/*
 * mach/io.c: who reads the links and when: the I/O thread, which also
 * accepts connections on published addresses and flushes what a socket
 * did not take, and the program thread blocked in mach_msg, which reads
 * them itself when it can (mo_io_reader).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/eventfd.h>

#include "mach/link.h"

/*
 * Who reads the links. A thread blocked in mach_msg reads them itself
 * when it can (RD_APP): the message it waits for then costs one wake-up,
 * not two (I/O thread, then receiver). The I/O thread reads (RD_IO) when
 * no program thread has for a while: it takes a free role only when no
 * thread took it between two of its 2 ms ticks, and gives it up when a
 * receiver asks. Always under mo_lock.
 */
enum { RD_IO, RD_FREE, RD_APP };
static int rd_role = RD_IO;
static unsigned rd_epoch;	/* counts takings by program threads */
static int rd_want;		/* a receiver asked the I/O thread to let go */
static pthread_t rd_thread;
static struct kport *rd_port;	/* what the reading thread waits for */
static struct kpset *rd_pset;
static int app_fd = -1;		/* wakes the reading thread in poll() */
static struct io_waiter *rd_waiters;
#define IO_TICK_MS 2

static int wake_fd = -1;

/*
 * Descriptors read, like the links, by whichever thread holds the
 * reading role (mo_io_watch): a control socket's (control.c) or a
 * tracer's (motrace's, on its pager's control socket). Their handler
 * runs in the thread that read, so that what it queues for the thread
 * blocked in mach_msg costs no wake-up of another thread.
 */
struct iofd {
	struct iofd *next;
	int fd;
	void (*cb)(void *);
	void *ctx;
	int refs;		/* the list's and each pollset's */
	int dead;		/* unwatched: its handler runs no more */
	int close_it;		/* close FD once the last reference is dropped */
	int running;		/* its handler runs, in RUNNER */
	pthread_t runner;
};
static struct iofd *iofds;
static pthread_cond_t iofd_done = PTHREAD_COND_INITIALIZER;

struct listener {
	struct listener *next;
	int fd;
	char *addr;
	struct kport *port;
	uint8_t key[WIRE_KEY];
	int has_key;
	int ending;		/* adopted, its tracer gone: drain, then close */
};
static struct listener *listeners;

/*
 * Connections accepted whose handshake is under way (handshake.c), read
 * by the I/O thread alone; oldest first. No thread waits on any of them.
 */
#define PENDING_MAX 256
#define HANDSHAKE_MS 10000
#define IDLE_MS 1000		/* a peer says hello as it connects: past this, it is idle */
static struct mo_pending *pending;
static unsigned npending;
static uint64_t accept_again;	/* listeners rest until then (ms) */
static unsigned accept_pause;	/* for how long, doubling */
static uint64_t full_until;	/* PENDING_MAX under way: rest until the oldest is idle */
static int io_untimed;		/* the I/O thread sleeps without a timeout */

void mo_io_wake(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0 && write(wake_fd, &one, 8) < 0 && errno != EAGAIN)
		mo_warn("cannot wake the i/o thread: %s", strerror(errno));
}

int mo_io_add_listener(int fd, const char *addr, struct kport *port,
		    const uint8_t *key)
{
	struct listener *ls = calloc(1, sizeof(*ls));

	if (!ls)
		abort();
	ls->fd = fd;
	ls->addr = strdup(addr);
	ls->port = port;
	if (key) {
		memcpy(ls->key, key, WIRE_KEY);
		ls->has_key = 1;
	}
	ls->next = listeners;
	listeners = ls;
	mo_io_wake();
	return 0;
}

int mo_io_remove_listener(const char *addr)
{
	struct listener **pp, *ls;

	for (pp = &listeners; (ls = *pp); pp = &ls->next)
		if (!strcmp(ls->addr, addr)) {
			*pp = ls->next;
			close(ls->fd);
			mo_kport_unref(ls->port);
			free(ls->addr);
			free(ls);
			mo_io_wake();
			return 0;
		}
	return -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Drops PD from the list and frees it; mo_lock not held. */
static void pending_drop(struct mo_pending *pd)
{
	struct mo_pending **pp;

	pthread_mutex_lock(&mo_lock);
	for (pp = &pending; *pp; pp = &(*pp)->next)
		if (*pp == pd) {
			*pp = pd->next;
			npending--;
			break;
		}
	pthread_mutex_unlock(&mo_lock);
	mo_pending_free(pd);
}

/*
 * Makes room for one more handshake when PENDING_MAX are under way or the
 * descriptors ran out: the oldest gives way if it has been idle IDLE_MS
 * (a peer that only connects cannot keep others out); else a burst of
 * real peers is under way and the listeners rest until the oldest is
 * idle, the newcomers waiting in the backlog. Returns 1 if room was made.
 */
static int make_room(const char *addr, const char *why, uint64_t now)
{
	uint64_t since;

	if (!pending)
		return 0;
	since = pending->deadline - HANDSHAKE_MS;
	if (now - since < IDLE_MS) {
		full_until = since + IDLE_MS;
		return 0;
	}
	mo_debug("%s: %s: the oldest handshake, %s, idle for %llu ms, gives way",
		 addr, why, pending->peer, (unsigned long long)(now - since));
	pending_drop(pending);
	return 1;
}

/*
 * Accepts what waits on LS, PENDING_MAX handshakes under way at most
 * (make_room). Out of descriptors with no room to make, the connection
 * stays in the backlog, and accepting again at once would spin: the
 * listeners rest, 10 ms doubling to 1 s, said once for the whole spell.
 */
static int listener_accept(struct listener *ls)
{
	for (int round = 0; round < 16; round++) {
		uint64_t now = now_ms();
		int fd;
		char peer[128];
		struct mo_pending *pd, **pp;

		if (npending >= PENDING_MAX && !make_room(ls->addr, "handshakes under way", now))
			return 0;
		fd = accept4(ls->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    make_room(ls->addr, "out of descriptors", now))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && now < full_until)
			return 0;	/* room comes when the oldest is idle */
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (!accept_pause)
					mo_warn("%s: accept: %s; accepting again when there is room",
						ls->addr, strerror(errno));
				accept_pause = accept_pause ? accept_pause * 2 : 10;
				if (accept_pause > 1000)
					accept_pause = 1000;
				accept_again = now + accept_pause;
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return 1;
			} else if (errno != EINTR && errno != ECONNABORTED) {
				mo_warn("%s: accept: %s", ls->addr, strerror(errno));
			}
			return 0;
		}
		accept_pause = 0;
		if (mo_addr_check_peer(fd, ls->addr, ls->has_key) < 0) {
			close(fd);
			continue;
		}
		mo_addr_peer_name(fd, ls->addr, peer, sizeof(peer));
		pthread_mutex_lock(&mo_lock);
		mo_kport_ref(ls->port);
		pthread_mutex_unlock(&mo_lock);
		pd = mo_pending_new(fd, peer, ls->port, ls->has_key ? ls->key : NULL,
				    now + HANDSHAKE_MS);
		pthread_mutex_lock(&mo_lock);
		for (pp = &pending; *pp; pp = &(*pp)->next)
			;
		*pp = pd;
		npending++;
		pthread_mutex_unlock(&mo_lock);
		if (mo_pending_step(pd))
			pending_drop(pd);
	}
	return 0;
}

/*
 * A listening socket a tracer handed over (control.c, MO_TAP_ADOPT)
 * serves until the tracer is gone; then the connections waiting in its
 * backlog are accepted like the others (a kernel that connected is
 * served) and it closes. The I/O thread does both (end_listeners).
 */
void mo_io_end_listener(int fd)
{
	for (struct listener *ls = listeners; ls; ls = ls->next)
		if (ls->fd == fd)
			ls->ending = 1;
	mo_io_wake();
}

/* The I/O thread: drains and closes the listeners marked ending. */
static void end_listeners(void)
{
	for (;;) {
		struct listener **pp, *ls;

		pthread_mutex_lock(&mo_lock);
		for (ls = listeners; ls && !ls->ending; ls = ls->next)
			;
		pthread_mutex_unlock(&mo_lock);
		if (!ls)
			return;
		/* Until its backlog is empty, or no room is made for long. */
		for (int i = 0; i < 64 && !listener_accept(ls); i++)
			;
		pthread_mutex_lock(&mo_lock);
		for (pp = &listeners; *pp && *pp != ls; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = ls->next;
		close(ls->fd);
		mo_kport_unref(ls->port);
		free(ls->addr);
		free(ls);
		pthread_mutex_unlock(&mo_lock);
	}
}

void mo_io_link_added(void)
{
	mo_io_wake();
	if (rd_role == RD_APP)
		mo_io_wake_reader();
}

void mo_io_wake_reader(void)
{
	uint64_t one = 1;

	if (app_fd >= 0 && write(app_fd, &one, 8) < 0 && errno != EAGAIN)
		mo_warn("cannot wake the reading thread: %s", strerror(errno));
}

void mo_io_wake_for(struct kport *p)
{
	if (rd_role == RD_APP && (p == rd_port || (p->pset && p->pset == rd_pset)) &&
	    !pthread_equal(pthread_self(), rd_thread))
		mo_io_wake_reader();
}

static unsigned fd_waiters;	/* interruptible waiters in rd_waiters */

__thread const sigset_t *mo_intr_mask;

/* poll, or during an interruptible receive ppoll with the thread's own
 * signal mask, so that a signal held back meanwhile ends it (EINTR). */
/* poll()'s timeout, in whole milliseconds rounded up, until DEADLINE. */
static int poll_timeout(const struct timespec *deadline)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static int intr_poll(struct pollfd *pf, nfds_t n, int timeout)
{
	struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };

	if (!mo_intr_mask)
		return poll(pf, n, timeout);
	return ppoll(pf, n, timeout < 0 ? NULL : &ts, mo_intr_mask);
}

/* Wakes waiter W: its eventfd, or its condition variable. */
static void waiter_wake(struct io_waiter *w)
{
	uint64_t one = 1;

	if (w->fd < 0)
		pthread_cond_signal(w->cond);
	else if (write(w->fd, &one, 8) < 0 && errno != EAGAIN)
		mo_warn("cannot wake a receiving thread: %s", strerror(errno));
}

void mo_cond_wake(pthread_cond_t *cond, int all)
{
	if (all)
		pthread_cond_broadcast(cond);
	else
		pthread_cond_signal(cond);
	if (!fd_waiters)
		return;
	for (struct io_waiter *w = rd_waiters; w; w = w->next)
		if (w->fd >= 0 && w->cond == cond)
			waiter_wake(w);
}

int mo_io_wait_intr(pthread_cond_t *cond, const struct timespec *deadline)
{
	static __thread int efd = -1;
	struct io_waiter w;
	struct pollfd pf;
	uint64_t v;
	int timeout = -1, intr = 0;

	if (efd < 0 && (efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		/* No descriptor to sleep on: sleep as the others do. */
		mo_io_waiter_add(&w, cond);
		if (deadline)
			pthread_cond_timedwait(cond, &mo_lock, deadline);
		else
			pthread_cond_wait(cond, &mo_lock);
		mo_io_waiter_del(&w);
		return 0;
	}
	mo_io_waiter_add(&w, cond);
	w.fd = efd;
	fd_waiters++;
	if (deadline)
		timeout = poll_timeout(deadline);
	pf.fd = efd;
	pf.events = POLLIN;
	pthread_mutex_unlock(&mo_lock);
	if (intr_poll(&pf, 1, timeout) < 0 && errno == EINTR)
		intr = 1;
	(void)!read(efd, &v, 8);
	pthread_mutex_lock(&mo_lock);
	fd_waiters--;
	mo_io_waiter_del(&w);
	return intr;
}

void mo_io_waiter_add(struct io_waiter *w, pthread_cond_t *cond)
{
	w->cond = cond;
	w->fd = -1;
	w->next = rd_waiters;
	w->pprev = &rd_waiters;
	if (rd_waiters)
		rd_waiters->pprev = &w->next;
	rd_waiters = w;
}

void mo_io_waiter_del(struct io_waiter *w)
{
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
}

/* Closes the links a failed write marked; mo_lock held. */
static void close_broken(void)
{
	struct link *l;

restart:
	for (l = mo_links; l; l = l->next)
		if (l->broken) {
			/* Closing changes the list: start over. */
			mo_link_close(l, NULL);
			goto restart;
		}
}

struct pollset {
	struct pollfd *pf;
	struct link **who;
	struct iofd **iow;	/* parallel to who: a watched descriptor's */
	size_t cap, n;
};

static void iofd_unref(struct iofd *w)
{
	if (--w->refs)
		return;
	if (w->close_it)
		close(w->fd);
	free(w);
}

void mo_io_watch(int fd, void (*cb)(void *), void *ctx)
{
	struct iofd *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	w->refs = 1;
	w->next = iofds;
	iofds = w;
	mo_io_link_added();
}

void mo_io_unwatch(int fd, int close_it)
{
	struct iofd **pp, *w;

	for (pp = &iofds; (w = *pp); pp = &w->next)
		if (w->fd == fd && !w->dead) {
			*pp = w->next;
			w->dead = 1;
			w->close_it = close_it;
			/* Its handler, in another thread, ends first. */
			while (w->running && !pthread_equal(w->runner, pthread_self()))
				pthread_cond_wait(&iofd_done, &mo_lock);
			iofd_unref(w);
			mo_io_link_added();
			return;
		}
	if (close_it)
		close(fd);
}

void mo_mach_watch_fd(int fd, void (*cb)(void *), void *ctx)
{
	pthread_mutex_lock(&mo_lock);
	mo_io_watch(fd, cb, ctx);
	pthread_mutex_unlock(&mo_lock);
}

void mo_mach_unwatch_fd(int fd, int close_it)
{
	pthread_mutex_lock(&mo_lock);
	mo_io_unwatch(fd, close_it);
	pthread_mutex_unlock(&mo_lock);
}

/*
 * Adds every link (POLLIN when READING, POLLOUT when it has a queue),
 * with room for the wake-up fd, the listeners and EXTRA more.
 */
static void pollset_links(struct pollset *ps, int reading, size_t extra)
{
	struct link *l;
	size_t need = ps->n + 1 + extra;

	for (l = mo_links; l; l = l->next)
		need++;
	for (struct listener *ls = listeners; ls; ls = ls->next)
		need++;
	for (struct iofd *w = iofds; w; w = w->next)
		need++;
	if (need > ps->cap) {
		ps->cap = need * 2;
		ps->pf = realloc(ps->pf, ps->cap * sizeof(*ps->pf));
		ps->who = realloc(ps->who, ps->cap * sizeof(*ps->who));
		ps->iow = realloc(ps->iow, ps->cap * sizeof(*ps->iow));
		if (!ps->pf || !ps->who || !ps->iow)
			abort();
	}
	for (struct iofd *w = reading ? iofds : NULL; w; w = w->next) {
		ps->pf[ps->n].fd = w->fd;
		ps->pf[ps->n].events = POLLIN;
		ps->pf[ps->n].revents = 0;
		ps->iow[ps->n] = w;
		ps->who[ps->n++] = NULL;
		w->refs++;
	}
	for (l = mo_links; l; l = l->next) {
		/* A link held back by a full queue is not read (link.c). */
		short ev = (reading && !l->held ? POLLIN : 0) |
			   (l->outq.len > l->outq_off && !l->flushing ? POLLOUT : 0);

		if (!ev)
			continue;
		ps->pf[ps->n].fd = l->fd;
		ps->pf[ps->n].events = ev;
		ps->pf[ps->n].revents = 0;
		ps->iow[ps->n] = NULL;
		ps->who[ps->n++] = l;
		l->refs++;
	}
}

/* Handles what poll() found on the links of PS; mo_lock not held. */
static void pollset_service(struct pollset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct link *l = ps->who[i];
		struct iofd *w = ps->iow[i];

		if (w && ps->pf[i].revents) {
			int dead;

			pthread_mutex_lock(&mo_lock);
			dead = w->dead;
			if (!dead) {
				w->running = 1;
				w->runner = pthread_self();
			}
			pthread_mutex_unlock(&mo_lock);
			if (!dead) {
				w->cb(w->ctx);
				pthread_mutex_lock(&mo_lock);
				w->running = 0;
				pthread_cond_broadcast(&iofd_done);
				pthread_mutex_unlock(&mo_lock);
			}
		}
		if (!l)
			continue;
		if (ps->pf[i].revents & POLLOUT)
			mo_link_flush(l);
		if (ps->pf[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL) &&
		    (ps->pf[i].events & POLLIN))
			mo_link_read(l);
	}
	pthread_mutex_lock(&mo_lock);
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->who[i])
			mo_link_unref(ps->who[i]);
		if (ps->iow[i])
			iofd_unref(ps->iow[i]);
	}
	pthread_mutex_unlock(&mo_lock);
}

/*
 * A receiver with nothing queued: read the links in this thread if the
 * role is free, for one poll() round (until DEADLINE at most). Returns 1
 * after such a round (2 if a signal cut it short), 0 if the caller must
 * wait on its condition.
 * mo_lock held; dropped during the round.
 */
/* Each reading thread's pollset, freed when the thread ends. */
static pthread_key_t reader_key;

static void reader_free(void *v)
{
	struct pollset *ps = v;

	free(ps->pf);
	free(ps->who);
	free(ps->iow);
	free(ps);
}

int mo_io_reader(struct kport *p, struct kpset *s, const struct timespec *deadline)
{
	struct pollset *psp = pthread_getspecific(reader_key);
	int timeout = -1, intr = 0;

	if (rd_role == RD_IO) {
		if (!rd_want) {
			rd_want = 1;
			mo_io_wake();
		}
		return 0;
	}
	if (rd_role != RD_FREE)
		return 0;
	rd_role = RD_APP;
	rd_epoch++;
	rd_thread = pthread_self();
	rd_port = p;
	rd_pset = s;
	close_broken();
	if (!psp) {
		psp = calloc(1, sizeof(*psp));
		if (!psp || pthread_setspecific(reader_key, psp))
			abort();
	}
	psp->n = 0;
	pollset_links(psp, 1, 0);
	psp->pf[psp->n].fd = app_fd;
	psp->pf[psp->n].events = POLLIN;
	psp->pf[psp->n].revents = 0;
	psp->iow[psp->n] = NULL;
	psp->who[psp->n++] = NULL;
	if (deadline)
		timeout = poll_timeout(deadline);
	pthread_mutex_unlock(&mo_lock);
	if (intr_poll(psp->pf, psp->n, timeout) < 0) {
		if (errno == EINTR)
			intr = 1;
		else
			mo_warn("poll: %s", strerror(errno));
	}
	if (psp->pf[psp->n - 1].revents & POLLIN) {
		uint64_t v;

		(void)!read(app_fd, &v, 8);
	}
	pollset_service(psp);
	pthread_mutex_lock(&mo_lock);
	rd_port = NULL;
	rd_pset = NULL;
	rd_role = RD_FREE;
	/* Another receiver may read now. */
	if (rd_waiters)
		waiter_wake(rd_waiters);
	/* The I/O thread sleeps for good while a program thread reads: it
	 * must start counting, to take the role if nobody comes back. */
	if (io_untimed)
		mo_io_wake();
	return intr ? 2 : 1;
}

/*
 * The I/O thread: reads the links when no program thread does, flushes
 * out queues, accepts connections and carries their handshakes. It
 * sleeps without a timeout unless something is due: the reading role
 * free (taken after one 2 ms tick nobody claimed it), a handshake's
 * deadline, the end of a rest from accepting.
 */
static void *io_thread(void *arg)
{
	struct pollset ps = { 0 };
	struct mo_pending **pds = NULL;
	size_t pds_cap = 0;
	unsigned seen = 0;
	int yielded = 0, was_untimed = 0, busy;

	(void)arg;
	for (;;) {
		size_t i, first_listener, first_pending, npd = 0;
		struct listener *ls;
		struct mo_pending *pd;
		int reading, timeout = -1;
		uint64_t now = now_ms();

		pthread_mutex_lock(&mo_lock);
		if (rd_want && rd_role == RD_IO) {
			rd_role = RD_FREE;
			rd_want = 0;
			yielded = 1;
			for (struct io_waiter *w = rd_waiters; w; w = w->next)
				waiter_wake(w);
		} else if (rd_role == RD_FREE && rd_epoch == seen && !yielded &&
			   !was_untimed) {
			rd_role = RD_IO;
		} else {
			yielded = 0;
		}
		/*
		 * A program thread that read since the last tick is likely
		 * to read again soon: ticking on costs a wake-up each 2 ms,
		 * where sleeping for good would make it wake this thread
		 * after each message it reads.
		 */
		busy = rd_epoch != seen;
		seen = rd_epoch;
		reading = rd_role == RD_IO;
		if (rd_role == RD_FREE || (rd_role == RD_APP && busy))
			timeout = IO_TICK_MS;
		close_broken();
		ps.n = 0;
		pollset_links(&ps, reading, npending);
		ps.pf[ps.n].fd = wake_fd;
		ps.pf[ps.n].events = POLLIN;
		ps.pf[ps.n].revents = 0;
		ps.iow[ps.n] = NULL;
		ps.who[ps.n++] = NULL;
		first_listener = ps.n;
		if ((accept_pause && now < accept_again) || now < full_until) {
			uint64_t until = now < full_until ? full_until : accept_again;

			if (accept_pause && now < accept_again && accept_again < until)
				until = accept_again;
			if (timeout < 0 || until - now < (uint64_t)timeout)
				timeout = (int)(until - now);
		} else {
			for (ls = listeners; ls; ls = ls->next) {
				ps.pf[ps.n].fd = ls->fd;
				ps.pf[ps.n].events = POLLIN;
				ps.pf[ps.n].revents = 0;
				ps.iow[ps.n] = NULL;
				ps.who[ps.n++] = NULL;
			}
		}
		first_pending = ps.n;
		if (npending > pds_cap) {
			pds_cap = 2 * npending;
			pds = realloc(pds, pds_cap * sizeof(*pds));
			if (!pds)
				abort();
		}
		for (pd = pending; pd; pd = pd->next) {
			uint64_t left = pd->deadline > now ? pd->deadline - now : 0;

			if (timeout < 0 || left < (uint64_t)timeout)
				timeout = (int)left;
			pds[npd++] = pd;
			ps.pf[ps.n].fd = pd->fd;
			ps.pf[ps.n].events = POLLIN;
			ps.pf[ps.n].revents = 0;
			ps.iow[ps.n] = NULL;
			ps.who[ps.n++] = NULL;
		}
		io_untimed = was_untimed = timeout < 0 && rd_role == RD_APP;
		pthread_mutex_unlock(&mo_lock);

		if (poll(ps.pf, ps.n, timeout) < 0 && errno != EINTR)
			mo_warn("poll: %s", strerror(errno));
		pthread_mutex_lock(&mo_lock);
		io_untimed = 0;
		pthread_mutex_unlock(&mo_lock);
		if (ps.pf[first_listener - 1].revents & POLLIN) {
			uint64_t v;

			(void)!read(wake_fd, &v, 8);
		}
		now = now_ms();
		for (i = 0; i < npd; i++) {
			pd = pds[i];
			if (ps.pf[first_pending + i].revents) {
				if (mo_pending_step(pd))
					pending_drop(pd);
			} else if (now >= pd->deadline) {
				mo_debug("%s: no handshake in %u s; closed", pd->peer,
					 HANDSHAKE_MS / 1000);
				pending_drop(pd);
			}
		}
		for (i = first_listener; i < first_pending; i++) {
			if (!(ps.pf[i].revents & POLLIN))
				continue;
			pthread_mutex_lock(&mo_lock);
			for (ls = listeners; ls; ls = ls->next)
				if (ls->fd == ps.pf[i].fd)
					break;
			pthread_mutex_unlock(&mo_lock);
			if (ls)
				listener_accept(ls);
		}
		end_listeners();
		pollset_service(&ps);
	}
	return NULL;
}

/*
 * fork(): the child is a new task with no I/O thread; the connections
 * are the parent's. The child lets go of its copies of the sockets
 * (close, never shutdown, which would end them for the parent too) and
 * forgets what was queued for them, so that nothing it does, exit()
 * included, writes into the parent's streams. Its local ports still work.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&mo_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&mo_lock);
}

static void fork_child(void)
{
	for (struct link *l = mo_links; l; l = l->next) {
		l->dead = 1;
		close(l->fd);
		l->fd = -1;
		strbuf_reset(&l->outq);
		l->outq_off = 0;
		l->flushing = 0;
		l->close_later = 0;
	}
	for (struct listener *ls = listeners; ls; ls = ls->next)
		close(ls->fd);
	for (struct mo_pending *pd = pending; pd; pd = pd->next)
		close(pd->fd);
	mo_links = NULL;
	listeners = NULL;
	pending = NULL;
	npending = 0;
	pthread_mutex_unlock(&mo_lock);
}

void mo_io_init(void)
{
	pthread_t t;
	sigset_t all, old;

	mo_exports = mo_idmap_new();
	strbuf_init(&mo_scratch, 4096);
	if (pthread_key_create(&reader_key, reader_free)) {
		mo_error("pthread_key_create: %s", strerror(errno));
		abort();
	}
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	app_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wake_fd < 0 || app_fd < 0) {
		mo_error("eventfd: %s", strerror(errno));
		abort();
	}
	/* The I/O thread takes no signals: they belong to the program's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, io_thread, NULL)) {
		mo_error("cannot start the i/o thread");
		abort();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(t);
	atexit(mo_links_drain_at_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}


