/*
 * tracer/model.c: the per-page model and the protocol checker.
 *
 * Rules from PROTOCOL.md ("Kernel rules") and GNU Mach vm/memory_object.c
 * (memory_object_lock_page, memory_object_data_supply), vm/vm_fault.c
 * (the unlock_request test) and vm/vm_object.c (terminate).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/memory_object.h>
#include <mach/vm_prot.h>

#include "decode/xlat.h"
#include "tracer/model.h"
#include "util/intmap.h"
#include "util/xalloc.h"

enum {
	D_MISALIGNED,
	D_PARTIAL_SUPPLY,
	D_SUPPLY_PRESENT,
	D_UNLOCK_TIMEOUT,
	D_NOCHANGE_UNLOCK,
	D_UNMATCHED_COMPLETION,
	D_DISCARD_DIRTY,
	D_AFTER_TERMINATE,
	D_WRONG_CONTROL,
	D_TWO_WRITERS,
	D_STALE_WRITEBACK,
	D_REQUEST_TIMEOUT,
	D_HUGE_LENGTH,
	D_COUNT
};

const struct mo_diag_info mo_diag_table[] = {
	[D_MISALIGNED] = { "misaligned", "offset or length not a multiple of the page size" },
	[D_PARTIAL_SUPPLY] = { "partial-supply", "data_supply of part of a page" },
	[D_SUPPLY_PRESENT] = { "supply-present", "data_supply of a page the kernel holds: dropped with KERN_MEMORY_PRESENT" },
	[D_UNLOCK_TIMEOUT] = { "unlock-timeout", "data_unlock unanswered for longer than the threshold" },
	[D_NOCHANGE_UNLOCK] = { "nochange-unlock", "data_unlock answered with lock_value VM_PROT_NO_CHANGE: the faulting thread stays asleep" },
	[D_UNMATCHED_COMPLETION] = { "unmatched-completion", "lock_completed that matches no lock_request" },
	[D_DISCARD_DIRTY] = { "discard-dirty", "flush with MEMORY_OBJECT_RETURN_NONE of a page that may be dirty: writes lost" },
	[D_AFTER_TERMINATE] = { "after-terminate", "a kernel's message about an object after its terminate" },
	[D_WRONG_CONTROL] = { "wrong-control", "control port that is not the object's" },
	[D_TWO_WRITERS] = { "two-writers", "two kernels may write one page at once" },
	[D_STALE_WRITEBACK] = { "stale-writeback", "write-back older than one already seen" },
	[D_REQUEST_TIMEOUT] = { "request-timeout", "data_request unanswered for longer than the threshold" },
	[D_HUGE_LENGTH] = { "huge-length", "a range no kernel could mean (past 2^64, or more than 65536 pages in one message): not modelled" },
	[D_COUNT] = { NULL, NULL },
};

enum page_state { P_ABSENT, P_REQUESTED, P_RESIDENT };

struct page {
	uint64_t key;		/* page index + 1; 0: empty slot */
	uint8_t state;
	uint8_t access;		/* requested access */
	uint8_t lock;		/* page_lock: the access the kernel may not use */
	uint8_t unlock;		/* accumulated unlock_request */
	uint8_t precious;
	uint8_t may_dirty;
	uint8_t unlock_reported;
	uint8_t unlock_pending;	/* a data_unlock waits for its answer */
	uint8_t nochange_seen;	/* a NO_CHANGE lock_request passed over it */
	uint8_t nochange_named;	/* ... over exactly its pages: named then */
	uint8_t req_reported;	/* its data_request's timeout was named */
	uint8_t kept;		/* KEPT_*: what motrace's rules did about it */
	uint64_t req_since;	/* when its data_request came */
	uint64_t unlock_since;	/* when the oldest unanswered data_unlock came */
	uint64_t unlock_first;	/* the pages that data_unlock asked for */
	uint64_t unlock_n;
	uint64_t version;	/* write grant this kernel holds (object pages: last granted) */
	uint64_t returned;	/* object pages: newest version written back */
};

/*
 * A holder's pages: util/intmap from index to page, the pages in blocks
 * of PM_BLOCK that are only ever added to (a holder's pages go all at
 * once, at its terminate or death), so a page never moves.
 */
#define PM_BLOCK 64

struct pagemap {
	struct intmap map;
	struct page **blocks;
	size_t count, ablocks;
};

/* What motrace's own rules did to a page's request or its answer. */
enum {
	KEPT_REQUEST_DROPPED = 1,	/* the kernel's request never reached the manager */
	KEPT_REQUEST_HELD = 2,		/* ... is held or delayed */
	KEPT_ANSWER_DROPPED = 4,	/* the manager's answer never reached the kernel */
	KEPT_ANSWER_HELD = 8,		/* ... is held or delayed */
};

struct lockreq {
	struct lockreq *next;
	uint64_t offset, size;
	int flush;		/* it flushes: the pages go when it is done */
};

/*
 * Pages a kernel asked for in one data_request of more than SPAN_MIN
 * pages: kept as one range, not a page each, so that what a request
 * costs does not follow its length. A page in the page map says more
 * than a span: a span stands for the pages of its range the map lacks.
 */
struct span {
	uint64_t first, n;
	uint8_t access;
};

#define SPAN_MIN 16

/* One object as one kernel holds it. */
struct okern {
	unsigned kernel, object;
	int inited, ready, terminated, gone;
	int joined;		/* set up before motrace saw it (mo_model_joined) */
	uint32_t ctl;
	uint64_t page_size;
	struct pagemap pages;
	struct span *spans;
	size_t nspans, aspans;
	struct lockreq *pending;
	uint64_t terminated_at;
	/* its page table (text, JSON) just before its terminate */
	struct strbuf last_text, last_json;
};

/* What the object's kernels share: write grants and write-backs. */
struct obj {
	unsigned object;
	struct pagemap pages;
};

/* A page whose data_unlock waits: the tick looks at these only. */
struct waiter {
	struct okern *o;
	uint64_t index;
	int request;		/* a data_request, else a data_unlock */
};

struct mo_model {
	struct mo_model_opts opts;
	struct waiter *waiters;
	size_t nwaiters, awaiters;
	struct okern **ok;
	size_t nok;
	struct obj **objs;
	size_t nobjs;
	unsigned counts[D_COUNT];
	unsigned total;
	enum mo_origin origin;	/* of the message being fed */
	uint64_t arrived;
};

/*
 * How long since SINCE, at NOW; none when NOW is earlier. Events come
 * stamped by the thread that saw them, so one dispatched after another may
 * carry an earlier time (a held message is stamped when it is let go, a
 * reply read meanwhile when it was read): a wait across the two is not
 * negative.
 */
static uint64_t elapsed(uint64_t now, uint64_t since)
{
	return now > since ? now - since : 0;
}


/* Page K (in the order they came, K < count) of PM. */
static struct page *pm_at(const struct pagemap *pm, size_t k)
{
	return &pm->blocks[k / PM_BLOCK][k % PM_BLOCK];
}

static struct page *pm_find(const struct pagemap *pm, uint64_t index)
{
	return intmap_get(&pm->map, index);
}

static struct page *pm_get(struct pagemap *pm, uint64_t index)
{
	struct page *p = pm_find(pm, index);

