/*
 * mach/ipc.h: the insides of libmotrace-mach, shared by its files.
 *
 * One process is one Mach task: one name space (names -> struct entry),
 * the ports whose receive rights it holds (struct kport, kind KP_LOCAL),
 * proxies for ports that live in other processes (KP_PROXY, reached over
 * a struct link), and messages in flight (struct kmsg), which hold their
 * rights as port pointers, not names. One mutex, mo_lock, guards all of
 * it; sockets are written without it (doc/wire.md, "Ordering").
 */
#ifndef MO_MACH_IPC_H
#define MO_MACH_IPC_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stddef.h>
#include <mach/message.h>
#include <mach/port.h>
#include <mach/notify.h>

#include "util/strbuf.h"
#include "decode/decode.h"

enum kport_kind {
	KP_LOCAL,		/* this process holds (or moves) the receive right */
	KP_PROXY,		/* the receive right is across link->peer */
	KP_DEAD,
};

/* How a proxy's id is to be read by the peer (doc/wire.md, "Port ids"). */
enum {
	WK_NULL = 0,
	WK_DEAD = 1,
	WK_SENDER = 2,		/* an id in the sending process's export table */
	WK_RECEIVER = 3,	/* an id the receiving process exported */
	WK_MOVED = 4,		/* an id the sender once moved to the receiver */
};

struct link;
struct kpset;
struct mo_mach_stack;

/* What one link holds of a port this process exported (or forwards). */
struct kexport {
	struct kexport *next;
	struct link *link;
	uint64_t sends;		/* send rights given over the link, not released */
	uint64_t sonces;	/* send-once rights given and not yet used */
};

struct kmsg;

struct kport {
	unsigned refs;
	uint8_t kind;
	uint8_t dying;
	uint32_t name;		/* its name here for send/receive rights, or 0 */
	uint64_t id;		/* export id, 0 until first exported */
	uint32_t tapid;		/* its id on the control socket, 0 until named there */
	uint8_t tapped;		/* TAP_* (control.c): its messages may go through a tracer */
	uint8_t kobject;	/* a kernel object's (thread.c): answered as the task port's */
	unsigned long payload;	/* mach_port_set_protected_payload's, when has_payload */
	uint8_t has_payload;
	uint32_t qlimit;	/* mach_port_set_qlimit's, reported, not enforced */

	/* KP_LOCAL */
	int has_recv_name;	/* the receive right is in our space (not in transit) */
	struct kmsg *head, **tailp;
	unsigned qlen;
	uint32_t seqno;
	struct kpset *pset;
	struct kport *pset_next;
	pthread_cond_t cond;
	int waiters;
	uint32_t mscount;
	struct kport *nsrequest;	/* send-once right for no-senders */
	/* the link and id this receive right came by, so a right going back is named as the peer knows it */
	struct link *mv_link;	/* it came by MOVE_RECEIVE over this link */
	uint64_t mv_id;		/* under this id of the peer's */

	/* rights counted wherever they are (names, messages, links) */
	uint32_t srights;
	uint32_t sorights;
	struct kexport *exports;

	/* KP_PROXY */
	struct link *link;
	uint8_t rkind;		/* WK_SENDER or WK_MOVED, as the peer reads it */
	uint64_t rid;
	uint64_t got_sends;	/* send rights received over link, for RELEASE */
};

struct kpset {
	uint32_t name;
	struct kport *members;
	pthread_cond_t cond;
	int waiters;
};

/* One name in the space. */
struct entry {
	uint32_t type;		/* MACH_PORT_TYPE_* bits */
	uint32_t urefs;		/* user references to send rights or a dead name */
	struct kport *port;
	struct kpset *pset;
	struct kport *dnrequest;	/* send-once right for a dead-name notification */
	uint32_t next_free;
};

/* A right carried by a message in flight. */
struct kright {
	uint32_t off;		/* byte offset of the name in the message, or in its region */
	uint8_t type;		/* as received: PORT_RECEIVE, PORT_SEND, PORT_SEND_ONCE */
	uint32_t region;	/* 0: in the message; I + 1: in ool[I], an out-of-line port array */
	struct kport *port;	/* NULL: MACH_PORT_NULL; a dead port: MACH_PORT_DEAD */
};

/* Out-of-line memory carried by a message in flight. */
struct kool {
	uint32_t off;		/* byte offset of the pointer in the message */
	int borrowed;		/* addr is the sender's, valid during its mach_msg */
	void *addr;		/* else page-aligned, ours; given to the receiver */
	uint64_t size;
	uint8_t ports;		/* a port array: its names are written at copyout */
};

struct kmsg {
	struct kmsg *next;
	uint32_t size;		/* msgh_size */
	unsigned nrights, nool;
	struct kright dest, reply;
	struct kright *rights;
	struct kool *ool;
	uint8_t *bytes;		/* the message, port slots zeroed */
	uint64_t arrival;	/* when it was queued, counted over all ports */
	uint64_t src;		/* the serial of the link it came over, or 0 */
	struct mo_mach_stack *stack;	/* its sender's, from a STACK frame, or NULL */
};

