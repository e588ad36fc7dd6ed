/*
 * guest/host/machpeer.c: a real pager behind the relay (machpeer.h).
 *
 * Messages are read through decode/ (the user32 schema for the kernel's,
 * the x86_64 one for the pager's) and written with MIG's x86_64 stubs
 * (to the pager) or the user32 structs of msg32.h (to the kernel); which
 * call becomes which is one table each way.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mach.h>
#include <mach/motrace.h>

#include "decode/decode.h"
#include "guest/host/machpeer.h"
#include "memory_object.h"	/* MIG's x86_64 user stubs */
#include "msg32.h"

#define MAX_PENDING 64

/*
 * A reply the kernel owes the pager: the kernel answers the agent's
 * object port, we answer the pager's port. lock_completed and
 * supply_completed echo the request's offset and length (PROTOCOL.md 6);
 * change_completed carries none, so those go in order, as do the replies
 * of routines (get_attributes), which the kernel answers as it serves
 * the request (kern/ipc_kobject.c, ipc_kobject_server).
 */
enum pending_kind { PENDING_LOCK, PENDING_SUPPLY, PENDING_CHANGE, PENDING_ATTRIBUTES };

struct pending {
	uint8_t kind;		/* enum pending_kind */
	uint32_t offset, length;
	mach_port_t reply;	/* the pager's send-once right */
};

struct machpeer {
	struct machpeer_out out;
	mach_port_t object;	/* send right to the pager's object */
	mach_port_t control, name;	/* our proxies (receive rights) */
	uint32_t k_object;	/* the agent's object port: our reply_to */
	uint32_t k_control;	/* the kernel's control port, in the agent */
	int started, stop, terminated;
	pthread_t thread;
	pthread_mutex_t lock;
	struct pending pending[MAX_PENDING];
	unsigned npending;
	char err[200];
};

static int fail(struct machpeer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct machpeer *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&p->lock);
	return -1;
}