	if (p)
		return p;
	if (pm->count % PM_BLOCK == 0) {
		size_t b = pm->count / PM_BLOCK;

		if (b == pm->ablocks) {
			pm->ablocks = pm->ablocks ? 2 * pm->ablocks : 4;
			pm->blocks = mo_xrealloc(pm->blocks,
						 pm->ablocks * sizeof(*pm->blocks));
		}
		pm->blocks[b] = mo_xmalloc(PM_BLOCK * sizeof(struct page));
	}
	p = pm_at(pm, pm->count++);
	memset(p, 0, sizeof(*p));
	p->key = index + 1;
	intmap_put(&pm->map, index, p);
	return p;
}

static void pm_free(struct pagemap *pm)
{
	for (size_t b = 0; b * PM_BLOCK < pm->count; b++)
		free(pm->blocks[b]);
	free(pm->blocks);
	intmap_release(&pm->map);
	memset(pm, 0, sizeof(*pm));
}

static int page_cmp(const void *a, const void *b)
{
	const struct page *x = *(const struct page *const *)a;
	const struct page *y = *(const struct page *const *)b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* The pages of PM in [first, first + n), in no particular order. */
static size_t pm_range(const struct pagemap *pm, uint64_t first, uint64_t n,
		       struct page ***out)
{
	struct page **v;
	size_t k = 0;

	if (n > pm->count * 2) {
		v = mo_xcalloc(pm->count, sizeof(*v));
		for (size_t i = 0; i < pm->count; i++) {
			uint64_t idx = pm_at(pm, i)->key - 1;

			if (idx >= first && idx - first < n)
				v[k++] = pm_at(pm, i);
		}
	} else {
		v = mo_xcalloc(n, sizeof(*v));
		for (uint64_t i = 0; i < n; i++) {
			struct page *p = pm_find(pm, first + i);

			if (p)
				v[k++] = p;
		}
	}
	*out = v;
	return k;
}

/* The span of O that holds page INDEX, or NULL. */
static const struct span *span_of(const struct okern *o, uint64_t index)
{
	for (size_t i = 0; i < o->nspans; i++)
		if (index >= o->spans[i].first &&
		    index - o->spans[i].first < o->spans[i].n)
			return &o->spans[i];
	return NULL;
}

/* Page INDEX of O, made when missing (requested when a span holds it). */
static struct page *page_get(struct okern *o, uint64_t index)
{
	size_t before = o->pages.count;
	struct page *p = pm_get(&o->pages, index);

	if (o->pages.count != before) {
		const struct span *sp = span_of(o, index);

		if (sp) {
			p->state = P_REQUESTED;
			p->access = sp->access;
		}
	}
	return p;
}

static void span_add(struct okern *o, uint64_t first, uint64_t n,
		     unsigned access)
{
	for (size_t i = 0; i < o->nspans; i++) {
		struct span *sp = &o->spans[i];

		/* A request again over what waits already: one span. */
		if (first >= sp->first && first - sp->first + n <= sp->n) {
			sp->access |= (uint8_t)access;
			return;
		}
	}
	if (o->nspans == o->aspans) {
		o->aspans = o->aspans ? 2 * o->aspans : 4;
		o->spans = mo_xrealloc(o->spans, o->aspans * sizeof(*o->spans));
	}
	o->spans[o->nspans++] = (struct span){ first, n, (uint8_t)access };
}

/* Pages [first, first + n) are answered: no span holds them any more. */
static void span_cut(struct okern *o, uint64_t first, uint64_t n)
{
	uint64_t end = first + n;

	for (size_t i = 0; i < o->nspans;) {
		struct span sp = o->spans[i];
		uint64_t sp_end = sp.first + sp.n;

		if (end <= sp.first || first >= sp_end) {
			i++;
			continue;
		}
		/* What is left before and after the cut. */
		o->spans[i] = o->spans[--o->nspans];
		if (sp.first < first)
			span_add(o, sp.first, first - sp.first, sp.access);
		if (end < sp_end)
			span_add(o, end, sp_end - end, sp.access);
	}
	if (!o->nspans) {
		free(o->spans);
		o->spans = NULL;
		o->aspans = 0;
	}
}

struct mo_model *mo_model_new(const struct mo_model_opts *opts)
{
	struct mo_model *m = mo_xcalloc(1, sizeof(*m));

	m->opts = *opts;
	if (!m->opts.unlock_timeout_ns)
		m->opts.unlock_timeout_ns = 1000000000ULL;
	if (!m->opts.request_timeout_ns)
		m->opts.request_timeout_ns = 1000000000ULL;
	return m;
}

void mo_model_free(struct mo_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nok; i++) {
		struct lockreq *r, *next;

		for (r = m->ok[i]->pending; r; r = next) {
			next = r->next;
			free(r);
		}
		pm_free(&m->ok[i]->pages);
		strbuf_release(&m->ok[i]->last_text);
		strbuf_release(&m->ok[i]->last_json);
		free(m->ok[i]->spans);
		free(m->ok[i]);
	}
	for (size_t i = 0; i < m->nobjs; i++) {
		pm_free(&m->objs[i]->pages);
		free(m->objs[i]);
	}
	free(m->ok);
	free(m->objs);
	free(m->waiters);
	free(m);
}

static struct okern *okern_get(struct mo_model *m, unsigned kernel,
			       unsigned object)
{
	struct okern *o;

	for (size_t i = 0; i < m->nok; i++)
		if (m->ok[i]->kernel == kernel && m->ok[i]->object == object)
			return m->ok[i];
	o = mo_xcalloc(1, sizeof(*o));
	o->kernel = kernel;
	o->object = object;
	o->page_size = 4096;
	strbuf_init(&o->last_text, 0);
	strbuf_init(&o->last_json, 0);
	m->ok = mo_xrealloc(m->ok, (m->nok + 1) * sizeof(*m->ok));
	m->ok[m->nok++] = o;
	return o;
}

static struct obj *obj_get(struct mo_model *m, unsigned object)
{
	struct obj *o;

	for (size_t i = 0; i < m->nobjs; i++)
		if (m->objs[i]->object == object)
			return m->objs[i];
	o = mo_xcalloc(1, sizeof(*o));
	o->object = object;
	m->objs = mo_xrealloc(m->objs, (m->nobjs + 1) * sizeof(*m->objs));
	m->objs[m->nobjs++] = o;
	return o;
}

