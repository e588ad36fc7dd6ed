/*
 * guest/ring.h: the relay channel between the agent in the guest and the
 * host, two byte rings in ivshmem shared memory (doc/guest.md).
 *
 * Shared by the freestanding 32-bit agent and the 64-bit host program, so
 * only fixed-width types and compiler builtins. Each ring has exactly one
 * producer and one consumer; HEAD and TAIL are free-running byte counts,
 * written only by the consumer and the producer respectively. A frame never
 * wraps: a producer that lacks room before the end writes a PAD frame.
 */
#ifndef MO_GUEST_RING_H
#define MO_GUEST_RING_H

#include <stdint.h>

#define MO_RING_MAGIC	0x3152524du	/* "MRR1" */
#define MO_RING_VERSION	5
#define MO_SHM_SIZE	0x100000u	/* qemu's memory-backend-file size=1M */

/*
 * Where things sit in the shared memory. The ring sizes are powers of two,
 * so that COUNT % SIZE stays continuous when the 32-bit counts wrap.
 */
#define MO_RING_H2G_OFF	0x40000u	/* host -> guest frames */
#define MO_RING_H2G_SIZE 0x40000u
#define MO_RING_G2H_OFF	0x80000u	/* guest -> host frames */
#define MO_RING_G2H_SIZE 0x80000u

/*
 * The largest frame: 32 pages of data_return (PROTOCOL.md 5) and more.
 * Any frame up to a ring's size gets through: after a PAD it starts at 0.
 */
#define MO_FRAME_MAX	0x3f000u

enum mo_frame_kind {
	MO_FRAME_PAD = 0,	/* skip to the end of the ring */
	MO_FRAME_MSG = 1,	/* one Mach message, user32 bytes, then OOL data */
	MO_FRAME_CTL = 2,	/* one line of text between agent and host */
	MO_FRAME_SCRIPT = 3,	/* host -> guest: the workload script's text */
};

enum mo_peer_state {
	MO_PEER_NONE = 0,
	MO_PEER_READY = 1,	/* set up and reading its ring */
	MO_PEER_DONE = 2,	/* finished; will produce nothing more */
};

/*
 * One direction. HEAD and TAIL are on their own cache lines because the
 * two sides write them concurrently.
 */
struct mo_ring_idx {
	volatile uint32_t head;		/* consumed bytes; consumer writes */
	uint32_t pad0[15];
	volatile uint32_t tail;		/* produced bytes; producer writes */
	uint32_t pad1[15];
};

struct mo_shm_header {
	uint32_t magic;
	uint32_t version;
	volatile uint32_t guest_state;	/* enum mo_peer_state */
	volatile uint32_t host_state;
	/*
	 * Set by the host while it waits on its doorbell (an eventfd that
	 * qemu signals when the guest writes the ivshmem Doorbell register):
	 * a guest that commits a frame and finds it set clears it and rings.
	 */
	volatile uint32_t host_waiting;
	uint32_t flags;			/* MO_SHM_*, written by the host first */
	/*
	 * Set by the agent while its main thread sleeps for the host's next
	 * frame: a host that commits one and finds it set clears it and
	 * rings the guest's serial line (MO_KICK_BYTES bytes), whose
	 * interrupt ends the agent's device_read.
	 */
	volatile uint32_t guest_waiting;
	/* How many times the agent looks at an empty ring before it sleeps. */
	uint32_t spin;
	/*
	 * The page pool (MO_SHM_POOL): POOL_PAGES pages of the guest's RAM
	 * at guest-physical POOL_PHYS, which the agent allocates and names
	 * before it says hello. The host asks for POOL_PAGES pages (at most
	 * MO_POOL_MAX), the agent says how many it made (0: none). The host writes a host
	 * message's out-of-line data there, the agent hands it to the
	 * kernel from there, and POOL_DONE counts the pages the agent is
	 * done with, which the host may then write again.
	 */
	uint32_t pool_phys;
	uint32_t pool_pages;
	volatile uint32_t pool_done;
	uint32_t pad[5];
	struct mo_ring_idx g2h;
	struct mo_ring_idx h2g;
};

/*
 * The host logs every host message where the kernel took it ("sent",
 * doc/guest.md): the agent marks each one. Without it, only the messages
 * it gives a reply port of its own are marked (the host learns that port
 * from the mark), and a relayed fault cycle costs the guest no mark.
 */
#define MO_SHM_MARKS	1u
/*
 * The host can write the guest's RAM (qemu's memory backend is a file
 * the host holds too): the agent makes a page pool for the host's data.
 */
#define MO_SHM_POOL	2u
#define MO_POOL_PAGES	64	/* the default (mo-gnumach --pool) */
#define MO_POOL_PAGE_SIZE	4096u	/* the guest's page, the pool's unit */
#define MO_POOL_MAX	1024

/*
 * The guest's doorbell is its second serial port (com1, IRQ 3): qemu's
 * 16550 raises its receive interrupt at once only when the FIFO holds
 * its trigger level, which GNU Mach sets to 14 (i386/i386at/com.c,
 * comparam: iFIFO14CH); fewer bytes wait for the FIFO's timeout of four
 * character times (qemu hw/char/serial.c, fifo_timeout_int).
 */
