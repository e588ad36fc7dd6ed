/*
 * tracer/attrib.c: a message's object and queue from its ports
 * (tracer/attrib.h).
 */
#include <string.h>

#include "tracer/attrib.h"

void mo_attrib_init(struct mo_attrib *a)
{
	memset(a, 0, sizeof(*a));
}

unsigned mo_attrib_object(struct mo_attrib *a, const struct mo_model *model,
			  unsigned kernel, enum mo_dir dir,
			  const struct mo_decoded *d)
{
	const struct mo_call *c = &d->call;

	if (dir == MO_M2K)
		return mo_model_object_of_control(model, kernel, d->dest);
	/* An init's control port is new: the model does not know it yet. */
	if (d->schema && d->schema->id != MO_ID_MEMORY_OBJECT_INIT &&
	    (c->has & MO_CALL_CONTROL) && c->control) {
		unsigned o = mo_model_object_of_control(model, kernel,
							c->control);

		if (o != MO_OBJECT_UNKNOWN)
			return o;
	}
	/* init, or a message to the object port: one object per port */
	for (unsigned i = 0; i < a->nobjs; i++)
		if (a->objs[i].port == d->dest)
			return i;
	if (a->nobjs == MO_ATTRIB_MAX_OBJECTS)
		return MO_OBJECT_UNKNOWN;
	a->objs[a->nobjs].kernel = kernel;
	a->objs[a->nobjs].port = d->dest;
	return a->nobjs++;
}

void mo_attrib_message(struct mo_attrib *a, const struct mo_model *model,
		       struct mo_pmsg *m)
{
	if (m->d.schema && m->d.status == MO_OK)
		m->object = mo_attrib_object(a, model, m->kernel, m->dir, &m->d);
	m->queue = (uint64_t)m->kernel << 40 | (uint64_t)m->dir << 32 |
		   m->d.dest;
}
