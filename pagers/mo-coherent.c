/*
 * pagers/mo-coherent.c: a coherent pager for many kernels at once
 * (distributed shared memory, doc/pagers.md).
 *
 *   mo-coherent [--secret FILE] [-v] ADDR SIZE
 *
 * Each page has many readers or one writer. A page is in one of four
 * states: read (any number of kernels hold it write-locked), write (one
 * kernel holds it unlocked), read-wait (a reader asked while a writer
 * held it: the writer is asked to clean and keep a read-only copy) and
 * write-wait (a writer asked while others held it: they are asked to
 * flush, the writer returning its dirty data first). Requests that arrive
 * while a page waits queue behind it, in order.
 *
 * lock_request's reply_to is the object port itself: lock_completed then
 * travels behind the data_return it follows (doc/protocol.md rule 6), since a
 * port keeps its messages in order and a port set does not order the
 * messages of different ports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagers/pager.h"

#define MAX_KERNELS 32

enum pstate { ST_READ, ST_WRITE, ST_READ_WAIT, ST_WRITE_WAIT };

static const char *const state_names[] = {
	"read", "write", "read-wait", "write-wait",
};

struct req {
	struct req *next;
	int k;
	int write;
	int unlock;		/* came as data_unlock: k holds a read copy */
};

struct cpage {
	uint8_t state;		/* enum pstate */
	uint32_t readers;	/* kernels holding a write-locked copy */
	int writer;		/* the kernel holding it unlocked, or -1 */
	uint32_t waiting;	/* kernels whose lock_completed is due */
	int serving;		/* write-wait: the kernel it is for, or -1 */
	/* lock_completed answers still to come that no longer count */
	uint8_t stale[MAX_KERNELS];
	struct req *queue, **tail;
};

static mach_port_t kernels[MAX_KERNELS];
static uint64_t size, npages;
static uint8_t *store;
static struct cpage *pages;

static int kernel_of(mach_port_t ctl)
{
	for (int i = 0; i < MAX_KERNELS; i++)
		if (kernels[i] == ctl)
			return i;
	return -1;
}

static void supply(int k, uint64_t i, vm_prot_t lock)
{
	vm_address_t buf = 0;

	if (vm_allocate(mach_task_self(), &buf, PAGE, TRUE) != KERN_SUCCESS)
		pdie("out of memory");
	memcpy((void *)buf, store + i * PAGE, PAGE);
	memory_object_data_supply(kernels[k], i * PAGE, buf,
				  PAGE, TRUE, lock, FALSE, MACH_PORT_NULL);
}

/*
 * Asks kernel K to give up page I. Returns 0 when the request could not
 * be sent: the kernel is gone (its dead-name notification, on its way,
 * makes the pager forget it), and no answer is to be waited for.
 */
static int ask(int k, uint64_t i, memory_object_return_t ret, int flush,
	       vm_prot_t lock)
{
	struct cpage *p = &pages[i];

	if (memory_object_lock_request(kernels[k], i * PAGE, PAGE, ret, flush,
				       lock, P.object) != KERN_SUCCESS) {
		plog("page %lu: kernel %d is gone, not asked", (unsigned long)i, k);
		return 0;
	}
	p->waiting |= 1u << k;
	return 1;
}

/*
 * Serves the first queued request of page I, if the page lets it now;
 * returns 0 when the page must wait for lock_completed answers.
 */
static int serve(uint64_t i)
{
	struct cpage *p = &pages[i];
	struct req *r = p->queue;
	uint32_t others;

	if (!r->write) {
		if (p->writer >= 0 && p->writer != r->k) {
			/* Clean and keep a read-only copy. */
			if (ask(p->writer, i, MEMORY_OBJECT_RETURN_DIRTY, FALSE,
				VM_PROT_WRITE)) {
				p->state = ST_READ_WAIT;
				return 0;
			}
			/* A writer gone took its changes with it. */
			p->writer = -1;
		}
		supply(r->k, i, VM_PROT_WRITE);
		p->readers |= 1u << r->k;
		p->state = ST_READ;
		return 1;
	}
	/*
	 * A data_unlock from a kernel that lost its copy since (a flush
	 * crossed it) is stale: that kernel's fault asks again with
	 * data_request. Answering it with data would cross that request, and
	 * the page would have two writers.
	 */
	if (r->unlock && !(p->readers & (1u << r->k)))
		return 1;
	others = p->readers & ~(1u << r->k);
	if (p->writer >= 0 && p->writer != r->k)
		ask(p->writer, i, MEMORY_OBJECT_RETURN_DIRTY, TRUE,
		    VM_PROT_NO_CHANGE);
	for (int k = 0; k < MAX_KERNELS; k++)
		if (others & (1u << k))
			ask(k, i, MEMORY_OBJECT_RETURN_NONE, TRUE,
			    VM_PROT_NO_CHANGE);
	if (p->waiting) {
		p->state = ST_WRITE_WAIT;
		p->serving = r->k;
		return 0;
	}
	if (r->unlock)
		memory_object_lock_request(kernels[r->k], i * PAGE, PAGE,
					   MEMORY_OBJECT_RETURN_NONE, FALSE,
					   VM_PROT_NONE, MACH_PORT_NULL);
	else
		supply(r->k, i, VM_PROT_NONE);
	p->readers = 0;
	p->writer = r->k;
	p->state = ST_WRITE;
	return 1;
}

