/*
 * mach/control.c: the control socket and the tap (doc/attach.md; the
 * frames are in mach/control.h and doc/wire.md, "The control socket").
 *
 * A process that publishes an address listens on a Unix socket named by
 * its pid in $XDG_RUNTIME_DIR/motrace/ (or /tmp/motrace-UID/), mode 0600,
 * for one tracer at a time of its own uid or root (SO_PEERCRED). Once a
 * tracer attached, every message that reaches a tapped port (a published
 * port; a port the process gave a kernel to answer on) or leaves for one
 * (a kernel's control port, learnt from memory_object_init) goes to the
 * tracer as a frame while the library keeps the message itself: it is
 * delivered, dropped or sent rewritten when the tracer says, in the order
 * of the verdicts but never ahead of an undecided message to the same
 * port. The tracer is never the only copy: when its socket
 * closes without a DETACH (the tracer was killed, even with SIGKILL),
 * every message held is delivered in order, as if passed. In observe mode
 * the frames are copies and the message goes on at once; a tracer that
 * falls behind loses copies, never slows the process down, and is told
 * how many it missed.
 *
 * One thread per process serves the socket; everything it shares with
 * the rest of the library is under mo_lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <mach.h>
#include <mach/motrace.h>

#include "mach/control.h"
#include "mach/link.h"

/* Past this many bytes waiting for an observing tracer, copies are dropped. */
#define OBSERVE_QUEUE_MAX (4u << 20)
/* How long copies may wait to go out together. */
#define OBSERVE_DELAY_MS 5

/* memory_object.defs (GNU Mach include/mach/memory_object.defs). */
#define ID_INIT 2200
#define ID_TERMINATE 2201

struct held {
	struct held *next;
	uint64_t seq;
	void *queue;		/* the port, or its port set: the order to keep */
	struct kmsg *m;
	int decided;		/* MO_TAP_PASS or MO_TAP_DROP, 0 while undecided */
};

struct tobject {
	struct kport *port;	/* a reference */
	char *addr;
};

struct tkernel {
	struct kport *object, *ctl, *name;	/* references (name may be NULL) */
	uint64_t page_size;
};

