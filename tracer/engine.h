/*
 * tracer/engine.h: one message's way through motrace, whatever carries it.
 *
 * A message arrives (decoded) -> the rules judge it -> it is dropped,
 * delayed, held, queued behind its destination's waiting messages, or
 * passed on -> injections follow it -> every step is an event for the
 * trace (log, model, checker, statistics). The proxy gives the engine a
 * way to send and to discard messages; the replayer gives it one that
 * only records.
 */
#ifndef MO_ENGINE_H
#define MO_ENGINE_H

#include "tracer/rules.h"
#include "tracer/sched.h"
#include "tracer/trace.h"
#include "util/strbuf.h"

/* A message on its way; the engine owns it from mo_engine_message() on. */
struct mo_engine_ops;

struct mo_pmsg {
	enum mo_dir dir;
	unsigned kernel, object;
	uint64_t queue;		/* its destination, for ordering */
	uint64_t t;		/* when it arrived */
	int kind;		/* enum mo_event_kind of its last event */
	int ool_local;		/* its out-of-line pointers are this process's */
	struct strbuf bytes;
	struct mo_decoded d;
	void *carrier;		/* the transport's own (rights, link), or NULL */
	struct mo_stack *stack;	/* its sender's (-k), or NULL; freed with it */
	/* The transport it came by when not the engine's own (ops), or NULL. */
	const struct mo_engine_ops *via;
};

struct mo_engine_ops {
	/* Passes M on; the engine frees M afterwards (see free_carrier). */
	void (*forward)(void *ctx, struct mo_pmsg *m);
	/* M is dropped: release whatever rights it carries. */
	void (*discard)(void *ctx, struct mo_pmsg *m);
	/*
	 * Sends a message motrace makes, about TRIGGER's kernel and object;
	 * fills M's queue and carrier. Returns 0, or -1 with ERR.
	 */
	int (*inject)(void *ctx, const struct mo_pmsg *trigger,
		      struct mo_pmsg *m, char *err, size_t errlen);
	/* N bytes at OFF of M's body were rewritten: the same in what is sent. */
	void (*patch)(void *ctx, struct mo_pmsg *m, size_t off,
		      const void *bytes, size_t n);
	/* Whether KERNEL is one this transport carries (mo_engine_send). */
	int (*has_kernel)(void *ctx, unsigned kernel);
	void *ctx;
};

/*
 * Judges M before the rules do (a plugin's verdict): may rewrite M's
 * bytes in place (its decoding is then made again) and set drop, hold or
 * delay in V.
 */
typedef void mo_verdict_hook(void *ctx, struct mo_pmsg *m,
			     struct mo_verdict *v);

/*
 * The debugger's look at each message after the rules: JUDGE returns the
 * number of the breakpoint or watchpoint that stops it (it is then held
 * until let go, as a hold rule holds), or 0; STOPPED tells the number the
 * message is held as. Either may be NULL.
 */
struct mo_engine_dbg {
	unsigned (*judge)(void *ctx, const struct mo_pmsg *m);
	void (*stopped)(void *ctx, unsigned point, unsigned id,
			const struct mo_pmsg *m);
	void *ctx;
};

struct mo_engine {
	struct mo_trace *trace;
	mo_verdict_hook *verdict;
	void *verdict_ctx;
	int stopped;		/* the user stopped all traffic: every message is held */
	/*
	 * A prompt, a script or the page view is on: a breakpoint or a stop
	 * may come at any moment, so every message waits for motrace.
	 */
	int may_stop;
	/* Why no rule, breakpoint or stop may be added (--observe), or NULL. */
	const char *no_rules;
	struct mo_rules rules;
	struct mo_sched sched;
	struct mo_engine_ops ops;
	/*
	 * Other transports whose messages come with their own ops (m->via):
	 * what is sent with no message to answer goes by the one that
	 * carries its kernel.
	 */
	const struct mo_engine_ops *others[16];
	unsigned nothers;
	uint64_t forwarded, dropped, injected;
	struct mo_engine_dbg dbg;
	/* Descriptors and timers the loop waits on too (mo_engine_add_fd). */
	struct mo_engine_loop *loop;
};

