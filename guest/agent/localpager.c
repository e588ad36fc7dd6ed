/*
 * guest/agent/localpager.c: a pager inside the guest, the benchmark's floor.
 *
 * It answers like the host's test pager (guest/host/testpager.c) but
 * without leaving the guest, so that a run through the relay can be
 * compared with the same workload served at the kernel's own IPC cost.
 * Messages are read and written with the msg32.h structs (from MIG).
 */
#include "guest/agent/agent.h"
#include "msg32.h"

/* mach/memory_object.h, mach/vm_prot.h */
enum { RETURN_DIRTY = 1, COPY_DELAY = 2, PROT_NONE = 0, PROT_WRITE = 2,
       PROT_NO_CHANGE = 8 };

static port_t control;
static volatile uint32_t lock_done;
/* Page-aligned: the kernel takes the supplied data as whole pages. */
static uint32_t pattern[PAGE_SIZE / 4] __attribute__((aligned(4096)));

static void lock_request(uint32_t off, uint32_t len, int should_return,
			 int flush, int lock, port_t object)
{
	union {
		struct mo32_memory_object_lock_request_req m;
		uint8_t raw[sizeof(struct mo32_memory_object_lock_request_req) + 8];
	} b;

	mo32_memory_object_lock_request_req_init(&b.m);
	b.m.head.remote = control;
	b.m.offset = off;
	b.m.size = len;
	b.m.should_return = should_return;
	b.m.should_flush = flush;
	b.m.lock_value = lock;
	b.m.reply_to.name = object;
	b.m.reply_to.high = 0;
	if (rt_send(&b, sizeof(b.m)))
		rt_fatal("local pager: lock_request failed");
}

void local_pager_serve(const void *msg, port_t object)
{
	const struct mo32_header *h = msg;

	switch (h->id) {
	case MO32_MEMORY_OBJECT_INIT_ID: {
		const struct mo32_memory_object_init_req *m = msg;
		union {
			struct mo32_memory_object_ready_req m;
			uint8_t raw[sizeof(struct mo32_memory_object_ready_req) + 8];
		} b;
		uint32_t i;

		for (i = 0; i < PAGE_SIZE / 4; i++)
			pattern[i] = 0x50000000u | (i * 4);
		control = m->memory_control.name;
		mo32_memory_object_ready_req_init(&b.m);
		b.m.head.remote = control;
		b.m.may_cache = 0;
		b.m.copy_strategy = COPY_DELAY;
		rt_send(&b, sizeof(b.m));
		break;
	}
	case MO32_MEMORY_OBJECT_DATA_REQUEST_ID: {
		const struct mo32_memory_object_data_request_req *m = msg;
		union {
			struct mo32_memory_object_data_supply_req m;
			uint8_t raw[sizeof(struct mo32_memory_object_data_supply_req) + 8];
		} b;

		if (m->length != PAGE_SIZE)
			rt_fatal("local pager: data_request of %x bytes", m->length);
		/* The kernel copies the page: no deallocate bit, PATTERN stays. */
		mo32_memory_object_data_supply_req_init(&b.m);
		b.m.head.remote = control;
		b.m.offset = m->offset;
		b.m.data.addr = (uint32_t)pattern;
		b.m.data.high = 0;
		b.m.dataType.number = PAGE_SIZE;
		b.m.lock_value = m->desired_access & PROT_WRITE ? PROT_NONE : PROT_WRITE;
		b.m.precious = 0;
		b.m.reply_to.name = b.m.reply_to.high = 0;
		if (rt_send(&b, sizeof(b.m)))
			rt_fatal("local pager: data_supply failed");
		break;
	}
	case MO32_MEMORY_OBJECT_DATA_UNLOCK_ID: {
		const struct mo32_memory_object_data_unlock_req *m = msg;

		lock_request(m->offset, m->length, 0, 0, PROT_NONE, object);
		break;
	}
	case MO32_MEMORY_OBJECT_LOCK_COMPLETED_ID:
		__atomic_store_n(&lock_done, 1, __ATOMIC_RELEASE);
		break;
	default:
		/* data_return (the receiver frees the data), terminate. */
		break;
	}
}

void local_pager_lock(uint32_t off, uint32_t len, int flush, port_t object)
{
	lock_done = 0;
	lock_request(off, len, RETURN_DIRTY, flush, PROT_NO_CHANGE, object);
	while (!__atomic_load_n(&lock_done, __ATOMIC_ACQUIRE))
		swtch_pri(0);
}
