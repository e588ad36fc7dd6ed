/*
 * guest/test-ring.c: the relay rings (ring.h) under load, on the host.
 *
 * A producer thread writes frames of random sizes (up to the largest a
 * ring takes) whose bytes derive from their sequence number; a consumer
 * thread, sometimes slow so that the ring fills, checks each one. Then a
 * frame with an impossible length must be refused. The byte counts start
 * just below 2^32, so they wrap on the way. Last, the relay's page pool
 * (host/relay.c, ring.h MO_SHM_POOL): which regions go there, which into
 * the frame. Prints TAP-style "ok"/"not ok" lines; exits non-zero on a
 * failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/host/relay.h"
#include "guest/ring.h"

static uint8_t *shm;
static unsigned long frames = 20000;

static uint8_t byte_of(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7);
}

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void *producer(void *arg)
{
	struct mo_ring r;
	uint32_t rnd = 1, seq;

	mo_ring_attach(&r, shm, 1);
	for (seq = 0; seq < frames; seq++) {
		uint32_t body = next_rand(&rnd) % 8 == 0 ?
				MO_FRAME_MAX - sizeof(struct mo_frame) :
				next_rand(&rnd) % 9000;
		uint32_t len = sizeof(struct mo_frame) + mo_pad8(body), i;
		struct mo_frame *f;
		uint8_t *p;

		while (!(p = mo_ring_reserve(&r, len)))
			;
		f = (struct mo_frame *)p;
		f->len = len;
		f->kind = MO_FRAME_MSG;
		f->nool = 0;
		f->msg_len = body;
		f->seq = r.seq;
		for (i = 0; i < body; i++)
			p[sizeof(*f) + i] = byte_of(seq, i);
		mo_ring_commit(&r, len);
	}
	return NULL;
}

/*
 * Sends one message whose one region has BYTES bytes of VALUE, then takes
 * the frame back as the agent would: the slot it names (0: the bytes are
 * in the frame), or -1 when the frame or the pool is not what it says.
 */
static int pool_send(struct relay *r, const uint8_t *pool, uint32_t bytes, uint8_t value)
{
	static uint8_t data[3 * 4096];
	uint8_t msg[24] = { 0 };
	struct relay_ool o = { data, bytes };
	const struct mo_frame_ool *fo;
	const uint8_t *d;
	struct mo_frame *f;
	uint32_t i, rounded = (bytes + 4095) / 4096 * 4096;
	int slot;

	memset(data, value, bytes);
	if (relay_send_msg(r, msg, sizeof(msg), &o, 1) < 0 || mo_ring_next(&r->h2g, &f) <= 0)
		return -1;
	fo = (const void *)((const uint8_t *)(f + 1) + mo_pad8(f->msg_len));
	slot = (int)fo->slot;
	if (fo->bytes != bytes ||
	    f->len != sizeof(*f) + mo_pad8(f->msg_len) + sizeof(*fo) + (slot ? 0 : mo_pad8(bytes)))
		slot = -1;
	d = slot > 0 ? pool + (slot - 1) * 4096 : (const uint8_t *)(fo + 1);
	for (i = 0; slot >= 0 && i < (slot ? rounded : bytes); i++)
		if (d[i] != (i < bytes ? value : 0))
			slot = -1;
	mo_ring_release(&r->h2g, f->len);
	return slot;
}

/* A pool of 3 pages: in order, never across its end or over pages in use. */
static int pool_check(void)
{
	static uint8_t pool[3 * 4096];
	struct mo_shm_header *h;
	struct relay r;
	int ok = 1;

	memset(&r, 0, sizeof(r));
	relay_init_shm(shm);
	relay_attach(&r, shm);
	h = r.shm;
	memset(pool, 0xee, sizeof(pool));
	ok &= pool_send(&r, pool, 4096, 1) == 0;	/* no pool yet: in the frame */
	relay_pool_attach(&r, pool, 3);
	ok &= pool_send(&r, pool, 4096, 1) == 1;	/* page 0 */
	ok &= pool_send(&r, pool, 5000, 2) == 2;	/* pages 1 and 2, the rest zeroed */
	ok &= pool_send(&r, pool, 100, 3) == 0;		/* full: in the frame */
	ok &= pool_send(&r, pool, 0, 4) == 0;		/* nothing to put anywhere */
	h->pool_done = 1;
	ok &= pool_send(&r, pool, 100, 5) == 1;		/* page 0 again */
	ok &= pool_send(&r, pool, 8192, 6) == 0;	/* 1 and 2 still in use */
	h->pool_done = 4;
	ok &= pool_send(&r, pool, 8192, 7) == 2;	/* now they are free */
	h->pool_done = 6;
	ok &= pool_send(&r, pool, 4096, 8) == 1;	/* page 0 */
	ok &= pool_send(&r, pool, 4096, 9) == 2;	/* page 1 */
	h->pool_done = 8;
	ok &= pool_send(&r, pool, 8192, 10) == 0;	/* would run past the end */
	ok &= pool_send(&r, pool, 4096, 11) == 3;	/* page 2: none skipped */
	ok &= r.pool_regions == 7 && r.ring_regions == 4;
	printf("%s 4 - host data goes into the page pool in order, else into the frame\n",
	       ok ? "ok" : "not ok");
	return ok;
}

int main(int argc, char **argv)
{
	struct mo_ring r;
	pthread_t t;
	unsigned long got = 0, bad = 0;
	uint32_t rnd = 7;
	struct mo_frame *f;
	int k;

	if (argc > 1)
		frames = strtoul(argv[1], NULL, 0);
	shm = calloc(1, MO_SHM_SIZE);
	if (!shm)
		return 1;
	mo_ring_attach(&r, shm, 1);
	/* Start near 2^32 so that the counts wrap during the run. */
	r.idx->head = r.idx->tail = 0xfff00000u;
	pthread_create(&t, NULL, producer, NULL);
	while (got < frames) {
		uint32_t i;

		k = mo_ring_next(&r, &f);
		if (k < 0) {
			printf("not ok 1 - frame %lu refused as corrupt\n", got);
			return 1;
		}
		if (k == 0)
			continue;
		if (f->seq != r.seq || f->kind != MO_FRAME_MSG)
			bad++;
		for (i = 0; i < f->msg_len; i++)
			if (((uint8_t *)(f + 1))[i] != byte_of(f->seq, i)) {
				bad++;
				break;
			}
		if (next_rand(&rnd) % 64 == 0) {
			/* A slow consumer: the producer must wait, not overwrite. */
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
		mo_ring_release(&r, f->len);
		got++;
	}
	pthread_join(t, NULL);
	printf("%s 1 - %lu frames through a %u-byte ring, in order and intact\n",
	       bad ? "not ok" : "ok", got, r.size);

	/* A frame that claims more than the producer wrote. */
	f = (struct mo_frame *)(r.data + r.idx->head % r.size);
	f->len = 4096;
	f->kind = MO_FRAME_MSG;
	f->msg_len = 0;
	r.idx->tail = r.idx->head + 64;
	k = mo_ring_next(&r, &f);
	printf("%s 2 - a length past the producer's tail is refused\n", k < 0 ? "ok" : "not ok");
	f->len = 12;
	r.idx->tail = r.idx->head + 64;
	k = mo_ring_next(&r, &f) < 0 && !bad;
	printf("%s 3 - a length that is not a multiple of 8 is refused\n", k ? "ok" : "not ok");
	k &= pool_check();
	return !k;
}
