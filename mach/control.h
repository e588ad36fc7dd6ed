/*
 * mach/control.h: the control socket of a process that publishes an
 * address, and the tap behind it (doc/wire.md, "The control socket";
 * doc/attach.md). Shared by mach/control.c (the pager's side) and
 * tracer/attach.c (motrace's side).
 *
 * Every frame: u32 len (the whole frame, a multiple of 8), u16 type,
 * u16 flags, u64 seq, then the body; integers little-endian.
 */
#ifndef MO_MACH_CONTROL_H
#define MO_MACH_CONTROL_H

#define MO_TAP_VERSION		1
#define MO_TAP_HEADER		16
#define MO_TAP_MAX_FRAME	(64u * 1024 * 1024 + 65536)

/* The folder of control sockets: $XDG_RUNTIME_DIR/motrace, else this. */
#define MO_TAP_DIR_FMT		"/tmp/motrace-%u"
/* Set to 1: the first mo_mach_publish waits until a tracer attaches. */
#define MO_TAP_WAIT_ENV		"MOTRACE_TAP_WAIT"
/*
 * Set to 1: the process was started for a tracer's session (motrace --
 * PAGER): once no tracer is attached (it detached, or died) and no kernel
 * is left, with nothing queued for a second, it exits with status 0.
 */
#define MO_TAP_SESSION_ENV	"MOTRACE_TAP_SESSION"

enum mo_tap_frame {
	MO_TAP_HELLO = 1,	/* T->L: u32 version, u32 mode; L->T: u32 version, u32 pid */
	MO_TAP_OBJECT = 2,	/* L->T: seq object port id; body: its address, NUL-padded */
	MO_TAP_KERNEL = 3,	/* L->T: seq control port id; u64 object id, u64 name id, u64 page size */
	MO_TAP_READY = 4,	/* L->T: announcements done */
	MO_TAP_MSG = 5,		/* L->T: seq message number; a message (below) */
	MO_TAP_VERDICT = 6,	/* T->L: seq; u32 action, u32 0 */
	MO_TAP_PATCH = 7,	/* T->L: seq; u32 off, u32 n, n bytes */
	MO_TAP_INJECT = 8,	/* T->L: seq token; a message to send */
	MO_TAP_INJECTED = 9,	/* L->T: seq token; u32 kern_return, u32 new port id */
	MO_TAP_DETACH = 10,	/* T->L */
	MO_TAP_DETACHED = 11,	/* L->T: u64 messages the library passed itself */
	MO_TAP_ERROR = 12,	/* either: text, NUL-padded */
	MO_TAP_KERNEL_GONE = 13,	/* L->T: seq control port id: it died without a terminate */
	MO_TAP_UNDELIVERED = 14,	/* L->T: seq message; u32 mach_msg_return, i32 msgh_id, u32 dest id, u32 0 */
	MO_TAP_JUDGE = 15,	/* T->L: u32 1 (every message waits for a verdict: the start) or 0 (copies, as far as order allows); u32 MO_TAP_JUDGE_* */
	/*
	 * T->L, with a listening socket (SCM_RIGHTS): seq the published
	 * port's id; flags MO_TAP_ADOPT_KEY; 16 bytes of key (zero without),
	 * then the socket's address, NUL-padded. Served as one more listener
	 * of that port until the tracer is gone (doc/wire.md).
	 */
	MO_TAP_ADOPT = 20,
	MO_TAP_ADOPTED = 21,	/* L->T: seq as the ADOPT's; u32 0 or an errno, u32 0, text */
};

/* ADOPT flags. */
#define MO_TAP_ADOPT_KEY	1	/* connectors must prove the key (doc/wire.md "Shared secret") */
#define MO_TAP_ADOPT_ASK	2	/* no socket: would one be served? (ADOPTED says) */
/* Listening sockets one tracer may hand over. */
#define MO_TAP_ADOPT_MAX	16

enum mo_tap_mode {
	MO_TAP_DIVERT = 1,	/* the library waits for each verdict */
	MO_TAP_OBSERVE = 2,	/* copies only: delivered at once */
};

enum mo_tap_action {
	MO_TAP_PASS = 1,
	MO_TAP_DROP = 2,
};

/* MSG flags. */
#define MO_TAP_F_OUT		1	/* sent by the process (manager -> kernel) */
#define MO_TAP_F_COPY		2	/* delivered already (observe, or judging off) */
#define MO_TAP_F_ANSWER		4	/* to a port the tracer asked for: kept by the tracer */
#define MO_TAP_F_STACK		8	/* its sender's stack follows the regions (-k) */
#define MO_TAP_F_NODATA		16	/* a copy whose regions' data is left out (sizes only) */
/* JUDGE's second word. */
#define MO_TAP_JUDGE_NODATA	1	/* copies without their regions' data */
/* The hello's third word (optional): what else the tracer asks for. */
#define MO_TAP_HELLO_STACKS	1	/* senders' stacks with each message */

/*
 * MSG and INJECT bodies: u64 queue (MSG; 0 in INJECT), u32 missed (MSG:
 * copies dropped before this one), u32 msg_len, u32 nool, u32 0, then
 * nool region annotations (u32 off, u32 0, u64 size), then the message
 * (msg_len bytes, padded to 8), then each region's data padded to 8.
 * Ports in the message (header and body) are ids of the process's;
 * 0 is MACH_PORT_NULL. In INJECT, an id from MO_TAP_TRACER_IDS up that
 * names no port yet asks for a new one under that id, whose messages come
 * back as MSG with MO_TAP_F_ANSWER (the process's own ids stay below).
 */
#define MO_TAP_MSG_HEAD		24
#define MO_TAP_TRACER_IDS	0x40000000u

#endif
