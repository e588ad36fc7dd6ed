/*
 * decode/decode.h: GNU Mach typed messages, read safely.
 *
 * A message is a header followed by typed items: a type descriptor (short,
 * 4 bytes, or long, 12 bytes; 8 bytes either way in the x86_64_2023
 * layout) and then the data, inline or as a pointer to out-of-line memory.
 * Four ABI profiles differ in the header (32 or 24 bytes), in the
 * descriptors and the alignment of what follows them (4 or 8 bytes), in
 * the slot a port right takes (msgt_size 32 or 64 bits) and in the size of
 * an out-of-line pointer (doc/wire.md, GNUMACH.md).
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
#include "decode/msgid.h"	/* generated: MO_ID_* */

enum mo_abi {
	MO_ABI_X86_64,		/* 64-bit Linux processes; what MIG makes here */
	MO_ABI_USER32,		/* x86-64 GNU Mach and its 32-bit tasks */
	MO_ABI_I386,		/* classic 32-bit GNU Mach */
	MO_ABI_X86_64_2023,	/* x86-64 GNU Mach and its 64-bit tasks today */
	MO_ABI_COUNT
};

struct mo_abi_info {
	const char *name;
	uint8_t header_size;	/* bytes of mach_msg_header_t */
	uint8_t local_off;	/* offset of msgh_local_port */
	uint8_t ool_slot;	/* bytes of an out-of-line pointer */
	uint8_t port_bits;	/* msgt_size of an inline port right */
	uint8_t ool_port_bits;	/* msgt_size of out-of-line port names */
	uint8_t desc_bytes;	/* 4: mach_msg_type_t is one word (12 long);
				   8: the 2023 layout, long or not */
	uint8_t align;		/* inline data is padded to this */
	const struct mo_msg_schema *schema;
	const unsigned *schema_count;
};

const struct mo_abi_info *mo_abi_info(enum mo_abi abi);
/* Returns the profile named NAME, or -1. */
int mo_abi_from_name(const char *name);
/* The profiles' names, as "x86_64, user32, i386 or x86_64-2023". */
const char *mo_abi_names(void);