static void diag(struct mo_model *m, int which, const struct okern *o,
		 uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void diag(struct mo_model *m, int which, const struct okern *o,
		 uint64_t offset, const char *fmt, ...)
{
	struct mo_diag d;
	va_list ap;

	d.name = mo_diag_table[which].name;
	d.kernel = o->kernel;
	d.object = o->object;
	d.offset = offset;
	va_start(ap, fmt);
	vsnprintf(d.text, sizeof(d.text), fmt, ap);
	va_end(ap);
	/* What motrace did itself is said, so that no peer is blamed for it. */
	if (m->origin == MO_FROM_MOTRACE)
		strncat(d.text, " (in a message motrace injected)",
			sizeof(d.text) - strlen(d.text) - 1);
	m->counts[which]++;
	m->total++;
	if (m->opts.diag)
		m->opts.diag(m->opts.ctx, &d);
}

static int writable(const struct page *p)
{
	return p->state == P_RESIDENT && !(p->lock & VM_PROT_WRITE);
}

/*
 * Page P of kernel O became writable: give it a new write version and
 * check that no other kernel may write the same page.
 */
static void grant_write(struct mo_model *m, struct okern *o, struct page *p)
{
	struct obj *ob = obj_get(m, o->object);
	uint64_t idx = p->key - 1;
	struct page *op = pm_get(&ob->pages, idx);

	p->may_dirty = 1;
	p->version = ++op->version;
	for (size_t i = 0; i < m->nok; i++) {
		struct okern *other = m->ok[i];
		struct page *q;

		if (other == o || other->object != o->object ||
		    other->terminated)
			continue;
		q = pm_find(&other->pages, idx);
		if (q && writable(q))
			diag(m, D_TWO_WRITERS, o, idx * o->page_size,
			     "page %llu is writable in kernel %u and kernel %u",
			     (unsigned long long)idx, other->kernel, o->kernel);
	}
}

static void check_aligned(struct mo_model *m, struct okern *o,
			  const char *call, uint64_t offset, uint64_t len)
{
	uint64_t mask = o->page_size - 1;

	if ((offset & mask) || (len & mask))
		diag(m, D_MISALIGNED, o, offset,
		     "%s: offset 0x%llx, length 0x%llx: not multiples of the page size 0x%llx",
		     call, (unsigned long long)offset, (unsigned long long)len,
		     (unsigned long long)o->page_size);
}

static void add_waiter(struct mo_model *m, struct okern *o, uint64_t index,
		       int request)
{
	if (m->nwaiters == m->awaiters) {
		m->awaiters = m->awaiters ? 2 * m->awaiters : 64;
		m->waiters = mo_xrealloc(m->waiters,
				      m->awaiters * sizeof(*m->waiters));
	}
	m->waiters[m->nwaiters++] = (struct waiter){ o, index, request };
}

static void on_data_request(struct mo_model *m, struct okern *o,
			    uint64_t first, uint64_t n, unsigned access,
			    uint64_t now)
{
	struct page **v;
	size_t k;

	if (n <= SPAN_MIN) {
		for (uint64_t i = 0; i < n; i++) {
			struct page *p = page_get(o, first + i);

			p->state = P_REQUESTED;
			p->access = (uint8_t)access;
			p->req_since = now;
			p->req_reported = 0;
			p->kept &= (uint8_t)~(KEPT_ANSWER_DROPPED | KEPT_ANSWER_HELD);
			add_waiter(m, o, first + i, 1);
		}
		return;
	}
	/* The pages known already, then one span for the rest. */
	k = pm_range(&o->pages, first, n, &v);
	for (size_t i = 0; i < k; i++) {
		v[i]->state = P_REQUESTED;
		v[i]->access = (uint8_t)access;
	}
	free(v);
	span_add(o, first, n, access);
}

static void on_data_supply(struct mo_model *m, struct okern *o,
			   uint64_t offset, uint64_t bytes, unsigned lock,
			   int precious)
{
	uint64_t first = offset / o->page_size;
	uint64_t n = bytes / o->page_size;

	if (bytes % o->page_size || offset % o->page_size) {
		/*
		 * The kernel takes whole pages only and refuses the rest
		 * (GNU Mach vm/memory_object.c, memory_object_data_supply:
		 * KERN_INVALID_ARGUMENT): nothing changes, the fault waits.
		 */
		if (bytes % o->page_size)
			diag(m, D_PARTIAL_SUPPLY, o, offset,
			     "data_supply at 0x%llx of 0x%llx bytes: not whole pages; the kernel refuses it",
			     (unsigned long long)offset, (unsigned long long)bytes);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct page *p = page_get(o, first + i);

		if (p->state == P_RESIDENT) {
			/*
			 * GNU Mach stops at the first present page and drops
			 * the rest of the data (vm/memory_object.c,
			 * memory_object_data_supply: KERN_MEMORY_PRESENT).
			 */
			diag(m, D_SUPPLY_PRESENT, o, (first + i) * o->page_size,
			     "data_supply of page %llu, which kernel %u holds: the kernel drops the data from there on (%llu page(s))",
			     (unsigned long long)(first + i), o->kernel,
			     (unsigned long long)(n - i));
			return;
		}
		p->state = P_RESIDENT;
		p->lock = (uint8_t)lock;
		p->unlock = 0;
		p->unlock_pending = 0;
		p->unlock_reported = 0;
		p->precious = (uint8_t)precious;
		p->may_dirty = 0;
		if (writable(p))
			grant_write(m, o, p);
	}
	span_cut(o, first, n);
}

static void on_unavailable_or_error(struct mo_model *m, struct okern *o,
				    uint64_t first, uint64_t n, int error)
{
	struct page **v;
	size_t k;

	/*
	 * A span's pages that this answers become pages of their own (a
	 * span is at most MO_MODEL_MAX_PAGES long); then only the pages
	 * known are looked at, whatever the length says.
	 */
	for (size_t s = 0; s < o->nspans; s++) {
		uint64_t a = o->spans[s].first > first ? o->spans[s].first : first;
		uint64_t b = o->spans[s].first + o->spans[s].n;

		if (first + n < b)
			b = first + n;
		for (; a < b; a++)
			page_get(o, a);
	}
	span_cut(o, first, n);
	k = pm_range(&o->pages, first, n, &v);
	for (size_t i = 0; i < k; i++) {
		struct page *p = v[i];

		/* Only pages requested and absent are affected (rule 8). */
		if (p->state != P_REQUESTED)
			continue;
		if (error) {
			p->state = P_ABSENT;
			continue;
		}
		p->state = P_RESIDENT;
		p->lock = VM_PROT_NONE;
		p->unlock = 0;
		p->precious = 0;
		grant_write(m, o, p);
	}
	free(v);
}

static void on_data_unlock(struct mo_model *m, struct okern *o,
			   uint64_t first, uint64_t n, unsigned access,
			   uint64_t now)
{
	for (uint64_t i = 0; i < n; i++) {
		struct page *p = page_get(o, first + i);

		p->unlock |= (uint8_t)access;
		if (p->unlock_pending)
			continue;
		p->unlock_pending = 1;
		p->unlock_since = now;
		p->unlock_reported = 0;
		p->nochange_seen = 0;
		p->nochange_named = 0;
		p->kept &= (uint8_t)~(KEPT_ANSWER_DROPPED | KEPT_ANSWER_HELD);
		p->unlock_first = first;
		p->unlock_n = n;
		add_waiter(m, o, first + i, 0);
	}
}

static void on_lock_request(struct mo_model *m, struct okern *o,
			    uint64_t offset, uint64_t size, unsigned ret,
			    int flush, unsigned lock, uint32_t reply)
{
	uint64_t first = offset / o->page_size;
	uint64_t n = (size + o->page_size - 1) / o->page_size;
	struct page **v;
	size_t k;
	uint64_t nochange = 0, nochange_first = 0, lost = 0, lost_first = 0;

	/*
	 * The kernel walks pages from OFFSET itself: a misaligned offset
	 * finds no page (kernel/README.md rule 4, checked against GNU Mach
	 * in t2006), so nothing changes and nobody wakes.
	 */
	v = NULL;
	k = offset % o->page_size ? 0 : pm_range(&o->pages, first, n, &v);

	for (size_t i = 0; i < k; i++) {
		struct page *p = v[i];
		int returns;

		/* Absent (and busy, requested) pages are skipped (rule 4). */
		if (p->state != P_RESIDENT)
			continue;
		returns = (ret == MEMORY_OBJECT_RETURN_DIRTY && p->may_dirty) ||
			  (ret == MEMORY_OBJECT_RETURN_ALL &&
			   (p->may_dirty || p->precious));
		if (flush && ret == MEMORY_OBJECT_RETURN_NONE && p->may_dirty) {
			if (!lost++)
				lost_first = p->key - 1;
		}
		/*
		 * NO_CHANGE wakes nobody (rule 4). Over exactly the pages of
		 * the waiting data_unlock it is that unlock's answer, wrong;
		 * over other pages (a clean of the whole object, say) it may
		 * just cross it: then the page is only marked, and named if
		 * no real answer comes in time (mo_model_tick).
		 */
		if (lock == VM_PROT_NO_CHANGE && p->unlock_pending) {
			if (p->unlock_first == first && p->unlock_n == n) {
				if (!nochange++)
					nochange_first = p->key - 1;
				p->nochange_named = 1;
			} else {
				p->nochange_seen = 1;
			}
		}
		if (flush) {
			p->state = P_ABSENT;
			p->may_dirty = 0;
			p->unlock = 0;
			p->unlock_pending = 0;
			continue;
		}
		if (returns || ret != MEMORY_OBJECT_RETURN_NONE)
			p->may_dirty = 0;
		if (lock != VM_PROT_NO_CHANGE) {
			int was_writable = writable(p);

			p->lock = (uint8_t)lock;
			p->unlock = 0;
			p->unlock_pending = 0;
			if (writable(p) && !was_writable)
				grant_write(m, o, p);
			else if (writable(p))
				p->may_dirty = 1;
		}
	}
	free(v);
	if (lost)
		diag(m, D_DISCARD_DIRTY, o, lost_first * o->page_size,
		     "lock_request flushes %llu page(s) from page %llu with MEMORY_OBJECT_RETURN_NONE: writes to them are lost",
		     (unsigned long long)lost, (unsigned long long)lost_first);
	if (nochange)
		diag(m, D_NOCHANGE_UNLOCK, o, nochange_first * o->page_size,
		     "lock_request with VM_PROT_NO_CHANGE over %llu page(s) from page %llu that wait for data_unlock: nothing wakes the faulting thread",
		     (unsigned long long)nochange,
		     (unsigned long long)nochange_first);
	if (reply) {
		struct lockreq *r = mo_xcalloc(1, sizeof(*r)), **tail;

		r->offset = offset;
		r->size = size;
		r->flush = flush;
		for (tail = &o->pending; *tail; tail = &(*tail)->next)
			;
		*tail = r;
	}
}

void mo_model_joined(struct mo_model *m, unsigned kernel, unsigned object,
		     uint32_t ctl, uint64_t page_size, uint64_t now)
{
	struct okern *o = okern_get(m, kernel, object);

	(void)now;
	o->inited = 1;
	o->joined = 1;
	o->terminated = 0;
	o->gone = 0;
	o->ctl = ctl;
	o->page_size = page_size && !(page_size & (page_size - 1)) ? page_size
								    : 4096;
}

static void on_lock_completed(struct mo_model *m, struct okern *o,
			      uint64_t offset, uint64_t length)
{
	struct lockreq **r;

	/* The echoed offset and length are all that match it (rule 6). */
	for (r = &o->pending; *r; r = &(*r)->next) {
		if ((*r)->offset == offset && (*r)->size == length) {
			struct lockreq *done = *r;

			*r = done->next;
			free(done);
			return;
		}
	}
	/* Joined mid-life: its lock_request may have gone before motrace came. */
	if (o->joined)
		return;
	diag(m, D_UNMATCHED_COMPLETION, o, offset,
	     "lock_completed for offset 0x%llx, length 0x%llx: no lock_request with a reply port asked for it",
	     (unsigned long long)offset, (unsigned long long)length);
}

static void on_data_return(struct mo_model *m, struct okern *o,
			   uint64_t offset, uint64_t bytes, int dirty,
			   int kernel_copy)
{
	uint64_t first = offset / o->page_size;
	uint64_t n = (bytes + o->page_size - 1) / o->page_size;
	struct obj *ob = obj_get(m, o->object);

	for (uint64_t i = 0; i < n; i++) {
		struct page *p = page_get(o, first + i);
		struct page *op = pm_get(&ob->pages, first + i);

		if (dirty && p->version) {
			if (p->version < op->returned)
				diag(m, D_STALE_WRITEBACK, o,
				     (first + i) * o->page_size,
				     "page %llu written back by kernel %u with write version %llu after version %llu",
				     (unsigned long long)(first + i), o->kernel,
				     (unsigned long long)p->version,
				     (unsigned long long)op->returned);
			else
				op->returned = p->version;
		}
		p->may_dirty = 0;
		if (!kernel_copy) {
			p->state = P_ABSENT;
			p->unlock = 0;
			p->unlock_pending = 0;
		}
	}
}

/* Frees what O holds: its pages and the lock_requests it waits on. */
static void okern_clear(struct okern *o)
{
	struct lockreq *r, *next;

	pm_free(&o->pages);
	free(o->spans);
	o->spans = NULL;
	o->nspans = o->aspans = 0;
	for (r = o->pending; r; r = next) {
		next = r->next;
		free(r);
	}
	o->pending = NULL;
}

static void okern_pages(const struct okern *o, struct strbuf *out);
static void okern_pages_json(const struct okern *o, struct strbuf *out);

static void on_terminate(struct mo_model *m, struct okern *o, uint64_t now)
{
	/*
	 * What the object held is kept as text for --pages at the end, and
	 * only then: a long session need not keep a table per kernel gone.
	 */
	strbuf_reset(&o->last_text);
	strbuf_reset(&o->last_json);
	if (m->opts.keep_last_pages) {
		okern_pages(o, &o->last_text);
		okern_pages_json(o, &o->last_json);
	}
	o->terminated_at = now;
	/* Nothing stays: the pages go, so that a long run costs what lives. */
	o->terminated = 1;
	okern_clear(o);
}

/* Forgets the waiters of O (the tick must not look at freed pages). */
static void waiters_drop(struct mo_model *m, const struct okern *o)
{
	for (size_t i = 0; i < m->nwaiters;)
		if (m->waiters[i].o == o)
			m->waiters[i] = m->waiters[--m->nwaiters];
		else
			i++;
}

uint64_t mo_model_kernel_gone(struct mo_model *m, unsigned kernel)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->nok; i++) {
		struct okern *o = m->ok[i];

		if (o->kernel != kernel)
			continue;
		n += o->pages.count;
		waiters_drop(m, o);
		okern_clear(o);
		/* A kernel that is gone speaks no more: as after terminate. */
		o->terminated = 1;
		o->gone = 1;
	}
	return n;
}

