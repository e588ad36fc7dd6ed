/*
 * mach/send.c: the frames this process writes on a link (doc/wire.md,
 * "Frames"): MSG with its port and region annotations, RELEASE, DEAD
 * and ERROR; rights leaving for the peer are counted on the way out.
 */
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mach/motrace.h>

#include "mach/link.h"

/* A frame whose first ZERO bytes of BODY are zeroed; the caller writes the rest. */
static uint8_t *mo_frame_start_n(uint16_t type, uint16_t count1, uint32_t count2,
				 uint32_t msg_len, size_t body, size_t zero)
{
	uint8_t *f;

	strbuf_reset(&mo_scratch);
	strbuf_grow(&mo_scratch, WIRE_FRAME_HEADER + body);
	f = (uint8_t *)mo_scratch.buf;
	memset(f, 0, WIRE_FRAME_HEADER + zero);
	put32(f, (uint32_t)(WIRE_FRAME_HEADER + body));
	put16(f + 4, type);
	put16(f + 6, count1);
	put32(f + 8, count2);
	put32(f + 12, msg_len);
	mo_scratch.len = WIRE_FRAME_HEADER + body;
	return f;
}

uint8_t *mo_frame_start(uint16_t type, uint16_t count1, uint32_t count2,
			    uint32_t msg_len, size_t body)
{
	return mo_frame_start_n(type, count1, count2, msg_len, body, body);
}

void mo_link_send_release(struct link *l, uint64_t rid, uint8_t rkind,
		       uint64_t sends, uint64_t sonces)
{
	uint8_t *f;

	if (!l || l->dead)
		return;
	f = mo_frame_start(WIRE_RELEASE, 0, 0, 0, 32);
	f[16] = rkind;
	put64(f + 24, rid);
	put64(f + 32, sends);
	put64(f + 40, sonces);
	mo_link_write(l, f, mo_scratch.len);
}

void mo_link_send_dead(struct link *l, uint8_t kind, uint64_t id)
{
	uint8_t *f;

	if (!l || l->dead)
		return;
	f = mo_frame_start(WIRE_DEAD, 0, 0, 0, 16);
	f[16] = kind;
	put64(f + 24, id);
	mo_link_write(l, f, mo_scratch.len);
}

void mo_link_send_error(struct link *l, const char *text)
{
	size_t n = strlen(text);
	uint8_t *f = mo_frame_start(WIRE_ERROR, 0, 0, (uint32_t)n, (n + 7) & ~7ul);

	memcpy(f + WIRE_FRAME_HEADER, text, n);
	mo_link_write(l, f, mo_scratch.len);
}

/*
 * The STACK frame that goes before a MSG on a link whose peer asked
 * (doc/wire.md, "STACK"): ST when the message brought one (it is passed
 * on as it came), else the return addresses of the calling thread, from
 * its caller on (backtrace(3): glibc's unwinder reads .eh_frame, so
 * programs built without frame pointers unwind too).
 */
size_t mo_link_stack_frame(uint8_t *f, const struct mo_mach_stack *st)
{
	void *pcs[WIRE_STACK_MAX + 1];
	unsigned n;
	int got;

	memset(f, 0, WIRE_FRAME_HEADER + 8);
	if (st) {
		n = st->n < WIRE_STACK_MAX ? st->n : WIRE_STACK_MAX;
		put32(f + WIRE_FRAME_HEADER, st->pid);
		put32(f + WIRE_FRAME_HEADER + 4, st->tid);
		for (unsigned i = 0; i < n; i++)
			put64(f + WIRE_FRAME_HEADER + 8 + 8 * i, st->pc[i]);
	} else {
		got = backtrace(pcs, WIRE_STACK_MAX + 1);
		n = got > 1 ? (unsigned)got - 1 : 0;	/* not this function */
		put32(f + WIRE_FRAME_HEADER, (uint32_t)getpid());
		put32(f + WIRE_FRAME_HEADER + 4, (uint32_t)gettid());
		for (unsigned i = 0; i < n; i++)
			put64(f + WIRE_FRAME_HEADER + 8 + 8 * i, (uintptr_t)pcs[i + 1]);
	}
	put32(f, WIRE_FRAME_HEADER + 8 + 8 * n);
	put16(f + 4, WIRE_STACK);
	put16(f + 6, (uint16_t)n);
	return WIRE_FRAME_HEADER + 8 + 8 * n;
}

/* The receive right of local port P leaves for L (doc/wire.md, "Moving a receive right"). */
static void move_out(struct kport *p, struct link *l, uint8_t *ann,
		     struct post *post)
{
	/* Back where it came from: the peer's own id, so that it finds its
	 * port (and name) again; else ours. */
	int home = p->mv_link == l;
	uint64_t id = home ? p->mv_id : mo_export_id(p);
	struct kexport *x = mo_export_rec(p, l, 0);
	struct kport *ns;

