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

struct listener {
	struct listener *next;
	int fd;
	char *addr;
	struct kport *port;
	uint8_t key[WIRE_KEY];
	int has_key;
};
static struct listener *listeners;

void mo_io_wake(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0 && write(wake_fd, &one, 8) < 0 && errno != EAGAIN)
		mo_warn("cannot wake the i/o thread: %s", strerror(errno));
}

struct accept_arg {
	int fd;
	char peer[128];
	struct kport *port;
	uint8_t key[WIRE_KEY];
	int has_key;
};

static void *accept_thread(void *v)
{
	struct accept_arg *a = v;

	mo_link_accept(a->fd, a->peer, a->port, a->has_key ? a->key : NULL);
	pthread_mutex_lock(&mo_lock);
	mo_kport_unref(a->port);
	pthread_mutex_unlock(&mo_lock);
	free(a);
	return NULL;
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

static void listener_accept(struct listener *ls)
{
	struct accept_arg *a;
	pthread_t t;
	int fd = accept4(ls->fd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = { 10, 0 };

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			mo_warn("%s: accept: %s", ls->addr, strerror(errno));
		return;
	}
	if (mo_addr_check_peer(fd, ls->addr) < 0) {
		close(fd);
		return;
	}
	/* A peer that never finishes its hello gives up its thread after 10 s. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	a->fd = fd;
	mo_addr_peer_name(fd, ls->addr, a->peer, sizeof(a->peer));
	pthread_mutex_lock(&mo_lock);
	a->port = ls->port;
	mo_kport_ref(a->port);
	pthread_mutex_unlock(&mo_lock);
	memcpy(a->key, ls->key, WIRE_KEY);
	a->has_key = ls->has_key;
	if (pthread_create(&t, NULL, accept_thread, a)) {
		mo_warn("%s: cannot start a thread for a new connection", ls->addr);
		close(fd);
		pthread_mutex_lock(&mo_lock);
		mo_kport_unref(a->port);
		pthread_mutex_unlock(&mo_lock);
		free(a);
		return;
	}
	pthread_detach(t);
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

void mo_io_waiter_add(struct io_waiter *w, pthread_cond_t *cond)
{
	w->cond = cond;
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
	size_t cap, n;
};

/* Adds every link (POLLIN when READING, POLLOUT when it has a queue). */
static void pollset_links(struct pollset *ps, int reading)
{
	struct link *l;
	size_t need = ps->n + 1;	/* the caller adds the wake-up fd */

	for (l = mo_links; l; l = l->next)
		need++;
	for (struct listener *ls = listeners; ls; ls = ls->next)
		need++;
	if (need > ps->cap) {
		ps->cap = need * 2;
		ps->pf = realloc(ps->pf, ps->cap * sizeof(*ps->pf));
		ps->who = realloc(ps->who, ps->cap * sizeof(*ps->who));
		if (!ps->pf || !ps->who)
			abort();
	}
	for (l = mo_links; l; l = l->next) {
		short ev = (reading ? POLLIN : 0) |
			   (l->outq.len > l->outq_off ? POLLOUT : 0);

		if (!ev)
			continue;
		ps->pf[ps->n].fd = l->fd;
		ps->pf[ps->n].events = ev;
		ps->pf[ps->n].revents = 0;
		ps->who[ps->n++] = l;
		l->refs++;
	}
}

/* Handles what poll() found on the links of PS; mo_lock not held. */
static void pollset_service(struct pollset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct link *l = ps->who[i];

		if (!l)
			continue;
		if (ps->pf[i].revents & POLLOUT)
			mo_link_flush(l);
		if (ps->pf[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL) &&
		    (ps->pf[i].events & POLLIN))
			mo_link_read(l);
	}
	pthread_mutex_lock(&mo_lock);
	for (size_t i = 0; i < ps->n; i++)
		if (ps->who[i])
			mo_link_unref(ps->who[i]);
	pthread_mutex_unlock(&mo_lock);
}

/*
 * A receiver with nothing queued: read the links in this thread if the
 * role is free, for one poll() round (until DEADLINE at most). Returns 1
 * after such a round (2 if a signal cut it short), 0 if the caller must
 * wait on its condition.
 * mo_lock held; dropped during the round.
 */
int mo_io_reader(struct kport *p, struct kpset *s, const struct timespec *deadline)
{
	static __thread struct pollset ps;
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
	ps.n = 0;
	pollset_links(&ps, 1);
	ps.pf[ps.n].fd = app_fd;
	ps.pf[ps.n].events = POLLIN;
	ps.pf[ps.n].revents = 0;
	ps.who[ps.n++] = NULL;
	if (deadline) {
		struct timespec now;
		int64_t ms;

		clock_gettime(CLOCK_REALTIME, &now);
		ms = (deadline->tv_sec - now.tv_sec) * 1000 +
		     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
		timeout = ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
	}
	pthread_mutex_unlock(&mo_lock);
	if (poll(ps.pf, ps.n, timeout) < 0) {
		if (errno == EINTR)
			intr = 1;
		else
			mo_warn("poll: %s", strerror(errno));
	}
	if (ps.pf[ps.n - 1].revents & POLLIN) {
		uint64_t v;

		(void)!read(app_fd, &v, 8);
	}
	pollset_service(&ps);
	pthread_mutex_lock(&mo_lock);
	rd_port = NULL;
	rd_pset = NULL;
	rd_role = RD_FREE;
	/* Another receiver may read now. */
	if (rd_waiters)
		pthread_cond_signal(rd_waiters->cond);
	return intr ? 2 : 1;
}

/* The I/O thread: reads the links when no program thread does, flushes
 * out queues, accepts connections. */
static void *io_thread(void *arg)
{
	struct pollset ps = { 0 };
	unsigned seen = 0;
	int yielded = 0;

	(void)arg;
	for (;;) {
		size_t i, first_listener;
		struct listener *ls;
		int reading;

		pthread_mutex_lock(&mo_lock);
		if (rd_want && rd_role == RD_IO) {
			rd_role = RD_FREE;
			rd_want = 0;
			yielded = 1;
			for (struct io_waiter *w = rd_waiters; w; w = w->next)
				pthread_cond_signal(w->cond);
		} else if (rd_role == RD_FREE && rd_epoch == seen && !yielded) {
			rd_role = RD_IO;
		} else {
			yielded = 0;
		}
		seen = rd_epoch;
		reading = rd_role == RD_IO;
		close_broken();
		ps.n = 0;
		pollset_links(&ps, reading);
		ps.pf[ps.n].fd = wake_fd;
		ps.pf[ps.n].events = POLLIN;
		ps.pf[ps.n].revents = 0;
		ps.who[ps.n++] = NULL;
		first_listener = ps.n;
		for (ls = listeners; ls; ls = ls->next) {
			ps.pf[ps.n].fd = ls->fd;
			ps.pf[ps.n].events = POLLIN;
			ps.pf[ps.n].revents = 0;
			ps.who[ps.n++] = NULL;
		}
		pthread_mutex_unlock(&mo_lock);

		if (poll(ps.pf, ps.n, reading ? -1 : IO_TICK_MS) < 0 && errno != EINTR)
			mo_warn("poll: %s", strerror(errno));
		if (ps.pf[first_listener - 1].revents & POLLIN) {
			uint64_t v;

			(void)!read(wake_fd, &v, 8);
		}
		for (i = first_listener; i < ps.n; i++) {
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
	}
	for (struct listener *ls = listeners; ls; ls = ls->next)
		close(ls->fd);
	mo_links = NULL;
	listeners = NULL;
	pthread_mutex_unlock(&mo_lock);
}

void mo_io_init(void)
{
	pthread_t t;
	sigset_t all, old;

	mo_exports = mo_idmap_new();
	strbuf_init(&mo_scratch, 4096);
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


