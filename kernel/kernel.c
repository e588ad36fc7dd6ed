/*
 * kernel/kernel.c: the Linux-hosted kernel side (kernel/kernel.h).
 *
 * One struct object per memory object (GNU Mach's vm_object), keyed by
 * the pager's port; each holds its pages (GNU Mach's vm_page: absent,
 * requested, resident with page_lock, unlock_request, dirty, precious).
 * A resident page lives either in the mapping (installed with
 * UFFDIO_COPY, write-protected until the first write, which is how dirty
 * pages are found) or, when it must not be accessible (a read lock, a
 * cached object with no mapping), in a private copy of the kernel's.
 *
 * A fault that cannot be served at once is kept in a list and tried
 * again after every message from the pager: the faulting thread sleeps
 * in the Linux kernel until then, as a GNU Mach thread sleeps in
 * vm_fault_page.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <mach.h>
#include <mach/memory_object.h>

#include "kernel/kernel.h"
#include "memory_object.h"	/* MIG's, for memory_object.defs */
#include "decode/decode.h"
#include "decode/render.h"
#include "util/intmap.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE 4096UL

/* vm_object_absent_max (GNU Mach vm/vm_object.c): requested pages per object. */
#define ABSENT_MAX 50
/* DATA_WRITE_MAX (GNU Mach vm/memory_object.c): pages per data_return. */
#define DATA_WRITE_MAX 32

enum pstate { P_ABSENT, P_REQUESTED, P_RESIDENT };

struct page {
	uint8_t state;		/* enum pstate */
	uint8_t page_lock;	/* access the pager forbids */
	uint8_t unlock_request;	/* access asked for with data_unlock */
	uint8_t dirty, precious;
	uint8_t mapped;		/* the data is in the mapping */
	uint8_t writable;	/* installed without write protection */
	void *saved;		/* the data when resident and not mapped */
	uint64_t seq;		/* when it entered the object: memq order */
	uint64_t index;		/* its offset in the object, in pages */
};

struct object;

struct mapping {
	struct mapping *next;
	struct object *obj;
	uint8_t *addr;
	uint64_t offset, size;
};

struct object {
	struct object *next;
	mach_port_t port;	/* our send right to the pager */
	mach_port_t control, name;
	int ready, may_cache, copy_strategy;
	int dead;		/* cut from its pager: destroyed or terminated */
	int terminated;		/* memory_object_terminate sent */
	unsigned absent_count;	/* requested pages (vm_object.absent_count) */
	struct mapping *map;	/* one mapping at a time */
	/* Pages whose data_return failed, not told yet: one run of them. */
	uint64_t lost_start, lost_n;
	kern_return_t lost_kr;
	/* Pages the object knows of, by index: sparse, as vm_page is. */
	struct intmap pages;
	unsigned resident;
};

struct fault {
	struct fault *next;
	struct object *obj;
	uint64_t addr;		/* page aligned */
	uint64_t index;		/* page index in the object */
	unsigned access;
	pid_t tid;
};

struct mo_kernel {
	struct mo_kernel_opts o;
	pthread_mutex_t lock;
	int uffd;
	int stop[2];
	mach_port_t pset, wake;
	pthread_t uffd_thread, msg_thread;
	struct object *objects;
	struct mapping *maps;
	struct fault *faults;
	uint64_t seq;
	unsigned resident;
	struct mo_kernel_stats st;
	struct timespec t0;
};

