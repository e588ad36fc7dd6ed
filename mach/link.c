/*
 * mach/link.c: links, the connections that carry messages and rights
 * between processes over stream sockets, in the format doc/wire.md
 * describes: their lifetime, their out queues, and what each holds of
 * the ports this process exports.
 *
 * A link is one connection to one other process. A port whose receive
 * right is over there is a proxy here, keyed on the link by the id the
 * peer gave it; a port of ours that the peer holds rights to is known
 * there by our id, and we count what the link holds so that no-senders
 * and send-once notifications come out right when it lets go or dies.
 * A right that passes A -> B -> C is a proxy of a proxy: C's messages go
 * to B, which forwards them to A, so whoever sits in the middle (motrace)
 * sees every message.
 *
 * Everything here runs with mo_lock held except the socket reads of the
 * I/O thread; writes never block (what the socket does not take waits in
 * the link's out queue, flushed by the I/O thread), so a peer that stops
 * reading cannot stall this process (PROTOCOL.md, rule 11).
 * Frames are written in send.c, read in recv.c; a connection begins in
 * handshake.c; the I/O thread is io.c.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <mach/motrace.h>

#include "mach/link.h"

struct idmap *mo_exports;
static uint64_t next_id;

struct link *mo_links;

struct strbuf mo_scratch;	/* the frame being built; under mo_lock */
static uint64_t next_serial;
__thread uint64_t mo_src_thread;

/*
 * Senders' stacks (motrace -k): whether this process asks its peers for
 * them, and the one that came with the last message each thread took.
 */
static int want_stacks;
static __thread struct mo_mach_stack *rcv_stack;

void mo_link_received(struct kmsg *m)
{
	mo_src_thread = m->src;	/* what it sends next is held back with that link */
	free(rcv_stack);
	rcv_stack = m->stack;
	m->stack = NULL;
}

int mo_mach_sender_stack(struct mo_mach_stack *st)
{
	if (!rcv_stack)
		return 0;
	*st = *rcv_stack;
	return 1;
}

int mo_link_wants_stacks(void)
{
	return want_stacks;
}

void mo_link_hello_stacks(struct link *l, uint32_t mine, uint32_t theirs)
{
	l->peer_stacks = (theirs & WIRE_F_HELLO_STACKS) != 0;
	l->send_stacks = (theirs & WIRE_F_HELLO_WANT_STACKS) != 0;
	l->asked_stacks = l->peer_stacks && (mine & WIRE_F_HELLO_WANT_STACKS);
}

void mo_link_ask_stacks(struct link *l)
{
	uint8_t f[WIRE_FRAME_HEADER + 8] = { 0 };

	if (!l->peer_stacks || l->dead || l->asked_stacks == want_stacks)
		return;
	put32(f, sizeof(f));
	put16(f + 4, WIRE_STACKS);
	put32(f + WIRE_FRAME_HEADER, want_stacks ? 1 : 0);
	l->asked_stacks = want_stacks;
	mo_link_write(l, f, sizeof(f));
}

void mo_link_want_stacks(int on)
{
	want_stacks = on != 0;
	for (struct link *l = mo_links; l; l = l->next)
		mo_link_ask_stacks(l);
}

void mo_mach_want_stacks(int on)
{
	mo_init();
	pthread_mutex_lock(&mo_lock);
	mo_link_want_stacks(on);
	pthread_mutex_unlock(&mo_lock);
}

/*
 * Out queue bound. Mach bounds a port's queue and makes a sender wait
 * (GNU Mach ipc/ipc_mqueue.c, ipc_mqueue_send: past ip_qlimit unless
 * MACH_SEND_ALWAYS), but the kernel's own messages, those to a manager
 * among them, go with MACH_SEND_ALWAYS (ipc_kmsg_send_always; "internal
 * use only" in mach/message.h) and never wait; neither do this library's
 * sends: a
 * peer that stops reading must not stall this process. So what a link's
 * socket does not take queues, and past QUEUE_MAX bytes (the environment's
 * MOTRACE_MACH_QUEUE_MAX) the link is "full": the links whose messages go
 * into that queue are no longer read, so that their peers' messages wait
 * in their own sockets and queues, until the full queue drains below a
 * quarter of the bound. Nothing is dropped; the queue overshoots by what
 * was read before the hold began (one socket read, what waits in port
 * queues). A message's source is the link it came over (kmsg.src) or,
 * for a program thread's send, the link of the last message that thread
 * received (a relay's or a server's loop). A send with no such link is
 * queued all the same. Each episode is said once on stderr.
 */