/*
 * A range past 2^64, or one that would make a page each of more than
 * MO_MODEL_MAX_PAGES (a kernel asks for a page, or a cluster of a few:
 * GNU Mach vm/vm_fault.c, vm_fault_page, asks for PAGE_SIZE), is named
 * and left out of the model, whose cost must follow the pages that
 * exist. The manager's lock_request, data_unavailable and data_error
 * look only at pages known: any length is theirs but one past 2^64.
 */
static int huge_length(struct mo_model *m, struct okern *o,
		       const struct mo_decoded *d, int id, uint64_t offset,
		       uint64_t len)
{
	int data = id == MO_ID_MEMORY_OBJECT_DATA_SUPPLY ||
		   id == MO_ID_MEMORY_OBJECT_DATA_RETURN;
	int per_page = data || id == MO_ID_MEMORY_OBJECT_DATA_REQUEST ||
		       id == MO_ID_MEMORY_OBJECT_DATA_UNLOCK;
	uint64_t bytes = len;

	if (data)
		bytes = d->call.data_bytes;
	else if (!per_page && id != MO_ID_MEMORY_OBJECT_LOCK_REQUEST &&
		 id != MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE &&
		 id != MO_ID_MEMORY_OBJECT_DATA_ERROR)
		return 0;
	if (bytes > UINT64_MAX - offset ||
	    bytes > UINT64_MAX - (o->page_size - 1))
		diag(m, D_HUGE_LENGTH, o, offset,
		     "%s at 0x%llx of 0x%llx bytes: the range passes 2^64",
		     d->schema->name, (unsigned long long)offset,
		     (unsigned long long)bytes);
	else if (per_page &&
		 (bytes + o->page_size - 1) / o->page_size > MO_MODEL_MAX_PAGES)
		diag(m, D_HUGE_LENGTH, o, offset,
		     "%s at 0x%llx of 0x%llx bytes: %llu pages, more than any kernel means (%u at most)",
		     d->schema->name, (unsigned long long)offset,
		     (unsigned long long)bytes,
		     (unsigned long long)((bytes + o->page_size - 1) / o->page_size),
		     MO_MODEL_MAX_PAGES);
	else
		return 0;
	return 1;
}

