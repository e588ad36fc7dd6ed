/*
 * mach/host.c: the host port. mach_host_self() gives a send right to it
 * (GNU Mach kern/ipc_host.c, mach_host_self: ipc_port_make_send, then
 * ipc_port_copyout_send, one user reference more per call); host_get_time
 * and host_info answer as GNU Mach's kern/mach_clock.c and kern/host.c do,
 * with what Linux says of the machine. Messages sent to the host port
 * (a MIG stub of mach_host.defs) are answered MIG_BAD_ID, so that no
 * caller waits for a reply that cannot come.
 */
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <mach.h>
#include <mach/host_info.h>
#include <mach/machine.h>

#include "mach/ipc.h"

/* GNU Mach include/mach/machine.h; the installed header may lack it. */
#ifndef CPU_TYPE_X86_64
#define CPU_TYPE_X86_64 ((cpu_type_t)21)
#endif

struct kport *mo_host_port;

/* Makes the host port; mo_lock held (task.c's init). */
void mo_host_init(void)
{
	mo_host_port = mo_kport_new(KP_LOCAL);
}

mach_port_t mach_host_self(void)
{
	mach_port_t name;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	mo_kport_ref(mo_host_port);
	mo_host_port->srights++;
	name = mo_space_copyout(mo_host_port, MACH_MSG_TYPE_PORT_SEND);
	pthread_mutex_unlock(&mo_lock);
	return name;
}

/* Does NAME hold a send right to the host port? (GNU Mach: a host_t from
 * convert_port_to_host, HOST_NULL for any other port.) */
static int is_host(mach_port_t name)
{
	struct entry *e;
	int ok;

	mo_init();
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	ok = e && (e->type & MACH_PORT_TYPE_SEND) && e->port == mo_host_port;
	pthread_mutex_unlock(&mo_lock);
	return ok;
}

__attribute__((weak))
kern_return_t host_get_time(mach_port_t host, time_value_t *current_time)
{
	struct timeval tv;

	if (!is_host(host))
		return KERN_INVALID_HOST;
	gettimeofday(&tv, NULL);
	current_time->seconds = tv.tv_sec;
	current_time->microseconds = (integer_t)tv.tv_usec;
	return KERN_SUCCESS;
}

__attribute__((weak))
kern_return_t host_info(mach_port_t host, int flavor, host_info_t info,
			mach_msg_type_number_t *count)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	long onln = sysconf(_SC_NPROCESSORS_ONLN);

	if (!is_host(host))
		return KERN_INVALID_ARGUMENT;
	if (conf < 1)
		conf = 1;
	if (onln < 1)
		onln = 1;
	switch (flavor) {
	case HOST_BASIC_INFO: {
		host_basic_info_t b = (host_basic_info_t)info;
		uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
			       (uint64_t)sysconf(_SC_PAGESIZE);

		if (*count < HOST_BASIC_INFO_COUNT)
			return KERN_FAILURE;
		b->max_cpus = (integer_t)conf;
		b->avail_cpus = (integer_t)onln;
		/* rpc_vm_size_t: what does not fit is pegged at its largest. */
		b->memory_size = (rpc_vm_size_t)mem == mem ? (rpc_vm_size_t)mem :
				 (rpc_vm_size_t)-1;
		/* i386/i386at/model_dep.c: an x86_64 kernel says X86_64, AT386 */
		b->cpu_type = CPU_TYPE_X86_64;
		b->cpu_subtype = CPU_SUBTYPE_AT386;
		*count = HOST_BASIC_INFO_COUNT;
		return KERN_SUCCESS;
	}
	case HOST_PROCESSOR_SLOTS: {
		integer_t *slot = (integer_t *)info;

		if (*count < (mach_msg_type_number_t)conf)
			return KERN_INVALID_ARGUMENT;
		*count = 0;
		for (long i = 0; i < onln; i++)
			slot[(*count)++] = (integer_t)i;
		return KERN_SUCCESS;
	}
	case HOST_SCHED_INFO: {
		host_sched_info_t s = (host_sched_info_t)info;
		long hz = sysconf(_SC_CLK_TCK);

		if (*count < HOST_SCHED_INFO_COUNT)
			return KERN_FAILURE;
		if (hz < 1)
			hz = 100;
		/* One clock tick, in milliseconds, for both (kern/host.c). */
		s->min_timeout = (integer_t)(1000 / hz);
		s->min_quantum = (integer_t)(1000 / hz);
		*count = HOST_SCHED_INFO_COUNT;
		return KERN_SUCCESS;
	}
	default:
		/* HOST_LOAD_INFO's mach factor has no Linux counterpart. */
		return KERN_INVALID_ARGUMENT;
	}
}

/* A message to the host port: MIG_BAD_ID on its reply port. mo_lock held;
 * consumes M. */
void mo_host_serve(struct kmsg *m)
{
	const mach_msg_type_t int32 = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };
	mach_msg_header_t *h = (mach_msg_header_t *)m->bytes;
	kern_return_t kr = MIG_BAD_ID;
	struct kmsg *r;

	if (!m->reply.port) {
		mo_kmsg_destroy(m);
		return;
	}
	r = mo_kmsg_alloc(40, 0, 0);
	r->dest = m->reply;
	m->reply.port = NULL;
	((mach_msg_header_t *)r->bytes)->msgh_id = h->msgh_id + 100;
	memcpy(r->bytes + 32, &int32, 4);
	memcpy(r->bytes + 36, &kr, 4);
	mo_kmsg_destroy(m);
	mo_kmsg_send(r);
}
