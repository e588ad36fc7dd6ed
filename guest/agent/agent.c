/*
 * guest/agent/agent.c: GNU Mach's bootstrap task for motrace.
 *
 * It creates memory object ports (one per object of the run), vm_maps them
 * and relays the pager traffic of those objects through the ivshmem rings
 * (guest/ring.h, doc/guest.md):
 *
 *   receiver threads  kernel -> manager messages on an object port and
 *                     its reply ports (one thread and port set each),
 *                     copied into g2h frames as received, out-of-line
 *                     data appended; the main thread's marks become
 *                     "sent" lines among them
 *   main thread       h2g frames: the workload script, messages to the
 *                     kernel's control ports (out-of-line data put back in
 *                     memory first), and the host's answers
 *   sender threads    the host's lock_requests, one each, so that one the
 *                     kernel makes wait holds up nothing behind it
 *   worker threads    the script (script.c, mo-map's language) over the
 *                     mapped pages
 *
 * usage (boot script): mo-agent ${host-port} ${device-port} MODE PAGES THREADS [OBJECTS]
 * MODE: relay (the host serves the objects) or local (localpager.c serves
 * the one object, for the benchmark's floor). OBJECTS: how many (1). The
 * script comes from the host's ring.
 */
#include "guest/agent/agent.h"
#include "msg32.h"

#define MSG_BUF 0x10000u
#define MAX_OOL 16
#define ID_INIT 2200		/* memory_object.defs: subsystem 2200 */
#define ID_TERMINATE 2201
#define ID_SUPPLY_COMPLETED 2207
#define ID_READY 2094		/* mach.defs */
#define ID_CHANGE_ATTRIBUTES 2095
#define ID_NOTIFY_SEND_ONCE 71	/* mach/notify.h: MACH_NOTIFY_SEND_ONCE */
#define MAKE_SEND_ONCE 21	/* mach/message.h: MACH_MSG_TYPE_MAKE_SEND_ONCE */
/* Names for the spare send-once rights, far above the ones the kernel picks. */
#define SPARE_NAME_BASE 0x7f000000u

static struct mo_ring g2h, h2g;
static struct mo_shm_header *shm;
static struct rt_lock g2h_lock;
static uint32_t npages;
static uint32_t nthreads;
static int local;		/* MODE local: no kernel messages leave the guest */
static volatile uint32_t workers_left;
static struct rt_lock ask_lock;
static volatile uint32_t worker_done, script_started, mapped;

/* The objects of the run, mapped in this order (script.c: object N). */
static struct object {
	port_t port;		/* ours: the kernel's messages come here */
	/*
	 * From its first init: a port set of the object port, the mark port
	 * and the reply ports made for the host's messages, received by one
	 * thread in the order the messages came (ipc/ipc_mqueue.c,
	 * ipc_mqueue_send: a member's messages go on the set's one queue).
	 */
	volatile port_t set, mark;
	uint32_t base;		/* its mapping */
	uint32_t control;	/* the kernel's control port, from the last init */
	volatile uint32_t unmapped, terminated, inited;
	/* The attributes the pager last gave the kernel (ready, change_attributes). */
	volatile uint32_t may_cache, copy_strategy;
	uint32_t spares;	/* after_failed_supply */
	port_t owed[8];		/* ports a notification is owed to */
	uint32_t nowed;
} objs[AGENT_MAX_OBJECTS];
static uint32_t nobjects = 1;

/* The host's answer to the worker's last request (a CTL frame). */
static volatile uint32_t answered;
static char answer[128];

struct ool {
	uint32_t slot;		/* offset of the pointer slot in the message */
	uint32_t bytes;
	uint32_t desc;		/* offset of the type descriptor */
};

/*
 * Finds the out-of-line items of a user32 message body: type descriptors
 * of mach/message.h (short 4 bytes, long 12), inline data rounded to 4,
 * pointers in 8-byte slots (GNUMACH.md). Returns how many, or -1 when the
 * items do not fit in SIZE bytes. When PORTS is given, the names of inline
 * port rights go there (at most MAX_OOL, else -1), their count in *NPORTS.
 */
static int find_ool(const uint8_t *msg, uint32_t size, struct ool *o,
		    uint32_t *ports, uint32_t *nports)
{
	uint32_t pos = 24;
	int n = 0;

	if (nports)
		*nports = 0;
	while (pos < size) {
		uint32_t w, name, bits, number, len, desc = pos;

		if (size - pos < 4)
			return -1;
		memcpy(&w, msg + pos, 4);
		name = w & 0xff;
		bits = (w >> 8) & 0xff;
		number = (w >> 16) & 0xfff;
		pos += 4;
		if (w & (1u << 29)) {
			uint16_t s[2];

			if (size - pos < 8)
				return -1;
			memcpy(s, msg + pos, 4);
			memcpy(&number, msg + pos + 4, 4);
			name = s[0];
			bits = s[1];
			pos += 8;
		}
		if (bits && number > (0xffffffffu - 7) / bits)
			return -1;
		len = (bits * number + 7) / 8;
		if (!(w & (1u << 28))) {
			if (n == MAX_OOL || size - pos < 8)
				return -1;
			o[n].slot = pos;
			o[n].bytes = len;
			o[n].desc = desc;
			n++;
			len = 8;
		}
		len = (len + 3) & ~3u;
		if (size - pos < len)
			return -1;
		/* MACH_MSG_TYPE_MOVE_RECEIVE .. MAKE_SEND_ONCE, in 8-byte slots */
		if (ports && (w & (1u << 28)) && name >= 16 && name <= 21) {
			uint32_t k;

			if (bits != 64 || *nports + number > MAX_OOL)
				return -1;
			for (k = 0; k < number; k++)
				memcpy(&ports[(*nports)++], msg + pos + 8 * k, 4);
		}
		pos += len;
	}
	return n;
}

/*
 * The main thread polls the host ring; after the host's shm->spin empty
 * polls it sleeps on WAKE instead, so that an idle guest gives its CPU
 * back. Its own frames to the host (a kernel message, a worker's
 * request) wake it at once through a message to WAKE, and the host's
 * frames through the serial doorbell below (ivshmem-doorbell interrupts
 * by MSI-X only, guest/README.md); IDLE_SLEEP_MS is only a safety net.
 * Polling stays the fast way: a frame that wakes the guest through its
 * serial line costs a few qemu threads' wake-ups more.
 */
