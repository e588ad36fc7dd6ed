/*
 * mach/link.c: carrying messages and rights between processes over
 * stream sockets, in the format doc/wire.md describes.
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
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "mach/ipc.h"
#include "mach/wire.h"

#define PAGE 4096UL
#define round_page(x) (((x) + PAGE - 1) & ~(PAGE - 1))

struct idmap *mo_exports;
static uint64_t next_id;

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
static struct link *links;
static int wake_fd = -1;
static struct strbuf scratch;	/* the frame being built; under mo_lock */

struct listener {
	struct listener *next;
	int fd;
	char *addr;
	struct kport *port;
	uint8_t key[WIRE_KEY];
	int has_key;
};
static struct listener *listeners;

/* Little-endian stores and loads; loads only at offsets checked first. */
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

void mo_io_wake(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0 && write(wake_fd, &one, 8) < 0 && errno != EAGAIN)
		mo_warn("cannot wake the i/o thread: %s", strerror(errno));
}

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
static int link_write(struct link *l, const void *buf, size_t len)
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

static uint8_t *frame_start(uint16_t type, uint16_t count1, uint32_t count2,
			    uint32_t msg_len, size_t body)
{
	uint8_t *f;

	strbuf_reset(&scratch);
	strbuf_grow(&scratch, WIRE_FRAME_HEADER + body);
	f = (uint8_t *)scratch.buf;
	memset(f, 0, WIRE_FRAME_HEADER + body);
	put32(f, (uint32_t)(WIRE_FRAME_HEADER + body));
	put16(f + 4, type);
	put16(f + 6, count1);
	put32(f + 8, count2);
	put32(f + 12, msg_len);
	scratch.len = WIRE_FRAME_HEADER + body;
	return f;
}

void mo_link_send_release(struct link *l, uint64_t rid, uint8_t rkind,
		       uint64_t sends, uint64_t sonces)
{
	uint8_t *f;

	if (!l || l->dead)
		return;
	f = frame_start(WIRE_RELEASE, 0, 0, 0, 32);
	f[16] = rkind;
	put64(f + 24, rid);
	put64(f + 32, sends);
	put64(f + 40, sonces);
	link_write(l, f, scratch.len);
}

void mo_link_send_dead(struct link *l, uint8_t kind, uint64_t id)
{
	uint8_t *f;

	if (!l || l->dead)
		return;
	f = frame_start(WIRE_DEAD, 0, 0, 0, 16);
	f[16] = kind;
	put64(f + 24, id);
	link_write(l, f, scratch.len);
}

static void link_send_error(struct link *l, const char *text)
{
	size_t n = strlen(text);
	uint8_t *f = frame_start(WIRE_ERROR, 0, 0, (uint32_t)n, (n + 7) & ~7ul);

	memcpy(f + WIRE_FRAME_HEADER, text, n);
	link_write(l, f, scratch.len);
}

static uint64_t export_id(struct kport *p)
{
	if (!p->id) {
		p->id = ++next_id;
		mo_idmap_put(mo_exports, p->id, p);
		mo_kport_ref(p);
	}
	return p->id;
}

static struct kexport *export_rec(struct kport *p, struct link *l, int create)
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

static void export_drop(struct kport *p, struct kexport *x)
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

/* Work left for after a frame is written. */
struct post {
	struct kport *home[64];	/* rights that went back to their owner */
	uint8_t home_type[64];
	unsigned nhome;
	struct kmsg *forward;	/* queued messages of ports moved out */
	struct kmsg **forward_tail;
};

/* The receive right of local port P leaves for L (doc/wire.md, "Moving a receive right"). */
static void move_out(struct kport *p, struct link *l, uint8_t *ann,
		     struct post *post)
{
	/* Back where it came from: the peer's own id, so that it finds its
	 * port (and name) again; else ours. */
	int home = p->mv_link == l;
	uint64_t id = home ? p->mv_id : export_id(p);
	struct kexport *x = export_rec(p, l, 0);
	struct kport *ns;

	if (x) {
		/* What L held of it becomes L's own. */
		if (x->sends && p->srights)
			p->srights--;
		export_drop(p, x);
	}
	ann[5] = home ? WK_RECEIVER : WK_SENDER;
	ann[6] = p->srights ? WIRE_F_SENDERS_LEFT : 0;
	put64(ann + 8, id);
	if ((ns = p->nsrequest)) {
		p->nsrequest = NULL;
		mo_right_release(ns, MACH_MSG_TYPE_PORT_SEND_ONCE);
	}
	if (home && mo_idmap_get(l->moved, id) == p) {
		mo_idmap_del(l->moved, id);
		p->refs--;	/* the map's; the caller holds one */
	}
	p->kind = KP_PROXY;
	p->link = l;
	l->refs++;
	p->rkind = home ? WK_RECEIVER : WK_MOVED;
	p->rid = id;
	p->got_sends = p->srights ? 1 : 0;
	p->has_recv_name = 0;
	p->mscount = 0;
	/* Moved on elsewhere, it keeps its origin: should it come back
	 * here and go home, or die over there, the origin hears of it. */
	if (home) {
		mo_link_unref(p->mv_link);
		p->mv_link = NULL;
	}
	if (p->head) {
		*post->forward_tail = p->head;
		post->forward_tail = p->tailp;
		p->head = NULL;
		p->tailp = &p->head;
		p->qlen = 0;
	}
	if (p->waiters)
		pthread_cond_broadcast(&p->cond);
}

