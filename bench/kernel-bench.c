/*
 * bench/kernel-bench.c: the Linux-hosted kernel's fault cycles against a
 * pager, with a same-run baseline: userfaultfd faults served by a handler
 * thread inside this process, the floor of any userfaultfd fault.
 *
 *   kernel-bench ADDR PAGES ROUNDS
 *
 * ADDR is a mo-filepager over a file of at least PAGES pages. Each round
 * maps PAGES pages and reads each once (read faults: data_request, then
 * data_supply with the page write-locked), then writes each once
 * (write-unlock cycles: the write fault, data_unlock, lock_request,
 * resume), then unmaps. The baseline does the same with a handler thread:
 * UFFDIO_COPY (write-protected) for the reads, UFFDIO_WRITEPROTECT for
 * the writes. Medians of the rounds are printed, and the ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <mach.h>
#include <mach/motrace.h>

#include "kernel/kernel.h"

#define PAGE 4096UL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ---- the baseline: a handler thread in this process ---- */

struct base {
	int uffd;
	int stop;
	char page[PAGE] __attribute__((aligned(4096)));
};

static void *base_handler(void *arg)
{
	struct base *b = arg;
	struct uffd_msg m;

	while (!b->stop) {
		struct pollfd pfd = { .fd = b->uffd, .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(b->uffd, &m, sizeof(m)) != sizeof(m) ||
		    m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect w = {
				.range = { m.arg.pagefault.address & ~(PAGE - 1), PAGE },
				.mode = 0,
			};

			ioctl(b->uffd, UFFDIO_WRITEPROTECT, &w);
		} else {
			struct uffdio_copy c = {
				.dst = m.arg.pagefault.address & ~(PAGE - 1),
				.src = (uintptr_t)b->page, .len = PAGE,
				.mode = UFFDIO_COPY_MODE_WP,
			};

			ioctl(b->uffd, UFFDIO_COPY, &c);
		}
	}
	return NULL;
}

static int baseline(unsigned pages, double *rd, double *wr)
{
	static struct base b;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg;
	pthread_t t;
	volatile uint8_t *a;
	double t0, t1, t2;

	b.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (b.uffd < 0)
		b.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1);
	if (b.uffd < 0 || ioctl(b.uffd, UFFDIO_API, &api) < 0) {
		fprintf(stderr, "kernel-bench: userfaultfd: %s\n", strerror(errno));
		return -1;
	}
	a = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)a;
	reg.range.len = pages * PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	if (ioctl(b.uffd, UFFDIO_REGISTER, &reg) < 0) {
		fprintf(stderr, "kernel-bench: register: %s\n", strerror(errno));
		return -1;
	}
	b.stop = 0;
	pthread_create(&t, NULL, base_handler, &b);
	t0 = now();
	for (unsigned i = 0; i < pages; i++)
		(void)a[i * PAGE];
	t1 = now();
	for (unsigned i = 0; i < pages; i++)
		a[i * PAGE] = 1;
	t2 = now();
	b.stop = 1;
	pthread_join(t, NULL);
	munmap((void *)a, pages * PAGE);
	close(b.uffd);
	*rd = pages / (t1 - t0);
	*wr = pages / (t2 - t1);
	return 0;
}

/* ---- against the pager ---- */

static int kernel_round(struct mo_kernel *k, mach_port_t obj, unsigned pages,
			double *rd, double *wr)
{
	volatile uint8_t *a;
	void *p;
	double t0, t1, t2;

	if (mo_kernel_map(k, obj, 0, pages * PAGE, &p) < 0)
		return -1;
	a = p;
	t0 = now();
	for (unsigned i = 0; i < pages; i++)
		(void)a[i * PAGE];
	t1 = now();
	for (unsigned i = 0; i < pages; i++)
		a[i * PAGE] = 1;
	t2 = now();
	if (mo_kernel_unmap(k, p) < 0)
		return -1;
	*rd = pages / (t1 - t0);
	*wr = pages / (t2 - t1);
	return 0;
}

int main(int argc, char **argv)
{
	struct mo_kernel_opts ko = { 0 };
	struct mo_kernel_stats st;
	struct mo_kernel *k;
	mach_port_t obj;
	unsigned pages, rounds;
	double *br, *bw, *kr, *kw, mbr, mbw, mkr, mkw;

	if (argc != 4) {
		fprintf(stderr, "usage: kernel-bench ADDR PAGES ROUNDS\n");
		return 2;
	}
	pages = (unsigned)atoi(argv[2]);
	rounds = (unsigned)atoi(argv[3]);
	if (!pages || !rounds)
		return 2;
	br = calloc(rounds, sizeof(double));
	bw = calloc(rounds, sizeof(double));
	kr = calloc(rounds, sizeof(double));
	kw = calloc(rounds, sizeof(double));
	if (mo_mach_lookup(argv[1], NULL, &obj) < 0 || !(k = mo_kernel_new(&ko)))
		return 1;
	/* Alternate, so that both see the same machine state. */
	for (unsigned r = 0; r < rounds; r++) {
		if (baseline(pages, &br[r], &bw[r]) < 0 ||
		    kernel_round(k, obj, pages, &kr[r], &kw[r]) < 0)
			return 1;
	}
	mo_kernel_stats(k, &st);
	mo_kernel_free(k);
	mbr = median(br, (int)rounds);
	mbw = median(bw, (int)rounds);
	mkr = median(kr, (int)rounds);
	mkw = median(kw, (int)rounds);
	printf("pages per round: %u, rounds: %u (medians)\n", pages, rounds);
	printf("%-44s %12.0f /s  %7.2f us\n",
	       "baseline: userfaultfd read fault, in-process", mbr, 1e6 / mbr);
	printf("%-44s %12.0f /s  %7.2f us\n",
	       "baseline: userfaultfd write-protect fault", mbw, 1e6 / mbw);
	printf("%-44s %12.0f /s  %7.2f us\n",
	       "mo-filepager: read fault (data_request)", mkr, 1e6 / mkr);
	printf("%-44s %12.0f /s  %7.2f us\n",
	       "mo-filepager: write-unlock cycle", mkw, 1e6 / mkw);
	printf("ratio read fault / baseline read fault:      %.1fx slower\n",
	       mbr / mkr);
	printf("ratio write-unlock / baseline write-protect: %.1fx slower\n",
	       mbw / mkw);
	printf("kernel: %llu data_request, %llu data_unlock, %llu data_return\n",
	       (unsigned long long)st.data_requests,
	       (unsigned long long)st.data_unlocks,
	       (unsigned long long)st.data_returns);
	return 0;
}