#define IDLE_SLEEP_MS 1000
#define WAKE_ID 0x6d6f7700	/* our own; never leaves the guest */
static volatile port_t wake;
static volatile uint32_t sleeping;

/*
 * The host's doorbell: the second serial port, com1 (IRQ 3), whose bytes
 * end a device_read the main thread leaves pending, its reply coming to
 * WAKE. GNU Mach's tty layer holds a read back until its input queue
 * passes a water mark or a timeout of 2 clock ticks or more, both by line
 * speed; below 300 baud the mark is 0 and there is no timeout, so the
 * first byte ends the read (device/chario.c, chario_init and ttyinput;
 * i386/i386at/com.c, comparam). Line speed means nothing to qemu's
 * socket.
 */
#define TTY_STATUS_FLAVOR (('t' << 16) + 1)	/* device/tty_status.h */
#define TTY_B200 6
#define TTY_LITOUT 0x8
#define KICK_READ 64		/* bytes a read takes at most: the reply fits WAKE's buffer */
static port_t kick_dev;
static volatile uint32_t kick_pending, kicks;

#define KICK_NAME (SPARE_NAME_BASE - 1)
#define MOVE_SEND 17	/* mach/message.h: MACH_MSG_TYPE_MOVE_SEND */

static void kick_open(void)
{
	uint32_t st[4] = { TTY_B200, TTY_B200, 0, TTY_LITOUT };
	port_t dev;
	kr_t kr;

	kr = rt_device_open("com1", 1, &dev);	/* D_READ */
	if (kr)
		rt_fatal("device_open com1 (the host's doorbell): %x", kr);
	/*
	 * Its right moves far above the names the kernel picks, and the name
	 * it had is free again, so that the kernel gives the object's ports
	 * the names of the golden capture.
	 */
	kr = syscall_mach_port_insert_right(rt_task, KICK_NAME, dev, MOVE_SEND);
	if (kr)
		rt_fatal("moving the com1 right: %x", kr);
	kick_dev = KICK_NAME;
	kr = rt_device_set_status(kick_dev, TTY_STATUS_FLAVOR, st, 4);
	if (kr)
		rt_fatal("device_set_status of com1: %x", kr);
}

static void wake_main(void)
{
	uint32_t m[8];

	if (!wake || !__atomic_exchange_n(&sleeping, 0, __ATOMIC_ACQ_REL))
		return;
	memset(m, 0, sizeof(m));
	m[0] = 20;		/* MACH_MSG_TYPE_MAKE_SEND, no reply port */
	m[1] = 24;
	m[2] = wake;
	m[5] = WAKE_ID;
	/* A full queue already holds a wake: nothing is lost by a timeout. */
	mach_msg_trap(m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, 24 + 8, 0, 0, 0, 0);
}

/*
 * Copies one frame into the g2h ring, waiting while the host is behind;
 * with RING, wakes a host that sleeps.
 */
static void frame_put_ring(uint16_t kind, const void *msg, uint32_t msg_len,
			   const struct ool *o, const uint32_t *addr, int nool, int ring)
{
	uint32_t len = sizeof(struct mo_frame) + mo_pad8(msg_len);
	struct mo_frame *f;
	uint8_t *p;
	int i;

	for (i = 0; i < nool; i++)
		len += sizeof(struct mo_frame_ool) + mo_pad8(o[i].bytes);
	if (len > MO_FRAME_MAX)
		rt_fatal("frame of %u bytes is too large for the ring", len);
	rt_lock(&g2h_lock);
	while (!(p = mo_ring_reserve(&g2h, len)))
		swtch_pri(0);
	f = (struct mo_frame *)p;
	f->len = len;
	f->kind = kind;
	f->nool = nool;
	f->msg_len = msg_len;
	f->seq = g2h.seq;
	p += sizeof(*f);
	memcpy(p, msg, msg_len);
	p += mo_pad8(msg_len);
	for (i = 0; i < nool; i++) {
		struct mo_frame_ool *r = (struct mo_frame_ool *)p;

		r->bytes = o[i].bytes;
		r->slot = 0;
		memcpy(p + sizeof(*r), (const void *)addr[i], o[i].bytes);
		p += sizeof(*r) + mo_pad8(o[i].bytes);
	}
	mo_ring_commit(&g2h, len);
	rt_unlock(&g2h_lock);
	if (!ring)
		return;
	/* The host sleeps on its doorbell: this frame wakes it (ring.h). */
	if (__atomic_exchange_n(&shm->host_waiting, 0, __ATOMIC_SEQ_CST))
		ivshmem_ring();
	wake_main();
}

static void frame_put(uint16_t kind, const void *msg, uint32_t msg_len,
		      const struct ool *o, const uint32_t *addr, int nool)
{
	frame_put_ring(kind, msg, msg_len, o, addr, nool, 1);
}

static void ctl_put(const char *text)
{
	frame_put(MO_FRAME_CTL, text, strlen(text), 0, 0, 0);
}

/*
 * The kernel's control ports, from memory_object_init, each with its
 * object: the only ports the host may send to. Other names in our space
 * (host_priv, the device master, our task) must never be reachable from
 * outside the guest.
 */
#define MAX_CONTROLS 64
static struct { uint32_t name, object; } controls[MAX_CONTROLS];
static volatile uint32_t ncontrols;
static struct rt_lock controls_lock;

static void remember_control(const uint8_t *msg, uint32_t size, uint32_t obj)
{
	const struct mo32_memory_object_init_req *m = (const void *)msg;
	uint32_t n;

	if (size < sizeof(*m))
		rt_fatal("memory_object_init of %u bytes", size);
	rt_lock(&controls_lock);
	n = ncontrols;
	if (n == MAX_CONTROLS)
		rt_fatal("more than %u memory_object_init messages", MAX_CONTROLS);
	controls[n].name = m->memory_control.name;
	controls[n].object = obj;
	objs[obj].control = m->memory_control.name;
	__atomic_store_n(&ncontrols, n + 1, __ATOMIC_RELEASE);
	rt_unlock(&controls_lock);
}

