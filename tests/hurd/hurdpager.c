/*
 * tests/hurd/hurdpager.c: a pager written as a Hurd translator writes
 * one, on the Hurd's libpager, built on Linux against libmotrace-mach
 * (tests/hurd/hurd-trial.sh, doc/pager-howto.md).
 *
 *   hurdpager ADDR FILE
 *
 * Serves FILE (its size rounded up to pages) as one memory object,
 * published at ADDR; prints ADDR on stdout once it is. Pages are given
 * write-locked, so a write fault asks for an unlock (pager_unlock_page).
 * Pages written come back through pager_write_page into FILE. Exits 0
 * when libpager drops the object (pager_clear_user_data: the last send
 * right to it is gone), after the kernel terminated it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <mach.h>
#include <mach/motrace.h>
#include <hurd/ports.h>
#include <libpager/pager.h>

struct user_pager_info {
	int fd;
	off_t size;		/* FILE's size, rounded up to pages */
	unsigned reads, writes, unlocks;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done;

error_t pager_read_page(struct user_pager_info *upi, vm_offset_t page,
			vm_address_t *buf, int *write_lock)
{
	ssize_t n;

	if (vm_allocate(mach_task_self(), buf, vm_page_size, 1))
		return EIO;
	n = pread(upi->fd, (void *)*buf, vm_page_size, page);
	if (n < 0) {
		vm_deallocate(mach_task_self(), *buf, vm_page_size);
		return EIO;
	}
	/* vm_allocate's pages are zero: a short read leaves zeroes. */
	*write_lock = 1;
	upi->reads++;
	return 0;
}

error_t pager_write_page(struct user_pager_info *upi, vm_offset_t page,
			 vm_address_t buf)
{
	size_t len = vm_page_size;

	if ((off_t)(page + len) > upi->size)
		len = upi->size - page;
	if (pwrite(upi->fd, (void *)buf, len, page) != (ssize_t)len)
		return EIO;
	upi->writes++;
	return 0;
}

error_t pager_unlock_page(struct user_pager_info *upi, vm_offset_t address)
{
	upi->unlocks++;
	return 0;
}

void pager_notify_evict(struct user_pager_info *upi, vm_offset_t page)
{
}

error_t pager_report_extent(struct user_pager_info *upi, vm_address_t *offset,
			    vm_size_t *size)
{
	*offset = 0;
	*size = upi->size;
	return 0;
}

void pager_clear_user_data(struct user_pager_info *upi)
{
	fprintf(stderr, "hurdpager: %u page(s) read, %u written, %u unlock(s)\n",
		upi->reads, upi->writes, upi->unlocks);
	pthread_mutex_lock(&done_lock);
	done = 1;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

void pager_dropweak(struct user_pager_info *upi)
{
}

int main(int argc, char **argv)
{
	struct user_pager_info *upi;
	struct pager_requests *requests;
	struct port_bucket *bucket;
	struct pager *pager;
	struct stat st;
	error_t err;

	if (argc != 3) {
		fprintf(stderr, "usage: hurdpager ADDR FILE\n");
		return 2;
	}
	upi = calloc(1, sizeof(*upi));
	if (!upi)
		return 1;
	upi->fd = open(argv[2], O_RDWR);
	if (upi->fd < 0 || fstat(upi->fd, &st) < 0) {
		fprintf(stderr, "hurdpager: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	upi->size = round_page(st.st_size);

	bucket = ports_create_bucket();
	if (!bucket) {
		fprintf(stderr, "hurdpager: ports_create_bucket failed\n");
		return 1;
	}
	err = pager_start_workers(bucket, &requests);
	if (err) {
		fprintf(stderr, "hurdpager: pager_start_workers: %s\n", strerror(err));
		return 1;
	}
	pager = pager_create(upi, bucket, FALSE, MEMORY_OBJECT_COPY_DELAY, FALSE);
	if (!pager) {
		fprintf(stderr, "hurdpager: pager_create: %s\n", strerror(errno));
		return 1;
	}
	/* Kernels that look ADDR up get send rights made from the pager's
	 * receive right, which libports counts (ports_get_right). */
	if (mo_mach_publish(argv[1], ports_get_right(pager), NULL, NULL) < 0)
		return 1;
	ports_port_deref(pager);
	printf("%s\n", argv[1]);
	fflush(stdout);

	pthread_mutex_lock(&done_lock);
	while (!done)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
	mo_mach_unpublish(argv[1]);
	return 0;
}
