/*
 * mach/recv.c: the frames this process reads from a link. Every length
 * and offset is checked before use; a bad frame is named and closes
 * the link. Rights that arrive become ports here (doc/wire.md, "Port ids").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/motrace.h>

#include "mach/link.h"

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
		if (p && (mo_export_rec(p, l, 0) || moved_to(p, l, id)))
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
struct kport *mo_get_right(struct link *l, const uint8_t *ann)
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
			x = mo_export_rec(q, l, 1);
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
			x = mo_export_rec(q, l, 1);
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
	} else if ((x = mo_export_rec(q, l, 0)) && x->sonces) {
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
	if (!dest && (ann[6] & ~WIRE_F_ANN_ALL))
		return bad(fr, "port annotation flags 0x%x are unknown", ann[6]);
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
	if (kind != WK_NULL && kind != WK_DEAD && !get64(ann + 8))
		return bad(fr, "%s names port id 0, which no port has (doc/wire.md, \"Port ids\")",
			   dest ? "the destination" : "a port annotation");
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
	for (unsigned i = 0; i < nool; i++)
		if (get32(oann + i * WIRE_ANN + 4) & ~(uint32_t)WIRE_F_REGION_PORTS)
			return bad(fr, "region annotation %u flags 0x%x are unknown", i,
				   get32(oann + i * WIRE_ANN + 4));
	while ((r = mo_walk_next(&w, &it)) == 1) {
		if (mo_type_is_port(it.name) && !it.is_inline) {
			/* An out-of-line port array: a PORTS region at its pointer
			 * slot, then one IN_REGION annotation per element. */
			if (mo_type_received(it.name) != it.name)
				return bad(fr, "port item at byte %u has disposition %u, not a received type",
					   it.desc_off, it.name);
			if (!it.number)
				continue;
			if (it.size != 32)
				return bad(fr, "out-of-line port array at byte %u has %u-bit elements, not 32",
					   it.desc_off, it.size);
			if (oi >= nool || get32(oann + oi * WIRE_ANN) != it.data_off ||
			    get64(oann + oi * WIRE_ANN + 8) != mo_item_bytes(&it) ||
			    !(get32(oann + oi * WIRE_ANN + 4) & WIRE_F_REGION_PORTS))
				return bad(fr, "out-of-line port array at byte %u has no matching region",
					   it.desc_off);
			oi++;
			for (uint32_t i = 0; i < it.number; i++, ai++) {
				if (ai >= nports || get32(ann + ai * WIRE_ANN) != it.data_off ||
				    !(ann[ai * WIRE_ANN + 6] & WIRE_F_IN_REGION))
					return bad(fr, "no port annotation for element %u of the array at byte %u",
						   i, it.desc_off);
				if (ann[ai * WIRE_ANN + 4] != it.name)
					return bad(fr, "annotation type %u for a %u item at byte %u",
						   ann[ai * WIRE_ANN + 4], it.name,
						   it.data_off);
			}
		} else if (mo_type_is_port(it.name)) {
			if (mo_type_received(it.name) != it.name)
				return bad(fr, "port item at byte %u has disposition %u, not a received type",
					   it.desc_off, it.name);
			for (uint32_t i = 0; i < it.number; i++, ai++) {
				if (ai >= nports ||
				    get32(ann + ai * WIRE_ANN) != it.data_off + 4 * i ||
				    (ann[ai * WIRE_ANN + 6] & WIRE_F_IN_REGION))
					return bad(fr, "no port annotation for byte %u",
						   it.data_off + 4 * i);
				if (ann[ai * WIRE_ANN + 4] != it.name)
					return bad(fr, "annotation type %u for a %u item at byte %u",
						   ann[ai * WIRE_ANN + 4], it.name,
						   it.data_off);
			}
		} else if (!it.is_inline && mo_item_bytes(&it)) {
			if (oi >= nool || get32(oann + oi * WIRE_ANN) != it.data_off ||
			    get64(oann + oi * WIRE_ANN + 8) != mo_item_bytes(&it) ||
			    (get32(oann + oi * WIRE_ANN + 4) & WIRE_F_REGION_PORTS))
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

	if (msg_len > MO_MACH_MSG_MAX)
		return bad(fr, "a message of %u bytes exceeds the limit of %u (MO_MACH_MSG_MAX)",
			   msg_len, MO_MACH_MSG_MAX);
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

		if (get32(oann + i * WIRE_ANN + 4) & WIRE_F_REGION_PORTS) {
			/* A port array's names come from its annotations. */
			if (sz == 0 || sz > 4 * (uint64_t)nports)
				return bad(fr, "out-of-line port array %u of %llu bytes does not match the frame's %u ports",
					   i, (unsigned long long)sz, nports);
			continue;
		}
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
	m->src = fr->l->serial;
	m->stack = fr->l->next_stack;	/* its STACK frame's, if one came before it */
	fr->l->next_stack = NULL;
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
			struct kexport *x = mo_export_rec(dest, fr->l, 0);

			if (x && x->sonces)
				x->sonces--;
		}
	}
	if (nports > nrights) {
		m->reply.port = mo_get_right(fr->l, ann);
		m->reply.type = ann[4];
		ann += WIRE_ANN;
	}
	for (unsigned i = 0, elem = 0; i < nrights; i++, ann += WIRE_ANN) {
		m->rights[i].off = get32(ann);
		m->rights[i].type = ann[4];
		m->rights[i].port = mo_get_right(fr->l, ann);
		if (ann[6] & WIRE_F_IN_REGION) {
			/* check_msg matched it to the PORTS region at its offset. */
			unsigned j = 0;

			while (get32(oann + j * WIRE_ANN) != m->rights[i].off)
				j++;
			elem = i && m->rights[i - 1].region == j + 1 ? elem + 1 : 0;
			m->rights[i].region = j + 1;
			m->rights[i].off = 4 * elem;
		}
	}
	pos = (msg - b) + ((msg_len + 7) & ~7u);
	for (unsigned i = 0; i < nool; i++) {
		struct kool *o = &m->ool[i];

		o->off = get32(oann + i * WIRE_ANN);
		o->size = get64(oann + i * WIRE_ANN + 8);
		if (get32(oann + i * WIRE_ANN + 4) & WIRE_F_REGION_PORTS) {
			o->ports = 1;
			o->addr = mo_pages_alloc(o->size, 1);
			if (!o->addr) {
				mo_kmsg_destroy(m);
				return bad(fr, "no memory for a port array of %llu bytes",
					   (unsigned long long)o->size);
			}
			continue;
		}
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

void mo_release_sonces(struct kport *p, uint64_t n)
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
	if (!get64(b + 8))
		return bad(fr, "release of port id 0, which no port has");
	p = lookup_kind(fr->l, b[0], get64(b + 8));
	sends = get64(b + 16);
	sonces = get64(b + 24);
	if (!p || !(x = mo_export_rec(p, fr->l, 0)))
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
		mo_export_drop(p, x);
	mo_release_sonces(p, sonces);
	mo_kport_unref(p);
	return 0;
}

