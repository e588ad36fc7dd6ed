/*
 * mach/task.c: the task port, reply ports and what MIG stubs expect from
 * the C library (on the Hurd, glibc's mach/ folder provides these).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <mach.h>

#include "mach/ipc.h"

#define PAGE 4096UL
#undef round_page	/* mach_init.h's divides by __vm_page_size */
#define round_page(x) (((x) + PAGE - 1) & ~(PAGE - 1))

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static mach_port_t task_name;
struct kport *mo_task_port;

static void init(void)
{
	struct entry *e;

	pthread_mutex_lock(&mo_lock);
	mo_task_port = mo_kport_new(KP_LOCAL);
	task_name = mo_space_alloc(&e);
	e->type = MACH_PORT_TYPE_SEND;
	e->urefs = 1;
	e->port = mo_task_port;
	mo_task_port->name = task_name;
	mo_task_port->srights = 1;
	mo_kport_ref(mo_task_port);	/* mo_task_port's own, kept for good */
	mo_host_init();
	pthread_mutex_unlock(&mo_lock);
	mo_io_init();
}

void mo_init(void)
{
	pthread_once(&init_once, init);
}

/*
 * GNU Mach's trap (kern/ipc_tt.c, mach_task_self) copies out a new send
 * right each call: one more user reference on the task's name, pegged
 * below MACH_PORT_UREFS_MAX (ipc_right_copyout with overflow TRUE), so
 * that a program may move one away with MOVE_SEND and keep its own. The
 * name is the one the space has for the task port, or a new one if every
 * right to it was given away.
 */
mach_port_t mach_task_self(void)
{
	mach_port_t name;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	mo_kport_ref(mo_task_port);
	mo_task_port->srights++;
	name = mo_space_copyout(mo_task_port, MACH_MSG_TYPE_PORT_SEND);
	task_name = name;
	pthread_mutex_unlock(&mo_lock);
	return name;
}

/* Does NAME hold a send right to the task port? (no reference taken) */
int mo_is_task(mach_port_t name)
{
	struct entry *e;
	int ok;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	ok = e && (e->type & MACH_PORT_TYPE_SEND) && e->port == mo_task_port;
	pthread_mutex_unlock(&mo_lock);
	return ok;
}

/* The task's name for the library's own calls, which take no reference
 * (a new right only when the program gave every one away). */
mach_port_t mo_task_name(void)
{
	mach_port_t name;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	if (!mo_task_port->name) {
		mo_kport_ref(mo_task_port);
		mo_task_port->srights++;
		mo_space_copyout(mo_task_port, MACH_MSG_TYPE_PORT_SEND);
	}
	name = task_name = mo_task_port->name;
	pthread_mutex_unlock(&mo_lock);
	return name;
}