extern pthread_mutex_t mo_lock;

/* port.c: the name space and rights; all with mo_lock held */
struct entry *mo_space_lookup(uint32_t name);
uint32_t mo_space_alloc(struct entry **e);
void mo_space_free(uint32_t name);
struct kport *mo_kport_new(int kind);
void mo_kport_ref(struct kport *p);
void mo_kport_unref(struct kport *p);
/* Gives the space one right of TYPE (as received) to P; returns its name. */
uint32_t mo_space_copyout(struct kport *p, unsigned type);
/* Drops one right of TYPE (as received) that is in no space. */
void mo_right_release(struct kport *p, unsigned type);
/* The port lost its receive right or its peer: kill it and notify. */
void mo_kport_kill(struct kport *p);
void mo_kport_enqueue(struct kport *p, struct kmsg *m);
/* Sends a notification message (mach/notify.h) to a send-once right. */
void mo_notify_send(struct kport *to, int id, uint32_t word, int word_is_name);
void mo_srights_dec(struct kport *p);
void mo_proxy_gc(struct kport *p);
struct kport *mo_kport_dead(void);
kern_return_t mo_right_copyin(uint32_t name, unsigned disp, struct kport **out,
			   unsigned *type, int check_only);

/* msg.c */
struct kmsg *mo_kmsg_alloc(uint32_t size, unsigned nrights, unsigned nool);
void mo_kmsg_destroy(struct kmsg *m);
/* M, dequeued from P, dropped as a receive that cannot take it does. */
void mo_kmsg_discard(struct kmsg *m, struct kport *p);
/* Sends M to its destination; consumes M. Returns a mach_msg_return_t. */
int mo_kmsg_send(struct kmsg *m);

/* pages.c: page-aligned regions; freed ones may be reused */
void *mo_pages_alloc(size_t size, int zero);
/* Gives back [ADDR, ADDR+SIZE) rounded to pages (vm_deallocate). */
void mo_pages_release(void *addr, size_t size);

/* control.c: the control socket and the tap (doc/attach.md) */
enum { TAP_NONE, TAP_PORT, TAP_TRACER };	/* kport.tapped */
extern int mo_tap_live;			/* a tracer is attached */
/* M goes to a tapped port: 1 when the tap took it (it is consumed). */
int mo_tap_divert(struct kmsg *m);
/* PORT (a receive right, referenced by the caller) is published at ADDR. */
void mo_tap_publish(struct kport *port, const char *addr);
/* ADDR is published no more: no tracer hears of it. mo_lock held. */
void mo_tap_unpublish(const char *addr);
/* Starts the control socket (once); waits for a tracer when
 * MOTRACE_TAP_WAIT asks. mo_lock not held. */
void mo_tap_wait(void);
/* P, a tapped port, dies. */
void mo_tap_dead(struct kport *p);
/* P, which had a tap id, is being freed. */
void mo_tap_forget(struct kport *p);
/* Sends M on without the tap (what mo_kmsg_send does after it). */
int mo_kmsg_send_now(struct kmsg *m);

/* task.c */
extern struct kport *mo_task_port;
void mo_task_serve(struct kmsg *m);
/* NAME holds a send right to the task port. mo_lock not held. */
int mo_is_task(mach_port_t name);
/* The task's name, for the library's own calls (no reference added). */
mach_port_t mo_task_name(void);

/* host.c: the host port (mach_host_self) */
extern struct kport *mo_host_port;
void mo_host_init(void);
void mo_host_serve(struct kmsg *m);

/* link.c, send.c, recv.c, handshake.c, io.c (their shared insides: link.h) */
struct link {
	int fd;
	int dead;		/* closed; its proxies are dead */
	int broken;		/* a write failed; the I/O thread closes it */
	int peer_error;		/* the peer sent an ERROR frame */
	unsigned refs;
	char *peer;		/* for messages: "unix:/path", "tcp:1.2.3.4:5" */
	struct link *next;
	uint64_t nframes;	/* frames read, to name a bad one */
	struct strbuf outq;	/* bytes the socket did not take yet */
	size_t outq_off;
	int flushing;		/* a sender writes the queue's front without mo_lock */
	int close_later;	/* closed while FLUSHING: its sender closes the socket */
	struct strbuf in;	/* bytes read, not yet a whole frame */
	struct idmap *imports;	/* peer's export id -> proxy */
	struct idmap *moved;	/* id the peer moved to us -> our port */
	uint64_t serial;	/* names it in kmsg.src */
	/* The out queue's bound (link.c, "Out queue bound"). */
	int full;		/* past the high mark, not yet below the low */
	unsigned held;		/* full links that hold back reading this one */
	struct link **holding;	/* the links this one holds back, a reference each */
	unsigned nholding, holding_cap;
	unsigned episodes;	/* times its out queue passed the high mark */
	unsigned said_episodes;	/* as of the last line said */
	uint64_t said_at;	/* ms, CLOCK_MONOTONIC */
	int peer_stacks;	/* its hello says it reads STACKS frames */
	int send_stacks;	/* it asked for our senders' stacks (STACKS) */
	int asked_stacks;	/* we asked it for its senders' (STACKS) */
	struct mo_mach_stack *next_stack;	/* a STACK frame's, for the next MSG */
};
/* The serial of the link the calling thread last received a message from. */
extern __thread uint64_t mo_src_thread;
/* M was taken off a queue by the calling thread: its link and stack are the thread's now. */
void mo_link_received(struct kmsg *m);

