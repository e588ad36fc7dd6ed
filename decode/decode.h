/*
 * decode/decode.h: GNU Mach typed messages, read safely.
 *
 * A message is a header followed by typed items: a type descriptor (short,
 * 4 bytes, or long, 12 bytes) and then the data, inline or as a pointer to
 * out-of-line memory. Three ABI profiles differ in the header (32 or 24
 * bytes), in the slot a port right takes (msgt_size 32 or 64 bits) and in
 * the size of an out-of-line pointer (doc/wire.md, GNUMACH.md).
 *
 * Every byte is read through bounds-checked accessors; a message that is
 * short or inconsistent is reported with the byte offset and what was
 * expected there, never read past its end.
 */
#ifndef MO_DECODE_H
#define MO_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/schema.h"

enum mo_abi {
	MO_ABI_X86_64,		/* 64-bit Linux processes; what MIG makes here */
	MO_ABI_USER32,		/* x86-64 GNU Mach and its 32-bit tasks */
	MO_ABI_I386,		/* classic 32-bit GNU Mach */
	MO_ABI_COUNT
};

struct mo_abi_info {
	const char *name;
	uint8_t header_size;	/* bytes of mach_msg_header_t */
	uint8_t local_off;	/* offset of msgh_local_port */
	uint8_t ool_slot;	/* bytes of an out-of-line pointer */
	uint8_t port_bits;	/* msgt_size of a port right */
	const struct mo_msg_schema *schema;
	const unsigned *schema_count;
};

const struct mo_abi_info *mo_abi_info(enum mo_abi abi);
/* Returns the profile named NAME, or -1. */
int mo_abi_from_name(const char *name);

/* The header, with the port fields as 32-bit names. */
struct mo_header {
	uint32_t bits;
	uint32_t size;
	uint32_t remote;
	uint32_t local;
	uint32_t seqno;
	int32_t id;
};

/* One typed item of a message body. */
struct mo_item {
	uint32_t desc_off;	/* where its type descriptor starts */
	uint32_t data_off;	/* where its data (or out-of-line pointer) starts */
	uint32_t data_len;	/* bytes it takes after the descriptor */
	uint16_t name;		/* msgt_name or msgtl_name */
	uint16_t size;		/* bits per element */
	uint32_t number;	/* elements */
	uint8_t is_inline;
	uint8_t longform;
	uint8_t dealloc;
};

enum mo_status {
	MO_OK = 0,
	MO_TRUNCATED,		/* the bytes end before the message does */
	MO_MALFORMED,		/* the bytes are there but make no sense */
};

/* Walks the typed items of one message body. */
struct mo_walker {
	const uint8_t *buf;
	size_t end;		/* min(msgh_size, bytes present) */
	size_t pos;
	uint32_t msgh_size;
	const struct mo_abi_info *abi;
	int status;		/* enum mo_status after a -1 */
	char err[160];
};

/*
 * Reads the header of BUF (LEN bytes present). Returns 0, or -1 with
 * w->status and w->err set; on success the walker stands at the first item.
 */
int mo_walk_init(struct mo_walker *w, const uint8_t *buf, size_t len,
		 enum mo_abi abi, struct mo_header *h);
/* 1: *it is the next item; 0: the body ended cleanly; -1: see w->err. */
int mo_walk_next(struct mo_walker *w, struct mo_item *it);

/* Is msgt_name a port right (MOVE_RECEIVE .. MAKE_SEND_ONCE)? */
static inline int mo_type_is_port(unsigned name)
{
	return name >= 16 && name <= 21;
}

/* What a receiver sees for a sender's disposition (PORT_SEND for MAKE_SEND...). */
unsigned mo_type_received(unsigned name);

/* Element I of an inline item, widened (the caller checked I < number). */
uint64_t mo_item_elem(const uint8_t *buf, const struct mo_item *it, uint32_t i);
/* The out-of-line pointer of an item that is not inline. */
uint64_t mo_item_ool_addr(const uint8_t *buf, const struct mo_item *it,
			  enum mo_abi abi);
/* Bytes of data an item describes (number * size / 8, rounded up). */
uint64_t mo_item_bytes(const struct mo_item *it);

#define MO_MAX_ITEMS 64

/* A whole message, decoded against the schema of its id. */
struct mo_decoded {
	enum mo_abi abi;
	size_t len;		/* bytes present */
	int have_header;
	struct mo_header h;
	int sent_view;		/* header as the sender wrote it: dest in remote */
	uint32_t dest;		/* the port the message goes to */
	uint32_t reply;		/* the reply port, or 0 */
	const struct mo_msg_schema *schema;	/* NULL: unknown id */
	unsigned nitems;
	struct mo_item items[MO_MAX_ITEMS];
	int bad_item;		/* index of the item that does not fit, or -1 */
	int status;		/* enum mo_status */
	char err[160];
};

const struct mo_msg_schema *mo_schema_find(enum mo_abi abi, int32_t id);

/*
 * Decodes BUF. Returns 0 when the message is well formed, -1 otherwise;
 * either way D holds all that could be read, for rendering.
 */
int mo_decode(const uint8_t *buf, size_t len, enum mo_abi abi,
	      struct mo_decoded *d);

/*
 * The item of the argument NAME (as the .defs name it), or -1 when the
 * message is unknown, lacks it or it did not fit the schema.
 */
int mo_arg_index(const struct mo_decoded *d, const char *name);
/* Argument NAME's first element, or DEF when there is no such argument. */
uint64_t mo_arg_u64(const struct mo_decoded *d, const uint8_t *buf,
		    const char *name, uint64_t def);

/*
 * Splits a binary stream of messages: returns how many bytes to decode as
 * the next message (its msgh_size when that is plausible, else all that is
 * left, and then *stop is set: the next message cannot be found).
 */
size_t mo_stream_next(const uint8_t *p, size_t left, enum mo_abi abi,
		      int *stop);

#endif