static int frame_dead(struct frame *fr)
{
	const uint8_t *b = fr->b + WIRE_FRAME_HEADER;
	struct kport *p;

	if (fr->len != WIRE_FRAME_HEADER + 16)
		return bad(fr, "dead-port frame has %zu bytes, not 32", fr->len);
	if (!get64(b + 8))
		return bad(fr, "dead-port frame for port id 0, which no port has");
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

/* The peer asks for our senders' stacks, or no longer (doc/wire.md, "STACKS"). */
static int frame_stacks(struct frame *fr)
{
	uint32_t on;

	if (fr->len != WIRE_FRAME_HEADER + 8)
		return bad(fr, "stacks frame has %zu bytes, not 24", fr->len);
	on = get32(fr->b + WIRE_FRAME_HEADER);
	if (on > 1)
		return bad(fr, "stacks frame says %u, not 0 or 1", on);
	fr->l->send_stacks = (int)on;
	return 0;
}

/* The stack of the thread that sent the next MSG frame (doc/wire.md, "STACK"). */
static int frame_stack(struct frame *fr)
{
	unsigned n = get16(fr->b + 6);
	struct mo_mach_stack *st;

	if (n > WIRE_STACK_MAX)
		return bad(fr, "stack frame of %u return addresses (at most %u)", n,
			   WIRE_STACK_MAX);
	if (fr->len != WIRE_FRAME_HEADER + 8 + 8 * (size_t)n)
		return bad(fr, "stack frame of %u return addresses has %zu bytes, not %u",
			   n, fr->len, WIRE_FRAME_HEADER + 8 + 8 * n);
	st = fr->l->next_stack;
	if (!st && !(st = malloc(sizeof(*st))))
		abort();
	st->pid = get32(fr->b + WIRE_FRAME_HEADER);
	st->tid = get32(fr->b + WIRE_FRAME_HEADER + 4);
	st->n = n;
	for (unsigned i = 0; i < n; i++)
		st->pc[i] = get64(fr->b + WIRE_FRAME_HEADER + 8 + 8 * i);
	fr->l->next_stack = st;
	return 0;
}

static int (*const frame_handlers[])(struct frame *) = {
	[WIRE_MSG] = frame_msg,
	[WIRE_RELEASE] = frame_release,
	[WIRE_DEAD] = frame_dead,
	[WIRE_ERROR] = frame_error,
	[WIRE_STACKS] = frame_stacks,
	[WIRE_STACK] = frame_stack,
};

/* Handles one whole frame; mo_lock held. -1: close the link (fr->err). */
int mo_frame_handle(struct frame *fr)
{
	uint16_t type = get16(fr->b + 4);

	if (type >= sizeof(frame_handlers) / sizeof(*frame_handlers) ||
	    !frame_handlers[type])
		return bad(fr, "frame type %u is unknown", type);
	return frame_handlers[type](fr);
}

