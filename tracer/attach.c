/*
 * tracer/attach.c: motrace on a pager's control socket (attach.h; the
 * frames: mach/control.h, doc/wire.md "The control socket").
 *
 * A frame's way: the thread that reads the library's links (the loop's,
 * blocked in mach_msg) reads it whole into memory of its own and sends
 * it, out of line, to the attachment's port in the proxy's set -> the loop hands it to on_port (this file) -> a message becomes a
 * mo_pmsg whose transport is this attachment (its via ops) -> the engine
 * judges it -> forward/discard send the verdict back. Ports are named in
 * the frames by the pager's ids: the log shows those.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <mach.h>
#include <mach/motrace.h>

#include "mach/control.h"
#include "tracer/attach.h"
#include "tracer/stack.h"
#include "util/le.h"

/* Frames sent to the attachment's port by read_socket. */
#define ID_FRAME 0x6d6f6166	/* "moaf": one frame, out of line */
#define ID_CLOSED 0x6d6f6163	/* "moac": the connection ended */

/* memory_object.defs (GNU Mach include/mach/memory_object.defs). */
#define MSGID_INIT 2200
#define MSGID_TERMINATE 2201

struct aobject {
	uint32_t id;		/* the pager's id for its port */
	unsigned index;		/* object N in the log */
	char *addr;
	int said;		/* handoff: in the log already */
};

struct akernel {
	uint32_t ctl;		/* the pager's id for the control port */
	unsigned object, index;
	int gone;
	uint64_t page_size;
};

/* A port the pager made for an answer to a message motrace injected. */
struct aport {
	uint32_t id;
	unsigned kernel, object;
};

struct mo_attach {
	struct mo_proxy *proxy;
	struct mo_engine *engine;
	struct mo_trace *trace;
	int fd;
	unsigned pid;
	unsigned port;		/* ours, in the proxy's set */
	unsigned serial;	/* this attachment's number, for its queues */
	int observe, gone, detaching, detached;
	int judge;		/* the pager waits for a verdict on each message */
	int nodata;		/* its copies come without out-of-line data */
	uint64_t missed, injected_failed, passed_self;
	char *target, *manager;
	struct strbuf in;	/* read from the socket, not a whole frame yet */
	int watched;		/* the socket is read with the links */
	struct aobject *objs;
	unsigned nobjs;
	struct akernel *kernels;
	unsigned nkernels;
	struct mo_engine_ops ops;	/* the messages' transport */
	struct mo_engine_ops copy_ops;	/* observe: copies, nothing to send */
	uint64_t next_token;
	struct aport *ports;
	unsigned nports;
	struct aport *answers;	/* ports the pager gave a kernel to answer on */
	unsigned nanswers;
	uint32_t next_port;	/* ids motrace chooses (MO_TAP_TRACER_IDS up) */
	struct akernel *injecting;	/* the kernel of the message being made */
	int handoff;		/* --listen/--to: objects said at the adopt */
	int adopt_state;	/* 0 waiting, 1 served, -1 refused (adopt_why) */
	int adopting;		/* waiting for the answer: an ERROR is the refusal */
	char adopt_why[200];
};

/* Attachments are numbered (their queues); objects and kernels take the
 * proxy's numbers (mo_proxy_number), across every attachment. */
static unsigned next_serial;
/* The attachments open. */
static struct mo_attach *open_list[64];
static unsigned nopen;

/* What travels with a message held by the pager. */
struct acarrier {
	uint64_t seq;
	void *frame;		/* the frame's memory (the regions point into it) */
	size_t len;
};


static int write_all(int fd, const void *buf, size_t n)
{
	const char *b = buf;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
	char *b = buf;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Sends one frame; a pager that went away is seen by the reader. */
static void send_frame(struct mo_attach *a, uint16_t type, uint64_t seq,
		       const void *body, size_t n)
{
	uint8_t stack[256], *f = stack;
	size_t len = (16 + n + 7) & ~(size_t)7;

	if (a->fd < 0 || a->detached)
		return;
	if (len > sizeof(stack) && !(f = malloc(len)))
		abort();
	memset(f, 0, len);
	put32(f, (uint32_t)len);
	put16(f + 4, type);
	put64(f + 8, seq);
	if (n)
		memcpy(f + 16, body, n);
	write_all(a->fd, f, len);
	if (f != stack)
		free(f);
}

/*
 * A frame's memory (its regions stay in it: the message's out-of-line
 * pointers point there, m->ool_local). From the heap, not vm_allocate: a
 * mapping made and unmapped for each frame cost an observer half its time.
 */
static uint8_t *frame_alloc(size_t len)
{
	return malloc(len);
}

/* Reads one frame into fresh memory; NULL at the end of the connection. */
static void *read_frame(int fd, size_t *lenp, char *err, size_t errlen)
{
	uint8_t h[16];
	uint32_t len;
	uint8_t *mem;

	if (read_all(fd, h, sizeof(h)) < 0) {
		snprintf(err, errlen, "the connection closed");
		return NULL;
	}
	len = get32(h);
	if (len < 16 || (len & 7) || len > MO_TAP_MAX_FRAME) {
		snprintf(err, errlen, "a frame of %u bytes is wrong", len);
		return NULL;
	}
	if (!(mem = frame_alloc(len))) {
		snprintf(err, errlen, "no memory for a frame of %u bytes", len);
		return NULL;
	}
	memcpy(mem, h, 16);
	if (read_all(fd, mem + 16, len - 16) < 0) {
		free(mem);
		snprintf(err, errlen, "the connection closed in a frame");
		return NULL;
	}
	*lenp = len;
	return mem;
}

static void frame_free(void *f, size_t len)
{
	(void)len;
	free(f);
}

/* At most this many frames go to the loop in one message. */
#define BATCH 64

/*
 * Sends the loop N frames (pointers and lengths in PAIRS, memory of this
 * process: the loop frees them), or the end of the connection (N 0).
 */
static int hand_over(mach_port_t port, const uint64_t *pairs, unsigned n)
{
	uint8_t msg[36 + 16 * BATCH];
	mach_msg_header_t *h = (mach_msg_header_t *)msg;
	uint32_t w = MACH_MSG_TYPE_INTEGER_64 | 64u << 8 | (2u * n) << 16 | 1u << 28;

	memset(msg, 0, 36);
	h->msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	h->msgh_remote_port = port;
	h->msgh_id = n ? ID_FRAME : ID_CLOSED;
	h->msgh_size = n ? 36 + 16 * n : 32;
	if (n) {
		memcpy(msg + 32, &w, 4);
		memcpy(msg + 36, pairs, 16 * n);
	}
	return mach_msg(h, MACH_SEND_MSG, h->msgh_size, 0, MACH_PORT_NULL,
			MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL) == MACH_MSG_SUCCESS ? 0 : -1;
}

/*
 * What the socket has, read by whichever thread reads the library's
 * links (mo_mach_watch_fd): the loop's own, blocked in mach_msg on the
 * proxy's set, most of the time, so that a frame costs no wake-up of
 * another thread. Every whole frame read goes to the attachment's port,
 * a burst in one message (a pager's burst is one turn of the loop).
 * It must not block: the socket is read without waiting.
 */
static void read_socket(void *arg)
{
	struct mo_attach *a = arg;
	uint64_t pairs[2 * BATCH];
	size_t off = 0;
	unsigned n = 0;
	ssize_t got;

	strbuf_grow(&a->in, 1 << 18);
	got = recv(a->fd, a->in.buf + a->in.len, 1 << 18, MSG_DONTWAIT);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0)
		goto end;
	a->in.len += (size_t)got;
	while (a->in.len - off >= 16) {
		uint32_t len = get32((uint8_t *)a->in.buf + off);
		uint8_t *mem;

		if (len < 16 || (len & 7) || len > MO_TAP_MAX_FRAME)
			goto end;
		if (a->in.len - off < len)
			break;
		if (!(mem = frame_alloc(len)))
			goto end;
		memcpy(mem, a->in.buf + off, len);
		pairs[2 * n] = (uint64_t)(uintptr_t)mem;
		pairs[2 * n + 1] = len;
		off += len;
		if (++n == BATCH) {
			if (hand_over(a->port, pairs, n) < 0)
				goto end;
			n = 0;
		}
	}
	if (n && hand_over(a->port, pairs, n) < 0)
		goto end;
	memmove(a->in.buf, a->in.buf + off, a->in.len - off);
	a->in.len -= off;
	return;
end:
	if (n)
		hand_over(a->port, pairs, n);
	strbuf_release(&a->in);
	mo_mach_unwatch_fd(a->fd, 0);
	a->watched = 0;
	hand_over(a->port, NULL, 0);
}