static struct {
	int started;
	int lfd;		/* the control socket */
	int fd;			/* the tracer's connection, or -1 */
	int mode;		/* enum mo_tap_mode while attached, else 0 */
	int judge;		/* MO_TAP_DIVERT: every message waits for a verdict */
	int nodata;		/* copies go without their regions' data */
	int stacks;		/* the tracer asked for senders' stacks (-k) */
	int draining;		/* a detach passes what is held: keep, do not frame */
	int closing;		/* detached: close once the queue is written */
	int wake[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t next_id;
	struct idmap *ids;	/* tap id -> kport (no reference: mo_tap_forget) */
	struct held *held, **held_tail;
	uint64_t seq, missed, passed_self;
	struct strbuf outq;	/* frames for the tracer the socket did not take */
	size_t outq_off;
	int out_full;		/* the socket took no more: written on POLLOUT */
	struct tobject *objs;
	unsigned nobjs;
	struct tkernel *kernels;
	unsigned nkernels;
	uint32_t *dead_names;	/* tracer ports answered: receive rights to drop */
	unsigned ndead, capdead;
	pthread_cond_t attached;
	int session;		/* MOTRACE_TAP_SESSION: exit when all are gone */
	int ever;		/* a tracer attached once */
	int tried;		/* tap_start ran */
	uint64_t observe_since;	/* ms: the oldest copy waiting to be written */
	uint64_t last;		/* ms: when a tapped message last passed */
} tap = { .lfd = -1, .fd = -1, .held_tail = &tap.held,
	  .attached = PTHREAD_COND_INITIALIZER };

int mo_tap_live;
static __thread int tap_thread;	/* the control thread: its sends bypass the tap */

static uint32_t tap_id(struct kport *p)
{
	if (!p)
		return 0;
	if (p->kind == KP_DEAD)
		return (uint32_t)MACH_PORT_DEAD;
	if (!p->tapid) {
		if (!tap.ids)
			tap.ids = mo_idmap_new();
		p->tapid = ++tap.next_id;
		mo_idmap_put(tap.ids, p->tapid, p);
	}
	return p->tapid;
}

void mo_tap_forget(struct kport *p)
{
	if (tap.ids && mo_idmap_get(tap.ids, p->tapid) == p)
		mo_idmap_del(tap.ids, p->tapid);
	p->tapid = 0;
}

static void wake_thread(void)
{
	char c = 1;

	/* A full pipe wakes it all the same. */
	if (tap.started && write(tap.wake[1], &c, 1) < 0)
		return;
}

/*
 * Starts a frame in OUT; returns where its body begins. With ZERO the
 * body is zeroed, else only the last 8 bytes (the padding): the caller
 * writes every other byte.
 */
static uint8_t *frame_start(struct strbuf *out, uint16_t type, uint16_t flags,
			    uint64_t seq, size_t body, int zero)
{
	size_t len = (MO_TAP_HEADER + body + 7) & ~(size_t)7;
	size_t at = out->len;
	uint8_t *f;

	strbuf_grow(out, len);
	f = (uint8_t *)out->buf + at;
	if (zero)
		memset(f, 0, len);
	else
		memset(f + len - 8, 0, 8);
	put32(f, (uint32_t)len);
	put16(f + 4, type);
	put16(f + 6, flags);
	put64(f + 8, seq);
	out->len = at + len;
	out->buf[out->len] = '\0';
	return f + MO_TAP_HEADER;
}

static uint8_t *frame_add(struct strbuf *out, uint16_t type, uint16_t flags,
			  uint64_t seq, size_t body)
{
	return frame_start(out, type, flags, seq, body, 1);
}

/*
 * Writes what the queue holds without blocking; mo_lock held. Once the
 * socket is full, nothing is tried until the control thread sees POLLOUT
 * (and clears out_full): a tracer that falls behind costs the threads
 * that queue for it no system call, not one a message.
 */
static void try_flush(void)
{
	if (tap.out_full)
		return;
	while (tap.fd >= 0 && tap.outq_off < tap.outq.len) {
		ssize_t n = send(tap.fd, tap.outq.buf + tap.outq_off,
				 tap.outq.len - tap.outq_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* Full (or broken: the thread sees it): it waits for POLLOUT. */
			tap.out_full = 1;
			wake_thread();
			return;
		}
		tap.outq_off += (size_t)n;
	}
	if (tap.outq_off == tap.outq.len) {
		strbuf_reset(&tap.outq);
		tap.outq_off = 0;
	} else if (tap.outq_off >= 65536 && tap.outq_off >= tap.outq.len / 2) {
		/* A queue that never empties does not grow for it. */
		memmove(tap.outq.buf, tap.outq.buf + tap.outq_off,
			tap.outq.len - tap.outq_off);
		tap.outq.len -= tap.outq_off;
		tap.outq.buf[tap.outq.len] = '\0';
		tap.outq_off = 0;
	}
}

/* Memory of our own for out-of-line data the sender only lent. */
static void own_ool(struct kmsg *m)
{
	for (unsigned i = 0; i < m->nool; i++) {
		struct kool *o = &m->ool[i];
		void *a;

		if (!o->borrowed || !o->addr)
			continue;
		a = mo_pages_alloc(o->size, 0);
		if (!a)
			abort();
		memcpy(a, o->addr, o->size);
		o->addr = a;
		o->borrowed = 0;
	}
}

/* Writes M as a message frame's body into OUT (ports by tap id). */
static void frame_msg(struct strbuf *out, struct kmsg *m, uint16_t flags,
		      uint64_t seq, void *queue)
{
	size_t msg_pad = (m->size + 7) & ~(size_t)7, body, pos, nst = 0;
	uint32_t bits = ((mach_msg_header_t *)m->bytes)->msgh_bits &
			MACH_MSGH_BITS_COMPLEX;
	uint8_t *b, sf[MO_STACK_FRAME_MAX];

	/*
	 * -k: the sender's stack, as a STACK frame's body (doc/wire.md):
	 * the one a peer sent with it, or, for the process's own sends (on
	 * the sending thread here), this thread's.
	 */
	if (tap.stacks && (m->stack || (flags & MO_TAP_F_OUT))) {
		nst = mo_link_stack_frame(sf, m->stack) - WIRE_FRAME_HEADER;
		flags |= MO_TAP_F_STACK;
	}
	/* A copy the tracer reads no data of: the sizes only. */
	if ((flags & MO_TAP_F_COPY) && tap.nodata && m->nool)
		flags |= MO_TAP_F_NODATA;
	body = MO_TAP_MSG_HEAD + 16 * m->nool + msg_pad + nst;
	for (unsigned i = 0; i < m->nool && !(flags & MO_TAP_F_NODATA); i++)
		body += (m->ool[i].size + 7) & ~(uint64_t)7;
	/* Not zeroed first: a page's worth of memset for each copy. */
	b = frame_start(out, MO_TAP_MSG, flags, seq, body, 0);
	put64(b, (uint64_t)(uintptr_t)queue);
	put32(b + 8, (uint32_t)(tap.missed > UINT32_MAX ? UINT32_MAX : tap.missed));
	tap.missed = 0;
	put32(b + 12, m->size);
	put32(b + 16, m->nool);
	put32(b + 20, 0);
	pos = MO_TAP_MSG_HEAD;
	for (unsigned i = 0; i < m->nool; i++, pos += 16) {
		put32(b + pos, m->ool[i].off);
		put32(b + pos + 4, 0);
		put64(b + pos + 8, m->ool[i].size);
	}
	memset(b + pos + msg_pad - 8, 0, 8);
	memcpy(b + pos, m->bytes, m->size);
	/* As its receiver sees it (msg.c, msg_copyout): reply in remote. */
	put32(b + pos, bits | MACH_MSGH_BITS(m->reply.type, m->dest.type));
	put32(b + pos + 8, tap_id(m->reply.port));
	put32(b + pos + 16, tap_id(m->dest.port));
	for (unsigned i = 0; i < m->nrights; i++)
		if (!m->rights[i].region)	/* a port array's are not shown */
			put32(b + pos + m->rights[i].off, tap_id(m->rights[i].port));
	for (unsigned i = 0; i < m->nool; i++)
		memset(b + pos + m->ool[i].off, 0, 8);
	pos += msg_pad;
	for (unsigned i = 0; i < m->nool && !(flags & MO_TAP_F_NODATA); i++) {
		uint64_t pad = (m->ool[i].size + 7) & ~(uint64_t)7;

		if (pad)
			memset(b + pos + pad - 8, 0, 8);
		memcpy(b + pos, m->ool[i].addr, m->ool[i].size);
		pos += pad;
	}
	if (nst)
		memcpy(b + pos, sf + WIRE_FRAME_HEADER, nst);
}

static void frame_kernel(const struct tkernel *k)
{
	uint8_t *b = frame_add(&tap.outq, MO_TAP_KERNEL, 0, tap_id(k->ctl), 24);

	put64(b, tap_id(k->object));
	put64(b + 8, tap_id(k->name));
	put64(b + 16, k->page_size);
}

static void frame_object(const struct tobject *o)
{
	size_t n = strlen(o->addr) + 1;
	uint8_t *b = frame_add(&tap.outq, MO_TAP_OBJECT, 0, tap_id(o->port), n);

	memcpy(b, o->addr, n);
}

/*
 * What the process learns of its memory objects whether or not a tracer
 * is there, so that one that attaches later hears of them: the kernels
 * (memory_object_init names the control port), and which ports to tap.
 */
static void learn(struct kmsg *m)
{
	mach_msg_header_t *h = (mach_msg_header_t *)m->bytes;
	struct kport *dest = m->dest.port;

	if (dest->kind == KP_LOCAL) {
		/* A kernel's control port: the process's sends to it are tapped. */
		for (unsigned i = 0; i < m->nrights; i++)
			if (m->rights[i].port && m->rights[i].port->kind == KP_PROXY &&
			    m->rights[i].type == MACH_MSG_TYPE_PORT_SEND &&
			    !m->rights[i].port->tapped)
				m->rights[i].port->tapped = TAP_PORT;
		if (h->msgh_id == ID_INIT && m->nrights >= 2 && m->rights[0].port &&
		    m->size >= 60) {
			struct tkernel k = { dest, m->rights[0].port,
					     m->rights[1].port, 0 };

			/* init: object, control, name, then the page size at 52
			 * (x86_64 layout, doc/wire.md "Example"). */
			memcpy(&k.page_size, m->bytes + 52, 8);
			mo_kport_ref(k.object);
			mo_kport_ref(k.ctl);
			if (k.name)
				mo_kport_ref(k.name);
			tap.kernels = realloc(tap.kernels,
					      (tap.nkernels + 1) * sizeof(k));
			if (!tap.kernels)
				abort();
			tap.kernels[tap.nkernels++] = k;
		} else if (h->msgh_id == ID_TERMINATE && m->nrights >= 1) {
			for (unsigned i = 0; i < tap.nkernels; i++) {
				struct tkernel *k = &tap.kernels[i];

				if (k->ctl != m->rights[0].port)
					continue;
				mo_kport_unref(k->object);
				mo_kport_unref(k->ctl);
				mo_kport_unref(k->name);
				*k = tap.kernels[--tap.nkernels];
				break;
			}
		}
	} else {
		/* The ports a kernel answers on (reply_to, the reply port). */
		if (m->reply.port && m->reply.port->kind == KP_LOCAL &&
		    !m->reply.port->tapped)
			m->reply.port->tapped = TAP_PORT;
		for (unsigned i = 0; i < m->nrights; i++)
			if (m->rights[i].port && m->rights[i].port->kind == KP_LOCAL &&
			    !m->rights[i].port->tapped)
				m->rights[i].port->tapped = TAP_PORT;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Copies go out in bursts: observing, or attached with judging off. */
static int copies_batched(void)
{
	return tap.mode == MO_TAP_OBSERVE ||
	       (tap.mode == MO_TAP_DIVERT && !tap.judge);
}

/* Whether a message to QUEUE is held (decided or not). mo_lock held. */
static int queue_held(const void *queue)
{
	for (const struct held *h = tap.held; h; h = h->next)
		if (h->queue == queue)
			return 1;
	return 0;
}

/*
 * A session's end (MOTRACE_TAP_SESSION): no tracer, no kernel left, no
 * message on the published ports and none for a second (what the program
 * received it has had that long to handle). mo_lock held.
 */
static int session_over(void)
{
	if (!tap.session || !tap.ever || tap.fd >= 0 || tap.held)
		return 0;
	for (unsigned i = 0; i < tap.nkernels; i++)
		if (tap.kernels[i].ctl->kind != KP_DEAD)
			return 0;
	for (unsigned i = 0; i < tap.nobjs; i++)
		if (tap.objs[i].port->qlen)
			return 0;
	return now_ms() - tap.last >= 1000;
}

void mo_tap_dead(struct kport *p)
{
	for (unsigned i = 0; i < tap.nkernels; i++) {
		struct tkernel *k = &tap.kernels[i];

		if (k->ctl != p)
			continue;
		if (mo_tap_live) {
			frame_add(&tap.outq, MO_TAP_KERNEL_GONE, 0, tap_id(p), 0);
			try_flush();
		}
		mo_kport_unref(k->object);
		mo_kport_unref(k->name);
		/* The caller holds a reference of its own (mo_kport_kill). */
		mo_kport_unref(k->ctl);
		*k = tap.kernels[--tap.nkernels];
		return;
	}
}

/*
 * A copy of M for the tracer, M being delivered now. Copies go out in
 * bursts: the control thread writes them OBSERVE_DELAY_MS after the first
 * (or at once past 64 KiB; it looks that often while copies are made), so
 * the process makes no system call for most of them and the tracer wakes
 * once a burst. mo_lock held.
 */
static void queue_copy(struct kmsg *m, uint16_t flags, void *queue)
{
	/* The first of a burst: the control thread, asleep, sets its timer. */
	if (tap.outq.len == tap.outq_off) {
		tap.observe_since = now_ms();
		wake_thread();
	}
	frame_msg(&tap.outq, m, flags | MO_TAP_F_COPY, ++tap.seq, queue);
	if (tap.outq.len - tap.outq_off >= 65536)
		try_flush();
}

int mo_tap_divert(struct kmsg *m)
{
	struct kport *dest = m->dest.port;
	int32_t id = ((mach_msg_header_t *)m->bytes)->msgh_id;
	uint16_t flags = dest->kind == KP_LOCAL ? 0 : MO_TAP_F_OUT;
	struct held *h;
	void *queue;

	if (dest->kind == KP_DEAD)
		return 0;
	if (dest->tapped == TAP_TRACER && dest->kind == KP_LOCAL) {
		/* An answer to a message the tracer made: the tracer's alone. */
		if (tap.fd >= 0 && tap.mode) {
			frame_msg(&tap.outq, m, MO_TAP_F_ANSWER, ++tap.seq, dest);
			try_flush();
		}
		if (tap.ndead == tap.capdead) {
			tap.capdead = tap.capdead ? 2 * tap.capdead : 16;
			tap.dead_names = realloc(tap.dead_names,
						 tap.capdead * sizeof(uint32_t));
			if (!tap.dead_names)
				abort();
		}
		if (dest->name)
			tap.dead_names[tap.ndead++] = dest->name;
		dest->tapped = TAP_PORT;
		mo_kmsg_discard(m, dest);
		wake_thread();
		return 1;
	}
	learn(m);
	if (tap.session)
		tap.last = now_ms();
	/* Mach's notifications (GNU Mach include/mach/notify.h: 0100-0110). */
	if (!mo_tap_live || tap_thread || (id >= 0100 && id <= 0110))
		return 0;
	/*
	 * Order is kept per queue, as the kernel keeps it: a port's own, or
	 * its port set's when it is in one. Messages to the ports of one set
	 * share the set's queue (GNU Mach ipc/ipc_mqueue.c, ipc_mqueue_send
	 * enqueues on the set's mqueue), so a receiver sees them in the order
	 * they were sent: a data_return held back must not be overtaken by
	 * the lock_completed sent after it to a reply port in the same set.
	 * A held message delays only its own queue's.
	 */
	queue = dest->kind == KP_LOCAL && dest->pset ? (void *)dest->pset
						     : (void *)dest;
	/*
	 * Judging off (the tracer has no rule, breakpoint or prompt that
	 * could stop a message): a message goes on at once, as a copy, as
	 * when observing, unless one to its queue is held (it keeps its
	 * place behind it) or the tracer has fallen behind: then it waits
	 * for a verdict like any, which slows the senders down to the
	 * tracer's pace instead of losing copies.
	 */
	if (tap.mode == MO_TAP_DIVERT && !tap.judge && !tap.draining &&
	    tap.outq.len - tap.outq_off <= OBSERVE_QUEUE_MAX &&
	    !queue_held(queue)) {
		queue_copy(m, flags, queue);
		return 0;
	}
	if (tap.mode == MO_TAP_OBSERVE) {
		if (tap.outq.len - tap.outq_off > OBSERVE_QUEUE_MAX)
			tap.missed++;
		else
			queue_copy(m, flags, dest);
		return 0;
	}
	own_ool(m);
	h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->m = m;
	h->seq = ++tap.seq;
	h->queue = queue;
	*tap.held_tail = h;
	tap.held_tail = &h->next;
	if (!tap.draining) {
		frame_msg(&tap.outq, m, flags, h->seq, h->queue);
		try_flush();
	} else {
		h->decided = MO_TAP_PASS;
	}
	return 1;
}

/*
 * Delivers (or drops) every decided message that no undecided one to
 * the same queue precedes, in the order they came. mo_lock held.
 */
static void deliver_decided(void)
{
	for (;;) {
		struct held **pp, *h, *go = NULL;
		void *blocked[64];
		unsigned nblocked = 0;
		int full = 0;

		for (pp = &tap.held; (h = *pp); pp = &h->next) {
			int seen = 0;

			for (unsigned i = 0; i < nblocked; i++)
				seen |= blocked[i] == h->queue;
			if (!seen && h->decided) {
				go = h;
				*pp = h->next;
				if (tap.held_tail == &h->next)
					tap.held_tail = pp;
				break;
			}
			if (!seen) {
				if (nblocked == 64) {
					full = 1;
					break;
				}
				blocked[nblocked++] = h->queue;
			}
		}
		if (!go)
			return;
		(void)full;
		if (go->decided == MO_TAP_DROP) {
			mo_kmsg_destroy(go->m);
		} else {
			int32_t id = ((mach_msg_header_t *)go->m->bytes)->msgh_id;
			uint32_t dest = go->m->dest.port ? go->m->dest.port->tapid : 0;
			int mr = mo_kmsg_send_now(go->m);

			/* The tracer said pass: it hears when that failed. */
			if (mr != MACH_MSG_SUCCESS && tap.fd >= 0 && !tap.draining) {
				uint8_t *b = frame_add(&tap.outq, MO_TAP_UNDELIVERED,
						       0, go->seq, 16);

				put32(b, (uint32_t)mr);
				put32(b + 4, (uint32_t)id);
				put32(b + 8, dest);
				try_flush();
			}
		}
		free(go);
	}
}

/* The tracer that asked for stacks is gone: the kernels stop sending them. */
static void stop_stacks(void)
{
	if (tap.stacks)
		mo_link_want_stacks(0);
	tap.stacks = 0;
}

/* Every message held goes on, in order (a detach, or the tracer died). */
static void pass_all(void)
{
	tap.draining = 1;
	for (struct held *h = tap.held; h; h = h->next)
		if (!h->decided) {
			h->decided = MO_TAP_PASS;
			tap.passed_self++;
		}
	deliver_decided();
	tap.draining = 0;
}

/*
 * Listening sockets a tracer handed over (motrace --listen A --to P,
 * doc/attach.md "--listen and --to"): each one more listener of a
 * published port, so that the kernels that connect to A are the
 * process's own, as if they had connected to P, and stay so when the
 * tracer goes. Under mo_lock.
 */
static struct {
	int fds[MO_TAP_ADOPT_MAX];	/* came with the tracer's bytes, not claimed yet */
	unsigned nfds;
	int serving[MO_TAP_ADOPT_MAX];	/* listeners of the io thread's */
	unsigned nserving;
} adopt;

/*
 * The tracer's bytes, as recv would read them; a descriptor that comes
 * with them (SCM_RIGHTS) waits for the ADOPT frame it goes with, which
 * the tracer sends in the same sendmsg. No mo_lock held.
 */
static ssize_t tap_recv(int fd, void *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} c;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	ssize_t got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (got < 0)
		return got;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t nfd;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		pthread_mutex_lock(&mo_lock);
		for (size_t i = 0; i < nfd; i++) {
			int one;

			memcpy(&one, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (adopt.nfds < MO_TAP_ADOPT_MAX)
				adopt.fds[adopt.nfds++] = one;
			else
				close(one);
		}
		pthread_mutex_unlock(&mo_lock);
	}
	return got;
}

static void adopt_answer(uint64_t seq, int err, const char *why)
{
	size_t n = why ? strlen(why) + 1 : 0;
	uint8_t *b = frame_add(&tap.outq, MO_TAP_ADOPTED, 0, seq, 8 + n);

	put32(b, (uint32_t)err);
	if (n)
		memcpy(b + 8, why, n);
	try_flush();
}

/* Why the descriptor FD cannot serve ADDR, or NULL. */
static const char *adopt_unfit(int fd, const char *addr)
{
	int on = 0, dom = -1, type = -1;
	socklen_t l1 = sizeof(on), l2 = sizeof(dom), l3 = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &l1) < 0 || !on)
		return "the descriptor is not a listening socket";
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l3) < 0 ||
	    type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l2) < 0)
		return "the descriptor is not a stream socket";
	if (!strncmp(addr, "unix:", 5) ? dom != AF_UNIX :
	    strncmp(addr, "tcp:", 4) || (dom != AF_INET && dom != AF_INET6))
		return "the socket is not of its address's kind (unix: or tcp:)";
	return NULL;
}