struct idmap;
struct idmap *mo_idmap_new(void);
void mo_idmap_free(struct idmap *m);
void *mo_idmap_get(struct idmap *m, uint64_t id);
void mo_idmap_put(struct idmap *m, uint64_t id, void *v);
void mo_idmap_del(struct idmap *m, uint64_t id);
/* Calls FN on every value (which may delete its own key). */
void mo_idmap_each(struct idmap *m, void (*fn)(uint64_t, void *, void *), void *arg);

extern struct idmap *mo_exports;	/* export id -> kport */

/*
 * Deferred writes (mach_msg's send): between mo_links_defer() and
 * mo_links_write_deferred(), what this thread writes to a link is queued,
 * and written once mo_lock is let go, so that the peer it wakes cannot
 * take the CPU from a thread holding mo_lock. Both with mo_lock held; the
 * second lets it go.
 */
void mo_links_defer(void);
void mo_links_write_deferred(void);
/* Sends M over P's link; mo_lock held, dropped and retaken. */
int mo_link_send(struct kport *p, struct kmsg *m);
void mo_link_send_release(struct link *l, uint64_t rid, uint8_t rkind,
		       uint64_t sends, uint64_t sonces);
void mo_link_send_dead(struct link *l, uint8_t kind, uint64_t id);
void mo_link_unref(struct link *l);
void mo_io_init(void);
/* A new connection to ADDR: handshake, then the link joins the I/O thread. */
int mo_link_connect(int fd, const char *peer, const uint8_t *key,
		 mach_port_t *name);
/* Registers a listening socket with the I/O thread; mo_lock held.
 * Takes a reference to PORT. */
int mo_io_add_listener(int fd, const char *addr, struct kport *port,
		    const uint8_t *key);
int mo_io_remove_listener(const char *addr);
/* A listener a tracer handed over: accept what waits, then close; mo_lock held. */
void mo_io_end_listener(int fd);
void mo_io_wake(void);

/* A thread blocked in mach_msg, for the reading role (io.c). */
struct io_waiter {
	pthread_cond_t *cond;
	struct io_waiter *next, **pprev;
	int fd;			/* an interruptible waiter's eventfd, or -1 */
};
void mo_io_waiter_add(struct io_waiter *w, pthread_cond_t *cond);
void mo_io_waiter_del(struct io_waiter *w);
/*
 * An interruptible receive (MACH_RCV_INTERRUPT, mach_msg_trap) that does
 * not read the links sleeps in poll() on the calling thread's eventfd
 * rather than on COND, so that a signal ends it: it waits until COND is
 * woken (mo_cond_wake), DEADLINE passes or a signal comes. Drops and
 * retakes mo_lock. Returns 1 if a signal interrupted it.
 */
int mo_io_wait_intr(pthread_cond_t *cond, const struct timespec *deadline);
/*
 * During an interruptible receive the thread's signals are blocked but
 * while it sleeps (ppoll with this mask, its own), so that a signal that
 * comes while it runs is not lost but ends the next sleep; NULL otherwise.
 */
extern __thread const sigset_t *mo_intr_mask;
/* Wakes COND's waiters (one, or ALL), interruptible ones included. */
void mo_cond_wake(pthread_cond_t *cond, int all);
struct timespec;
int mo_io_reader(struct kport *p, struct kpset *s, const struct timespec *deadline);
/* A message was queued on P: wake the reading thread if it waits for P. */
void mo_io_wake_for(struct kport *p);
void mo_io_wake_reader(void);

/* siphash.c: SipHash-2-4, and a 16-byte key from a secret */
uint64_t mo_siphash(const uint8_t key[16], const void *data, size_t len);
void mo_secret_key(const char *secret, size_t len, uint8_t key[16]);

/* addr.c */
/*
 * Refuses a peer that is not ours: on a unix: socket, of another uid
 * (SO_PEERCRED); on tcp: without a secret, beyond loopback or of another
 * uid (/proc/net/tcp). Prints why.
 */
int mo_addr_check_peer(int fd, const char *addr, int has_secret);
void mo_addr_peer_name(int fd, const char *addr, char *buf, size_t len);

/* diag.c: one line on stderr, one write each */
int mo_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mo_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with MOTRACE_MACH_DEBUG set (not empty, not 0). */
void mo_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mo_debugging(void);

void mo_init(void);

#endif