static struct aobject *object_by_id(struct mo_attach *a, uint32_t id)
{
	for (unsigned i = 0; i < a->nobjs; i++)
		if (a->objs[i].id == id)
			return &a->objs[i];
	return NULL;
}

static struct akernel *kernel_by_ctl(struct mo_attach *a, uint32_t ctl)
{
	for (unsigned i = a->nkernels; i-- > 0;)
		if (a->kernels[i].ctl == ctl && !a->kernels[i].gone)
			return &a->kernels[i];
	return NULL;
}

static struct akernel *kernel_add(struct mo_attach *a, uint32_t ctl,
				  unsigned object)
{
	struct akernel *k;

	a->kernels = realloc(a->kernels, (a->nkernels + 1) * sizeof(*k));
	if (!a->kernels)
		abort();
	k = &a->kernels[a->nkernels++];
	k->ctl = ctl;
	k->object = object;
	k->index = mo_proxy_number(a->proxy, 0);
	k->gone = 0;
	k->page_size = 4096;
	mo_proxy_kernels(a->proxy, 1);
	return k;
}

static void kernel_gone(struct mo_attach *a, struct akernel *k)
{
	if (k->gone)
		return;
	k->gone = 1;
	mo_proxy_kernels(a->proxy, -1);
}

static void op_forward(void *ctx, struct mo_pmsg *m)
{
	struct mo_attach *a = ctx;
	struct acarrier *c = m->carrier;
	uint8_t v[8] = { 0 };

	if (!c)
		return;
	put32(v, MO_TAP_PASS);
	send_frame(a, MO_TAP_VERDICT, c->seq, v, sizeof(v));
	frame_free(c->frame, c->len);
	free(c);
	m->carrier = NULL;
}

static void op_discard(void *ctx, struct mo_pmsg *m)
{
	struct mo_attach *a = ctx;
	struct acarrier *c = m->carrier;
	uint8_t v[8] = { 0 };

	if (!c)
		return;
	put32(v, MO_TAP_DROP);
	send_frame(a, MO_TAP_VERDICT, c->seq, v, sizeof(v));
	frame_free(c->frame, c->len);
	free(c);
	m->carrier = NULL;
}

static void op_patch(void *ctx, struct mo_pmsg *m, size_t off,
		     const void *bytes, size_t n)
{
	struct mo_attach *a = ctx;
	struct acarrier *c = m->carrier;
	uint8_t *b;

	if (!c || n > 4096)
		return;
	b = calloc(1, 8 + n);
	if (!b)
		abort();
	put32(b, (uint32_t)off);
	put32(b + 4, (uint32_t)n);
	memcpy(b + 8, bytes, n);
	send_frame(a, MO_TAP_PATCH, c->seq, b, 8 + n);
	free(b);
}

static void copy_forward(void *ctx, struct mo_pmsg *m)
{
	struct acarrier *c = m->carrier;

	(void)ctx;
	if (c) {
		frame_free(c->frame, c->len);
		free(c);
	}
	m->carrier = NULL;
}

struct ool_list {
	struct mo_attach *a;
	void *mem[16];
	uint64_t size[16];
	unsigned n;
};

/*
 * Ports for a message motrace makes: the pager's ids (mo_inject_names);
 * an answer's port is one the pager makes under an id motrace chooses.
 */
static uint32_t new_port(void *ctx)
{
	struct ool_list *l = ctx;
	struct mo_attach *a = l->a;
	struct aport *p;

	a->ports = realloc(a->ports, (a->nports + 1) * sizeof(*p));
	if (!a->ports)
		abort();
	p = &a->ports[a->nports++];
	p->id = MO_TAP_TRACER_IDS + ++a->next_port;
	p->kernel = a->injecting->index;
	p->object = a->injecting->object;
	return p->id;
}

static uint64_t ool_mem(void *ctx, uint64_t bytes)
{
	struct ool_list *l = ctx;
	void *p;

	if (l->n == 16 || !(p = calloc(1, bytes ? bytes : 1)))
		return 0;
	l->mem[l->n] = p;
	l->size[l->n++] = bytes;
	return (uint64_t)(uintptr_t)p;
}