static void note(struct machpeer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct machpeer *p, const char *fmt, ...)
{
	char text[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p->out.note(p->out.ctx, text);
}

static uint32_t arg(const struct mo_decoded *d, const uint8_t *buf, const char *name)
{
	return (uint32_t)mo_arg_u64(d, buf, name, 0);
}

/* ---- pager -> kernel: calls on our control port, in user32 ---- */

static int push_pending(struct machpeer *p, int kind, uint32_t off, uint32_t len,
			mach_port_t reply)
{
	pthread_mutex_lock(&p->lock);
	if (p->npending == MAX_PENDING) {
		pthread_mutex_unlock(&p->lock);
		return fail(p, "more than %u replies outstanding (offset 0x%x)", MAX_PENDING, off);
	}
	p->pending[p->npending].kind = kind;
	p->pending[p->npending].offset = off;
	p->pending[p->npending].length = len;
	p->pending[p->npending].reply = reply;
	p->npending++;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* A reply port argument (send-once as received), or MACH_PORT_NULL. */
static mach_port_t reply_port(const struct mo_decoded *d, const uint8_t *buf)
{
	int i = mo_arg_index(d, "reply_to");

	return i < 0 ? MACH_PORT_NULL : (mach_port_t)mo_item_elem(buf, &d->items[i], 0);
}

static int to_ready(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_ready_req m;

	mo32_memory_object_ready_req_init(&m);
	m.head.remote = p->k_control;
	m.may_cache = arg(d, buf, "may_cache");
	m.copy_strategy = arg(d, buf, "copy_strategy");
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

static int to_data_supply(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_data_supply_req m;
	int di = mo_arg_index(d, "data");
	uint64_t data = mo_arg_u64(d, buf, "data", 0);
	uint32_t len = di >= 0 ? (uint32_t)mo_item_bytes(&d->items[di]) : 0;
	mach_port_t reply = reply_port(d, buf);
	struct relay_ool ool = { (const uint8_t *)(uintptr_t)data, len };
	int rc;

	mo32_memory_object_data_supply_req_init(&m);
	m.head.remote = p->k_control;
	m.offset = arg(d, buf, "offset");
	m.data.addr = m.data.high = 0;
	m.dataType.number = len;
	/*
	 * The data goes away with the message, as a pager on GNU Mach would
	 * send it (and the log shows it); the agent supplies the kernel a
	 * copy from a buffer of its own instead (agent.c, copy_buf).
	 */
	m.dataType.header |= MO32_TYPE_DEALLOC;
	m.lock_value = arg(d, buf, "lock_value");
	m.precious = arg(d, buf, "precious");
	m.reply_to.name = reply ? p->k_object : 0;
	m.reply_to.high = 0;
	if (reply && push_pending(p, PENDING_SUPPLY, m.offset, len, reply) < 0)
		return -1;
	rc = p->out.send(p->out.ctx, &m, sizeof(m), &ool, 1);
	if (data && len)
		vm_deallocate(mach_task_self(), (vm_address_t)data, len);
	return rc;
}

static int to_lock_request(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_lock_request_req m;
	mach_port_t reply = reply_port(d, buf);

	mo32_memory_object_lock_request_req_init(&m);
	m.head.remote = p->k_control;
	m.offset = arg(d, buf, "offset");
	m.size = arg(d, buf, "size");
	m.should_return = arg(d, buf, "should_return");
	m.should_flush = arg(d, buf, "should_flush");
	m.lock_value = arg(d, buf, "lock_value");
	/* The kernel answers the agent's object port; we answer REPLY. */
	m.reply_to.name = reply ? p->k_object : 0;
	m.reply_to.high = 0;
	if (reply && push_pending(p, PENDING_LOCK, m.offset, m.size, reply) < 0)
		return -1;
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

static int to_change_attributes(struct machpeer *p, const uint8_t *buf,
				const struct mo_decoded *d)
{
	struct mo32_memory_object_change_attributes_req m;
	mach_port_t reply = reply_port(d, buf);

	mo32_memory_object_change_attributes_req_init(&m);
	m.head.remote = p->k_control;
	m.may_cache = arg(d, buf, "may_cache");
	m.copy_strategy = arg(d, buf, "copy_strategy");
	m.reply_to.name = reply ? p->k_object : 0;
	m.reply_to.high = 0;
	if (reply && push_pending(p, PENDING_CHANGE, 0, 0, reply) < 0)
		return -1;
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

static int to_data_unavailable(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_data_unavailable_req m;

	mo32_memory_object_data_unavailable_req_init(&m);
	m.head.remote = p->k_control;
	m.offset = arg(d, buf, "offset");
	m.size = arg(d, buf, "size");
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

static int to_data_error(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_data_error_req m;

	mo32_memory_object_data_error_req_init(&m);
	m.head.remote = p->k_control;
	m.offset = arg(d, buf, "offset");
	m.size = arg(d, buf, "size");
	m.error_value = arg(d, buf, "error_value");
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

static int to_destroy(struct machpeer *p, const uint8_t *buf, const struct mo_decoded *d)
{
	struct mo32_memory_object_destroy_req m;

	mo32_memory_object_destroy_req_init(&m);
	m.head.remote = p->k_control;
	m.reason = arg(d, buf, "reason");
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

/*
 * memory_object_get_attributes, the one routine of mach.defs on the
 * control port: the kernel's reply comes to the agent's object port
 * (a send-once right made there), we answer the pager's reply port.
 */
static int to_get_attributes(struct machpeer *p, const uint8_t *buf,
			     const struct mo_decoded *d)
{
	const mach_msg_header_t *h = (const void *)buf;
	struct mo32_memory_object_get_attributes_req m;

	/* As received, the reply right is in msgh_remote_port. */
	if (MACH_MSGH_BITS_REMOTE(h->msgh_bits) != MACH_MSG_TYPE_PORT_SEND_ONCE ||
	    !MACH_PORT_VALID(h->msgh_remote_port)) {
		note(p, "memory_object_get_attributes without a send-once reply port; dropped");
		return 0;
	}
	mo32_memory_object_get_attributes_req_init(&m);
	m.head.remote = p->k_control;
	m.head.local = p->k_object;
	if (push_pending(p, PENDING_ATTRIBUTES, 0, 0, h->msgh_remote_port) < 0)
		return -1;
	return p->out.send(p->out.ctx, &m, sizeof(m), NULL, 0);
}

/* mach.defs ids (PROTOCOL.md, "Manager -> kernel"). */
static const struct {
	int32_t id;
	int (*fwd)(struct machpeer *, const uint8_t *, const struct mo_decoded *);
} to_kernel[] = {
	{ 2039, to_data_unavailable },
	{ 2040, to_get_attributes },
	{ 2044, to_lock_request },
	{ 2090, to_data_error },
	{ 2092, to_destroy },
	{ 2093, to_data_supply },
	{ 2094, to_ready },
	{ 2095, to_change_attributes },
};

static void *pager_thread(void *arg)
{
	struct machpeer *p = arg;
	union {
		mach_msg_header_t h;
		uint8_t b[8192];
	} u;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		struct mo_decoded d;
		mach_msg_return_t mr;
		size_t i;

		/* A timeout, so that terminate can stop us before moving the port. */
		mr = mach_msg(&u.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(u),
			      p->control, 100, MACH_PORT_NULL);
		if (mr == MACH_RCV_TIMED_OUT)
			continue;
		if (mr != MACH_MSG_SUCCESS) {
			fail(p, "receive on the control port: 0x%x", mr);
			break;
		}
		if (mo_decode(u.b, u.h.msgh_size, MO_ABI_X86_64, &d) < 0) {
			note(p, "pager message %d does not decode; dropped", (unsigned)u.h.msgh_id);
			continue;
		}
		for (i = 0; i < sizeof(to_kernel) / sizeof(to_kernel[0]); i++)
			if (to_kernel[i].id == u.h.msgh_id)
				break;
		if (i == sizeof(to_kernel) / sizeof(to_kernel[0])) {
			note(p, "pager message %d is not relayed to the kernel", (unsigned)u.h.msgh_id);
			continue;
		}
		if (to_kernel[i].fwd(p, u.b, &d) < 0)
			break;
	}
	return NULL;
}

/* ---- kernel -> pager: the agent's messages, with MIG's x86_64 stubs ---- */

static int sent(struct machpeer *p, kern_return_t kr, const char *what)
{
	if (kr == KERN_SUCCESS)
		return 0;
	pthread_mutex_lock(&p->lock);
	snprintf(p->err, sizeof(p->err), "%s to the pager: 0x%x", what, (unsigned)kr);
	pthread_mutex_unlock(&p->lock);
	return -1;
}

static int from_init(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
		     const struct relay_ool *ool)
{
	mach_port_t task = mach_task_self();

	if (p->started)
		return fail(p, "a second memory_object_init (port %u)", d->h.local);
	/* After terminate, a new mapping starts afresh with new proxies. */
	p->terminated = 0;
	p->stop = 0;
	p->k_object = d->h.local;
	p->k_control = arg(d, msg, "memory_control");
	/*
	 * memory_object_terminate moves a send right to the object
	 * (memory_object.defs: MACH_MSG_TYPE_MOVE_SEND): each init gets a
	 * reference of its own, as vm_object_enter (GNU Mach
	 * vm/vm_object.c) keeps one per object, so that the object can be
	 * mapped again after its terminate.
	 */
	if (mach_port_mod_refs(task, p->object, MACH_PORT_RIGHT_SEND, 1))
		return fail(p, "cannot take a send right to the pager's object");
	if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &p->control) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &p->name))
		return fail(p, "cannot allocate the proxy ports");
	if (pthread_create(&p->thread, NULL, pager_thread, p) != 0)
		return fail(p, "cannot start the pager thread");
	p->started = 1;
	return sent(p, memory_object_init(p->object, p->control, p->name,
					  arg(d, msg, "memory_object_page_size")),
		    "memory_object_init");
}

static int from_data_request(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
			     const struct relay_ool *ool)
{
	return sent(p, memory_object_data_request(p->object, p->control, arg(d, msg, "offset"),
						  arg(d, msg, "length"), arg(d, msg, "desired_access")),
		    "memory_object_data_request");
}

static int from_data_unlock(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
			    const struct relay_ool *ool)
{
	return sent(p, memory_object_data_unlock(p->object, p->control, arg(d, msg, "offset"),
						 arg(d, msg, "length"), arg(d, msg, "desired_access")),
		    "memory_object_data_unlock");
}

static int from_data_return(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
			    const struct relay_ool *ool)
{
	return sent(p, memory_object_data_return(p->object, p->control, arg(d, msg, "offset"),
						 (vm_offset_t)(uintptr_t)ool[0].data, ool[0].bytes,
						 arg(d, msg, "dirty"), arg(d, msg, "kernel_copy")),
		    "memory_object_data_return");
}

/* Takes the first reply of KIND owed for OFF+LEN (any, for a change or a routine). */
static mach_port_t take_pending(struct machpeer *p, int kind, uint32_t off, uint32_t len)
{
	mach_port_t reply = MACH_PORT_NULL;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->npending; i++)
		if (p->pending[i].kind == kind &&
		    (kind == PENDING_CHANGE || kind == PENDING_ATTRIBUTES ||
		     (p->pending[i].offset == off && p->pending[i].length == len)))
			break;
	if (i < p->npending) {
		reply = p->pending[i].reply;
		memmove(&p->pending[i], &p->pending[i + 1], (p->npending - i - 1) * sizeof(p->pending[0]));
		p->npending--;
	}
	pthread_mutex_unlock(&p->lock);
	return reply;
}

static int from_lock_completed(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
			       const struct relay_ool *ool)
{
	uint32_t off = arg(d, msg, "offset"), len = arg(d, msg, "length");
	mach_port_t reply = take_pending(p, PENDING_LOCK, off, len);

	if (!reply)
		return fail(p, "memory_object_lock_completed at 0x%x+0x%x: no lock_request waits for it", off, len);
	return sent(p, memory_object_lock_completed(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, p->control,
						    off, len),
		    "memory_object_lock_completed");
}

static int from_supply_completed(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
				 const struct relay_ool *ool)
{
	uint32_t off = arg(d, msg, "offset"), len = arg(d, msg, "length");
	mach_port_t reply = take_pending(p, PENDING_SUPPLY, off, len);

	if (!reply)
		return fail(p, "memory_object_supply_completed at 0x%x+0x%x: no data_supply waits for it", off, len);
	return sent(p, memory_object_supply_completed(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, p->control,
						      off, len, arg(d, msg, "result"),
						      arg(d, msg, "error_offset")),
		    "memory_object_supply_completed");
}

static int from_change_completed(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
				 const struct relay_ool *ool)
{
	mach_port_t reply = take_pending(p, PENDING_CHANGE, 0, 0);

	if (!reply)
		return fail(p, "memory_object_change_completed: no change_attributes waits for it");
	return sent(p, memory_object_change_completed(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE,
						      arg(d, msg, "may_cache"),
						      arg(d, msg, "copy_strategy")),
		    "memory_object_change_completed");
}

/*
 * A send-once notification: the kernel destroyed a reply right unused (a
 * data_supply it refused, e.g. of part of a page: ipc_kobject_server
 * destroys the failed request, reply_to with it). The pager's right gets
 * the same. GNU Mach serves each of these calls while the agent sends it
 * (kern/ipc_kobject.c), so the kernel's answers come in the order of the
 * requests: this one belongs to the oldest reply still owed.
 */
static int from_send_once_notification(struct machpeer *p, const uint8_t *msg,
				       const struct mo_decoded *d, const struct relay_ool *ool)
{
	mach_msg_header_t h;
	mach_port_t reply = MACH_PORT_NULL;

	pthread_mutex_lock(&p->lock);
	if (p->npending) {
		reply = p->pending[0].reply;
		memmove(&p->pending[0], &p->pending[1], (p->npending - 1) * sizeof(p->pending[0]));
		p->npending--;
	}
	pthread_mutex_unlock(&p->lock);
	if (!reply)
		return fail(p, "mach_notify_send_once: no reply port is owed one");
	memset(&h, 0, sizeof(h));
	h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
	h.msgh_remote_port = reply;
	h.msgh_size = sizeof(h);
	h.msgh_id = MACH_NOTIFY_SEND_ONCE;
	return sent(p, mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL,
				MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL),
		    "mach_notify_send_once");
}

/* The kernel's reply to get_attributes, as MIG's x86_64 reply to the pager. */
static int from_get_attributes_reply(struct machpeer *p, const uint8_t *msg,
				     const struct mo_decoded *d, const struct relay_ool *ool)
{
	mach_port_t reply = take_pending(p, PENDING_ATTRIBUTES, 0, 0);
	const mach_msg_type_t i32 = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };
	const mach_msg_type_t bool = { MACH_MSG_TYPE_BOOLEAN, 32, 1, 1, 0, 0, 0 };
	struct {
		mach_msg_header_t h;
		mach_msg_type_t t0; kern_return_t ret;
		mach_msg_type_t t1; boolean_t ready;
		mach_msg_type_t t2; boolean_t may_cache;
		mach_msg_type_t t3; int strategy;
	} r;

	if (!reply)
		return fail(p, "memory_object_get_attributes reply: no get_attributes waits for it");
	memset(&r, 0, sizeof(r));
	r.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
	r.h.msgh_remote_port = reply;
	r.h.msgh_size = sizeof(r);
	r.h.msgh_id = d->h.id;
	r.t0 = i32;
	r.t1 = bool;
	r.t2 = bool;
	r.t3 = i32;
	r.ret = (kern_return_t)arg(d, msg, "RetCode");
	r.ready = arg(d, msg, "object_ready");
	r.may_cache = arg(d, msg, "may_cache");
	r.strategy = arg(d, msg, "copy_strategy");
	return sent(p, mach_msg(&r.h, MACH_SEND_MSG, sizeof(r), 0, MACH_PORT_NULL,
				MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL),
		    "memory_object_get_attributes reply");
}

/*
 * The proxies' receive rights go to the pager, as the kernel's would,
 * with the send right to the object that init took.
 */
static int from_terminate(struct machpeer *p, const uint8_t *msg, const struct mo_decoded *d,
			  const struct relay_ool *ool)
{
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = 0;
	p->terminated = 1;
	return sent(p, memory_object_terminate(p->object, p->control, p->name),
		    "memory_object_terminate");
}

/* memory_object.defs ids (subsystem 2200), and mach.defs replies. */
static const struct {
	int32_t id;
	int (*fwd)(struct machpeer *, const uint8_t *, const struct mo_decoded *,
		   const struct relay_ool *);
} to_pager[] = {
	{ 2200, from_init },
	{ 2201, from_terminate },
	{ 2203, from_data_request },
	{ 2204, from_data_unlock },
	{ 2206, from_lock_completed },
	{ 2207, from_supply_completed },
	{ 2208, from_data_return },
	{ 2209, from_change_completed },
	{ 2140, from_get_attributes_reply },
	{ MACH_NOTIFY_SEND_ONCE, from_send_once_notification },
};

int machpeer_on_msg(void *ctx, const uint8_t *msg, uint32_t len,
		    const struct relay_ool *ool, int nool)
{
	struct machpeer *p = ctx;
	struct mo_decoded d;
	uint32_t i, n;

	if (mo_decode(msg, len, MO_ABI_USER32, &d) < 0 || !d.schema)
		return fail(p, "kernel message %d (%u bytes) does not decode", (unsigned)d.h.id, len);
	for (i = 0, n = 0; i < d.nitems; i++)
		if (!d.items[i].is_inline &&
		    ((int)n >= nool || ool[n++].bytes != mo_item_bytes(&d.items[i])))
			return fail(p, "kernel message %d: out-of-line item %u has no matching region",
				    (unsigned)d.h.id, n);
	if ((int)n != nool)
		return fail(p, "kernel message %d: more regions than its %u out-of-line items",
			    (unsigned)d.h.id, n);
	if (p->terminated && d.h.id != 2200)
		return fail(p, "kernel message %d after terminate", (unsigned)d.h.id);
	if (d.h.id != 2200 && !p->started)
		return fail(p, "kernel message %d before memory_object_init", (unsigned)d.h.id);
	for (i = 0; i < sizeof(to_pager) / sizeof(to_pager[0]); i++)
		if (to_pager[i].id == d.h.id)
			return to_pager[i].fwd(p, msg, &d, ool);
	return fail(p, "kernel message %d is not relayed to the pager", (unsigned)d.h.id);
}

struct machpeer *machpeer_new(const char *addr, const char *secret_file,
			      const struct machpeer_out *out)
{
	struct machpeer *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	p->out = *out;
	pthread_mutex_init(&p->lock, NULL);
	if (mo_mach_lookup(addr, secret_file, &p->object) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

const char *machpeer_error(struct machpeer *p)
{
	return p->err;
}

unsigned machpeer_pending(struct machpeer *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->npending;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void machpeer_free(struct machpeer *p)
{
	if (!p)
		return;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	if (p->started)
		pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