/* Mach's notifications (mach/notify.defs), by id. */
static int is_notification(int32_t id)
{
	switch (id) {
	case MO_ID_MACH_NOTIFY_PORT_DELETED:
	case MO_ID_MACH_NOTIFY_MSG_ACCEPTED:
	case MO_ID_MACH_NOTIFY_PORT_DESTROYED:
	case MO_ID_MACH_NOTIFY_NO_SENDERS:
	case MO_ID_MACH_NOTIFY_SEND_ONCE:
	case MO_ID_MACH_NOTIFY_DEAD_NAME:
		return 1;
	}
	return 0;
}

void mo_model_feed(struct mo_model *m, unsigned kernel, unsigned object,
		   enum mo_dir dir, const struct mo_decoded *d,
		   const uint8_t *buf, uint64_t now)
{
	const struct mo_call *c = &d->call;
	struct okern *o;
	const char *name;
	uint64_t offset, len;
	int id;

	/*
	 * Replies and Mach's notifications (a send-once right destroyed
	 * unused, say) are not memory-object protocol messages.
	 */
	if (!d->schema || d->status != MO_OK ||
	    d->schema->kind == MO_KIND_REPLY || is_notification(d->schema->id))
		return;
	name = d->schema->name;
	id = d->schema->id;
	if (object == MO_OBJECT_UNKNOWN) {
		struct okern none = { .kernel = kernel, .object = object };

		diag(m, D_WRONG_CONTROL, &none, 0,
		     "%s to control port %u, which is no object's in kernel %u",
		     name, d->dest, kernel);
		return;
	}
	o = okern_get(m, kernel, object);

	if (id == MO_ID_MEMORY_OBJECT_INIT) {	/* a new (or renewed) association */
		o->inited = 1;
		o->joined = 0;
		o->terminated = 0;
		o->gone = 0;
		o->ready = 0;
		o->ctl = c->control;
		o->page_size = c->has & MO_CALL_PAGE_SIZE ? c->page_size : 4096;
		if (!o->page_size || (o->page_size & (o->page_size - 1)))
			o->page_size = 4096;
		return;
	}
	if (o->terminated) {
		/*
		 * A manager's message can cross the terminate: sent before
		 * the manager saw it, it reaches a control port whose receive
		 * right the terminate moved to the manager (GNU Mach
		 * vm/vm_object.c, vm_object_terminate), and lands in the
		 * manager's own queue, harmlessly. A kernel that speaks of
		 * the object after its terminate is wrong.
		 */
		/*
		 * One a rule of motrace's held past the terminate was sent
		 * before it: motrace's doing, not the kernel's.
		 */
		if (dir == MO_K2M && !(m->origin == MO_FROM_KEPT &&
				       m->arrived <= o->terminated_at) &&
		    m->origin != MO_FROM_MOTRACE)
			diag(m, D_AFTER_TERMINATE, o, 0,
			     "%s about object %u after kernel %u terminated it",
			     name, object, kernel);
		return;
	}
	if (o->inited) {
		uint32_t ctl = dir == MO_M2K ? d->dest
			       : c->has & MO_CALL_CONTROL ? c->control : o->ctl;

		if (ctl != o->ctl)
			diag(m, D_WRONG_CONTROL, o, 0,
			     "%s names control port %u; object %u's in kernel %u is %u",
			     name, ctl, object, kernel, o->ctl);
	}

	/* Length or size; a data_supply's or data_return's is its data's. */
	offset = c->offset;
	len = c->length;
	if ((c->has & MO_CALL_OFFSET) &&
	    (id == MO_ID_MEMORY_OBJECT_DATA_REQUEST ||
	     id == MO_ID_MEMORY_OBJECT_DATA_UNLOCK ||
	     id == MO_ID_MEMORY_OBJECT_LOCK_COMPLETED ||
	     id == MO_ID_MEMORY_OBJECT_LOCK_REQUEST ||
	     id == MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE ||
	     id == MO_ID_MEMORY_OBJECT_DATA_ERROR))
		check_aligned(m, o, name, offset, len);

	if (huge_length(m, o, d, id, offset, len))
		return;

	switch (id) {
	case MO_ID_MEMORY_OBJECT_DATA_REQUEST:
		on_data_request(m, o, offset / o->page_size,
				(len + o->page_size - 1) / o->page_size,
				c->access, now);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_UNLOCK:
		on_data_unlock(m, o, offset / o->page_size,
			       (len + o->page_size - 1) / o->page_size,
			       c->access, now);
		break;
	case MO_ID_MEMORY_OBJECT_LOCK_COMPLETED:
		on_lock_completed(m, o, offset, len);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_RETURN:
		check_aligned(m, o, name, offset, 0);
		on_data_return(m, o, offset, c->data_bytes,
			       !!(c->flags & MO_FLAG_DIRTY),
			       !!(c->flags & MO_FLAG_KERNEL_COPY));
		break;
	case MO_ID_MEMORY_OBJECT_TERMINATE:
		on_terminate(m, o, now);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_SUPPLY:
		check_aligned(m, o, name, offset, 0);
		on_data_supply(m, o, offset, c->data_bytes, c->lock,
			       !!(c->flags & MO_FLAG_PRECIOUS));
		break;
	case MO_ID_MEMORY_OBJECT_LOCK_REQUEST:
		on_lock_request(m, o, offset, len, c->should_return,
				c->should_flush,
				c->has & MO_CALL_LOCK ? c->lock
						      : VM_PROT_NO_CHANGE,
				c->reply);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE:
	case MO_ID_MEMORY_OBJECT_DATA_ERROR:
		on_unavailable_or_error(m, o, offset / o->page_size,
					(len + o->page_size - 1) / o->page_size,
					id == MO_ID_MEMORY_OBJECT_DATA_ERROR);
		break;
	case MO_ID_MEMORY_OBJECT_READY:
	case MO_ID_MEMORY_OBJECT_CHANGE_ATTRIBUTES:
		o->ready = 1;
		break;
	default:
		break;
	}
}

