/*
 * guest/host/relay.c: frames in and out of the shared memory (ring.h).
 *
 * Everything read from the ring comes from the guest and is checked
 * against the frame's own bounds before use.
 */
#include <stdio.h>
#include <string.h>

#include "guest/host/relay.h"

void relay_init_shm(void *shm)
{
	struct mo_shm_header *h = shm;

	memset(h, 0, sizeof(*h));
	h->magic = MO_RING_MAGIC;
	h->version = MO_RING_VERSION;
	h->host_state = MO_PEER_READY;
}

void relay_attach(struct relay *r, void *shm)
{
	r->shm = shm;
	mo_ring_attach(&r->g2h, shm, 1);
	mo_ring_attach(&r->h2g, shm, 0);
}

static int bad(struct relay *r, const char *what, uint32_t seq)
{
	snprintf(r->err, sizeof(r->err), "agent frame %u: %s", seq, what);
	return -1;
}

/* Splits a MSG frame into its message and out-of-line regions. */
static int deliver_msg(struct relay *r, const struct mo_frame *f,
		       const struct relay_peer *peer, void *ctx)
{
	const uint8_t *p = (const uint8_t *)(f + 1);
	const uint8_t *end = (const uint8_t *)f + f->len;
	struct relay_ool ool[RELAY_MAX_OOL];
	int i;

	if (f->nool > RELAY_MAX_OOL)
		return bad(r, "too many out-of-line regions", f->seq);
	if ((size_t)(end - p) < mo_pad8(f->msg_len))
		return bad(r, "message runs past the frame", f->seq);
	for (i = 0, p += mo_pad8(f->msg_len); i < f->nool; i++) {
		const struct mo_frame_ool *o = (const void *)p;

		if ((size_t)(end - p) < sizeof(*o) ||
		    (size_t)(end - p) - sizeof(*o) < mo_pad8(o->bytes))
			return bad(r, "out-of-line region runs past the frame", f->seq);
		ool[i].data = p + sizeof(*o);
		ool[i].bytes = o->bytes;
		p += sizeof(*o) + mo_pad8(o->bytes);
	}
	return peer->on_msg(ctx, (const uint8_t *)(f + 1), f->msg_len, ool, f->nool);
}

int relay_poll(struct relay *r, const struct relay_peer *peer, void *ctx)
{
	struct mo_frame *f;
	int n = 0, k;

	while ((k = mo_ring_next(&r->g2h, &f)) > 0) {
		int rc = 0;

		if (f->seq != r->g2h.seq)
			return bad(r, "out of order (frames lost or reordered)", f->seq);
		if (f->kind == MO_FRAME_MSG) {
			rc = deliver_msg(r, f, peer, ctx);
		} else if (f->kind == MO_FRAME_CTL) {
			char text[512];
			uint32_t len = f->msg_len < sizeof(text) - 1 ?
				       f->msg_len : sizeof(text) - 1;

			memcpy(text, f + 1, len);
			text[len] = 0;
			rc = peer->on_ctl(ctx, text);
		} else {
			return bad(r, "unknown kind", f->seq);
		}
		mo_ring_release(&r->g2h, f->len);
		if (rc < 0)
			return -1;
		n++;
	}
	if (k < 0)
		return bad(r, "length does not fit the ring", r->g2h.seq);
	return n;
}

void relay_pool_attach(struct relay *r, void *pool, uint32_t pages)
{
	r->pool = pool;
	r->pool_pages = pages;
	r->pool_head = 0;
}

/*
 * Where BYTES of data go: 1 + the pool page they start at, taking the
 * pages (the next ones in order, never across the pool's end, none the
 * agent still uses), or 0: into the frame.
 */