void mo_engine_init(struct mo_engine *e, struct mo_trace *trace,
		    const struct mo_engine_ops *ops);
/* Adds or takes back another transport (attach.c); 0, or -1 when full. */
int mo_engine_add_ops(struct mo_engine *e, const struct mo_engine_ops *ops);
void mo_engine_remove_ops(struct mo_engine *e, const struct mo_engine_ops *ops);
/*
 * Ends: with FLUSH, what waits for a time is passed on when due; what
 * is still held is discarded and said so. Frees the rules.
 */
void mo_engine_release(struct mo_engine *e, int flush, uint64_t now);

/*
 * Makes a message from bytes; returns it with its decoding done: taken
 * from D when given (the same layout, decoded already), else made here.
 */
struct mo_pmsg *mo_pmsg_new(enum mo_dir dir, unsigned kernel, unsigned object,
			    uint64_t queue, uint64_t t, const void *bytes,
			    size_t len, enum mo_abi abi,
			    const struct mo_decoded *d);
void mo_pmsg_free(struct mo_pmsg *m);

/*
 * Makes the message inject rule R sends after TRIGGER; returns it (to be
 * freed with mo_pmsg_free), or NULL with ERR.
 */
struct mo_pmsg *mo_inject_build(const struct mo_rule *r,
				const struct mo_pmsg *trigger, char *err,
				size_t errlen);

/*
 * The names a transport gives the ports of a message motrace makes.
 */
struct mo_inject_names {
	uint32_t dest;		/* where it goes */
	unsigned dest_type;	/* the destination's disposition */
	uint32_t control;	/* memory_control: motrace's port for the kernel */
	/* A port for the answer a non-null reply_to asks for, or 0. */
	uint32_t (*reply_port)(void *ctx);
	/* Memory for BYTES of out-of-line data, or 0. */
	uint64_t (*ool)(void *ctx, uint64_t bytes);
	void *ctx;
};

/*
 * Writes to OUT the bytes to send for M, a message motrace made, with its
 * ports named as N says: only names change, every type stays MIG's (a
 * null port stays null). M's own bytes, which the log shows, get the
 * reply ports too. Returns 0, or -1 with ERR (also when the receiver
 * would refuse the message).
 */
int mo_inject_prepare(struct mo_pmsg *m, const struct mo_inject_names *n,
		      struct strbuf *out, char *err, size_t errlen);

/*
 * Rewrites argument FIELD (an inline number) of M to VALUE, in what is
 * shown and what is sent; M is decoded again. 0, or -1 with ERR.
 */
int mo_engine_rewrite(struct mo_engine *e, struct mo_pmsg *m,
		      const char *field, uint64_t value, char *err,
		      size_t errlen);

/* A message arrived: judge it and act; takes ownership of M. */
void mo_engine_message(struct mo_engine *e, struct mo_pmsg *m);
/*
 * M was delivered already (a copy the pager sent as it passed it on):
 * logged as forwarded; no rule or breakpoint sees it. Takes ownership.
 */
void mo_engine_passed(struct mo_engine *e, struct mo_pmsg *m);
/*
 * Whether a message may need motrace's word before it goes: a rule, a
 * plugin's verdict, a breakpoint, a stop, or a face that may add one.
 * When not, a transport may let messages go and send copies (attach.c).
 */
int mo_engine_judging(const struct mo_engine *e);
/*
 * M answers a message motrace made: it goes no further; the trace sees
 * it as consumed. Takes ownership of M (its carrier already released).
 */
void mo_engine_consumed(struct mo_engine *e, struct mo_pmsg *m);
/* Passes on what has fallen due by NOW. */
void mo_engine_tick(struct mo_engine *e, uint64_t now);
/*
 * Drops held message ID (it is logged [dropped], its rights released);
 * the messages behind it on its port go on. 0, or -1 when none is held.
 */
