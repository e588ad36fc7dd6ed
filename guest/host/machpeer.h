/*
 * guest/host/machpeer.h: the relay's peer when the pager is a real one,
 * reached over mach/ at an address (unix:PATH, tcp:HOST:PORT), as mo-map
 * reaches it for the Linux-hosted kernel.
 *
 * The real kernel's ports stay in the guest; here stand proxies: the
 * pager gets send rights to our own control and name ports in
 * memory_object_init, its calls on them are re-encoded in the user32
 * profile and sent to the kernel's control port through the agent, and
 * the kernel's messages are re-sent to the pager's object port with MIG's
 * x86_64 stubs. A lock_request's reply port is kept and used for the
 * lock_completed the kernel sends back (matched by offset and length,
 * PROTOCOL.md rule 6); a routine's (get_attributes) reply port is kept
 * the same way for the kernel's reply.
 */
#ifndef MO_GUEST_MACHPEER_H
#define MO_GUEST_MACHPEER_H

#include <stdint.h>

#include "guest/host/relay.h"

struct machpeer;

struct machpeer_out {
	/* Sends a user32 message to the kernel through the relay (and logs it). */
	int (*send)(void *ctx, const void *msg, uint32_t len,
		    const struct relay_ool *ool, int nool);
	/* Something the peer noticed, for the log. */
	void (*note)(void *ctx, const char *text);
	void *ctx;
};

/* Looks ADDR up; returns the peer, or NULL after printing why. */
struct machpeer *machpeer_new(const char *addr, const char *secret_file,
			      const struct machpeer_out *out);
/* The relay_peer on_msg callback: a kernel -> manager message. */
int machpeer_on_msg(void *ctx, const uint8_t *msg, uint32_t len,
		    const struct relay_ool *ool, int nool);
/* The last error, for a -1 from machpeer_on_msg or a failed send. */
const char *machpeer_error(struct machpeer *p);
/* Lock requests still waiting for their lock_completed. */
unsigned machpeer_pending(struct machpeer *p);
void machpeer_free(struct machpeer *p);

#endif