/* The object whose control port NAME is, or -1 when it is none. */
static int control_object(uint32_t name)
{
	uint32_t i, n = __atomic_load_n(&ncontrols, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		if (controls[i].name == name)
			return controls[i].object;
	return -1;
}

/*
 * A host message goes only to a control port with a copied send right,
 * with no reply port or a send-once right made to the object port of
 * that control port's object (a routine's reply, as for get_attributes,
 * comes back to its receiver), and may carry no right but to that port.
 * Returns 1 with ERR set when the message is refused.
 */
static int refuse(const uint8_t *msg, const uint32_t *ports, uint32_t nports,
		  char *err, uint32_t cap)
{
	const struct mo32_header *h = (const void *)msg;
	uint32_t i, local = (h->bits >> 8) & 0xff;
	int obj = control_object(h->remote);
	port_t object = obj < 0 ? 0 : objs[obj].port;
	int reply_ok = (h->local == 0 && local == 0) ||
		       (obj >= 0 && h->local == object && local == MAKE_SEND_ONCE);

	if (obj < 0 || (h->bits & 0xff) != 19 || !reply_ok) {
		rt_snprintf(err, cap, "error refused message %d: destination %u (bits 0x%x) is not a control port",
			    h->id, h->remote, h->bits);
		return 1;
	}
	for (i = 0; i < nports; i++)
		if (ports[i] != 0 && ports[i] != object) {
			rt_snprintf(err, cap, "error refused message %d: it carries a right to port %u",
				    h->id, ports[i]);
			return 1;
		}
	return 0;
}

/*
 * GNU Mach's memory_object_data_supply (vm/memory_object.c) sends
 * supply_completed on the reply_to right and then returns its result;
 * when that is an error (KERN_MEMORY_PRESENT), ipc_kobject_server
 * (kern/ipc_kobject.c) destroys the request "intact", reply_to included,
 * and ipc_object_destroy turns that send-once right into a send-once
 * notification to the same port: one right, two messages. The second
 * copyout then finds no send-once right left on our reply port and the
 * kernel panics (ipc/ipc_kmsg.c, ipc_kmsg_copyout_header: assertion
 * dest->ip_sorights > 0). So after a failed supply_completed we make one
 * send-once right to the reply port that we never use (the count and the
 * port's references stay right for the notification), and drop that
 * notification with a note: it is no message of the memory-object
 * protocol. Returns 1 when MSG, received in O's set, is such a
 * notification.
 */
static int after_failed_supply(const uint8_t *msg, uint32_t size, struct object *o)
{
	static uint32_t spares;
	const struct mo32_header *h = (const void *)msg;
	char note[96];
	uint32_t i;
	kr_t kr;

	if (h->id == ID_SUPPLY_COMPLETED) {
		const struct mo32_memory_object_supply_completed_req *m = (const void *)msg;

		if (size < sizeof(*m))
			rt_fatal("memory_object_supply_completed of %u bytes", size);
		if (m->result == 0)
			return 0;
		if (o->nowed == sizeof(o->owed) / sizeof(o->owed[0]))
			rt_fatal("more than %u failed data_supply replies unanswered", o->nowed);
		kr = syscall_mach_port_insert_right(rt_task,
						    SPARE_NAME_BASE + __atomic_fetch_add(&spares, 1, __ATOMIC_ACQ_REL),
						    h->local, MAKE_SEND_ONCE);
		if (kr)
			rt_fatal("spare send-once right to the reply port: %x", kr);
		o->spares++;
		o->owed[o->nowed++] = h->local;
		return 0;
	}
	if (h->id != ID_NOTIFY_SEND_ONCE)
		return 0;
	for (i = 0; i < o->nowed && o->owed[i] != h->local; i++)
		;
	if (i == o->nowed)
		return 0;
	o->owed[i] = o->owed[--o->nowed];
	rt_snprintf(note, sizeof(note),
		    "note send-once notification after a failed data_supply (%u so far), not relayed",
		    o->spares);
	ctl_put(note);
	return 1;
}

/*
 * The mark port's message, sent by the main thread just before it hands
 * host frame SEQ to the kernel (send_to_kernel): its place among the
 * kernel's messages is where GNU Mach received that one, and the host logs
 * it there ("sent", doc/guest.md). For the log only: no doorbell.
 */
#define MARK_ID 0x6d6f7702	/* our own; never leaves the guest */
struct mark_msg {
	uint32_t bits, size, remote, local, seqno;
	int32_t id;
	uint32_t seq, reply, off;
};

static void mark_put(const uint8_t *msg, uint32_t size, uint32_t obj)
{
	const struct mark_msg *m = (const void *)msg;
	char line[64];

	if (size < sizeof(*m) || m->id != MARK_ID)
		rt_fatal("message %d of %u bytes on the mark port", m->id, size);
	rt_snprintf(line, sizeof(line), "sent %u %u %u %u", m->seq, m->reply, m->off, obj);
	frame_put_ring(MO_FRAME_CTL, line, strlen(line), 0, 0, 0, 0);
}

static void make_set(struct object *ob)
{
	port_t set, mark;

	if (syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_PORT_SET, &set) ||
	    rt_port_move_member(ob->port, set) ||
	    syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &mark) ||
	    syscall_mach_port_insert_right(rt_task, mark, mark, MACH_MSG_TYPE_MAKE_SEND) ||
	    rt_port_move_member(mark, set))
		rt_fatal("the object's port set");
	__atomic_store_n(&ob->mark, mark, __ATOMIC_RELEASE);
	__atomic_store_n(&ob->set, set, __ATOMIC_RELEASE);
}

static int owed(const struct object *ob, port_t port)
{
	uint32_t i;

	for (i = 0; i < ob->nowed; i++)
		if (ob->owed[i] == port)
			return 1;
	return 0;
}

static void reply_done(port_t port)
{
	kr_t kr = rt_port_destroy(port);

	if (kr)
		rt_fatal("mach_port_destroy of reply port %u: %x", port, kr);
}

