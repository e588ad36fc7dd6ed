/*
 * tracer/proxy.c: the interposing proxy pager (see proxy.h for the ports).
 *
 * A message's way: received on one of our ports (received view: the
 * destination in msgh_local_port, rights already ours) -> a display copy,
 * in which the kernel's control port reads as its control proxy, for the
 * log and the model -> an outgoing copy (sent view) aimed at the real
 * destination, with control ports replaced by their proxies and reply
 * ports by reply proxies -> the engine (rules, queues, trace) -> sent.
 * A received right has the same type number as the disposition that moves
 * it on (PORT_SEND is MOVE_SEND, GNU Mach include/mach/message.h), so the
 * rights we do not replace are forwarded by keeping their type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mach.h>
#include <mach/motrace.h>

#include "tracer/proxy.h"
#include "util/error.h"
#include "util/intmap.h"
#include "util/xalloc.h"

enum pkind { PK_OBJECT, PK_CONTROL, PK_REPLY, PK_NOTIFY, PK_FOREIGN };

struct pport {
	mach_port_t name;	/* our receive right; 0: free slot */
	enum pkind kind;
	unsigned object, kernel;
	mach_port_t target;	/* OBJECT: manager's object; CONTROL: kernel's
				 * control port; REPLY: the send-once right
				 * it stands for (0 when consumed) */
	int consumed;		/* REPLY: answers an injected request */
	mo_proxy_port_fn *fn;	/* FOREIGN: who handles its messages */
	void *fn_ctx;
};

struct pobject {
	mach_port_t proxy, manager;
	char *listen;
	int gone;		/* its manager went away */
	int other;		/* a number another transport took (mo_proxy_number) */
};

struct pkernel {
	unsigned object;
	mach_port_t ctl;	/* the kernel's control port (our send right) */
	mach_port_t proxy;	/* its control proxy */
	/*
	 * A send right of ours to its name port, held from init to
	 * terminate so that the port keeps one name in the log.
	 */
	mach_port_t name;
	int dead;
	int other;		/* a number another transport took (mo_proxy_number) */
};

struct mo_proxy {
	mach_port_t pset, notify;
	mach_port_t wake;	/* a face's wake-ups (mo_proxy_wake_port), or 0 */
	struct intmap ports;	/* name -> struct pport */
	struct pobject *objs;
	unsigned nobjs;
	struct pkernel *kernels;
	unsigned nkernels;
	struct mo_trace *trace;
	struct mo_symbolizer *stacks;	/* -k, or NULL */
	struct mo_engine engine;
	const char *secret;
	int stop, manager_gone, exit_when_idle, had_kernel;
	unsigned alive;		/* kernels not gone */
	uint64_t last_msg;	/* when the last message came (mo_now) */
	uint64_t flushed;	/* when the log was last written out */
	struct strbuf disp;	/* a received message's display copy (relay) */
	struct {
		mo_proxy_info_fn *fn;
		void *ctx;
	} info[16];		/* other transports' lines (mo_proxy_add_info) */
	unsigned ninfo;
	union {
		mach_msg_header_t h;
		uint8_t b[1 << 18];
	} rcv;
};

/* What travels with a message to the transport: the bytes to send. */
struct carrier {
	struct strbuf out;	/* sent view */
	mach_port_t reply_proxy;	/* made for this message, or 0 */
};

uint64_t mo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}


static struct pport *port_find(struct mo_proxy *p, mach_port_t name)
{
	return intmap_get(&p->ports, name);
}

static void port_insert(struct mo_proxy *p, const struct pport *pp)
{
	struct pport *n = mo_xmalloc(sizeof(*n));

	*n = *pp;
	intmap_put(&p->ports, pp->name, n);
}

static void port_remove(struct mo_proxy *p, mach_port_t name)
{
	free(intmap_del(&p->ports, name));
}

/* A new receive right of ours, in the port set. */
static mach_port_t new_proxy_port(struct mo_proxy *p, enum pkind kind,
				  unsigned object, unsigned kernel,
				  mach_port_t target)
{
	struct pport pp = { 0, kind, object, kernel, target, 0, NULL, NULL };
	kern_return_t kr;

	kr = mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE,
				&pp.name);
	if (kr == KERN_SUCCESS)
		kr = mach_port_move_member(mach_task_self(), pp.name, p->pset);
	/* A port is memory of libmotrace-mach's: util/xalloc.h's policy. */
	if (kr != KERN_SUCCESS) {
		mo_err("cannot make a port: error 0x%x", kr);
		abort();
	}
	port_insert(p, &pp);
	return pp.name;
}

static void drop_proxy_port(struct mo_proxy *p, mach_port_t name)
{
	port_remove(p, name);
	mach_port_move_member(mach_task_self(), name, MACH_PORT_NULL);
	mach_port_mod_refs(mach_task_self(), name, MACH_PORT_RIGHT_RECEIVE, -1);
}

/* x86_64 header fields (decode/walk.c: remote at 8, local at 16). */
static void put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}

static void set_header(uint8_t *msg, uint32_t remote, unsigned rdisp,
		       uint32_t local, unsigned ldisp)
{
	uint32_t bits;

	memcpy(&bits, msg, 4);
	bits = MACH_MSGH_BITS_OTHER(bits) |
	       MACH_MSGH_BITS(remote ? rdisp : 0, local ? ldisp : 0);
	put32(msg, bits);
	put32(msg + 8, remote);
	memset(msg + 12, 0, 4);
	put32(msg + 16, local);
	memset(msg + 20, 0, 4);
}