static int kerror(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int kerror(const char *fmt, ...)
{
	va_list ap;

	fputs("mo-kernel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void knote(struct mo_kernel *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void knote(struct mo_kernel *k, const char *fmt, ...)
{
	va_list ap;

	if (!k->o.verbose)
		return;
	fprintf(stderr, "mo-kernel k%u: ", k->o.id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the log: one line per message, in motrace check's form ---- */

static void log_msg(struct mo_kernel *k, char dir, const void *buf,
		    size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	struct mo_decoded d;

	if (!k->o.log)
		return;
	if (k->o.log_times) {
		struct timespec ts;
		uint64_t us;

		/*
		 * Microseconds: a message's round trip is tens of them, and
		 * motrace check -T shows durations to the microsecond.
		 */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		us = ((uint64_t)(ts.tv_sec - k->t0.tv_sec) * 1000000000u +
		      (uint64_t)ts.tv_nsec - (uint64_t)k->t0.tv_nsec) / 1000;
		strbuf_addf(&sb, "@%llu.%06llu ", (unsigned long long)(us / 1000000),
			    (unsigned long long)(us % 1000000));
	}
	strbuf_addf(&sb, "k%u%c ", k->o.id, dir);
	mo_decode(buf, len, MO_ABI_X86_64, &d);
	mo_render_text(&sb, buf, &d, NULL);
	strbuf_addch(&sb, '\n');
	/* One write a line: the log may be stdout, which mo-map writes too. */
	fputs(sb.buf, k->o.log);
	fflush(k->o.log);
	strbuf_release(&sb);
}

static __thread struct mo_kernel *sending;

/*
 * The MIG user stubs for memory_object.defs are built to call this
 * (-Dmach_msg=mo_kernel_mig_send, kernel/module.mk): the message is
 * logged, then sent.
 */
mach_msg_return_t mo_kernel_mig_send(mach_msg_header_t *msg,
				     mach_msg_option_t option,
				     mach_msg_size_t send_size,
				     mach_msg_size_t rcv_size,
				     mach_port_t rcv_name,
				     mach_msg_timeout_t timeout,
				     mach_port_t notify)
{
	mach_msg_return_t mr;

	if (sending && sending->o.log) {
		/* MIG leaves msgh_size to mach_msg; the decoder reads it. */
		msg->msgh_size = send_size;
		log_msg(sending, '>', msg, send_size);
	}
	mr = mach_msg(msg, option, send_size, rcv_size, rcv_name, timeout,
		      notify);
	if (mr != MACH_MSG_SUCCESS && sending)
		knote(sending, "send of message %d failed: %#x", msg->msgh_id,
		      (unsigned)mr);
	return mr;
}

/* Kernel -> manager sends never block (doc/protocol.md rule 11). */
#define SEND(k, call) do { sending = (k); (void)(call); sending = NULL; } while (0)

/* ---- userfaultfd ---- */

static int uffd_open(void)
{
	static const char fix[] =
		"as root, run 'sysctl vm.unprivileged_userfaultfd=1' or give "
		"the user access to /dev/userfaultfd";
	int fd, dev;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	if (errno == ENOSYS)
		return kerror("this Linux kernel has no userfaultfd (it needs "
			      "CONFIG_USERFAULTFD, Linux 5.7 or later for "
			      "write-protect faults); run the pagers against "
			      "GNU Mach instead (mo-gnumach)");
	/*
	 * vm.unprivileged_userfaultfd=0 refuses ordinary users unless they
	 * give up kernel-mode faults, which this kernel never needs.
	 */
	fd = (int)syscall(SYS_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd >= 0)
		return fd;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd >= 0)
			return fd;
	}
	return kerror("userfaultfd: %s (%s)", strerror(errno), fix);
}

static int uffd_api(int fd)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
			    UFFD_FEATURE_THREAD_ID,
	};

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return kerror("userfaultfd: this Linux kernel offers no "
			      "write-protect faults (UFFD_FEATURE_PAGEFAULT_FLAG_WP, "
			      "Linux 5.7 or later): %s", strerror(errno));
	return 0;
}

static void uffd_copy(struct mo_kernel *k, uint64_t dst, const void *src,
		      int wp)
{
	struct uffdio_copy c = {
		.dst = dst, .src = (uintptr_t)src, .len = PAGE,
		.mode = wp ? UFFDIO_COPY_MODE_WP : 0,
	};

	while (ioctl(k->uffd, UFFDIO_COPY, &c) < 0) {
		if (errno == EAGAIN)
			continue;
		if (errno != EEXIST)
			knote(k, "UFFDIO_COPY at %#lx: %s", (unsigned long)dst,
			      strerror(errno));
		break;
	}
}

static void uffd_wp(struct mo_kernel *k, uint64_t addr, int on)
{
	struct uffdio_writeprotect w = {
		.range = { .start = addr, .len = PAGE },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	while (ioctl(k->uffd, UFFDIO_WRITEPROTECT, &w) < 0) {
		if (errno == EAGAIN)
			continue;
		knote(k, "UFFDIO_WRITEPROTECT at %#lx: %s",
		      (unsigned long)addr, strerror(errno));
		break;
	}
}

static void uffd_wake(struct mo_kernel *k, uint64_t addr)
{
	struct uffdio_range r = { .start = addr, .len = PAGE };

	ioctl(k->uffd, UFFDIO_WAKE, &r);
}

/* ---- pages ---- */

/* The page of INDEX the object knows of, or NULL (absent). */
static struct page *page_find(const struct object *o, uint64_t index)
{
	return intmap_get(&o->pages, index);
}

/* The page of INDEX, made (absent) when the object has none. */
static struct page *page_get(struct object *o, uint64_t index)
{
	struct page *p = page_find(o, index);

	if (p)
		return p;
	p = mo_xcalloc(1, sizeof(*p));
	p->index = index;
	intmap_put(&o->pages, index, p);
	return p;
}

/* Forgets an absent page. */
static void page_drop(struct object *o, struct page *p)
{
	intmap_del(&o->pages, p->index);
	free(p);
}

static int by_index(const void *a, const void *b)
{
	uint64_t x = (*(struct page *const *)a)->index;
	uint64_t y = (*(struct page *const *)b)->index;

	return x < y ? -1 : x > y;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = (*(struct page *const *)a)->seq;
	uint64_t y = (*(struct page *const *)b)->seq;

	return x < y ? -1 : x > y;
}

/*
 * The pages from index LO to HI (excluded) that the object knows of, in
 * the order CMP gives; *N of them. The array is allocated: free() it.
 * GNU Mach walks offsets one by one; absent pages do nothing there, so
 * walking only the known ones is the same walk.
 */
static struct page **pages_in(const struct object *o, uint64_t lo,
			      uint64_t hi, int (*cmp)(const void *, const void *),
			      size_t *n)
{
	struct page **v = mo_xmalloc((intmap_count(&o->pages) + 1) * sizeof(*v));
	uint64_t index;
	void *val;

	*n = 0;
	for (size_t i = 0; intmap_next(&o->pages, &i, &index, &val);)
		if (index >= lo && index < hi)
			v[(*n)++] = val;
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

/* Where page INDEX is in the mapping, or 0. */
static uint64_t page_addr(struct object *o, uint64_t index)
{
	struct mapping *m = o->map;
	uint64_t off = index * PAGE;

	if (!m || off < m->offset || off >= m->offset + m->size)
		return 0;
	return (uintptr_t)m->addr + (off - m->offset);
}

static const void *page_data(struct object *o, uint64_t index)
{
	struct page *p = page_find(o, index);

	return p->mapped ? (const void *)(uintptr_t)page_addr(o, index) : p->saved;
}

/* Takes write access away; the next write faults (and marks it dirty). */
static void page_protect(struct mo_kernel *k, struct object *o, uint64_t i)
{
	struct page *p = page_find(o, i);

	if (p->mapped && p->writable) {
		uffd_wp(k, page_addr(o, i), 1);
		p->writable = 0;
	}
}

/* Takes the page out of the mapping, keeping its data. */
static void page_unmap(struct mo_kernel *k, struct object *o, uint64_t i)
{
	struct page *p = page_find(o, i);
	uint64_t a = page_addr(o, i);

	if (!p->mapped)
		return;
	page_protect(k, o, i);
	p->saved = malloc(PAGE);
	if (!p->saved)
		abort();
	memcpy(p->saved, (void *)(uintptr_t)a, PAGE);
	madvise((void *)(uintptr_t)a, PAGE, MADV_DONTNEED);
	p->mapped = 0;
}

static void page_free(struct mo_kernel *k, struct object *o, uint64_t i)
{
	struct page *p = page_find(o, i);

	if (!p)
		return;
	if (p->state == P_RESIDENT) {
		if (p->mapped)
			madvise((void *)(uintptr_t)page_addr(o, i), PAGE,
				MADV_DONTNEED);
		o->resident--;
		k->resident--;
	} else if (p->state == P_REQUESTED) {
		o->absent_count--;
	}
	free(p->saved);
	page_drop(o, p);
}

/* Makes a page resident with DATA (or zeros), not mapped yet. */
static void page_fill(struct mo_kernel *k, struct object *o, uint64_t i,
		      const void *data, unsigned lock, int precious)
{
	struct page *p = page_get(o, i);

	/*
	 * GNU Mach enters a page in the object's memq when the fault makes
	 * its placeholder (vm_page_insert): a requested page keeps the place
	 * its request gave it.
	 */
	if (p->state == P_REQUESTED)
		o->absent_count--;
	else
		p->seq = ++k->seq;
	p->state = P_RESIDENT;
	p->saved = malloc(PAGE);
	if (!p->saved)
		abort();
	if (data)
		memcpy(p->saved, data, PAGE);
	else
		memset(p->saved, 0, PAGE);
	p->page_lock = lock;
	p->unlock_request = VM_PROT_NONE;
	p->precious = precious != 0;
	p->dirty = 0;
	p->mapped = p->writable = 0;
	o->resident++;
	k->resident++;
}

/* ---- faults ---- */

static void fault_sigbus(struct mo_kernel *k, struct fault *f)
{
	siginfo_t si;

	/*
	 * A memory error (vm_fault returns KERN_MEMORY_ERROR): SIGBUS at the
	 * address. Linux takes a positive si_code (BUS_ADRERR) only from the
	 * thread itself, so this is SI_QUEUE with si_addr set.
	 */
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = SI_QUEUE;
	si.si_addr = (void *)(uintptr_t)f->addr;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), f->tid, SIGBUS, &si) < 0)
		knote(k, "SIGBUS to thread %d: %s", (int)f->tid, strerror(errno));
}