static int op_has_kernel(void *ctx, unsigned kernel)
{
	struct mo_attach *a = ctx;

	for (unsigned i = 0; i < a->nkernels; i++)
		if (a->kernels[i].index == kernel)
			return 1;
	return 0;
}

static int op_inject(void *ctx, const struct mo_pmsg *trigger,
		     struct mo_pmsg *m, char *err, size_t errlen)
{
	struct mo_attach *a = ctx;
	struct akernel *k = NULL;
	struct ool_list ol = { .a = a, .n = 0 };
	struct mo_inject_names names = { 0 };
	struct strbuf out = STRBUF_INIT, body = STRBUF_INIT;
	struct mo_decoded d;
	uint8_t head[MO_TAP_MSG_HEAD] = { 0 };
	unsigned nool = 0;
	int r = -1;

	for (unsigned i = 0; i < a->nkernels; i++)
		if (a->kernels[i].index == trigger->kernel)
			k = &a->kernels[i];
	if (!k) {
		snprintf(err, errlen, "no kernel %u", trigger->kernel);
		return -1;
	}
	if (k->gone && m->dir == MO_M2K) {
		snprintf(err, errlen, "not sent: kernel %u is gone (it terminated object %u, or died)",
			 k->index, k->object);
		return -1;
	}
	a->injecting = k;
	if (a->detached || a->gone) {
		snprintf(err, errlen, "not sent: motrace is no longer attached");
		return -1;
	}
	names.control = k->ctl;
	names.reply_port = new_port;
	names.ool = ool_mem;
	names.ctx = &ol;
	if (m->dir == MO_M2K) {
		names.dest = k->ctl;
	} else {
		/* Towards the manager: its object port (a completion too). */
		for (unsigned i = 0; i < a->nobjs; i++)
			if (a->objs[i].index == k->object)
				names.dest = a->objs[i].id;
	}
	if (mo_inject_prepare(m, &names, &out, err, errlen) < 0)
		goto out;
	if (mo_decode((const uint8_t *)out.buf, out.len, MO_ABI_X86_64, &d) < 0) {
		snprintf(err, errlen, "%s", d.err);
		goto out;
	}
	for (unsigned i = 0; i < d.nitems; i++)
		nool += !d.items[i].is_inline && mo_item_bytes(&d.items[i]);
	put32(head + 12, (uint32_t)out.len);
	put32(head + 16, nool);
	strbuf_add(&body, head, sizeof(head));
	for (unsigned i = 0; i < d.nitems; i++) {
		uint8_t ann[16] = { 0 };

		if (d.items[i].is_inline || !mo_item_bytes(&d.items[i]))
			continue;
		put32(ann, d.items[i].data_off);
		put64(ann + 8, mo_item_bytes(&d.items[i]));
		strbuf_add(&body, ann, sizeof(ann));
	}
	strbuf_add(&body, out.buf, out.len);
	while (body.len & 7)
		strbuf_addch(&body, 0);
	for (unsigned i = 0; i < d.nitems; i++) {
		uint64_t addr, n;

		if (d.items[i].is_inline || !(n = mo_item_bytes(&d.items[i])))
			continue;
		addr = mo_item_ool_addr((const uint8_t *)out.buf, &d.items[i],
					MO_ABI_X86_64);
		strbuf_add(&body, (const void *)(uintptr_t)addr, n);
		while (body.len & 7)
			strbuf_addch(&body, 0);
	}
	send_frame(a, MO_TAP_INJECT, ++a->next_token, body.buf, body.len);
	m->queue = ((uint64_t)a->serial << 56) ^ names.dest;
	r = 0;
out:
	for (unsigned i = 0; i < ol.n; i++)
		free(ol.mem[i]);
	strbuf_release(&out);
	strbuf_release(&body);
	return r;
}

/*
 * The ports the pager gives a kernel to answer on (a reply_to, an RPC's
 * reply port): an answer that names no control port there
 * (change_completed, get_attributes' reply) is that kernel's, as the
 * proxy knows it from the reply proxy it made for the request. A port
 * given to two kernels names neither.
 */
static void answer_ports(struct mo_attach *a, const struct mo_pmsg *m,
			 const struct akernel *k, const uint8_t *buf)
{
	uint32_t ids[2] = { get32(buf + 8),
			    m->d.call.has & MO_CALL_REPLY ? m->d.call.reply : 0 };

	for (unsigned j = 0; j < 2; j++) {
		struct aport *p = NULL;

		if (!ids[j] || ids[j] == (uint32_t)MACH_PORT_DEAD)
			continue;
		for (unsigned i = 0; i < a->nanswers && !p; i++)
			if (a->answers[i].id == ids[j])
				p = &a->answers[i];
		if (!p) {
			a->answers = realloc(a->answers, (a->nanswers + 1) * sizeof(*p));
			if (!a->answers)
				abort();
			p = &a->answers[a->nanswers++];
			p->id = ids[j];
			p->kernel = k->index;
			p->object = k->object;
		} else if (p->kernel != k->index) {
			p->kernel = MO_KERNEL_UNKNOWN;
		}
	}
}

static int answered(struct mo_attach *a, struct mo_pmsg *m, uint32_t dest)
{
	for (unsigned i = 0; i < a->nanswers; i++)
		if (a->answers[i].id == dest && a->answers[i].kernel != MO_KERNEL_UNKNOWN) {
			m->kernel = a->answers[i].kernel;
			m->object = a->answers[i].object;
			return 1;
		}
	return 0;
}

