/*
 * tracer/replay.c: a recording played against a live pager or kernel.
 *
 * Which recorded messages motrace sends, and which it waits for: the
 * played side's messages that reached the other side (forwarded,
 * released, injected), and the live side's messages as it sent them
 * (forwarded, held, delayed, dropped, consumed: a message held or delayed
 * is recorded again when it goes, and that second record is not waited
 * for twice). The played messages are sent with MIG's user stubs, from
 * their recorded arguments, to the live ports that stand for the recorded
 * ones: the objects looked up (or published) at the addresses given, one
 * control and one name port per recorded kernel, and the reply ports that
 * came with live messages in place of recorded ones.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mach.h>
#include <mach/motrace.h>

#include "decode/render.h"
#include "decode/xlat.h"
#include "memory_object.h"
#include "tracer/replay.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

enum { ROLE_NONE, ROLE_PLAY, ROLE_EXPECT };

#define RCV_BUFFER (64u << 20)
#define MAX_OBJECTS 16
#define CONTEXT 3		/* recorded messages shown before a divergence */

struct rmsg {
	unsigned number;	/* its record in the file */
	unsigned kernel, object, kind;
	enum mo_dir dir;
	uint64_t t;
	uint8_t *bytes;
	size_t len;
	struct mo_decoded d;
	unsigned nool;
	struct mo_region ool[MO_MAX_ITEMS];
	int role, done;
};

struct lkernel {
	int known;
	mach_port_t ctl;	/* the live port standing for its control port */
	mach_port_t name;
	unsigned cursor;	/* first of its expected messages not yet come */
};

struct namemap {
	unsigned kernel;
	uint32_t rec, live;
};

struct rp {
	const struct mo_replay_opts *o;
	struct rmsg *m;
	size_t n, an;
	struct lkernel *k;
	unsigned nk;
	mach_port_t pset;
	mach_port_t objs[MAX_OBJECTS];
	unsigned nobjs;
	struct namemap *names;
	size_t nnames, anames;
	uint8_t *rbuf;
	struct mo_render_opts ropts;
	unsigned sent, received;
	uint64_t start, t0;
	char *err;
	size_t errlen;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A Mach return code by name (decode/xlat/kern_return.in). */
static const char *kr_name(kern_return_t kr)
{
	static char buf[24];
	const char *n = mo_xlat_find(mo_xlat_kern_return, (uint32_t)kr);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "0x%x", (unsigned)kr);
	return buf;
}

static void *grow(void *p, size_t *alloc, size_t need, size_t size)
{
	if (need <= *alloc)
		return p;
	*alloc = need < 16 ? 16 : need * 2;
	p = mo_xrealloc(p, *alloc * size);
	return p;
}