/*
 * One try at a fault, in the order of GNU Mach's vm_fault_page
 * (vm/vm_fault.c): wait for the pager to be ready, request an absent page
 * (at most ABSENT_MAX outstanding), ask to unlock what page_lock forbids
 * unless unlock_request already holds it, else map. Returns 1 when the
 * faulting thread can go on.
 */
static int fault_try(struct mo_kernel *k, struct fault *f)
{
	struct object *o = f->obj;
	kern_return_t kr;
	struct page *p;

	if (!o->ready && !o->dead)
		return 0;
	p = page_find(o, f->index);
	/*
	 * An object cut from its pager (memory_object_destroy) keeps its
	 * resident pages; a requested page stays requested for ever; any
	 * other fault is a memory error. So GNU Mach does (tests/t2006).
	 */
	if (o->dead && (!p || p->state == P_ABSENT ||
			(p->state == P_RESIDENT && (f->access & p->page_lock)))) {
		fault_sigbus(k, f);
		return 1;
	}
	switch (p ? p->state : P_ABSENT) {
	case P_ABSENT:
		if (o->absent_count >= ABSENT_MAX)
			return 0;
		k->st.data_requests++;
		sending = k;
		kr = memory_object_data_request(o->port, o->control,
						f->index * PAGE, PAGE, f->access);
		sending = NULL;
		if (kr != KERN_SUCCESS) {
			/*
			 * The pager is gone: vm_fault_page gives up with a
			 * memory error when data_request cannot be sent.
			 */
			fault_sigbus(k, f);
			return 1;
		}
		p = page_get(o, f->index);
		p->state = P_REQUESTED;
		p->seq = ++k->seq;
		o->absent_count++;
		return 0;
	case P_REQUESTED:
		return 0;
	}
	if (f->access & p->page_lock) {
		if ((f->access & p->unlock_request) != f->access) {
			k->st.data_unlocks++;
			sending = k;
			kr = memory_object_data_unlock(o->port, o->control,
						       f->index * PAGE, PAGE,
						       p->unlock_request | f->access);
			sending = NULL;
			if (kr != KERN_SUCCESS) {
				fault_sigbus(k, f);
				return 1;
			}
			p->unlock_request |= f->access;
		}
		return 0;
	}
	if (!p->mapped) {
		int w = (f->access & VM_PROT_WRITE) != 0;

		uffd_copy(k, f->addr, p->saved, !w);
		free(p->saved);
		p->saved = NULL;
		p->mapped = 1;
		p->writable = w;
		p->dirty |= w;
	} else if ((f->access & VM_PROT_WRITE) && !p->writable) {
		p->dirty = 1;
		p->writable = 1;
		uffd_wp(k, f->addr, 0);
	} else {
		uffd_wake(k, f->addr);
	}
	return 1;
}

static int fault_waits_on(struct mo_kernel *k, struct object *o, uint64_t i)
{
	for (struct fault *f = k->faults; f; f = f->next)
		if (f->obj == o && f->index == i)
			return 1;
	return 0;
}

static void faults_retry(struct mo_kernel *k)
{
	struct fault **fp = &k->faults, *f;

	while ((f = *fp)) {
		if (fault_try(k, f)) {
			*fp = f->next;
			free(f);
		} else {
			fp = &f->next;
		}
	}
}

/* Faults waiting on pages of O from I to I+N go away with SIGBUS. */
static void faults_error(struct mo_kernel *k, struct object *o, uint64_t i,
			 uint64_t n)
{
	struct fault **fp = &k->faults, *f;

	while ((f = *fp)) {
		if (f->obj == o && f->index >= i && f->index - i < n) {
			fault_sigbus(k, f);
			*fp = f->next;
			free(f);
		} else {
			fp = &f->next;
		}
	}
}

/* ---- returning pages ---- */

struct batch {
	uint64_t start, next;
	unsigned n;
	int dirty;
	struct strbuf data;
};

/*
 * Tells of the pages of O whose data could not go back, one line a run
 * of contiguous pages. GNU Mach cannot save them either (a data_return
 * to a dead port is destroyed with its data), but it does not go on as
 * if they were safe: a kernel that loses data says so.
 */
