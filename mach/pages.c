/*
 * mach/pages.c: page-aligned memory for out-of-line data and
 * vm_allocate, with a small cache of the regions given back.
 *
 * A fresh anonymous page costs a page fault and its munmap a TLB flush:
 * about 9 us for mmap, first touch and munmap of one page on the
 * benchmark machine, more than the rest of a message's way. So regions
 * this library handed out (out-of-line data that arrived, vm_allocate)
 * go back to a cache when vm_deallocate gives them back whole, and the
 * next message of that size reuses them. Memory of any other origin is
 * unmapped as before.
 */
#include <string.h>
#include <sys/mman.h>

#include "mach/ipc.h"

#define PAGE 4096UL
#undef round_page	/* mach_init.h's divides by __vm_page_size */
#define round_page(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define CACHE_PAGES 16		/* regions of up to 64 KiB are kept */
#define CACHE_DEPTH 16		/* of each size */

static pthread_mutex_t pages_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idmap *ours;	/* address -> pages, of regions handed out */
static void *cache[CACHE_PAGES + 1][CACHE_DEPTH];
static unsigned ncache[CACHE_PAGES + 1];

void *mo_pages_alloc(size_t size, int zero)
{
	size_t np = round_page(size) / PAGE;
	void *a = NULL;

	if (np == 0)
		return NULL;
	pthread_mutex_lock(&pages_lock);
	if (!ours)
		ours = mo_idmap_new();
	if (np <= CACHE_PAGES && ncache[np])
		a = cache[np][--ncache[np]];
	pthread_mutex_unlock(&pages_lock);
	if (a) {
		if (zero)
			memset(a, 0, np * PAGE);
		return a;
	}
	a = mmap(NULL, np * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	pthread_mutex_lock(&pages_lock);
	mo_idmap_put(ours, (uintptr_t)a, (void *)(uintptr_t)np);
	pthread_mutex_unlock(&pages_lock);
	return a;
}

void mo_pages_release(void *addr, size_t size)
{
	uintptr_t start = (uintptr_t)addr & ~(PAGE - 1);
	size_t len = round_page((uintptr_t)addr + size) - start;
	size_t np = len / PAGE;
	void *v;

	if (size == 0)
		return;
	pthread_mutex_lock(&pages_lock);
	v = ours ? mo_idmap_get(ours, start) : NULL;
	if (v && (uintptr_t)v == np && np <= CACHE_PAGES &&
	    ncache[np] < CACHE_DEPTH) {
		cache[np][ncache[np]++] = (void *)start;
		pthread_mutex_unlock(&pages_lock);
		return;
	}
	if (v)
		mo_idmap_del(ours, start);
	pthread_mutex_unlock(&pages_lock);
	munmap((void *)start, len);
}
