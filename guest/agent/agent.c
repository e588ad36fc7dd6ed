/*
 * guest/agent/agent.c: GNU Mach's bootstrap task for motrace.
 *
 * It creates a memory object port, vm_maps it and relays the pager traffic
 * of that object through the ivshmem rings (guest/ring.h, doc/guest.md):
 *
 *   receiver thread   kernel -> manager messages on the object port, copied
 *                     into g2h frames as received, out-of-line data appended
 *   main thread       h2g frames: messages to the kernel's control ports
 *                     (out-of-line data put back in memory first), and the
 *                     host's answers to the worker
 *   worker thread     the workload script, touching the mapped pages
 *
 * usage (boot script): mo-agent ${host-port} ${device-port} MODE PAGES STEP...
 * MODE: relay (the host serves the object) or local (localpager.c does,
 * for the benchmark's floor). STEP: read:N write:N clean:N flush:N
 * flushall writeall cycles:N unmap par:STEP+STEP (see guest/README.md).
 */
#include "guest/agent/agent.h"
#include "msg32.h"

#define MSG_BUF 0x10000u
#define MAX_OOL 16
#define MAX_PAR 4		/* members of one par: step */
#define ID_INIT 2200		/* memory_object.defs: subsystem 2200 */
#define ID_TERMINATE 2201

static struct mo_ring g2h, h2g;
static struct mo_shm_header *shm;
static struct rt_lock g2h_lock;
static port_t object;
static uint32_t base, npages;
static char **steps;
static uint32_t nsteps;
static int local;		/* MODE local: no kernel messages leave the guest */
static volatile uint32_t terminated, worker_done;

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

/* Copies one frame into the g2h ring, waiting while the host is behind. */
static void frame_put(uint16_t kind, const void *msg, uint32_t msg_len,
		      const struct ool *o, const uint32_t *addr, int nool)
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
		r->reserved = 0;
		memcpy(p + sizeof(*r), (const void *)addr[i], o[i].bytes);
		p += sizeof(*r) + mo_pad8(o[i].bytes);
	}
	mo_ring_commit(&g2h, len);
	rt_unlock(&g2h_lock);
}

static void ctl_put(const char *text)
{
	frame_put(MO_FRAME_CTL, text, strlen(text), 0, 0, 0);
}

/*
 * The kernel's control ports, from memory_object_init: the only ports the
 * host may send to. Other names in our space (host_priv, the device
 * master, our task) must never be reachable from outside the guest.
 */
#define MAX_OBJECTS 16
static uint32_t controls[MAX_OBJECTS];
static volatile uint32_t ncontrols;

static void remember_control(const uint8_t *msg, uint32_t size)
{
	const struct mo32_memory_object_init_req *m = (const void *)msg;

	if (size < sizeof(*m))
		rt_fatal("memory_object_init of %u bytes", size);
	if (ncontrols == MAX_OBJECTS)
		rt_fatal("more than %u memory objects", MAX_OBJECTS);
	controls[ncontrols] = m->memory_control.name;
	__atomic_store_n(&ncontrols, ncontrols + 1, __ATOMIC_RELEASE);
}