#define QUEUE_MAX_DEFAULT (16UL << 20)
#define QUEUE_MAX_LEAST (64UL << 10)
#define QUEUE_KEEP (64UL << 10)		/* a drained queue keeps this much memory */
static size_t queue_max, queue_low;

static void queue_bound_init(void)
{
	const char *v = getenv("MOTRACE_MACH_QUEUE_MAX");
	char *end;
	unsigned long long n;

	queue_max = QUEUE_MAX_DEFAULT;
	if (v && *v) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (*end == 'k' || *end == 'K')
			n <<= 10, end++;
		else if (*end == 'm' || *end == 'M')
			n <<= 20, end++;
		else if (*end == 'g' || *end == 'G')
			n <<= 30, end++;
		if (errno || *end || v[0] == '-' || n < QUEUE_MAX_LEAST)
			mo_warn("MOTRACE_MACH_QUEUE_MAX: '%s' is not a size of at least %lu bytes; using %lu",
				v, QUEUE_MAX_LEAST, QUEUE_MAX_DEFAULT);
		else
			queue_max = (size_t)n;
	}
	queue_low = queue_max / 4;
}

static size_t queued(const struct link *l)
{
	return l->outq.len - l->outq_off;
}

/*
 * L's out queue passed the high mark: one line for the episode, or for
 * a peer that keeps falling behind, one line per QUEUE_SAY_MS with the
 * episodes since.
 */
#define QUEUE_SAY_MS 10000
static void queue_check_full(struct link *l)
{
	struct timespec ts;
	uint64_t now;

	if (l->full || queued(l) <= queue_max)
		return;
	l->full = 1;
	l->episodes++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (l->said_episodes && now - l->said_at < QUEUE_SAY_MS)
		return;
	mo_warn("link %s: %zu bytes queued, past MOTRACE_MACH_QUEUE_MAX (%zu): the peer is not reading; "
		"the links sending to it are not read until it is below %zu (episode %u%s)",
		l->peer, queued(l), queue_max, queue_low, l->episodes,
		l->episodes - l->said_episodes > 1 ? ", more since the last said" : "");
	l->said_at = now;
	l->said_episodes = l->episodes;
}

static struct link *link_by_serial(uint64_t serial)
{
	for (struct link *l = mo_links; l; l = l->next)
		if (l->serial == serial)
			return l;
	return NULL;
}

/* Full link L holds back the link of serial SRC (not read while held). */
void mo_link_hold(struct link *l, uint64_t src)
{
	struct link *s;

	if (!l->full || !src || !(s = link_by_serial(src)) || s->dead)
		return;
	for (unsigned i = 0; i < l->nholding; i++)
		if (l->holding[i] == s)
			return;
	if (l->nholding == l->holding_cap) {
		l->holding_cap = l->holding_cap ? 2 * l->holding_cap : 4;
		l->holding = realloc(l->holding, l->holding_cap * sizeof(*l->holding));
		if (!l->holding)
			abort();
	}
	l->holding[l->nholding++] = s;
	s->refs++;
	s->held++;
}

/* L is no longer full (drained, or closed): the links it held are read again. */
static void queue_release(struct link *l)
{
	int wake = 0;

	if (l->full)
		mo_debug("link %s: out queue down to %zu bytes; reading again", l->peer,
			 queued(l));
	l->full = 0;
	for (unsigned i = 0; i < l->nholding; i++) {
		struct link *s = l->holding[i];

		if (!--s->held)
			wake = 1;
		mo_link_unref(s);
	}
	l->nholding = 0;
	free(l->holding);
	l->holding = NULL;
	l->holding_cap = 0;
	if (wake) {
		mo_io_wake();
		mo_io_wake_reader();
	}
}

/*
 * Gives memory back as L's queue drains: an empty queue keeps at most
 * QUEUE_KEEP bytes; one that is mostly sent moves its rest to the front
 * and shrinks, so that a peer that stopped for a while does not leave
 * this process as large as its queue was.
 */
static void queue_shrink(struct link *l)
{
	size_t left = queued(l);
	char *p;

	if (!left) {
		size_t had = l->outq.alloc;

		if (had > QUEUE_KEEP)
			strbuf_release(&l->outq);
		else
			strbuf_reset(&l->outq);
		l->outq_off = 0;
		/* malloc keeps what it took from the heap; a large queue's
		 * worth goes back to the system (malloc_trim(3)). */
		if (had > 16 * QUEUE_KEEP)
			malloc_trim(0);
		return;
	}
	if (l->outq.alloc <= 4 * QUEUE_KEEP || l->outq_off < left)
		return;
	memmove(l->outq.buf, l->outq.buf + l->outq_off, left);
	l->outq.len = left;
	l->outq_off = 0;
	l->outq.buf[left] = '\0';
	if (l->outq.alloc > 2 * left + QUEUE_KEEP &&
	    (p = realloc(l->outq.buf, left + QUEUE_KEEP))) {
		l->outq.buf = p;
		l->outq.alloc = left + QUEUE_KEEP;
	}
}

