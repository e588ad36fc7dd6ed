/*
 * util/intmap.c: integer-keyed hash maps (util/intmap.h).
 *
 * The delete is the backward shift of linear probing (Knuth, TAOCP vol. 3,
 * 6.4, Algorithm R): after the freed slot, each entry of the same run
 * that could live there moves back, so no run is ever cut short.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "util/intmap.h"
#include "util/xalloc.h"

#define MIN_CAP 16

static size_t slot_of(const struct intmap *m, uint64_t key)
{
	return intmap_slot_of(m, key);
}

static uint64_t new_seed(void)
{
	uint64_t s;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == sizeof(s))
		return s;
	/* Early in boot: not secret, still different each run. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
	       (uint64_t)(uintptr_t)&s;
}

void intmap_init(struct intmap *m)
{
	memset(m, 0, sizeof(*m));
}

void intmap_release(struct intmap *m)
{
	free(m->slots);
	intmap_init(m);
}

/* The slot holding KEY, or the free slot where it would go. */
static size_t find(const struct intmap *m, uint64_t key)
{
	size_t i = slot_of(m, key);

	while (m->slots[i].val && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void resize(struct intmap *m, size_t cap)
{
	struct intmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	if (!m->seed)
		m->seed = new_seed();
	m->slots = mo_xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].val)
			m->slots[find(m, old[i].key)] = old[i];
	free(old);
}

void *intmap_put(struct intmap *m, uint64_t key, void *val)
{
	size_t i;
	void *old;

	if (!val)
		abort();	/* NULL means "no entry": a caller's bug */
	if (2 * (m->count + 1) > m->cap)
		resize(m, m->cap ? 2 * m->cap : MIN_CAP);
	i = find(m, key);
	old = m->slots[i].val;
	if (!old)
		m->count++;
	m->slots[i].key = key;
	m->slots[i].val = val;
	return old;
}

void *intmap_del(struct intmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;
	void *val;

	if (!m->count)
		return NULL;
	i = find(m, key);
	if (!(val = m->slots[i].val))
		return NULL;
	/* Algorithm R: I is the hole; J walks the rest of the run. */
	for (j = (i + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->slots[j].key);

		/* J stays if its home lies cyclically in (I, J]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i].val = NULL;
	m->slots[i].key = 0;
	m->count--;
	if (m->cap > MIN_CAP && 8 * m->count < m->cap)
		resize(m, m->cap / 2);
	return val;
}

int intmap_next(const struct intmap *m, size_t *pos, uint64_t *key, void **val)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->slots[*pos].val) {
			*key = m->slots[*pos].key;
			*val = m->slots[*pos].val;
			(*pos)++;
			return 1;
		}
	return 0;
}

void intmap_each(struct intmap *m, void (*fn)(uint64_t, void *, void *), void *arg)
{
	/* A snapshot of the keys, since FN may change the map. */
	size_t n = 0, pos = 0;
	uint64_t *keys, key;
	void *val;

	if (!m->count)
		return;
	keys = mo_xcalloc(m->count, sizeof(*keys));
	while (intmap_next(m, &pos, &key, &val))
		keys[n++] = key;
	for (size_t i = 0; i < n; i++)
		if ((val = intmap_get(m, keys[i])))
			fn(keys[i], val, arg);
	free(keys);
}