/* Kernel -> manager: every message on an object port goes to the host. */
static void receiver(void *arg)
{
	static uint8_t bufs[AGENT_MAX_OBJECTS][MSG_BUF + 8];
	struct object *ob = &objs[(uint32_t)arg];
	uint8_t *buf = bufs[(uint32_t)arg];
	struct mo32_hdr { uint32_t bits, size, remote, local, seqno; int32_t id; } *h =
		(void *)buf;
	struct ool o[MAX_OOL];
	uint32_t addr[MAX_OOL];
	int i, n, reply;

	for (;;) {
		/* The kernel delivers 8 bytes fewer than it counts (GNUMACH.md). */
		kr_t kr = mach_msg_trap(buf, MACH_RCV_MSG, 0, MSG_BUF + 8,
					ob->set ? ob->set : ob->port, 0, 0);

		if (kr)
			rt_fatal("mach_msg receive on the object port: %x", kr);
		if (h->size < 24 || h->size > MSG_BUF)
			rt_fatal("received message of %u bytes", h->size);
		n = find_ool(buf, h->size, o, 0, 0);
		if (h->local == ob->mark && ob->mark) {
			mark_put(buf, h->size, (uint32_t)arg);
			continue;
		}
		if (h->id == ID_INIT && n == 0) {
			if (!ob->set)
				make_set(ob);
			remember_control(buf, h->size, (uint32_t)arg);
			/*
			 * The main thread's wake port, made only now, so that
			 * the names the kernel gives the first object's ports
			 * stay those of the golden capture.
			 */
			if (!wake) {
				port_t w;

				if (syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &w))
					rt_fatal("mach_port_allocate of the wake port failed");
				__atomic_store_n(&wake, w, __ATOMIC_RELEASE);
			}
		}
		if (n < 0)
			rt_fatal("message %d: items do not fit in %u bytes", h->id, h->size);
		reply = h->local != ob->port;
		if (after_failed_supply(buf, h->size, ob)) {
			if (reply)
				reply_done(h->local);
			continue;
		}
		for (i = 0; i < n; i++)
			memcpy(&addr[i], buf + o[i].slot, 4);
		if (local)
			local_pager_serve(buf, ob->port);
		else
			frame_put(MO_FRAME_MSG, buf, h->size, o, addr, n);
		for (i = 0; i < n; i++)
			if (o[i].bytes)
				syscall_vm_deallocate(rt_task, addr[i], o[i].bytes);
		/* A reply port serves one reply, or two after a failed supply. */
		if (reply && !owed(ob, h->local))
			reply_done(h->local);
		if (h->id == ID_INIT)
			__atomic_store_n(&ob->inited, 1, __ATOMIC_RELEASE);
		/* The object may be mapped again: a new init then follows. */
		if (h->id == ID_TERMINATE)
			__atomic_store_n(&ob->terminated, 1, __ATOMIC_RELEASE);
	}
}

/*
 * The out-of-line data of the host's messages (data_supply's pages) goes
 * to the kernel from one buffer of ours, reused, without the deallocate
 * bit: the kernel copies it while the message is sent (Mach's copy
 * semantics for out-of-line memory), so the buffer is ours again when
 * the send returns. Giving the kernel fresh pages with the deallocate
 * bit instead costs a page of ours made each time (a vm_allocate and a
 * zero-fill fault) and, as the kernel takes them out of our map, a flush
 * of the whole TLB (GNU Mach's pmap_remove of a range: flush_tlb), under
 * which qemu's TCG drops its whole software TLB and its jump cache, so
 * that the kernel and the agent run cold until they are filled again:
 * about one such flush a relayed fault cycle, against one in eight
 * cycles for the pager inside the guest, and a cycle twice as long
 * (guest/README.md). Each region starts on a page of its own, as the
 * kernel gave zero-filled pages for data that was not page-aligned.
 */
static uint32_t copy_buf, copy_size;	/* the buffer, page-rounded */
static uint32_t copy_pages;		/* pages allocated for it so far */

/*
 * Better still, the host writes the data into our RAM itself: a pool of
 * wired, physically contiguous pages (vm_allocate_contiguous), whose
 * physical address the host maps from qemu's memory backend (ring.h,
 * MO_SHM_POOL). The kernel takes the data from there as from copy_buf,
 * and we neither copy it nor take the write fault that the kernel's
 * copy-on-write leaves on copy_buf's page (vm/vm_map.c,
 * vm_map_copyin_page_list: the source page is write-protected while it
 * is copied). A region the pool has no room for comes in the frame.
 */
static uint32_t pool_va, pool_pages;
static uint32_t pool_done;		/* pages done with, as shm->pool_done */

static void pool_open(void)
{
	uint32_t va, want = shm->pool_pages;
	uint64_t phys;
	kr_t kr;

	shm->pool_pages = 0;
	if (local || !(shm->flags & MO_SHM_POOL) || want == 0 || want > MO_POOL_MAX)
		return;
	kr = rt_vm_allocate_contiguous(want * PAGE_SIZE, &va, &phys);
	if (kr) {
		rt_printf("mo-agent: no page pool for the host's data (vm_allocate_contiguous: %x)\n", kr);
		return;
	}
	pool_va = va;
	pool_pages = want;
	shm->pool_phys = (uint32_t)phys;
	shm->pool_done = 0;
	/* Named before the hello, which the host reads it at. */
	__atomic_store_n(&shm->pool_pages, pool_pages, __ATOMIC_RELEASE);
}

/*
 * The pool pages of F's regions, checked against the order the host takes
 * them in (ring.h, struct mo_frame_ool), with the frame's bounds.
 */
static uint32_t pool_taken(const struct mo_frame *f)
{
	const uint8_t *p = (const uint8_t *)(f + 1) + mo_pad8(f->msg_len);
	const uint8_t *end = (const uint8_t *)f + f->len;
	uint32_t i, pages = 0;

	if (f->kind != MO_FRAME_MSG)
		return 0;
	if ((uint32_t)(end - (const uint8_t *)(f + 1)) < mo_pad8(f->msg_len))
		rt_fatal("host frame %u: its message runs past the frame", f->seq);
	for (i = 0; i < f->nool; i++) {
		const struct mo_frame_ool *r = (const void *)p;
		uint32_t n;

		if ((uint32_t)(end - p) < sizeof(*r))
			rt_fatal("host frame %u: out-of-line region %u does not fit", f->seq, i);
		if (!r->slot) {
			/* BYTES first: mo_pad8 wraps near 2^32. */
			if (r->bytes > (uint32_t)(end - p) - sizeof(*r) ||
			    (uint32_t)(end - p) - sizeof(*r) < mo_pad8(r->bytes))
				rt_fatal("host frame %u: out-of-line region %u does not fit", f->seq, i);
			p += sizeof(*r) + mo_pad8(r->bytes);
			continue;
		}
		n = (r->bytes + PAGE_SIZE - 1) / PAGE_SIZE;
		if (!pool_pages || r->bytes == 0 || r->slot - 1 != (pool_done + pages) % pool_pages ||
		    n > pool_pages - (r->slot - 1))
			rt_fatal("host frame %u: region %u in pool page %u (%u bytes), expected page %u of %u",
				 f->seq, i, r->slot - 1, r->bytes,
				 pool_pages ? (pool_done + pages) % pool_pages : 0, pool_pages);
		pages += n;
		p += sizeof(*r);
	}
	return pages;
}