static uint32_t pool_take(struct relay *r, uint32_t bytes, uint32_t *head)
{
	uint32_t pages = (bytes + MO_POOL_PAGE_SIZE - 1) / MO_POOL_PAGE_SIZE, pos;

	if (!r->pool || !r->pool_pages || bytes == 0)
		return 0;
	pos = *head % r->pool_pages;
	if (pos + pages > r->pool_pages ||
	    *head + pages - mo_ring_load(&r->shm->pool_done) > r->pool_pages)
		return 0;
	*head += pages;
	return pos + 1;
}

static int send_frame(struct relay *r, uint16_t kind, const void *msg,
		      uint32_t len, const struct relay_ool *ool, int nool)
{
	uint32_t flen = sizeof(struct mo_frame) + mo_pad8(len);
	uint32_t slot[RELAY_MAX_OOL], head = r->pool_head;
	struct mo_frame *f;
	uint8_t *p;
	int i;

	if (nool > RELAY_MAX_OOL) {
		snprintf(r->err, sizeof(r->err), "%d out-of-line regions in one message", nool);
		return -1;
	}
	for (i = 0; i < nool; i++) {
		slot[i] = pool_take(r, ool[i].bytes, &head);
		flen += sizeof(struct mo_frame_ool) + (slot[i] ? 0 : mo_pad8(ool[i].bytes));
	}
	if (flen > MO_FRAME_MAX) {
		snprintf(r->err, sizeof(r->err), "frame of %u bytes is too large", flen);
		return -1;
	}
	while (!(p = mo_ring_reserve(&r->h2g, flen)))
		if (r->idle && r->idle(r->idle_ctx) < 0) {
			snprintf(r->err, sizeof(r->err), "the agent stopped reading its ring");
			return -1;
		}
	f = (struct mo_frame *)p;
	f->len = flen;
	f->kind = kind;
	f->nool = nool;
	f->msg_len = len;
	f->seq = r->last_seq = r->h2g.seq;
	p += sizeof(*f);
	memcpy(p, msg, len);
	memset(p + len, 0, mo_pad8(len) - len);
	p += mo_pad8(len);
	for (i = 0; i < nool; i++) {
		struct mo_frame_ool *o = (struct mo_frame_ool *)p;

		o->bytes = ool[i].bytes;
		o->slot = slot[i];
		if (slot[i]) {
			uint8_t *d = r->pool + (size_t)(slot[i] - 1) * MO_POOL_PAGE_SIZE;
			uint32_t rounded = (ool[i].bytes + MO_POOL_PAGE_SIZE - 1) / MO_POOL_PAGE_SIZE * MO_POOL_PAGE_SIZE;

			/* Nothing of an earlier message in the last page's rest. */
			memcpy(d, ool[i].data, ool[i].bytes);
			memset(d + ool[i].bytes, 0, rounded - ool[i].bytes);
			p += sizeof(*o);
			r->pool_regions++;
			continue;
		}
		memcpy(p + sizeof(*o), ool[i].data, ool[i].bytes);
		p += sizeof(*o) + mo_pad8(ool[i].bytes);
		r->ring_regions += ool[i].bytes != 0;
	}
	r->pool_head = head;
	mo_ring_commit(&r->h2g, flen);
	relay_kick(r);
	return 0;
}

void relay_kick(struct relay *r)
{
	if (r->kick && __atomic_exchange_n(&r->shm->guest_waiting, 0, __ATOMIC_SEQ_CST))
		r->kick(r->kick_ctx);
}

int relay_send_msg(struct relay *r, const void *msg, uint32_t len,
		   const struct relay_ool *ool, int nool)
{
	return send_frame(r, MO_FRAME_MSG, msg, len, ool, nool);
}

int relay_send_ctl(struct relay *r, const char *text)
{
	return send_frame(r, MO_FRAME_CTL, text, strlen(text), NULL, 0);
}

int relay_send_script(struct relay *r, const char *text, size_t len)
{
	return send_frame(r, MO_FRAME_SCRIPT, text, (uint32_t)len, NULL, 0);
}