static int fail(struct rp *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct rp *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Is a message of this kind and direction one the played side sent? */
static int role_of(const struct mo_replay_opts *o, enum mo_dir dir,
		   unsigned kind)
{
	enum mo_dir played = o->side == MO_REPLAY_KERNELS ? MO_K2M : MO_M2K;

	if (dir == played)
		return kind == MO_EV_FORWARDED || kind == MO_EV_RELEASED ||
		       kind == MO_EV_INJECTED ? ROLE_PLAY : ROLE_NONE;
	return kind == MO_EV_FORWARDED || kind == MO_EV_HELD ||
	       kind == MO_EV_DELAYED || kind == MO_EV_DROPPED ||
	       kind == MO_EV_CONSUMED ? ROLE_EXPECT : ROLE_NONE;
}

static int load(struct rp *r, struct mo_playback *pb)
{
	struct mo_record rec;
	int got;

	while ((got = mo_playback_next(pb, &rec, r->err, r->errlen)) == 1) {
		struct rmsg *m;

		if (rec.type != MO_REC_MESSAGE)
			continue;
		if (rec.abi != MO_ABI_X86_64)
			return fail(r, "record %u: replay plays x86_64 messages, this one is %s",
				    rec.number, mo_abi_info(rec.abi)->name);
		r->m = grow(r->m, &r->an, r->n + 1, sizeof(*r->m));
		m = &r->m[r->n++];
		memset(m, 0, sizeof(*m));
		m->number = rec.number;
		m->kernel = rec.kernel;
		m->object = rec.object;
		m->kind = rec.kind;
		m->dir = rec.dir;
		m->t = rec.t;
		m->len = rec.len;
		m->bytes = malloc(rec.len ? rec.len : 1);
		if (!m->bytes)
			return fail(r, "out of memory");
		memcpy(m->bytes, rec.msg, rec.len);
		m->nool = rec.nool;
		for (unsigned i = 0; i < rec.nool; i++) {
			m->ool[i].size = rec.ool[i].size;
			if (rec.ool[i].data) {
				uint8_t *copy = malloc(rec.ool[i].size ? rec.ool[i].size : 1);

				if (!copy)
					return fail(r, "out of memory");
				memcpy(copy, rec.ool[i].data, rec.ool[i].size);
				m->ool[i].data = copy;
			}
		}
		if (mo_decode(m->bytes, m->len, MO_ABI_X86_64, &m->d) < 0 ||
		    !m->d.schema)
			return fail(r, "record %u: a message that does not decode cannot be replayed: %s",
				    m->number, m->d.schema ? m->d.err : "unknown message id");
		m->role = role_of(r->o, m->dir, m->kind);
		if (m->kernel == (unsigned)-1 && m->role != ROLE_NONE)
			return fail(r, "record %u: the message is of no known kernel",
				    m->number);
		if (m->kernel != (unsigned)-1 && m->kernel >= r->nk) {
			size_t old = r->nk, a = r->nk;

			if (m->kernel > 1u << 20)
				return fail(r, "record %u: kernel %u", m->number,
					    m->kernel);
			r->k = grow(r->k, &a, m->kernel + 1, sizeof(*r->k));
			memset(r->k + old, 0, (a - old) * sizeof(*r->k));
			r->nk = (unsigned)a;
		}
	}
	return got < 0 ? -1 : 0;
}

static void show(struct rp *r, const char *mark, unsigned kernel,
		 enum mo_dir dir, const uint8_t *buf,
		 const struct mo_decoded *d)
{
	struct strbuf sb = STRBUF_INIT;

	mo_render_text(&sb, buf, d, &r->ropts);
	fprintf(r->o->out, "%sk%u%c %s\n", mark, kernel,
		dir == MO_K2M ? '>' : '<', sb.buf);
	strbuf_release(&sb);
}

/*
 * Reports the divergence at recorded message I (or, I == n, after the
 * last): the messages before it as recorded, then "-" recorded and "+"
 * live (LIVE NULL: nothing came).
 */
static int diverge(struct rp *r, size_t i, const uint8_t *live,
		   const struct mo_decoded *ld, unsigned kernel,
		   enum mo_dir dir, const char *why)
{
	size_t from = i > CONTEXT ? i - CONTEXT : 0;

	fflush(r->o->out);
	if (i < r->n)
		fprintf(r->o->out, "divergence at record %u (kernel %u): %s\n",
			r->m[i].number, r->m[i].kernel, why);
	else
		fprintf(r->o->out, "divergence after the last record: %s\n", why);
	for (size_t j = from; j < i && j < r->n; j++)
		if (r->m[j].role != ROLE_NONE)
			show(r, "  ", r->m[j].kernel, r->m[j].dir, r->m[j].bytes,
			     &r->m[j].d);
	if (i < r->n)
		show(r, "- ", r->m[i].kernel, r->m[i].dir, r->m[i].bytes,
		     &r->m[i].d);
	else
		fprintf(r->o->out, "- (nothing recorded)\n");
	if (live)
		show(r, "+ ", kernel, dir, live, ld);
	else
		fprintf(r->o->out, "+ (nothing came within %.1f s)\n",
			r->o->timeout_ns / 1e9);
	fprintf(r->o->out, "1 divergence\n");
	return 1;
}

/* M's boolean of the call's flags (MO_FLAG_*). */
static boolean_t flag(const struct rmsg *m, uint32_t f)
{
	return (m->d.call.flags & f) != 0;
}

static void map_name(struct rp *r, unsigned kernel, uint32_t rec, uint32_t live)
{
	if (!rec || !live)
		return;
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].kernel == kernel && r->names[i].rec == rec) {
			r->names[i].live = live;
			return;
		}
	r->names = grow(r->names, &r->anames, r->nnames + 1, sizeof(*r->names));
	r->names[r->nnames].kernel = kernel;
	r->names[r->nnames].rec = rec;
	r->names[r->nnames++].live = live;
}