/* Writes the 16-byte annotation of one right going over L. */
static void put_right(struct link *l, const struct kright *r, uint8_t *ann,
		      struct post *post)
{
	struct kport *p = r->port;

	put32(ann, r->off);
	ann[4] = r->type;
	if (!p) {
		ann[5] = WK_NULL;
		return;
	}
	if (p->kind == KP_DEAD) {
		ann[5] = WK_DEAD;
		mo_kport_unref(p);
		return;
	}
	if (r->type == MACH_MSG_TYPE_PORT_RECEIVE) {
		move_out(p, l, ann, post);
		mo_kport_unref(p);
		return;
	}
	if (p->kind == KP_PROXY && p->link == l) {
		/* Going home: the owner counts it as its own again. */
		ann[5] = p->rkind;
		put64(ann + 8, p->rid);
		if (post->nhome < 64) {
			post->home[post->nhome] = p;
			post->home_type[post->nhome++] = r->type;
		} else {
			mo_right_release(p, r->type);
		}
		return;
	}
	if (p->kind == KP_LOCAL && p->mv_link == l) {
		/* A port the peer moved here: named by the peer's id. */
		ann[5] = WK_RECEIVER;
		put64(ann + 8, p->mv_id);
	} else {
		ann[5] = WK_SENDER;
		put64(ann + 8, export_id(p));
	}
	{
		struct kexport *x = export_rec(p, l, 1);

		if (r->type == MACH_MSG_TYPE_PORT_SEND) {
			/* The link holds one count however many rights it has. */
			if (x->sends++)
				mo_srights_dec(p);
		} else {
			x->sonces++;
		}
	}
	mo_kport_unref(p);
}

int mo_link_send(struct kport *p, struct kmsg *m)
{
	struct link *l = p->link;
	struct post post = { .forward_tail = &post.forward };
	unsigned nports = m->nrights + (m->reply.port ? 1 : 0);
	size_t msg_pad = (m->size + 7) & ~(size_t)7, body, pos;
	uint8_t *f, *ann;
	struct kmsg *fw;
	int complex;

	if (!l || l->dead || l->broken) {
		mo_kmsg_destroy(m);
		return MACH_SEND_INVALID_DEST;
	}
	body = WIRE_DEST + nports * WIRE_ANN + m->nool * WIRE_ANN + msg_pad;
	for (unsigned i = 0; i < m->nool; i++)
		body += (m->ool[i].size + 7) & ~(uint64_t)7;
	if (WIRE_FRAME_HEADER + body > WIRE_MAX_FRAME) {
		mo_warn("link %s: message %d of %zu bytes with its out-of-line data exceeds the frame limit of %u",
			l->peer, ((mach_msg_header_t *)m->bytes)->msgh_id,
			WIRE_FRAME_HEADER + body, WIRE_MAX_FRAME);
		mo_kmsg_destroy(m);
		return MACH_SEND_NO_BUFFER;
	}
	f = frame_start(WIRE_MSG, (uint16_t)nports, m->nool, m->size, body);
	f[16] = p->rkind;
	f[17] = m->dest.type;
	put64(f + 24, p->rid);
	ann = f + WIRE_FRAME_HEADER + WIRE_DEST;
	if (m->reply.port) {
		struct kright r = m->reply;

		r.off = 16;
		put_right(l, &r, ann, &post);
		ann += WIRE_ANN;
	} else if (m->reply.type) {
		m->reply.type = 0;
	}
	for (unsigned i = 0; i < m->nrights; i++, ann += WIRE_ANN)
		put_right(l, &m->rights[i], ann, &post);
	for (unsigned i = 0; i < m->nool; i++, ann += WIRE_ANN) {
		put32(ann, m->ool[i].off);
		put64(ann + 8, m->ool[i].size);
	}
	pos = ann - f;
	complex = (((mach_msg_header_t *)m->bytes)->msgh_bits &
		   MACH_MSGH_BITS_COMPLEX) != 0;
	memcpy(f + pos, m->bytes, m->size);
	put32(f + pos, MACH_MSGH_BITS(m->dest.type, m->reply.port ? m->reply.type : 0) |
		       (complex ? MACH_MSGH_BITS_COMPLEX : 0));
	pos += msg_pad;
	for (unsigned i = 0; i < m->nool; i++) {
		memcpy(f + pos, m->ool[i].addr, m->ool[i].size);
		pos += (m->ool[i].size + 7) & ~(uint64_t)7;
		if (!m->ool[i].borrowed)
			mo_pages_release(m->ool[i].addr, m->ool[i].size);
	}
	link_write(l, f, scratch.len);

	if (m->dest.type == MACH_MSG_TYPE_PORT_SEND) {
		mo_srights_dec(p);
	} else {
		if (p->sorights)
			p->sorights--;
		mo_proxy_gc(p);
	}
	mo_kport_unref(p);
	for (unsigned i = 0; i < post.nhome; i++) {
		struct kport *h = post.home[i];

		/* The owner has them now; we no longer count them. */
		if (post.home_type[i] == MACH_MSG_TYPE_PORT_SEND) {
			mo_srights_dec(h);
		} else {
			if (h->sorights)
				h->sorights--;
			mo_proxy_gc(h);
		}
		mo_kport_unref(h);
	}
	free(m);
	*post.forward_tail = NULL;
	while ((fw = post.forward)) {
		post.forward = fw->next;
		mo_kmsg_send(fw);
	}
	return MACH_MSG_SUCCESS;
}