/* Element K of port item IT becomes NAME with disposition DISP. */
static void set_port(uint8_t *msg, const struct mo_item *it, uint32_t k,
		     unsigned disp, uint32_t name)
{
	if (it->longform) {
		uint16_t t = (uint16_t)disp;

		memcpy(msg + it->desc_off + 4, &t, 2);
	} else {
		msg[it->desc_off] = (uint8_t)disp;
	}
	put32(msg + it->data_off + 4 * k, name);
}

static struct pkernel *kernel_by_ctl(struct mo_proxy *p, unsigned object,
				     mach_port_t ctl)
{
	for (unsigned i = 0; i < p->nkernels; i++)
		if (p->kernels[i].object == object && p->kernels[i].ctl == ctl &&
		    !p->kernels[i].dead)
			return &p->kernels[i];
	return NULL;
}

/* A new kernel of OBJECT whose control port is CTL (we hold a send right). */
static struct pkernel *kernel_new(struct mo_proxy *p, unsigned object,
				  mach_port_t ctl)
{
	struct pkernel *k;
	mach_port_t prev;
	unsigned idx = p->nkernels;

	p->kernels = mo_xrealloc(p->kernels, (p->nkernels + 1) * sizeof(*k));
	k = &p->kernels[p->nkernels++];
	k->object = object;
	k->ctl = ctl;
	k->name = 0;
	k->dead = 0;
	p->alive++;
	k->proxy = new_proxy_port(p, PK_CONTROL, object, idx, ctl);
	/* To hear when the kernel goes away without a word. */
	mach_port_request_notification(mach_task_self(), ctl,
				       MACH_NOTIFY_DEAD_NAME, 1, p->notify,
				       MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	p->had_kernel = 1;
	return k;
}

static void kernel_dead(struct mo_proxy *p, unsigned k)
{
	if (!p->kernels[k].dead) {
		p->kernels[k].dead = 1;
		p->alive--;
	}
}

/* Releases the rights an outgoing message holds, when it will not go. */
static void destroy_out(struct mo_proxy *p, struct carrier *c)
{
	uint8_t *msg = (uint8_t *)c->out.buf;
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;
	mach_port_t task = mach_task_self();

	if (mo_walk_init(&w, msg, c->out.len, MO_ABI_X86_64, &h) < 0)
		return;
	if (MACH_MSGH_BITS_REMOTE(h.bits) == MACH_MSG_TYPE_MOVE_SEND_ONCE)
		mach_port_deallocate(task, h.remote);
	if (MACH_MSGH_BITS_LOCAL(h.bits) == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
	    MACH_MSGH_BITS_LOCAL(h.bits) == MACH_MSG_TYPE_MOVE_SEND)
		mach_port_deallocate(task, h.local);
	while (mo_walk_next(&w, &it) == 1) {
		if (!it.is_inline) {
			uint64_t addr = mo_item_ool_addr(msg, &it, MO_ABI_X86_64);

			if (it.dealloc && addr)
				vm_deallocate(task, (vm_address_t)addr,
					      (vm_size_t)mo_item_bytes(&it));
			continue;
		}
		if (!mo_type_is_port(it.name) || it.size != 32)
			continue;
		for (uint32_t k = 0; k < it.number; k++) {
			uint32_t name = (uint32_t)mo_item_elem(msg, &it, k);

			if (!name || name == (uint32_t)MACH_PORT_DEAD)
				continue;
			if (it.name == MACH_MSG_TYPE_MOVE_RECEIVE)
				mach_port_mod_refs(task, name,
						   MACH_PORT_RIGHT_RECEIVE, -1);
			else if (it.name == MACH_MSG_TYPE_MOVE_SEND ||
				 it.name == MACH_MSG_TYPE_MOVE_SEND_ONCE)
				mach_port_deallocate(task, name);
		}
	}
	if (c->reply_proxy)
		drop_proxy_port(p, c->reply_proxy);
}

/*
 * Carriers freed, kept with their buffers for the next messages (one a
 * message: a malloc each for it and its bytes otherwise). The loop's
 * thread is the only one that makes and frees them.
 */
#define CARRIER_CACHE 32
#define CARRIER_CACHE_BYTES 4096

static struct carrier *carrier_cache[CARRIER_CACHE];
static unsigned carriers_cached;

static struct carrier *carrier_new(const void *msg, size_t len)
{
	struct carrier *c;

	if (carriers_cached) {
		c = carrier_cache[--carriers_cached];
		strbuf_reset(&c->out);
	} else {
		c = mo_xmalloc(sizeof(*c));
		strbuf_init(&c->out, len);
	}
	c->reply_proxy = 0;
	strbuf_add(&c->out, msg, len);
	return c;
}

static void carrier_free(struct carrier *c)
{
	if (!c)
		return;
	if (carriers_cached < CARRIER_CACHE && c->out.alloc <= CARRIER_CACHE_BYTES) {
		carrier_cache[carriers_cached++] = c;
		return;
	}
	strbuf_release(&c->out);
	free(c);
}

/*
 * Kernel K's control port died (dead-name: the kernel was killed, or its
 * link broke) without a terminate: what it held is no longer anywhere,
 * so the model forgets it, or the kernels after it would be judged
 * against pages no one holds.
 */
static void kernel_gone(struct mo_proxy *p, unsigned k)
{
	uint64_t n = mo_model_kernel_gone(mo_trace_model(p->trace), k);

	kernel_dead(p, k);
	if (p->kernels[k].name)
		mach_port_deallocate(mach_task_self(), p->kernels[k].name);
	p->kernels[k].name = 0;
	/*
	 * Without motrace the manager's right to the control port would now
	 * be a dead name (its sends fail, its dead-name request fires): so
	 * is its right to the control proxy, once the proxy is destroyed.
	 */
	drop_proxy_port(p, p->kernels[k].proxy);
	mo_trace_note(p->trace, mo_now(),
		      "kernel %u went away: the model forgets its %llu page(s)",
		      k, (unsigned long long)n);
}

/* A destination died under us: say so, and stop if it was the manager. */
static void dest_dead(struct mo_proxy *p, mach_port_t dest)
{
	unsigned left = 0, own = 0;

	for (unsigned i = 0; i < p->nobjs; i++) {
		if (p->objs[i].manager == dest && !p->objs[i].gone) {
			p->objs[i].gone = 1;
			mo_trace_note(p->trace, mo_now(),
				      "the manager of object %u went away", i);
			/*
			 * Kernels must see the object die as they would
			 * without motrace: its proxy goes too (they get their
			 * dead-name notifications), and so does the address.
			 */
			drop_proxy_port(p, p->objs[i].proxy);
			mo_mach_unpublish(p->objs[i].listen);
		}
		left += !p->objs[i].gone;
		own += !p->objs[i].other;
	}
	/* With no manager left there is nothing more to trace. */
	if (!left && own)
		p->manager_gone = 1;
	for (unsigned i = 0; i < p->nkernels; i++)
		if (p->kernels[i].ctl == dest && !p->kernels[i].dead)
			kernel_gone(p, i);
}

/* What port DEST is, in words, for a message that could not go. */
static void describe_dest(struct mo_proxy *p, mach_port_t dest, char *buf,
			  size_t len)
{
	snprintf(buf, len, "port %u", dest);
	for (unsigned i = 0; i < p->nobjs; i++)
		if (p->objs[i].manager == dest)
			snprintf(buf, len, "the manager of object %u", i);
	for (unsigned i = 0; i < p->nkernels; i++)
		if (p->kernels[i].ctl == dest)
			snprintf(buf, len, "kernel %u's control port", i);
}

/* Sends C; returns what mach_msg said, having said it in the log. */
static kern_return_t send_out(struct mo_proxy *p, struct carrier *c)
{
	mach_msg_header_t *h = (mach_msg_header_t *)c->out.buf;
	mach_port_t dest = h->msgh_remote_port;
	kern_return_t kr;
	char what[64];

	kr = mach_msg(h, MACH_SEND_MSG, (mach_msg_size_t)c->out.len, 0,
		      MACH_PORT_NULL, MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
	if (kr == MACH_MSG_SUCCESS)
		return kr;
	describe_dest(p, dest, what, sizeof(what));
	mo_trace_send_failed(p->trace, mo_now(), h->msgh_id, what, kr);
	if (kr == MACH_SEND_INVALID_DEST) {
		dest_dead(p, dest);
		/* The destination's right was not consumed; the rest are ours. */
		h->msgh_bits = MACH_MSGH_BITS_OTHER(h->msgh_bits) |
			       MACH_MSGH_BITS(0, MACH_MSGH_BITS_LOCAL(h->msgh_bits));
		destroy_out(p, c);
		c->reply_proxy = 0;
	}
	return kr;
}

static void op_forward(void *ctx, struct mo_pmsg *m)
{
	struct mo_proxy *p = ctx;
	struct carrier *c = m->carrier;

	if (c)
		send_out(p, c);
	carrier_free(c);
	m->carrier = NULL;
}

/* A field rewritten by a plugin: the sent view has it at the same place. */
static void op_patch(void *ctx, struct mo_pmsg *m, size_t off,
		     const void *bytes, size_t n)
{
	struct carrier *c = m->carrier;

	(void)ctx;
	if (c && off <= c->out.len && n <= c->out.len - off)
		memcpy(c->out.buf + off, bytes, n);
}

static void op_discard(void *ctx, struct mo_pmsg *m)
{
	struct mo_proxy *p = ctx;
	struct carrier *c = m->carrier;

	if (c)
		destroy_out(p, c);
	carrier_free(c);
	m->carrier = NULL;
}

/*
 * Prepares the outgoing copy of a received message: OUT starts as the
 * received bytes; DISP is the display copy. Control ports named in the
 * body become their proxies (in OUT with MAKE_SEND, in DISP by name);
 * reply ports of requests to the kernel become reply proxies.
 */
static void rewrite_body(struct mo_proxy *p, struct mo_decoded *d,
			 unsigned object, struct pkernel *k, int to_kernel,
			 struct strbuf *out, struct strbuf *disp,
			 struct carrier *c, unsigned kernel_index)
{
	for (unsigned i = 0; i < d->nitems; i++) {
		const struct mo_item *it = &d->items[i];

		if (!it->is_inline) {
			/* Our copy of the data goes along and is freed. */
			uint32_t w;

			memcpy(&w, out->buf + it->desc_off, 4);
			w |= 1u << 30;
			memcpy(out->buf + it->desc_off, &w, 4);
			continue;
		}
		if (!mo_type_is_port(it->name) || it->size != 32)
			continue;
		for (uint32_t e = 0; e < it->number; e++) {
			uint32_t name = (uint32_t)mo_item_elem(
				(const uint8_t *)out->buf, it, e);

			if (!name || name == (uint32_t)MACH_PORT_DEAD)
				continue;
			if (!to_kernel && k && name == k->ctl &&
			    it->name == MACH_MSG_TYPE_PORT_SEND) {
				/*
				 * The right is made now: a message held
				 * past the kernel's terminate, which moves
				 * the proxy's receive right to the manager,
				 * still carries it.
				 */
				mach_port_insert_right(mach_task_self(), k->proxy,
						       k->proxy,
						       MACH_MSG_TYPE_MAKE_SEND);
				set_port((uint8_t *)out->buf, it, e,
					 MACH_MSG_TYPE_MOVE_SEND, k->proxy);
				set_port((uint8_t *)disp->buf, it, e, it->name,
					 k->proxy);
				/* This copy of the right is not passed on. */
				mach_port_deallocate(mach_task_self(), name);
			} else if (to_kernel &&
				   it->name == MACH_MSG_TYPE_PORT_SEND_ONCE) {
				mach_port_t rp = new_proxy_port(
					p, PK_REPLY, object, kernel_index, name);

				set_port((uint8_t *)out->buf, it, e,
					 MACH_MSG_TYPE_MAKE_SEND_ONCE, rp);
				/* The log names the port the kernel answers to. */
				set_port((uint8_t *)disp->buf, it, e, it->name, rp);
				c->reply_proxy = rp;
			}
		}
	}
}


/*
 * One received message on its way through the proxy: where it came (a
 * copy of the port's entry, as the table may grow under it), where it
 * goes, and its two copies.
 */
struct relay {
	struct pport from;	/* the port of ours it arrived at */
	enum mo_dir dir;
	unsigned object, kernel;	/* kernel: index, or MO_KERNEL_UNKNOWN */
	mach_port_t dest, reply;
	unsigned dest_disp, reply_disp;
	struct mo_decoded d;
	struct carrier *c;	/* the outgoing copy */
	struct strbuf *disp;	/* the display copy: the proxy's own buffer */
};

static struct pkernel *kernel_at(struct mo_proxy *p, unsigned kernel)
{
	return kernel < p->nkernels ? &p->kernels[kernel] : NULL;
}

/* A message to a port that is none of ours: its rights go, with a note. */
static void not_ours(struct mo_proxy *p, const uint8_t *msg, size_t len)
{
	const mach_msg_header_t *h = (const mach_msg_header_t *)msg;
	struct carrier junk = { STRBUF_INIT, 0 };

	mo_trace_note(p->trace, mo_now(),
		      "message %d to port %u, which motrace never gave out: destroyed",
		      h->msgh_id, h->msgh_local_port);
	strbuf_add(&junk.out, msg, len);
	((mach_msg_header_t *)junk.out.buf)->msgh_bits &=
		~(uint32_t)MACH_MSGH_BITS_LOCAL_MASK;
	destroy_out(p, &junk);
	strbuf_release(&junk.out);
}

/* Mach's notifications to our notify port (GNU Mach include/mach/notify.h). */
static void on_notify(struct mo_proxy *p, const uint8_t *msg, size_t len)
{
	const mach_msg_header_t *h = (const mach_msg_header_t *)msg;
	uint32_t name;

	/*
	 * A name we drop that has a dead-name request on it says so with a
	 * port-deleted notification (GNU Mach ipc/ipc_right.c,
	 * ipc_right_destroy): expected, nothing to do.
	 */
	if (h->msgh_id == MACH_NOTIFY_PORT_DELETED)
		return;
	if (h->msgh_id != MACH_NOTIFY_DEAD_NAME ||
	    len < sizeof(mach_msg_header_t) + 8) {
		mo_trace_note(p->trace, mo_now(),
			      "notification %d on port %u is not one motrace asked for: ignored",
			      h->msgh_id, h->msgh_local_port);
		return;
	}
	/* mach_dead_name_notification_t: a type word, then the name. */
	memcpy(&name, msg + sizeof(mach_msg_header_t) + 4, 4);
	dest_dead(p, name);
	mach_port_deallocate(mach_task_self(), name);
}

/*
 * The kernel a message to the object port speaks for: by its control
 * port (memory_object_copy names it old_memory_control: any single send
 * right will do); an init with a control port we have not seen is a new
 * kernel. MO_KERNEL_UNKNOWN when none.
 */
static unsigned kernel_of(struct mo_proxy *p, struct relay *r,
			  const uint8_t *msg)
{
	const struct mo_decoded *d = &r->d;
	int ci = mo_call_item(d, MO_FIELD_CONTROL);
	uint32_t ctl = ci >= 0 ? d->call.control : 0;
	struct pkernel *k = ctl ? kernel_by_ctl(p, r->object, ctl) : NULL;

	for (unsigned i = 0; !k && i < d->nitems; i++)
		if (d->items[i].is_inline && d->items[i].size == 32 &&
		    d->items[i].name == MACH_MSG_TYPE_PORT_SEND &&
		    d->items[i].number == 1)
			k = kernel_by_ctl(p, r->object,
					  (mach_port_t)mo_item_elem(msg, &d->items[i], 0));
	if (!k && ctl && d->schema && ci >= 0 &&
	    d->items[ci].name == MACH_MSG_TYPE_PORT_SEND) {
		k = kernel_new(p, r->object, ctl);
		/* Keep init's right to reach the kernel. */
		mach_port_mod_refs(mach_task_self(), ctl, MACH_PORT_RIGHT_SEND, 1);
		/* And its name port's, so that it keeps one name until terminate. */
		k->name = d->call.name;
		if (k->name && mach_port_mod_refs(mach_task_self(), k->name,
						  MACH_PORT_RIGHT_SEND, 1) != KERN_SUCCESS)
			k->name = 0;
	}
	return k ? (unsigned)(k - p->kernels) : MO_KERNEL_UNKNOWN;
}

/*
 * terminate: the kernel gives the manager the receive rights of its
 * control and name ports (memory_object.defs). The manager gets our
 * control proxy's instead; the kernel's own control port is of no more
 * use.
 */
static void pass_terminate(struct mo_proxy *p, struct relay *r)
{
	struct pkernel *k = kernel_at(p, r->kernel);
	int ci = mo_call_item(&r->d, MO_FIELD_CONTROL);
	mach_port_t proxy;

	if (ci < 0)
		return;
	proxy = k->proxy;
	port_remove(p, proxy);
	mach_port_move_member(mach_task_self(), proxy, MACH_PORT_NULL);
	set_port((uint8_t *)r->c->out.buf, &r->d.items[ci], 0,
		 MACH_MSG_TYPE_MOVE_RECEIVE, proxy);
	set_port((uint8_t *)r->disp->buf, &r->d.items[ci], 0,
		 MACH_MSG_TYPE_PORT_RECEIVE, proxy);
	mach_port_destroy(mach_task_self(), k->ctl);
	/* The message holds the name port's receive right now. */
	if (k->name)
		mach_port_deallocate(mach_task_self(), k->name);
	k->name = 0;
	kernel_dead(p, r->kernel);
}

/* From a kernel, to the object port: on to the manager. */
static void from_kernel(struct mo_proxy *p, struct relay *r,
			const uint8_t *msg)
{
	r->dir = MO_K2M;
	r->dest = p->objs[r->object].manager;
	r->kernel = kernel_of(p, r, msg);
	if (r->d.schema && r->d.schema->id == MO_ID_MEMORY_OBJECT_TERMINATE &&
	    r->kernel != MO_KERNEL_UNKNOWN)
		pass_terminate(p, r);
	else
		rewrite_body(p, &r->d, r->object, kernel_at(p, r->kernel), 0,
			     &r->c->out, r->disp, r->c, r->kernel);
}

/* From the manager, to a control proxy: on to that kernel. */
static void from_manager(struct mo_proxy *p, struct relay *r)
{
	r->dir = MO_M2K;
	r->dest = p->kernels[r->kernel].ctl;
	if (r->reply && r->reply_disp == MACH_MSG_TYPE_PORT_SEND_ONCE) {
		mach_port_t rp = new_proxy_port(p, PK_REPLY, r->object,
						r->kernel, r->reply);

		r->reply = rp;
		r->reply_disp = MACH_MSG_TYPE_MAKE_SEND_ONCE;
		r->c->reply_proxy = rp;
		/* The log names the port the kernel answers to. */
		put32((uint8_t *)r->disp->buf + 8, rp);
		r->d.reply = rp;
	}
	rewrite_body(p, &r->d, r->object, kernel_at(p, r->kernel), 1,
		     &r->c->out, r->disp, r->c, r->kernel);
}

/* A kernel's answer to a reply proxy: on to whoever asked. */
static void from_answer(struct mo_proxy *p, struct relay *r)
{
	r->dir = MO_K2M;
	r->dest = r->from.target;
	r->dest_disp = MACH_MSG_TYPE_MOVE_SEND_ONCE;
	rewrite_body(p, &r->d, r->object, kernel_at(p, r->kernel), 0,
		     &r->c->out, r->disp, r->c, r->kernel);
	/* A reply proxy answers once. */
	drop_proxy_port(p, r->from.name);
}

/* Hands the message to the engine (or keeps an answer meant for motrace). */
static void pass_on(struct mo_proxy *p, struct relay *r)
{
	struct mo_pmsg *m;

	set_header((uint8_t *)r->c->out.buf, r->dest, r->dest_disp, r->reply,
		   r->reply_disp);
	/*
	 * The display copy differs from what was decoded by port names
	 * only: the call's ports become the names the log shows.
	 */
	mo_call_fill(&r->d, (const uint8_t *)r->disp->buf);
	m = mo_pmsg_new(r->dir, r->kernel, r->object, (uint64_t)r->dest,
			mo_now(), r->disp->buf, r->disp->len, MO_ABI_X86_64, &r->d);
	m->ool_local = 1;
	if (p->stacks) {
		struct mo_mach_stack st;

		if (mo_mach_sender_stack(&st))
			m->stack = mo_stack_new(p->stacks, st.pid, st.tid, st.pc, st.n);
	}
	if (r->from.kind == PK_REPLY && r->from.consumed) {
		/* The answer to a message motrace made: kept here. */
		((mach_msg_header_t *)r->c->out.buf)->msgh_bits &=
			~(uint32_t)MACH_MSGH_BITS_REMOTE_MASK;
		destroy_out(p, r->c);
		carrier_free(r->c);
		mo_engine_consumed(&p->engine, m);
		return;
	}
	m->carrier = r->c;
	mo_engine_message(&p->engine, m);
}

/* Ports and memory for a message motrace makes (mo_inject_names). */
struct inject_ctx {
	struct mo_proxy *p;
	struct pkernel *k;
	unsigned kernel;
	mach_port_t made[4];	/* reply proxies made, dropped if it does not go */
	unsigned nmade;
};

static uint32_t inject_reply_port(void *ctx)
{
	struct inject_ctx *ic = ctx;
	mach_port_t rp = new_proxy_port(ic->p, PK_REPLY, ic->k->object,
					ic->kernel, 0);

	/* Its answer is motrace's own: kept, not passed on. */
	port_find(ic->p, rp)->consumed = 1;
	if (ic->nmade < sizeof(ic->made) / sizeof(ic->made[0]))
		ic->made[ic->nmade++] = rp;
	return rp;
}

static uint64_t inject_ool(void *ctx, uint64_t bytes)
{
	vm_address_t addr = 0;

	(void)ctx;
	if (vm_allocate(mach_task_self(), &addr, bytes ? bytes : 1, TRUE) !=
	    KERN_SUCCESS)
		return 0;
	return addr;
}

/* A message for a kernel or the manager, received on port FROM. */
static void relay(struct mo_proxy *p, const struct pport *from, uint8_t *msg,
		  size_t len)
{
	const mach_msg_header_t *h = (const mach_msg_header_t *)msg;
	struct relay r;

	/* The decoding (2 KiB) is mo_decode's to fill: not zeroed first. */
	memset(&r, 0, offsetof(struct relay, d));
	r.from = *from;
	r.object = from->object;
	r.kernel = from->kernel;
	r.dest_disp = MACH_MSG_TYPE_COPY_SEND;
	r.reply = h->msgh_remote_port;
	r.reply_disp = MACH_MSGH_BITS_REMOTE(h->msgh_bits);
	mo_decode(msg, len, MO_ABI_X86_64, &r.d);
	r.c = carrier_new(msg, len);
	/* The display copy: the proxy's own buffer, copied into the message. */
	r.disp = &p->disp;
	strbuf_reset(r.disp);
	strbuf_add(r.disp, msg, len);
	switch (r.from.kind) {
	case PK_OBJECT:
		from_kernel(p, &r, msg);
		break;
	case PK_CONTROL:
		from_manager(p, &r);
		break;
	default:
		from_answer(p, &r);
		break;
	}
	pass_on(p, &r);
}

static void handle(struct mo_proxy *p, uint8_t *msg, size_t len)
{
	const mach_msg_header_t *h = (const mach_msg_header_t *)msg;
	const struct pport *pp = port_find(p, h->msgh_local_port);

	if (!pp)
		not_ours(p, msg, len);
	else if (pp->kind == PK_NOTIFY)
		on_notify(p, msg, len);
	else if (pp->kind == PK_FOREIGN)
		pp->fn(pp->fn_ctx, msg, len);
	else
		relay(p, pp, msg, len);
}

/* Sends a message motrace makes (engine inject op). */
static int op_inject(void *ctx, const struct mo_pmsg *trigger,
		     struct mo_pmsg *m, char *err, size_t errlen)
{
	struct mo_proxy *p = ctx;
	struct pkernel *k;
	struct carrier *c;
	struct mo_decoded *d = &m->d;
	struct inject_ctx ic;
	struct mo_inject_names names = { 0 };
	kern_return_t kr;

	if (trigger->kernel >= p->nkernels) {
		snprintf(err, errlen, "no kernel %u", trigger->kernel);
		return -1;
	}
	k = &p->kernels[trigger->kernel];
	/* Its control port's name may name another port by now. */
	if (k->dead && m->dir == MO_M2K) {
		snprintf(err, errlen, "not sent: kernel %u is gone (it terminated object %u, or died)",
			 trigger->kernel, k->object);
		return -1;
	}
	ic = (struct inject_ctx){ p, k, trigger->kernel, { 0 }, 0 };
	names.control = k->proxy;
	names.reply_port = inject_reply_port;
	names.ool = inject_ool;
	names.ctx = &ic;
	if (m->dir == MO_M2K) {
		names.dest = k->ctl;
	} else if (d->schema &&
		   (d->schema->id == MO_ID_MEMORY_OBJECT_LOCK_COMPLETED ||
		    d->schema->id == MO_ID_MEMORY_OBJECT_SUPPLY_COMPLETED ||
		    d->schema->id == MO_ID_MEMORY_OBJECT_CHANGE_COMPLETED)) {
		/* A completion: to the oldest reply proxy waiting for one. */
		struct pport *rp = NULL, *q;
		uint64_t name;
		void *v;

		for (size_t i = 0; intmap_next(&p->ports, &i, &name, &v); ) {
			q = v;
			if (q->kind == PK_REPLY && !q->consumed &&
			    q->kernel == trigger->kernel &&
			    (!rp || q->name < rp->name))
				rp = q;
		}
		if (!rp) {
			snprintf(err, errlen, "no request of kernel %u waits for an answer",
				 trigger->kernel);
			return -1;
		}
		names.dest = rp->target;
		names.dest_type = MACH_MSG_TYPE_MOVE_SEND_ONCE;
		rp->consumed = 1;
		rp->target = 0;
	} else {
		names.dest = p->objs[k->object].manager;
	}
	c = mo_xcalloc(1, sizeof(*c));
	strbuf_init(&c->out, m->bytes.len);
	if (mo_inject_prepare(m, &names, &c->out, err, errlen) < 0) {
		for (unsigned i = 0; i < ic.nmade; i++)
			drop_proxy_port(p, ic.made[i]);
		carrier_free(c);
		return -1;
	}
	m->queue = names.dest;
	kr = send_out(p, c);
	/* Out-of-line data sent without dealloc was copied: ours goes. */
	for (unsigned i = 0; kr == MACH_MSG_SUCCESS && i < d->nitems; i++)
		if (!d->items[i].is_inline && !d->items[i].dealloc)
			vm_deallocate(mach_task_self(), (vm_address_t)
				      mo_item_ool_addr((const uint8_t *)c->out.buf,
						       &d->items[i], MO_ABI_X86_64),
				      (vm_size_t)mo_item_bytes(&d->items[i]));
	carrier_free(c);
	if (kr != MACH_MSG_SUCCESS) {
		for (unsigned i = 0; i < ic.nmade; i++)
			if (port_find(p, ic.made[i]))
				drop_proxy_port(p, ic.made[i]);
		snprintf(err, errlen, "not sent: %s",
			 mo_trace_send_error(kr));
		return -1;
	}
	return 0;
}

/* The engine's waker: a descriptor it watches is ready (engine.h). */
static void wake_loop(void *ctx)
{
	struct mo_proxy *p = ctx;
	mach_msg_header_t h = { 0 };

	h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	h.msgh_size = sizeof(h);
	h.msgh_remote_port = p->wake;
	mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
		 MACH_PORT_NULL);
}

struct mo_proxy *mo_proxy_new(struct mo_proxy_opts *opts)
{
	struct mo_proxy *p = mo_xcalloc(1, sizeof(*p));
	struct mo_engine_ops ops = { .forward = op_forward, .discard = op_discard,
				     .inject = op_inject, .patch = op_patch,
				     .ctx = p };
	kern_return_t kr;

	strbuf_init(&p->disp, 0);
	p->trace = opts->trace;
	p->secret = opts->secret_file;
	p->exit_when_idle = opts->exit_when_idle;
	p->stacks = opts->stacks;
	kr = mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET,
				&p->pset);
	if (kr != KERN_SUCCESS) {
		mo_err("cannot make a port set: error 0x%x", kr);
		free(p);
		return NULL;
	}
	p->notify = new_proxy_port(p, PK_NOTIFY, 0, 0, 0);
	mo_engine_init(&p->engine, p->trace, &ops);
	p->engine.rules = opts->rules;
	opts->rules.n = 0;
	/* The engine's poller wakes the loop from its thread: the port is made now. */
	if (!mo_proxy_wake_port(p)) {
		mo_err("cannot make the loop's wake port");
		mo_engine_release(&p->engine, 0, mo_now());
		free(p);
		return NULL;
	}
	mo_engine_set_waker(&p->engine, wake_loop, p);
	return p;
}