/* The header, with the port fields as 32-bit names. */
struct mo_header {
	uint32_t bits;
	uint32_t size;
	uint32_t remote;
	uint32_t local;
	uint32_t seqno;
	int32_t id;
	/*
	 * msgh_protected_payload, when the local bits say
	 * MACH_MSG_TYPE_PROTECTED_PAYLOAD: the whole local slot (8 bytes in
	 * a 32-byte header, else 4); LOCAL holds its low word. Else 0.
	 */
	uint64_t payload;
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

/* The local bits of a message delivered to a port with a protected payload. */
#define MO_TYPE_PROTECTED_PAYLOAD 23

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

/* Which fields of struct mo_call a message filled. */
enum {
	MO_CALL_OBJECT = 1 << 0,
	MO_CALL_CONTROL = 1 << 1,
	MO_CALL_OFFSET = 1 << 2,
	MO_CALL_LENGTH = 1 << 3,
	MO_CALL_ACCESS = 1 << 4,
	MO_CALL_LOCK = 1 << 5,
	MO_CALL_RETURN = 1 << 6,
	MO_CALL_FLUSH = 1 << 7,
	MO_CALL_REPLY = 1 << 8,
	MO_CALL_ERROR = 1 << 9,
	MO_CALL_DATA = 1 << 10,
	MO_CALL_PAGE_SIZE = 1 << 11,
	MO_CALL_FLAGS = 1 << 12,	/* any of the MO_FLAG_* below was sent */
	MO_CALL_NAME = 1 << 13,
	MO_CALL_COPY_STRATEGY = 1 << 14,
	MO_CALL_ERROR_OFFSET = 1 << 15,
};

/* Booleans of a message, in mo_call.flags. */
enum {
	MO_FLAG_PRECIOUS = 1 << 0,	/* data_supply's precious */
	MO_FLAG_DIRTY = 1 << 1,		/* data_return's dirty */
	MO_FLAG_KERNEL_COPY = 1 << 2,	/* data_return's kernel_copy */
	MO_FLAG_MAY_CACHE = 1 << 3,	/* ready's, change_attributes' may_cache */
};

/* The page size mo_call's page range is counted in. */
#define MO_CALL_PAGE 4096

/*
 * What the consumers of a memory-object message want of it, filled once
 * by mo_decode() from the schema: each argument's .defs name says which
 * field it fills (decode/callfields.in). A field the message does not
 * carry is 0 and its MO_CALL_* bit in HAS is clear. Arguments that do not
 * fit the schema fill nothing.
 */
struct mo_call {
	uint32_t has;		/* MO_CALL_* */
	uint32_t object;	/* the memory object port (its destination) */
	uint32_t control;	/* the memory control port: an argument, or the destination */
	uint64_t offset;
	uint64_t length;	/* length or size; else the bytes of data */
	uint32_t access;	/* desired_access (data_request, data_unlock) */
	uint32_t lock;		/* lock_value (data_supply, lock_request) */
	uint32_t should_return;	/* lock_request's MEMORY_OBJECT_RETURN_* */
	uint8_t should_flush;
	uint32_t flags;		/* MO_FLAG_* */
	uint32_t reply;		/* reply_to; else a routine's reply port */
	int32_t error;		/* error_value, result, reason or RetCode (kern_return_t) */
	int data;		/* the item of the data, or -1 */
	uint64_t data_addr;	/* its out-of-line address */
	uint64_t data_bytes;
	uint64_t page_size;	/* memory_object_page_size (init), new_page_size */
	/* Pages [first_page, first_page + npages) of MO_CALL_PAGE bytes
	 * that offset and length cover (mo_call_pages() for another size). */
	uint64_t first_page;
	uint64_t npages;
	uint32_t name;		/* memory_object_name (init, terminate) */
	uint32_t copy_strategy;	/* MEMORY_OBJECT_COPY_* (ready, change_attributes) */
	uint64_t error_offset;	/* supply_completed's: where the supply stopped */
};

/* The pages of PAGE_SIZE bytes (a power of two) that C's range covers. */
void mo_call_pages(const struct mo_call *c, uint64_t page_size,
		   uint64_t *first, uint64_t *count);

/* A whole message, decoded against the schema of its id. */
struct mo_decoded {
	enum mo_abi abi;
	size_t len;		/* bytes present */
	int have_header;
	struct mo_header h;
	int sent_view;		/* header as the sender wrote it: dest in remote */
	uint32_t dest;		/* the port the message goes to; 0 when the
				   kernel gave its protected payload instead */
	int dest_payload;	/* the destination is H.payload, no port name */
	uint32_t reply;		/* the reply port, or 0 */
	const struct mo_msg_schema *schema;	/* NULL: unknown id */
	unsigned nitems;
	struct mo_item items[MO_MAX_ITEMS];
	int bad_item;		/* index of the item that does not fit, or -1 */
	uint64_t misfit;	/* bit I: item I does not fit the schema */
	int status;		/* enum mo_status */
	char err[160];
	struct mo_call call;
};

const struct mo_msg_schema *mo_schema_find(enum mo_abi abi, int32_t id);

/*
 * The item of the argument that fills field F (enum mo_field), or -1 when
 * the message has none that fits: for what the fields do not carry, as
 * the type a port arrived as, or the place to rewrite it.
 */
int mo_call_item(const struct mo_decoded *d, unsigned f);

/*
 * Fills D->call again from BUF, a copy of the decoded message whose port
 * names (and D->dest, D->reply) were rewritten in place, as a proxy does.
 */
void mo_call_fill(struct mo_decoded *d, const uint8_t *buf);

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