/* The kernel and object a message speaks for, from its ports' ids. */
static void place(struct mo_attach *a, struct mo_pmsg *m, uint32_t dest,
		  const uint8_t *buf)
{
	const struct mo_decoded *d = &m->d;
	struct aobject *o;
	struct akernel *k = NULL;
	uint32_t ctl;

	m->kernel = MO_KERNEL_UNKNOWN;
	m->object = MO_OBJECT_UNKNOWN;
	for (unsigned i = 0; i < a->nports; i++)
		if (a->ports[i].id == dest) {
			m->kernel = a->ports[i].kernel;
			m->object = a->ports[i].object;
			return;
		}
	/*
	 * To a control port after its terminate moved the receive right to
	 * the manager: the manager's message crossed the terminate and lands
	 * in its own queue (GNU Mach vm/vm_object.c, vm_object_terminate),
	 * still a message to that kernel.
	 */
	if (m->dir == MO_K2M)
		for (unsigned i = a->nkernels; i-- > 0;)
			if (a->kernels[i].ctl == dest) {
				m->dir = MO_M2K;
				m->kernel = a->kernels[i].index;
				m->object = a->kernels[i].object;
				return;
			}
	if (m->dir == MO_M2K) {
		k = kernel_by_ctl(a, dest);
		for (unsigned i = a->nkernels; !k && i-- > 0;)
			if (a->kernels[i].ctl == dest)
				k = &a->kernels[i];
		if (k)
			answer_ports(a, m, k, buf);
	} else {
		/* memory_control, or copy's old_memory_control (decoded once). */
		ctl = d->call.has & MO_CALL_CONTROL ? d->call.control : 0;
		o = object_by_id(a, dest);
		if (ctl)
			k = kernel_by_ctl(a, ctl);
		if (!k && !o && !ctl && answered(a, m, dest))
			return;
		if (!k && o && ctl && d->schema && d->schema->id == MSGID_INIT) {
			k = kernel_add(a, ctl, o->index);
			k->page_size = mo_arg_u64(d, buf, "memory_object_page_size", 4096);
		}
		if (o)
			m->object = o->index;
	}
	if (k) {
		m->kernel = k->index;
		m->object = k->object;
		if (d->schema && d->schema->id == MSGID_TERMINATE &&
		    m->dir == MO_K2M)
			kernel_gone(a, k);
	}
}

static void on_msg(struct mo_attach *a, uint16_t flags, uint64_t seq,
		   void *frame, size_t flen)
{
	const uint8_t *b = (const uint8_t *)frame + 16;
	size_t n = flen - 16, pos = MO_TAP_MSG_HEAD, data;
	uint32_t msg_len, nool, missed;
	struct mo_pmsg *m;
	struct strbuf disp = STRBUF_INIT;
	struct acarrier *c;
	uint64_t now = mo_now(), st_pc[MO_STACK_MAX];
	uint32_t st_pid = 0, st_tid = 0;
	unsigned st_n = 0;

	if (n < MO_TAP_MSG_HEAD)
		goto bad;
	missed = get32(b + 8);
	msg_len = get32(b + 12);
	nool = get32(b + 16);
	if (nool > 64 || msg_len < 32 || pos + 16 * (size_t)nool > n ||
	    ((msg_len + 7) & ~7u) > n - pos - 16 * nool)
		goto bad;
	if (missed) {
		struct mo_model *mm = mo_trace_model(a->trace);

		a->missed += missed;
		mo_trace_note(a->trace, now,
			      "pid %u: %u message(s) not copied to motrace, which fell behind (%llu in all): the model starts again from what comes",
			      a->pid, missed, (unsigned long long)a->missed);
		/* What the kernels hold is unknown again: nothing is blamed on it. */
		for (unsigned i = 0; i < a->nkernels; i++) {
			struct akernel *k = &a->kernels[i];

			if (k->gone)
				continue;
			mo_model_kernel_gone(mm, k->index);
			mo_model_joined(mm, k->index, k->object, k->ctl,
					k->page_size, now);
		}
	}
	data = pos + 16 * nool + ((msg_len + 7) & ~7u);
	strbuf_add(&disp, b + pos + 16 * nool, msg_len);
	/*
	 * The regions stay in the frame: the message's pointers point there.
	 * A copy without data (MO_TAP_F_NODATA: nothing here reads it) has
	 * null pointers, and the sizes the pager saw.
	 */
	for (uint32_t i = 0; i < nool; i++) {
		uint32_t off = get32(b + pos + 16 * i);
		uint64_t size = get64(b + pos + 16 * i + 8);
		uint64_t addr = (uint64_t)(uintptr_t)(b + data);

		if (off > msg_len - 8)
			goto bad;
		if (flags & MO_TAP_F_NODATA) {
			memset(disp.buf + off, 0, 8);
			continue;
		}
		if (size > n - data)
			goto bad;
		memcpy(disp.buf + off, &addr, 8);
		data += (size + 7) & ~(uint64_t)7;
	}
	/* -k: the sender's stack, a STACK frame's body (doc/wire.md). */
	if (flags & MO_TAP_F_STACK) {
		if (data > n || n - data < 8 || (n - data - 8) % 8 ||
		    (n - data - 8) / 8 > MO_STACK_MAX)
			goto bad;
		st_pid = get32(b + data);
		st_tid = get32(b + data + 4);
		st_n = (unsigned)((n - data - 8) / 8);
		for (unsigned i = 0; i < st_n; i++)
			st_pc[i] = get64(b + data + 8 + 8 * i);
	}
	m = mo_pmsg_new(flags & MO_TAP_F_OUT ? MO_M2K : MO_K2M, 0, 0,
			((uint64_t)a->serial << 56) ^ get64(b), now, disp.buf,
			disp.len, MO_ABI_X86_64, NULL);
	strbuf_release(&disp);
	m->ool_local = !(flags & MO_TAP_F_NODATA);
	if ((flags & MO_TAP_F_STACK) && mo_proxy_stacks(a->proxy))
		m->stack = mo_stack_new(mo_proxy_stacks(a->proxy), st_pid,
					st_tid, st_pc, st_n);
	place(a, m, get32((const uint8_t *)m->bytes.buf + 16),
	      (const uint8_t *)m->bytes.buf);
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->seq = seq;
	c->frame = frame;
	c->len = flen;
	m->carrier = c;
	if (flags & MO_TAP_F_ANSWER) {
		/* The answer to a message motrace made: logged, kept here. */
		m->carrier = NULL;
		mo_engine_consumed(a->engine, m);
		frame_free(c->frame, c->len);
		free(c);
		return;
	}
	if ((flags & MO_TAP_F_COPY) || a->detaching) {
		/* Delivered by the pager already (or it passes it, detaching). */
		m->via = &a->copy_ops;
		mo_engine_passed(a->engine, m);
		return;
	}
	m->via = &a->ops;
	mo_engine_message(a->engine, m);
	return;
bad:
	mo_trace_note(a->trace, now, "pid %u sent a message frame that does not add up: ignored",
		      a->pid);
	frame_free(frame, flen);
}