mach_port_t mach_reply_port(void)
{
	mach_port_t name;

	if (mach_port_allocate(mo_task_name(), MACH_PORT_RIGHT_RECEIVE,
			       &name) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	return name;
}

static kern_return_t local_vm_allocate(vm_address_t *addr, vm_size_t size,
				       boolean_t anywhere)
{
	void *a;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	if (size == 0) {
		*addr = 0;
		return KERN_SUCCESS;
	}
	if (anywhere) {
		a = mo_pages_alloc(size, 1);
		if (!a)
			return KERN_NO_SPACE;
		*addr = (vm_address_t)a;
		return KERN_SUCCESS;
	}
	if (*addr & (PAGE - 1))
		return KERN_INVALID_ADDRESS;
	flags |= MAP_FIXED_NOREPLACE;
	a = mmap((void *)*addr, round_page(size),
		 PROT_READ | PROT_WRITE, flags, -1, 0);
	if (a == MAP_FAILED)
		return KERN_NO_SPACE;
	*addr = (vm_address_t)a;
	return KERN_SUCCESS;
}

static kern_return_t local_vm_deallocate(vm_address_t addr, vm_size_t size)
{
	mo_pages_release((void *)addr, size);
	return KERN_SUCCESS;
}

/*
 * Weak, so that a program that links MIG's own stubs for mach.defs gets
 * those instead: they send RPCs to the task port, which mo_task_serve
 * answers with the same local calls.
 */
__attribute__((weak))
kern_return_t vm_allocate(mach_port_t task, vm_address_t *addr,
			  vm_size_t size, boolean_t anywhere)
{
	if (!mo_is_task(task))
		return KERN_INVALID_ARGUMENT;
	return local_vm_allocate(addr, size, anywhere);
}

__attribute__((weak))
kern_return_t vm_deallocate(mach_port_t task, vm_address_t addr,
			    vm_size_t size)
{
	if (!mo_is_task(task))
		return KERN_INVALID_ARGUMENT;
	return local_vm_deallocate(addr, size);
}

/*
 * A message to the task port: answers vm_allocate (2021) and
 * vm_deallocate (2023) of mach.defs (2022 is a skip) in the x86_64 layout MIG gives them,
 * and MIG_BAD_ID for the rest, so that no caller waits for a reply that
 * cannot come. Called with mo_lock held; consumes M.
 */
void mo_task_serve(struct kmsg *m)
{
	const mach_msg_type_t int32 = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };
	const mach_msg_type_t int64 = { MACH_MSG_TYPE_INTEGER_64, 64, 1, 1, 0, 0, 0 };
	mach_msg_header_t *h = (mach_msg_header_t *)m->bytes;
	kern_return_t kr = MIG_BAD_ID;
	vm_address_t addr = 0;
	uint64_t size = 0;
	uint32_t anywhere = 0;
	struct kmsg *r;

	if (m->size >= 56) {
		memcpy(&addr, m->bytes + 36, 8);
		memcpy(&size, m->bytes + 48, 8);
	}
	if (m->dest.port != mo_task_port) {
		/* A thread's or a processor set's port (thread.c): none of
		 * its routines is answered here. */
	} else if (h->msgh_id == 2021 && m->size == 64) {
		memcpy(&anywhere, m->bytes + 60, 4);
		kr = local_vm_allocate(&addr, size, anywhere);
	} else if (h->msgh_id == 2023 && m->size == 56) {
		kr = local_vm_deallocate(addr, size);
	}
	if (!m->reply.port) {
		mo_kmsg_destroy(m);
		return;
	}
	r = mo_kmsg_alloc(h->msgh_id == 2021 && kr == KERN_SUCCESS ? 52 : 40, 0, 0);
	r->dest = m->reply;
	m->reply.port = NULL;
	((mach_msg_header_t *)r->bytes)->msgh_id = h->msgh_id + 100;
	memcpy(r->bytes + 32, &int32, 4);
	memcpy(r->bytes + 36, &kr, 4);
	if (r->size == 52) {
		memcpy(r->bytes + 40, &int64, 4);
		memcpy(r->bytes + 44, &addr, 8);
	}
	mo_kmsg_destroy(m);
	mo_kmsg_send(r);
}

static __thread mach_port_t reply_port;

mach_port_t mig_get_reply_port(void)
{
	if (reply_port == MACH_PORT_NULL)
		reply_port = mach_reply_port();
	return reply_port;
}

void mig_dealloc_reply_port(mach_port_t port)
{
	mach_port_t p = reply_port;

	(void)port;
	reply_port = MACH_PORT_NULL;
	if (p != MACH_PORT_NULL)
		mach_port_mod_refs(mo_task_name(), p,
				   MACH_PORT_RIGHT_RECEIVE, -1);
}

void mig_put_reply_port(mach_port_t port)
{
	(void)port;
}

void mig_init(void *first)
{
	(void)first;
	mo_init();
}

void mig_allocate(vm_address_t *addr, vm_size_t size)
{
	if (local_vm_allocate(addr, size, 1) != KERN_SUCCESS)
		*addr = 0;
}

void mig_deallocate(vm_address_t addr, vm_size_t size)
{
	local_vm_deallocate(addr, size);
}

void mig_reply_setup(const mach_msg_header_t *in, mach_msg_header_t *out)
{
	/* The reply of a MIG routine: to the request's reply port, id + 100. */
	out->msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	out->msgh_size = sizeof(mig_reply_header_t);
	out->msgh_remote_port = in->msgh_remote_port;
	out->msgh_local_port = MACH_PORT_NULL;
	out->msgh_seqno = 0;
	out->msgh_id = in->msgh_id + 100;
}

vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len)
{
	vm_size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len - 1 && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
	return i;
}
