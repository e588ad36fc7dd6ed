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
/* OBJECT for a message whose control port is no object's. */
#define MO_OBJECT_UNKNOWN ((unsigned)-1)
/* KERNEL for a message from or to a peer the tracer cannot tell (shown k?). */
#define MO_KERNEL_UNKNOWN ((unsigned)-1)

/* The object whose control port in KERNEL is CTL, or MO_OBJECT_UNKNOWN. */
unsigned mo_model_object_of_control(const struct mo_model *m, unsigned kernel,
				    uint32_t ctl);

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

/* Reports data_unlock requests unanswered for longer than the timeout. */
void mo_model_tick(struct mo_model *m, uint64_t now);

/* Appends the per-page table of every object and kernel. */
void mo_model_pages(const struct mo_model *m, struct strbuf *out);
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

#endif