static uint32_t live_name(struct rp *r, unsigned kernel, uint32_t rec)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].kernel == kernel && r->names[i].rec == rec)
			return r->names[i].live;
	return 0;
}

/* Which recorded kernel a live name (a control or reply port) is of. */
static int kernel_of_live(struct rp *r, uint32_t live)
{
	for (unsigned k = 0; k < r->nk; k++)
		if (r->k[k].known && (r->k[k].ctl == live || r->k[k].name == live))
			return (int)k;
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].live == live)
			return (int)r->names[i].kernel;
	return -1;
}

static mach_port_t new_receive(struct rp *r)
{
	mach_port_t p = MACH_PORT_NULL;

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p) ||
	    mach_port_move_member(mach_task_self(), p, r->pset))
		return MACH_PORT_NULL;
	return p;
}

static const uint8_t *ool_data(const struct rmsg *m, uint64_t *size)
{
	for (unsigned i = 0; i < m->nool; i++)
		if (m->ool[i].data) {
			*size = m->ool[i].size;
			return m->ool[i].data;
		}
	*size = 0;
	return NULL;
}

/* The played kernels' messages (memory_object.defs, to the pager). */
static kern_return_t play_kernel(struct rp *r, struct rmsg *m)
{
	struct lkernel *k = &r->k[m->kernel];
	mach_port_t obj, dest;
	mach_msg_type_name_t poly = MACH_MSG_TYPE_COPY_SEND;
	const uint8_t *data;
	uint64_t size;
	uint32_t rdest;

	if (m->object >= r->nobjs)
		return fail(r, "record %u is about object %u: give a --to for each object (%u given)",
			    m->number, m->object, r->nobjs), KERN_INVALID_ARGUMENT;
	obj = r->objs[m->object];
	if (m->d.schema->id != MO_ID_MEMORY_OBJECT_INIT && !k->known)
		return fail(r, "record %u: kernel %u sends before its memory_object_init",
			    m->number, m->kernel), KERN_INVALID_ARGUMENT;
	/* An answer goes to the reply port that came in the request's place. */
	rdest = m->d.dest;
	dest = live_name(r, m->kernel, rdest);
	if (dest)
		poly = MACH_MSG_TYPE_MOVE_SEND_ONCE;
	else
		dest = obj;
	switch (m->d.schema->id) {
	case MO_ID_MEMORY_OBJECT_INIT:
		k->ctl = new_receive(r);
		k->name = new_receive(r);
		if (!k->ctl || !k->name)
			return KERN_RESOURCE_SHORTAGE;
		k->known = 1;
		return memory_object_init(obj, k->ctl, k->name,
					  m->d.call.page_size);
	case MO_ID_MEMORY_OBJECT_TERMINATE:
		k->known = 0;
		return memory_object_terminate(obj, k->ctl, k->name);
	case MO_ID_MEMORY_OBJECT_DATA_REQUEST:
		return memory_object_data_request(obj, k->ctl, m->d.call.offset,
						  m->d.call.length,
						  m->d.call.access);
	case MO_ID_MEMORY_OBJECT_DATA_UNLOCK:
		return memory_object_data_unlock(obj, k->ctl, m->d.call.offset,
						 m->d.call.length,
						 m->d.call.access);
	case MO_ID_MEMORY_OBJECT_LOCK_COMPLETED:
		return memory_object_lock_completed(dest, poly, k->ctl,
						    m->d.call.offset,
						    m->d.call.length);
	case MO_ID_MEMORY_OBJECT_SUPPLY_COMPLETED:
		return memory_object_supply_completed(dest, poly, k->ctl,
						      m->d.call.offset,
						      m->d.call.length,
						      m->d.call.error,
						      m->d.call.error_offset);
	case MO_ID_MEMORY_OBJECT_DATA_RETURN:
		data = ool_data(m, &size);
		if (!data)
			return fail(r, "record %u: the returned data was not recorded",
				    m->number), KERN_INVALID_ARGUMENT;
		return memory_object_data_return(obj, k->ctl, m->d.call.offset,
						 (vm_offset_t)(uintptr_t)data,
						 (mach_msg_type_number_t)size,
						 flag(m, MO_FLAG_DIRTY),
						 flag(m, MO_FLAG_KERNEL_COPY));
	case MO_ID_MEMORY_OBJECT_CHANGE_COMPLETED:
		return memory_object_change_completed(dest, poly,
						      flag(m, MO_FLAG_MAY_CACHE),
						      m->d.call.copy_strategy);
	}
	return fail(r, "record %u: replay cannot play %s yet", m->number,
		    m->d.schema->name), KERN_INVALID_ARGUMENT;
}

