/*
 * mach/interpose.h: how a pager started by motrace hands it the ports it
 * publishes (motrace -- PAGER ARGS).
 *
 * With MOTRACE_INTERPOSE=ADDR in its environment, mo_mach_publish(A, P)
 * does not publish P: it sends motrace, at ADDR, a message with id
 * MO_INTERPOSE_MSGID holding A (MACH_MSG_TYPE_CHAR, inline) and a send
 * right to P, and waits for the reply (id + 100, a kern_return_t) that
 * says motrace now serves A. Shared by mach/interpose.c (the pager's
 * side) and tracer/proxy.c (motrace's side).
 */
#ifndef MO_MACH_INTERPOSE_H
#define MO_MACH_INTERPOSE_H

#define MO_INTERPOSE_ENV "MOTRACE_INTERPOSE"
#define MO_INTERPOSE_MSGID 0x6d6f7470	/* "motp" */
#define MO_INTERPOSE_ADDR_MAX 512

/*
 * The pager's side: 1 when not interposed (publish as usual), 0 when
 * motrace took ADDR, -1 after a message.
 */
int mo_interpose_publish(const char *addr, unsigned port);
/* Was this process started by motrace to have its addresses served? */
int mo_interposed(void);

#endif