static void lost_flush(struct mo_kernel *k, struct object *o)
{
	if (!o->lost_n)
		return;
	kerror("object %u: %lu page(s) at offset 0x%lx+0x%lx (pages %lu to %lu) "
	       "not returned: data_return failed (%s); their data is lost",
	       o->port, (unsigned long)o->lost_n, (unsigned long)o->lost_start,
	       (unsigned long)(o->lost_n * PAGE),
	       (unsigned long)(o->lost_start / PAGE),
	       (unsigned long)(o->lost_start / PAGE + o->lost_n - 1),
	       o->lost_kr == MACH_SEND_INVALID_DEST ?
	       "MACH_SEND_INVALID_DEST: the pager is gone" : "send error");
	o->lost_n = 0;
}

static void lost_flush_all(struct mo_kernel *k)
{
	for (struct object *o = k->objects; o; o = o->next)
		lost_flush(k, o);
}

/* N pages from offset START did not go back: kept for lost_flush. */
static void lost_note(struct mo_kernel *k, struct object *o, uint64_t start,
		      uint64_t n, kern_return_t kr)
{
	if (o->lost_n && (o->lost_start + o->lost_n * PAGE != start ||
			  o->lost_kr != kr))
		lost_flush(k, o);
	if (!o->lost_n) {
		o->lost_start = start;
		o->lost_kr = kr;
	}
	o->lost_n += n;
	k->st.pages_lost += n;
}

static void batch_send(struct mo_kernel *k, struct object *o, struct batch *b,
		       int kernel_copy)
{
	kern_return_t kr;

	if (!b->n)
		return;
	k->st.data_returns++;
	sending = k;
	kr = memory_object_data_return(o->port, o->control, b->start,
				       (vm_offset_t)(uintptr_t)b->data.buf,
				       b->n * PAGE, b->dirty, kernel_copy);
	sending = NULL;
	if (kr != KERN_SUCCESS)
		lost_note(k, o, b->start, b->n, kr);
	strbuf_reset(&b->data);
	b->n = 0;
}

/*
 * Returns one page on its own and frees it: vm_pageout_page (GNU Mach
 * vm/vm_pageout.c) sends data_return with dirty unless the page is
 * precious and clean, and kernel_copy false.
 */
static void page_pageout(struct mo_kernel *k, struct object *o, uint64_t i)
{
	struct page *p = page_find(o, i);

	if (p->dirty || p->precious) {
		struct batch b = { .start = i * PAGE, .n = 1, .dirty = p->dirty };

		page_protect(k, o, i);
		strbuf_init(&b.data, PAGE);
		strbuf_add(&b.data, page_data(o, i), PAGE);
		batch_send(k, o, &b, 0);
		strbuf_release(&b.data);
	}
	page_free(k, o, i);
}

/* Evicts the oldest resident pages above resident_max (vm_pageout_scan). */
static void pageout_check(struct mo_kernel *k)
{
	while (k->o.resident_max && k->resident > k->o.resident_max) {
		struct object *vo = NULL;
		uint64_t vi = 0, best = UINT64_MAX;

		for (struct object *o = k->objects; o; o = o->next) {
			uint64_t index;
			void *val;

			for (size_t i = 0; intmap_next(&o->pages, &i, &index,
						       &val);) {
				struct page *p = val;

				if (p->state == P_RESIDENT && p->seq < best &&
				    !fault_waits_on(k, o, p->index)) {
					best = p->seq;
					vo = o;
					vi = p->index;
				}
			}
		}
		if (!vo)
			break;
		k->st.pageouts++;
		page_pageout(k, vo, vi);
	}
	lost_flush_all(k);
}

/* ---- the pager's calls (mach.defs), one handler per message id ---- */

struct call {
	struct mo_kernel *k;
	struct object *o;
	const uint8_t *buf;
	struct mo_decoded *d;
};

/*
 * The port argument that fills FIELD (enum mo_field): its name and the
 * type it arrived as (to move it on).
 */
static mach_port_t arg_port(const struct mo_decoded *d, const uint8_t *buf,
			    unsigned field, unsigned *type)
{
	int i = mo_call_item(d, field);

	if (i < 0)
		return MACH_PORT_NULL;
	*type = d->items[i].name;
	return (mach_port_t)mo_item_elem(buf, &d->items[i], 0);
}

/*
 * Drops a reply right the kernel will not answer on. A send-once right
 * that dies sends a send-once notification to its port (GNU Mach
 * ipc/ipc_notify.c, ipc_notify_send_once); the kernel sends it itself, so
 * that the log shows it, as the real kernel's traffic does (tests/t2006).
 */
