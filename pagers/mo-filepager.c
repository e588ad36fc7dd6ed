/*
 * pagers/mo-filepager.c: a pager that serves a file (doc/pagers.md).
 *
 *   mo-filepager [--read-only] [--secret FILE] [-v] ADDR FILE
 *
 * Pages are supplied write-locked for reads and unlocked for writes, so
 * that the first write to a page asks (data_unlock) and is granted with
 * lock_request(lock_value VM_PROT_NONE), as Hurd's libpager does. Dirty
 * pages that come back (data_return) are written to the file; bytes past
 * its end are dropped, pages past its end read as zeros. SIGUSR1 asks
 * every kernel to clean (lock_request with MEMORY_OBJECT_RETURN_DIRTY)
 * and waits for the lock_completed answers. With --read-only a write is
 * refused: the page is flushed, the kernel asks again for write access,
 * and data_error gives the writer a memory error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pagers/pager.h"

#define MAX_KERNELS 64

static int fd = -1, readonly;
static uint64_t fsize;
static mach_port_t kernels[MAX_KERNELS];
static unsigned nkernels, cleans_pending;

void pager_forget(mach_port_t ctl)
{
	for (unsigned i = 0; i < nkernels; i++)
		if (kernels[i] == ctl) {
			kernels[i] = kernels[--nkernels];
			return;
		}
}

kern_return_t memory_object_init(mach_port_t mo, mach_port_t ctl,
				 mach_port_t name, vm_size_t page_size)
{
	plog("init: control %u", ctl);
	if (nkernels == MAX_KERNELS || page_size != PAGE) {
		/*
		 * Refused: destroy makes the kernel's faults memory errors
		 * (vm_object_destroy) rather than waits for a ready that never
		 * comes; its terminate follows.
		 */
		fprintf(stderr, "%s: init: kernel refused (%u kernels already, "
			"the most; page size %#lx)\n", P.prog, nkernels,
			(unsigned long)page_size);
		return memory_object_destroy(ctl, KERN_RESOURCE_SHORTAGE);
	}
	kernels[nkernels++] = ctl;
	pager_watch(ctl);
	return memory_object_ready(ctl, FALSE, MEMORY_OBJECT_COPY_DELAY);
}

kern_return_t memory_object_data_request(mach_port_t mo, mach_port_t ctl,
					 vm_offset_t off, vm_size_t len,
					 vm_prot_t access)
{
	vm_address_t addr = 0;
	void *buf;
	ssize_t n;

	plog("data_request: %#lx+%#lx access %d", (unsigned long)off,
	     (unsigned long)len, access);
	if (readonly && (access & VM_PROT_WRITE))
		return memory_object_data_error(ctl, off, len,
						KERN_PROTECTION_FAILURE);
	if (vm_allocate(mach_task_self(), &addr, len, TRUE) != KERN_SUCCESS)
		return memory_object_data_error(ctl, off, len,
						KERN_RESOURCE_SHORTAGE);
	buf = (void *)addr;
	if (off < fsize) {
		n = pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			plog("read at %#lx: %s", (unsigned long)off,
			     strerror(errno));
			vm_deallocate(mach_task_self(), addr, len);
			return memory_object_data_error(ctl, off, len,
							KERN_FAILURE);
		}
	}
	/* The data moves to the kernel (dataDealloc). */
	return memory_object_data_supply(ctl, off, (vm_offset_t)buf, len, TRUE,
					 readonly || !(access & VM_PROT_WRITE) ?
					 VM_PROT_WRITE : VM_PROT_NONE,
					 FALSE, MACH_PORT_NULL);
}

kern_return_t memory_object_data_unlock(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_size_t len,
					vm_prot_t access)
{
	plog("data_unlock: %#lx+%#lx access %d", (unsigned long)off,
	     (unsigned long)len, access);
	if (readonly)
		return memory_object_lock_request(ctl, off, len,
						  MEMORY_OBJECT_RETURN_NONE,
						  TRUE, VM_PROT_NO_CHANGE,
						  MACH_PORT_NULL);
	return memory_object_lock_request(ctl, off, len,
					  MEMORY_OBJECT_RETURN_NONE, FALSE,
					  VM_PROT_NONE, MACH_PORT_NULL);
}

kern_return_t memory_object_data_return(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_offset_t data,
					mach_msg_type_number_t cnt,
					boolean_t dirty, boolean_t kernel_copy)
{
	plog("data_return: %#lx+%#x dirty %d kernel_copy %d",
	     (unsigned long)off, cnt, dirty, kernel_copy);
	if (dirty && !readonly && off < fsize) {
		uint64_t n = fsize - off < cnt ? fsize - off : cnt;

		if (pwrite(fd, (void *)data, n, (off_t)off) != (ssize_t)n)
			fprintf(stderr, "%s: write at %#lx: %s\n", P.prog,
				(unsigned long)off, strerror(errno));
	}
	vm_deallocate(mach_task_self(), data, cnt);
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_completed(mach_port_t reply, mach_port_t ctl,
					   vm_offset_t off, vm_size_t len)
{
	if (cleans_pending && --cleans_pending == 0) {
		if (fsync(fd) < 0)
			plog("fsync: %s", strerror(errno));
		plog("clean done");
	}
	return KERN_SUCCESS;
}

/* SIGUSR1: every kernel returns its dirty pages and keeps them, clean. */
static void clean_all(int sig)
{
	uint64_t len = (fsize + PAGE - 1) & ~(PAGE - 1);

	plog("clean: %u kernel(s)", nkernels);
	for (unsigned i = 0; i < nkernels && len; i++)
		if (memory_object_lock_request(kernels[i], 0, len,
					       MEMORY_OBJECT_RETURN_DIRTY,
					       FALSE, VM_PROT_NO_CHANGE,
					       P.reply) == KERN_SUCCESS)
			cleans_pending++;
}

static void on_option(int c, const char *arg)
{
	readonly = 1;	/* --read-only, the one option of its own */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct stat st;
	int op;

	P.prog = "mo-filepager";
	P.usage = "mo-filepager [--read-only] [--secret FILE] [-v] ADDR FILE";
	op = pager_options(argc, argv, longopts, on_option);
	if (argc - op != 2)
		pager_usage(2);
	fd = open(argv[op + 1], readonly ? O_RDONLY : O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0)
		pdie("cannot open '%s': %s", argv[op + 1], strerror(errno));
	fsize = (uint64_t)st.st_size;
	P.on_signal = clean_all;
	if (pager_start(argv[op], P.secret) < 0)
		return 1;
	pager_run(argv[op]);
	close(fd);
	return 0;
}