void mo_link_unref(struct link *l)
{
	if (!l || --l->refs)
		return;
	mo_idmap_free(l->imports);
	mo_idmap_free(l->moved);
	free(l->holding);
	free(l->next_stack);
	strbuf_release(&l->outq);
	strbuf_release(&l->in);
	free(l->peer);
	free(l);
}

/*
 * Writes LEN bytes at BUF to FD, as far as the socket takes them; returns
 * how many went. *ERR: an errno when the socket failed, else 0 (all
 * written, or the socket is full).
 */
static size_t sock_write(int fd, const char *buf, size_t len, int *err)
{
	size_t done = 0;
	ssize_t n;

	*err = 0;
	while (done < len) {
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			*err = n < 0 ? errno : EPIPE;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* After a write from L's queue: below the low mark it lets go, and it shrinks. */
static void queue_drained(struct link *l)
{
	if (l->full && queued(l) < queue_low)
		queue_release(l);
	queue_shrink(l);
}

/*
 * Deferred writes. mach_msg's send holds mo_lock while it frames a
 * message, and a write that wakes the peer can lose the CPU to it right
 * there, on the way back from the system call (the woken thread preempts
 * the waker). The peer's answer then wakes a thread of ours that waits
 * for mo_lock, held by a thread that waits for a CPU: on a busy core a
 * fair scheduler can leave it there for a slice, milliseconds, where the
 * round trip takes tens of microseconds. So that send only queues, and
 * writes once it has let mo_lock go.
 */
#define DEFER_MAX 8
static __thread int defer_on;
static __thread struct link *deferred[DEFER_MAX];
static __thread unsigned ndeferred;

/* While deferring, L is this thread's to write after the unlock (a reference). */
static int defer(struct link *l)
{
	unsigned i;

	if (!defer_on)
		return 0;
	for (i = 0; i < ndeferred; i++)
		if (deferred[i] == l)
			return 1;
	if (ndeferred == DEFER_MAX)
		return 0;
	l->refs++;
	deferred[ndeferred++] = l;
	return 1;
}

void mo_links_defer(void)
{
	defer_on = 1;
}

/*
 * Writes L's queue without mo_lock, as far as the socket takes it. The
 * queue is taken whole (FLUSHING: meanwhile others append to a fresh one
 * and nobody else writes L), and what the socket leaves goes back before
 * what came meanwhile, for the I/O thread. mo_lock held; let go during
 * the writes.
 */
static void link_write_unlocked(struct link *l)
{
	while (!l->dead && !l->broken && !l->flushing && queued(l)) {
		struct strbuf s = l->outq;
		size_t off = l->outq_off;
		int failed;

		strbuf_init(&l->outq, 0);
		l->outq_off = 0;
		l->flushing = 1;
		pthread_mutex_unlock(&mo_lock);
		off += sock_write(l->fd, s.buf + off, s.len - off, &failed);
		pthread_mutex_lock(&mo_lock);
		l->flushing = 0;
		if (l->close_later) {
			/* mo_link_close ran meanwhile and left us the socket. */
			close(l->fd);
			l->fd = -1;
			l->close_later = 0;
		}
		if (l->dead) {
			strbuf_release(&s);
			return;
		}
		if (failed) {
			strbuf_release(&s);
			l->broken = 1;
			mo_io_wake();
			return;
		}
		if (off < s.len) {
			strbuf_add(&s, l->outq.buf + l->outq_off, queued(l));
			strbuf_release(&l->outq);
			l->outq = s;
			l->outq_off = off;
			mo_io_wake();
			return;
		}
		if (queued(l)) {
			strbuf_release(&s);
		} else {
			/* Keep the buffer for the next message. */
			strbuf_release(&l->outq);
			strbuf_reset(&s);
			l->outq = s;
			l->outq_off = 0;
		}
		queue_drained(l);
	}
}

void mo_links_write_deferred(void)
{
	struct link *ls[DEFER_MAX];
	unsigned i, n = ndeferred;

	defer_on = 0;
	memcpy(ls, deferred, n * sizeof(ls[0]));
	ndeferred = 0;
	for (i = 0; i < n; i++)
		link_write_unlocked(ls[i]);
	for (i = 0; i < n; i++)
		mo_link_unref(ls[i]);
	pthread_mutex_unlock(&mo_lock);
}

/*
 * Queues ALEN bytes at A, then BLEN at B, for the socket (one sendmsg);
 * never blocks. Written at once when nothing is queued before them and
 * this thread does not defer its writes; behind queued bytes, they wait
 * for the I/O thread, or for the sender that writes those (FLUSHING).
 */
int mo_link_write2(struct link *l, const void *a, size_t alen,
		   const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (l->dead || l->broken)
		return -1;
	if (l->outq.len == l->outq_off && !l->flushing) {
		strbuf_reset(&l->outq);
		l->outq_off = 0;
	}
	if (l->outq.len == l->outq_off && !l->flushing && !defer(l)) {
		while (iov[0].iov_len + iov[1].iov_len) {
			n = sendmsg(l->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				l->broken = 1;
				mo_io_wake();
				return -1;
			}
			for (int i = 0; i < 2 && n; i++) {
				size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

				if (!k)
					continue;
				iov[i].iov_base = (uint8_t *)iov[i].iov_base + k;
				iov[i].iov_len -= k;
				n -= (ssize_t)k;
			}
		}
		if (!iov[0].iov_len && !iov[1].iov_len)
			return 0;
		mo_io_wake();
	}
	for (int i = 0; i < 2; i++)
		if (iov[i].iov_len)
			strbuf_add(&l->outq, iov[i].iov_base, iov[i].iov_len);
	queue_check_full(l);
	return 0;
}

int mo_link_write(struct link *l, const void *buf, size_t len)
{
	return mo_link_write2(l, buf, len, NULL, 0);
}

uint64_t mo_export_id(struct kport *p)
{
	if (!p->id) {
		p->id = ++next_id;
		mo_idmap_put(mo_exports, p->id, p);
		mo_kport_ref(p);
	}
	return p->id;
}

struct kexport *mo_export_rec(struct kport *p, struct link *l, int create)
{
	struct kexport *x;

	for (x = p->exports; x; x = x->next)
		if (x->link == l)
			return x;
	if (!create)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		abort();
	x->link = l;
	l->refs++;
	x->next = p->exports;
	p->exports = x;
	return x;
}

void mo_export_drop(struct kport *p, struct kexport *x)
{
	struct kexport **pp;

	for (pp = &p->exports; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	mo_link_unref(x->link);
	free(x);
	mo_proxy_gc(p);
}

static void drop_exports(uint64_t id, void *v, void *arg)
{
	struct kport *p = v;
	struct link *l = arg;
	struct kexport *x = mo_export_rec(p, l, 0);
	uint64_t sonces;

	(void)id;
	if (p->kind == KP_PROXY && p->link == l && p->rkind == WK_MOVED) {
		/* Its receive right was over there: it dies with the link. */
		mo_kport_kill(p);
		return;
	}
	if (!x)
		return;
	mo_kport_ref(p);
	sonces = x->sonces;
	if (x->sends)
		mo_srights_dec(p);
	mo_export_drop(p, x);
	mo_release_sonces(p, sonces);
	mo_kport_unref(p);
}

static void kill_one(uint64_t id, void *v, void *arg)
{
	(void)id;
	(void)arg;
	mo_kport_kill(v);
}

static void forget_moved(uint64_t id, void *v, void *arg)
{
	struct kport *p = v;
	struct link *l = arg;

	mo_idmap_del(l->moved, id);
	if (p->mv_link == l) {
		p->mv_link = NULL;
		mo_link_unref(l);
	}
	mo_kport_unref(p);
}

/* The link is gone: its proxies die, what it held is released. mo_lock held. */
void mo_link_close(struct link *l, const char *why)
{
	struct link **pp;

	if (l->dead)
		return;
	if (why) {
		mo_warn("link %s: %s; closing it", l->peer, why);
		if (!l->broken && !l->peer_error)
			mo_link_send_error(l, why);
	}
	l->dead = 1;
	queue_release(l);
	mo_idmap_each(l->imports, kill_one, NULL);
	/* Ports moved to us over L stay ours; the peer's rights to them go. */
	mo_idmap_each(l->moved, drop_exports, l);
	mo_idmap_each(l->moved, forget_moved, l);
	mo_idmap_each(mo_exports, drop_exports, l);
	shutdown(l->fd, SHUT_RDWR);
	if (l->flushing) {
		l->close_later = 1;	/* its sender writes to it now */
	} else {
		close(l->fd);
		l->fd = -1;
	}
	for (pp = &mo_links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	mo_link_unref(l);
}

/* Reads what the socket has; handles whole frames. I/O thread only. */
void mo_link_read(struct link *l)
{
	char buf[65536];
	ssize_t n;

	if (l->dead)
		return;
	n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	pthread_mutex_lock(&mo_lock);
	if (n <= 0) {
		/* A peer that ends (even with bytes of ours unread: a reset)
		 * is news for its ports, not an error; half a frame is. */
		int gone = n == 0 || errno == ECONNRESET;

		mo_link_close(l, !gone ? strerror(errno) :
			   l->in.len ? "connection closed in the middle of a frame"
				     : NULL);
		pthread_mutex_unlock(&mo_lock);
		return;
	}
	mo_link_input(l, buf, (size_t)n);
	pthread_mutex_unlock(&mo_lock);
}

void mo_link_input(struct link *l, const void *buf, size_t n)
{
	size_t off = 0;
	struct frame fr = { .l = l };

	if (l->dead)
		return;
	strbuf_add(&l->in, buf, n);
	while (!l->dead && l->in.len - off >= WIRE_FRAME_HEADER) {
		const uint8_t *b = (const uint8_t *)l->in.buf + off;
		uint32_t len = get32(b);

		if (len < WIRE_FRAME_HEADER || (len & 7)) {
			mo_link_close(l, "frame length is not a multiple of 8 of at least 16");
			break;
		}
		if (len > WIRE_MAX_FRAME) {
			char why[96];

			snprintf(why, sizeof(why), "frame of %u bytes exceeds the limit of %u",
				 len, WIRE_MAX_FRAME);
			mo_link_close(l, why);
			break;
		}
		if (l->in.len - off < len)
			break;
		fr.b = b;
		fr.len = len;
		l->nframes++;
		if (mo_frame_handle(&fr) < 0) {
			char why[200];

			snprintf(why, sizeof(why), "frame %llu: %s",
				 (unsigned long long)l->nframes, fr.err);
			mo_link_close(l, why);
			break;
		}
		off += len;
	}
	if (!l->dead && off) {
		memmove(l->in.buf, l->in.buf + off, l->in.len - off);
		l->in.len -= off;
	}
}

/* Writes what L's out queue holds, as far as the socket takes it; mo_lock held. */
static void link_flush_locked(struct link *l)
{
	int err;

	/* While its sender writes the front, what follows waits. */
	if (l->dead || l->flushing)
		return;
	l->outq_off += sock_write(l->fd, l->outq.buf + l->outq_off, queued(l), &err);
	if (err) {
		l->broken = 1;
		mo_link_close(l, err == EPIPE || err == ECONNRESET ? NULL : strerror(err));
		return;
	}
	queue_drained(l);
}

void mo_link_flush(struct link *l)
{
	pthread_mutex_lock(&mo_lock);
	link_flush_locked(l);
	pthread_mutex_unlock(&mo_lock);
}

/*
 * At exit, what the program sent must still go: in Mach a sent message
 * belongs to the kernel's queues and outlives its sender. Waits for the
 * out queues to drain, 10 s at most.
 */
void mo_links_drain_at_exit(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf[256];
		int n = 0;

		pthread_mutex_lock(&mo_lock);
		for (struct link *l = mo_links; l; l = l->next) {
			link_flush_locked(l);
			if (!l->dead && l->outq_off < l->outq.len && n < 256) {
				pf[n].fd = l->fd;
				pf[n].events = POLLOUT;
				n++;
			}
		}
		pthread_mutex_unlock(&mo_lock);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!n || t.tv_sec - t0.tv_sec >= 10)
			return;
		poll(pf, (nfds_t)n, 100);
	}
}

/* A link on the I/O thread's list, with our link reference going to it. */
struct link *mo_link_new(int fd, const char *peer)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		abort();
	if (!queue_max)
		queue_bound_init();
	l->fd = fd;
	l->refs = 1;
	l->serial = ++next_serial;
	l->peer = strdup(peer);
	l->imports = mo_idmap_new();
	l->moved = mo_idmap_new();
	strbuf_init(&l->outq, 0);
	strbuf_init(&l->in, 0);
	return l;
}

void mo_link_register(struct link *l)
{
	int fl = fcntl(l->fd, F_GETFL);

	fcntl(l->fd, F_SETFL, fl | O_NONBLOCK);
	l->next = mo_links;
	mo_links = l;
	mo_io_link_added();
}