/* The host may write PAGES more of the pool: the kernel is done with them. */
static void pool_release(uint32_t pages)
{
	if (!pages)
		return;
	pool_done += pages;
	__atomic_store_n(&shm->pool_done, pool_done, __ATOMIC_RELEASE);
}

/* Room for BYTES of copies at copy_buf, or an error when there is no memory. */
static kr_t copy_room(uint32_t bytes)
{
	uint32_t a;
	kr_t kr;

	if (bytes <= copy_size)
		return 0;
	kr = rt_vm_allocate(&a, bytes);
	if (kr)
		return kr;
	if (copy_size)
		syscall_vm_deallocate(rt_task, copy_buf, copy_size);
	copy_buf = a;
	copy_size = bytes;
	copy_pages += bytes / PAGE_SIZE;
	return 0;
}

/*
 * The kernel serves a message to a control port in the sending thread:
 * ipc_kmsg_send (ipc/ipc_kmsg.c) calls ipc_kobject_server for a port of
 * ipc_space_kernel, and memory_object_lock_request (vm/memory_object.c)
 * runs there. When memory_object_lock_page answers MUST_BLOCK (a page
 * busy and not absent, or wired when the request would change it), it
 * waits in thread_block until the page is woken, and only the sender
 * waits: the next message from another thread is served at once. So a
 * pager whose requests come from several threads is held up by one
 * waiting lock_request only in that thread. A requested page is absent
 * (vm/vm_fault.c, vm_fault_page: m->absent before data_request) and the
 * walk skips it without waiting. The other routines of the host wait at
 * most for a page the kernel itself is working on (data_supply on a busy
 * page that is not absent), so the main thread sends them.
 *
 * Each lock_request goes to a sender thread; the main thread waits until
 * the send is over or the sender waits in the kernel (thread_info), then
 * goes on with the next frame: the kernel sees the messages in ring order
 * and a waiting lock_request holds up nothing. Up to MAX_SENDERS may wait
 * at once, like a pager with as many threads; one more waits for a free
 * sender.
 */
#define MAX_SENDERS 4
#define SENDER_BUF 256
#define SENDER_JOB_ID 0x6d6f7701	/* our own; never leaves the guest */
static struct sender {
	port_t thread, port;
	volatile uint32_t busy;		/* a message is ours to send */
	volatile uint32_t in_kernel;	/* in mach_msg with it */
	uint32_t size;
	port_t reply;			/* its reply port, or 0 */
	uint8_t buf[SENDER_BUF + 8];
} senders[MAX_SENDERS];
static uint32_t nsenders;

static void sender(void *arg)
{
	struct sender *s = arg;
	uint32_t m[8];

	for (;;) {
		char err[96];
		kr_t kr;

		if (mach_msg_trap(m, MACH_RCV_MSG, 0, sizeof(m), s->port, 0, 0))
			rt_fatal("sender: receive on its port failed");
		__atomic_store_n(&s->in_kernel, 1, __ATOMIC_SEQ_CST);
		kr = rt_send(s->buf, s->size);
		__atomic_store_n(&s->in_kernel, 0, __ATOMIC_SEQ_CST);
		if (kr) {
			int32_t id;

			memcpy(&id, s->buf + 20, 4);
			if (s->reply)
				reply_done(s->reply);
			rt_snprintf(err, sizeof(err), "error sending message %d to the kernel: 0x%x", id, kr);
			ctl_put(err);
		}
		__atomic_store_n(&s->busy, 0, __ATOMIC_SEQ_CST);
	}
}

/* A free sender, made when none is: NULL when MAX_SENDERS wait already. */
static struct sender *free_sender(void)
{
	struct sender *s;
	uint32_t i;

	for (i = 0; i < nsenders; i++)
		if (!__atomic_load_n(&senders[i].busy, __ATOMIC_ACQUIRE))
			return &senders[i];
	if (nsenders == MAX_SENDERS)
		return 0;
	s = &senders[nsenders];
	if (syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &s->port) ||
	    syscall_mach_port_insert_right(rt_task, s->port, s->port, MACH_MSG_TYPE_MAKE_SEND))
		rt_fatal("sender %u: its port", nsenders);
	if (rt_thread_start_port(sender, s, &s->thread))
		rt_fatal("starting sender thread %u", nsenders);
	nsenders++;
	return s;
}

static void send_waitable(const uint8_t *msg, uint32_t size, port_t reply)
{
	struct sender *s;
	uint32_t m[8], state;

	if (size > SENDER_BUF)
		rt_fatal("lock_request of %u bytes", size);
	while (!(s = free_sender()))
		swtch_pri(0);
	memcpy(s->buf, msg, size);
	s->size = size;
	s->reply = reply;
	__atomic_store_n(&s->busy, 1, __ATOMIC_SEQ_CST);
	memset(m, 0, sizeof(m));
	m[0] = 19;		/* MACH_MSG_TYPE_COPY_SEND, no reply port */
	m[1] = 24;
	m[2] = s->port;
	m[5] = SENDER_JOB_ID;
	if (mach_msg_trap(m, MACH_SEND_MSG, 24 + 8, 0, 0, 0, 0))
		rt_fatal("sender: waking it failed");
	/*
	 * A sender seen waiting while still in mach_msg with the message
	 * (in_kernel read before thread_info, busy after) waits in the
	 * kernel's lock_request, not for its next job.
	 */
	while (__atomic_load_n(&s->busy, __ATOMIC_SEQ_CST)) {
		int in = __atomic_load_n(&s->in_kernel, __ATOMIC_SEQ_CST);

		if (in && !rt_thread_run_state(s->thread, &state) &&
		    (state == RT_TH_STATE_WAITING || state == RT_TH_STATE_UNINTERRUPTIBLE) &&
		    __atomic_load_n(&s->busy, __ATOMIC_SEQ_CST))
			return;
		swtch_pri(0);
	}
}

/*
 * Where the send-once right to OBJECT that a host message makes for its
 * reply sits (refuse allows no other right): the header's local port of
 * get_attributes, the reply_to of lock_request, data_supply and
 * change_attributes (mach.defs); 0 when it has none.
 */
