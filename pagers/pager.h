/*
 * pagers/pager.h: what the three pagers share: publishing the memory
 * object port, the receive loop over MIG's memory_object_server, signals
 * turned into messages, dead-name notifications of the kernels' control
 * ports, number arguments, and logging on request. Nothing here knows
 * the protocol beyond what the MIG stubs give; each pager implements the
 * memory_object_* server routines it needs (the rest answer MIG_BAD_ID,
 * from the stubs' weak defaults: -DMIG_EOPNOTSUPP=MIG_BAD_ID).
 */
#ifndef MO_PAGER_H
#define MO_PAGER_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <mach.h>
#include <mach/memory_object.h>

#define PAGE 4096UL

struct pager {
	const char *prog;
	int verbose;
	mach_port_t object;	/* the memory object port (receive right) */
	mach_port_t pset;	/* object, reply ports, the signal port */
	mach_port_t reply;	/* for lock_completed and supply_completed */
	mach_port_t sigport;	/* signals arrive here as messages */
	mach_port_t notify;	/* dead-name notifications of control ports */
	int quit;
	const char *secret;	/* --secret FILE */
	const char *usage;	/* the synopsis, after "usage: " */
	void (*usage_more)(FILE *f);	/* more help after it, or NULL */
	/* SIGUSR1 (or another signal the pager asked for) */
	void (*on_signal)(int sig);
};

extern struct pager P;

/* Logs to stderr when --verbose was given. */
void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "PROG: MESSAGE" and exits 1. */
void pdie(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * Makes the object port and publishes it at ADDR; SIGINT and SIGTERM end
 * pager_run, SIGUSR1 calls P.on_signal. Returns 0, or -1 with a message.
 */
int pager_start(const char *addr, const char *secret);
/* Serves messages until a signal ends it; then unpublishes ADDR. */
void pager_run(const char *addr);

/*
 * Asks for a dead-name notification of CTL, a kernel's control port (from
 * memory_object_init): a kernel that dies without terminate (killed, or
 * its link gone) is then forgotten as at terminate. Call it from
 * memory_object_init. Returns 0, or -1 with a message.
 */
int pager_watch(mach_port_t ctl);

/*
 * Each pager's own: forget the kernel whose control port is CTL, at
 * terminate or when the port died (pager_watch). The kernel holds no
 * page and answers nothing any more.
 */
void pager_forget(mach_port_t ctl);

/*
 * A number or size argument (util/parse.h: decimal, 0x hex, K M G T,
 * p for pages), at most MAX; prints "PROG: WHAT: ..." and exits 2 when it
 * is not one.
 */
uint64_t pager_num(const char *what, const char *s, uint64_t max);

/*
 * The options every pager takes (--secret FILE into P.secret, -v and
 * --verbose, -h and --help) and the pager's own, OWN (a list ended by a
 * zero entry, whose values must not be 'v', 'h' or 0x100): each of those
 * goes to ON_OPTION with its argument. Returns the index of the first
 * operand.
 */
int pager_options(int argc, char **argv, const struct option *own,
		  void (*on_option)(int c, const char *arg));

/* Prints "usage: P.usage" and P.usage_more on stdout (STATUS 0) or stderr; exits STATUS. */
void pager_usage(int status) __attribute__((noreturn));

/* Sleeps MS milliseconds. */
void pager_sleep_ms(unsigned ms);

#endif