/* A reply port for a played manager's request, when the recorded one had one. */
static mach_port_t reply_for(struct rp *r, struct rmsg *m)
{
	uint32_t rec = m->d.call.has & MO_CALL_REPLY ? m->d.call.reply : 0;
	mach_port_t p;

	if (!rec)
		return MACH_PORT_NULL;
	p = new_receive(r);
	map_name(r, m->kernel, rec, p);
	return p;
}

/* The played manager's messages (mach.defs, to a kernel's control port). */
static kern_return_t play_manager(struct rp *r, struct rmsg *m)
{
	struct lkernel *k = &r->k[m->kernel];
	const uint8_t *data;
	uint64_t size;

	if (!k->known)
		return fail(r, "record %u: no live kernel stands for kernel %u yet",
			    m->number, m->kernel), KERN_INVALID_ARGUMENT;
	switch (m->d.schema->id) {
	case MO_ID_MEMORY_OBJECT_READY:
		return memory_object_ready(k->ctl, flag(m, MO_FLAG_MAY_CACHE),
					   m->d.call.copy_strategy);
	case MO_ID_MEMORY_OBJECT_DATA_SUPPLY:
		data = ool_data(m, &size);
		if (!data)
			return fail(r, "record %u: the supplied data was not recorded",
				    m->number), KERN_INVALID_ARGUMENT;
		return memory_object_data_supply(k->ctl, m->d.call.offset,
						 (vm_offset_t)(uintptr_t)data,
						 (mach_msg_type_number_t)size,
						 FALSE, m->d.call.lock,
						 flag(m, MO_FLAG_PRECIOUS),
						 reply_for(r, m));
	case MO_ID_MEMORY_OBJECT_LOCK_REQUEST:
		return memory_object_lock_request(k->ctl, m->d.call.offset,
						  m->d.call.length,
						  m->d.call.should_return,
						  m->d.call.should_flush,
						  m->d.call.lock,
						  reply_for(r, m));
	case MO_ID_MEMORY_OBJECT_DATA_ERROR:
		return memory_object_data_error(k->ctl, m->d.call.offset,
						m->d.call.length,
						m->d.call.error);
	case MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE:
		return memory_object_data_unavailable(k->ctl, m->d.call.offset,
						      m->d.call.length);
	case MO_ID_MEMORY_OBJECT_CHANGE_ATTRIBUTES:
		return memory_object_change_attributes(k->ctl,
						       flag(m, MO_FLAG_MAY_CACHE),
						       m->d.call.copy_strategy,
						       reply_for(r, m));
	case MO_ID_MEMORY_OBJECT_DESTROY:
		return memory_object_destroy(k->ctl, m->d.call.error);
	}
	return fail(r, "record %u: replay cannot play %s yet", m->number,
		    m->d.schema->name), KERN_INVALID_ARGUMENT;
}

/*
 * Compares live message LIVE with recorded REC: 0 when they agree, else 1
 * with WHY. Port names are not compared, only whether a port is given;
 * the live message's ports are learnt as standing for the recorded ones.
 */