/* ADOPT: serve the listening socket that came with it. mo_lock held. */
static void on_adopt(uint64_t seq, uint16_t flags, const uint8_t *b, size_t n)
{
	struct tobject *o = NULL;
	const char *why = NULL, *addr = (const char *)b + 16;
	int fd = -1;

	for (unsigned i = 0; seq && i < tap.nobjs; i++)
		if (tap.objs[i].port->tapid == seq)
			o = &tap.objs[i];
	if (flags & MO_TAP_ADOPT_ASK) {
		/* Asked before the socket is made: is there room, and the port? */
		if (!o || o->port->kind != KP_LOCAL)
			why = "no such published port";
		else if (adopt.nserving == MO_TAP_ADOPT_MAX)
			why = "too many listening sockets handed over";
		adopt_answer(seq, why ? EINVAL : 0, why);
		return;
	}
	if (adopt.nfds) {
		fd = adopt.fds[0];
		memmove(adopt.fds, adopt.fds + 1, --adopt.nfds * sizeof(int));
	}
	if (fd < 0)
		why = "no listening socket came with the frame";
	else if (n < 17 || !memchr(addr, 0, n - 16))
		why = "the frame has no address";
	else if (!o || o->port->kind != KP_LOCAL)
		why = "no such published port";
	else if (adopt.nserving == MO_TAP_ADOPT_MAX)
		why = "too many listening sockets handed over";
	else
		why = adopt_unfit(fd, addr);
	if (why) {
		if (fd >= 0)
			close(fd);
		adopt_answer(seq, EINVAL, why);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	mo_kport_ref(o->port);
	mo_io_add_listener(fd, addr, o->port,
			   (flags & MO_TAP_ADOPT_KEY) ? b : NULL);
	adopt.serving[adopt.nserving++] = fd;
	adopt_answer(seq, 0, NULL);
}

/*
 * The tracer is gone (detached, or its socket closed): its listeners
 * take what waits in their backlogs and close; the connections made
 * stay ours. mo_lock held.
 */
static void adopt_end(void)
{
	for (unsigned i = 0; i < adopt.nserving; i++)
		mo_io_end_listener(adopt.serving[i]);
	adopt.nserving = 0;
	for (unsigned i = 0; i < adopt.nfds; i++)
		close(adopt.fds[i]);
	adopt.nfds = 0;
}

/* The tracer's connection ends: stop diverting, give back what is held. */
static void tracer_gone(void)
{
	mo_tap_live = 0;
	adopt_end();
	pass_all();
	tap.mode = 0;
	stop_stacks();
	tap.closing = 0;
	tap.last = now_ms();
	if (tap.fd >= 0) {
		int fd = tap.fd;

		/*
		 * Gone before the wait: a handler running in another thread
		 * (read_tracer) sees the connection is no longer the tracer's.
		 */
		tap.fd = -1;
		mo_io_unwatch(fd, 1);
	}
	wake_thread();
	strbuf_reset(&tap.outq);
	tap.outq_off = 0;
	tap.out_full = 0;
	tap.missed = 0;
}

static void send_error(int fd, const char *text)
{
	struct strbuf f = STRBUF_INIT;
	size_t n = strlen(text) + 1;

	memcpy(frame_add(&f, MO_TAP_ERROR, 0, 0, n), text, n);
	/* It is closed next either way. */
	if (send(fd, f.buf, f.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		errno = 0;
	strbuf_release(&f);
}

static void read_tracer(void *arg);

static void on_accept(void)
{
	int fd = accept4(tap.lfd, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char why[160];

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != getuid() && cred.uid != 0)) {
		snprintf(why, sizeof(why),
			 "pid %u's control socket: uid %u may not attach (only uid %u or root)",
			 (unsigned)getpid(), len == sizeof(cred) ? (unsigned)cred.uid : 0,
			 (unsigned)getuid());
		send_error(fd, why);
		mo_warn("%s", why);
		close(fd);
		return;
	}
	pthread_mutex_lock(&mo_lock);
	if (tap.fd >= 0) {
		pthread_mutex_unlock(&mo_lock);
		snprintf(why, sizeof(why),
			 "pid %u is traced already: detach the other tracer first",
			 (unsigned)getpid());
		send_error(fd, why);
		close(fd);
		return;
	}
	tap.fd = fd;
	tap.out_full = 0;
	mo_io_watch(fd, read_tracer, NULL);
	pthread_mutex_unlock(&mo_lock);
}

/* The tracer's HELLO: attach, and announce what exists. mo_lock held. */
static int on_hello(const uint8_t *b, size_t n)
{
	uint32_t version, mode;
	uint8_t *r;

	if (n < 8)
		return -1;
	version = get32(b);
	mode = get32(b + 4);
	if (version != MO_TAP_VERSION ||
	    (mode != MO_TAP_DIVERT && mode != MO_TAP_OBSERVE))
		return -1;
	tap.stacks = n >= 12 && (get32(b + 8) & MO_TAP_HELLO_STACKS);
	/* And from the kernels, for what they send (their STACK frames). */
	if (tap.stacks)
		mo_link_want_stacks(1);
	r = frame_add(&tap.outq, MO_TAP_HELLO, 0, 0, 8);
	put32(r, MO_TAP_VERSION);
	put32(r + 4, (uint32_t)getpid());
	for (unsigned i = 0; i < tap.nobjs; i++)
		frame_object(&tap.objs[i]);
	for (unsigned i = 0; i < tap.nkernels; i++)
		if (tap.kernels[i].ctl->kind != KP_DEAD)
			frame_kernel(&tap.kernels[i]);
	frame_add(&tap.outq, MO_TAP_READY, 0, 0, 0);
	tap.mode = (int)mode;
	tap.judge = 1;
	tap.nodata = 0;
	tap.missed = 0;
	tap.ever = 1;
	mo_tap_live = 1;
	try_flush();
	pthread_cond_broadcast(&tap.attached);
	return 0;
}

static struct held *held_find(uint64_t seq)
{
	for (struct held *h = tap.held; h; h = h->next)
		if (h->seq == seq)
			return h;
	return NULL;
}

/* A rewrite of inline bytes: never the header, a port or a pointer slot. */
static void on_patch(uint64_t seq, const uint8_t *b, size_t n)
{
	struct held *h = held_find(seq);
	uint32_t off, len;

	if (!h || h->decided || n < 8)
		return;
	off = get32(b);
	len = get32(b + 4);
	if (len > n - 8 || off < sizeof(mach_msg_header_t) || off > h->m->size ||
	    len > h->m->size - off)
		return;
	for (unsigned i = 0; i < h->m->nrights; i++)
		if (!h->m->rights[i].region &&
		    h->m->rights[i].off + 4 > off && h->m->rights[i].off < off + len)
			return;
	for (unsigned i = 0; i < h->m->nool; i++)
		if (h->m->ool[i].off + 8 > off && h->m->ool[i].off < off + len)
			return;
	memcpy(h->m->bytes + off, b + 8, len);
}

/*
 * The name and disposition to send a right to tap id ID with, asked for
 * as DISP (MIG's): our own ports are made, others' copied. mo_lock held.
 */
static int inject_name(uint32_t id, unsigned disp, uint32_t *name,
		       unsigned *out)
{
	struct kport *p;
	struct entry *e;

	if (!id) {
		*name = 0;
		*out = 0;
		return 0;
	}
	p = tap.ids ? mo_idmap_get(tap.ids, id) : NULL;
	if (!p || p->kind == KP_DEAD)
		return -1;
	if (!p->name && p->kind == KP_PROXY && p->srights &&
	    disp != MACH_MSG_TYPE_MAKE_SEND_ONCE &&
	    disp != MACH_MSG_TYPE_MOVE_SEND_ONCE &&
	    disp != MACH_MSG_TYPE_PORT_SEND_ONCE) {
		/*
		 * A right the process has not received yet (the init that
		 * brings a kernel's control port waits in its queue): a copy
		 * of one in flight, under a name of its own, moved with the
		 * message.
		 */
		p->srights++;
		mo_kport_ref(p);
		*name = mo_space_copyout(p, MACH_MSG_TYPE_PORT_SEND);
		*out = MACH_MSG_TYPE_MOVE_SEND;
		return 0;
	}
	if (!p->name || !(e = mo_space_lookup(p->name)) || e->port != p)
		return -1;
	if (e->type & MACH_PORT_TYPE_RECEIVE)
		*out = disp == MACH_MSG_TYPE_MAKE_SEND_ONCE ||
		       disp == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
		       disp == MACH_MSG_TYPE_PORT_SEND_ONCE
		       ? MACH_MSG_TYPE_MAKE_SEND_ONCE : MACH_MSG_TYPE_MAKE_SEND;
	else if (e->type & MACH_PORT_TYPE_SEND)
		*out = MACH_MSG_TYPE_COPY_SEND;
	else
		return -1;
	*name = p->name;
	return 0;
}

/*
 * A port for the answer to a message the tracer makes, under the tap id
 * ID the tracer chose. mo_lock held (dropped and taken again).
 */
static void tracer_port(uint32_t id)
{
	struct kport *p;
	mach_port_t name;

	pthread_mutex_unlock(&mo_lock);
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &name)) {
		pthread_mutex_lock(&mo_lock);
		return;
	}
	pthread_mutex_lock(&mo_lock);
	p = mo_space_lookup(name)->port;
	p->tapped = TAP_TRACER;
	if (!tap.ids)
		tap.ids = mo_idmap_new();
	p->tapid = id;
	mo_idmap_put(tap.ids, id, p);
}