static void on_object(struct mo_attach *a, uint32_t id, const uint8_t *b,
		      size_t n)
{
	struct aobject *o;
	char addr[600];

	snprintf(addr, sizeof(addr), "%.*s", (int)strnlen((const char *)b, n), b);
	a->objs = realloc(a->objs, (a->nobjs + 1) * sizeof(*o));
	if (!a->objs)
		abort();
	o = &a->objs[a->nobjs++];
	o->id = id;
	o->index = mo_proxy_number(a->proxy, 1);
	o->addr = strdup(addr);
	o->said = 0;
	if (a->handoff) {
		/* Before the adopt, mo_attach_adopt says them. */
		for (unsigned i = 0; i + 1 < a->nobjs; i++)
			if (a->objs[i].said) {
				o->said = 1;
				mo_trace_note(a->trace, mo_now(),
					      "object %u: kernels at %s reach pid %u (its traffic is traced too)",
					      o->index, addr, a->pid);
				break;
			}
		return;
	}
	if (a->manager)
		mo_trace_note(a->trace, mo_now(), "object %u: kernels at %s reach %s",
			      o->index, addr, a->manager);
	else
		mo_trace_note(a->trace, mo_now(), "object %u: kernels at %s reach pid %u (attached)",
			      o->index, addr, a->pid);
}

static void on_kernel(struct mo_attach *a, uint32_t ctl, const uint8_t *b,
		      size_t n)
{
	struct aobject *o;
	struct akernel *k;
	uint64_t page_size;

	if (n < 24 || !(o = object_by_id(a, (uint32_t)get64(b))))
		return;
	page_size = get64(b + 16);
	k = kernel_add(a, ctl, o->index);
	k->page_size = page_size;
	mo_model_joined(mo_trace_model(a->trace), k->index, o->index, ctl,
			page_size, mo_now());
	mo_trace_note(a->trace, mo_now(),
		      "kernel %u: object %u, control port %u, page size 0x%llx, set up before motrace attached: its pages are unknown until the traffic shows them",
		      k->index, o->index, ctl, (unsigned long long)page_size);
}

/* The pager's answer to an ADOPT (mo_attach_adopt). */
static void adopted(struct mo_attach *a, const uint8_t *b, size_t n)
{
	if (n < 8)
		return;
	a->adopt_state = get32(b) ? -1 : 1;
	snprintf(a->adopt_why, sizeof(a->adopt_why), "%.*s",
		 (int)strnlen((const char *)b + 8, n - 8), (const char *)b + 8);
}

/* One frame from the pager (the loop's thread). */
static void on_frame(struct mo_attach *a, void *f, size_t len)
{
	const uint8_t *h = f;
	uint16_t type = get16(h + 4), flags = get16(h + 6);
	uint64_t seq = get64(h + 8);
	const uint8_t *b = h + 16;
	size_t n = len - 16;

	switch (type) {
	case MO_TAP_MSG:
		on_msg(a, flags, seq, f, len);
		return;
	case MO_TAP_OBJECT:
		on_object(a, (uint32_t)seq, b, n);
		break;
	case MO_TAP_KERNEL:
		on_kernel(a, (uint32_t)seq, b, n);
		break;
	case MO_TAP_INJECTED:
		if (n >= 8 && get32(b)) {
			a->injected_failed++;
			mo_trace_note(a->trace, mo_now(),
				      "pid %u did not send injected message %llu: %s",
				      a->pid, (unsigned long long)seq,
				      mo_trace_send_error((int)get32(b)));
		}
		break;
	case MO_TAP_KERNEL_GONE: {
		struct akernel *k = kernel_by_ctl(a, (uint32_t)seq);

		if (k) {
			/*
			 * Its control port died without a terminate (killed, or
			 * its link broke): what it held is nowhere now.
			 */
			uint64_t pages = mo_model_kernel_gone(mo_trace_model(a->trace),
							      k->index);

			kernel_gone(a, k);
			mo_trace_note(a->trace, mo_now(),
				      "kernel %u went away: the model forgets its %llu page(s)",
				      k->index, (unsigned long long)pages);
		}
		break;
	}
	case MO_TAP_UNDELIVERED:
		if (n >= 12) {
			uint32_t dest = get32(b + 8);
			char what[64];

			snprintf(what, sizeof(what), "port %u", dest);
			for (unsigned i = 0; i < a->nkernels; i++)
				if (a->kernels[i].ctl == dest)
					snprintf(what, sizeof(what), "kernel %u's control port",
						 a->kernels[i].index);
			for (unsigned i = 0; i < a->nobjs; i++)
				if (a->objs[i].id == dest)
					snprintf(what, sizeof(what), "the manager of object %u",
						 a->objs[i].index);
			mo_trace_send_failed(a->trace, mo_now(), (int32_t)get32(b + 4),
					     what, (int)get32(b));
		}
		break;
	case MO_TAP_ADOPTED:
		adopted(a, b, n);
		break;
	case MO_TAP_DETACHED:
		a->detached = 1;
		if (n >= 8)
			a->passed_self = get64(b);
		break;
	case MO_TAP_ERROR:
		if (a->adopting) {
			/* A library from before ADOPT: "frame type unknown". */
			a->adopt_state = -1;
			snprintf(a->adopt_why, sizeof(a->adopt_why),
				 "its libmotrace-mach does not take a listening socket: %.*s",
				 (int)strnlen((const char *)b, n), b);
			break;
		}
		mo_trace_note(a->trace, mo_now(), "pid %u: %.*s", a->pid,
			      (int)strnlen((const char *)b, n), b);
		break;
	case MO_TAP_READY:
	case MO_TAP_HELLO:
		break;
	default:
		mo_trace_note(a->trace, mo_now(), "pid %u sent frame type %u, which motrace does not know: ignored",
			      a->pid, type);
	}
	frame_free(f, len);
}

/* "info objects" and "info kernels" (mo_proxy_add_info). */
static void info(void *ctx, const char *what, struct strbuf *out)
{
	struct mo_attach *a = ctx;

	if (!strcmp(what, "objects")) {
		for (unsigned i = 0; i < a->nobjs; i++) {
			unsigned n = 0;

			for (unsigned k = 0; k < a->nkernels; k++)
				n += a->kernels[k].object == a->objs[i].index &&
				     !a->kernels[k].gone;
			strbuf_addf(out, "object %u: published at %s by pid %u, port %u; %u kernel(s)\n",
				    a->objs[i].index, a->objs[i].addr, a->pid,
				    a->objs[i].id, n);
		}
		return;
	}
	if (strcmp(what, "kernels"))
		return;
	for (unsigned i = 0; i < a->nkernels; i++)
		strbuf_addf(out, "kernel %u: object %u, control port %u (pid %u's)%s\n",
			    a->kernels[i].index, a->kernels[i].object,
			    a->kernels[i].ctl, a->pid,
			    a->kernels[i].gone ? ", gone" : "");
}