static int compare(struct rp *r, const struct rmsg *rec, const uint8_t *live,
		   const struct mo_decoded *ld, char *why, size_t whylen)
{
	const struct mo_decoded *d = &rec->d;
	unsigned ool = 0;

	if (!ld->schema || ld->schema->id != d->schema->id) {
		snprintf(why, whylen, "another message");
		return 1;
	}
	if (ld->nitems != d->nitems) {
		snprintf(why, whylen, "%u arguments, recorded %u", ld->nitems,
			 d->nitems);
		return 1;
	}
	for (unsigned i = 0; i < d->nitems; i++) {
		const struct mo_item *a = &d->items[i], *b = &ld->items[i];
		const char *name = i < d->schema->nargs ? d->schema->args[i].name
							 : "?";

		if (a->is_inline != b->is_inline || a->size != b->size ||
		    (a->is_inline && a->number != b->number) ||
		    mo_type_is_port(a->name) != mo_type_is_port(b->name)) {
			snprintf(why, whylen, "argument %s has another type", name);
			return 1;
		}
		if (!a->is_inline) {
			uint64_t na = mo_item_bytes(a), nb = mo_item_bytes(b);
			const uint8_t *pb = (const uint8_t *)(uintptr_t)
				mo_item_ool_addr(live, b, MO_ABI_X86_64);
			const struct mo_region *rg = ool < rec->nool ? &rec->ool[ool] : NULL;

			ool++;
			if (na != nb) {
				snprintf(why, whylen, "%s has %llu bytes, recorded %llu",
					 name, (unsigned long long)nb,
					 (unsigned long long)na);
				return 1;
			}
			if (rg && rg->data && pb) {
				for (uint64_t j = 0; j < na; j++)
					if (rg->data[j] != pb[j]) {
						snprintf(why, whylen,
							 "%s differs from byte %llu (recorded 0x%02x, live 0x%02x)",
							 name, (unsigned long long)j,
							 rg->data[j], pb[j]);
						return 1;
					}
			}
			continue;
		}
		if (mo_type_is_port(a->name)) {
			for (uint32_t j = 0; j < a->number; j++) {
				uint32_t pa = (uint32_t)mo_item_elem(rec->bytes, a, j);
				uint32_t pl = (uint32_t)mo_item_elem(live, b, j);

				if (!pa != !pl) {
					snprintf(why, whylen, "%s is %s, recorded %s", name,
						 pl ? "a port" : "null",
						 pa ? "a port" : "null");
					return 1;
				}
			}
			continue;
		}
		if (memcmp(rec->bytes + a->data_off, live + b->data_off,
			   a->data_len)) {
			snprintf(why, whylen, "%s differs", name);
			return 1;
		}
	}
	return 0;
}

/* Learns the live ports of a matched message as the recorded ones. */
static void learn(struct rp *r, const struct rmsg *rec, const uint8_t *live,
		  const struct mo_decoded *ld)
{
	for (unsigned i = 0; i < rec->d.nitems && i < ld->nitems; i++) {
		const struct mo_item *a = &rec->d.items[i], *b = &ld->items[i];

		if (!a->is_inline || !mo_type_is_port(a->name))
			continue;
		for (uint32_t j = 0; j < a->number; j++)
			map_name(r, rec->kernel,
				 (uint32_t)mo_item_elem(rec->bytes, a, j),
				 (uint32_t)mo_item_elem(live, b, j));
	}
}

/* Releases what a live message brought that replay does not keep. */
static void release_live(const uint8_t *live, const struct mo_decoded *ld)
{
	for (unsigned i = 0; i < ld->nitems; i++) {
		const struct mo_item *it = &ld->items[i];
		uint64_t addr;

		if (it->is_inline)
			continue;
		addr = mo_item_ool_addr(live, it, MO_ABI_X86_64);
		if (addr)
			vm_deallocate(mach_task_self(), (vm_address_t)addr,
				      (vm_size_t)mo_item_bytes(it));
	}
}

/* The first expected message of kernel K not yet come, or r->n. */
static size_t next_expected(struct rp *r, unsigned k)
{
	size_t i;

	for (i = r->k[k].cursor; i < r->n; i++)
		if (r->m[i].role == ROLE_EXPECT && !r->m[i].done &&
		    r->m[i].kernel == k)
			break;
	r->k[k].cursor = (unsigned)i;
	return i;
}

/*
 * For the played manager: a live init is the next recorded kernel's
 * (of that object) whose init has not come.
 */