/* Reading frames. Every length and offset is checked before use. */

struct frame {
	struct link *l;
	const uint8_t *b;
	size_t len;
	char err[160];
};

static int bad(struct frame *fr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct frame *fr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fr->err, sizeof(fr->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Is P ours under ID, with its receive right moved over L? */
static int moved_to(const struct kport *p, const struct link *l, uint64_t id)
{
	return p->kind == KP_PROXY && p->link == l && p->rkind == WK_MOVED &&
	       p->rid == id;
}

static struct kport *lookup_kind(struct link *l, uint8_t kind, uint64_t id)
{
	struct kport *p;

	switch (kind) {
	case WK_RECEIVER:
		/*
		 * Only a port this link was given a right to: ids are easy to
		 * guess, and a peer must not reach ports it was never given.
		 */
		p = mo_idmap_get(mo_exports, id);
		if (p && (export_rec(p, l, 0) || moved_to(p, l, id)))
			return p;
		return NULL;
	case WK_MOVED:
		return mo_idmap_get(l->moved, id);
	case WK_SENDER:
		return mo_idmap_get(l->imports, id);
	}
	return NULL;
}

/* A right that arrived over L: the port, with a reference for the right. */
static struct kport *get_right(struct link *l, const uint8_t *ann)
{
	uint8_t type = ann[4], kind = ann[5], flags = ann[6];
	uint64_t id = get64(ann + 8);
	struct kport *q;
	struct kexport *x;

	if (kind == WK_NULL)
		return NULL;
	if (kind == WK_DEAD)
		return mo_kport_dead();
	if (type == MACH_MSG_TYPE_PORT_RECEIVE && kind == WK_RECEIVER) {
		/* One of ours comes home: the forwarder is the port again. */
		q = mo_idmap_get(mo_exports, id);
		if (!q || !moved_to(q, l, id))
			return mo_kport_dead();
		q->kind = KP_LOCAL;
		mo_link_unref(q->link);
		q->link = NULL;
		q->got_sends = 0;
		if (flags & WIRE_F_SENDERS_LEFT) {
			x = export_rec(q, l, 1);
			x->sends = 1;
			q->srights++;
		}
		mo_kport_ref(q);
		return q;
	}
	if (type == MACH_MSG_TYPE_PORT_RECEIVE) {
		q = mo_idmap_get(l->imports, id);
		if (q) {
			/* We held send rights: they name the port itself now. */
			mo_idmap_del(l->imports, id);
			q->kind = KP_LOCAL;
			mo_link_unref(q->link);
			q->link = NULL;
			q->got_sends = 0;
		} else {
			q = mo_kport_new(KP_LOCAL);
		}
		struct kport *old = mo_idmap_get(l->moved, id);

		mo_idmap_put(l->moved, id, q);
		if (old != q)
			mo_kport_unref(old);
		q->mv_link = l;
		l->refs++;
		q->mv_id = id;
		if (flags & WIRE_F_SENDERS_LEFT) {
			x = export_rec(q, l, 1);
			x->sends = 1;
			q->srights++;
		}
		mo_kport_ref(q);
		return q;
	}
	if (kind == WK_SENDER) {
		q = mo_idmap_get(l->imports, id);
		if (!q) {
			q = mo_kport_new(KP_PROXY);
			q->link = l;
			l->refs++;
			q->rkind = WK_RECEIVER;
			q->rid = id;
			mo_idmap_put(l->imports, id, q);
		}
		if (type == MACH_MSG_TYPE_PORT_SEND) {
			q->got_sends++;
			q->srights++;
		} else {
			q->sorights++;
		}
		mo_kport_ref(q);
		return q;
	}
	q = lookup_kind(l, kind, id);
	if (!q || q->kind == KP_DEAD)
		return mo_kport_dead();
	if (q->kind == KP_PROXY && q->link == l) {
		/* A right to one of ours that lives over there now. */
		if (type == MACH_MSG_TYPE_PORT_SEND) {
			q->srights++;
			q->got_sends++;
		} else {
			q->sorights++;
		}
	} else if (type == MACH_MSG_TYPE_PORT_SEND) {
		q->srights++;
	} else if ((x = export_rec(q, l, 0)) && x->sonces) {
		x->sonces--;
	}
	mo_kport_ref(q);
	return q;
}

static int valid_ann(struct frame *fr, const uint8_t *ann, int dest)
{
	uint8_t type = ann[dest ? 1 : 4], kind = ann[dest ? 0 : 5];

	if (kind > WK_MOVED)
		return bad(fr, "port annotation kind %u is unknown", kind);
	if (type < MACH_MSG_TYPE_PORT_RECEIVE || type > MACH_MSG_TYPE_PORT_SEND_ONCE)
		return bad(fr, "port annotation type %u is not a received right", type);
	if (!dest && get32(ann) == 16 && type == MACH_MSG_TYPE_PORT_RECEIVE)
		return bad(fr, "the reply port cannot be a receive right");
	if (dest && (kind == WK_NULL || kind == WK_DEAD || kind == WK_SENDER ||
		     type == MACH_MSG_TYPE_PORT_RECEIVE))
		return bad(fr, "destination kind %u type %u cannot name a port here",
			   kind, type);
	if (!dest && type == MACH_MSG_TYPE_PORT_RECEIVE && kind == WK_MOVED)
		return bad(fr, "a receive right cannot be named by a moved id");
	return 0;
}

/*
 * Checks a MSG frame against the message it carries, walked with decode/:
 * one annotation per port slot in order (the reply first, at byte 16), one
 * region per out-of-line item with its size.
 */
static int check_msg(struct frame *fr, unsigned nports, unsigned nool,
		     uint32_t msg_len, const uint8_t *ann, const uint8_t *oann,
		     const uint8_t *msg)
{
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;
	unsigned ai = 0, oi = 0;
	int r;

	if (msg_len < sizeof(mach_msg_header_t) || (msg_len & 3))
		return bad(fr, "message length %u is not a whole header and words",
			   msg_len);
	if (mo_walk_init(&w, msg, msg_len, MO_ABI_X86_64, &h) < 0)
		return bad(fr, "message: %s", w.err);
	if (h.size != msg_len)
		return bad(fr, "msgh_size %u differs from the frame's %u", h.size,
			   msg_len);
	for (unsigned i = 0; i < nports; i++)
		if (valid_ann(fr, ann + i * WIRE_ANN, 0))
			return -1;
	if (nports && get32(ann) == 16)
		ai = 1;
	if (!(h.bits & MACH_MSGH_BITS_COMPLEX)) {
		if (ai != nports || nool)
			return bad(fr, "simple message carries rights or memory");
		return 0;
	}
	while ((r = mo_walk_next(&w, &it)) == 1) {
		if (mo_type_is_port(it.name)) {
			if (!it.is_inline)
				return bad(fr, "out-of-line port array at byte %u",
					   it.desc_off);
			if (mo_type_received(it.name) != it.name)
				return bad(fr, "port item at byte %u has disposition %u, not a received type",
					   it.desc_off, it.name);
			for (uint32_t i = 0; i < it.number; i++, ai++) {
				if (ai >= nports ||
				    get32(ann + ai * WIRE_ANN) != it.data_off + 4 * i)
					return bad(fr, "no port annotation for byte %u",
						   it.data_off + 4 * i);
				if (ann[ai * WIRE_ANN + 4] != it.name)
					return bad(fr, "annotation type %u for a %u item at byte %u",
						   ann[ai * WIRE_ANN + 4], it.name,
						   it.data_off);
			}
		} else if (!it.is_inline && mo_item_bytes(&it)) {
			if (oi >= nool || get32(oann + oi * WIRE_ANN) != it.data_off ||
			    get64(oann + oi * WIRE_ANN + 8) != mo_item_bytes(&it))
				return bad(fr, "out-of-line item at byte %u has no matching region",
					   it.desc_off);
			oi++;
		}
	}
	if (r < 0)
		return bad(fr, "message: %s", w.err);
	if (ai != nports || oi != nool)
		return bad(fr, "%u port and %u region annotations left over",
			   nports - ai, nool - oi);
	return 0;
}

static int frame_msg(struct frame *fr)
{
	const uint8_t *b = fr->b;
	unsigned nports = get16(b + 6), nool = get32(b + 8);
	uint32_t msg_len = get32(b + 12);
	size_t pos = WIRE_FRAME_HEADER + WIRE_DEST, need;
	const uint8_t *ann, *oann, *msg;
	struct kmsg *m;
	struct kport *dest;
	unsigned nrights;

	need = pos + (size_t)nports * WIRE_ANN + (size_t)nool * WIRE_ANN;
	if (need > fr->len || ((size_t)msg_len + 7) / 8 * 8 > fr->len - need)
		return bad(fr, "message frame of %zu bytes is too short for its %u ports, %u regions and %u message bytes",
			   fr->len, nports, nool, msg_len);
	ann = b + pos;
	oann = ann + nports * WIRE_ANN;
	msg = oann + nool * WIRE_ANN;
	pos = need + ((msg_len + 7) & ~7u);
	for (unsigned i = 0; i < nool; i++) {
		uint64_t sz = get64(oann + i * WIRE_ANN + 8);
		uint64_t padded = (sz + 7) & ~(uint64_t)7;

		if (sz == 0 || padded < sz || padded > fr->len - pos)
			return bad(fr, "out-of-line region %u of %llu bytes runs past the frame",
				   i, (unsigned long long)sz);
		pos += padded;
	}
	if (pos != fr->len)
		return bad(fr, "frame has %zu bytes, its contents %zu", fr->len, pos);
	if (valid_ann(fr, b + 16, 1))
		return -1;
	if (check_msg(fr, nports, nool, msg_len, ann, oann, msg))
		return -1;

	nrights = nports - (nports && get32(ann) == 16);
	m = mo_kmsg_alloc(msg_len, nrights, nool);
	memcpy(m->bytes, msg, msg_len);
	memset(m->bytes + 8, 0, 4);
	memset(m->bytes + 16, 0, 8);
	dest = lookup_kind(fr->l, b[16], get64(b + 24));
	m->dest.type = b[17];
	if (!dest || dest->kind == KP_DEAD) {
		m->dest.port = NULL;
	} else {
		mo_kport_ref(dest);
		m->dest.port = dest;
		if (m->dest.type == MACH_MSG_TYPE_PORT_SEND) {
			dest->srights++;	/* copyout or forwarding drops it */
		} else {
			struct kexport *x = export_rec(dest, fr->l, 0);

			if (x && x->sonces)
				x->sonces--;
		}
	}
	if (nports > nrights) {
		m->reply.port = get_right(fr->l, ann);
		m->reply.type = ann[4];
		ann += WIRE_ANN;
	}
	for (unsigned i = 0; i < nrights; i++, ann += WIRE_ANN) {
		m->rights[i].off = get32(ann);
		m->rights[i].type = ann[4];
		m->rights[i].port = get_right(fr->l, ann);
	}
	pos = (msg - b) + ((msg_len + 7) & ~7u);
	for (unsigned i = 0; i < nool; i++) {
		struct kool *o = &m->ool[i];

		o->off = get32(oann + i * WIRE_ANN);
		o->size = get64(oann + i * WIRE_ANN + 8);
		o->addr = mo_pages_alloc(o->size, 0);
		if (!o->addr) {
			mo_kmsg_destroy(m);
			return bad(fr, "no memory for %llu out-of-line bytes",
				   (unsigned long long)o->size);
		}
		memcpy(o->addr, b + pos, o->size);
		memset((uint8_t *)o->addr + o->size, 0,
		       round_page(o->size) - o->size);
		pos += (o->size + 7) & ~(uint64_t)7;
	}
	/* A message to a port that died on the way is destroyed (Mach does too). */
	mo_kmsg_send(m);
	return 0;
}

static void release_sonces(struct kport *p, uint64_t n)
{
	for (; n; n--) {
		if (p->sorights)
			p->sorights--;
		if (p->kind == KP_LOCAL) {
			/* GNU Mach ipc_notify_send_once: the right died unused. */
			mo_kport_ref(p);
			mo_notify_send(p, MACH_NOTIFY_SEND_ONCE, 0, 0);
		} else if (p->kind == KP_PROXY) {
			mo_link_send_release(p->link, p->rid, p->rkind, 0, 1);
		}
	}
}

static int frame_release(struct frame *fr)
{
	const uint8_t *b = fr->b + WIRE_FRAME_HEADER;
	struct kport *p;
	struct kexport *x;
	uint64_t sends, sonces;

	if (fr->len != WIRE_FRAME_HEADER + 32)
		return bad(fr, "release frame has %zu bytes, not 48", fr->len);
	p = lookup_kind(fr->l, b[0], get64(b + 8));
	sends = get64(b + 16);
	sonces = get64(b + 24);
	if (!p || !(x = export_rec(p, fr->l, 0)))
		return 0;	/* it died meanwhile */
	if (sends > x->sends)
		return bad(fr, "release of %llu send rights, the link holds %llu",
			   (unsigned long long)sends, (unsigned long long)x->sends);
	if (sonces > x->sonces)
		return bad(fr, "release of %llu send-once rights, the link holds %llu",
			   (unsigned long long)sonces, (unsigned long long)x->sonces);
	mo_kport_ref(p);
	x->sonces -= sonces;
	if (sends && !(x->sends -= sends))
		mo_srights_dec(p);
	if (!x->sends && !x->sonces)
		export_drop(p, x);
	release_sonces(p, sonces);
	mo_kport_unref(p);
	return 0;
}

static int frame_dead(struct frame *fr)
{
	const uint8_t *b = fr->b + WIRE_FRAME_HEADER;
	struct kport *p;

	if (fr->len != WIRE_FRAME_HEADER + 16)
		return bad(fr, "dead-port frame has %zu bytes, not 32", fr->len);
	/* The peer names the port as it knows it: its export or what we moved. */
	switch (b[0]) {
	case WK_SENDER:
		p = mo_idmap_get(fr->l->imports, get64(b + 8));
		break;
	case WK_RECEIVER:
		p = mo_idmap_get(mo_exports, get64(b + 8));
		if (p && (p->kind != KP_PROXY || p->link != fr->l))
			p = NULL;
		break;
	default:
		return bad(fr, "dead-port frame kind %u is unknown", b[0]);
	}
	if (p)
		mo_kport_kill(p);
	return 0;
}

static int frame_error(struct frame *fr)
{
	uint32_t n = get32(fr->b + 12);

	if (n > fr->len - WIRE_FRAME_HEADER)
		n = (uint32_t)(fr->len - WIRE_FRAME_HEADER);
	snprintf(fr->err, sizeof(fr->err), "peer says: %.*s", (int)n,
		 (const char *)fr->b + WIRE_FRAME_HEADER);
	for (char *c = fr->err; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = '?';
	fr->l->peer_error = 1;
	return -1;
}

static int (*const frame_handlers[])(struct frame *) = {
	[WIRE_MSG] = frame_msg,
	[WIRE_RELEASE] = frame_release,
	[WIRE_DEAD] = frame_dead,
	[WIRE_ERROR] = frame_error,
};

/* Handles one whole frame; mo_lock held. -1: close the link (fr->err). */
static int frame_handle(struct frame *fr)
{
	uint16_t type = get16(fr->b + 4);

	if (type >= sizeof(frame_handlers) / sizeof(*frame_handlers) ||
	    !frame_handlers[type])
		return bad(fr, "frame type %u is unknown", type);
	return frame_handlers[type](fr);
}

static void drop_exports(uint64_t id, void *v, void *arg)
{
	struct kport *p = v;
	struct link *l = arg;
	struct kexport *x = export_rec(p, l, 0);
	uint64_t sonces;

	(void)id;
	if (!x)
		return;
	mo_kport_ref(p);
	sonces = x->sonces;
	if (x->sends)
		mo_srights_dec(p);
	export_drop(p, x);
	release_sonces(p, sonces);
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
static void link_close(struct link *l, const char *why)
{
	struct link **pp;

	if (l->dead)
		return;
	if (why) {
		mo_warn("link %s: %s; closing it", l->peer, why);
		if (!l->broken && !l->peer_error)
			link_send_error(l, why);
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
	for (pp = &links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	mo_link_unref(l);
}

/* Reads what the socket has; handles whole frames. I/O thread only. */
static void link_read(struct link *l)
{
	char buf[65536];
	ssize_t n;
	size_t off = 0;
	struct frame fr = { .l = l };

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

		link_close(l, !gone ? strerror(errno) :
			   l->in.len ? "connection closed in the middle of a frame"
				     : NULL);
		pthread_mutex_unlock(&mo_lock);
		return;
	}
	strbuf_add(&l->in, buf, (size_t)n);
	while (!l->dead && l->in.len - off >= WIRE_FRAME_HEADER) {
		const uint8_t *b = (const uint8_t *)l->in.buf + off;
		uint32_t len = get32(b);

		if (len < WIRE_FRAME_HEADER || (len & 7)) {
			link_close(l, "frame length is not a multiple of 8 of at least 16");
			break;
		}
		if (len > WIRE_MAX_FRAME) {
			char why[96];

			snprintf(why, sizeof(why), "frame of %u bytes exceeds the limit of %u",
				 len, WIRE_MAX_FRAME);
			link_close(l, why);
			break;
		}
		if (l->in.len - off < len)
			break;
		fr.b = b;
		fr.len = len;
		l->nframes++;
		if (frame_handle(&fr) < 0) {
			char why[200];

			snprintf(why, sizeof(why), "frame %llu: %s",
				 (unsigned long long)l->nframes, fr.err);
			link_close(l, why);
			break;
		}
		off += len;
	}
	if (!l->dead && off) {
		memmove(l->in.buf, l->in.buf + off, l->in.len - off);
		l->in.len -= off;
	}
	pthread_mutex_unlock(&mo_lock);
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
			link_close(l, errno == EPIPE || errno == ECONNRESET ?
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

static void link_flush(struct link *l)
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
static void links_drain_at_exit(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf[256];
		int n = 0;

		pthread_mutex_lock(&mo_lock);
		for (struct link *l = links; l; l = l->next) {
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

/* The hello of doc/wire.md, with a fresh nonce. */
static int hello_fill(uint8_t *h, int has_key)
{
	memset(h, 0, WIRE_HELLO);
	memcpy(h, WIRE_MAGIC, 8);
	put16(h + 8, WIRE_VERSION);
	put16(h + 10, WIRE_HELLO);
	strcpy((char *)h + 12, "x86_64");
	put32(h + 28, WIRE_MAX_FRAME);
	put32(h + 32, has_key ? WIRE_F_HELLO_AUTH : 0);
	if (getrandom(h + 48, WIRE_NONCE, 0) != WIRE_NONCE)
		return mo_error("getrandom: %s", strerror(errno));
	return 0;
}

/*
 * The proof that a side holds the shared secret: SipHash-2-4 under the
 * key made from it, over ROLE ('C' for the connecting side, 'S' for the
 * publisher) and both hellos' nonces, its own last; two halves make 128
 * bits. Each side's nonce is fresh, so a proof cannot be replayed.
 */
static void proof(const uint8_t *key, uint8_t role, const uint8_t *other_nonce,
		  const uint8_t *own_nonce, uint8_t *out)
{
	uint8_t m[2 + 2 * WIRE_NONCE];

	m[0] = role;
	memcpy(m + 2, other_nonce, WIRE_NONCE);
	memcpy(m + 2 + WIRE_NONCE, own_nonce, WIRE_NONCE);
	for (int half = 0; half < 2; half++) {
		uint64_t h;

		m[1] = (uint8_t)half;
		h = mo_siphash(key, m, sizeof(m));
		for (int i = 0; i < 8; i++)
			out[half * 8 + i] = (uint8_t)(h >> (8 * i));
	}
}

/* Sends an AUTH frame with our proof; blocking (during the handshake). */
static int auth_send(int fd, const uint8_t *key, uint8_t role,
		     const uint8_t *mine, const uint8_t *theirs);

static int full_io(int fd, void *buf, size_t len, int out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Compares proofs in time that does not depend on where they differ. */
static int proof_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (int i = 0; i < WIRE_PROOF; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int auth_send(int fd, const uint8_t *key, uint8_t role,
		     const uint8_t *mine, const uint8_t *theirs)
{
	uint8_t f[WIRE_FRAME_HEADER + WIRE_PROOF] = { 0 };

	put32(f, sizeof(f));
	put16(f + 4, WIRE_AUTH);
	proof(key, role, theirs + 48, mine + 48, f + WIRE_FRAME_HEADER);
	return full_io(fd, f, sizeof(f), 1);
}

static void handshake_refuse(int fd, const char *why);
static int handshake_fail(int fd, const char *why);

/*
 * Reads the frame the handshake expects next (AUTH or BOOTSTRAP) into
 * HDR and BODY. Returns 0, or -1 with WHY set (an ERROR frame's text
 * included) and the socket closed.
 */
static int handshake_frame(int fd, const char *peer, uint8_t *hdr,
			   uint8_t *body, size_t body_max, char *why,
			   size_t whylen)
{
	uint32_t len;

	if (full_io(fd, hdr, WIRE_FRAME_HEADER, 0)) {
		snprintf(why, whylen, "%s: connection closed during the handshake", peer);
		close(fd);
		return -1;
	}
	len = get32(hdr);
	if (len < WIRE_FRAME_HEADER || len - WIRE_FRAME_HEADER > body_max ||
	    (len & 7)) {
		snprintf(why, whylen, "%s: handshake frame has length %u", peer, len);
		handshake_refuse(fd, why);
		return -1;
	}
	if (full_io(fd, body, len - WIRE_FRAME_HEADER, 0)) {
		snprintf(why, whylen, "%s: connection closed in a handshake frame", peer);
		close(fd);
		return -1;
	}
	if (get16(hdr + 4) == WIRE_ERROR) {
		uint32_t n = get32(hdr + 12);

		if (n > len - WIRE_FRAME_HEADER)
			n = len - WIRE_FRAME_HEADER;
		snprintf(why, whylen, "%s: refused: %.*s", peer, (int)n, (char *)body);
		close(fd);
		return -1;
	}
	return 0;
}

/*
 * After the hellos: both sides hold a secret or neither does; if both,
 * each proves it, the connecting side first.
 */
static int handshake_auth(int fd, const char *peer, const uint8_t *key,
			  int publisher, const uint8_t *mine,
			  const uint8_t *theirs)
{
	uint8_t hdr[WIRE_FRAME_HEADER], body[64], want[WIRE_PROOF];
	int they = (get32(theirs + 32) & WIRE_F_HELLO_AUTH) != 0;
	char why[300];
	uint8_t role = publisher ? 'C' : 'S';	/* the peer's role */

	if (!key && !they)
		return 0;
	if (!key || !they) {
		snprintf(why, sizeof(why), "%s: wrong or missing shared secret (%s)",
			 peer, key ? "the peer has none" : "the peer wants one");
		return handshake_fail(fd, why);
	}
	if (!publisher && auth_send(fd, key, 'C', mine, theirs)) {
		close(fd);
		return mo_error("%s: connection lost during the handshake", peer);
	}
	if (handshake_frame(fd, peer, hdr, body, sizeof(body), why, sizeof(why)))
		return mo_error("%s", why);
	proof(key, role, mine + 48, theirs + 48, want);
	if (get16(hdr + 4) != WIRE_AUTH || get32(hdr) != sizeof(hdr) + WIRE_PROOF ||
	    !proof_eq(body, want)) {
		snprintf(why, sizeof(why), "%s: wrong or missing shared secret", peer);
		return handshake_fail(fd, why);
	}
	if (publisher && auth_send(fd, key, 'S', mine, theirs)) {
		close(fd);
		return mo_error("%s: connection lost during the handshake", peer);
	}
	return 0;
}

static int hello_check(const uint8_t *h, const char *peer, char *why,
		       size_t whylen)
{
	char abi[17];

	if (memcmp(h, WIRE_MAGIC, 8)) {
		snprintf(why, whylen, "%s: not a motrace-mach peer (bad magic)", peer);
		return -1;
	}
	if (get16(h + 8) != WIRE_VERSION) {
		snprintf(why, whylen, "%s: wire version %u is not supported (this side speaks %u)",
			 peer, get16(h + 8), WIRE_VERSION);
		return -1;
	}
	memcpy(abi, h + 12, 16);
	abi[16] = '\0';
	for (char *c = abi; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c > '~')
			*c = '?';
	if (strcmp(abi, "x86_64")) {
		snprintf(why, whylen, "%s: peer speaks ABI profile '%s', this process x86_64",
			 peer, abi);
		return -1;
	}
	return 0;
}

/* A link on the I/O thread's list, with our link reference going to it. */
static struct link *link_new(int fd, const char *peer)
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

static void link_register(struct link *l)
{
	int fl = fcntl(l->fd, F_GETFL);

	fcntl(l->fd, F_SETFL, fl | O_NONBLOCK);
	l->next = links;
	links = l;
	mo_io_wake();
	if (rd_role == RD_APP)
		mo_io_wake_reader();
}

/* Tells the peer WHY in an ERROR frame and closes the socket. */
static void handshake_refuse(int fd, const char *why)
{
	uint8_t f[WIRE_FRAME_HEADER + 256];
	size_t n = strlen(why), body;

	if (n > 240)
		n = 240;
	body = (n + 7) & ~(size_t)7;
	memset(f, 0, sizeof(f));
	put32(f, (uint32_t)(WIRE_FRAME_HEADER + body));
	put16(f + 4, WIRE_ERROR);
	put32(f + 12, (uint32_t)n);
	memcpy(f + WIRE_FRAME_HEADER, why, n);
	(void)!send(fd, f, WIRE_FRAME_HEADER + body, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_RDWR);
	close(fd);
}

/* Refuses the peer and says so here too. */
static int handshake_fail(int fd, const char *why)
{
	handshake_refuse(fd, why);
	return mo_error("%s", why);
}

/*
 * Both sides of a new connection begin alike: hellos both ways, then the
 * proofs of the shared secret (SERVER says which side this is). Returns
 * 0, or -1 with FD closed and a message.
 */
static int handshake_hello(int fd, const char *peer, const uint8_t *key,
			   int server)
{
	uint8_t mine[WIRE_HELLO], theirs[WIRE_HELLO];
	char why[200];

	if (hello_fill(mine, key != NULL) < 0) {
		close(fd);
		return -1;
	}
	if (full_io(fd, mine, WIRE_HELLO, 1) || full_io(fd, theirs, WIRE_HELLO, 0)) {
		close(fd);
		return mo_error("%s: connection lost during the hello", peer);
	}
	if (hello_check(theirs, peer, why, sizeof(why)))
		return handshake_fail(fd, why);
	return handshake_auth(fd, peer, key, server, mine, theirs) < 0 ? -1 : 0;
}

/*
 * The server side of a new connection: hellos, proofs of the shared
 * secret, then the BOOTSTRAP frame with a send right made from PORT.
 */
int mo_link_accept(int fd, const char *peer, struct kport *port,
		const uint8_t *key)
{
	char why[200];
	struct link *l;
	uint8_t *f;
	struct kright r;
	struct post post = { .forward_tail = &post.forward };

	if (handshake_hello(fd, peer, key, 1) < 0)
		return -1;
	l = link_new(fd, peer);
	pthread_mutex_lock(&mo_lock);
	if (port->kind != KP_LOCAL) {
		pthread_mutex_unlock(&mo_lock);
		mo_link_unref(l);
		snprintf(why, sizeof(why), "%s: the published port is dead", peer);
		return handshake_fail(fd, why);
	}
	/* As MAKE_SEND would: a new send right, in transit to the link. */
	port->srights++;
	port->mscount++;
	mo_kport_ref(port);
	r.off = 0;
	r.type = MACH_MSG_TYPE_PORT_SEND;
	r.port = port;
	f = frame_start(WIRE_BOOTSTRAP, 1, 0, 0, WIRE_ANN);
	put_right(l, &r, f + WIRE_FRAME_HEADER, &post);
	/* Blocking write: the link is not on the I/O thread's list yet. */
	if (full_io(fd, f, scratch.len, 1)) {
		link_close(l, NULL);
		pthread_mutex_unlock(&mo_lock);
		return mo_error("%s: connection lost before the bootstrap frame", peer);
	}
	link_register(l);
	pthread_mutex_unlock(&mo_lock);
	return 0;
}

/* The client side: hellos, proofs, then the BOOTSTRAP frame; returns the name. */
int mo_link_connect(int fd, const char *peer, const uint8_t *key, mach_port_t *name)
{
	uint8_t hdr[WIRE_FRAME_HEADER];
	uint8_t body[256];
	char why[300];
	struct link *l;
	struct kport *p;

	if (handshake_hello(fd, peer, key, 0) < 0)
		return -1;
	if (handshake_frame(fd, peer, hdr, body, sizeof(body), why, sizeof(why)))
		return mo_error("%s", why);
	if (get16(hdr + 4) != WIRE_BOOTSTRAP ||
	    get32(hdr) != WIRE_FRAME_HEADER + WIRE_ANN ||
	    body[4] != MACH_MSG_TYPE_PORT_SEND || body[5] != WK_SENDER) {
		snprintf(why, sizeof(why), "%s: first frame is not a bootstrap send right",
			 peer);
		return handshake_fail(fd, why);
	}
	l = link_new(fd, peer);
	pthread_mutex_lock(&mo_lock);
	p = get_right(l, body);
	*name = mo_space_copyout(p, MACH_MSG_TYPE_PORT_SEND);
	link_register(l);
	pthread_mutex_unlock(&mo_lock);
	return 0;
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
	for (l = links; l; l = l->next)
		if (l->broken) {
			/* Closing changes the list: start over. */
			link_close(l, NULL);
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

	for (l = links; l; l = l->next)
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
	for (l = links; l; l = l->next) {
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
			link_flush(l);
		if (ps->pf[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL) &&
		    (ps->pf[i].events & POLLIN))
			link_read(l);
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
	for (struct link *l = links; l; l = l->next) {
		l->dead = 1;
		close(l->fd);
		l->fd = -1;
		strbuf_reset(&l->outq);
		l->outq_off = 0;
	}
	for (struct listener *ls = listeners; ls; ls = ls->next)
		close(ls->fd);
	links = NULL;
	listeners = NULL;
	pthread_mutex_unlock(&mo_lock);
}

void mo_io_init(void)
{
	pthread_t t;
	sigset_t all, old;

	mo_exports = mo_idmap_new();
	strbuf_init(&scratch, 4096);
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
	atexit(links_drain_at_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