static void run_queue(uint64_t i)
{
	struct cpage *p = &pages[i];

	while (p->queue && !p->waiting) {
		struct req *r = p->queue;

		if (!serve(i))
			return;
		plog("page %lu: kernel %d gets %s; %s", (unsigned long)i, r->k,
		     r->write ? "write" : "read", state_names[p->state]);
		p->queue = r->next;
		if (!p->queue)
			p->tail = &p->queue;
		free(r);
	}
}

/* All answers are in: the transition the page waited for is done. */
static void settle(uint64_t i)
{
	struct cpage *p = &pages[i];

	if (p->state == ST_READ_WAIT) {
		if (p->writer >= 0)
			p->readers |= 1u << p->writer;
		p->writer = -1;
		p->state = ST_READ;
	} else if (p->state == ST_WRITE_WAIT) {
		/* Only the kernel served keeps its copy (it asked to unlock). */
		p->readers &= p->serving >= 0 ? 1u << p->serving : 0;
		p->serving = -1;
		p->writer = -1;
		p->state = ST_READ;
	}
	run_queue(i);
}

/* Drops kernel K's queued requests for page P. */
static void queue_drop(struct cpage *p, int k)
{
	for (struct req **rp = &p->queue, *r; (r = *rp);) {
		if (r->k == k) {
			*rp = r->next;
			free(r);
		} else {
			rp = &r->next;
		}
	}
	p->tail = &p->queue;
	while (*p->tail)
		p->tail = &(*p->tail)->next;
}

static void enqueue(int k, uint64_t i, int write, int unlock)
{
	struct cpage *p = &pages[i];
	struct req *r = calloc(1, sizeof(*r));

	if (!r)
		pdie("out of memory");
	r->k = k;
	r->write = write;
	r->unlock = unlock;
	*p->tail = r;
	p->tail = &r->next;
	run_queue(i);
}

kern_return_t memory_object_init(mach_port_t mo, mach_port_t ctl,
				 mach_port_t name, vm_size_t page_size)
{
	int k = kernel_of(MACH_PORT_NULL);

	plog("init: control %u is kernel %d", ctl, k);
	if (k < 0 || page_size != PAGE) {
		/* As mo-filepager: faults become memory errors, not waits. */
		fprintf(stderr, "%s: init: kernel refused (%d kernels already, "
			"the most; page size %#lx)\n", P.prog, MAX_KERNELS,
			(unsigned long)page_size);
		return memory_object_destroy(ctl, KERN_RESOURCE_SHORTAGE);
	}
	kernels[k] = ctl;
	pager_watch(ctl);
	return memory_object_ready(ctl, FALSE, MEMORY_OBJECT_COPY_DELAY);
}

