/*
 * bench/tracer-bench.c: read faults through the Linux-hosted kernel (the
 * kernel side of mo-map) against the same pager reached by several ways,
 * in the same run, each fault timed on its own.
 *
 *   tracer-bench [-w] [-r FILE] PAGES ROUNDS NAME=ADDR...
 *
 * The first NAME=ADDR is the baseline (the pager reached directly); the
 * others are the same pager through a relay or through motrace. Each
 * round maps PAGES pages from every address in turn (the order rotates,
 * so that none is always first after a pause), reads each page once and
 * unmaps. A read fault is one round trip: memory_object_data_request
 * out, memory_object_data_supply back; what a relay between the two
 * adds to it, halved, is what it adds to one message. The timer wraps
 * the faulting access in the application thread, so the userfaultfd and
 * kernel-thread costs are the same for every address and cancel in the
 * differences.
 *
 * -w runs one more round first, not counted (file pages into the page
 * cache). Printed per address: faults per second (median of the
 * rounds), the ratio to the baseline, p50 and p99 of the fault time over
 * all faults of all rounds, and the added time per message at both
 * percentiles. Then one line per address for scripts:
 *   result NAME FAULTS-PER-S P50-US P99-US ADDED-P50-US ADDED-P99-US
 * -r FILE appends every sample, so that a script can pool runs (each
 * against a freshly started proxy): "rate NAME FAULTS-PER-S" per round
 * and "fault NAME MICROSECONDS" per fault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mach.h>
#include <mach/motrace.h>

#include "kernel/kernel.h"

#define PAGE 4096UL

struct way {
	const char *name, *addr;
	mach_port_t obj;
	struct mo_kernel *k;
	double *fault;		/* seconds, PAGES * ROUNDS */
	double *rate;		/* faults per second, one per round */
	double p50, p99, fps;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts V in place. */
static double percentile(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);

	qsort(v, n, sizeof(*v), cmp_double);
	return v[i < n ? i : n - 1];
}

static int way_round(struct way *w, unsigned pages, double *fault, double *rate)
{
	volatile uint8_t *a;
	void *p;
	double t0, t;

	if (mo_kernel_map(w->k, w->obj, 0, pages * PAGE, &p) < 0)
		return -1;
	a = p;
	t0 = t = now();
	for (unsigned i = 0; i < pages; i++) {
		double u;

		(void)a[i * PAGE];
		u = now();
		fault[i] = u - t;
		t = u;
	}
	*rate = pages / (t - t0);
	return mo_kernel_unmap(w->k, p);
}

int main(int argc, char **argv)
{
	struct mo_kernel_opts ko = { 0 };
	struct way *ways, *base;
	unsigned pages, rounds, nways, first;
	const char *raw_path = NULL;
	FILE *raw = NULL;
	int warm = 0, c;

	while ((c = getopt(argc, argv, "+wr:")) != -1) {
		if (c == 'w')
			warm = 1;
		else if (c == 'r')
			raw_path = optarg;
		else
			return 2;
	}
	argv += optind - 1;
	argc -= optind - 1;
	if (argc < 4) {
		fprintf(stderr, "usage: tracer-bench [-w] [-r FILE] PAGES ROUNDS NAME=ADDR...\n");
		return 2;
	}
	if (raw_path && !(raw = fopen(raw_path, "a"))) {
		fprintf(stderr, "tracer-bench: %s: %s\n", raw_path, strerror(errno));
		return 1;
	}
	pages = (unsigned)atoi(argv[1]);
	rounds = (unsigned)atoi(argv[2]);
	nways = (unsigned)argc - 3;
	if (!pages || !rounds) {
		fprintf(stderr, "tracer-bench: PAGES and ROUNDS must be positive\n");
		return 2;
	}
	ways = calloc(nways, sizeof(*ways));
	for (unsigned i = 0; i < nways; i++) {
		struct way *w = &ways[i];
		char *eq = strchr(argv[3 + i], '=');

		if (!eq) {
			fprintf(stderr, "tracer-bench: %s: expected NAME=ADDR\n", argv[3 + i]);
			return 2;
		}
		*eq = '\0';
		w->name = argv[3 + i];
		w->addr = eq + 1;
		w->fault = calloc((size_t)pages * (rounds + 1), sizeof(double));
		w->rate = calloc(rounds + 1, sizeof(double));
		if (mo_mach_lookup(w->addr, NULL, &w->obj) < 0 ||
		    !(w->k = mo_kernel_new(&ko))) {
			fprintf(stderr, "tracer-bench: %s: cannot reach the pager\n", w->addr);
			return 1;
		}
	}
	/* With -w, round 0 warms caches and file pages and is not counted. */
	first = warm ? 0 : 1;
	for (unsigned r = first; r <= rounds; r++) {
		for (unsigned j = 0; j < nways; j++) {
			struct way *w = &ways[(r + j) % nways];
			unsigned slot = r ? r - 1 : rounds;

			if (way_round(w, pages, w->fault + (size_t)slot * pages,
				      &w->rate[slot]) < 0) {
				fprintf(stderr, "tracer-bench: %s: a round failed\n", w->name);
				return 1;
			}
		}
	}
	for (unsigned i = 0; raw && i < nways; i++) {
		struct way *w = &ways[i];

		for (unsigned r = 0; r < rounds; r++)
			fprintf(raw, "rate %s %.1f\n", w->name, w->rate[r]);
		for (size_t f = 0; f < (size_t)pages * rounds; f++)
			fprintf(raw, "fault %s %.2f\n", w->name, w->fault[f] * 1e6);
	}
	if (raw && fclose(raw) == EOF) {
		fprintf(stderr, "tracer-bench: %s: %s\n", raw_path, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < nways; i++) {
		struct way *w = &ways[i];

		w->fps = percentile(w->rate, rounds, 0.5);
		w->p50 = percentile(w->fault, (size_t)pages * rounds, 0.50) * 1e6;
		w->p99 = percentile(w->fault, (size_t)pages * rounds, 0.99) * 1e6;
	}
	base = &ways[0];
	printf("read faults: %u pages per round, %u rounds%s; "
	       "faults/s: median of rounds; fault time: over all faults\n",
	       pages, rounds, warm ? " (+1 warm-up)" : "");
	printf("%-12s %10s %7s %9s %9s %16s %16s\n", "way", "faults/s",
	       "x base", "p50 us", "p99 us", "added/msg p50", "added/msg p99");
	for (unsigned i = 0; i < nways; i++) {
		struct way *w = &ways[i];

		printf("%-12s %10.0f %7.2f %9.1f %9.1f %13.1f us %13.1f us\n",
		       w->name, w->fps, w->fps / base->fps, w->p50, w->p99,
		       (w->p50 - base->p50) / 2, (w->p99 - base->p99) / 2);
	}
	for (unsigned i = 0; i < nways; i++) {
		struct way *w = &ways[i];

		printf("result %s %.0f %.2f %.2f %.2f %.2f\n", w->name, w->fps,
		       w->p50, w->p99, (w->p50 - base->p50) / 2,
		       (w->p99 - base->p99) / 2);
	}
	for (unsigned i = 0; i < nways; i++) {
		mo_kernel_free(ways[i].k);
		free(ways[i].fault);
		free(ways[i].rate);
	}
	free(ways);
	return 0;
}