int mo_engine_drop_held(struct mo_engine *e, unsigned id, uint64_t now);
/* Held message ID, or NULL. */
const struct mo_pmsg *mo_engine_held(const struct mo_engine *e, unsigned id);
/* The lowest number of a held message, or 0 when none is held. */
unsigned mo_engine_first_held(const struct mo_engine *e);
/* Calls FN for each held message, in queue order. */
void mo_engine_each_held(const struct mo_engine *e,
			 void (*fn)(void *ctx, unsigned id,
				    const struct mo_pmsg *m),
			 void *ctx);
/* Lets held message ID go (0: all); returns how many. */
unsigned mo_engine_let_go(struct mo_engine *e, unsigned id, uint64_t now);

/*
 * Sends CALL (the text form, as mo_parse_call reads it) now, as the side
 * its subsystem says (memory_object.defs: as KERNEL to the manager; the
 * others: as the manager to KERNEL), about OBJECT, through the transport's
 * inject op: its ports are named as an injected message's are, and the
 * answers it asks for stay with motrace. Logged [injected]. Returns 0, or
 * -1 with ERR.
 */
int mo_engine_send(struct mo_engine *e, const char *call, unsigned kernel,
		   unsigned object, uint64_t now, char *err, size_t errlen);

/*
 * What the loop waits on besides its ports: descriptors and timers.
 *
 * The transport that sleeps (the proxy, in mach_msg on its port set)
 * waits for them too: a timer's due time bounds its sleep, and a thread
 * of the engine's polls the descriptors and, when one is ready, wakes
 * the loop through the transport's waker (a message to the proxy's wake
 * port). Every callback runs in the loop's thread, between messages,
 * never in the middle of one: what it does to the engine is as safe as
 * what a message does, and messages keep their order. A descriptor is
 * not watched from when it is found ready until its callback has run,
 * so one that stays readable wakes the loop once per turn, not in a
 * spin. All of these are for the loop's thread only.
 */
typedef void mo_engine_fd_fn(void *ctx, int fd, unsigned revents);
typedef void mo_engine_timer_fn(void *ctx, uint64_t now);

/*
 * Watches FD for EVENTS (poll's POLLIN, POLLOUT...): FN gets what poll
 * said (POLLHUP and POLLERR too). One callback a descriptor. Returns 0,
 * or -1 when FD is watched already or no thread can watch it.
 */
int mo_engine_add_fd(struct mo_engine *e, int fd, unsigned events,
		     mo_engine_fd_fn *fn, void *ctx);
/* Stops watching FD: its callback is not called again. */
void mo_engine_remove_fd(struct mo_engine *e, int fd);
/*
 * FN is called at DUE (mo_now's clock), then every PERIOD ns if PERIOD
 * is not 0. Returns its number (never 0) for mo_engine_remove_timer.
 */
unsigned mo_engine_add_timer(struct mo_engine *e, uint64_t due,
			     uint64_t period, mo_engine_timer_fn *fn,
			     void *ctx);
void mo_engine_remove_timer(struct mo_engine *e, unsigned id);
/* When the next timer falls due, or UINT64_MAX. */
uint64_t mo_engine_next_timer(const struct mo_engine *e);
/* Calls the timers due by NOW; returns how many ran. */
unsigned mo_engine_run_timers(struct mo_engine *e, uint64_t now);
/*
 * The transport's way to wake its loop from another thread (it must end
 * the wait and have the loop call mo_engine_run_fds). Set before the
 * first mo_engine_add_fd.
 */
void mo_engine_set_waker(struct mo_engine *e, void (*wake)(void *ctx),
			 void *ctx);
/* The loop woke: calls the callbacks of the descriptors found ready. */
unsigned mo_engine_run_fds(struct mo_engine *e);
/* Stops watching every descriptor, forgets every timer (mo_engine_release). */
void mo_engine_loop_free(struct mo_engine *e);

#endif
