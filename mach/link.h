/*
 * mach/link.h: what the files that carry messages over links share
 * (link.c, send.c, recv.c, handshake.c, io.c); the rest of the library
 * sees mach/ipc.h only. All of it with mo_lock held unless said.
 */
#ifndef MO_MACH_LINK_H
#define MO_MACH_LINK_H

#include "mach/ipc.h"
#include "mach/wire.h"

#define PAGE 4096UL
#undef round_page	/* mach_init.h's divides by __vm_page_size */
#define round_page(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* Little-endian stores and loads; loads only at offsets checked first. */
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static inline uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static inline uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* Work left for after a frame is written. */
struct post {
	struct kport *home[64];	/* rights that went back to their owner */
	uint8_t home_type[64];
	unsigned nhome;
	struct kmsg *forward;	/* queued messages of ports moved out */
	struct kmsg **forward_tail;
};

/* A frame being read; ERR says what is wrong with it. */
struct frame {
	struct link *l;
	const uint8_t *b;
	size_t len;
	char err[160];
};

/* link.c: links, their out queues, their exports */
extern struct link *mo_links;		/* the open links */
extern struct strbuf mo_scratch;	/* the frame being built */
struct link *mo_link_new(int fd, const char *peer);
/* Puts L on the I/O thread's list. */
void mo_link_register(struct link *l);
/* Queues LEN bytes for the socket; never blocks. */
int mo_link_write(struct link *l, const void *buf, size_t len);
/* The same for two pieces, in one system call when the queue is empty. */
int mo_link_write2(struct link *l, const void *a, size_t alen,
		   const void *b, size_t blen);
/* The link is gone: its proxies die, what it held is released. */
void mo_link_close(struct link *l, const char *why);
/* Reads what the socket has; handles whole frames. mo_lock not held. */
void mo_link_read(struct link *l);
/* Takes N bytes read from L's socket: every whole frame is handled. */
void mo_link_input(struct link *l, const void *buf, size_t n);
/* Whether this process wants its peers' stacks (the hello says so). */
int mo_link_wants_stacks(void);
/* mo_mach_want_stacks with mo_lock held (the tap asks for its tracer). */
void mo_link_want_stacks(int on);
/* What the hellos (ours MINE, the peer's THEIRS flags) said of stacks. */
void mo_link_hello_stacks(struct link *l, uint32_t mine, uint32_t theirs);
/* Sends L a STACKS frame if what we want changed since we told its peer. */
void mo_link_ask_stacks(struct link *l);
/* The STACK frame that goes before a MSG, into F: ST's, or the calling thread's; its length. */
#define MO_STACK_FRAME_MAX (WIRE_FRAME_HEADER + 8 + 8 * WIRE_STACK_MAX)
size_t mo_link_stack_frame(uint8_t *f, const struct mo_mach_stack *st);
/* Full link L holds back the link of serial SRC until it drains. */
void mo_link_hold(struct link *l, uint64_t src);
/* Writes what the out queue holds; mo_lock not held. */
void mo_link_flush(struct link *l);
void mo_links_drain_at_exit(void);
uint64_t mo_export_id(struct kport *p);
struct kexport *mo_export_rec(struct kport *p, struct link *l, int create);
void mo_export_drop(struct kport *p, struct kexport *x);

/* send.c: frames written */
uint8_t *mo_frame_start(uint16_t type, uint16_t count1, uint32_t count2,
			uint32_t msg_len, size_t body);
void mo_link_send_error(struct link *l, const char *text);
/* Writes the 16-byte annotation of one right going over L. */
void mo_put_right(struct link *l, const struct kright *r, uint8_t *ann,
		  struct post *post);

/* recv.c: frames read */
/* A right that arrived over L: the port, with a reference for the right. */
struct kport *mo_get_right(struct link *l, const uint8_t *ann);
void mo_release_sonces(struct kport *p, uint64_t n);
/* Handles one whole frame. -1: close the link (fr->err). */
int mo_frame_handle(struct frame *fr);

/* handshake.c: the publishing side of a new connection, without blocking */
struct mo_pending {
	struct mo_pending *next;
	int fd;			/* -1 once it is a link or closed */
	int failed;
	int auth;		/* both sides hold a secret */
	int has_key;
	char peer[128];
	struct kport *port;	/* the published port; a reference */
	uint8_t key[WIRE_KEY];
	uint8_t mine[WIRE_HELLO];
	uint8_t in[WIRE_HELLO + WIRE_FRAME_HEADER + 256];	/* hello, AUTH */
	size_t got, need;
	uint64_t deadline;	/* ms, CLOCK_MONOTONIC */
};
/* The BOOTSTRAP frame to L: a new send right made from PORT. */
void mo_link_bootstrap(struct link *l, struct kport *port);
/* Sends our hello on FD (non-blocking); takes the reference to PORT. */
struct mo_pending *mo_pending_new(int fd, const char *peer, struct kport *port,
				  const uint8_t *key, uint64_t deadline);
/* Reads what is there; 1 when PD is done (a link now, or refused and closed). */
int mo_pending_step(struct mo_pending *pd);
void mo_pending_free(struct mo_pending *pd);

/* io.c */
/* A link joined the list: the thread that reads the links polls it too. */
void mo_io_link_added(void);
/*
 * FD is read like the links: when it has something (or hangs up), CB(CTX)
 * runs, mo_lock not held, in the thread that holds the reading role (one
 * at a time). CB must not block. mo_lock held.
 */
void mo_io_watch(int fd, void (*cb)(void *), void *ctx);
/* CB runs no more once this returns; CLOSE_IT: FD is closed when no
 * thread polls it any longer. mo_lock held. */
void mo_io_unwatch(int fd, int close_it);

#endif