static void reply_drop(struct mo_kernel *k, mach_port_t reply, unsigned type)
{
	mach_msg_header_t h;

	if (!reply)
		return;
	if (type != MACH_MSG_TYPE_PORT_SEND_ONCE) {
		mach_port_deallocate(mach_task_self(), reply);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
	h.msgh_remote_port = reply;
	h.msgh_size = sizeof(h);
	h.msgh_id = MACH_NOTIFY_SEND_ONCE;
	sending = k;
	mo_kernel_mig_send(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
			   MACH_PORT_NULL);
	sending = NULL;
}

static void call_ready(struct call *c)
{
	c->o->ready = 1;
	c->o->may_cache = !!(c->d->call.flags & MO_FLAG_MAY_CACHE);
	c->o->copy_strategy = (int)c->d->call.copy_strategy;
}

static void call_change_attributes(struct call *c)
{
	unsigned type = 0;
	mach_port_t reply = arg_port(c->d, c->buf, MO_FIELD_REPLY, &type);

	call_ready(c);
	if (reply)
		SEND(c->k, memory_object_change_completed(reply, type,
							  c->o->may_cache,
							  c->o->copy_strategy));
}

/*
 * memory_object_data_supply (GNU Mach vm/memory_object.c): whole pages
 * only, else KERN_INVALID_ARGUMENT and nothing happens; a page the
 * object already holds stops the supply with KERN_MEMORY_PRESENT at its
 * offset and the rest of the data is dropped; each accepted page gets the
 * lock and precious flag given, unlock_request cleared, not dirty.
 */
static void call_data_supply(struct call *c)
{
	const struct mo_call *a = &c->d->call;
	uint64_t off = a->offset, data = a->data_addr, len = a->data_bytes;
	unsigned lock = a->lock, type = 0;
	int precious = !!(a->flags & MO_FLAG_PRECIOUS);
	mach_port_t reply = arg_port(c->d, c->buf, MO_FIELD_REPLY, &type);
	kern_return_t result = KERN_SUCCESS;
	uint64_t error_offset = 0;

	if ((len & (PAGE - 1)) || (off & (PAGE - 1)) || (lock & ~VM_PROT_ALL)) {
		knote(c->k, "data_supply at %#lx of %#lx bytes: not whole pages",
		      (unsigned long)off, (unsigned long)len);
		goto out;
	}
	for (uint64_t done = 0; done < len; done += PAGE) {
		struct page *p = page_get(c->o, (off + done) / PAGE);

		if (p->state == P_RESIDENT) {
			result = KERN_MEMORY_PRESENT;
			error_offset = off + done;
			break;
		}
		page_fill(c->k, c->o, (off + done) / PAGE,
			  (const void *)(uintptr_t)(data + done), lock, precious);
	}
	if (reply)
		SEND(c->k, memory_object_supply_completed(reply, type,
							  c->o->control, off,
							  len, result,
							  error_offset));
	reply = MACH_PORT_NULL;
out:
	if (data && len)
		vm_deallocate(mach_task_self(), (vm_address_t)data, len);
	reply_drop(c->k, reply, type);
}

/* data_unavailable: requested pages become zero-filled pages (rule 8). */
static void call_data_unavailable(struct call *c)
{
	uint64_t off = c->d->call.offset, size = c->d->call.length;
	size_t n;
	struct page **v = pages_in(c->o, off / PAGE,
				   (off + size + PAGE - 1) / PAGE, by_index, &n);

	for (size_t j = 0; j < n; j++)
		if (v[j]->state == P_REQUESTED)
			page_fill(c->k, c->o, v[j]->index, NULL, VM_PROT_NONE, 0);
	free(v);
}

/* data_error: requested pages become absent; their faults get SIGBUS. */
static void call_data_error(struct call *c)
{
	uint64_t off = c->d->call.offset, size = c->d->call.length;
	size_t n;
	struct page **v = pages_in(c->o, off / PAGE,
				   (off + size + PAGE - 1) / PAGE, by_index, &n);

	for (size_t j = 0; j < n; j++) {
		uint64_t i = v[j]->index;

		if (v[j]->state != P_REQUESTED)
			continue;
		page_free(c->k, c->o, i);
		faults_error(c->k, c->o, i, 1);
	}
	free(v);
}

/*
 * memory_object_lock_request (GNU Mach vm/memory_object.c): page by page,
 * memory_object_lock_page restricts access (a flush restricts all), then
 * returns what should_return asks for, then flushes; absent pages are
 * skipped. Pages to return gather into one data_return while contiguous
 * and of the same kind (clean or only precious), DATA_WRITE_MAX at most;
 * lock_completed follows them. The pages are looked up at OFFSET plus
 * whole pages: a misaligned request finds none.
 *
 * A requested page is skipped too, and the walk does not wait for its
 * data: vm_fault_page (vm/vm_fault.c) sets m->absent before it sends
 * data_request, and memory_object_lock_page tests m->absent (DONE) before
 * m->busy (MUST_BLOCK). So lock_completed goes out before the supply,
 * which then fills the page as it would have without the lock_request
 * (tests/t2012; t4014 on GNU Mach).
 */
static void call_lock_request(struct call *c)
{
	struct mo_kernel *k = c->k;
	struct object *o = c->o;
	uint64_t off = c->d->call.offset, size = c->d->call.length;
	unsigned should_return = c->d->call.should_return;
	int flush = c->d->call.should_flush != 0;
	unsigned prot = flush ? VM_PROT_ALL : c->d->call.lock, type = 0;
	mach_port_t reply = arg_port(c->d, c->buf, MO_FIELD_REPLY, &type);
	uint64_t end = off + size < off ? UINT64_MAX : off + size;
	struct batch b = { .n = 0 };
	struct page **v = NULL;
	size_t n = 0;

	strbuf_init(&b.data, 0);
	/* Pages are looked up by exact offset: a misaligned one finds none. */
	if (!(off & (PAGE - 1)) && size)
		v = pages_in(o, off / PAGE, (end - 1) / PAGE + 1, by_index, &n);
	for (size_t j = 0; j < n; j++) {
		struct page *p = v[j];
		uint64_t i = p->index, a = i * PAGE;
		int ret = -1;

		if (p->state != P_RESIDENT)
			continue;
		if (b.n >= DATA_WRITE_MAX)
			batch_send(k, o, &b, !flush);
		if (prot != VM_PROT_NO_CHANGE) {
			if (prot & VM_PROT_READ)
				page_unmap(k, o, i);
			else if (prot & VM_PROT_WRITE)
				page_protect(k, o, i);
			p->page_lock = prot;
			p->unlock_request = VM_PROT_NONE;
		}
		if (should_return != MEMORY_OBJECT_RETURN_NONE) {
			if (p->dirty)
				ret = 1;
			else if (p->precious &&
				 should_return == MEMORY_OBJECT_RETURN_ALL)
				ret = 0;
		}
		if (ret >= 0) {
			if (b.n && (b.next != a || b.dirty != ret))
				batch_send(k, o, &b, !flush);
			if (!b.n) {
				b.start = a;
				b.dirty = ret;
			}
			page_protect(k, o, i);
			strbuf_add(&b.data, page_data(o, i), PAGE);
			b.n++;
			b.next = a + PAGE;
			p->dirty = 0;
		}
		if (flush)
			page_free(k, o, i);
	}
	batch_send(k, o, &b, !flush);
	strbuf_release(&b.data);
	free(v);
	lost_flush(k, o);
	if (reply)
		SEND(k, memory_object_lock_completed(reply, type, o->control,
						     off, size));
}

static void object_send_terminate(struct mo_kernel *k, struct object *o);

/*
 * memory_object_destroy (vm_object_destroy, GNU Mach vm/vm_object.c): the
 * object is cut from its pager; memory_object_terminate goes out once no
 * paging is in progress, that is at once when no page is requested. The
 * real kernel keeps the resident pages usable, lets a thread waiting for
 * a requested page wait for ever (no terminate then) and gives new faults
 * a memory error (tests/t2006).
 */
static void call_destroy(struct call *c)
{
	c->o->dead = 1;
	if (!c->o->absent_count)
		object_send_terminate(c->k, c->o);
}

/* memory_object_get_attributes: a routine; the reply as MIG lays it out. */
static void call_get_attributes(struct call *c)
{
	struct {
		mach_msg_header_t h;
		mach_msg_type_t t0; kern_return_t ret;
		mach_msg_type_t t1; boolean_t ready;
		mach_msg_type_t t2; boolean_t may_cache;
		mach_msg_type_t t3; int strategy;
	} r;
	const mach_msg_type_t i32 = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };
	const mach_msg_type_t bool = { MACH_MSG_TYPE_BOOLEAN, 32, 1, 1, 0, 0, 0 };

	if (!c->d->reply)
		return;
	memset(&r, 0, sizeof(r));
	r.h.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(c->d->h.bits), 0);
	r.h.msgh_remote_port = c->d->reply;
	r.h.msgh_size = sizeof(r);
	r.h.msgh_id = MO_ID_MEMORY_OBJECT_GET_ATTRIBUTES_REPLY;
	r.t0 = i32;
	r.t1 = bool;
	r.t2 = bool;
	r.t3 = i32;
	r.ret = KERN_SUCCESS;
	r.ready = c->o->ready;
	r.may_cache = c->o->may_cache;
	r.strategy = c->o->copy_strategy;
	sending = c->k;
	mo_kernel_mig_send(&r.h, MACH_SEND_MSG, sizeof(r), 0, MACH_PORT_NULL,
			   0, MACH_PORT_NULL);
	sending = NULL;
}

