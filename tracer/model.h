/*
 * tracer/model.h: what each kernel holds of each memory object, page by
 * page, as far as the messages between them tell; and the protocol checker
 * that reads the same messages.
 *
 * The model follows GNU Mach's rules (PROTOCOL.md, "Kernel rules"): a page
 * is absent, requested (with the access the fault needs) or resident with
 * its page_lock, accumulated unlock_request, precious flag and whether the
 * kernel may have written it. Clean pages can vanish without a word (rule
 * 9), so "resident" means "may be resident". Pages live in a hash keyed by
 * page index: a huge object costs what its touched pages cost.
 */
#ifndef MO_MODEL_H
#define MO_MODEL_H

#include <stdint.h>

#include "decode/decode.h"
#include "util/strbuf.h"

enum mo_dir {
	MO_K2M,			/* kernel -> manager */
	MO_M2K,			/* manager -> kernel */
};

/*
 * The most pages one message may speak of page by page (data_request,
 * data_unlock, data_supply, data_return): past it a message is named
 * huge-length and not modelled (256 MiB of 4 KiB pages).
 */
#define MO_MODEL_MAX_PAGES 65536u

/* A protocol diagnostic: the checker's finding about one message. */
struct mo_diag {
	const char *name;	/* e.g. "nochange-unlock" (table in model.c) */
	unsigned kernel;
	unsigned object;
	uint64_t offset;
	char text[240];
};

typedef void mo_diag_fn(void *ctx, const struct mo_diag *diag);

struct mo_model_opts {
	uint64_t unlock_timeout_ns;	/* data_unlock unanswered this long: 1 s */
	mo_diag_fn *diag;
	void *ctx;
	uint64_t request_timeout_ns;	/* data_request unanswered this long: 1 s */
	/* Keep each terminated object's last page table (--pages at the end). */
	int keep_last_pages;
};

/*
 * Where the message being fed comes from, when motrace had a hand in it:
 * the checker blames no peer for what motrace's own rules did.
 */
enum mo_origin {
	MO_FROM_PEER,		/* passed on as it came */
	MO_FROM_MOTRACE,	/* injected by a rule */
	MO_FROM_KEPT,		/* a peer's, held or delayed by a rule */
};

/* What a rule did to a message that the model has not been fed (yet). */
enum mo_kept {
	MO_KEPT_DROPPED,	/* never passed on */
	MO_KEPT_HELD,		/* held, or delayed: passed on later */
};

struct mo_model;

/* Returns a new, empty model (never NULL: allocation failure aborts). */
struct mo_model *mo_model_new(const struct mo_model_opts *opts);
void mo_model_free(struct mo_model *m);

/*
 * Feeds one message that KERNEL and the manager exchanged about OBJECT
 * (the tracer tells which, from the ports the message travelled on).
 * NOW is a monotonic time in nanoseconds.
 */
void mo_model_feed(struct mo_model *m, unsigned kernel, unsigned object,
		   enum mo_dir dir, const struct mo_decoded *d,
		   const uint8_t *buf, uint64_t now);
/*
 * Says where the next message fed comes from; ARRIVED is when it reached
 * motrace (earlier than its feed when a rule kept it). Holds for one feed.
 */
void mo_model_origin(struct mo_model *m, enum mo_origin origin,
		     uint64_t arrived);
/*
 * A rule dropped, held or delayed this message: pages that wait for it,
 * or for its answer, are named as waiting for motrace when they time out.
 * A dropped data_request or data_unlock was sent all the same: the
 * kernel's wait for it starts at NOW.
 */
void mo_model_kept(struct mo_model *m, unsigned kernel, unsigned object,
		   enum mo_dir dir, const struct mo_decoded *d,
		   const uint8_t *buf, enum mo_kept what, uint64_t now);
/* OBJECT for a message whose control port is no object's. */
#define MO_OBJECT_UNKNOWN ((unsigned)-1)
/* KERNEL for a message from or to a peer the tracer cannot tell (shown k?). */
#define MO_KERNEL_UNKNOWN ((unsigned)-1)

/* The object whose control port in KERNEL is CTL, or MO_OBJECT_UNKNOWN. */
unsigned mo_model_object_of_control(const struct mo_model *m, unsigned kernel,
				    uint32_t ctl);