/* The tracer asks the process to send a message; no mo_lock held. */
static void on_inject(uint64_t token, const uint8_t *b, size_t n)
{
	uint32_t msg_len, nool;
	size_t pos = MO_TAP_MSG_HEAD, data;
	uint8_t *msg = NULL;
	struct mo_walker w;
	struct mo_header hd;
	struct mo_item it;
	kern_return_t kr = KERN_INVALID_ARGUMENT;
	unsigned disp, rd = 0, ld = 0;
	uint32_t name, bits;
	uint8_t *r;
	int bad = 0;

	if (n < MO_TAP_MSG_HEAD)
		goto answer;
	msg_len = get32(b + 12);
	nool = get32(b + 16);
	if (nool > 64 || msg_len < sizeof(mach_msg_header_t) ||
	    msg_len > MO_MACH_MSG_MAX || pos + 16 * (size_t)nool > n ||
	    ((msg_len + 7) & ~7u) > n - pos - 16 * nool)
		goto answer;
	data = pos + 16 * nool + ((msg_len + 7) & ~7u);
	msg = malloc(msg_len);
	if (!msg)
		abort();
	memcpy(msg, b + pos + 16 * nool, msg_len);
	if (mo_walk_init(&w, msg, msg_len, MO_ABI_X86_64, &hd) < 0)
		goto answer;
	/* Out-of-line data: fresh pages, moved with the message. */
	for (uint32_t i = 0; i < nool; i++) {
		uint32_t off = get32(b + pos + 16 * i);
		uint64_t size = get64(b + pos + 16 * i + 8);
		vm_address_t a = 0;

		if (off + 8 > msg_len || size > n - data ||
		    vm_allocate(mach_task_self(), &a, size, TRUE))
			goto answer;
		memcpy((void *)a, b + data, size);
		memcpy(msg + off, &a, 8);
		data += (size + 7) & ~(uint64_t)7;
	}
	pthread_mutex_lock(&mo_lock);
	bits = get32(msg);
	for (int slot = 0; slot < 2; slot++) {
		uint32_t id = get32(msg + (slot ? 16 : 8));
		unsigned want = slot ? MACH_MSGH_BITS_LOCAL(bits)
				     : MACH_MSGH_BITS_REMOTE(bits);

		if (id >= MO_TAP_TRACER_IDS && (!tap.ids || !mo_idmap_get(tap.ids, id)))
			tracer_port(id);
		if (inject_name(id, want, &name, &disp) < 0) {
			bad = 1;
			break;
		}
		put32(msg + (slot ? 16 : 8), name);
		if (slot)
			ld = disp;
		else
			rd = disp;
	}
	while (!bad && mo_walk_next(&w, &it) == 1) {
		if (!it.is_inline || !mo_type_is_port(it.name) || it.size != 32)
			continue;
		for (uint32_t k = 0; k < it.number && !bad; k++) {
			uint32_t id = (uint32_t)mo_item_elem(msg, &it, k);

			if (id >= MO_TAP_TRACER_IDS && (!tap.ids || !mo_idmap_get(tap.ids, id)))
				tracer_port(id);
			if (inject_name(id, it.name, &name, &disp) < 0) {
				bad = 1;
				break;
			}
			put32(msg + it.data_off + 4 * k, name);
			if (name) {
				if (it.longform)
					put16(msg + it.desc_off + 4, (uint16_t)disp);
				else
					msg[it.desc_off] = (uint8_t)disp;
			}
		}
	}
	pthread_mutex_unlock(&mo_lock);
	if (bad) {
		kr = MACH_SEND_INVALID_RIGHT;
		goto answer;
	}
	put32(msg, (bits & MACH_MSGH_BITS_COMPLEX) | MACH_MSGH_BITS(rd, ld));
	kr = mach_msg((mach_msg_header_t *)msg, MACH_SEND_MSG, msg_len, 0,
		      MACH_PORT_NULL, MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
answer:
	free(msg);
	pthread_mutex_lock(&mo_lock);
	r = frame_add(&tap.outq, MO_TAP_INJECTED, 0, token, 8);
	put32(r, (uint32_t)kr);
	put32(r + 4, 0);
	try_flush();
	pthread_mutex_unlock(&mo_lock);
}

/* One whole frame from the tracer. Returns -1 to end the connection. */
static int on_frame(const uint8_t *f, size_t len)
{
	uint16_t type = get16(f + 4);
	uint64_t seq = get64(f + 8);
	const uint8_t *b = f + MO_TAP_HEADER;
	size_t n = len - MO_TAP_HEADER;
	struct held *h;
	int r = 0;

	if (type == MO_TAP_INJECT) {
		on_inject(seq, b, n);
		return 0;
	}
	pthread_mutex_lock(&mo_lock);
	switch (type) {
	case MO_TAP_HELLO:
		if (tap.mode || on_hello(b, n) < 0) {
			send_error(tap.fd, "hello: wrong version or mode");
			r = -1;
		}
		break;
	case MO_TAP_VERDICT:
		if (n >= 4 && (h = held_find(seq)) && !h->decided &&
		    (get32(b) == MO_TAP_PASS || get32(b) == MO_TAP_DROP)) {
			h->decided = (int)get32(b);
			deliver_decided();
		}
		break;
	case MO_TAP_PATCH:
		on_patch(seq, b, n);
		break;
	case MO_TAP_JUDGE:
		if (n < 8 || get32(b) > 1 || (get32(b + 4) & ~MO_TAP_JUDGE_NODATA) ||
		    (get32(b) && tap.mode != MO_TAP_DIVERT)) {
			send_error(tap.fd, "judge: not 0 or 1, unknown flags, or 1 while observing");
			r = -1;
			break;
		}
		tap.judge = (int)get32(b);
		tap.nodata = (get32(b + 4) & MO_TAP_JUDGE_NODATA) != 0;
		/* The copies made so far go out in their burst, as due. */
		wake_thread();
		break;
	case MO_TAP_ADOPT:
		if (tap.mode)
			on_adopt(seq, get16(f + 6), b, n);
		break;
	case MO_TAP_DETACH: {
		uint8_t *d;

		tap.passed_self = 0;
		mo_tap_live = 0;
		pass_all();
		d = frame_add(&tap.outq, MO_TAP_DETACHED, 0, 0, 8);
		put64(d, tap.passed_self);
		tap.mode = 0;
		stop_stacks();
		/* Closed once the DETACHED frame (and all before it) went out. */
		tap.closing = 1;
		try_flush();
		if (tap.outq_off == tap.outq.len)
			tracer_gone();
		else
			wake_thread();
		break;
	}
	default:
		send_error(tap.fd, "frame type unknown");
		r = -1;
	}
	pthread_mutex_unlock(&mo_lock);
	return r;
}

static void drop_dead_names(void)
{
	uint32_t names[64];
	unsigned n;

	pthread_mutex_lock(&mo_lock);
	n = tap.ndead < 64 ? tap.ndead : 64;
	if (n)
		memcpy(names, tap.dead_names + tap.ndead - n, n * sizeof(uint32_t));
	tap.ndead -= n;
	pthread_mutex_unlock(&mo_lock);
	for (unsigned i = 0; i < n; i++)
		mach_port_mod_refs(mach_task_self(), names[i],
				   MACH_PORT_RIGHT_RECEIVE, -1);
}

/*
 * What the tracer sent, read by whichever thread reads the links
 * (mach/io.c, mo_io_watch): the thread blocked in mach_msg, when a
 * verdict lets its message go, finds it queued without another thread
 * waking it. One reader at a time, no mo_lock held.
 */
static void read_tracer(void *arg)
{
	static struct strbuf in = STRBUF_INIT;
	int fd, end = 0, was = tap_thread;
	ssize_t got;

	(void)arg;
	pthread_mutex_lock(&mo_lock);
	fd = tap.fd;
	pthread_mutex_unlock(&mo_lock);
	if (fd < 0)
		return;
	/* Its sends (an inject) are the tap's own: not diverted. */
	tap_thread = 1;
	strbuf_grow(&in, 65536);
	got = tap_recv(fd, in.buf + in.len, 65536);
	if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
		end = 1;
	else if (got > 0)
		in.len += (size_t)got;
	while (!end && in.len >= MO_TAP_HEADER) {
		uint32_t len = get32((uint8_t *)in.buf);

		if (len < MO_TAP_HEADER || (len & 7) || len > MO_TAP_MAX_FRAME) {
			send_error(fd, "frame length is wrong");
			end = 1;
			break;
		}
		if (in.len < len)
			break;
		if (on_frame((uint8_t *)in.buf, len) < 0)
			end = 1;
		memmove(in.buf, in.buf + len, in.len - len);
		in.len -= len;
		if (tap.fd != fd)
			break;		/* detached: nothing after it counts */
	}
	if (end) {
		pthread_mutex_lock(&mo_lock);
		if (tap.fd == fd)
			tracer_gone();
		pthread_mutex_unlock(&mo_lock);
	}
	/* A new tracer starts from a clean buffer. */
	if (end || tap.fd != fd)
		strbuf_reset(&in);
	tap_thread = was;
}

static void *control_thread(void *arg)
{
	(void)arg;
	tap_thread = 1;
	for (;;) {
		struct pollfd pf[3];
		int nfd = 2, fd, want_out, timeout;
		char junk[64];

		pthread_mutex_lock(&mo_lock);
		if (tap.closing && tap.outq_off == tap.outq.len)
			tracer_gone();
		fd = tap.fd;
		want_out = tap.outq_off < tap.outq.len;
		if (session_over()) {
			unsigned n = tap.nobjs;
			char **addrs = calloc(n ? n : 1, sizeof(*addrs));

			for (unsigned i = 0; addrs && i < n; i++)
				addrs[i] = strdup(tap.objs[i].addr);
			pthread_mutex_unlock(&mo_lock);
			/* As the program would on its way out: no address left behind. */
			for (unsigned i = 0; addrs && i < n; i++)
				if (addrs[i])
					mo_mach_unpublish(addrs[i]);
			exit(0);
		}
		if (tap.session && tap.ever && fd < 0)
			tap.last = tap.last ? tap.last : now_ms();
		timeout = tap.session && tap.ever && fd < 0 ? 200 : -1;
		/* Copies queued are written OBSERVE_DELAY_MS after the first. */
		if (copies_batched() && want_out) {
			uint64_t t = now_ms();

			if (t >= tap.observe_since + OBSERVE_DELAY_MS) {
				try_flush();
				want_out = tap.outq_off < tap.outq.len;
			} else {
				timeout = (int)(tap.observe_since + OBSERVE_DELAY_MS - t);
				want_out = 0;
			}
		}
		pthread_mutex_unlock(&mo_lock);
		pf[0] = (struct pollfd){ tap.wake[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ tap.lfd, POLLIN, 0 };
		/* The tracer's frames are read with the links (read_tracer). */
		if (fd >= 0 && want_out)
			pf[nfd++] = (struct pollfd){ fd, POLLOUT, 0 };
		if (poll(pf, nfd, timeout) < 0)
			continue;
		if (pf[0].revents)
			while (read(tap.wake[0], junk, sizeof(junk)) == sizeof(junk))
				;
		drop_dead_names();
		if (pf[1].revents)
			on_accept();
		if (nfd < 3)
			continue;
		if (pf[2].revents & POLLOUT) {
			pthread_mutex_lock(&mo_lock);
			tap.out_full = 0;
			try_flush();
			pthread_mutex_unlock(&mo_lock);
		}
		if (pf[2].revents & (POLLHUP | POLLERR)) {
			/* Nothing more goes out: the reader sees the end. */
			pthread_mutex_lock(&mo_lock);
			strbuf_reset(&tap.outq);
			tap.outq_off = 0;
			pthread_mutex_unlock(&mo_lock);
		}
	}
	return NULL;
}

/*
 * On the way out, the copies still queued (observing, or judging off:
 * messages delivered already, written in bursts) go to the tracer, so
 * that it sees every message the process delivered. A second at most,
 * for a tracer that does not read; mo_lock is waited for as long, in
 * case another thread exits holding it.
 */
static void flush_at_exit(void)
{
	struct timespec until;
	uint64_t end = now_ms() + 1000;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	if (pthread_mutex_timedlock(&mo_lock, &until))
		return;
	while (tap.fd >= 0 && tap.outq_off < tap.outq.len && now_ms() < end) {
		struct pollfd pf = { tap.fd, POLLOUT, 0 };

		if (poll(&pf, 1, (int)(end - now_ms())) <= 0 ||
		    (pf.revents & (POLLERR | POLLHUP)))
			break;
		tap.out_full = 0;
		try_flush();
	}
	pthread_mutex_unlock(&mo_lock);
}

static void remove_socket(void)
{
	flush_at_exit();
	if (tap.path[0])
		unlink(tap.path);
}

/* The folder of control sockets, made private to the user when missing. */
static int tap_dir(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (rt && *rt)
		snprintf(buf, len, "%s/motrace", rt);
	else
		snprintf(buf, len, MO_TAP_DIR_FMT, (unsigned)getuid());
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return mo_error("control socket folder %s: %s", buf, strerror(errno));
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077))
		return mo_error("control socket folder %s is not a folder of uid %u with mode 0700",
				buf, (unsigned)getuid());
	return 0;
}