static const struct {
	int id;
	void (*fn)(struct call *c);
} calls[] = {
	{ MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE, call_data_unavailable },
	{ MO_ID_MEMORY_OBJECT_GET_ATTRIBUTES, call_get_attributes },
	{ MO_ID_MEMORY_OBJECT_LOCK_REQUEST, call_lock_request },
	{ MO_ID_MEMORY_OBJECT_DATA_ERROR, call_data_error },
	{ MO_ID_MEMORY_OBJECT_DESTROY, call_destroy },
	{ MO_ID_MEMORY_OBJECT_DATA_SUPPLY, call_data_supply },
	{ MO_ID_MEMORY_OBJECT_READY, call_ready },
	{ MO_ID_MEMORY_OBJECT_CHANGE_ATTRIBUTES, call_change_attributes },
};

/* ---- objects ---- */

static struct object *object_of_control(struct mo_kernel *k, mach_port_t ctl)
{
	for (struct object *o = k->objects; o; o = o->next)
		if (o->control == ctl && !o->dead)
			return o;
	return NULL;
}

/*
 * vm_object_terminate (GNU Mach vm/vm_object.c): walking memq, dirty and
 * precious pages go back one by one (vm_pageout_page), the rest is freed
 * (checked against the real kernel: tests/t2006); then
 * memory_object_terminate moves the control and name receive rights to
 * the pager.
 */
static void object_terminate(struct mo_kernel *k, struct object *o,
			     int return_pages)
{
	/* The memq order: the order the pages entered the object. */
	size_t n;
	struct page **v = pages_in(o, 0, UINT64_MAX, by_seq, &n);

	for (size_t j = 0; j < n; j++) {
		if (v[j]->state == P_RESIDENT && return_pages)
			page_pageout(k, o, v[j]->index);
		else
			page_free(k, o, v[j]->index);
	}
	free(v);
	lost_flush(k, o);
	object_send_terminate(k, o);
}

/* memory_object_terminate moves the control and name receive rights. */
static void object_send_terminate(struct mo_kernel *k, struct object *o)
{
	if (o->terminated)
		return;
	mach_port_move_member(mach_task_self(), o->control, MACH_PORT_NULL);
	SEND(k, memory_object_terminate(o->port, o->control, o->name));
	o->terminated = 1;
	o->dead = 1;
}

static void object_free(struct mo_kernel *k, struct object *o)
{
	struct object **op;

	for (op = &k->objects; *op; op = &(*op)->next)
		if (*op == o) {
			*op = o->next;
			break;
		}
	{
		uint64_t index;
		void *val;

		for (size_t i = 0; intmap_next(&o->pages, &i, &index, &val);) {
			free(((struct page *)val)->saved);
			free(val);
		}
	}
	intmap_release(&o->pages);
	free(o);
}

/* ---- the threads ---- */

static void fault_read(struct mo_kernel *k, const struct uffd_msg *m)
{
	uint64_t addr = m->arg.pagefault.address & ~(PAGE - 1);
	struct mapping *map;
	struct fault *f;

	if (m->event != UFFD_EVENT_PAGEFAULT)
		return;
	k->st.faults++;
	for (map = k->maps; map; map = map->next)
		if (addr >= (uintptr_t)map->addr &&
		    addr < (uintptr_t)map->addr + map->size)
			break;
	if (!map)
		return;
	f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->obj = map->obj;
	f->addr = addr;
	f->index = (map->offset + (addr - (uintptr_t)map->addr)) / PAGE;
	/* A write fault needs read and write (GNU Mach i386/i386/trap.c). */
	f->access = m->arg.pagefault.flags &
		    (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP) ?
		    VM_PROT_READ | VM_PROT_WRITE : VM_PROT_READ;
	f->tid = (pid_t)m->arg.pagefault.feat.ptid;
	if (fault_try(k, f)) {
		free(f);
	} else {
		struct fault **fp = &k->faults;

		while (*fp)
			fp = &(*fp)->next;
		*fp = f;
	}
	pageout_check(k);
}