static void closed(struct mo_attach *a)
{
	if (a->gone)
		return;
	a->gone = 1;
	for (unsigned i = 0; i < a->nkernels; i++)
		kernel_gone(a, &a->kernels[i]);
	if (a->handoff) {
		/* As the proxy says it of a manager that died under it. */
		for (unsigned i = 0; i < a->nobjs && !a->detaching; i++)
			if (a->objs[i].said)
				mo_trace_note(a->trace, mo_now(),
					      "the manager of object %u went away",
					      a->objs[i].index);
		return;
	}
	if (!a->detaching)
		mo_trace_note(a->trace, mo_now(), "pid %u closed its control socket (it exited?)",
			      a->pid);
}

/*
 * With nothing that could stop or change a message (mo_engine_judging),
 * the pager need not wait for motrace: it sends copies, as observing,
 * and no message makes the two extra hops to motrace and back. Asked
 * again after each burst of frames: a rule or a stop turns it back on.
 */
static void judge_as_needed(struct mo_attach *a)
{
	uint8_t v[8] = { 0 };
	int j, nodata;

	if (a->gone || a->detaching || a->detached)
		return;
	/*
	 * -k: a sender's stack is read from its process (tracer/stack.c),
	 * which must still be there: a kernel waits for its message's verdict.
	 */
	j = !a->observe &&
	    (mo_engine_judging(a->engine) || mo_proxy_stacks(a->proxy));
	/* Copies need no data when nothing reads it (no recording). */
	nodata = !mo_trace_wants_data(a->trace);
	if (j == a->judge && nodata == a->nodata)
		return;
	put32(v, (uint32_t)j);
	put32(v + 4, nodata ? MO_TAP_JUDGE_NODATA : 0);
	send_frame(a, MO_TAP_JUDGE, 0, v, sizeof(v));
	a->judge = j;
	a->nodata = nodata;
}

static void on_port(void *ctx, uint8_t *msg, size_t len)
{
	struct mo_attach *a = ctx;
	mach_msg_header_t *h = (mach_msg_header_t *)msg;
	uint32_t w, n;

	if (h->msgh_id == ID_CLOSED || len < 36) {
		closed(a);
		return;
	}
	memcpy(&w, msg + 32, 4);
	n = (w >> 16 & 0xfff) / 2;
	for (uint32_t i = 0; i < n && 36 + 16 * (size_t)(i + 1) <= len; i++) {
		uint64_t addr, flen;

		memcpy(&addr, msg + 36 + 16 * i, 8);
		memcpy(&flen, msg + 44 + 16 * i, 8);
		on_frame(a, (void *)(uintptr_t)addr, (size_t)flen);
	}
	judge_as_needed(a);
}

void mo_attach_path(unsigned pid, char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char proc[64];
	struct stat st;
	unsigned uid = (unsigned)getuid();

	/* The pager's own folder: its uid's (root may attach to anyone's). */
	snprintf(proc, sizeof(proc), "/proc/%u", pid);
	if (stat(proc, &st) == 0)
		uid = (unsigned)st.st_uid;
	if (rt && *rt && uid == (unsigned)getuid()) {
		snprintf(buf, len, "%s/motrace/%u", rt, pid);
		if (stat(buf, &st) == 0)
			return;
	}
	snprintf(buf, len, MO_TAP_DIR_FMT "/%u", uid, pid);
	if (stat(buf, &st) == 0)
		return;
	snprintf(buf, len, "/run/user/%u/motrace/%u", uid, pid);
	if (stat(buf, &st) < 0)
		snprintf(buf, len, MO_TAP_DIR_FMT "/%u", uid, pid);
}

static int parse_pid(const char *s, unsigned *pid)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || !v || v > 0x7fffffff)
		return -1;
	*pid = (unsigned)v;
	return 0;
}

/*
 * Why an attach failed: on standard error ("motrace: -p TARGET: ..."),
 * or into attach_why when the caller asked for the reason (a handoff
 * that falls back to the relay says it its own way).
 */
static char *attach_why;
static size_t attach_whylen;