/* The control socket and its thread, once per process. mo_lock not held. */
static void tap_start(void)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path) - 16];
	pthread_t t;
	int fd;

	pthread_mutex_lock(&once);
	/* Tried once: a process whose folder is wrong hears it once. */
	if (tap.started || tap.tried)
		goto out;
	tap.tried = 1;
	if (tap_dir(dir, sizeof(dir)) < 0)
		goto out;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", dir,
		 (unsigned)getpid());
	/* Our folder, our pid: a socket there is a dead process's. */
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0 ||
	    pipe2(tap.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		mo_warn("control socket %s: %s (no tracer can attach)",
			sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	tap.lfd = fd;
	memcpy(tap.path, sa.sun_path, sizeof(tap.path));
	{
		const char *se = getenv(MO_TAP_SESSION_ENV);

		tap.session = se && !strcmp(se, "1");
		unsetenv(MO_TAP_SESSION_ENV);
	}
	atexit(remove_socket);
	if (pthread_create(&t, NULL, control_thread, NULL)) {
		mo_warn("control socket %s: no thread for it", tap.path);
		goto out;
	}
	pthread_detach(t);
	tap.started = 1;
out:
	pthread_mutex_unlock(&once);
}

void mo_tap_publish(struct kport *port, const char *addr)
{
	struct tobject o = { port, strdup(addr) };

	/* mo_tap_wait started the control socket (or said why it could not). */
	if (!o.addr)
		abort();
	port->tapped = TAP_PORT;
	mo_kport_ref(port);
	tap.objs = realloc(tap.objs, (tap.nobjs + 1) * sizeof(o));
	if (!tap.objs)
		abort();
	tap.objs[tap.nobjs++] = o;
	if (mo_tap_live) {
		frame_object(&o);
		try_flush();
	}
}

void mo_tap_unpublish(const char *addr)
{
	for (unsigned i = 0; i < tap.nobjs; i++) {
		if (strcmp(tap.objs[i].addr, addr))
			continue;
		mo_kport_unref(tap.objs[i].port);
		free(tap.objs[i].addr);
		tap.objs[i] = tap.objs[--tap.nobjs];
		return;
	}
}

void mo_tap_wait(void)
{
	const char *w = getenv(MO_TAP_WAIT_ENV);
	struct timespec until;

	tap_start();
	if (!w || strcmp(w, "1") || !tap.started)
		return;
	/* Once: the addresses published after the first find it attached. */
	unsetenv(MO_TAP_WAIT_ENV);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&mo_lock);
	while (!mo_tap_live &&
	       pthread_cond_timedwait(&tap.attached, &mo_lock, &until) == 0)
		;
	if (!mo_tap_live)
		mo_warn("no tracer attached within 30 s (%s=1): publishing all the same",
			MO_TAP_WAIT_ENV);
	pthread_mutex_unlock(&mo_lock);
}