unsigned mo_model_object_of_control(const struct mo_model *m, unsigned kernel,
				    uint32_t ctl)
{
	for (size_t i = 0; i < m->nok; i++)
		if (m->ok[i]->kernel == kernel && m->ok[i]->inited &&
		    m->ok[i]->ctl == ctl)
			return m->ok[i]->object;
	return MO_OBJECT_UNKNOWN;
}

void mo_model_origin(struct mo_model *m, enum mo_origin origin,
		     uint64_t arrived)
{
	m->origin = origin;
	m->arrived = arrived;
}

void mo_model_kept(struct mo_model *m, unsigned kernel, unsigned object,
		   enum mo_dir dir, const struct mo_decoded *d,
		   const uint8_t *buf, enum mo_kept what, uint64_t now)
{
	struct okern *o = NULL;
	uint64_t offset, len, first, n;
	int id;
	uint8_t mark;

	if (!d->schema || d->status != MO_OK || object == MO_OBJECT_UNKNOWN)
		return;
	for (size_t k = 0; k < m->nok; k++)
		if (m->ok[k]->kernel == kernel && m->ok[k]->object == object)
			o = m->ok[k];
	if (!o || o->terminated)
		return;
	id = d->schema->id;
	/* The requests a kernel waits on, and the manager's answers to them. */
	if (dir == MO_K2M && (id == MO_ID_MEMORY_OBJECT_DATA_REQUEST ||
			      id == MO_ID_MEMORY_OBJECT_DATA_UNLOCK))
		mark = what == MO_KEPT_DROPPED ? KEPT_REQUEST_DROPPED
					       : KEPT_REQUEST_HELD;
	else if (dir == MO_M2K && (id == MO_ID_MEMORY_OBJECT_DATA_SUPPLY ||
				   id == MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE ||
				   id == MO_ID_MEMORY_OBJECT_DATA_ERROR ||
				   id == MO_ID_MEMORY_OBJECT_LOCK_REQUEST))
		mark = what == MO_KEPT_DROPPED ? KEPT_ANSWER_DROPPED
					       : KEPT_ANSWER_HELD;
	else
		return;
	/* Length or size, else the bytes of data (decode/decode.h). */
	offset = d->call.offset;
	len = d->call.length;
	first = offset / o->page_size;
	n = (len + o->page_size - 1) / o->page_size;
	/*
	 * The kernel sent its request and waits, though the manager will
	 * never see it: its wait starts now, to be named when it is long.
	 */
	if (what == MO_KEPT_DROPPED && id == MO_ID_MEMORY_OBJECT_DATA_REQUEST &&
	    n < (1u << 20))
		on_data_request(m, o, first, n, d->call.access, now);
	else if (what == MO_KEPT_DROPPED &&
		 id == MO_ID_MEMORY_OBJECT_DATA_UNLOCK && n < (1u << 20))
		on_data_unlock(m, o, first, n, d->call.access, now);
	for (uint64_t j = 0; j < n && j < (1u << 20); j++) {
		struct page *p = dir == MO_K2M ? page_get(o, first + j)
					       : pm_find(&o->pages, first + j);

		if (p)
			p->kept |= mark;
	}
}

/* Why a page still waits, when motrace's rules are the reason, or "". */
static const char *kept_why(const struct page *p)
{
	if (p->kept & KEPT_REQUEST_DROPPED)
		return ": motrace's rule dropped the request, the manager never saw it";
	if (p->kept & KEPT_ANSWER_DROPPED)
		return ": motrace's rule dropped the manager's answer";
	if (p->kept & KEPT_REQUEST_HELD)
		return ": motrace's rule holds the request back";
	if (p->kept & KEPT_ANSWER_HELD)
		return ": motrace's rule holds the manager's answer back";
	return "";
}

static void add_prot_names(struct strbuf *out, unsigned prot)
{
	mo_xlat_flags(out, mo_xlat_vm_prot, prot, "VM_PROT_???");
}

uint64_t mo_model_next_due(const struct mo_model *m)
{
	uint64_t due = UINT64_MAX;

	for (size_t i = 0; i < m->nwaiters; i++) {
		const struct page *p = pm_find(&m->waiters[i].o->pages,
					       m->waiters[i].index);
		uint64_t t;

		if (!p)
			continue;
		if (m->waiters[i].request) {
			if (p->state != P_REQUESTED || p->req_reported)
				continue;
			t = p->req_since + m->opts.request_timeout_ns;
		} else {
			if (!p->unlock_pending || p->unlock_reported)
				continue;
			t = p->unlock_since + m->opts.unlock_timeout_ns;
		}
		if (t < due)
			due = t;
	}
	return due;
}

void mo_model_tick(struct mo_model *m, uint64_t now)
{
	for (size_t i = 0; i < m->nwaiters;) {
		struct okern *o = m->waiters[i].o;
		uint64_t idx = m->waiters[i].index;
		struct page *p = pm_find(&o->pages, idx);
		struct strbuf acc = STRBUF_INIT;

		if (m->waiters[i].request) {
			int waiting = p && p->state == P_REQUESTED &&
				      !p->req_reported;

			if (waiting && elapsed(now, p->req_since) < m->opts.request_timeout_ns) {
				i++;
				continue;
			}
			if (waiting) {
				p->req_reported = 1;
				add_prot_names(&acc, p->access);
				diag(m, D_REQUEST_TIMEOUT, o, idx * o->page_size,
				     "kernel %u has waited %.3f s for data_request of page %llu (access %s) to be answered%s",
				     o->kernel, elapsed(now, p->req_since) / 1e9,
				     (unsigned long long)idx, acc.buf, kept_why(p));
			}
			strbuf_release(&acc);
			m->waiters[i] = m->waiters[--m->nwaiters];
			continue;
		}
		if (p && p->unlock_pending && !p->unlock_reported &&
		    elapsed(now, p->unlock_since) < m->opts.unlock_timeout_ns) {
			i++;
			continue;
		}
		if (p && p->unlock_pending && !p->unlock_reported) {
			p->unlock_reported = 1;
			add_prot_names(&acc, p->unlock);
			if (p->nochange_seen && !p->nochange_named)
				diag(m, D_NOCHANGE_UNLOCK, o, idx * o->page_size,
				     "kernel %u has waited %.3f s for data_unlock of page %llu: the only lock_request over it said VM_PROT_NO_CHANGE, which wakes nobody",
				     o->kernel, elapsed(now, p->unlock_since) / 1e9,
				     (unsigned long long)idx);
			else
				diag(m, D_UNLOCK_TIMEOUT, o, idx * o->page_size,
				     "kernel %u has waited %.3f s for data_unlock of page %llu (access %s) to be answered%s%s",
				     o->kernel, elapsed(now, p->unlock_since) / 1e9,
				     (unsigned long long)idx, acc.buf,
				     p->nochange_named ? ": its lock_request said VM_PROT_NO_CHANGE, which wakes nobody" : "",
				     p->nochange_named ? "" : kept_why(p));
		}
		strbuf_release(&acc);
		/* answered, reported, or gone: no longer waiting */
		m->waiters[i] = m->waiters[--m->nwaiters];
	}
}

