/*
 * tracer/trace.h: what happens to each message, told to everyone who
 * listens: the strace-like log, the page model and checker, statistics.
 *
 * The proxy (live traffic) and the replayer (recorded traffic) both turn
 * every message into a struct mo_event and hand it to mo_trace_event();
 * nothing else decides how a message is shown or counted.
 */
#ifndef MO_TRACE_H
#define MO_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"
#include "tracer/model.h"

struct mo_stack;

enum mo_event_kind {
	MO_EV_FORWARDED,	/* passed on as it came */
	MO_EV_INJECTED,		/* made by motrace */
	MO_EV_DROPPED,		/* not passed on, by a rule */
	MO_EV_DELAYED,		/* held back for a time by a rule, now passed on */
	MO_EV_HELD,		/* held for the user */
	MO_EV_RELEASED,		/* a held message, now passed on */
	MO_EV_CONSUMED,		/* an answer to an injected message, kept by motrace */
};

struct mo_event {
	enum mo_event_kind kind;
	enum mo_dir dir;
	unsigned kernel;
	unsigned object;	/* MO_OBJECT_UNKNOWN if no object's */
	uint64_t t;		/* monotonic nanoseconds */
	uint64_t delay_ns;	/* MO_EV_DELAYED: for how long it was kept */
	uint64_t arrived;	/* when it reached motrace (kept messages: before t) */
	const uint8_t *buf;
	size_t len;
	const struct mo_decoded *d;
	/*
	 * The bytes of its out-of-line regions, in item order, when the
	 * event carries them (a recording read back): NOOL of them. Else,
	 * with OOL_LOCAL, the out-of-line pointers in BUF point into this
	 * process (live traffic) and may be read until the event returns.
	 */
	const struct mo_region *ool;
	unsigned nool;
	int ool_local;
	const struct mo_stack *stack;	/* its sender's stack (-k), or NULL */
};

/* An out-of-line region's bytes; DATA is NULL when they were not kept. */
struct mo_region {
	const uint8_t *data;
	uint64_t size;
};

/* Which messages the log shows (the model and statistics see them all). */
struct mo_filter {
	int nids;		/* a trace= list was given: these message ids */
	int32_t ids[64];
	int negate;		/* trace=!NAMES: all but these */
	int any_kernels;
	uint64_t kernels;	/* bit per kernel (0..63) */
	int any_objects;
	uint64_t objects;
	int any_pages;
	uint64_t page_first, page_last;
};

/* Does F let EV through? */
int mo_filter_pass(const struct mo_filter *f, const struct mo_event *ev);

/* Parses one -e expression (trace=, kernel=, object=, page=) into F. */
int mo_filter_parse(struct mo_filter *f, const char *expr, char *err,
		    size_t errlen);

enum mo_tstamp {
	MO_TS_NONE,
	MO_TS_TIME,		/* -t: 12:34:56 */
	MO_TS_TIME_US,		/* -tt: 12:34:56.123456 */
	MO_TS_EPOCH,		/* -ttt: 1700000000.123456 */
	MO_TS_RELATIVE,		/* -r: since the previous line */
};

struct mo_trace_opts {
	FILE *out;		/* the log (stdout) */
	int quiet;		/* no per-message lines (-c alone, check --quiet) */
	int json;
	enum mo_tstamp tstamp;
	int latency;		/* -T */
	int no_time;		/* deterministic: no times of any kind */
	int color;
	int stats;		/* -c */
	int pages;		/* page table at the end */
	int stacks;		/* -k: senders' stacks under their lines */
	uint64_t unlock_timeout_ns;
	uint64_t request_timeout_ns;
	uint64_t realtime_base_ns;	/* realtime - monotonic, for -t */
	struct mo_filter filter;
};

struct mo_trace;

/* Returns a new trace (allocation failure aborts). */
struct mo_trace *mo_trace_new(const struct mo_trace_opts *opts);
void mo_trace_event(struct mo_trace *tr, const struct mo_event *ev);
/*
 * A rule keeps EV back (a delay: it is logged when it goes); the model
 * learns that pages waiting for it wait for motrace.
 */
void mo_trace_kept(struct mo_trace *tr, const struct mo_event *ev);
/* Time passes: report what waited too long. */
void mo_trace_tick(struct mo_trace *tr, uint64_t now);
/*
 * Writes out what the log holds. The proxy calls it when it is about to
 * wait, at most once per MO_PROXY_FLUSH_NS (tracer/proxy.h), so the log
 * is whole soon after traffic stops, without a write per message while
 * it flows.
 */
void mo_trace_flush(struct mo_trace *tr);
/* A note in the log, e.g. "kernel 1 went away". */
void mo_trace_note(struct mo_trace *tr, uint64_t now, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * mach_msg's send error KR by name, with what it means for a proxy
 * (GNU Mach include/mach/message.h), e.g. "MACH_SEND_INVALID_DEST: the
 * port is gone". Static storage.
 */
const char *mo_trace_send_error(int kr);
/* A note that message ID could not be sent to WHAT (described in words). */
void mo_trace_send_failed(struct mo_trace *tr, uint64_t now, int32_t id,
			  const char *what, int kr);
/* Prints what is printed at the end: page table, statistics, summary. */
void mo_trace_finish(struct mo_trace *tr);
void mo_trace_free(struct mo_trace *tr);

/*
 * Calls FN for every event after it is logged, with its text form (as
 * the log shows it, without time), whatever the filters; one listener.
 */
typedef void mo_trace_listener(void *ctx, const struct mo_event *ev,
			       const char *text);
void mo_trace_listen(struct mo_trace *tr, mo_trace_listener *fn, void *ctx);

/*
 * A subscriber to the trace's event stream: it sees every message event,
 * note and diagnostic after the log has shown it. Any callback may be NULL.
 */
struct mo_subscriber {
	void (*event)(void *ctx, const struct mo_event *ev);
	void (*note)(void *ctx, uint64_t t, const char *text);
	void (*diag)(void *ctx, const struct mo_diag *d);
	void *ctx;
	/* The session ended (mo_trace_finish), with NDIAGS diagnostics. */
	void (*end)(void *ctx, unsigned ndiags);
	/* It reads the messages' out-of-line data (the recorder). */
	int data;
};

/* Adds S (copied): it sees what happens from now on. 0, or -1 when full. */
int mo_trace_subscribe(struct mo_trace *tr, const struct mo_subscriber *s);
/*
 * Whether a subscriber reads out-of-line data: when none does, a
 * transport may leave the data of copies out (attach.c).
 */
int mo_trace_wants_data(const struct mo_trace *tr);
/*
 * A diagnostic that is not the checker's (a plugin's): logged, counted
 * and told to the subscribers as the checker's are.
 */
void mo_trace_diag(struct mo_trace *tr, const struct mo_diag *d);

struct mo_model *mo_trace_model(struct mo_trace *tr);
/* The options in force, which a debugger's set command may change between events. */
struct mo_trace_opts *mo_trace_options(struct mo_trace *tr);
unsigned mo_trace_ndiags(const struct mo_trace *tr);
void mo_trace_stats(const struct mo_trace *tr, struct strbuf *out);

#endif