static uint32_t reply_slot(const uint8_t *msg, uint32_t size, port_t object)
{
	const struct mo32_header *h = (const void *)msg;
	uint32_t off, type, name;

	if (h->id == MO32_MEMORY_OBJECT_GET_ATTRIBUTES_ID)
		return h->local == object && ((h->bits >> 8) & 0xff) == MAKE_SEND_ONCE ? 12 : 0;
	if (h->id == MO32_MEMORY_OBJECT_LOCK_REQUEST_ID)
		off = __builtin_offsetof(struct mo32_memory_object_lock_request_req, reply_to);
	else if (h->id == MO32_MEMORY_OBJECT_DATA_SUPPLY_ID)
		off = __builtin_offsetof(struct mo32_memory_object_data_supply_req, reply_to);
	else if (h->id == MO32_MEMORY_OBJECT_CHANGE_ATTRIBUTES_ID)
		off = __builtin_offsetof(struct mo32_memory_object_change_attributes_req, reply_to);
	else
		return 0;
	if (off + 8 > size)
		return 0;
	memcpy(&type, msg + off - 4, 4);
	memcpy(&name, msg + off, 4);
	return name == object && (type & 0xff) == MAKE_SEND_ONCE ? off : 0;
}

/* Manager -> kernel: one message frame from the host, sent as it is. */
static void kernel_send(const struct mo_frame *f);

/* The kernel has copied the pool's pages once the send returns (copy_buf). */
static void send_to_kernel(const struct mo_frame *f)
{
	uint32_t pages = pool_taken(f);

	kernel_send(f);
	pool_release(pages);
}