static void add_prot(struct strbuf *out, unsigned prot)
{
	char s[4] = { prot & VM_PROT_READ ? 'r' : '-',
		      prot & VM_PROT_WRITE ? 'w' : '-',
		      prot & VM_PROT_EXECUTE ? 'x' : '-', 0 };

	strbuf_addstr(out, s);
}

static const char *const page_states[] = { "absent", "requested", "resident" };

static const char *okern_state(const struct okern *o)
{
	return o->gone ? "gone" : o->terminated ? "terminated" : o->ready ? "ready"
	       : o->inited ? "initialised" : "not initialised";
}

/* O's pages in page order; the caller frees the array. */
static size_t sorted_pages(const struct okern *o, struct page ***out)
{
	struct page **v = mo_xcalloc(o->pages.count, sizeof(*v));
	size_t k = 0;

	for (size_t s = 0; s < o->pages.count; s++)
		v[k++] = pm_at(&o->pages, s);
	qsort(v, k, sizeof(*v), page_cmp);
	*out = v;
	return k;
}

static void okern_pages(const struct okern *o, struct strbuf *out)
{
	struct page **v;
	size_t k = sorted_pages(o, &v);

	strbuf_addf(out, "object %u kernel %u: %s, control %u, page size 0x%llx, %zu page(s) known\n",
		    o->object, o->kernel, okern_state(o), o->ctl,
		    (unsigned long long)o->page_size, k);
	if (k)
		strbuf_addstr(out, "  page        state      access lock unlock flags\n");
	for (size_t j = 0; j < k; j++) {
		const struct page *p = v[j];

		strbuf_addf(out, "  %-11llu %-10s ",
			    (unsigned long long)(p->key - 1),
			    page_states[p->state]);
		add_prot(out, p->state == P_REQUESTED ? p->access : 0);
		strbuf_addstr(out, "    ");
		add_prot(out, p->lock);
		strbuf_addstr(out, "  ");
		add_prot(out, p->unlock);
		strbuf_addstr(out, "    ");
		if (p->state == P_RESIDENT && p->precious)
			strbuf_addstr(out, "precious ");
		if (p->state == P_RESIDENT && p->may_dirty)
			strbuf_addstr(out, "may-be-dirty ");
		if (p->unlock_pending)
			strbuf_addstr(out, "unlock-pending ");
		while (out->len && out->buf[out->len - 1] == ' ')
			out->buf[--out->len] = '\0';
		strbuf_addch(out, '\n');
	}
	free(v);
	for (size_t j = 0; j < o->nspans; j++) {
		strbuf_addf(out, "  pages %llu-%llu requested (%llu), access ",
			    (unsigned long long)o->spans[j].first,
			    (unsigned long long)(o->spans[j].first +
						 o->spans[j].n - 1),
			    (unsigned long long)o->spans[j].n);
		add_prot(out, o->spans[j].access);
		strbuf_addch(out, '\n');
	}
	for (const struct lockreq *r = o->pending; r; r = r->next)
		strbuf_addf(out, "  pending lock_request offset 0x%llx size 0x%llx\n",
			    (unsigned long long)r->offset,
			    (unsigned long long)r->size);
}

static void add_prot_json(struct strbuf *out, const char *key, unsigned prot)
{
	struct strbuf t = STRBUF_INIT;

	add_prot_names(&t, prot);
	strbuf_addf(out, ",\"%s\":", key);
	strbuf_addjson(out, t.buf);
	strbuf_release(&t);
}

static void okern_pages_json(const struct okern *o, struct strbuf *out)
{
	struct page **v;
	size_t k = sorted_pages(o, &v);
	const char *sep = "";

	strbuf_addf(out, "{\"object\":%u,\"kernel\":%u,\"state\":\"%s\",\"control\":%u,\"page_size\":%llu,\"pages\":[",
		    o->object, o->kernel, okern_state(o), o->ctl,
		    (unsigned long long)o->page_size);
	for (size_t j = 0; j < k; j++) {
		const struct page *p = v[j];

		strbuf_addf(out, "%s{\"page\":%llu,\"state\":\"%s\"", j ? "," : "",
			    (unsigned long long)(p->key - 1),
			    page_states[p->state]);
		add_prot_json(out, "access", p->state == P_REQUESTED ? p->access : 0);
		add_prot_json(out, "lock", p->lock);
		add_prot_json(out, "unlock", p->unlock);
		strbuf_addf(out, ",\"precious\":%s,\"may_be_dirty\":%s,\"unlock_pending\":%s}",
			    p->state == P_RESIDENT && p->precious ? "true" : "false",
			    p->state == P_RESIDENT && p->may_dirty ? "true" : "false",
			    p->unlock_pending ? "true" : "false");
	}
	free(v);
	strbuf_addstr(out, "],\"pending_lock_requests\":[");
	for (const struct lockreq *r = o->pending; r; r = r->next, sep = ",")
		strbuf_addf(out, "%s{\"offset\":%llu,\"size\":%llu}", sep,
			    (unsigned long long)r->offset,
			    (unsigned long long)r->size);
	strbuf_addstr(out, "]}");
}

void mo_model_pages(const struct mo_model *m, struct strbuf *out)
{
	for (size_t i = 0; i < m->nok; i++) {
		const struct okern *o = m->ok[i];

		if (o->terminated && o->last_text.len) {
			strbuf_addf(out, "object %u kernel %u: terminated; before that:\n",
				    o->object, o->kernel);
			strbuf_addstr(out, o->last_text.buf);
			continue;
		}
		okern_pages(o, out);
	}
}

