/*
 * decode/walk.c: the bounds-checked walk over a typed message.
 *
 * Layout facts: mach_msg_type_t is a 32-bit word with msgt_name in bits
 * 0-7, msgt_size 8-15, msgt_number 16-27, msgt_inline 28, msgt_longform 29,
 * msgt_deallocate 30, msgt_unused 31; mach_msg_type_long_t adds
 * msgtl_name (16 bits), msgtl_size (16 bits) and msgtl_number (32 bits)
 * (GNU Mach include/mach/message.h). Inline data is padded to 4 bytes: MIG
 * packs messages at 4 (#pragma pack(4) in its output) and GNU Mach's user32
 * layout is 4-byte aligned (GNUMACH.md).
 *
 * The x86_64_2023 profile is the 64-bit user ABI GNU Mach has had since
 * 2023 (include/mach/message.h as of commit 970604df3b99 of
 * git.savannah.gnu.org/git/hurd/gnumach.git, mirrored at
 * github.com/GitMirroring/hurd-gnumach; the layout settled in 25ece371,
 * 69620634 and 4541faab, 2023): under __LP64__ mach_msg_type_t is 8 bytes,
 * msgt_name in bits 0-7, msgt_size 8-23, msgt_unused 24-28, msgt_inline
 * 29, msgt_longform 30, msgt_deallocate 31, then a 32-bit msgt_number;
 * mach_msg_type_long_t is the same 8 bytes. MACH_MSG_USER_ALIGNMENT is 8:
 * each descriptor starts 8-byte aligned, so the data after it is padded to
 * 8 (ipc_kmsg_copyin_body aligns after every item; a 64-bit task's message
 * is copied in as is, ipc/copy_user.c). An inline port right is a
 * mach_port_name_inlined_t, an 8-byte slot with the name in its low word
 * and msgt_size 64 (PORT_T_SIZE_IN_BITS); out-of-line port names stay 32
 * bits (PORT_NAME_T_SIZE_IN_BITS). The header is 32 bytes, its two port
 * fields 8-byte slots (a union with rpc_uintptr_t).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"

static const struct mo_abi_info abis[MO_ABI_COUNT] = {
	[MO_ABI_X86_64] = { "x86_64", 32, 16, 8, 32, 32, 4, 4,
			    mo_schema_x86_64, &mo_schema_x86_64_count },
	[MO_ABI_USER32] = { "user32", 24, 12, 8, 64, 64, 4, 4,
			    mo_schema_user32, &mo_schema_user32_count },
	[MO_ABI_I386] = { "i386", 24, 12, 4, 32, 32, 4, 4,
			  mo_schema_i386, &mo_schema_i386_count },
	[MO_ABI_X86_64_2023] = { "x86_64-2023", 32, 16, 8, 64, 32, 8, 8,
				 mo_schema_x86_64_2023,
				 &mo_schema_x86_64_2023_count },
};

const struct mo_abi_info *mo_abi_info(enum mo_abi abi)
{
	return &abis[abi];
}

int mo_abi_from_name(const char *name)
{
	for (int i = 0; i < MO_ABI_COUNT; i++)
		if (!strcmp(abis[i].name, name))
			return i;
	return -1;
}

const char *mo_abi_names(void)
{
	return "x86_64, user32, i386 or x86_64-2023";
}

/* The bounds-checked accessors: callers check the range first. */
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int fail(struct mo_walker *w, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct mo_walker *w, int status, const char *fmt, ...)
{
	va_list ap;

	w->status = status;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Is there room for N bytes at the walker's position? */
static inline int room(const struct mo_walker *w, uint64_t n)
{
	return w->pos <= w->end && n <= w->end - w->pos;
}

/* Reports that the bytes end before NEED more bytes that WHAT needs. */
static int truncated(struct mo_walker *w, const char *what)
{
	/* Past msgh_size it is malformed; past the bytes present, truncated. */
	if (w->end == w->msgh_size)
		return fail(w, MO_MALFORMED,
			    "message ends at byte %zu (msgh_size): expected %s",
			    w->end, what);
	return fail(w, MO_TRUNCATED, "truncated at byte %zu: expected %s",
		    w->end, what);
}

int mo_walk_init(struct mo_walker *w, const uint8_t *buf, size_t len,
		 enum mo_abi abi, struct mo_header *h)
{
	const struct mo_abi_info *a = &abis[abi];
	char what[40];

	w->buf = buf;
	w->abi = a;
	w->pos = 0;
	w->status = MO_OK;
	w->err[0] = '\0';
	w->end = len;
	w->msgh_size = (uint32_t)-1;
	memset(h, 0, sizeof(*h));
	if (len < a->header_size) {
		snprintf(what, sizeof(what), "%u-byte header", a->header_size);
		return truncated(w, what);
	}
	h->bits = get32(buf);
	h->size = get32(buf + 4);
	h->remote = get32(buf + 8);
	h->local = get32(buf + a->local_off);
	h->seqno = get32(buf + a->header_size - 8);
	h->id = (int32_t)get32(buf + a->header_size - 4);
	/*
	 * A port with a protected payload (the Hurd's libports sets one on
	 * each of its ports) is delivered with the payload in place of its
	 * name: MACH_MSG_TYPE_PROTECTED_PAYLOAD in the local bits and the
	 * whole msgh_local_port union, an rpc_uintptr_t, holding it (GNU
	 * Mach include/mach/message.h; ipc/ipc_kmsg.c,
	 * ipc_kmsg_copyout_header).
	 */
	if (((h->bits >> 8) & 0xff) == MO_TYPE_PROTECTED_PAYLOAD)
		h->payload = a->header_size == 32
			     ? (uint64_t)h->local |
			       (uint64_t)get32(buf + a->local_off + 4) << 32
			     : h->local;
	w->msgh_size = h->size;
	w->pos = a->header_size;
	if (h->size < a->header_size)
		return fail(w, MO_MALFORMED,
			    "msgh_size %u is smaller than the %u-byte header",
			    h->size, a->header_size);
	/*
	 * GNU Mach takes only whole units of MACH_MSG_USER_ALIGNMENT: 8 bytes
	 * for a 64-bit task since 2023, else 4 (ipc/ipc_kmsg.c, ipc_kmsg_get:
	 * MACH_SEND_MSG_TOO_SMALL).
	 */
	if (h->size & (a->align - 1u))
		return fail(w, MO_MALFORMED,
			    "msgh_size %u is not a multiple of %u", h->size,
			    a->align);
	if (h->size < len)
		w->end = h->size;
	return 0;
}

int mo_walk_next(struct mo_walker *w, struct mo_item *it)
{
	unsigned port_bits;
	uint32_t t;
	uint64_t bytes;
	char what[64];

	if (w->pos == w->end) {
		if (w->end < w->msgh_size)
			return fail(w, MO_TRUNCATED,
				    "truncated at byte %zu: msgh_size is %u",
				    w->end, w->msgh_size);
		return 0;
	}
	memset(it, 0, sizeof(*it));
	it->desc_off = (uint32_t)w->pos;
	if (w->abi->desc_bytes == 8) {
		if (!room(w, 8))
			return truncated(w, "8-byte type descriptor");
		t = get32(w->buf + w->pos);
		it->name = t & 0xff;
		it->size = (t >> 8) & 0xffff;
		it->is_inline = (t >> 29) & 1;
		it->longform = (t >> 30) & 1;
		it->dealloc = (t >> 31) & 1;
		it->number = get32(w->buf + w->pos + 4);
		if ((t >> 24) & 0x1f)
			return fail(w, MO_MALFORMED,
				    "type descriptor at byte %zu has msgt_unused set",
				    w->pos);
		w->pos += 8;
	} else if (!room(w, 4)) {
		return truncated(w, "4-byte type descriptor");
	} else if ((t = get32(w->buf + w->pos)) >> 31) {
		return fail(w, MO_MALFORMED,
			    "type descriptor at byte %zu has msgt_unused set",
			    w->pos);
	} else if ((t >> 29) & 1) {
		it->is_inline = (t >> 28) & 1;
		it->longform = 1;
		it->dealloc = (t >> 30) & 1;
		if (!room(w, 12))
			return truncated(w, "12-byte long type descriptor");
		it->name = get16(w->buf + w->pos + 4);
		it->size = get16(w->buf + w->pos + 6);
		it->number = get32(w->buf + w->pos + 8);
		w->pos += 12;
	} else {
		it->name = t & 0xff;
		it->size = (t >> 8) & 0xff;
		it->number = (t >> 16) & 0xfff;
		it->is_inline = (t >> 28) & 1;
		it->dealloc = (t >> 30) & 1;
		w->pos += 4;
	}
	it->data_off = (uint32_t)w->pos;

	/* Only out-of-line memory can be given away (GNU Mach
	 * ipc/ipc_kmsg.c, ipc_kmsg_copyin_body: MACH_SEND_INVALID_TYPE). */
	if (it->is_inline && it->dealloc)
		return fail(w, MO_MALFORMED,
			    "type descriptor at byte %u is inline with msgt_deallocate set",
			    it->desc_off);
	port_bits = it->is_inline ? w->abi->port_bits : w->abi->ool_port_bits;
	if (mo_type_is_port(it->name) && it->size != port_bits)
		return fail(w, MO_MALFORMED,
			    "port right at byte %u has msgt_size %u, the %s profile uses %u",
			    it->desc_off, it->size, w->abi->name, port_bits);
	if (!it->is_inline) {
		if (!room(w, w->abi->ool_slot)) {
			snprintf(what, sizeof(what),
				 "%u-byte out-of-line pointer", w->abi->ool_slot);
			return truncated(w, what);
		}
		it->data_len = w->abi->ool_slot;
	} else {
		bytes = ((uint64_t)it->number * it->size + 7) / 8;
		bytes = (bytes + w->abi->align - 1) & ~(uint64_t)(w->abi->align - 1);
		if (!room(w, bytes)) {
			if (mo_type_is_port(it->name) && it->number == 1)
				snprintf(what, sizeof(what), "%u-byte port slot",
					 it->size / 8);
			else
				snprintf(what, sizeof(what),
					 "%llu bytes of inline data (%u x %u bits)",
					 (unsigned long long)bytes, it->number,
					 it->size);
			return truncated(w, what);
		}
		it->data_len = (uint32_t)bytes;
	}
	w->pos += it->data_len;
	return 1;
}

unsigned mo_type_received(unsigned name)
{
	/*
	 * The kernel rewrites dispositions on the way (GNU Mach
	 * ipc/ipc_object.c, ipc_object_copyin_type): MAKE_SEND, COPY_SEND and
	 * MOVE_SEND arrive as PORT_SEND, MAKE_SEND_ONCE and MOVE_SEND_ONCE as
	 * PORT_SEND_ONCE, MOVE_RECEIVE as PORT_RECEIVE.
	 */
	switch (name) {
	case 19: case 20:
		return 17;
	case 21:
		return 18;
	default:
		return name;
	}
}

uint64_t mo_item_bytes(const struct mo_item *it)
{
	return ((uint64_t)it->number * it->size + 7) / 8;
}

uint64_t mo_item_elem(const uint8_t *buf, const struct mo_item *it, uint32_t i)
{
	const uint8_t *p;

	switch (it->size) {
	case 8:
		return buf[it->data_off + i];
	case 16:
		return get16(buf + it->data_off + 2 * i);
	case 32:
		return get32(buf + it->data_off + 4 * i);
	case 64:
		p = buf + it->data_off + 8 * (uint64_t)i;
		/* A user32 port slot holds the name in its low word. */
		return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
	default:
		return 0;
	}
}

uint64_t mo_item_ool_addr(const uint8_t *buf, const struct mo_item *it,
			  enum mo_abi abi)
{
	const uint8_t *p = buf + it->data_off;

	if (abis[abi].ool_slot == 4)
		return get32(p);
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}