static void kernel_send(const struct mo_frame *f)
{
	static uint8_t buf[MSG_BUF + 8];
	const uint8_t *p = (const uint8_t *)(f + 1);
	const uint8_t *q;
	struct ool o[MAX_OOL];
	uint32_t size = f->msg_len, ports[MAX_OOL], nports, reply_off, room, at;
	struct mark_msg mark;
	struct object *ob;
	char err[96];
	int i, n;
	kr_t kr;

	if (size < 24 || size > MSG_BUF)
		rt_fatal("host message of %u bytes", size);
	memcpy(buf, p, size);
	n = find_ool(buf, size, o, ports, &nports);
	if (n < 0 || n != f->nool)
		rt_fatal("host message: %d out-of-line items, frame says %u", n, f->nool);
	if (refuse(buf, ports, nports, err, sizeof(err))) {
		ctl_put(err);
		return;
	}
	ob = &objs[control_object(((const struct mo32_header *)buf)->remote)];
	mark.reply = mark.off = 0;
	reply_off = reply_slot(buf, size, ob->port);
	if (reply_off) {
		/*
		 * As a pager on GNU Mach names a reply port of its own, the
		 * send-once right goes to a fresh port in the object's set
		 * (its reply comes back in order with the kernel's other
		 * messages), destroyed once it has served.
		 */
		if (syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &mark.reply) ||
		    rt_port_move_member(mark.reply, ob->set))
			rt_fatal("a reply port for host message %d", ((const struct mo32_header *)buf)->id);
		memcpy(buf + reply_off, &mark.reply, 4);
		mark.off = reply_off;
	}
	mark.bits = 19;		/* MACH_MSG_TYPE_COPY_SEND, no reply port */
	mark.size = sizeof(mark);
	mark.remote = ob->mark;
	mark.local = mark.seqno = 0;
	mark.id = MARK_ID;
	mark.seq = f->seq;
	p += mo_pad8(size);
	/* Every region fits in the frame (and so below MO_FRAME_MAX) before any is copied. */
	for (i = 0, room = 0, q = p; i < n; i++) {
		const struct mo_frame_ool *r = (const void *)q;

		/* pool_taken checked the bounds and the pool's regions. */
		if (r->bytes != o[i].bytes)
			rt_fatal("host message: out-of-line region %d has %u bytes, its frame %u",
				 i, o[i].bytes, r->bytes);
		if (r->slot) {
			q += sizeof(*r);
			continue;
		}
		room += (r->bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		q += sizeof(*r) + mo_pad8(r->bytes);
	}
	if (copy_room(room))
		rt_fatal("vm_allocate of %u bytes for host message data failed", room);
	for (i = 0, at = copy_buf; i < n; i++) {
		const struct mo_frame_ool *r = (const void *)p;
		uint32_t addr = 0, w, rounded = (o[i].bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

		/* The kernel copies the bytes: no deallocate bit (copy_buf). */
		if (r->slot) {
			addr = pool_va + (r->slot - 1) * PAGE_SIZE;
		} else if (r->bytes) {
			addr = at;
			memcpy((void *)addr, p + sizeof(*r), r->bytes);
			/* Nothing of an earlier message in the region's last page. */
			memset((void *)(addr + r->bytes), 0, rounded - r->bytes);
			at += rounded;
		}
		memcpy(buf + o[i].slot, &addr, 4);
		memset(buf + o[i].slot + 4, 0, 4);
		memcpy(&w, buf + o[i].desc, 4);
		w &= ~(1u << 30);
		memcpy(buf + o[i].desc, &w, 4);
		p += sizeof(*r) + (r->slot ? 0 : mo_pad8(r->bytes));
	}
	if ((mark.reply || (shm->flags & MO_SHM_MARKS)) &&
	    mach_msg_trap(&mark, MACH_SEND_MSG, sizeof(mark) + 8, 0, 0, 0, 0))
		rt_fatal("the mark of host frame %u", f->seq);
	if (((const struct mo32_header *)buf)->id == MO32_MEMORY_OBJECT_LOCK_REQUEST_ID && n == 0) {
		send_waitable(buf, size, mark.reply);
		return;
	}
	kr = rt_send(buf, size);
	if (!kr && size >= sizeof(struct mo32_memory_object_ready_req) &&
	    (((const struct mo32_header *)buf)->id == ID_READY ||
	     ((const struct mo32_header *)buf)->id == ID_CHANGE_ATTRIBUTES)) {
		const struct mo32_memory_object_ready_req *m = (const void *)buf;

		/* change_attributes begins as ready does (msg32.h). */
		ob->copy_strategy = m->copy_strategy;
		__atomic_store_n(&ob->may_cache, m->may_cache != 0, __ATOMIC_RELEASE);
	}
	if (kr) {
		int32_t id;

		memcpy(&id, buf + 20, 4);
		/* Not sent: no reply will come to its reply port. */
		if (mark.reply)
			reply_done(mark.reply);
		/* Tell the host rather than dying: the run is its to judge. */
		rt_snprintf(err, sizeof(err), "error sending message %d to the kernel: 0x%x", id, kr);
		ctl_put(err);
	}
}

/* Asks the host (the pager side) to act and waits for its answer. */
static void ask_host(const char *text)
{
	rt_lock(&ask_lock);
	answered = 0;
	ctl_put(text);
	while (!__atomic_load_n(&answered, __ATOMIC_ACQUIRE))
		swtch_pri(0);
	if (memcmp(answer, "ok", 2) != 0)
		rt_fatal("host refused '%s': %s", text, answer);
	rt_unlock(&ask_lock);
}

/* The script's services (agent.h). */
void agent_ctl(const char *text)
{
	ctl_put(text);
}

int agent_local(void)
{
	return local;
}

uint32_t agent_objects(void)
{
	return nobjects;
}

uint32_t agent_base(uint32_t obj)
{
	return objs[obj].base;
}

uint32_t agent_size(void)
{
	return npages * PAGE_SIZE;
}

int agent_unmapped(uint32_t obj)
{
	return objs[obj].unmapped;
}

void agent_unmap(uint32_t obj)
{
	struct object *o = &objs[obj];
	kr_t kr = syscall_vm_deallocate(rt_task, o->base, npages * PAGE_SIZE);
	uint32_t i;

	if (kr)
		rt_fatal("vm_deallocate of object %u: %x", obj, kr);
	o->unmapped = 1;
	/*
	 * A pager that does not let the object be cached gets terminate now
	 * (PROTOCOL.md 10); wait a little for it so that the run ends after it.
	 */
	for (i = 0; i < 200 && !o->terminated && !__atomic_load_n(&o->may_cache, __ATOMIC_ACQUIRE); i++)
		rt_sleep_ms(10);
}

/*
 * At the end of the run, an object the kernel keeps cached goes back as
 * mo-map's kernel empties its cache: GNU Mach lets it go when it may no
 * longer be cached. memory_object_change_attributes with may_cache FALSE
 * drops the reference vm_object_lookup took and vm_object_deallocate then
 * terminates the unreferenced object, dirty and precious pages first
 * (vm/memory_object.c: "the reply ... shows up after the terminate
 * message that may be generated by setting the object uncacheable").
 */
static void uncache(struct object *o)
{
	struct mo32_memory_object_change_attributes_req m;
	char note[120];
	uint32_t i;
	kr_t kr;

	if (o->terminated || !__atomic_load_n(&o->may_cache, __ATOMIC_ACQUIRE) || !o->control)
		return;
	rt_snprintf(note, sizeof(note),
		    "note the object is cached: change_attributes(may_cache=FALSE) to control port %u ends it",
		    o->control);
	ctl_put(note);
	mo32_memory_object_change_attributes_req_init(&m);
	m.head.remote = o->control;
	m.may_cache = 0;
	m.copy_strategy = o->copy_strategy;
	m.reply_to.name = m.reply_to.high = 0;
	kr = rt_send(&m, sizeof(m));
	if (kr)
		rt_fatal("memory_object_change_attributes to end the cached object: %x", kr);
	for (i = 0; i < 1000 && !__atomic_load_n(&o->terminated, __ATOMIC_ACQUIRE); i++)
		rt_sleep_ms(10);
	if (!o->terminated)
		rt_fatal("no memory_object_terminate 10 s after the object stopped being cacheable");
}

/*
 * Maps object OBJ (at the start, or again after unmap as mo-map's map
 * does, at a new address), and waits until its receiver has passed the
 * kernel's memory_object_init on: the objects' inits then reach the host
 * in the order of their mappings, as mo-map sends them.
 */
static void map_object(uint32_t obj)
{
	struct object *o = &objs[obj];
	uint64_t cell = 0;
	int first = o->control == 0;
	kr_t kr;

	o->terminated = 0;
	o->inited = 0;
	kr = syscall_vm_map(rt_task, &cell, npages * PAGE_SIZE, 0, 1, o->port, 0,
			    0, VM_PROT_READ | VM_PROT_WRITE,
			    VM_PROT_READ | VM_PROT_WRITE, VM_INHERIT_NONE);
	if (kr)
		rt_fatal("vm_map of memory object %u: %x", obj, kr);
	o->base = (uint32_t)cell;
	o->unmapped = 0;
	/* Mapped again, a cached object gets no init: only the first waits. */
	while (first && !__atomic_load_n(&o->inited, __ATOMIC_ACQUIRE))
		swtch_pri(0);
}

void agent_map(uint32_t obj)
{
	map_object(obj);
}

/*
 * clean, flush, error, zero: one page; flushall: the whole object;
 * misdirect: port OFF.
 */
void agent_pager(uint32_t obj, const char *verb, uint32_t off)
{
	char buf[48];
	int all = !strcmp(verb, "flushall");

	if (!strcmp(verb, "misdirect")) {
		rt_snprintf(buf, sizeof(buf), "cmd %s %u %u", verb, off, obj);
		ask_host(buf);
		return;
	}
	if (local) {
		local_pager_lock(all ? 0 : off & ~(PAGE_SIZE - 1),
				 all ? npages * PAGE_SIZE : PAGE_SIZE,
				 strcmp(verb, "clean") != 0, objs[obj].port);
		return;
	}
	rt_snprintf(buf, sizeof(buf), "cmd %s %u %u", verb, all ? npages : off / PAGE_SIZE, obj);
	ask_host(buf);
}

static void worker(void *arg)
{
	while (!__atomic_load_n(&mapped, __ATOMIC_ACQUIRE))
		swtch_pri(0);
	script_run((uint32_t)arg);
	if (__atomic_sub_fetch(&workers_left, 1, __ATOMIC_ACQ_REL) == 0) {
		uint32_t i;

		/* As mo-map at its end: the objects go back as an unmap would. */
		for (i = 0; i < nobjects; i++)
			if (!objs[i].unmapped)
				agent_unmap(i);
		for (i = 0; !local && i < nobjects; i++)
			uncache(&objs[i]);
		ctl_put("done");
		worker_done = 1;
	}
	rt_park();
}

/* The script arrived: parse it (rt_fatal on errors) and start the workers. */
static void start_script(const struct mo_frame *f)
{
	uint32_t t;

	if (script_started)
		rt_fatal("a second script from the host");
	script_started = 1;
	script_parse((const char *)(f + 1), f->msg_len);
	script_threads(nthreads);
	workers_left = nthreads;
	for (t = 0; t < nthreads; t++)
		if (rt_thread_start(worker, (void *)t))
			rt_fatal("starting worker thread %u", t);
}

/*
 * Host -> guest: until the workload is over and the host has seen it all,
 * or, with UNTIL_SCRIPT, until the script's workers exist.
 */
static void relay_from_host(int until_script)
{
	static uint8_t buf[MO32_DEVICE_READ_INBAND_REP_ARRAY_OFF + KICK_READ + 8];
	struct mo_frame *f;
	uint32_t idle = 0;

	for (;;) {
		int r;

		if (until_script && script_started)
			return;
		r = mo_ring_next(&h2g, &f);
		if (r < 0)
			rt_fatal("bad frame in the host ring at %u", h2g.idx->head);
		if (r == 0) {
			if (worker_done &&
			    mo_ring_load(&g2h.idx->head) == g2h.idx->tail &&
			    shm->host_state == MO_PEER_DONE)
				return;
			if (++idle <= shm->spin || !__atomic_load_n(&wake, __ATOMIC_ACQUIRE)) {
				/* The worker and receivers run meanwhile. */
				swtch_pri(0);
				continue;
			}
			if (!kick_pending) {
				if (rt_device_read_request(kick_dev, KICK_READ, wake))
					rt_fatal("device_read of com1 (the host's doorbell) failed");
				kick_pending = 1;
			}
			__atomic_store_n(&sleeping, 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&shm->guest_waiting, 1, __ATOMIC_SEQ_CST);
			/* A frame that came meanwhile is taken at once. */
			if (mo_ring_load(&h2g.idx->tail) == h2g.idx->head &&
			    shm->host_state != MO_PEER_DONE &&
			    mach_msg_trap(buf, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(buf),
					  wake, IDLE_SLEEP_MS, 0) == 0) {
				const struct mo32_header *h = (const void *)buf;

				if (h->id == MO32_DEVICE_READ_INBAND_ID + 100) {
					kick_pending = 0;
					kicks++;
				} else {
					idle = 0;	/* our own frame: the host's answer comes soon */
				}
			}
			__atomic_store_n(&shm->guest_waiting, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&sleeping, 0, __ATOMIC_RELEASE);
			continue;
		}
		idle = 0;
		if (f->seq != h2g.seq)
			rt_fatal("host frame %u arrived as number %u", f->seq, h2g.seq);
		if (f->kind == MO_FRAME_MSG)
			send_to_kernel(f);
		else if (f->kind == MO_FRAME_SCRIPT)
			start_script(f);
		else if (f->kind == MO_FRAME_CTL) {
			uint32_t n = f->msg_len < sizeof(answer) - 1 ?
				     f->msg_len : sizeof(answer) - 1;

			memcpy(answer, f + 1, n);
			answer[n] = 0;
			__atomic_store_n(&answered, 1, __ATOMIC_RELEASE);
		}
		mo_ring_release(&h2g, f->len);
	}
}

void agent_start(uint32_t *sp);

void agent_start(uint32_t *sp)
{
	uint32_t argc = sp[0];
	char **argv = (char **)(sp + 1);
	uint32_t i;
	kr_t kr;

	rt_task = mach_task_self();
	if (argc < 6 || rt_number(argv[1], &rt_host_priv) ||
	    rt_number(argv[2], &rt_device_master))
		for (;;)
			swtch_pri(0);	/* no console without the device port */
	rt_console_open();
	if (strcmp(argv[3], "local") == 0)
		local = 1;
	else if (strcmp(argv[3], "relay") != 0)
		rt_fatal("bad mode '%s' (relay or local)", argv[3]);
	if (rt_number(argv[4], &npages) || npages == 0 || npages > 0x10000)
		rt_fatal("bad page count '%s'", argv[4]);
	if (rt_number(argv[5], &nthreads) || nthreads == 0 || nthreads > MAX_THREADS)
		rt_fatal("bad thread count '%s' (1 to %u)", argv[5], MAX_THREADS);
	if (argc > 6 && (rt_number(argv[6], &nobjects) || nobjects == 0 ||
			 nobjects > AGENT_MAX_OBJECTS || (local && nobjects > 1)))
		rt_fatal("bad object count '%s' (1 to %u; 1 with the local pager)",
			 argv[6], AGENT_MAX_OBJECTS);
	rt_printf("mo-agent: started, %u pages, %u threads, %u objects, %s\n",
		  npages, nthreads, nobjects, argv[3]);

	shm = ivshmem_map(MO_SHM_SIZE);
	if (shm->magic != MO_RING_MAGIC || shm->version != MO_RING_VERSION)
		rt_fatal("shared memory has magic %x version %u, not a motrace ring",
			 shm->magic, shm->version);
	mo_ring_attach(&g2h, shm, 1);
	mo_ring_attach(&h2g, shm, 0);
	kick_open();
	pool_open();
	shm->guest_state = MO_PEER_READY;
	/* The frame format's version and the messages' ABI profile. */
	ctl_put("hello mo-agent 1 user32");

	for (i = 0; i < nobjects; i++) {
		char line[48];

		kr = syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &objs[i].port);
		if (kr)
			rt_fatal("mach_port_allocate: %x", kr);
		kr = syscall_mach_port_insert_right(rt_task, objs[i].port, objs[i].port,
						    MACH_MSG_TYPE_MAKE_SEND);
		if (kr)
			rt_fatal("mach_port_insert_right: %x", kr);
		kr = rt_thread_start(receiver, (void *)i);
		if (kr)
			rt_fatal("starting the receiver thread: %x", kr);
		/* Which port stands for which object, for the host. */
		rt_snprintf(line, sizeof(line), "object %u %u", i, objs[i].port);
		ctl_put(line);
	}
	fault_init();
	/*
	 * The workers (and their ports) exist before the mapping, so that the
	 * names the kernel gives the control and name ports are the same in
	 * every run: tests and golden captures compare them.
	 */
	relay_from_host(1);
	/* The kernel sends memory_object_init to each port now (PROTOCOL.md 1). */
	for (i = 0; i < nobjects; i++)
		map_object(i);
	__atomic_store_n(&mapped, 1, __ATOMIC_RELEASE);
	relay_from_host(0);
	rt_printf("mo-agent: done, woken %u times by the host's serial doorbell, %u pages allocated for the host's data, %u pages of it from the pool\n",
		  kicks, copy_pages, pool_done);
	rt_reboot();
}
