/*
 * kernel/kernel.h: a kernel side of the external memory management
 * interface for Linux processes (libmo-kernel).
 *
 * mo_kernel_map() maps a memory object (a send right to a pager's port)
 * into the calling process, the way vm_map does on GNU Mach; the pages
 * are then served with real page faults through userfaultfd: a fault on a
 * page the kernel does not hold sends memory_object_data_request, a write
 * that the page's lock forbids sends memory_object_data_unlock, and the
 * pager's calls on the control port (memory_object_data_supply,
 * memory_object_lock_request, ...) are answered as GNU Mach answers them
 * (doc/protocol.md, "What the kernel does"; kernel/README.md says where each rule
 * comes from).
 *
 * Two threads serve a kernel: one reads userfaultfd events, one receives
 * the pager's messages. Every function returns 0 (or a pointer), or -1
 * (NULL) after printing a message that names the problem.
 */
#ifndef MO_KERNEL_H
#define MO_KERNEL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <mach/port.h>

struct mo_kernel_opts {
	unsigned id;		/* N of "kN>" in the log */
	FILE *log;		/* every message sent and received, or NULL */
	unsigned resident_max;	/* resident pages before pageout; 0: no limit */
	int log_times;		/* "@SECONDS " before each line, from mo_kernel_new */
	int verbose;		/* notes on stderr */
};

/* Statistics, for mo-map and the benchmark. */
struct mo_kernel_stats {
	uint64_t faults;	/* userfaultfd events read */
	uint64_t data_requests, data_unlocks, data_returns;
	uint64_t pageouts;	/* pages evicted under resident_max */
	uint64_t pages_lost;	/* dirty or precious pages whose data_return failed */
};

/* What a thread in a fault waits for (mo_kernel_waiting). */
struct mo_kernel_wait {
	mach_port_t object;	/* the pager's port, as in the log's obj= */
	uint64_t offset;	/* the page's offset in the object */
	uint64_t addr;		/* where the page is mapped */
	char why[160];		/* what is missing, in words */
};

struct mo_kernel;

/* Returns a new kernel with its two threads running, or NULL. */
struct mo_kernel *mo_kernel_new(const struct mo_kernel_opts *opts);

/*
 * Maps SIZE bytes of OBJECT from OFFSET (both page aligned) at a fresh
 * address, *ADDR. The first map of an object sends memory_object_init;
 * the kernel keeps its own send right to OBJECT (it takes one reference).
 */
int mo_kernel_map(struct mo_kernel *k, mach_port_t object, uint64_t offset,
		  uint64_t size, void **addr);

/*
 * Unmaps the mapping at ADDR. On the last unmap of an object that the
 * pager did not let the kernel cache, dirty and precious pages go back
 * with memory_object_data_return and then memory_object_terminate moves
 * the control and name ports to the pager. Pages that cannot go back (the
 * pager is gone) are named, one line a run of them, and make it return -1.
 */
int mo_kernel_unmap(struct mo_kernel *k, void *addr);

/*
 * The process is about to exit (a signal): every object goes back as at
 * its last unmap, but the mappings stay registered, so that threads
 * waiting in a fault stay asleep until the exit. Call exit next. Returns
 * -1 when pages could not go back (named as by mo_kernel_unmap).
 */
int mo_kernel_exit(struct mo_kernel *k);

void mo_kernel_stats(struct mo_kernel *k, struct mo_kernel_stats *st);

/*
 * Whether the thread TID waits in a fault: 1 with *W filled in, else 0
 * (it is not in a fault, or the fault is not read yet).
 */
int mo_kernel_waiting(struct mo_kernel *k, pid_t tid, struct mo_kernel_wait *w);

/*
 * Stops the threads and frees K; mappings still there are unmapped and
 * cached objects go back. Returns -1 when pages could not go back.
 */
int mo_kernel_free(struct mo_kernel *k);

/*
 * Opens the log the environment asks for: MO_KERNEL_LOG=FILE (appended
 * to, line buffered). Returns NULL when unset or on error (with a message).
 */
FILE *mo_kernel_log_from_env(void);

#endif