static void *uffd_thread(void *arg)
{
	struct mo_kernel *k = arg;
	struct uffd_msg msgs[16];

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = k->uffd, .events = POLLIN },
			{ .fd = k->stop[0], .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(k->uffd, msgs, sizeof(msgs));
		if (n <= 0)
			continue;
		pthread_mutex_lock(&k->lock);
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msgs[0]); i++)
			fault_read(k, &msgs[i]);
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

static void msg_handle(struct mo_kernel *k, mach_msg_header_t *h)
{
	struct mo_decoded d;
	struct call c = { .k = k, .buf = (const uint8_t *)h, .d = &d };

	log_msg(k, '<', h, h->msgh_size);
	if (mo_decode((const uint8_t *)h, h->msgh_size, MO_ABI_X86_64, &d) < 0 ||
	    !(c.o = object_of_control(k, h->msgh_local_port))) {
		unsigned type = 0;
		mach_port_t reply = arg_port(&d, c.buf, MO_FIELD_REPLY, &type);

		knote(k, "message %d on port %u ignored", h->msgh_id,
		      h->msgh_local_port);
		/* Out-of-line memory came with it, whatever the schema says. */
		for (unsigned i = 0; i < d.nitems; i++)
			if (!d.items[i].is_inline && mo_item_bytes(&d.items[i]))
				vm_deallocate(mach_task_self(),
					      (vm_address_t)mo_item_ool_addr(c.buf,
						&d.items[i], MO_ABI_X86_64),
					      mo_item_bytes(&d.items[i]));
		reply_drop(k, reply, type);
		return;
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].id == h->msgh_id) {
			calls[i].fn(&c);
			break;
		}
	faults_retry(k);
	pageout_check(k);
}

static void *msg_thread(void *arg)
{
	struct mo_kernel *k = arg;
	union {
		mach_msg_header_t h;
		uint8_t b[8192];
	} u;

	for (;;) {
		mach_msg_return_t mr;

		mr = mach_msg(&u.h, MACH_RCV_MSG, 0, sizeof(u), k->pset,
			      MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
		if (mr != MACH_MSG_SUCCESS) {
			if (mr == MACH_RCV_TOO_LARGE)
				continue;
			kerror("receive on the control ports: %#x", (unsigned)mr);
			break;
		}
		if (u.h.msgh_local_port == k->wake)
			break;
		pthread_mutex_lock(&k->lock);
		msg_handle(k, &u.h);
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

/* ---- the public calls ---- */

struct mo_kernel *mo_kernel_new(const struct mo_kernel_opts *opts)
{
	struct mo_kernel *k = calloc(1, sizeof(*k));
	mach_port_t task = mach_task_self();

	if (!k)
		abort();
	k->o = *opts;
	clock_gettime(CLOCK_MONOTONIC, &k->t0);
	pthread_mutex_init(&k->lock, NULL);
	k->stop[0] = k->stop[1] = -1;
	if ((k->uffd = uffd_open()) < 0 || uffd_api(k->uffd) < 0)
		goto fail;
	if (pipe2(k->stop, O_CLOEXEC) < 0) {
		kerror("pipe: %s", strerror(errno));
		goto fail;
	}
	if (mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET, &k->pset) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &k->wake) ||
	    mach_port_insert_right(task, k->wake, k->wake,
				   MACH_MSG_TYPE_MAKE_SEND) ||
	    mach_port_move_member(task, k->wake, k->pset)) {
		kerror("cannot allocate the kernel's ports");
		goto fail;
	}
	if (pthread_create(&k->uffd_thread, NULL, uffd_thread, k) ||
	    pthread_create(&k->msg_thread, NULL, msg_thread, k)) {
		kerror("cannot start the kernel's threads");
		goto fail;
	}
	return k;
fail:
	if (k->uffd >= 0)
		close(k->uffd);
	free(k);
	return NULL;
}

int mo_kernel_map(struct mo_kernel *k, mach_port_t object, uint64_t offset,
		  uint64_t size, void **addr)
{
	mach_port_t task = mach_task_self();
	struct uffdio_register reg;
	struct object *o;
	struct mapping *m;
	void *a;

	if ((offset | size) & (PAGE - 1) || !size)
		return kerror("map: offset %#lx and size %#lx must be whole pages",
			      (unsigned long)offset, (unsigned long)size);
	a = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		return kerror("map: mmap of %#lx bytes: %s",
			      (unsigned long)size, strerror(errno));
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)a;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	if (ioctl(k->uffd, UFFDIO_REGISTER, &reg) < 0) {
		munmap(a, size);
		return kerror("map: userfaultfd register: %s (write-protect "
			      "faults on anonymous memory need Linux 5.7)",
			      strerror(errno));
	}

	pthread_mutex_lock(&k->lock);
	for (o = k->objects; o; o = o->next)
		if (o->port == object && !o->dead)
			break;
	if (o && o->map) {
		pthread_mutex_unlock(&k->lock);
		ioctl(k->uffd, UFFDIO_UNREGISTER, &reg.range);
		munmap(a, size);
		return kerror("map: object %u is already mapped (one mapping "
			      "per object)", object);
	}
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			abort();
		o->port = object;
		if (mach_port_mod_refs(task, object, MACH_PORT_RIGHT_SEND, 1) ||
		    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &o->control) ||
		    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &o->name) ||
		    mach_port_move_member(task, o->control, k->pset)) {
			pthread_mutex_unlock(&k->lock);
			free(o);
			ioctl(k->uffd, UFFDIO_UNREGISTER, &reg.range);
			munmap(a, size);
			return kerror("map: object %u: cannot make its ports",
				      object);
		}
		o->next = k->objects;
		k->objects = o;
		/* vm_object_enter (GNU Mach vm/vm_object.c) */
		SEND(k, memory_object_init(o->port, o->control, o->name, PAGE));
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->obj = o;
	m->addr = a;
	m->offset = offset;
	m->size = size;
	m->next = k->maps;
	k->maps = m;
	o->map = m;
	pthread_mutex_unlock(&k->lock);
	*addr = a;
	return 0;
}