static int is_control(uint32_t name)
{
	uint32_t i, n = __atomic_load_n(&ncontrols, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		if (controls[i] == name)
			return 1;
	return 0;
}

/*
 * A host message goes only to a control port with a copied send right,
 * without a reply port, and may carry no right but to our object port.
 * Returns 1 with ERR set when the message is refused.
 */
static int refuse(const uint8_t *msg, const uint32_t *ports, uint32_t nports,
		  char *err, uint32_t cap)
{
	const struct mo32_header *h = (const void *)msg;
	uint32_t i;

	if (!is_control(h->remote) || (h->bits & 0xff) != 19 || h->local != 0) {
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

/* Kernel -> manager: every message on the object port goes to the host. */
static void receiver(void *arg)
{
	static uint8_t buf[MSG_BUF + 8];
	struct mo32_hdr { uint32_t bits, size, remote, local, seqno; int32_t id; } *h =
		(void *)buf;
	struct ool o[MAX_OOL];
	uint32_t addr[MAX_OOL];
	int i, n;

	for (;;) {
		/* The kernel delivers 8 bytes fewer than it counts (GNUMACH.md). */
		kr_t kr = mach_msg_trap(buf, MACH_RCV_MSG, 0, sizeof(buf), object, 0, 0);

		if (kr)
			rt_fatal("mach_msg receive on the object port: %x", kr);
		if (h->size < 24 || h->size > MSG_BUF)
			rt_fatal("received message of %u bytes", h->size);
		n = find_ool(buf, h->size, o, 0, 0);
		if (h->id == ID_INIT && n == 0)
			remember_control(buf, h->size);
		if (n < 0)
			rt_fatal("message %d: items do not fit in %u bytes", h->id, h->size);
		for (i = 0; i < n; i++)
			memcpy(&addr[i], buf + o[i].slot, 4);
		if (local)
			local_pager_serve(buf, object);
		else
			frame_put(MO_FRAME_MSG, buf, h->size, o, addr, n);
		for (i = 0; i < n; i++)
			if (o[i].bytes)
				syscall_vm_deallocate(rt_task, addr[i], o[i].bytes);
		if (h->id == ID_TERMINATE) {
			terminated = 1;
			rt_park();
		}
	}
}

/* Manager -> kernel: one message frame from the host, sent as it is. */
static void send_to_kernel(const struct mo_frame *f)
{
	static uint8_t buf[MSG_BUF + 8];
	const uint8_t *p = (const uint8_t *)(f + 1);
	const uint8_t *end = (const uint8_t *)f + f->len;
	struct ool o[MAX_OOL];
	uint32_t size = f->msg_len, ports[MAX_OOL], nports;
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
	p += mo_pad8(size);
	for (i = 0; i < n; i++) {
		const struct mo_frame_ool *r = (const void *)p;
		uint32_t addr = 0, w;

		if ((uint32_t)(end - p) < sizeof(*r) ||
		    r->bytes != o[i].bytes ||
		    (uint32_t)(end - p) - sizeof(*r) < mo_pad8(r->bytes))
			rt_fatal("host message: out-of-line region %d does not fit", i);
		/* The kernel takes the pages (deallocate bit): no copy left here. */
		if (r->bytes) {
			if (rt_vm_allocate(&addr, r->bytes))
				rt_fatal("vm_allocate of %u bytes failed", r->bytes);
			memcpy((void *)addr, p + sizeof(*r), r->bytes);
		}
		memcpy(buf + o[i].slot, &addr, 4);
		memset(buf + o[i].slot + 4, 0, 4);
		memcpy(&w, buf + o[i].desc, 4);
		w |= 1u << 30;
		memcpy(buf + o[i].desc, &w, 4);
		p += sizeof(*r) + mo_pad8(r->bytes);
	}
	kr = rt_send(buf, size);
	if (kr) {
		int32_t id;

		/* A refused message left its out-of-line copies with us. */
		for (i = 0; i < n; i++) {
			uint32_t addr;

			memcpy(&addr, buf + o[i].slot, 4);
			if (addr)
				syscall_vm_deallocate(rt_task, addr, o[i].bytes);
		}
		memcpy(&id, buf + 20, 4);
		/* Tell the host rather than dying: the run is its to judge. */
		rt_snprintf(err, sizeof(err), "error sending message %d to the kernel: 0x%x", id, kr);
		ctl_put(err);
	}
}

/* Host -> guest: until the workload is over and the host has seen it all. */
static void relay_from_host(void)
{
	struct mo_frame *f;

	for (;;) {
		int r = mo_ring_next(&h2g, &f);

		if (r < 0)
			rt_fatal("bad frame in the host ring at %u", h2g.idx->head);
		if (r == 0) {
			if (worker_done &&
			    mo_ring_load(&g2h.idx->head) == g2h.idx->tail &&
			    shm->host_state == MO_PEER_DONE)
				return;
			swtch_pri(0);
			continue;
		}
		if (f->seq != h2g.seq)
			rt_fatal("host frame %u arrived as number %u", f->seq, h2g.seq);
		if (f->kind == MO_FRAME_MSG)
			send_to_kernel(f);
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

/* Asks the host (the pager side) to act and waits for its answer. */
static void ask_host(const char *text)
{
	answered = 0;
	ctl_put(text);
	while (!__atomic_load_n(&answered, __ATOMIC_ACQUIRE))
		swtch_pri(0);
	if (memcmp(answer, "ok", 2) != 0)
		rt_fatal("host refused '%s': %s", text, answer);
}

/* What the host's test pager puts in word 0 of page N. */
static volatile uint32_t *page(uint32_t n)
{
	return (volatile uint32_t *)(base + n * PAGE_SIZE);
}

static void report(const char *what, uint32_t n, uint32_t v)
{
	char buf[64];

	rt_snprintf(buf, sizeof(buf), "step %s %u 0x%08x", what, n, v);
	ctl_put(buf);
}

static void step_read(uint32_t n)
{
	report("read", n, *page(n));
}

static void step_write(uint32_t n)
{
	*page(n) = 0x57000000u | n;
	report("write", n, *page(n));
}

static void step_host(const char *verb, uint32_t n)
{
	char buf[48];

	rt_snprintf(buf, sizeof(buf), "cmd %s %u", verb, n);
	ask_host(buf);
}

/*
 * N read faults, the whole object flushed after each pass over it so that
 * the next pass faults again: the benchmark's fault cycle. The host times
 * it between the two marks.
 */
static void step_cycles(uint32_t n)
{
	uint32_t i, sum = 0;
	char buf[48];

	ctl_put("mark start");
	for (i = 0; i < n; i++) {
		sum += *page(i % npages);
		if ((i + 1) % npages == 0 || i + 1 == n) {
			if (local)
				local_pager_flush(0, npages * PAGE_SIZE, object);
			else
				step_host("flushall", npages);
		}
	}
	rt_snprintf(buf, sizeof(buf), "mark end %u", n);
	ctl_put(buf);
	report("cycles", n, sum);
}

static void step_clean(uint32_t n) { step_host("clean", n); }
static void step_flushall(uint32_t n) { step_host("flushall", npages); }

/* Writes every page, so that a flushall returns the whole object. */
static void step_writeall(uint32_t unused)
{
	uint32_t i;

	for (i = 0; i < npages; i++)
		*page(i) = 0x57000000u | i;
	report("writeall", npages, *page(0));
}
/* Tests the refusal of host messages to ports other than control ports. */
static void step_misdirect(uint32_t n) { step_host("misdirect", n); }
static void step_flush(uint32_t n) { step_host("flush", n); }

static void step_unmap(uint32_t n)
{
	kr_t kr = syscall_vm_deallocate(rt_task, base, npages * PAGE_SIZE);

	if (kr)
		rt_fatal("vm_deallocate of the object: %x", kr);
	/* The object's last mapping is gone: terminate follows (PROTOCOL.md 10). */
	while (!terminated)
		swtch_pri(0);
	report("unmap", 0, 0);
}

enum step_arg { ARG_NONE, ARG_PAGE, ARG_COUNT, ARG_LIST };

static void step_par(uint32_t n);

/* PAR: may run in a par: group (it does not wait for the host's answer). */
static const struct {
	const char *name;
	uint8_t arg;		/* enum step_arg */
	uint8_t par;
	void (*run)(uint32_t n);
} step_table[] = {
	{ "read", ARG_PAGE, 1, step_read },
	{ "write", ARG_PAGE, 1, step_write },
	{ "clean", ARG_PAGE, 0, step_clean },
	{ "flush", ARG_PAGE, 0, step_flush },
	{ "unmap", ARG_NONE, 0, step_unmap },
	{ "cycles", ARG_COUNT, 0, step_cycles },
	{ "flushall", ARG_NONE, 0, step_flushall },
	{ "writeall", ARG_NONE, 0, step_writeall },
	{ "misdirect", ARG_COUNT, 0, step_misdirect },
	{ "par", ARG_LIST, 0, step_par },
};

/*
 * Parses one step of S: "verb", "verb:N" or, for par, "par:STEP+STEP...".
 * LEN bounds S (a par member is part of a longer word). Returns the
 * step_table index, or -1 for a bad step.
 */
static int parse_step_n(const char *s, uint32_t len, uint32_t *n);

static int parse_list(const char *s, uint32_t len)
{
	uint32_t start = 0, k, count = 0, n;

	for (k = 0; k <= len; k++) {
		int i;

		if (k < len && s[k] != '+')
			continue;
		i = parse_step_n(s + start, k - start, &n);
		if (i < 0 || !step_table[i].par || ++count > MAX_PAR)
			return -1;
		start = k + 1;
	}
	return count >= 2 ? 0 : -1;
}

static int parse_step_n(const char *s, uint32_t len, uint32_t *n)
{
	char verb[16], num[12];
	uint32_t i, k = 0, m;

	*n = 0;
	while (k < len && s[k] != ':' && k < sizeof(verb) - 1)
		verb[k] = s[k], k++;
	verb[k] = 0;
	for (i = 0; i < sizeof(step_table) / sizeof(step_table[0]); i++) {
		if (strcmp(verb, step_table[i].name) != 0)
			continue;
		if (step_table[i].arg == ARG_NONE)
			return k == len ? (int)i : -1;
		if (k == len || s[k] != ':')
			return -1;
		if (step_table[i].arg == ARG_LIST)
			return parse_list(s + k + 1, len - k - 1) ? -1 : (int)i;
		m = len - k - 1;
		if (m == 0 || m >= sizeof(num))
			return -1;
		memcpy(num, s + k + 1, m);
		num[m] = 0;
		if (rt_number(num, n) ||
		    (step_table[i].arg == ARG_PAGE && *n >= npages))
			return -1;
		return (int)i;
	}
	return -1;
}

static int parse_step(const char *s, uint32_t *n)
{
	return parse_step_n(s, strlen(s), n);
}

/*
 * par:A+B...: each member runs in its own helper thread at once, and the
 * step ends when all have; e.g. two threads faulting on one page.
 */
static struct helper {
	volatile uint32_t go, done;
	int step;
	uint32_t n;
} helpers[MAX_PAR];
static const char *par_text;	/* the list of the par step running now */

static void helper(void *arg)
{
	struct helper *h = arg;

	for (;;) {
		while (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE))
			swtch_pri(0);
		h->go = 0;
		step_table[h->step].run(h->n);
		__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	}
}

static void step_par(uint32_t unused)
{
	const char *s = par_text;
	uint32_t len = strlen(s), start = 0, k, count = 0, i;

	for (k = 0; k <= len; k++) {
		if (k < len && s[k] != '+')
			continue;
		helpers[count].step = parse_step_n(s + start, k - start, &helpers[count].n);
		helpers[count].done = 0;
		count++;
		start = k + 1;
	}
	for (i = 0; i < count; i++)
		__atomic_store_n(&helpers[i].go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < count; i++)
		while (!__atomic_load_n(&helpers[i].done, __ATOMIC_ACQUIRE))
			swtch_pri(0);
}

/* Helper threads, only when the script has a par step. */
static void start_helpers(void)
{
	uint32_t i;

	for (i = 0; i < nsteps; i++)
		if (strcmp(steps[i], "par:") > 0 && memcmp(steps[i], "par:", 4) == 0)
			break;
	if (i == nsteps)
		return;
	for (i = 0; i < MAX_PAR; i++)
		if (rt_thread_start(helper, &helpers[i]))
			rt_fatal("starting helper thread %u", i);
}

static void worker(void *arg)
{
	uint32_t i;

	for (i = 0; i < nsteps; i++) {
		uint32_t n;
		int k = parse_step(steps[i], &n);

		par_text = steps[i] + 4;
		step_table[k].run(n);
	}
	ctl_put("done");
	worker_done = 1;
	rt_park();
}

void agent_start(uint32_t *sp);

void agent_start(uint32_t *sp)
{
	uint32_t argc = sp[0];
	char **argv = (char **)(sp + 1);
	uint32_t v, cell_page;
	uint64_t cell = 0;
	kr_t kr;

	rt_task = mach_task_self();
	if (argc < 5 || rt_number(argv[1], &rt_host_priv) ||
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
	steps = argv + 5;
	nsteps = argc - 5;
	for (v = 0; v < nsteps; v++)
		if (parse_step(steps[v], &cell_page) < 0)
			rt_fatal("bad step '%s' (steps: read:N write:N clean:N flush:N flushall writeall cycles:N unmap par:A+B; N < %u)",
				 steps[v], npages);
	rt_printf("mo-agent: started, %u pages, %u steps, %s\n", npages, nsteps, argv[3]);

	shm = ivshmem_map(MO_SHM_SIZE);
	if (shm->magic != MO_RING_MAGIC || shm->version != MO_RING_VERSION)
		rt_fatal("shared memory has magic %x version %u, not a motrace ring",
			 shm->magic, shm->version);
	mo_ring_attach(&g2h, shm, 1);
	mo_ring_attach(&h2g, shm, 0);
	shm->guest_state = MO_PEER_READY;
	/* The frame format's version and the messages' ABI profile. */
	ctl_put("hello mo-agent 1 user32");

	kr = syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &object);
	if (kr)
		rt_fatal("mach_port_allocate: %x", kr);
	kr = syscall_mach_port_insert_right(rt_task, object, object,
					    MACH_MSG_TYPE_MAKE_SEND);
	if (kr)
		rt_fatal("mach_port_insert_right: %x", kr);
	kr = rt_thread_start(receiver, 0);
	if (kr)
		rt_fatal("starting the receiver thread: %x", kr);
	/* The kernel sends memory_object_init to OBJECT now (PROTOCOL.md 1). */
	kr = syscall_vm_map(rt_task, &cell, npages * PAGE_SIZE, 0, 1, object, 0,
			    0, VM_PROT_READ | VM_PROT_WRITE,
			    VM_PROT_READ | VM_PROT_WRITE, VM_INHERIT_NONE);
	if (kr)
		rt_fatal("vm_map of the memory object: %x", kr);
	base = (uint32_t)cell;
	v = 0;
	start_helpers();
	kr = rt_thread_start(worker, &v);
	if (kr)
		rt_fatal("starting the worker thread: %x", kr);
	relay_from_host();
	rt_printf("mo-agent: done\n");
	rt_reboot();
}
