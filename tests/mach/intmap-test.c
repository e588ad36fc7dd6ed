/*
 * tests/mach/intmap-test.c: util/intmap against a plain array that
 * holds the same entries, over random puts and deletes (key 0 and the
 * largest key included), with growing and shrinking checked and every
 * entry met once by each way of iterating.
 *
 *   intmap-test [SEED]     prints "ok" or what went wrong; exit 0 or 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/intmap.h"

#define NKEYS 3000

static uint64_t keys[NKEYS];
static void *vals[NKEYS];	/* what the map must hold for keys[i], or NULL */
static int failed;

#define CHECK(cond, ...) do { if (!(cond)) { printf(__VA_ARGS__); putchar('\n'); failed = 1; return; } } while (0)

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void compare(struct intmap *m)
{
	size_t n = 0, pos = 0, seen = 0;
	uint64_t k;
	void *v;

	for (int i = 0; i < NKEYS; i++) {
		CHECK(intmap_get(m, keys[i]) == vals[i],
		      "key %llu: map has %p, should have %p",
		      (unsigned long long)keys[i], intmap_get(m, keys[i]), vals[i]);
		n += vals[i] != NULL;
	}
	CHECK(intmap_count(m) == n, "count %zu, should be %zu", intmap_count(m), n);
	while (intmap_next(m, &pos, &k, &v)) {
		int i;

		for (i = 0; i < NKEYS && keys[i] != k; i++)
			;
		CHECK(i < NKEYS && vals[i] == v, "iteration gave key %llu, not in the map",
		      (unsigned long long)k);
		seen++;
	}
	CHECK(seen == n, "iteration gave %zu entries of %zu", seen, n);
	CHECK(m->cap == 0 || 2 * m->count <= m->cap,
	      "more than half full: %zu of %zu", m->count, m->cap);
	CHECK(m->cap <= 16 || 8 * m->count >= m->cap / 2,
	      "not shrunk: %zu entries in %zu slots", m->count, m->cap);
}

static void del_odd(uint64_t key, void *val, void *arg)
{
	struct intmap *m = arg;

	if ((uintptr_t)val & 2) {
		intmap_del(m, key);
		for (int i = 0; i < NKEYS; i++)
			if (keys[i] == key)
				vals[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	struct intmap m = INTMAP_INIT;
	size_t most = 0;

	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	for (int i = 0; i < NKEYS; i++) {
		/* Small ids like a link's, their neighbours, and the extremes. */
		keys[i] = i < 1000 ? (uint64_t)i : i < 2000 ? rnd() : (uint64_t)(i - 1999) << 40;
	}
	keys[NKEYS - 1] = UINT64_MAX;
	if (intmap_get(&m, 0) || intmap_del(&m, 0)) {
		printf("an empty map has key 0\n");
		return 1;
	}
	for (int round = 0; round < 40 && !failed; round++) {
		/* Fill up to a random share of the keys, then empty to another. */
		int fill = (int)(rnd() % 100);

		for (int j = 0; j < 4 * NKEYS; j++) {
			int i = (int)(rnd() % NKEYS);
			void *v = (void *)(uintptr_t)((rnd() << 2) | 4 | (rnd() & 2));

			if ((int)(rnd() % 100) < fill) {
				if (intmap_put(&m, keys[i], v) != vals[i]) {
					printf("put of key %llu returned the wrong old value\n",
					       (unsigned long long)keys[i]);
					return 1;
				}
				vals[i] = v;
			} else {
				if (intmap_del(&m, keys[i]) != vals[i]) {
					printf("del of key %llu returned the wrong value\n",
					       (unsigned long long)keys[i]);
					return 1;
				}
				vals[i] = NULL;
			}
		}
		compare(&m);
		if (m.count > most)
			most = m.count;
		intmap_each(&m, del_odd, &m);
		compare(&m);
	}
	/* Empty it: the table shrinks back to the least. */
	for (int i = 0; i < NKEYS; i++) {
		intmap_del(&m, keys[i]);
		vals[i] = NULL;
	}
	compare(&m);
	if (!failed && m.cap > 16) {
		printf("an empty map kept %zu slots\n", m.cap);
		failed = 1;
	}
	intmap_release(&m);
	if (!failed && (intmap_get(&m, 5) || intmap_count(&m))) {
		printf("a released map still has entries\n");
		failed = 1;
	}
	if (!failed)
		printf("ok: 40 rounds, up to %zu entries\n", most);
	return failed;
}