/* Serves MANAGER (a send right of ours) under LISTEN. */
static int add_object(struct mo_proxy *p, const char *listen,
		      mach_port_t manager, const char *what)
{
	struct pobject o = { 0 };
	unsigned idx = p->nobjs;
	mach_port_t prev;

	o.manager = manager;
	o.proxy = new_proxy_port(p, PK_OBJECT, idx, 0, o.manager);
	if (mo_mach_publish(listen, o.proxy, p->secret, NULL) < 0) {
		mo_err("cannot listen at '%s'", listen);
		drop_proxy_port(p, o.proxy);
		return -1;
	}
	o.listen = mo_xstrdup(listen);
	mach_port_request_notification(mach_task_self(), o.manager,
				       MACH_NOTIFY_DEAD_NAME, 1, p->notify,
				       MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	p->objs = mo_xrealloc(p->objs, (p->nobjs + 1) * sizeof(*p->objs));
	p->objs[p->nobjs++] = o;
	mo_trace_note(p->trace, mo_now(), "object %u: kernels at %s reach %s",
		      idx, listen, what);
	return 0;
}

int mo_proxy_add(struct mo_proxy *p, const char *listen, const char *to)
{
	mach_port_t manager;
	char what[600];

	if (mo_mach_lookup(to, p->secret, &manager) < 0) {
		mo_err("cannot reach the manager at '%s'", to);
		return -1;
	}
	snprintf(what, sizeof(what), "the manager at %s", to);
	if (add_object(p, listen, manager, what) < 0) {
		mach_port_deallocate(mach_task_self(), manager);
		return -1;
	}
	return 0;
}

/*
 * With --exit-when-idle: since when the proxy has been idle (no kernel
 * left of those that came, nothing waiting, no message since), or
 * UINT64_MAX. A workload that unmaps and maps again has no kernel for a
 * moment: only a quiet while after that is the end.
 */
static uint64_t idle_since(const struct mo_proxy *p)
{
	if (!p->exit_when_idle || !p->had_kernel || p->alive ||
	    p->engine.sched.count)
		return UINT64_MAX;
	return p->last_msg;
}

int mo_proxy_step(struct mo_proxy *p, unsigned timeout_ms)
{
	uint64_t now = mo_now(), due = mo_sched_next_due(&p->engine.sched);
	uint64_t model_due, timer_due;
	kern_return_t kr;
	unsigned ms = timeout_ms;

	if (p->stop || p->manager_gone)
		return 0;
	/* Nothing to do before the first of these, or a message. */
	model_due = mo_model_next_due(mo_trace_model(p->trace));
	timer_due = mo_engine_next_timer(&p->engine);
	if (model_due < due)
		due = model_due;
	if (timer_due < due)
		due = timer_due;
	if (idle_since(p) != UINT64_MAX &&
	    idle_since(p) + MO_PROXY_IDLE_NS < due)
		due = idle_since(p) + MO_PROXY_IDLE_NS;
	if (due != UINT64_MAX)
		ms = due <= now ? 0 : (unsigned)((due - now) / 1000000 + 1);
	if (ms > timeout_ms)
		ms = timeout_ms;
	/*
	 * What is waiting comes first; before sleeping, the log is written,
	 * at most once per MO_PROXY_FLUSH_NS: a burst of messages, each of
	 * which finds the proxy asleep, costs one write, not one a message.
	 */
	kr = mach_msg(&p->rcv.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
		      sizeof(p->rcv), p->pset, 0, MACH_PORT_NULL);
	if (kr == MACH_RCV_TIMED_OUT && ms) {
		now = mo_now();
		if (now - p->flushed >= MO_PROXY_FLUSH_NS) {
			mo_trace_flush(p->trace);
			p->flushed = now;
		} else if ((p->flushed + MO_PROXY_FLUSH_NS - now) / 1000000 + 1 < ms) {
			ms = (unsigned)((p->flushed + MO_PROXY_FLUSH_NS - now) /
					1000000 + 1);
		}
		/* A signal (SIGINT, SIGTERM, SIGCHLD) ends the wait. */
		kr = mach_msg(&p->rcv.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT |
			      MACH_RCV_INTERRUPT, 0, sizeof(p->rcv), p->pset,
			      ms, MACH_PORT_NULL);
	}
	if (kr == MACH_MSG_SUCCESS && p->wake &&
	    p->rcv.h.msgh_local_port == p->wake) {
		/* A descriptor is ready, or a face woke the loop: it returns. */
		mo_engine_run_fds(&p->engine);
	} else if (kr == MACH_MSG_SUCCESS) {
		p->last_msg = mo_now();
		handle(p, p->rcv.b, p->rcv.h.msgh_size);
	} else if (kr != MACH_RCV_TIMED_OUT && kr != MACH_RCV_INTERRUPTED) {
		mo_err("receiving failed: error 0x%x", kr);
		return -1;
	}
	now = mo_now();
	mo_engine_tick(&p->engine, now);
	mo_engine_run_timers(&p->engine, now);
	if (idle_since(p) != UINT64_MAX &&
	    now - idle_since(p) >= MO_PROXY_IDLE_NS)
		return 0;
	return p->stop || p->manager_gone ? 0 : 1;
}

int mo_proxy_drain(struct mo_proxy *p, unsigned timeout_ms)
{
	kern_return_t kr;

	kr = mach_msg(&p->rcv.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
		      sizeof(p->rcv), p->pset, timeout_ms, MACH_PORT_NULL);
	if (kr != MACH_MSG_SUCCESS)
		return 0;
	if (!p->wake || p->rcv.h.msgh_local_port != p->wake)
		handle(p, p->rcv.b, p->rcv.h.msgh_size);
	else
		mo_engine_run_fds(&p->engine);
	mo_engine_tick(&p->engine, mo_now());
	return 1;
}

unsigned mo_proxy_add_port(struct mo_proxy *p, mo_proxy_port_fn *fn,
			   void *ctx)
{
	mach_port_t name = new_proxy_port(p, PK_FOREIGN, 0, 0, 0);

	port_find(p, name)->fn = fn;
	port_find(p, name)->fn_ctx = ctx;
	return name;
}

void mo_proxy_drop_port(struct mo_proxy *p, unsigned name)
{
	if (port_find(p, name))
		drop_proxy_port(p, name);
}

void mo_proxy_kernels(struct mo_proxy *p, int delta)
{
	if (delta > 0) {
		p->had_kernel = 1;
		p->alive += (unsigned)delta;
	} else if ((unsigned)-delta <= p->alive) {
		p->alive -= (unsigned)-delta;
	}
}

unsigned mo_proxy_wake_port(struct mo_proxy *p)
{
	mach_port_t port;

	if (p->wake)
		return p->wake;
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port) ||
	    mach_port_insert_right(mach_task_self(), port, port,
				   MACH_MSG_TYPE_MAKE_SEND) ||
	    mach_port_move_member(mach_task_self(), port, p->pset))
		return MACH_PORT_NULL;
	p->wake = port;
	return port;
}

