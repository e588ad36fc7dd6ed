/*
 * guest/agent/rt.c: the agent's runtime (see rt.h).
 *
 * Every RPC is built from the structs of msg32.h, which guest/gen-msg32.awk
 * derives from MIG's -DKERNEL -DUSER32 output and checks against MIG's
 * sizes; nothing here lays out a message by hand.
 */
#include <stdarg.h>

#include "guest/agent/rt.h"
#include "msg32.h"

port_t rt_host_priv, rt_device_master, rt_task;
static port_t console;

/*
 * String instructions: under TCG a byte loop costs a translated block per
 * few bytes, while rep movs/stos run as one helper; pages go through here.
 */
void *memcpy(void *d, const void *s, size_t n)
{
	void *dp = d;
	size_t words = n / 4, rest = n % 4;

	__asm__ volatile("rep movsl" : "+D"(dp), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(rest) : : "memory");
	return d;
}

void *memset(void *d, int c, size_t n)
{
	void *dp = d;

	__asm__ volatile("rep stosb" : "+D"(dp), "+c"(n) : "a"(c) : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int rt_number(const char *s, uint32_t *v)
{
	uint32_t n = 0, base = 10;

	if (s[0] == '0' && s[1] == 'x')
		base = 16, s += 2;
	if (!*s)
		return -1;
	for (; *s; s++) {
		uint32_t d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return -1;
		n = n * base + d;
	}
	*v = n;
	return 0;
}

/* The kernel takes 8 bytes more than a 32-bit task's message (GNUMACH.md). */
kr_t rt_rpc(void *msg, uint32_t user_size, uint32_t buf_size, port_t reply)
{
	struct mo32_header *h = msg;

	h->local = reply;
	h->size = user_size + MO32_SIZE_EXTRA;
	memset((uint8_t *)msg + user_size, 0, MO32_SIZE_EXTRA);
	return mach_msg_trap(msg, MACH_SEND_MSG | MACH_RCV_MSG,
			     user_size + MO32_SIZE_EXTRA, buf_size, reply, 0, 0);
}

kr_t rt_send(void *msg, uint32_t user_size)
{
	struct mo32_header *h = msg;

	h->size = user_size + MO32_SIZE_EXTRA;
	memset((uint8_t *)msg + user_size, 0, MO32_SIZE_EXTRA);
	return mach_msg_trap(msg, MACH_SEND_MSG, user_size + MO32_SIZE_EXTRA,
			     0, 0, 0, 0);
}

/*
 * A reply is either the full one (SIZE bytes) or a bare RetCode. Returns
 * the RetCode, or -300 (MIG_TYPE_ERROR, mach/mig_errors.h) when the reply
 * is not what MIG would accept.
 */
static kr_t check_reply(const void *buf, int32_t req_id, uint32_t size,
			uint32_t retcode_type)
{
	const struct {
		struct mo32_header head;
		uint32_t type, code;
	} *r = buf;

	if (r->head.id != req_id + 100 || r->head.size < sizeof(*r) ||
	    r->type != retcode_type)
		return -300;
	if (r->code != 0)
		return (kr_t)r->code;
	if (r->head.size < size)
		return -300;
	return 0;
}

/* Per-thread state, found by the stack pointer (no TLS without a libc). */
struct rt_thread {
	uint32_t stack_lo, stack_hi;
	port_t reply;
};
#define RT_MAX_THREADS 24	/* receivers, exception handler, workers, senders */
#define RT_STACK_SIZE 0x10000u
static struct rt_thread threads[RT_MAX_THREADS];
static uint32_t nthreads;
static port_t main_reply;

port_t rt_reply_port(void)
{
	uint32_t sp = (uint32_t)__builtin_frame_address(0);
	uint32_t i;

	for (i = 0; i < nthreads; i++)
		if (sp >= threads[i].stack_lo && sp < threads[i].stack_hi) {
			if (!threads[i].reply)
				threads[i].reply = mach_reply_port();
			return threads[i].reply;
		}
	if (!main_reply)
		main_reply = mach_reply_port();
	return main_reply;
}

/* Union with room for the 8 extra bytes after any request and any reply. */
#define RPC_BUF(type) union { type m; uint8_t raw[sizeof(type) + 64]; }

kr_t rt_device_open(const char *name, int mode, port_t *dev)
{
	RPC_BUF(struct mo32_device_open_req) req;
	struct mo32_device_open_rep *rep = (void *)&req;
	struct mo32_device_open_rep want;
	size_t n = strlen(name);
	kr_t kr;

	mo32_device_open_req_init(&req.m);
	mo32_device_open_rep_init(&want);
	req.m.head.remote = rt_device_master;
	req.m.mode = mode;
	if (n >= sizeof(req.m.name))
		return -1;
	memset(req.m.name, 0, sizeof(req.m.name));
	memcpy(req.m.name, name, n);
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	kr = check_reply(rep, MO32_DEVICE_OPEN_ID, sizeof(*rep), want.RetCodeType);
	if (kr)
		return kr;
	*dev = rep->device.name;
	return 0;
}

kr_t rt_device_set_status(port_t dev, uint32_t flavor, const uint32_t *status,
			  uint32_t count)
{
	RPC_BUF(struct mo32_device_set_status_req) req;
	struct mo32_device_set_status_rep want;
	uint32_t size = MO32_DEVICE_SET_STATUS_REQ_ARRAY_OFF + 4 * count;
	kr_t kr;

	if (count > sizeof(req.m.status) / 4)
		return -1;
	mo32_device_set_status_req_init(&req.m);
	mo32_device_set_status_rep_init(&want);
	req.m.head.remote = dev;
	req.m.flavor = flavor;
	/* The count travels in the descriptor's msgt_number (12 bits). */
	req.m.statusType = (req.m.statusType & ~(0xfffu << 16)) | (count << 16);
	memcpy(req.m.status, status, 4 * count);
	kr = rt_rpc(&req, size, sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&req, MO32_DEVICE_SET_STATUS_ID,
			   sizeof(struct mo32_device_set_status_rep), want.RetCodeType);
}

/*
 * device_read_inband sent as device_request.defs's
 * device_read_request_inband: the same message, whose reply
 * (device_read_reply_inband) comes to REPLY once the data is there.
 */
kr_t rt_device_read_request(port_t dev, uint32_t bytes, port_t reply)
{
	RPC_BUF(struct mo32_device_read_inband_req) req;

	mo32_device_read_inband_req_init(&req.m);
	req.m.head.remote = dev;
	req.m.head.local = reply;
	req.m.mode = 0;
	req.m.recnum = 0;
	req.m.bytes_wanted = bytes;
	return rt_send(&req, sizeof(req.m));
}

kr_t rt_device_map(port_t dev, int prot, uint32_t offset, uint32_t size,
		   port_t *pager)
{
	RPC_BUF(struct mo32_device_map_req) req;
	struct mo32_device_map_rep *rep = (void *)&req;
	struct mo32_device_map_rep want;
	kr_t kr;

	mo32_device_map_req_init(&req.m);
	mo32_device_map_rep_init(&want);
	req.m.head.remote = dev;
	req.m.prot = prot;
	req.m.offset = offset;
	req.m.size = size;
	req.m.unmap = 0;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	kr = check_reply(rep, MO32_DEVICE_MAP_ID, sizeof(*rep), want.RetCodeType);
	if (kr)
		return kr;
	*pager = rep->pager.name;
	return 0;
}

kr_t rt_io_perm(uint16_t from, uint16_t to)
{
	RPC_BUF(struct mo32_i386_io_perm_create_req) c;
	RPC_BUF(struct mo32_i386_io_perm_modify_req) m;
	struct mo32_i386_io_perm_create_rep *crep = (void *)&c, cwant;
	struct mo32_i386_io_perm_modify_rep mwant;
	kr_t kr;

	mo32_i386_io_perm_create_req_init(&c.m);
	mo32_i386_io_perm_create_rep_init(&cwant);
	c.m.head.remote = rt_device_master;
	c.m.from = from;
	c.m.to = to;
	kr = rt_rpc(&c, sizeof(c.m), sizeof(c), rt_reply_port());
	if (kr)
		return kr;
	kr = check_reply(crep, MO32_I386_IO_PERM_CREATE_ID, sizeof(*crep),
			 cwant.RetCodeType);
	if (kr)
		return kr;
	mo32_i386_io_perm_modify_req_init(&m.m);
	mo32_i386_io_perm_modify_rep_init(&mwant);
	m.m.head.remote = rt_task;
	m.m.io_perm.name = crep->io_perm.name;
	m.m.io_perm.high = 0;
	m.m.enable = 1;
	kr = rt_rpc(&m, sizeof(m.m), sizeof(m), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&m, MO32_I386_IO_PERM_MODIFY_ID,
			   sizeof(struct mo32_i386_io_perm_modify_rep),
			   mwant.RetCodeType);
}

void rt_console_open(void)
{
	/* D_READ | D_WRITE, device/device_types.h */
	if (rt_device_open("console", 3, &console))
		console = 0;
}

static void console_write(const char *s, uint32_t n)
{
	RPC_BUF(struct mo32_device_write_inband_req) req;

	if (!console)
		return;
	while (n) {
		uint32_t k = n < sizeof(req.m.data) ? n : sizeof(req.m.data);
		uint32_t size = MO32_DEVICE_WRITE_INBAND_REQ_ARRAY_OFF + ((k + 3) & ~3u);

		mo32_device_write_inband_req_init(&req.m);
		req.m.head.remote = console;
		req.m.mode = 0;
		req.m.recnum = 0;
		/* The count travels in the descriptor's msgt_number (12 bits). */
		req.m.dataType = (req.m.dataType & ~(0xfffu << 16)) | (k << 16);
		memcpy(req.m.data, s, k);
		if (rt_rpc(&req, size, sizeof(req), rt_reply_port()))
			return;
		s += k;
		n -= k;
	}
}

/* A small printf: %s %c %d %u %x %08x, all 32-bit; no 64-bit division. */
static uint32_t format(char *out, uint32_t cap, const char *fmt, va_list ap)
{
	uint32_t n = 0;

#define PUT(ch) do { if (n < cap) out[n] = (ch); n++; } while (0)
	for (; *fmt; fmt++) {
		char digits[12];
		uint32_t v, base, width = 0, nd = 0;
		int neg = 0;
		const char *s;

		if (*fmt != '%') {
			PUT(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				PUT(*s);
			continue;
		case 'c':
			PUT((char)va_arg(ap, int));
			continue;
		case 'd':
			v = (uint32_t)va_arg(ap, int);
			if ((int32_t)v < 0)
				neg = 1, v = -v;
			base = 10;
			break;
		case 'u':
			v = va_arg(ap, uint32_t);
			base = 10;
			break;
		case 'x':
			v = va_arg(ap, uint32_t);
			base = 16;
			break;
		default:
			PUT('%');
			PUT(*fmt);
			continue;
		}
		do {
			digits[nd++] = "0123456789abcdef"[v % base];
			v /= base;
		} while (v);
		if (neg)
			PUT('-');
		for (; width > nd; width--)
			PUT('0');
		while (nd)
			PUT(digits[--nd]);
	}
#undef PUT
	return n < cap ? n : cap;
}

uint32_t rt_vsnprintf(char *buf, uint32_t cap, const char *fmt, va_list ap)
{
	uint32_t n = format(buf, cap - 1, fmt, ap);

	buf[n] = 0;
	return n;
}

void rt_sleep_ms(uint32_t ms)
{
	static port_t never;
	uint8_t buf[64];

	if (!never)
		never = mach_reply_port();
	/* Nothing ever comes to NEVER: the receive ends by its timeout. */
	mach_msg_trap(buf, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(buf),
		      never, ms, 0);
}

uint32_t rt_snprintf(char *buf, uint32_t cap, const char *fmt, ...)
{
	va_list ap;
	uint32_t n;

	va_start(ap, fmt);
	n = format(buf, cap - 1, fmt, ap);
	va_end(ap);
	buf[n] = 0;
	return n;
}

void rt_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	uint32_t n;

	va_start(ap, fmt);
	n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n);
}

void rt_reboot(void)
{
	RPC_BUF(struct mo32_host_reboot_req) req;

	mo32_host_reboot_req_init(&req.m);
	req.m.head.remote = rt_host_priv;
	req.m.options = 0;
	rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	for (;;)
		swtch_pri(0);
}

void rt_park(void)
{
	uint8_t buf[64];
	port_t never = mach_reply_port();

	/* Nobody holds a send right to NEVER: this receive waits for good. */
	for (;;)
		mach_msg_trap(buf, MACH_RCV_MSG, 0, sizeof(buf), never, 0, 0);
}

void rt_fatal(const char *fmt, ...)
{
	static const char prefix[] = "mo-agent: fatal: ";
	char buf[256];
	va_list ap;
	uint32_t n;

	/* One write, so that the host never reads half of the line. */
	memcpy(buf, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	n = sizeof(prefix) - 1;
	n += format(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	console_write(buf, n);
	rt_reboot();
}

kr_t rt_vm_allocate(uint32_t *addr, uint32_t size)
{
	uint64_t cell = 0;
	kr_t kr = syscall_vm_allocate(rt_task, &cell, size, 1);

	*addr = (uint32_t)cell;
	return kr;
}

void rt_lock(struct rt_lock *l)
{
	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
		swtch_pri(0);
}

void rt_unlock(struct rt_lock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

/* i386_THREAD_STATE (flavor 1): 17 words, mach/i386/thread_status.h. */
#define I386_THREAD_STATE 1

/* The buffer of one thread state RPC: the largest request or reply. */
union state_buf {
	struct mo32_thread_get_state_rep rep;
	struct mo32_thread_set_state_req req;
	uint8_t raw[sizeof(struct mo32_thread_set_state_req) + 64];
};

kr_t rt_thread_get_state(port_t thread, uint32_t state[RT_STATE_COUNT])
{
	static union state_buf b;
	static struct rt_lock lock;
	struct mo32_thread_get_state_req *g = (void *)&b;
	struct mo32_thread_get_state_rep want;
	kr_t kr;

	rt_lock(&lock);
	mo32_thread_get_state_req_init(g);
	mo32_thread_get_state_rep_init(&want);
	g->head.remote = thread;
	g->flavor = I386_THREAD_STATE;
	g->old_stateCnt = RT_STATE_COUNT;
	kr = rt_rpc(g, sizeof(*g), sizeof(b), rt_reply_port());
	if (!kr)
		kr = check_reply(&b, MO32_THREAD_GET_STATE_ID,
				 MO32_THREAD_GET_STATE_REP_ARRAY_OFF + 4 * RT_STATE_COUNT,
				 want.RetCodeType);
	if (!kr)
		memcpy(state, b.rep.old_state, 4 * RT_STATE_COUNT);
	rt_unlock(&lock);
	return kr;
}

kr_t rt_thread_set_state(port_t thread, const uint32_t state[RT_STATE_COUNT])
{
	static union state_buf b;
	static struct rt_lock lock;
	struct mo32_thread_set_state_rep want;
	kr_t kr;

	rt_lock(&lock);
	mo32_thread_set_state_req_init(&b.req);
	mo32_thread_set_state_rep_init(&want);
	b.req.head.remote = thread;
	b.req.flavor = I386_THREAD_STATE;
	/* The count travels in the descriptor's msgt_number. */
	b.req.new_stateType = (b.req.new_stateType & ~(0xfffu << 16)) |
			      (RT_STATE_COUNT << 16);
	memcpy(b.req.new_state, state, 4 * RT_STATE_COUNT);
	kr = rt_rpc(&b, MO32_THREAD_SET_STATE_REQ_ARRAY_OFF + 4 * RT_STATE_COUNT,
		    sizeof(b), rt_reply_port());
	if (!kr)
		kr = check_reply(&b, MO32_THREAD_SET_STATE_ID,
				 sizeof(struct mo32_thread_set_state_rep),
				 want.RetCodeType);
	rt_unlock(&lock);
	return kr;
}

kr_t rt_thread_start(void (*fn)(void *), void *arg)
{
	return rt_thread_start_port(fn, arg, 0);
}

kr_t rt_thread_start_port(void (*fn)(void *), void *arg, port_t *port)
{
	static struct rt_lock lock;
	RPC_BUF(struct mo32_thread_create_req) c;
	struct mo32_thread_create_rep *crep = (void *)&c, cwant;
	uint32_t state[RT_STATE_COUNT], stack, *sp;
	port_t thread;
	kr_t kr;

	if (nthreads == RT_MAX_THREADS)
		return -1;
	kr = rt_vm_allocate(&stack, RT_STACK_SIZE);
	if (kr)
		return kr;
	rt_lock(&lock);
	threads[nthreads].stack_lo = stack;
	threads[nthreads].stack_hi = stack + RT_STACK_SIZE;
	threads[nthreads].reply = 0;
	nthreads++;

	mo32_thread_create_req_init(&c.m);
	mo32_thread_create_rep_init(&cwant);
	c.m.head.remote = rt_task;
	kr = rt_rpc(&c, sizeof(c.m), sizeof(c), rt_reply_port());
	if (!kr)
		kr = check_reply(crep, MO32_THREAD_CREATE_ID, sizeof(*crep),
				 cwant.RetCodeType);
	if (kr)
		goto out;
	thread = crep->child_thread.name;

	/*
	 * Start from the new thread's own state, which has the kernel's user
	 * segment selectors (thread_get_state refuses the calling thread).
	 */
	kr = rt_thread_get_state(thread, state);
	if (kr) {
		rt_printf("mo-agent: thread_get_state: %x\n", kr);
		goto out;
	}
	sp = (uint32_t *)(stack + RT_STACK_SIZE - 16);
	sp[1] = (uint32_t)arg;
	sp[0] = 0;		/* return address: FN must not return */
	state[RT_STATE_EIP] = (uint32_t)fn;
	state[RT_STATE_UESP] = (uint32_t)sp;
	kr = rt_thread_set_state(thread, state);
	if (kr) {
		rt_printf("mo-agent: thread_set_state: %x\n", kr);
		goto out;
	}

	{
		RPC_BUF(struct mo32_thread_resume_req) r;
		struct mo32_thread_resume_rep rwant;

		mo32_thread_resume_req_init(&r.m);
		mo32_thread_resume_rep_init(&rwant);
		r.m.head.remote = thread;
		kr = rt_rpc(&r, sizeof(r.m), sizeof(r), rt_reply_port());
		if (!kr)
			kr = check_reply(&r, MO32_THREAD_RESUME_ID,
					 sizeof(struct mo32_thread_resume_rep),
					 rwant.RetCodeType);
	}
	if (!kr && port)
		*port = thread;
out:
	rt_unlock(&lock);
	return kr;
}

kr_t rt_task_set_special_port(int which, port_t port)
{
	RPC_BUF(struct mo32_task_set_special_port_req) req;
	struct mo32_task_set_special_port_rep want;
	kr_t kr;

	mo32_task_set_special_port_req_init(&req.m);
	mo32_task_set_special_port_rep_init(&want);
	req.m.head.remote = rt_task;
	req.m.which_port = which;
	req.m.special_port.name = port;
	req.m.special_port.high = 0;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&req, MO32_TASK_SET_SPECIAL_PORT_ID,
			   sizeof(struct mo32_task_set_special_port_rep), want.RetCodeType);
}

/*
 * THREAD_BASIC_INFO (mach/thread_info.h, flavor 1): user_time and
 * system_time, then cpu_usage, base_priority, cur_priority and run_state.
 * The words of a time_value_t are 32-bit in the header (13 words in all)
 * but 64-bit in this x86-64 kernel, which answers 20 words (run_state
 * the twelfth, UNINTERRUPTIBLE 4 seen for a thread in thread_block).
 */
#define THREAD_BASIC_INFO 1
#define THREAD_INFO_ASK 32
kr_t rt_thread_run_state(port_t thread, uint32_t *state)
{
	RPC_BUF(struct mo32_thread_info_rep) b;
	struct mo32_thread_info_req *q = (void *)&b;
	struct mo32_thread_info_rep want;
	uint32_t count;
	kr_t kr;

	mo32_thread_info_req_init(q);
	mo32_thread_info_rep_init(&want);
	q->head.remote = thread;
	q->flavor = THREAD_BASIC_INFO;
	q->thread_info_outCnt = THREAD_INFO_ASK;
	kr = rt_rpc(q, sizeof(*q), sizeof(b), rt_reply_port());
	if (!kr)
		kr = check_reply(&b, MO32_THREAD_INFO_ID, MO32_THREAD_INFO_REP_ARRAY_OFF, want.RetCodeType);
	if (kr)
		return kr;
	/* The inline array's count: bits 16-27 of its type descriptor. */
	count = (b.m.thread_info_outType >> 16) & 0xfff;
	if (b.m.head.size < MO32_THREAD_INFO_REP_ARRAY_OFF + 4 * count)
		return -300;
	if (count == 13)
		*state = b.m.thread_info_out[7];
	else if (count == 20)
		*state = b.m.thread_info_out[11];
	else
		return -301;
	return 0;
}

/* vm_wire (mach_host.defs): ACCESS VM_PROT_NONE unwires. */
kr_t rt_vm_wire(uint32_t addr, uint32_t size, int access)
{
	RPC_BUF(struct mo32_vm_wire_req) req;
	struct mo32_vm_wire_rep want;
	kr_t kr;

	mo32_vm_wire_req_init(&req.m);
	mo32_vm_wire_rep_init(&want);
	req.m.head.remote = rt_host_priv;
	req.m.task.name = rt_task;
	req.m.task.high = 0;
	req.m.address = addr;
	req.m.size = size;
	req.m.access = access;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&req, MO32_VM_WIRE_ID, sizeof(struct mo32_vm_wire_rep),
			   want.RetCodeType);
}

/*
 * vm_allocate_contiguous (gnumach.defs): SIZE bytes of zero-filled, wired,
 * physically contiguous memory below 4 GiB, page-aligned (the kernel
 * takes no other alignment), at *ADDR, its physical address in *PHYS.
 */
kr_t rt_vm_allocate_contiguous(uint32_t size, uint32_t *addr, uint64_t *phys)
{
	RPC_BUF(struct mo32_vm_allocate_contiguous_req) req;
	struct mo32_vm_allocate_contiguous_rep want;
	const struct mo32_vm_allocate_contiguous_rep *r = (const void *)&req;
	kr_t kr;

	mo32_vm_allocate_contiguous_req_init(&req.m);
	mo32_vm_allocate_contiguous_rep_init(&want);
	req.m.head.remote = rt_host_priv;
	req.m.target_task.name = rt_task;
	req.m.target_task.high = 0;
	req.m.size = size;
	req.m.pmin[0] = req.m.pmin[1] = 0;
	req.m.pmax[0] = 0;		/* pmax 1 << 32: the byte after the limit */
	req.m.pmax[1] = 1;
	req.m.palign[0] = req.m.palign[1] = 0;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (!kr)
		kr = check_reply(&req, MO32_VM_ALLOCATE_CONTIGUOUS_ID,
				 sizeof(struct mo32_vm_allocate_contiguous_rep), want.RetCodeType);
	if (kr)
		return kr;
	if (r->vaddrType != want.vaddrType || r->paddrType != want.paddrType)
		return -300;
	*addr = r->vaddr;
	*phys = (uint64_t)r->paddr[1] << 32 | r->paddr[0];
	return 0;
}

/* mach_port_move_member (mach_port.defs): AFTER a port set, or 0. */
kr_t rt_port_move_member(port_t member, port_t after)
{
	RPC_BUF(struct mo32_mach_port_move_member_req) req;
	struct mo32_mach_port_move_member_rep want;
	kr_t kr;

	mo32_mach_port_move_member_req_init(&req.m);
	mo32_mach_port_move_member_rep_init(&want);
	req.m.head.remote = rt_task;
	req.m.member = member;
	req.m.after = after;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&req, MO32_MACH_PORT_MOVE_MEMBER_ID,
			   sizeof(struct mo32_mach_port_move_member_rep), want.RetCodeType);
}

/* mach_port_destroy (mach_port.defs): every right NAME denotes. */
kr_t rt_port_destroy(port_t name)
{
	RPC_BUF(struct mo32_mach_port_destroy_req) req;
	struct mo32_mach_port_destroy_rep want;
	kr_t kr;

	mo32_mach_port_destroy_req_init(&req.m);
	mo32_mach_port_destroy_rep_init(&want);
	req.m.head.remote = rt_task;
	req.m.name = name;
	kr = rt_rpc(&req, sizeof(req.m), sizeof(req), rt_reply_port());
	if (kr)
		return kr;
	return check_reply(&req, MO32_MACH_PORT_DESTROY_ID,
			   sizeof(struct mo32_mach_port_destroy_rep), want.RetCodeType);
}
