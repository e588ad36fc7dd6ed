/*
 * mach/idmap.c: port id -> pointer maps, for the ids on links
 * (doc/wire.md, "Port ids"); util/intmap.h does the work. Id 0 names
 * no port on the wire and is refused before it gets here (recv.c).
 */
#include <stdlib.h>

#include "mach/ipc.h"
#include "util/intmap.h"

struct idmap {
	struct intmap m;
};

struct idmap *mo_idmap_new(void)
{
	struct idmap *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	intmap_init(&m->m);
	return m;
}

void mo_idmap_free(struct idmap *m)
{
	if (!m)
		return;
	intmap_release(&m->m);
	free(m);
}

void *mo_idmap_get(struct idmap *m, uint64_t id)
{
	return intmap_get(&m->m, id);
}

void mo_idmap_put(struct idmap *m, uint64_t id, void *v)
{
	intmap_put(&m->m, id, v);
}

void mo_idmap_del(struct idmap *m, uint64_t id)
{
	intmap_del(&m->m, id);
}

void mo_idmap_each(struct idmap *m, void (*fn)(uint64_t, void *, void *),
		void *arg)
{
	intmap_each(&m->m, fn, arg);
}