int mo_kernel_unmap(struct mo_kernel *k, void *addr)
{
	struct mapping **mp, *m;
	struct object *o;
	struct uffdio_range r;
	uint64_t lost;

	pthread_mutex_lock(&k->lock);
	lost = k->st.pages_lost;
	for (mp = &k->maps; (m = *mp); mp = &m->next)
		if (m->addr == addr)
			break;
	if (!m) {
		pthread_mutex_unlock(&k->lock);
		return kerror("unmap: nothing is mapped at %p", addr);
	}
	o = m->obj;
	if (o->dead) {
		/* Destroyed: its pages go without a word. */
		object_terminate(k, o, 0);
	} else if (!o->may_cache) {
		object_terminate(k, o, 1);
	} else {
		/* Cached: the pages stay with the object (vm_object_cache). */
		size_t n;
		struct page **v = pages_in(o, 0, UINT64_MAX, by_index, &n);

		for (size_t j = 0; j < n; j++)
			if (v[j]->state == P_RESIDENT)
				page_unmap(k, o, v[j]->index);
		free(v);
	}
	/* Threads still in a fault here see the memory go, as on GNU Mach. */
	for (struct fault **fp = &k->faults, *f; (f = *fp);) {
		if (f->obj == o) {
			*fp = f->next;
			free(f);
		} else {
			fp = &f->next;
		}
	}
	r.start = (uintptr_t)m->addr;
	r.len = m->size;
	ioctl(k->uffd, UFFDIO_UNREGISTER, &r);
	munmap(m->addr, m->size);
	*mp = m->next;
	o->map = NULL;
	free(m);
	if (o->dead)
		object_free(k, o);
	lost = k->st.pages_lost - lost;
	pthread_mutex_unlock(&k->lock);
	return lost ? -1 : 0;
}

/*
 * The kernel goes away: cached objects too go back to their pagers, as
 * when GNU Mach trims its object cache (vm_object_cache_trim, then
 * vm_object_terminate).
 */
static void cache_empty(struct mo_kernel *k)
{
	for (struct object *o = k->objects; o; o = o->next)
		object_terminate(k, o, !o->dead);
}

int mo_kernel_exit(struct mo_kernel *k)
{
	uint64_t lost;

	pthread_mutex_lock(&k->lock);
	lost = k->st.pages_lost;
	cache_empty(k);
	lost = k->st.pages_lost - lost;
	pthread_mutex_unlock(&k->lock);
	return lost ? -1 : 0;
}

int mo_kernel_waiting(struct mo_kernel *k, pid_t tid, struct mo_kernel_wait *w)
{
	struct fault *f;
	struct object *o;
	struct page *p;

	pthread_mutex_lock(&k->lock);
	for (f = k->faults; f; f = f->next)
		if (f->tid == tid)
			break;
	if (!f) {
		pthread_mutex_unlock(&k->lock);
		return 0;
	}
	o = f->obj;
	p = page_find(o, f->index);
	w->object = o->port;
	w->offset = f->index * PAGE;
	w->addr = f->addr;
	/* The reasons fault_try has to wait, in its order. */
	if (!o->ready && !o->dead)
		snprintf(w->why, sizeof(w->why), "the pager has not answered "
			 "memory_object_init with memory_object_ready");
	else if (!p || p->state == P_ABSENT)
		snprintf(w->why, sizeof(w->why), "%u pages of the object are "
			 "requested already, the most at once "
			 "(vm_object_absent_max)", o->absent_count);
	else if (p->state == P_REQUESTED)
		snprintf(w->why, sizeof(w->why), "%s",
			 o->dead ? "the object was destroyed while its data was "
			 "on the way" : "data_request sent, no data_supply, "
			 "data_unavailable or data_error for it yet");
	else
		snprintf(w->why, sizeof(w->why), "data_unlock sent for %s "
			 "access, no lock_request has unlocked it (its lock "
			 "forbids %s)",
			 f->access & VM_PROT_WRITE ? "write" : "read",
			 p->page_lock & VM_PROT_READ ? "reading" : "writing");
	pthread_mutex_unlock(&k->lock);
	return 1;
}

void mo_kernel_stats(struct mo_kernel *k, struct mo_kernel_stats *st)
{
	pthread_mutex_lock(&k->lock);
	*st = k->st;
	pthread_mutex_unlock(&k->lock);
}

int mo_kernel_free(struct mo_kernel *k)
{
	struct {
		mach_msg_header_t h;
	} msg;
	int ret = 0;

	if (!k)
		return 0;
	for (;;) {
		void *a;

		pthread_mutex_lock(&k->lock);
		a = k->maps ? k->maps->addr : NULL;
		pthread_mutex_unlock(&k->lock);
		if (!a)
			break;
		if (mo_kernel_unmap(k, a) < 0)
			ret = -1;
	}
	if (mo_kernel_exit(k) < 0)
		ret = -1;
	memset(&msg, 0, sizeof(msg));
	msg.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	msg.h.msgh_remote_port = k->wake;
	msg.h.msgh_size = sizeof(msg);
	mach_msg(&msg.h, MACH_SEND_MSG, sizeof(msg), 0, MACH_PORT_NULL, 0,
		 MACH_PORT_NULL);
	if (write(k->stop[1], "", 1) < 0)
		kerror("cannot stop the fault thread");
	pthread_join(k->msg_thread, NULL);
	pthread_join(k->uffd_thread, NULL);
	while (k->objects)
		object_free(k, k->objects);
	close(k->uffd);
	close(k->stop[0]);
	close(k->stop[1]);
	mach_port_destroy(mach_task_self(), k->wake);
	mach_port_destroy(mach_task_self(), k->pset);
	free(k);
	return ret;
}

FILE *mo_kernel_log_from_env(void)
{
	const char *path = getenv("MO_KERNEL_LOG");
	FILE *f;

	if (!path || !*path)
		return NULL;
	f = fopen(path, "a");
	if (!f) {
		kerror("MO_KERNEL_LOG: cannot open '%s': %s", path,
		       strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}
