/*
 * tracer/attrib.h: which object a message of an exchange is about, and
 * the queue it waits in, from the ports it names alone.
 *
 * The live proxy knows both from the port a message reached (each object
 * and control port has a proxy of its own). A written or recorded
 * exchange has only the ports: a manager's message names its kernel's
 * control port, a kernel's names the object port it goes to and the
 * control port init gave it, and the model knows which object has which
 * control port in which kernel.
 */
#ifndef MO_ATTRIB_H
#define MO_ATTRIB_H

#include "tracer/engine.h"
#include "tracer/model.h"

#define MO_ATTRIB_MAX_OBJECTS 256

struct mo_attrib {
	/* memory object ports seen, by kernel: their index is the object */
	struct { unsigned kernel; uint32_t port; } objs[MO_ATTRIB_MAX_OBJECTS];
	unsigned nobjs;
};

void mo_attrib_init(struct mo_attrib *a);

/*
 * The object M (decoded) is about in MODEL's view: by the control port
 * it names, else by its object port (one object per port, numbered as
 * first seen); MO_OBJECT_UNKNOWN past MO_ATTRIB_MAX_OBJECTS.
 */
unsigned mo_attrib_object(struct mo_attrib *a, const struct mo_model *model,
			  unsigned kernel, enum mo_dir dir,
			  const struct mo_decoded *d);

/*
 * Sets M's object (a well-formed message's; others stay unknown) and its
 * queue: one per destination port of each kernel and direction.
 */
void mo_attrib_message(struct mo_attrib *a, const struct mo_model *model,
		       struct mo_pmsg *m);

#endif
