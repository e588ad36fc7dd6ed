/*
 * bench/decode-bench.c: decode + render throughput, in messages per second,
 * against a baseline of copying the same bytes, measured in the same run.
 *
 * usage: decode-bench GOLDEN.bin [SECONDS]
 *
 * The mix is drawn from the MIG-made golden messages with the weights of a
 * paging workload: mostly data_request / data_supply, then unlocks, lock
 * requests, completions and returns; a few init / ready / terminate.
 *
 * Each figure is the best of ROUNDS rounds, the rounds of the four figures
 * interleaved: on a shared machine another process's burst then lowers one
 * round of each figure rather than the whole of one, and the ratios hold.
 * Time is the thread's CPU time: the work is all computation, and the time
 * other processes hold the CPU it is pinned to is not its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "decode/render.h"

#define MIX 4096
#define ROUNDS 5

static const struct { int32_t id; unsigned weight; } mix_weights[] = {
	{ MO_ID_MEMORY_OBJECT_DATA_REQUEST, 30 },
	{ MO_ID_MEMORY_OBJECT_DATA_SUPPLY, 30 },
	{ MO_ID_MEMORY_OBJECT_DATA_UNLOCK, 10 },
	{ MO_ID_MEMORY_OBJECT_LOCK_REQUEST, 10 },
	{ MO_ID_MEMORY_OBJECT_LOCK_COMPLETED, 8 },
	{ MO_ID_MEMORY_OBJECT_DATA_RETURN, 8 },
	{ MO_ID_MEMORY_OBJECT_INIT, 2 },
	{ MO_ID_MEMORY_OBJECT_READY, 1 },
	{ MO_ID_MEMORY_OBJECT_TERMINATE, 1 },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct msg { const uint8_t *p; size_t n; };

static volatile uint64_t sink;

/* Messages per second of MODE over M for about SECS seconds. */
static double run(struct msg *m, double secs, int mode)
{
	struct strbuf sb = STRBUF_INIT;
	struct mo_decoded d;
	static uint8_t scratch[65536];
	uint64_t count = 0;
	double t0 = now(), t;

	strbuf_grow(&sb, 4096);
	do {
		for (int i = 0; i < MIX; i++) {
			switch (mode) {
			case 0:
				memcpy(scratch, m[i].p, m[i].n);
				sink += scratch[m[i].n - 1];
				break;
			case 1:
				mo_decode(m[i].p, m[i].n, MO_ABI_X86_64, &d);
				strbuf_reset(&sb);
				mo_render_text(&sb, m[i].p, &d, NULL);
				sink += sb.len;
				break;
			case 2:
				mo_decode(m[i].p, m[i].n, MO_ABI_X86_64, &d);
				strbuf_reset(&sb);
				mo_render_json(&sb, m[i].p, &d, NULL);
				sink += sb.len;
				break;
			case 3:
				mo_decode(m[i].p, m[i].n, MO_ABI_X86_64, &d);
				sink += d.nitems;
				break;
			}
		}
		count += MIX;
		t = now() - t0;
	} while (t < secs);
	strbuf_release(&sb);
	return count / t;
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	struct msg all[64], *mix = calloc(MIX, sizeof(*mix));
	size_t len, pos = 0, nall = 0, total = 0;
	static const char *const names[4] = {
		"baseline: copy", "decode + text", "decode + JSON", "decode only"
	};
	double secs = argc > 2 ? atof(argv[2]) : 1.0, base, text, json, dec;
	double best[4] = { 0 };
	FILE *f;
	int stop = 0;

	if (argc < 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: decode-bench GOLDEN.bin [SECONDS]\n");
		return 2;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (pos < len && !stop && nall < 64) {
		size_t n = mo_stream_next(buf + pos, len - pos, MO_ABI_X86_64,
					  &stop);
		all[nall].p = buf + pos;
		all[nall++].n = n;
		pos += n;
	}
	for (size_t w = 0; w < sizeof(mix_weights) / sizeof(mix_weights[0]); w++)
		total += mix_weights[w].weight;
	srand(7);
	for (int i = 0; i < MIX; i++) {
		unsigned r = (unsigned)rand() % total, w = 0;

		while (r >= mix_weights[w].weight)
			r -= mix_weights[w++].weight;
		for (size_t k = 0; k < nall; k++) {
			const uint8_t *h = all[k].p;
			int32_t id = (int32_t)(h[28] | h[29] << 8 | h[30] << 16 |
					       (uint32_t)h[31] << 24);

			if (id == mix_weights[w].id)
				mix[i] = all[k];
		}
		if (!mix[i].p) {
			fprintf(stderr, "decode-bench: no message %d in %s\n",
				mix_weights[w].id, argv[1]);
			return 1;
		}
	}
	printf("mix of %d messages from %s, %.1f s per figure, best of %d rounds\n",
	       MIX, argv[1], secs, ROUNDS);
	for (int r = 0; r < ROUNDS; r++)
		for (int k = 0; k < 4; k++) {
			double v = run(mix, secs / ROUNDS, k);

			if (v > best[k])
				best[k] = v;
		}
	for (int k = 0; k < 4; k++)
		printf("%-22s %12.0f msg/s %9.1f ns/msg\n", names[k], best[k],
		       1e9 / best[k]);
	base = best[0];
	text = best[1];
	json = best[2];
	dec = best[3];
	printf("ratio decode+text / copy: %.3f (text %.2f M msg/s; target >= 1.0 M)\n",
	       text / base, text / 1e6);
	printf("ratio decode+JSON / copy: %.3f; decode only / copy: %.3f\n",
	       json / base, dec / base);
	printf("ratio decode+JSON / decode+text: %.3f (target >= 0.7)\n",
	       json / text);
	free(mix);
	return 0;
}