int mo_model_page_state(const struct mo_model *m, unsigned object,
			unsigned kernel, uint64_t index, struct strbuf *out)
{
	const struct okern *o = NULL;
	const struct page *p;
	const struct span *sp;

	for (size_t i = 0; i < m->nok && !o; i++)
		if (m->ok[i]->object == object && m->ok[i]->kernel == kernel)
			o = m->ok[i];
	if (!o)
		return -1;
	p = pm_find(&o->pages, index);
	if (!p || (p->state == P_ABSENT && !p->lock && !p->unlock &&
		   !p->unlock_pending)) {
		sp = p ? NULL : span_of(o, index);
		strbuf_addstr(out, sp ? "requested access " : "absent");
		if (sp)
			add_prot(out, sp->access);
		return 0;
	}
	strbuf_addstr(out, page_states[p->state]);
	if (p->state == P_REQUESTED) {
		strbuf_addstr(out, " access ");
		add_prot(out, p->access);
	}
	strbuf_addstr(out, " lock ");
	add_prot(out, p->lock);
	strbuf_addstr(out, " unlock ");
	add_prot(out, p->unlock);
	if (p->state == P_RESIDENT && p->precious)
		strbuf_addstr(out, " precious");
	if (p->state == P_RESIDENT && p->may_dirty)
		strbuf_addstr(out, " may-be-dirty");
	if (p->unlock_pending)
		strbuf_addstr(out, " unlock-pending");
	return 0;
}

void mo_model_pages_json(const struct mo_model *m, struct strbuf *out)
{
	strbuf_addch(out, '[');
	for (size_t i = 0; i < m->nok; i++) {
		const struct okern *o = m->ok[i];

		if (i)
			strbuf_addch(out, ',');
		if (o->terminated && o->last_json.len) {
			/* The last state, marked as such. */
			strbuf_addf(out, "{\"object\":%u,\"kernel\":%u,\"state\":\"terminated\",\"before_terminate\":",
				    o->object, o->kernel);
			strbuf_addstr(out, o->last_json.buf);
			strbuf_addch(out, '}');
			continue;
		}
		okern_pages_json(o, out);
	}
	strbuf_addch(out, ']');
}

void mo_model_summary(const struct mo_model *m, struct strbuf *out)
{
	for (int i = 0; i < D_COUNT; i++)
		if (m->counts[i])
			strbuf_addf(out, "%6u  %-22s %s\n", m->counts[i],
				    mo_diag_table[i].name, mo_diag_table[i].what);
}

unsigned mo_model_ndiags(const struct mo_model *m)
{
	return m->total;
}

/*
 * A face's look at the model (the page view): what each kernel holds,
 * and copies of the whole model for moving back in time over a recording.
 */

void mo_model_each_okern(const struct mo_model *m,
			 void (*fn)(void *ctx, const struct mo_okern_info *o),
			 void *ctx)
{
	for (size_t i = 0; i < m->nok; i++) {
		const struct okern *o = m->ok[i];
		struct mo_okern_info info = {
			.object = o->object, .kernel = o->kernel,
			.state = okern_state(o), .page_size = o->page_size,
			.npages = o->pages.count, .nspans = o->nspans,
		};

		fn(ctx, &info);
	}
}

void mo_model_each_page(const struct mo_model *m, unsigned object,
			unsigned kernel,
			void (*fn)(void *ctx, const struct mo_page_info *p),
			void *ctx)
{
	const struct okern *o = NULL;

	for (size_t i = 0; i < m->nok && !o; i++)
		if (m->ok[i]->object == object && m->ok[i]->kernel == kernel)
			o = m->ok[i];
	if (!o)
		return;
	for (size_t s = 0; s < o->pages.count; s++) {
		const struct page *p = pm_at(&o->pages, s);
		struct mo_page_info info;

		memset(&info, 0, sizeof(info));
		info.first = p->key - 1;
		info.n = 1;
		info.state = p->state;
		info.access = p->state == P_REQUESTED ? p->access : 0;
		info.lock = p->lock;
		info.unlock = p->unlock;
		info.precious = p->state == P_RESIDENT && p->precious;
		info.may_dirty = p->state == P_RESIDENT && p->may_dirty;
		info.unlock_pending = p->unlock_pending;
		for (const struct lockreq *r = o->pending; r; r = r->next) {
			uint64_t a = r->offset / o->page_size;
			uint64_t n = (r->size + o->page_size - 1) / o->page_size;

			if (info.first >= a && info.first - a < n) {
				info.lock_pending = 1;
				if (r->flush)
					info.flush_pending = 1;
			}
		}
		fn(ctx, &info);
	}
	for (size_t j = 0; j < o->nspans; j++) {
		struct mo_page_info info;

		memset(&info, 0, sizeof(info));
		info.first = o->spans[j].first;
		info.n = o->spans[j].n;
		info.state = P_REQUESTED;
		info.access = o->spans[j].access;
		info.span = 1;
		fn(ctx, &info);
	}
}

static void pm_copy(struct pagemap *dst, const struct pagemap *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t k = 0; k < src->count; k++)
		*pm_get(dst, pm_at(src, k)->key - 1) = *pm_at(src, k);
}

struct mo_model *mo_model_clone(const struct mo_model *m)
{
	struct mo_model *c = mo_xcalloc(1, sizeof(*c));

	*c = *m;
	c->ok = mo_xcalloc(m->nok, sizeof(*c->ok));
	for (size_t i = 0; i < m->nok; i++) {
		const struct okern *o = m->ok[i];
		struct okern *k = mo_xcalloc(1, sizeof(*k));
		struct lockreq **tail = &k->pending;

		*k = *o;
		pm_copy(&k->pages, &o->pages);
		k->spans = NULL;
		if (o->nspans) {
			k->spans = mo_xcalloc(o->aspans, sizeof(*k->spans));
			memcpy(k->spans, o->spans, o->nspans * sizeof(*k->spans));
		}
		k->pending = NULL;
		for (const struct lockreq *r = o->pending; r; r = r->next) {
			*tail = mo_xcalloc(1, sizeof(**tail));
			**tail = *r;
			(*tail)->next = NULL;
			tail = &(*tail)->next;
		}
		strbuf_init(&k->last_text, 0);
		strbuf_init(&k->last_json, 0);
		strbuf_add(&k->last_text, o->last_text.buf, o->last_text.len);
		strbuf_add(&k->last_json, o->last_json.buf, o->last_json.len);
		c->ok[i] = k;
	}
	c->objs = mo_xcalloc(m->nobjs, sizeof(*c->objs));
	for (size_t i = 0; i < m->nobjs; i++) {
		c->objs[i] = mo_xcalloc(1, sizeof(*c->objs[i]));
		c->objs[i]->object = m->objs[i]->object;
		pm_copy(&c->objs[i]->pages, &m->objs[i]->pages);
	}
	c->waiters = mo_xcalloc(m->awaiters, sizeof(*c->waiters));
	for (size_t i = 0; i < m->nwaiters; i++) {
		c->waiters[i] = m->waiters[i];
		/* The waiter's page holder, by its place in the clone. */
		for (size_t j = 0; j < m->nok; j++)
			if (m->ok[j] == m->waiters[i].o)
				c->waiters[i].o = c->ok[j];
	}
	return c;
}

void mo_model_assign(struct mo_model *dst, const struct mo_model *src)
{
	struct mo_model *c = mo_model_clone(src);
	struct mo_model old = *dst;

	*dst = *c;
	dst->opts = old.opts;
	*c = old;
	mo_model_free(c);
}

size_t mo_model_npages(const struct mo_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nok; i++)
		n += m->ok[i]->pages.count + m->ok[i]->nspans;
	for (size_t i = 0; i < m->nobjs; i++)
		n += m->objs[i]->pages.count;
	return n;
}
