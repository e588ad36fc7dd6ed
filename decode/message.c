/*
 * decode/message.c: a whole message, matched against the schema of its id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mach/message.h>

#include "decode/decode.h"
#include "decode/xlat.h"

const struct mo_msg_schema *mo_schema_find(enum mo_abi abi, int32_t id)
{
	const struct mo_abi_info *a = mo_abi_info(abi);
	unsigned lo = 0, hi = *a->schema_count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int32_t mid_id = a->schema[mid].id;

		if (mid_id == id)
			return &a->schema[mid];
		if (mid_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Which header field names the destination. A sender writes the
 * destination's disposition in the remote bits (COPY_SEND, MAKE_SEND...);
 * the kernel delivers the message with the destination in msgh_local_port
 * and its PORT_* type in the local bits, the reply in msgh_remote_port
 * (GNU Mach ipc/ipc_kmsg.c, ipc_kmsg_copyout_header).
 */
static int is_sent_view(uint32_t bits)
{
	unsigned rb = bits & 0xff, lb = (bits >> 8) & 0xff;

	if (rb >= 19 && rb <= 21)
		return 1;
	if (lb >= 19 && lb <= 21)
		return 1;
	if (rb && !lb)
		return 1;
	return 0;
}

static void set_err(struct mo_decoded *d, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(struct mo_decoded *d, int status, const char *fmt, ...)
{
	va_list ap;

	if (d->status != MO_OK)
		return;
	d->status = status;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

static const char *type_name(unsigned t, char *tmp, size_t n)
{
	const char *s = mo_xlat_find(mo_xlat_msg_type, t);

	if (s)
		return s;
	if (t == MO_POLY)
		return "a port right";
	snprintf(tmp, n, "type %u", t);
	return tmp;
}

/* Does item IT carry what schema argument A says? */
static int item_fits(const struct mo_item *it, const struct mo_arg_schema *a,
		     struct mo_decoded *d)
{
	unsigned want = mo_type_received(a->msgt_name);
	unsigned got = mo_type_received(it->name);
	char t1[24], t2[24];

	if (a->msgt_name == MO_POLY ? !mo_type_is_port(it->name) &&
				      it->name != 0 && it->name != 15
				    : want != got) {
		set_err(d, MO_MALFORMED,
			"argument %s: expected %s, got %s", a->name,
			type_name(a->msgt_name, t1, sizeof(t1)),
			type_name(it->name, t2, sizeof(t2)));
		return 0;
	}
	if (it->size != a->size) {
		set_err(d, MO_MALFORMED,
			"argument %s: expected %u-bit elements, got %u", a->name,
			a->size, it->size);
		return 0;
	}
	if (it->is_inline != a->is_inline) {
		set_err(d, MO_MALFORMED, "argument %s: expected %s data",
			a->name, a->is_inline ? "inline" : "out-of-line");
		return 0;
	}
	if (a->variable ? a->is_inline && it->number > a->number
			: it->number != a->number) {
		set_err(d, MO_MALFORMED,
			"argument %s: %u elements, expected %s%u", a->name,
			it->number, a->variable ? "at most " : "", a->number);
		return 0;
	}
	return 1;
}

/*
 * A routine that fails replies with the header and RetCode alone
 * (mig_reply_header_t; MIG's user stubs accept that size when RetCode is
 * not KERN_SUCCESS).
 */
static int short_error_reply(const uint8_t *buf, const struct mo_decoded *d)
{
	return d->schema->kind == MO_KIND_REPLY && d->nitems == 1 &&
	       d->bad_item < 0 && mo_item_elem(buf, &d->items[0], 0) != 0;
}

/*
 * A message whose items all fit the schema must also have the size MIG
 * gives its layout: this holds our profile tables (header, port slot,
 * out-of-line pointer) to what MIG generated.
 */
static void check_size(struct mo_decoded *d)
{
	const struct mo_msg_schema *s = d->schema;
	uint32_t want;

	const struct mo_abi_info *a = mo_abi_info(d->abi);

	if (!s->body)
		return;
	want = a->header_size + s->body;
	for (uint32_t i = 0; i < s->nargs; i++) {
		if (s->args[i].variable && s->args[i].is_inline)
			return;
		/*
		 * x86_64-gnu-mig sizes an out-of-line pointer as its host's 8
		 * bytes whatever the .defs select, which is why its i386
		 * stubs fail their own size assertions here (PROTOCOL.md);
		 * 32-bit GNU Mach uses 4.
		 */
		if (!s->args[i].is_inline)
			want -= 8 - a->ool_slot;
	}
	if (d->h.size != want)
		set_err(d, MO_MALFORMED,
			"msgh_size %u, but MIG lays %s out in %u bytes", d->h.size,
			s->name, want);
}

/* Sets the field F of C to V (a port name is the low word of V). */
static void set_field(struct mo_call *c, unsigned f, uint64_t v)
{
	switch (f) {
	case MO_FIELD_OBJECT:
		c->object = (uint32_t)v;
		c->has |= MO_CALL_OBJECT;
		break;
	case MO_FIELD_CONTROL:
		c->control = (uint32_t)v;
		c->has |= MO_CALL_CONTROL;
		break;
	case MO_FIELD_OFFSET:
		c->offset = v;
		c->has |= MO_CALL_OFFSET;
		break;
	case MO_FIELD_LENGTH:
		c->length = v;
		c->has |= MO_CALL_LENGTH;
		break;
	case MO_FIELD_ACCESS:
		c->access = (uint32_t)v;
		c->has |= MO_CALL_ACCESS;
		break;
	case MO_FIELD_LOCK:
		c->lock = (uint32_t)v;
		c->has |= MO_CALL_LOCK;
		break;
	case MO_FIELD_RETURN:
		c->should_return = (uint32_t)v;
		c->has |= MO_CALL_RETURN;
		break;
	case MO_FIELD_FLUSH:
		c->should_flush = v != 0;
		c->has |= MO_CALL_FLUSH;
		break;
	case MO_FIELD_REPLY:
		c->reply = (uint32_t)v;
		c->has |= MO_CALL_REPLY;
		break;
	case MO_FIELD_ERROR:
		c->error = (int32_t)v;
		c->has |= MO_CALL_ERROR;
		break;
	case MO_FIELD_PAGE_SIZE:
		c->page_size = v;
		c->has |= MO_CALL_PAGE_SIZE;
		break;
	case MO_FIELD_NAME:
		c->name = (uint32_t)v;
		c->has |= MO_CALL_NAME;
		break;
	case MO_FIELD_COPY_STRATEGY:
		c->copy_strategy = (uint32_t)v;
		c->has |= MO_CALL_COPY_STRATEGY;
		break;
	case MO_FIELD_ERROR_OFFSET:
		c->error_offset = v;
		c->has |= MO_CALL_ERROR_OFFSET;
		break;
	case MO_FIELD_PRECIOUS:
	case MO_FIELD_DIRTY:
	case MO_FIELD_KERNEL_COPY:
	case MO_FIELD_MAY_CACHE:
		if (v)
			c->flags |= f == MO_FIELD_PRECIOUS ? MO_FLAG_PRECIOUS :
				    f == MO_FIELD_DIRTY ? MO_FLAG_DIRTY :
				    f == MO_FIELD_MAY_CACHE ? MO_FLAG_MAY_CACHE :
							  MO_FLAG_KERNEL_COPY;
		c->has |= MO_CALL_FLAGS;
		break;
	}
}

int mo_call_item(const struct mo_decoded *d, unsigned f)
{
	const struct mo_msg_schema *s = d->schema;

	if (!s)
		return -1;
	for (unsigned i = 0; i < d->nitems && i < s->nargs; i++)
		if (s->args[i].field == f && !(d->misfit >> i & 1))
			return (int)i;
	return -1;
}

void mo_call_pages(const struct mo_call *c, uint64_t page_size,
		   uint64_t *first, uint64_t *count)
{
	uint64_t end = c->offset + c->length;

	*first = *count = 0;
	if (!(c->has & MO_CALL_OFFSET))
		return;
	*first = c->offset / page_size;
	if (!c->length)
		return;
	if (end < c->offset)
		end = UINT64_MAX;
	*count = end / page_size - *first + (end % page_size != 0);
}

/*
 * Fills D->call from the arguments that fit the schema, each into the
 * field its .defs name gives it (decode/callfields.in); arrays
 * (create_proxy's offsets) are no field's.
 */
static void fill_call(struct mo_decoded *d, const uint8_t *buf)
{
	const struct mo_msg_schema *s = d->schema;
	struct mo_call *c = &d->call;

	if (!s)
		return;
	/* A payload is no port name: the call has no destination port. */
	if (!d->dest_payload)
		set_field(c, s->dest_field, d->dest);
	for (unsigned i = 0; i < d->nitems && i < s->nargs; i++) {
		const struct mo_arg_schema *a = &s->args[i];
		const struct mo_item *it = &d->items[i];

		if (a->field == MO_FIELD_NONE || d->misfit >> i & 1)
			continue;
		if (a->field == MO_FIELD_DATA) {
			c->data = (int)i;
			c->data_bytes = mo_item_bytes(it);
			if (!it->is_inline)
				c->data_addr = mo_item_ool_addr(buf, it, d->abi);
			c->has |= MO_CALL_DATA;
		} else if (it->is_inline && it->number == 1 && !a->variable) {
			set_field(c, a->field, mo_item_elem(buf, it, 0));
		}
	}
	/* A routine's answer goes to the header's reply port. */
	if (!(c->has & MO_CALL_REPLY) && s->reply_type &&
	    s->kind == MO_KIND_ROUTINE)
		set_field(c, MO_FIELD_REPLY, d->reply);
	if (!(c->has & MO_CALL_LENGTH) && (c->has & MO_CALL_DATA))
		set_field(c, MO_FIELD_LENGTH, c->data_bytes);
	mo_call_pages(c, MO_CALL_PAGE, &c->first_page, &c->npages);
}

void mo_call_fill(struct mo_decoded *d, const uint8_t *buf)
{
	memset(&d->call, 0, sizeof(d->call));
	d->call.data = -1;
	fill_call(d, buf);
}

int mo_decode(const uint8_t *buf, size_t len, enum mo_abi abi,
	      struct mo_decoded *d)
{
	struct mo_walker w;
	const struct mo_msg_schema *s;
	int has_rights = 0, r;

	d->abi = abi;
	d->len = len;
	d->nitems = 0;
	d->bad_item = -1;
	d->misfit = 0;
	d->status = MO_OK;
	d->err[0] = '\0';
	d->schema = NULL;
	d->dest = d->reply = 0;
	d->dest_payload = 0;
	d->have_header = 0;
	d->sent_view = 0;

	memset(&d->call, 0, sizeof(d->call));
	d->call.data = -1;
	if (mo_walk_init(&w, buf, len, abi, &d->h) < 0) {
		d->have_header = len >= mo_abi_info(abi)->header_size;
		set_err(d, w.status, "%s", w.err);
		if (!d->have_header)
			return -1;
	} else {
		d->have_header = 1;
	}
	d->sent_view = is_sent_view(d->h.bits);
	d->dest = d->sent_view ? d->h.remote : d->h.local;
	d->reply = d->sent_view ? d->h.local : d->h.remote;
	d->dest_payload = !d->sent_view &&
			  ((d->h.bits >> 8) & 0xff) == MO_TYPE_PROTECTED_PAYLOAD;
	if (d->dest_payload)
		d->dest = 0;
	d->schema = s = mo_schema_find(abi, d->h.id);
	if (d->status != MO_OK) {
		fill_call(d, buf);
		return -1;
	}

	while ((r = mo_walk_next(&w, &d->items[d->nitems])) == 1) {
		struct mo_item *it = &d->items[d->nitems];

		if (mo_type_is_port(it->name) || !it->is_inline)
			has_rights = 1;
		if (s && d->nitems < s->nargs &&
		    !item_fits(it, &s->args[d->nitems], d)) {
			d->misfit |= (uint64_t)1 << d->nitems;
			if (d->bad_item < 0)
				d->bad_item = (int)d->nitems;
		}
		if (s && d->nitems >= s->nargs && d->status == MO_OK)
			set_err(d, MO_MALFORMED,
				"unexpected typed item at byte %u after the last argument",
				it->desc_off);
		if (++d->nitems == MO_MAX_ITEMS) {
			if (w.pos < w.end)
				set_err(d, MO_MALFORMED,
					"more than %d typed items", MO_MAX_ITEMS);
			break;
		}
	}
	if (r < 0) {
		/* The walker's own error names the exact place; it wins. */
		d->status = MO_OK;
		set_err(d, w.status, "%s", w.err);
		fill_call(d, buf);
		return -1;
	}
	if (s && d->nitems < s->nargs && !short_error_reply(buf, d))
		set_err(d, MO_MALFORMED, "argument %s is missing",
			s->args[d->nitems].name);
	if (s && d->nitems == s->nargs && d->status == MO_OK)
		check_size(d);
	if (has_rights && !(d->h.bits & MACH_MSGH_BITS_COMPLEX))
		set_err(d, MO_MALFORMED,
			"port rights or out-of-line data without MACH_MSGH_BITS_COMPLEX");
	fill_call(d, buf);
	return d->status == MO_OK ? 0 : -1;
}

size_t mo_stream_next(const uint8_t *p, size_t left, enum mo_abi abi,
		      int *stop)
{
	size_t hsize = mo_abi_info(abi)->header_size;
	uint32_t size;

	*stop = 0;
	if (left < hsize) {
		*stop = 1;
		return left;
	}
	size = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
	       (uint32_t)p[7] << 24;
	if (size < hsize || (size & 3) || size > left) {
		*stop = size < hsize || (size & 3);
		return left;
	}
	return size;
}

int mo_arg_index(const struct mo_decoded *d, const char *name)
{
	if (!d->schema)
		return -1;
	for (unsigned i = 0; i < d->nitems && i < d->schema->nargs; i++)
		if ((int)i != d->bad_item && !strcmp(d->schema->args[i].name, name))
			return (int)i;
	return -1;
}

uint64_t mo_arg_u64(const struct mo_decoded *d, const uint8_t *buf,
		    const char *name, uint64_t def)
{
	int i = mo_arg_index(d, name);
	const struct mo_item *it;

	if (i < 0)
		return def;
	it = &d->items[i];
	if (!it->is_inline)
		return mo_item_ool_addr(buf, it, d->abi);
	if (!it->number)
		return def;
	return mo_item_elem(buf, it, 0);
}