/*
 * KERNEL had OBJECT (control port CTL, pages of PAGE_SIZE) before motrace
 * saw its traffic (motrace attached to a running pager): as after its
 * init, but what it holds is unknown, so that nothing the model could
 * not know is raised (a lock_completed for a lock_request sent before
 * NOW matches none the model saw). After mo_model_kernel_gone, the same
 * kernel starts again so (an observer that missed messages).
 */
void mo_model_joined(struct mo_model *m, unsigned kernel, unsigned object,
		     uint32_t ctl, uint64_t page_size, uint64_t now);

/*
 * KERNEL is gone (its control port died: killed, or its link broke):
 * what it held of every object is forgotten, so that nothing it held
 * counts against the kernels that follow. Returns how many pages went.
 */
uint64_t mo_model_kernel_gone(struct mo_model *m, unsigned kernel);

/*
 * When mo_model_tick has something to report if nothing comes before
 * (UINT64_MAX: nothing waits), so that a caller may sleep until then.
 */
uint64_t mo_model_next_due(const struct mo_model *m);

/* Reports data_unlock and data_request unanswered for longer than their timeouts. */
void mo_model_tick(struct mo_model *m, uint64_t now);

/*
 * Appends the per-page table of every object and kernel; an object a
 * kernel terminated shows its last state before the terminate.
 */
void mo_model_pages(const struct mo_model *m, struct strbuf *out);
/*
 * Appends page INDEX of OBJECT as KERNEL holds it, in the words of the
 * page table: "resident lock -w- unlock --- may-be-dirty", "requested
 * access rw-", "absent". Returns 0, or -1 when the model knows no such
 * object and kernel (nothing appended).
 */
int mo_model_page_state(const struct mo_model *m, unsigned object,
			unsigned kernel, uint64_t index, struct strbuf *out);
/* The same as one JSON array of objects, each with its pages. */
void mo_model_pages_json(const struct mo_model *m, struct strbuf *out);
/* Appends the count of each diagnostic seen, one per line. */
void mo_model_summary(const struct mo_model *m, struct strbuf *out);
/* How many diagnostics were reported in all. */
unsigned mo_model_ndiags(const struct mo_model *m);

/* The names of all diagnostics with a line on each, NULL-terminated. */
struct mo_diag_info {
	const char *name;
	const char *what;
};
extern const struct mo_diag_info mo_diag_table[];


/*
 * A face's look at the model (the page view).
 */
enum mo_page_state { MO_PAGE_ABSENT, MO_PAGE_REQUESTED, MO_PAGE_RESIDENT };

/* One object as one kernel holds it. */
struct mo_okern_info {
	unsigned object, kernel;
	const char *state;	/* "ready", "terminated", "gone"... (static) */
	uint64_t page_size;
	size_t npages, nspans;
};

/* A page (N 1), or a span of pages requested together (SPAN, N pages). */
struct mo_page_info {
	uint64_t first, n;
	uint8_t state;		/* enum mo_page_state */
	uint8_t access;		/* requested: the access asked */
	uint8_t lock;		/* page_lock: the access the kernel may not use */
	uint8_t unlock;		/* accumulated unlock_request */
	uint8_t precious, may_dirty, unlock_pending;
	uint8_t lock_pending;	/* a lock_request over it waits for lock_completed */
	uint8_t flush_pending;	/* ... one that flushes */
	uint8_t span;		/* a span: stands for the pages the others lack */
};

/* Calls FN for each object of each kernel, in the order they came. */
void mo_model_each_okern(const struct mo_model *m,
			 void (*fn)(void *ctx, const struct mo_okern_info *o),
			 void *ctx);
/*
 * Calls FN for each page OBJECT's KERNEL knows, in no order, then for
 * each span (a page FN saw says more than a span over it).
 */
void mo_model_each_page(const struct mo_model *m, unsigned object,
			unsigned kernel,
			void (*fn)(void *ctx, const struct mo_page_info *p),
			void *ctx);
/* Returns a copy of M (its diagnostics go where M's go). */
struct mo_model *mo_model_clone(const struct mo_model *m);
/* DST becomes a copy of SRC; its own options (where diagnostics go) stay. */
void mo_model_assign(struct mo_model *dst, const struct mo_model *src);
/* How many pages and spans M holds in all (what a copy costs). */
size_t mo_model_npages(const struct mo_model *m);

#endif
