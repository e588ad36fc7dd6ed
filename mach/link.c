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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <time.h>

#include "mach/link.h"

struct idmap *mo_exports;
static uint64_t next_id;

struct link *mo_links;

struct strbuf mo_scratch;	/* the frame being built; under mo_lock */

void mo_link_unref(struct link *l)
{
	if (!l || --l->refs)
		return;
	mo_idmap_free(l->imports);
	mo_idmap_free(l->moved);
	strbuf_release(&l->outq);
	strbuf_release(&l->in);
	free(l->peer);
	free(l);
}

/* Queues LEN bytes for the socket; never blocks. */
int mo_link_write(struct link *l, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	if (l->dead || l->broken)
		return -1;
	if (l->outq.len == l->outq_off) {
		strbuf_reset(&l->outq);
		l->outq_off = 0;
		while (len) {
			n = send(l->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				l->broken = 1;
				mo_io_wake();
				return -1;
			}
			p += n;
			len -= n;
		}
		if (!len)
			return 0;
		strbuf_add(&l->outq, p, len);
		mo_io_wake();
		return 0;
	}
	strbuf_add(&l->outq, p, len);
	return 0;
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
	mo_idmap_each(l->imports, kill_one, NULL);
	/* Ports moved to us over L stay ours; the peer's rights to them go. */
	mo_idmap_each(l->moved, drop_exports, l);
	mo_idmap_each(l->moved, forget_moved, l);
	mo_idmap_each(mo_exports, drop_exports, l);
	shutdown(l->fd, SHUT_RDWR);
	close(l->fd);
	l->fd = -1;
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
	ssize_t n;

	while (!l->dead && l->outq_off < l->outq.len) {
		n = send(l->fd, l->outq.buf + l->outq_off,
			 l->outq.len - l->outq_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			l->broken = 1;
			mo_link_close(l, errno == EPIPE || errno == ECONNRESET ?
				   NULL : strerror(errno));
			break;
		}
		l->outq_off += n;
	}
	if (!l->dead && l->outq_off == l->outq.len) {
		strbuf_reset(&l->outq);
		l->outq_off = 0;
	}
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
	l->fd = fd;
	l->refs = 1;
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

