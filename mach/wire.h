/*
 * mach/wire.h: the constants of the stream format (doc/wire.md).
 */
#ifndef MO_MACH_WIRE_H
#define MO_MACH_WIRE_H

#define WIRE_MAGIC		"motrmach"
#define WIRE_VERSION		1
#define WIRE_HELLO		64	/* bytes of the hello */
#define WIRE_KEY		16	/* bytes of a key made from a shared secret */
#define WIRE_NONCE		16	/* bytes of the hello's nonce */
#define WIRE_PROOF		16	/* bytes of an AUTH frame's proof */
#define WIRE_FRAME_HEADER	16
#define WIRE_DEST		16	/* the destination of a MSG frame */
#define WIRE_ANN		16	/* one port or region annotation */
/* The largest frame either side sends or accepts: 64 MiB of message and
 * out-of-line data plus annotations. */
#define WIRE_MAX_FRAME		(64u * 1024 * 1024 + 65536)

enum wire_frame {
	WIRE_MSG = 1,
	WIRE_RELEASE = 2,
	WIRE_DEAD = 3,
	WIRE_BOOTSTRAP = 4,
	WIRE_ERROR = 5,
	WIRE_AUTH = 6,
	WIRE_STACKS = 7,
	WIRE_STACK = 8,
};

/* The most return addresses a STACK frame carries. */
#define WIRE_STACK_MAX		32

/* Hello flags. */
#define WIRE_F_HELLO_AUTH	1	/* this side holds a shared secret */
#define WIRE_F_HELLO_STACKS	2	/* this side reads STACKS and STACK frames */
#define WIRE_F_HELLO_WANT_STACKS 4	/* from the start: as a STACKS frame saying 1 */

/* Port annotation flags. */
#define WIRE_F_SENDERS_LEFT	1	/* receive right moved; sender keeps send rights */
#define WIRE_F_IN_REGION	2	/* an element of an out-of-line port array */
#define WIRE_F_ANN_ALL		(WIRE_F_SENDERS_LEFT | WIRE_F_IN_REGION)

/* Region annotation flags (its bytes 4-7). */
#define WIRE_F_REGION_PORTS	1	/* an out-of-line port array: no data follows */

#endif
