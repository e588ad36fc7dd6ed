/*
 * util/intmap.h: hash maps from 64-bit integer keys (any value, 0
 * included) to non-NULL pointers.
 *
 * Open addressing with linear probing; a delete moves the entries after
 * it back (no tombstones), so lookups stay short however many deletes
 * came before. The table doubles past half full and halves under an
 * eighth (never below 16 slots). Each map hashes with a random seed of
 * its own, so keys chosen by a peer cannot be made to collide; the
 * order of iteration is therefore unspecified and differs between runs:
 * sort the keys where output depends on it.
 *
 *	struct intmap m = INTMAP_INIT;		(or intmap_init(&m))
 *	intmap_put(&m, key, ptr);
 *	p = intmap_get(&m, key);
 *	intmap_del(&m, key);
 *	for (size_t i = 0; intmap_next(&m, &i, &key, &p); )
 *		...;				(no changes to M in this loop)
 *	intmap_release(&m);
 *
 * Allocation failure aborts, as with strbuf.
 */
#ifndef MO_INTMAP_H
#define MO_INTMAP_H

#include <stddef.h>
#include <stdint.h>

struct intmap_slot {
	uint64_t key;
	void *val;		/* NULL: the slot is free */
};

struct intmap {
	struct intmap_slot *slots;
	size_t cap;		/* 0 or a power of two */
	size_t count;
	uint64_t seed;
};

#define INTMAP_INIT { NULL, 0, 0, 0 }

void intmap_init(struct intmap *m);
/* Frees the table (not the values); M is empty and usable again. */
void intmap_release(struct intmap *m);

/*
 * Where KEY lives in M's table (M not empty): the splitmix64 finaliser
 * (Steele, Lea, Flood, OOPSLA 2014) of KEY ^ seed. Inline, with the
 * lookup, because lookups are the per-message path (the proxy's ports,
 * the model's pages, a link's ids).
 */
static inline size_t intmap_slot_of(const struct intmap *m, uint64_t key)
{
	uint64_t z = key ^ m->seed;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (size_t)z & (m->cap - 1);
}

/* KEY's value, or NULL. */
static inline void *intmap_get(const struct intmap *m, uint64_t key)
{
	size_t i;

	if (!m->count)
		return NULL;
	for (i = intmap_slot_of(m, key); m->slots[i].val; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].key == key)
			return m->slots[i].val;
	return NULL;
}
/* Sets KEY's value to VAL (not NULL); returns the value it replaced, or NULL. */
void *intmap_put(struct intmap *m, uint64_t key, void *val);
/* Removes KEY; returns its value, or NULL if it had none. */
void *intmap_del(struct intmap *m, uint64_t key);
static inline size_t intmap_count(const struct intmap *m) { return m->count; }
/*
 * Iteration: starting with *POS = 0, each call gives the next entry and
 * returns 1, or returns 0 at the end. The map must not change meanwhile.
 */
int intmap_next(const struct intmap *m, size_t *pos, uint64_t *key, void **val);
/*
 * Calls FN(key, value, ARG) for every entry; FN may put and delete
 * (entries it deletes that were not visited yet are skipped, entries it
 * adds are not visited).
 */
void intmap_each(struct intmap *m, void (*fn)(uint64_t, void *, void *), void *arg);

#endif
