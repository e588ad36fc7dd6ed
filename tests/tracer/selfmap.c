/*
 * tests/tracer/selfmap.c: a pager that maps its own object.
 *
 *   selfmap ADDR PAGES
 *
 * It publishes a zero-filled object at ADDR and, in a second thread, looks
 * ADDR up and maps the object with the Linux-hosted kernel in the same
 * process, writes every page and reads it back, unmaps, and ends. Under
 * motrace (motrace -- selfmap ...) every message goes out of the process to
 * motrace and back into it: the case that deadlocks a tracer which blocks
 * on one peer while the other waits for it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mach/motrace.h>

#include <mach.h>
#include <mach/memory_object.h>

#include "kernel/kernel.h"

#define PAGE 4096UL

/*
 * The pager's side is served by MIG's SEQNOS stubs, whose routines are
 * named seqnos_memory_object_*: the kernel's user stubs in the same
 * program keep the plain names (PROTOCOL.md, "Running MIG here").
 */
boolean_t seqnos_memory_object_server(mach_msg_header_t *in,
				      mach_msg_header_t *out);

static const char *addr;
static unsigned npages;
static int failed = 1;
static volatile int done;

kern_return_t seqnos_memory_object_init(mach_port_t mo, mach_port_seqno_t seq,
					mach_port_t ctl, mach_port_t name,
					vm_size_t page_size)
{
	return memory_object_ready(ctl, FALSE, MEMORY_OBJECT_COPY_DELAY);
}

kern_return_t seqnos_memory_object_data_request(mach_port_t mo,
						mach_port_seqno_t seq,
						mach_port_t ctl, vm_offset_t off,
						vm_size_t len, vm_prot_t access)
{
	/* Zero pages, writable at once when the fault was a write. */
	return memory_object_data_unavailable(ctl, off, len);
}

kern_return_t seqnos_memory_object_data_unlock(mach_port_t mo,
					       mach_port_seqno_t seq,
					       mach_port_t ctl, vm_offset_t off,
					       vm_size_t len, vm_prot_t access)
{
	return memory_object_lock_request(ctl, off, len,
					  MEMORY_OBJECT_RETURN_NONE, FALSE,
					  VM_PROT_NONE, MACH_PORT_NULL);
}

kern_return_t seqnos_memory_object_data_return(mach_port_t mo,
					       mach_port_seqno_t seq,
					       mach_port_t ctl, vm_offset_t off,
					       vm_offset_t data,
					       mach_msg_type_number_t cnt,
					       boolean_t dirty,
					       boolean_t kernel_copy)
{
	vm_deallocate(mach_task_self(), data, cnt);
	return KERN_SUCCESS;
}


static void *map_own(void *arg)
{
	struct mo_kernel_opts ko = { 0 };
	struct mo_kernel *k;
	mach_port_t object;
	unsigned char *p;
	void *base;

	(void)arg;
	if (mo_mach_lookup(addr, NULL, &object) < 0 ||
	    !(k = mo_kernel_new(&ko)) ||
	    mo_kernel_map(k, object, 0, (uint64_t)npages * PAGE, &base) < 0)
		goto out;
	p = base;
	for (unsigned i = 0; i < npages; i++)
		p[i * PAGE + 7] = (unsigned char)(i + 1);
	for (unsigned i = 0; i < npages; i++)
		if (p[i * PAGE + 7] != (unsigned char)(i + 1)) {
			fprintf(stderr, "selfmap: page %u reads %u\n", i,
				p[i * PAGE + 7]);
			goto out;
		}
	if (mo_kernel_unmap(k, base) < 0)
		goto out;
	printf("selfmap: %u pages written and read back\n", npages);
	fflush(stdout);
	failed = 0;
out:
	done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	union {
		mach_msg_header_t h;
		char b[8192];
	} in, out;
	mach_port_t object;
	pthread_t t;

	if (argc != 3 || !(npages = (unsigned)atoi(argv[2]))) {
		fprintf(stderr, "usage: selfmap ADDR PAGES\n");
		return 2;
	}
	addr = argv[1];
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE,
			       &object) != KERN_SUCCESS ||
	    mo_mach_publish(addr, object, NULL, NULL) < 0)
		return 1;
	pthread_create(&t, NULL, map_own, NULL);
	while (!done) {
		kern_return_t kr = mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
					    0, sizeof(in), object, 100,
					    MACH_PORT_NULL);

		if (kr == MACH_RCV_TIMED_OUT)
			continue;
		if (kr != MACH_MSG_SUCCESS) {
			fprintf(stderr, "selfmap: receive: error 0x%x\n", kr);
			break;
		}
		/* memory_object.defs has simpleroutines only: nothing to send back. */
		seqnos_memory_object_server(&in.h, &out.h);
	}
	pthread_join(t, NULL);
	mo_mach_unpublish(addr);
	return failed;
}