	if (x) {
		/* What L held of it becomes L's own. */
		if (x->sends && p->srights)
			p->srights--;
		mo_export_drop(p, x);
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
		mo_cond_wake(&p->cond, 1);
}

/* Writes the 16-byte annotation of one right going over L. */
void mo_put_right(struct link *l, const struct kright *r, uint8_t *ann,
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
		put64(ann + 8, mo_export_id(p));
	}
	{
		struct kexport *x = mo_export_rec(p, l, 1);

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
	uint64_t src = m->src ? m->src : mo_src_thread;
	int complex;

	if (!l || l->dead || l->broken) {
		mo_kmsg_destroy(m);
		return MACH_SEND_INVALID_DEST;
	}
	body = WIRE_DEST + nports * WIRE_ANN + m->nool * WIRE_ANN + msg_pad;
	for (unsigned i = 0; i < m->nool; i++)
		if (!m->ool[i].ports)
			body += (m->ool[i].size + 7) & ~(uint64_t)7;
	if (WIRE_FRAME_HEADER + body > WIRE_MAX_FRAME) {
		mo_warn("link %s: message %d of %zu bytes with its out-of-line data exceeds the frame limit of %u",
			l->peer, ((mach_msg_header_t *)m->bytes)->msgh_id,
			WIRE_FRAME_HEADER + body, WIRE_MAX_FRAME);
		mo_kmsg_destroy(m);
		return MACH_SEND_NO_BUFFER;
	}
	/* Zeroed up to the message: the rest is written whole below. */
	f = mo_frame_start_n(WIRE_MSG, (uint16_t)nports, m->nool, m->size, body,
			     WIRE_DEST + (nports + m->nool) * WIRE_ANN);
	f[16] = p->rkind;
	f[17] = m->dest.type;
	put64(f + 24, p->rid);
	ann = f + WIRE_FRAME_HEADER + WIRE_DEST;
	if (m->reply.port) {
		struct kright r = m->reply;

		r.off = 16;
		mo_put_right(l, &r, ann, &post);
		ann += WIRE_ANN;
	} else if (m->reply.type) {
		m->reply.type = 0;
	}
	for (unsigned i = 0; i < m->nrights; i++, ann += WIRE_ANN) {
		mo_put_right(l, &m->rights[i], ann, &post);
		if (m->rights[i].region) {
			/* Named by its array's pointer slot, in element order. */
			put32(ann, m->ool[m->rights[i].region - 1].off);
			ann[6] |= WIRE_F_IN_REGION;
		}
	}
	for (unsigned i = 0; i < m->nool; i++, ann += WIRE_ANN) {
		put32(ann, m->ool[i].off);
		if (m->ool[i].ports)
			put32(ann + 4, WIRE_F_REGION_PORTS);
		put64(ann + 8, m->ool[i].size);
	}
	pos = ann - f;
	complex = (((mach_msg_header_t *)m->bytes)->msgh_bits &
		   MACH_MSGH_BITS_COMPLEX) != 0;
	memcpy(f + pos, m->bytes, m->size);
	memset(f + pos + m->size, 0, msg_pad - m->size);
	put32(f + pos, MACH_MSGH_BITS(m->dest.type, m->reply.port ? m->reply.type : 0) |
		       (complex ? MACH_MSGH_BITS_COMPLEX : 0));
	pos += msg_pad;
	for (unsigned i = 0; i < m->nool; i++) {
		if (!m->ool[i].ports) {
			uint64_t pad = (m->ool[i].size + 7) & ~(uint64_t)7;

			memcpy(f + pos, m->ool[i].addr, m->ool[i].size);
			memset(f + pos + m->ool[i].size, 0, pad - m->ool[i].size);
			pos += pad;
		}
		if (!m->ool[i].borrowed)
			mo_pages_release(m->ool[i].addr, m->ool[i].size);
	}
	if (l->send_stacks) {
		uint8_t sf[MO_STACK_FRAME_MAX];

		mo_link_write2(l, sf, mo_link_stack_frame(sf, m->stack), f, mo_scratch.len);
	} else {
		mo_link_write(l, f, mo_scratch.len);
	}
	mo_link_hold(l, src);

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
	free(m->stack);
	free(m);
	*post.forward_tail = NULL;
	while ((fw = post.forward)) {
		post.forward = fw->next;
		mo_kmsg_send(fw);
	}
	return MACH_MSG_SUCCESS;
}