static int kernel_of_init(struct rp *r, unsigned object)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->m[i].role == ROLE_EXPECT && !r->m[i].done &&
		    r->m[i].d.schema->id == MO_ID_MEMORY_OBJECT_INIT && r->m[i].object == object &&
		    !r->k[r->m[i].kernel].known)
			return (int)r->m[i].kernel;
	return -1;
}

/*
 * Receives one live message for up to TIMEOUT_NS and matches it. Returns
 * 0 (a message matched, or the time ran out: *GOT says which), 1 at a
 * divergence, -1 on an error.
 */
static int receive_one(struct rp *r, uint64_t timeout_ns, int *got)
{
	mach_msg_header_t *h = (mach_msg_header_t *)r->rbuf;
	struct mo_decoded ld;
	mach_msg_return_t mr;
	char why[200];
	int kernel = -1;
	size_t i;
	unsigned ms = (unsigned)(timeout_ns / 1000000);

	*got = 0;
	mr = mach_msg(h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, RCV_BUFFER, r->pset,
		      ms ? ms : 1, MACH_PORT_NULL);
	if (mr == MACH_RCV_TIMED_OUT)
		return 0;
	if (mr != MACH_MSG_SUCCESS)
		return fail(r, "receiving failed: %s", kr_name(mr));
	*got = 1;
	r->received++;
	mo_decode(r->rbuf, h->msgh_size, MO_ABI_X86_64, &ld);
	if (r->o->side == MO_REPLAY_KERNELS) {
		kernel = kernel_of_live(r, h->msgh_local_port);
	} else if (ld.schema && ld.schema->id == MO_ID_MEMORY_OBJECT_INIT) {
		for (unsigned o = 0; o < r->nobjs; o++)
			if (r->objs[o] == h->msgh_local_port)
				kernel = kernel_of_init(r, o);
		if (kernel >= 0) {
			r->k[kernel].known = 1;
			r->k[kernel].ctl = ld.call.control;
			r->k[kernel].name = ld.call.name;
		}
	} else {
		uint32_t ctl = ld.call.control;	/* 0 when it names none */

		kernel = kernel_of_live(r, ctl ? ctl : h->msgh_local_port);
	}
	if (kernel < 0) {
		if (r->o->verbose)
			show(r, "? ", 0, r->o->side == MO_REPLAY_KERNELS ? MO_M2K : MO_K2M,
			     r->rbuf, &ld);
		return diverge(r, r->n, r->rbuf, &ld, 0,
			       r->o->side == MO_REPLAY_KERNELS ? MO_M2K : MO_K2M,
			       "a message of no kernel that the recording has");
	}
	if (r->o->verbose)
		show(r, "", (unsigned)kernel,
		     r->o->side == MO_REPLAY_KERNELS ? MO_M2K : MO_K2M, r->rbuf, &ld);
	i = next_expected(r, (unsigned)kernel);
	if (i == r->n)
		return diverge(r, r->n, r->rbuf, &ld, (unsigned)kernel,
			       r->o->side == MO_REPLAY_KERNELS ? MO_M2K : MO_K2M,
			       "a message more than recorded");
	if (compare(r, &r->m[i], r->rbuf, &ld, why, sizeof(why)))
		return diverge(r, i, r->rbuf, &ld, (unsigned)kernel, r->m[i].dir,
			       why);
	learn(r, &r->m[i], r->rbuf, &ld);
	release_live(r->rbuf, &ld);
	r->m[i].done = 1;
	return 0;
}

/* Has every expected message before I come? */
static int caught_up(struct rp *r, size_t i, size_t *first)
{
	for (size_t j = 0; j < i; j++)
		if (r->m[j].role == ROLE_EXPECT && !r->m[j].done) {
			*first = j;
			return 0;
		}
	return 1;
}

/* Waits until every expected message before I has come: 0, 1, -1. */
static int wait_for(struct rp *r, size_t i)
{
	uint64_t last = now_ns();
	size_t first;

	while (!caught_up(r, i, &first)) {
		uint64_t t = now_ns();
		int got, rc;

		if (t - last >= r->o->timeout_ns)
			return diverge(r, first, NULL, NULL, 0, MO_K2M,
				       "the recorded message did not come");
		rc = receive_one(r, r->o->timeout_ns - (t - last), &got);
		if (rc)
			return rc;
		if (got)
			last = now_ns();
	}
	return 0;
}

