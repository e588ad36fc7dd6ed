/*
 * tracer/proxy.h: the interposing proxy pager.
 *
 * motrace holds, for each memory object, a receive right that kernels find
 * at the listening address (the object proxy); for each kernel of each
 * object, a receive right that stands for the kernel's control port
 * (the control proxy), handed to the manager in memory_object_init in the
 * kernel's place; and for each request that names a reply port, a
 * send-once right that stands for it (the reply proxy). So every message
 * between kernels and the manager passes through motrace, in both
 * directions, and the manager always sees the same name for the same
 * control port. One thread receives on a port set of all of them; sends
 * never block (libmotrace-mach), so no peer can stall the proxy.
 */
#ifndef MO_PROXY_H
#define MO_PROXY_H

#include "tracer/engine.h"
#include "tracer/stack.h"

struct mo_proxy;

struct mo_proxy_opts {
	const char *secret_file;	/* for tcp: addresses, or NULL */
	struct mo_trace *trace;
	struct mo_rules rules;		/* moved into the proxy's engine */
	int exit_when_idle;		/* stop when idle (MO_PROXY_IDLE_NS) */
	struct mo_symbolizer *stacks;	/* -k: senders' stacks, symbolized by it */
};

/*
 * With exit_when_idle the proxy stops once every kernel that came has
 * gone, nothing waits to be passed on, and no message has come for this
 * long (so that a workload's unmap and map again is not the end).
 */
#define MO_PROXY_IDLE_NS 1000000000ULL
/* The log waits this long at most before it is written out. */
#define MO_PROXY_FLUSH_NS 10000000ULL

/* Returns a new proxy, or NULL after printing why. */
struct mo_proxy *mo_proxy_new(struct mo_proxy_opts *opts);
/*
 * Serves the manager's object at TO under LISTEN. Returns 0, or -1 after
 * printing a message naming the address.
 */
int mo_proxy_add(struct mo_proxy *p, const char *listen, const char *to);

/*
 * Receives and handles messages for up to TIMEOUT_MS (or until one came
 * and was handled, and due messages went). Returns 1 while it should go
 * on, 0 when it is done (the manager went away, or idle and asked to),
 * -1 on an error it cannot go on from.
 */
int mo_proxy_step(struct mo_proxy *p, unsigned timeout_ms);
/*
 * A port whose messages only make mo_proxy_step return (with 1): another
 * thread of a face (a terminal's reader) sends to it to wake the loop,
 * which then does the face's work itself. Returns its name (a send right
 * is the caller's to use), or MACH_PORT_NULL.
 */
unsigned mo_proxy_wake_port(struct mo_proxy *p);
/*
 * Another transport on the same loop (tracer/attach.c): a port in the
 * proxy's set whose messages mo_proxy_step hands to FN (with the bytes
 * received, rights and out-of-line memory the handler's). Returns its
 * name, a receive right (a send right is the caller's to make).
 */
typedef void mo_proxy_port_fn(void *ctx, uint8_t *msg, size_t len);
unsigned mo_proxy_add_port(struct mo_proxy *p, mo_proxy_port_fn *fn, void *ctx);
void mo_proxy_drop_port(struct mo_proxy *p, unsigned name);
/*
 * Kernels another transport serves came (DELTA > 0) or went: they count
 * for --exit-when-idle as the proxy's own do.
 */
void mo_proxy_kernels(struct mo_proxy *p, int delta);
/*
 * Handles one message if one comes within TIMEOUT_MS, whether or not the
 * proxy was asked to stop (a detach at the end waits for its answer so).
 * Returns 1 when one came.
 */
int mo_proxy_drain(struct mo_proxy *p, unsigned timeout_ms);
/* Asks mo_proxy_step to return 0. */
void mo_proxy_stop(struct mo_proxy *p);

struct mo_engine *mo_proxy_engine(struct mo_proxy *p);
/* -k's symbolizer (mo_proxy_opts.stacks), or NULL. */
struct mo_symbolizer *mo_proxy_stacks(struct mo_proxy *p);
/* Another transport's lines for "info objects" and "info kernels". */
typedef void mo_proxy_info_fn(void *ctx, const char *what, struct strbuf *out);
void mo_proxy_add_info(struct mo_proxy *p, mo_proxy_info_fn *fn, void *ctx);
/*
 * The next kernel's number (OBJECT 0) or object's (OBJECT 1) for another
 * transport (tracer/attach.c): one sequence with the proxy's own, so that
 * the log and the model never give two kernels one number (motrace
 * --listen/--to with pairs relayed and pairs handed to their pagers).
 */
unsigned mo_proxy_number(struct mo_proxy *p, int object);
/* Lines for "info objects" and "info kernels". */
void mo_proxy_info(struct mo_proxy *p, const char *what, struct strbuf *out);
/* Ends: flushes what waits, removes published addresses, frees. */
void mo_proxy_free(struct mo_proxy *p);

/* Monotonic nanoseconds. */
uint64_t mo_now(void);

#endif
