/*
 * mach/motrace.h: what libmotrace-mach adds to Mach: finding a port in
 * another process by an address (doc/wire.md, "Rendezvous").
 *
 * Addresses: unix:PATH (a Unix-domain socket; PATH's directory must be
 * private to the user, created 0700 when missing, or shared with the
 * sticky bit, as /tmp is) and tcp:HOST:PORT (HOST defaults to 127.0.0.1; PORT 0
 * picks one). A SECRET_FILE, when given, names a file (readable by its
 * owner only) whose first line is a shared secret both sides must hold;
 * each proves it without sending it (doc/wire.md). TCP on any address
 * but loopback requires one. Without one, both ends of a unix: or
 * loopback tcp: connection refuse a peer that runs as another user; with
 * one, the secret decides. A secret belongs to tcp: addresses: with a
 * unix: address it is not used.
 *
 * Both return 0, or -1 after printing a message naming the problem.
 */
#ifndef _MACH_MOTRACE_H
#define _MACH_MOTRACE_H

#include <mach/port.h>
#include <mach/message.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Publishes a send right to PORT (a receive right of the caller's) under
 * ADDR: each process that looks ADDR up gets a send right made from it.
 * If BOUND is not NULL, *BOUND is set to the address actually bound
 * (tcp:HOST:PORT with the chosen port), allocated; free() it.
 */
int mo_mach_publish(const char *addr, mach_port_t port,
		    const char *secret_file, char **bound);

/* Looks ADDR up; on success *PORT names a send right to the published port. */
int mo_mach_lookup(const char *addr, const char *secret_file,
		   mach_port_t *port);

/* Stops publishing ADDR (removes a unix: socket). */
int mo_mach_unpublish(const char *addr);

/*
 * Listens at ADDR with the checks mo_mach_publish makes (the folder and
 * mode of a unix: socket, loopback or a secret for tcp:), without
 * publishing anything: for a listening socket handed to another process
 * (motrace --listen, doc/attach.md). Returns the descriptor (non-blocking,
 * close-on-exec); *KEY_SET says whether KEY holds the key made from
 * SECRET_FILE (tcp: addresses only; doc/wire.md "Shared secret"); *BOUND,
 * if BOUND is not NULL, the address bound (allocated). -1 after a message.
 */
int mo_mach_listen(const char *addr, const char *secret_file,
		   unsigned char key[16], int *key_set, char **bound);

/*
 * The largest message, in bytes of msgh_size (header and inline data;
 * out-of-line regions do not count), that the library carries: mach_msg
 * refuses to send a larger one (MACH_SEND_NO_BUFFER), and a peer that
 * frames one anyway is told so in an ERROR frame and disconnected
 * (doc/wire.md, "Limits"). A receive buffer this large always fits.
 */
#define MO_MACH_MSG_MAX (256u * 1024)

/*
 * mach_msg's receive, for a server loop with a fixed buffer BUF of SIZE
 * bytes (OPTION may hold MACH_RCV_TIMEOUT and MACH_RCV_INTERRUPT). A
 * message larger than SIZE does not end the loop: it is taken off the
 * queue, answered MIG_BAD_ARGUMENTS on its reply port when it has one,
 * destroyed, named in one line on stderr, and the next one is awaited
 * (the timeout starts again). Returns what mach_msg would, never
 * MACH_RCV_TOO_LARGE.
 */
mach_msg_return_t mo_mach_receive(mach_msg_header_t *buf, mach_msg_size_t size,
				  mach_port_t name, mach_msg_option_t option,
				  mach_msg_timeout_t timeout);

/*
 * Senders' stacks (motrace -k; doc/wire.md, "STACKS" and "STACK"). With
 * ON set, every peer whose library can asks, over each link now and
 * later, to attach the return addresses of the thread that sends each
 * message to it; with ON clear, it stops.
 */
void mo_mach_want_stacks(int on);

#define MO_MACH_STACK_MAX 32
struct mo_mach_stack {
	uint32_t pid, tid;	/* the sender's, as its /proc names them */
	unsigned n;
	uint64_t pc[MO_MACH_STACK_MAX];	/* return addresses, innermost first */
};

/*
 * The stack that came with the last message this thread received, if it
 * came with one: copied to *ST; returns 1, else 0.
 */
int mo_mach_sender_stack(struct mo_mach_stack *st);

/*
 * FD is read by whichever thread reads the library's links (the one
 * blocked in mach_msg, or the I/O thread): when FD has something to read
 * or hangs up, CB(CTX) runs in that thread, which must not block. A
 * message CB sends to a port the same thread waits on costs no wake-up
 * of another thread (motrace's side of a control socket, tracer/attach.c).
 */
void mo_mach_watch_fd(int fd, void (*cb)(void *ctx), void *ctx);
/* CB runs no more once this returns; with CLOSE_IT, FD is closed as soon
 * as no thread polls it. */
void mo_mach_unwatch_fd(int fd, int close_it);

#ifdef __cplusplus
}
#endif

#endif
