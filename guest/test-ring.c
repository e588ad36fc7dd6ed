/*
 * guest/test-ring.c: the relay rings (ring.h) under load, on the host.
 *
 * A producer thread writes frames of random sizes (up to the largest a
 * ring takes) whose bytes derive from their sequence number; a consumer
 * thread, sometimes slow so that the ring fills, checks each one. Then a
 * frame with an impossible length must be refused. The byte counts start
 * just below 2^32, so they wrap on the way. Prints TAP-style
 * "ok"/"not ok" lines; exits non-zero on a failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	return !k;
}