kern_return_t memory_object_data_request(mach_port_t mo, mach_port_t ctl,
					 vm_offset_t off, vm_size_t len,
					 vm_prot_t access)
{
	int k = kernel_of(ctl);
	uint64_t i = off / PAGE;
	struct cpage *p;

	if (k < 0)
		return KERN_INVALID_ARGUMENT;
	if ((off & (PAGE - 1)) || len != PAGE || i >= npages)
		return memory_object_data_error(ctl, off, len,
						KERN_INVALID_ADDRESS);
	/*
	 * A kernel that asks holds no copy (it dropped or returned it), and
	 * what it asked before for this page is superseded: its thread
	 * faulted again.
	 */
	p = &pages[i];
	p->readers &= ~(1u << k);
	if (p->writer == k)
		p->writer = -1;
	queue_drop(p, k);
	/*
	 * If this kernel is asked to give the page up, its request says it
	 * has nothing: the lock_request passes over the requested page
	 * (absent: memory_object_lock_page answers DONE), and nothing is
	 * left to give up.
	 */
	if (p->waiting & (1u << k)) {
		/*
		 * Its lock_completed still comes: it must not be taken for
		 * the answer to a later request.
		 */
		p->waiting &= ~(1u << k);
		p->stale[k]++;
		if (!p->waiting) {
			struct req *r = calloc(1, sizeof(*r));

			if (!r)
				pdie("out of memory");
			r->k = k;
			r->write = (access & VM_PROT_WRITE) != 0;
			*p->tail = r;
			p->tail = &r->next;
			settle(i);
			return KERN_SUCCESS;
		}
	}
	enqueue(k, i, (access & VM_PROT_WRITE) != 0, 0);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_unlock(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_size_t len,
					vm_prot_t access)
{
	int k = kernel_of(ctl);

	if (k < 0 || off / PAGE >= npages)
		return KERN_INVALID_ARGUMENT;
	enqueue(k, off / PAGE, 1, 1);
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_return(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_offset_t data,
					mach_msg_type_number_t cnt,
					boolean_t dirty, boolean_t kernel_copy)
{
	int k = kernel_of(ctl);

	for (uint64_t o = 0; o < cnt && (off + o) / PAGE < npages; o += PAGE) {
		struct cpage *p = &pages[(off + o) / PAGE];

		if (dirty && (p->writer == k || p->writer < 0))
			memcpy(store + off + o, (uint8_t *)data + o, PAGE);
		else if (dirty)
			plog("page %lu: dirty data from kernel %d ignored, the writer is %d",
			     (unsigned long)((off + o) / PAGE), k, p->writer);
		if (!kernel_copy && k >= 0) {
			p->readers &= ~(1u << k);
			if (p->writer == k)
				p->writer = -1;
		}
	}
	vm_deallocate(mach_task_self(), data, cnt);
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_completed(mach_port_t reply, mach_port_t ctl,
					   vm_offset_t off, vm_size_t len)
{
	int k = kernel_of(ctl);
	uint64_t i = off / PAGE;

	if (k < 0 || i >= npages)
		return KERN_SUCCESS;
	if (pages[i].stale[k]) {
		pages[i].stale[k]--;
		return KERN_SUCCESS;
	}
	if (!(pages[i].waiting & (1u << k)))
		return KERN_SUCCESS;
	pages[i].waiting &= ~(1u << k);
	if (!pages[i].waiting)
		settle(i);
	return KERN_SUCCESS;
}

/*
 * A kernel left (terminate, or its control port died): it holds nothing,
 * asks nothing and answers nothing any more. What it held dirty is lost
 * with it: the page is the pager's copy again.
 */
void pager_forget(mach_port_t ctl)
{
	int k = kernel_of(ctl);

	if (k < 0)
		return;
	kernels[k] = MACH_PORT_NULL;
	for (uint64_t i = 0; i < npages; i++) {
		struct cpage *p = &pages[i];

		queue_drop(p, k);
		if (p->serving == k)
			p->serving = -1;
		p->readers &= ~(1u << k);
		p->stale[k] = 0;
		if (p->writer == k)
			p->writer = -1;
		if (p->waiting & (1u << k)) {
			p->waiting &= ~(1u << k);
			if (!p->waiting)
				settle(i);
		}
	}
}

int main(int argc, char **argv)
{
	int op;

	P.prog = "mo-coherent";
	P.usage = "mo-coherent [--secret FILE] [-v] ADDR SIZE";
	op = pager_options(argc, argv, NULL, NULL);
	if (argc - op != 2)
		pager_usage(2);
	size = pager_num("SIZE", argv[op + 1], UINT64_MAX);
	if (!size)
		pdie("SIZE: must not be 0");
	npages = (size + PAGE - 1) / PAGE;
	store = calloc(npages, PAGE);
	pages = calloc(npages, sizeof(*pages));
	if (!store || !pages)
		pdie("cannot allocate %lu pages", (unsigned long)npages);
	for (uint64_t i = 0; i < npages; i++) {
		pages[i].writer = -1;
		pages[i].serving = -1;
		pages[i].tail = &pages[i].queue;
	}
	if (pager_start(argv[op], P.secret) < 0)
		return 1;
	pager_run(argv[op]);
	return 0;
}