static void attach_err(const char *target, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void attach_err(const char *target, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (attach_why) {
		vsnprintf(attach_why, attach_whylen, fmt, ap);
	} else {
		fprintf(stderr, "motrace: -p %s: ", target);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* Connects to the control socket of TARGET; -1 after a message. */
static int connect_target(struct mo_attach *a, const char *target, int quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[sizeof(sa.sun_path)], proc[64];
	struct stat st;
	int fd;

	if (!strncmp(target, "unix:", 5)) {
		if (strlen(target + 5) >= sizeof(path)) {
			attach_err(target, "the path is too long");
			return -1;
		}
		strcpy(path, target + 5);
	} else if (parse_pid(target, &a->pid) == 0) {
		snprintf(proc, sizeof(proc), "/proc/%u", a->pid);
		if (stat(proc, &st) < 0) {
			attach_err(target, "no such process");
			return -1;
		}
		mo_attach_path(a->pid, path, sizeof(path));
	} else {
		attach_err(target, "give a pid or unix:PATH (a control socket)");
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (quiet && (e == ENOENT || e == ECONNREFUSED))
			return -1;
		if (e == ENOENT && a->pid)
			attach_err(target, "pid %u has no control socket (%s): it is not a pager on libmotrace-mach, or it has published no address yet", a->pid, path);
		else if (e == EACCES || e == EPERM)
			attach_err(target, "%s: %s (the pager runs as another user; only that user or root may attach)", path, strerror(e));
		else if (e == ECONNREFUSED)
			attach_err(target, "%s: nothing listens there: its process is gone", path);
		else
			attach_err(target, "%s: %s", path,
				strerror(e));
		return -1;
	}
	return fd;
}

static struct mo_attach *attach_open(struct mo_proxy *p, const char *target,
				     const struct mo_attach_opts *opts);

struct mo_attach *mo_attach_open(struct mo_proxy *p, const char *target,
				 const struct mo_attach_opts *opts)
{
	struct mo_attach *a;

	attach_why = opts->why;
	attach_whylen = opts->whylen;
	if (attach_why && attach_whylen)
		attach_why[0] = '\0';
	a = attach_open(p, target, opts);
	attach_why = NULL;
	return a;
}

static struct mo_attach *attach_open(struct mo_proxy *p, const char *target,
				     const struct mo_attach_opts *opts)
{
	struct mo_attach *a = calloc(1, sizeof(*a));
	uint8_t hello[12];
	char err[120];
	mach_port_t port;
	int ready = 0;

	if (!a)
		abort();
	strbuf_init(&a->in, 0);
	a->proxy = p;
	a->engine = mo_proxy_engine(p);
	a->trace = a->engine->trace;
	a->observe = opts->observe;
	a->judge = !a->observe;
	a->target = strdup(target);
	a->manager = opts->manager ? strdup(opts->manager) : NULL;
	a->handoff = opts->handoff;
	a->serial = ++next_serial;
	a->ops = (struct mo_engine_ops){ .forward = op_forward,
					 .discard = op_discard,
					 .inject = op_inject,
					 .patch = op_patch,
					 .has_kernel = op_has_kernel, .ctx = a };
	a->copy_ops = (struct mo_engine_ops){ .forward = copy_forward,
					      .discard = copy_forward,
					      .ctx = a };
	a->fd = connect_target(a, target, opts->quiet);
	if (a->fd < 0)
		goto fail;
	if (!a->observe && mo_engine_add_ops(a->engine, &a->ops) < 0) {
		attach_err(target, "too many pagers at once");
		goto fail;
	}
	put32(hello, MO_TAP_VERSION);
	put32(hello + 4, a->observe ? MO_TAP_OBSERVE : MO_TAP_DIVERT);
	put32(hello + 8, mo_proxy_stacks(p) ? MO_TAP_HELLO_STACKS : 0);
	send_frame(a, MO_TAP_HELLO, 0, hello, sizeof(hello));
	/* The answer and the announcements, before the loop takes over. */
	while (!ready) {
		struct pollfd pf = { a->fd, POLLIN, 0 };
		size_t len;
		void *f;
		uint16_t type;

		if (poll(&pf, 1, 5000) <= 0) {
			attach_err(target, "no answer within 5 s");
			goto fail;
		}
		f = read_frame(a->fd, &len, err, sizeof(err));
		if (!f) {
			attach_err(target, "%s before it answered", err);
			goto fail;
		}
		type = get16((uint8_t *)f + 4);
		if (type == MO_TAP_ERROR) {
			attach_err(target, "refused: %.*s",
				(int)strnlen((char *)f + 16, len - 16), (char *)f + 16);
			frame_free(f, len);
			goto fail;
		}
		if (type == MO_TAP_HELLO && len >= 24) {
			unsigned pid = get32((uint8_t *)f + 20);

			if (a->pid && pid != a->pid) {
				attach_err(target, "the socket is pid %u's", pid);
				frame_free(f, len);
				goto fail;
			}
			a->pid = pid;
		}
		ready = type == MO_TAP_READY;
		on_frame(a, f, len);
	}
	port = mo_proxy_add_port(p, on_port, a);
	if (mach_port_insert_right(mach_task_self(), port, port,
				   MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS)
		goto fail;
	a->port = port;
	a->watched = 1;
	mo_mach_watch_fd(a->fd, read_socket, a);
	mo_proxy_add_info(p, info, a);
	/*
	 * Judging and data said now, not after the first burst: a motrace
	 * that gets no CPU time before the traffic starts (at idle priority,
	 * or stopped) is sent copies without data from the first on.
	 */
	judge_as_needed(a);
	if (nopen < sizeof(open_list) / sizeof(open_list[0]))
		open_list[nopen++] = a;
	/* A pager motrace started is the session's own: its pid says nothing. */
	if (!a->manager && !a->handoff)
		mo_trace_note(a->trace, mo_now(), "attached to pid %u%s", a->pid,
			      a->observe ? " (observing: copies only)" : "");
	return a;
fail:
	mo_attach_free(a);
	return NULL;
}

int mo_attach_gone(const struct mo_attach *a)
{
	return a->gone;
}

unsigned mo_attach_kernels(const struct mo_attach *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->nkernels; i++)
		n += !a->kernels[i].gone;
	return n;
}

int mo_attach_detach(struct mo_attach *a, int drop)
{
	struct mo_engine *e = a->engine;
	uint64_t until, due;

	if (a->gone || a->detached || a->fd < 0)
		return 0;
	/*
	 * What motrace keeps goes first: held messages are let go (or
	 * dropped), delayed ones go now, in their order.
	 */
	if (drop) {
		unsigned id;

		while ((id = mo_engine_first_held(e)))
			if (mo_engine_drop_held(e, id, mo_now()) < 0)
				break;
	} else {
		mo_engine_let_go(e, 0, mo_now());
	}
	while ((due = mo_sched_next_due(&e->sched)) != UINT64_MAX)
		mo_engine_tick(e, due > mo_now() ? due : mo_now());
	a->detaching = 1;
	send_frame(a, MO_TAP_DETACH, 0, NULL, 0);
	until = mo_now() + 5000000000ULL;
	while (!a->detached && !a->gone && mo_now() < until)
		mo_proxy_drain(a->proxy, 100);
	if (!a->detached && !a->gone) {
		fprintf(stderr, "motrace: pid %u did not answer the detach within 5 s; closing (it passes what it holds)\n",
			a->pid);
		return -1;
	}
	if (a->detached && (!a->manager || a->passed_self))
		mo_trace_note(a->trace, mo_now(),
			      a->passed_self ? "detached from pid %u: it passed %llu message(s) motrace had not judged yet"
			      : "detached from pid %u",
			      a->pid, (unsigned long long)a->passed_self);
	return 0;
}

void mo_attach_info(const struct mo_attach *a, struct strbuf *out)
{
	strbuf_addf(out, "pid %u (%s): %s%s, %u object(s), %u kernel(s)",
		    a->pid, a->target, a->observe ? "observing" : "attached",
		    a->gone ? ", gone" : a->detached ? ", detached" : "",
		    a->nobjs, a->nkernels);
	if (a->missed)
		strbuf_addf(out, ", %llu copies missed",
			    (unsigned long long)a->missed);
	strbuf_addch(out, '\n');
}

int mo_attach_detached(const struct mo_attach *a)
{
	return a->detached;
}

unsigned mo_attach_pid(const struct mo_attach *a)
{
	return a->pid;
}

unsigned mo_attach_count(void)
{
	return nopen;
}

struct mo_attach *mo_attach_nth(unsigned i)
{
	return i < nopen ? open_list[i] : NULL;
}

void mo_attach_free(struct mo_attach *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < nopen; i++)
		if (open_list[i] == a) {
			memmove(open_list + i, open_list + i + 1,
				(nopen - i - 1) * sizeof(open_list[0]));
			nopen--;
			break;
		}
	mo_engine_remove_ops(a->engine, &a->ops);
	if (a->watched)
		mo_mach_unwatch_fd(a->fd, 0);
	strbuf_release(&a->in);
	if (a->fd >= 0)
		close(a->fd);
	if (a->port)
		mo_proxy_drop_port(a->proxy, a->port);
	for (unsigned i = 0; i < a->nobjs; i++)
		free(a->objs[i].addr);
	free(a->objs);
	free(a->kernels);
	free(a->ports);
	free(a->answers);
	free(a->target);
	free(a->manager);
	free(a);
}

/*
 * --listen/--to handed to the pager (cli/handoff.c; doc/attach.md,
 * "--listen and --to"): the listening socket goes over the control
 * socket (SCM_RIGHTS) with an ADOPT frame naming the object it serves.
 */

/* "tcp:HOST:PORT" split; 0 if ADDR is not one. */
static int tcp_split(const char *addr, char *host, size_t hlen, unsigned *port)
{
	const char *colon;
	size_t n;

	if (strncmp(addr, "tcp:", 4) || !(colon = strrchr(addr + 4, ':')))
		return 0;
	n = (size_t)(colon - (addr + 4));
	if (n >= 2 && addr[4] == '[' && colon[-1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= hlen)
		return 0;
	memcpy(host, addr + 4, n);
	host[n] = '\0';
	*port = (unsigned)strtoul(colon + 1, NULL, 10);
	return 1;
}

static int host_local(const char *h)
{
	return !*h || !strncmp(h, "127.", 4) || !strcmp(h, "::1") ||
	       !strcmp(h, "localhost") || !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
}

/*
 * Is the pager's address THEIRS (as it published it, a unix: path
 * relative to its own folder) the one motrace reached at TO?
 */
static int same_address(const struct mo_attach *a, const char *theirs,
			const char *to)
{
	char h1[256], h2[256], path[4200];
	unsigned p1, p2;
	struct stat s1, s2;

	if (!strcmp(theirs, to))
		return 1;
	if (!strncmp(theirs, "unix:", 5) && !strncmp(to, "unix:", 5)) {
		if (theirs[5] == '/')
			snprintf(path, sizeof(path), "%s", theirs + 5);
		else
			snprintf(path, sizeof(path), "/proc/%u/cwd/%s", a->pid, theirs + 5);
		return stat(path, &s1) == 0 && stat(to + 5, &s2) == 0 &&
		       s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino;
	}
	if (tcp_split(theirs, h1, sizeof(h1), &p1) &&
	    tcp_split(to, h2, sizeof(h2), &p2) && p1 == p2)
		return !strcmp(h1, h2) || (host_local(h1) && host_local(h2));
	return 0;
}

/* Sends the ADOPT frame with LFD; -1 if the socket would not take it. */
static int send_adopt(struct mo_attach *a, uint32_t id, int lfd,
		      const char *listen, const unsigned char *key)
{
	size_t n = strlen(listen) + 1, len = (16 + 16 + n + 7) & ~(size_t)7;
	uint8_t *f = calloc(1, len);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	struct cmsghdr *h;
	ssize_t w;
	int r = 0;

	if (!f)
		abort();
	put32(f, (uint32_t)len);
	put16(f + 4, MO_TAP_ADOPT);
	put16(f + 6, (key ? MO_TAP_ADOPT_KEY : 0) | (lfd < 0 ? MO_TAP_ADOPT_ASK : 0));
	put64(f + 8, id);
	if (key)
		memcpy(f + 16, key, 16);
	memcpy(f + 32, listen, n);
	memset(&c, 0, sizeof(c));
	if (lfd < 0) {
		r = write_all(a->fd, f, len);
		free(f);
		return r;
	}
	h = CMSG_FIRSTHDR(&mh);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &lfd, sizeof(int));
	/* The descriptor goes with the frame's first bytes; the rest after. */
	iov = (struct iovec){ f, len };
	do
		w = sendmsg(a->fd, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w <= 0 || (w < (ssize_t)len && write_all(a->fd, f + w, len - (size_t)w) < 0))
		r = -1;
	memset(f, 0, len);
	free(f);
	return r;
}

int mo_attach_adopt(struct mo_attach *a, int lfd, const char *listen,
		    const char *to, const unsigned char *key, char *why,
		    size_t whylen)
{
	struct aobject *o = NULL;
	uint64_t until;

	for (unsigned i = 0; !o && i < a->nobjs; i++)
		if (same_address(a, a->objs[i].addr, to))
			o = &a->objs[i];
	if (!o) {
		snprintf(why, whylen, "pid %u publishes no object at %s", a->pid, to);
		return -1;
	}
	a->adopt_state = 0;
	a->adopt_why[0] = '\0';
	if (send_adopt(a, o->id, lfd, listen, key) < 0) {
		snprintf(why, whylen, "pid %u's control socket closed", a->pid);
		return -1;
	}
	a->adopting = 1;
	until = mo_now() + 5000000000ULL;
	while (!a->adopt_state && !a->gone && mo_now() < until)
		mo_proxy_drain(a->proxy, 100);
	a->adopting = 0;
	if (a->adopt_state != 1) {
		snprintf(why, whylen, "pid %u %s%s", a->pid,
			 a->adopt_state < 0 ? "cannot serve it: " :
			 a->gone ? "closed its control socket" : "did not answer within 5 s",
			 a->adopt_state < 0 ? a->adopt_why : "");
		return -1;
	}
	if (lfd < 0)
		return 0;	/* asked only */
	o->said = 1;
	mo_trace_note(a->trace, mo_now(),
		      "object %u: kernels at %s reach the manager at %s (handed to pid %u: ending motrace detaches)",
		      o->index, listen, to, a->pid);
	for (unsigned i = 0; i < a->nobjs; i++)
		if (!a->objs[i].said) {
			a->objs[i].said = 1;
			mo_trace_note(a->trace, mo_now(),
				      "object %u: kernels at %s reach pid %u (its traffic is traced too)",
				      a->objs[i].index, a->objs[i].addr, a->pid);
		}
	return 0;
}
