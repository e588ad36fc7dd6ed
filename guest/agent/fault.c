/*
 * guest/agent/fault.c: memory errors in the agent's threads.
 *
 * When a pager answers a fault with memory_object_data_error, the kernel
 * raises EXC_BAD_ACCESS on the faulting thread (PROTOCOL.md rule 8; GNU
 * Mach's vm_fault and exception_raise of exc.defs) and waits for the
 * task's exception port to reply. A fault inside probe_read (start.S) is
 * what the script's expect-error wants: the thread is moved to
 * probe_fault and resumed. Any other one ends the run with its address.
 */
#include "guest/agent/agent.h"
#include "msg32.h"

#define TASK_EXCEPTION_PORT 3	/* mach/task_special_ports.h */
#define EXC_BAD_ACCESS 1	/* mach/exception.h */
#define MACH_MSG_TYPE_MOVE_SEND_ONCE 18

extern const char probe_fault[];

static port_t exc_port;

/*
 * What this kernel really sends. MIG's -DKERNEL -DUSER32 layout of
 * exception_raise (msg32.h, 72 bytes here) has 8-byte port slots, but GNU
 * Mach 1.8+git20221224 builds exception messages by hand (kern/exception.c)
 * and a 32-bit task receives 64 bytes with 4-byte port slots under
 * descriptors that still say msgt_size 64; observed:
 *   80001112 00000040 00000010 0000000b 00000000 00000960
 *   10014011 0000000d 10014011 00000003 10012002 00000001
 *   10012002 0000000a 10012002 01168000
 * Both layouts are accepted, each only with exactly its size and
 * descriptors.
 */
#pragma pack(push, 4)
struct exc_observed {
	struct mo32_header head;
	uint32_t threadType, thread;
	uint32_t taskType, task;
	uint32_t exceptionType, exception;
	uint32_t codeType, code;
	uint32_t subcodeType, subcode;
};
#pragma pack(pop)
_Static_assert(sizeof(struct exc_observed) == 64, "observed exception_raise");

struct exc {
	uint32_t reply, thread, task, exception, code, subcode;
};

/* Returns 0 and fills E when BUF is an exception_raise in either layout. */
static int parse_exc(const void *buf, struct exc *e)
{
	const struct mo32_header *h = buf;
	struct mo32_exception_raise_req want;

	mo32_exception_raise_req_init(&want);
	if (h->id != MO32_EXCEPTION_RAISE_ID)
		return -1;
	e->reply = h->remote;
	if (h->size == sizeof(struct mo32_exception_raise_req)) {
		const struct mo32_exception_raise_req *m = buf;

		if (m->exceptionType != want.exceptionType || m->codeType != want.codeType ||
		    m->subcodeType != want.subcodeType)
			return -1;
		e->thread = m->thread.name;
		e->task = m->task.name;
		e->exception = m->exception;
		e->code = m->code;
		e->subcode = m->subcode;
		return 0;
	}
	if (h->size == sizeof(struct exc_observed)) {
		const struct exc_observed *m = buf;

		/* PORT_SEND as received, "64 bits", in a 4-byte slot. */
		if (m->threadType != 0x10014011u || m->taskType != 0x10014011u ||
		    m->exceptionType != want.exceptionType || m->codeType != want.codeType ||
		    m->subcodeType != want.subcodeType)
			return -1;
		e->thread = m->thread;
		e->task = m->task;
		e->exception = m->exception;
		e->code = m->code;
		e->subcode = m->subcode;
		return 0;
	}
	return -1;
}

static void reply(const struct exc *e, kr_t code)
{
	union {
		struct mo32_exception_raise_rep m;
		uint8_t raw[sizeof(struct mo32_exception_raise_rep) + 8];
	} r;

	mo32_exception_raise_rep_init(&r.m);
	/* The kernel waits on a send-once reply port, as for any routine. */
	r.m.head.bits = MACH_MSG_TYPE_MOVE_SEND_ONCE;
	r.m.head.remote = e->reply;
	r.m.head.local = 0;
	r.m.head.seqno = 0;
	r.m.head.id = MO32_EXCEPTION_RAISE_ID + 100;
	r.m.RetCode = code;
	if (rt_send(&r, sizeof(r.m)))
		rt_fatal("replying to exception_raise failed");
}

static void handler(void *arg)
{
	static uint8_t buf[512];
	const struct mo32_header *h = (const void *)buf;
	uint32_t state[RT_STATE_COUNT];

	for (;;) {
		struct exc e;
		uint32_t eip;
		kr_t kr = mach_msg_trap(buf, MACH_RCV_MSG, 0, sizeof(buf), exc_port, 0, 0);

		if (kr)
			rt_fatal("mach_msg receive on the exception port: %x", kr);
		if (parse_exc(buf, &e) < 0)
			rt_fatal("message %d of %u bytes on the exception port is not an exception_raise",
				 h->id, h->size);
		kr = rt_thread_get_state(e.thread, state);
		if (kr)
			rt_fatal("thread_get_state after exception %u: %x", e.exception, kr);
		eip = state[RT_STATE_EIP];
		if (e.exception != EXC_BAD_ACCESS ||
		    eip < (uint32_t)&probe_read || eip >= (uint32_t)probe_fault) {
			uint32_t o = 0;

			/* The object whose mapping holds the address, else the first. */
			while (o + 1 < agent_objects() &&
			       e.subcode - agent_base(o) >= agent_size())
				o++;
			if (e.subcode - agent_base(o) >= agent_size())
				o = 0;
			rt_fatal("exception %u (code 0x%x) at address 0x%x, offset 0x%x of object %u, eip 0x%x",
				 e.exception, e.code, e.subcode, e.subcode - agent_base(o), o, eip);
		}
		state[RT_STATE_EIP] = (uint32_t)probe_fault;
		kr = rt_thread_set_state(e.thread, state);
		if (kr)
			rt_fatal("thread_set_state after exception: %x", kr);
		/* The message gave us send rights to the thread and the task. */
		syscall_mach_port_deallocate(rt_task, e.thread);
		syscall_mach_port_deallocate(rt_task, e.task);
		reply(&e, 0);
	}
}

void fault_init(void)
{
	kr_t kr = syscall_mach_port_allocate(rt_task, MACH_PORT_RIGHT_RECEIVE, &exc_port);

	if (!kr)
		kr = syscall_mach_port_insert_right(rt_task, exc_port, exc_port,
						    MACH_MSG_TYPE_MAKE_SEND);
	if (!kr)
		kr = rt_task_set_special_port(TASK_EXCEPTION_PORT, exc_port);
	if (!kr)
		kr = rt_thread_start(handler, 0);
	if (kr)
		rt_fatal("setting up the exception port: %x", kr);
}
