/*
 * mach/idmap.c: 64-bit id -> pointer maps, for port ids on links
 * (open addressing with linear probing; ids are never 0).
 */
#include <stdlib.h>

#include "mach/ipc.h"

struct idmap {
	size_t cap, used;	/* cap: a power of two */
	uint64_t *keys;		/* 0: empty */
	void **vals;
};

struct idmap *mo_idmap_new(void)
{
	struct idmap *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->cap = 16;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->vals = calloc(m->cap, sizeof(*m->vals));
	if (!m->keys || !m->vals)
		abort();
	return m;
}

void mo_idmap_free(struct idmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	free(m);
}

static size_t slot(const struct idmap *m, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (m->cap - 1);
}

void *mo_idmap_get(struct idmap *m, uint64_t id)
{
	for (size_t i = slot(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == id)
			return m->vals[i];
		if (!m->keys[i])
			return NULL;
	}
}

static void put(struct idmap *m, uint64_t id, void *v)
{
	size_t i = slot(m, id);

	while (m->keys[i] && m->keys[i] != id)
		i = (i + 1) & (m->cap - 1);
	if (!m->keys[i])
		m->used++;
	m->keys[i] = id;
	m->vals[i] = v;
}

void mo_idmap_put(struct idmap *m, uint64_t id, void *v)
{
	if (2 * (m->used + 1) > m->cap) {
		struct idmap old = *m;

		m->cap *= 2;
		m->used = 0;
		m->keys = calloc(m->cap, sizeof(*m->keys));
		m->vals = calloc(m->cap, sizeof(*m->vals));
		if (!m->keys || !m->vals)
			abort();
		for (size_t i = 0; i < old.cap; i++)
			if (old.keys[i])
				put(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
	}
	put(m, id, v);
}

void mo_idmap_del(struct idmap *m, uint64_t id)
{
	size_t i = slot(m, id), j;

	while (m->keys[i] != id) {
		if (!m->keys[i])
			return;
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = 0;
	m->used--;
	/* Re-place the rest of the run so lookups do not stop early. */
	for (j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		uint64_t k = m->keys[j];
		void *v = m->vals[j];

		m->keys[j] = 0;
		m->used--;
		put(m, k, v);
	}
}

void mo_idmap_each(struct idmap *m, void (*fn)(uint64_t, void *, void *),
		void *arg)
{
	/* A snapshot, since FN may change the map. */
	size_t n = 0, cap = m->cap;
	uint64_t *ids = malloc(cap * sizeof(*ids));

	if (!ids)
		abort();
	for (size_t i = 0; i < cap; i++)
		if (m->keys[i])
			ids[n++] = m->keys[i];
	for (size_t i = 0; i < n; i++) {
		void *v = mo_idmap_get(m, ids[i]);

		if (v)
			fn(ids[i], v, arg);
	}
	free(ids);
}