void mo_proxy_stop(struct mo_proxy *p)
{
	p->stop = 1;
}

struct mo_symbolizer *mo_proxy_stacks(struct mo_proxy *p)
{
	return p->stacks;
}

struct mo_engine *mo_proxy_engine(struct mo_proxy *p)
{
	return &p->engine;
}

void mo_proxy_add_info(struct mo_proxy *p, mo_proxy_info_fn *fn, void *ctx)
{
	if (p->ninfo < sizeof(p->info) / sizeof(p->info[0])) {
		p->info[p->ninfo].fn = fn;
		p->info[p->ninfo++].ctx = ctx;
	}
}

void mo_proxy_info(struct mo_proxy *p, const char *what, struct strbuf *out)
{
	for (unsigned i = 0; i < p->ninfo; i++)
		p->info[i].fn(p->info[i].ctx, what, out);
	if (!strcmp(what, "objects")) {
		for (unsigned i = 0; i < p->nobjs; i++) {
			unsigned n = 0;

			if (p->objs[i].other)
				continue;
			for (unsigned k = 0; k < p->nkernels; k++)
				n += p->kernels[k].object == i && !p->kernels[k].dead;
			strbuf_addf(out, "object %u: listening at %s, port %u; manager port %u; %u kernel(s)\n",
				    i, p->objs[i].listen, p->objs[i].proxy,
				    p->objs[i].manager, n);
		}
		return;
	}
	for (unsigned i = 0; i < p->nkernels; i++)
		if (!p->kernels[i].other)
			strbuf_addf(out, "kernel %u: object %u, control port %u (proxy %u)%s\n",
				    i, p->kernels[i].object, p->kernels[i].ctl,
				    p->kernels[i].proxy,
				    p->kernels[i].dead ? ", gone" : "");
}

unsigned mo_proxy_number(struct mo_proxy *p, int object)
{
	if (object) {
		struct pobject o = { .gone = 1, .other = 1 };

		p->objs = mo_xrealloc(p->objs, (p->nobjs + 1) * sizeof(*p->objs));
		p->objs[p->nobjs] = o;
		return p->nobjs++;
	} else {
		struct pkernel k = { .dead = 1, .other = 1 };

		p->kernels = mo_xrealloc(p->kernels, (p->nkernels + 1) * sizeof(*p->kernels));
		p->kernels[p->nkernels] = k;
		return p->nkernels++;
	}
}

void mo_proxy_free(struct mo_proxy *p)
{
	if (!p)
		return;
	mo_engine_release(&p->engine, !p->manager_gone, mo_now());
	for (unsigned i = 0; i < p->nobjs; i++) {
		if (!p->objs[i].gone)
			mo_mach_unpublish(p->objs[i].listen);
		free(p->objs[i].listen);
	}
	free(p->objs);
	free(p->kernels);
	{
		uint64_t name;
		void *v;

		for (size_t i = 0; intmap_next(&p->ports, &i, &name, &v); )
			free(v);
	}
	intmap_release(&p->ports);
	strbuf_release(&p->disp);
	free(p);
}