#define MO_KICK_BYTES	14

/* The default of spin: some 20 ms of looking under TCG, more than an answer takes under load. */
#define MO_SPIN_DEFAULT	20000

/*
 * The doorbell (qemu docs/specs/ivshmem-spec.rst): the guest's ivshmem
 * device is peer 0 of our own ivshmem server (guest/host/vm.c), the host
 * peer 1 with one vector; writing (1 << 16 | 0) to the Doorbell register
 * at BAR0 + 12 makes qemu signal the host's eventfd.
 */
#define MO_BELL_GUEST_ID 0
#define MO_BELL_HOST_ID 1
#define MO_BELL_REG 12

/*
 * A frame: this header, the message (MSG) or text (CTL) of MSG_LEN bytes
 * padded to 8, then NOOL regions, each a struct mo_frame_ool followed by
 * its bytes padded to 8. LEN counts everything and is a multiple of 8.
 * SEQ counts the frames of one direction from 0, so a lost or reordered
 * frame is seen at once.
 */
struct mo_frame {
	uint32_t len;
	uint16_t kind;
	uint16_t nool;
	uint32_t msg_len;
	uint32_t seq;
};

/* A PAD frame is as short as 8 bytes: len, kind and nool only. */
#define MO_PAD_MIN 8

/*
 * SLOT 0: the region's bytes follow. Otherwise (host -> guest only) they
 * are in the page pool from page SLOT - 1 on, the last page's rest
 * zeroed, and none follow: the host takes the pool's pages in order, so
 * as the agent reads the frame, its first region in the pool starts at
 * page POOL_DONE % POOL_PAGES and each further one where the one before
 * ended.
 */
struct mo_frame_ool {
	uint32_t bytes;
	uint32_t slot;
};

static inline uint32_t mo_pad8(uint32_t n)
{
	return (n + 7) & ~7u;
}

/* A ring as one side sees it. */
struct mo_ring {
	struct mo_ring_idx *idx;
	uint8_t *data;
	uint32_t size;
	uint32_t seq;		/* the next frame's sequence number */
};

static inline void mo_ring_attach(struct mo_ring *r, void *shm, int g2h)
{
	struct mo_shm_header *h = (struct mo_shm_header *)shm;

	r->idx = g2h ? &h->g2h : &h->h2g;
	r->data = (uint8_t *)shm + (g2h ? MO_RING_G2H_OFF : MO_RING_H2G_OFF);
	r->size = g2h ? MO_RING_G2H_SIZE : MO_RING_H2G_SIZE;
	r->seq = 0;
}

static inline uint32_t mo_ring_load(volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void mo_ring_store(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Producer: returns where a frame of LEN bytes can be written, writing a
 * PAD first when the end of the ring is too close, or NULL while the
 * consumer has not made room (the caller waits and retries).
 */
static inline uint8_t *mo_ring_reserve(struct mo_ring *r, uint32_t len)
{
	uint32_t tail = r->idx->tail;
	uint32_t used = tail - mo_ring_load(&r->idx->head);
	uint32_t pos = tail % r->size;
	uint32_t room = r->size - pos;

	if (room < len) {
		struct mo_frame *pad = (struct mo_frame *)(r->data + pos);

		if (r->size - used < room)
			return 0;
		/* ROOM may be just 8: a PAD has only len, kind and nool. */
		pad->len = room;
		pad->kind = MO_FRAME_PAD;
		pad->nool = 0;
		mo_ring_store(&r->idx->tail, tail + room);
		/* The frame goes at the start, if the consumer made room there. */
		used += room;
		pos = 0;
	}
	if (r->size - used < len)
		return 0;
	return r->data + pos;
}

/* Producer: makes the frame written at the reserved place visible. */
static inline void mo_ring_commit(struct mo_ring *r, uint32_t len)
{
	mo_ring_store(&r->idx->tail, r->idx->tail + len);
	r->seq++;
}

/*
 * Consumer: 1 and *FP the next frame (PADs skipped), 0 when the ring is
 * empty, -1 when the other side wrote a length that cannot be: the frame
 * must fit between HEAD and TAIL and before the end of the ring.
 */
static inline int mo_ring_next(struct mo_ring *r, struct mo_frame **fp)
{
	for (;;) {
		uint32_t head = r->idx->head;
		uint32_t avail = mo_ring_load(&r->idx->tail) - head;
		uint32_t pos = head % r->size;
		struct mo_frame *f;

		if (avail == 0)
			return 0;
		f = (struct mo_frame *)(r->data + pos);
		if (avail < MO_PAD_MIN || f->len < MO_PAD_MIN || f->len % 8 ||
		    f->len > avail || f->len > r->size - pos)
			return -1;
		if (f->kind != MO_FRAME_PAD) {
			if (f->len < sizeof(*f) || f->len > MO_FRAME_MAX ||
			    f->msg_len > f->len - sizeof(*f))
				return -1;
			*fp = f;
			return 1;
		}
		mo_ring_store(&r->idx->head, head + f->len);
	}
}

/* Consumer: gives the frame's bytes back to the producer. */
static inline void mo_ring_release(struct mo_ring *r, uint32_t len)
{
	mo_ring_store(&r->idx->head, r->idx->head + len);
	r->seq++;
}

#endif