static void pace(struct rp *r, const struct rmsg *m)
{
	uint64_t due, t;

	if (r->o->speed <= 0)
		return;
	due = r->start + (uint64_t)((double)(m->t - r->t0) / r->o->speed);
	t = now_ns();
	if (due > t) {
		struct timespec ts = { (time_t)((due - t) / 1000000000ULL),
				       (long)((due - t) % 1000000000ULL) };

		nanosleep(&ts, NULL);
	}
}

static int setup(struct rp *r)
{
	kern_return_t kr;

	kr = mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET,
				&r->pset);
	if (kr)
		return fail(r, "cannot make a port set: %s", kr_name(kr));
	if (r->o->naddrs > MAX_OBJECTS)
		return fail(r, "at most %d objects", MAX_OBJECTS);
	for (unsigned i = 0; i < r->o->naddrs; i++) {
		if (r->o->side == MO_REPLAY_KERNELS) {
			if (mo_mach_lookup(r->o->addrs[i], r->o->secret_file,
					   &r->objs[i]) < 0)
				return fail(r, "cannot reach the pager at '%s'",
					    r->o->addrs[i]);
		} else {
			r->objs[i] = new_receive(r);
			if (!r->objs[i] ||
			    mo_mach_publish(r->o->addrs[i], r->objs[i],
					    r->o->secret_file, NULL) < 0)
				return fail(r, "cannot serve '%s'", r->o->addrs[i]);
		}
		r->nobjs++;
	}
	return 0;
}

int mo_replay_run(struct mo_playback *pb, const struct mo_replay_opts *o,
		  char *err, size_t errlen)
{
	struct rp r = { .o = o, .err = err, .errlen = errlen,
			.ropts = { .hide_addresses = 1 } };
	int rc = -1, got;
	size_t plays = 0, expects = 0;

	r.rbuf = malloc(RCV_BUFFER);
	if (!r.rbuf) {
		fail(&r, "out of memory");
		goto out;
	}
	if (load(&r, pb) < 0 || setup(&r) < 0)
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		plays += r.m[i].role == ROLE_PLAY;
		expects += r.m[i].role == ROLE_EXPECT;
	}
	r.start = now_ns();
	r.t0 = r.n ? r.m[0].t : 0;
	for (size_t i = 0; i < r.n; i++) {
		struct rmsg *m = &r.m[i];
		kern_return_t kr;

		if (m->role != ROLE_PLAY)
			continue;
		if ((rc = wait_for(&r, i)) != 0)
			goto out;
		pace(&r, m);
		err[0] = '\0';
		kr = o->side == MO_REPLAY_KERNELS ? play_kernel(&r, m)
						  : play_manager(&r, m);
		if (kr) {
			if (!err[0])
				fail(&r, "record %u: sending %s failed: %s", m->number,
				     m->d.schema->name, kr_name(kr));
			rc = -1;
			goto out;
		}
		r.sent++;
		if (o->verbose)
			show(&r, "", m->kernel, m->dir, m->bytes, &m->d);
	}
	if ((rc = wait_for(&r, r.n)) != 0)
		goto out;
	/* Anything more the live side sends now is more than was recorded. */
	do {
		if ((rc = receive_one(&r, 200000000ULL, &got)) != 0)
			goto out;
	} while (got);
	fprintf(o->out, "%u messages sent, %u received as recorded: 0 divergences\n",
		r.sent, r.received);
	rc = 0;
out:
	fflush(o->out);
	for (size_t i = 0; i < r.n; i++) {
		free(r.m[i].bytes);
		for (unsigned j = 0; j < r.m[i].nool; j++)
			free((void *)r.m[i].ool[j].data);
	}
	if (o->side == MO_REPLAY_MANAGER)
		for (unsigned i = 0; i < r.nobjs; i++)
			mo_mach_unpublish(o->addrs[i]);
	free(r.m);
	free(r.k);
	free(r.names);
	free(r.rbuf);
	(void)plays;
	(void)expects;
	return rc;
}
