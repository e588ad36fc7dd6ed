/*
 * guest/host/relay.h: the host end of the agent's rings.
 *
 * The relay knows frames, not pagers: it hands each message from the
 * kernel and each line from the agent to a struct relay_peer, and sends
 * what the peer gives back. Today the peer is the built-in test pager
 * (testpager.c); a link to a real pager over mach/ is another peer.
 */
#ifndef MO_GUEST_RELAY_H
#define MO_GUEST_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "guest/ring.h"

/* One out-of-line region of a message, in frame order. */
struct relay_ool {
	const uint8_t *data;
	uint32_t bytes;
};

#define RELAY_MAX_OOL 16

struct relay_peer {
	/* A kernel -> manager message, user32 bytes as the agent received them. */
	int (*on_msg)(void *ctx, const uint8_t *msg, uint32_t len,
		      const struct relay_ool *ool, int nool);
	/* A line from the agent (hello, step reports, cmd, done, error). */
	int (*on_ctl)(void *ctx, const char *text);
};

struct relay {
	struct mo_shm_header *shm;
	struct mo_ring g2h, h2g;
	int (*idle)(void *ctx);	/* called while waiting for ring room */
	void *idle_ctx;
	/* Rings the guest, called when a frame is committed while it sleeps. */
	void (*kick)(void *ctx);
	void *kick_ctx;
	uint32_t last_seq;	/* the seq of the last frame sent */
	/* The agent's page pool (ring.h, MO_SHM_POOL), once attached. */
	uint8_t *pool;
	uint32_t pool_pages;
	uint32_t pool_head;	/* pages taken so far */
	uint64_t pool_regions, ring_regions;	/* host data sent each way */
	char err[200];
};

/* Writes a fresh header into SHM (before the guest starts). */
void relay_init_shm(void *shm);
void relay_attach(struct relay *r, void *shm);

/*
 * Hands every frame waiting in the guest's ring to PEER. Returns how many,
 * or -1 with r->err (a bad frame, or the peer's own error).
 */
int relay_poll(struct relay *r, const struct relay_peer *peer, void *ctx);

/*
 * Sends one manager -> kernel message (user32 bytes, ports named as in the
 * agent) with its out-of-line regions, or one line of text. Waits for room,
 * calling r->idle, which returns -1 to give up. Returns 0 or -1 with r->err.
 */
int relay_send_msg(struct relay *r, const void *msg, uint32_t len,
		   const struct relay_ool *ool, int nool);
int relay_send_ctl(struct relay *r, const char *text);
/* The workload script's text, once, before the guest starts. */
int relay_send_script(struct relay *r, const char *text, size_t len);
/*
 * From now on, out-of-line data goes into the agent's page pool, POOL
 * (PAGES pages, mapped from the guest's RAM) when it has room, else
 * through the ring.
 */
void relay_pool_attach(struct relay *r, void *pool, uint32_t pages);
/* Wakes a guest that sleeps for the host's next frame (ring.h, guest_waiting). */
void relay_kick(struct relay *r);

#endif
