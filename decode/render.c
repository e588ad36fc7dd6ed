/*
 * decode/render.c: text (strace-like) and JSON forms of a decoded message.
 *
 * One walk serves both forms (render()): it opens the message, visits each
 * typed item and closes it; a form (struct form) says how each step is
 * written. The schema, when the id is known and the item fits it, gives the
 * argument's name and how to print its value; that value text is the same
 * in both forms (add_value), JSON carries it as the item's "text".
 *
 * JSON writes about ten times the bytes of text, and must not cost much
 * more: what does not change from one message to the next (an argument's
 * name, C type and descriptor shape; a routine's names) comes prepared
 * from the generated tables, and the rest is written through a cursor.
 */
#include <string.h>

#include <mach/message.h>

#include "decode/render.h"
#include "decode/xlat.h"

#define MAX_ELEMS 16		/* array elements shown before "..." */
#define MAX_CHARS 64		/* characters of inline text shown */

/*
 * Output. A run of pieces is written through a cursor into room reserved
 * for all of it (room(), then the fmt_* and CPY writers, then done()): one
 * bounds test for the run, and literals copied with a length known at
 * compile time. put() and friends do the same for a single piece.
 */

/* Room for N more bytes and the NUL; returns where they go. */
static inline char *room(struct strbuf *sb, size_t n)
{
	if (sb->len + n >= sb->alloc)
		strbuf_grow(sb, n);
	return sb->buf + sb->len;
}

/* The cursor P ends what was written into the room. */
static inline void done(struct strbuf *sb, char *p)
{
	*p = '\0';
	sb->len = (size_t)(p - sb->buf);
}

static inline char *cpy(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/*
 * N bytes of S, a generated name or template that is NUL-padded to a
 * multiple of 16 bytes (gen-schema.awk, gen-xlat.awk), in 16-byte pieces:
 * the caller's room has 16 bytes to spare. A call to memcpy for each of
 * the few dozen such pieces of a JSON message would cost more.
 */
static inline char *cpy16(char *p, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k += 16)
		memcpy(p + k, s + k, 16);
	return p + n;
}

/* A string literal at the cursor. */
#define CPY(p, lit) ((p) = cpy((p), "" lit, sizeof(lit) - 1))

static const char pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* V < 10000 in as few digits as it takes. */
static inline char *fmt_small(char *p, uint32_t v)
{
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 100) {
		memcpy(p, pairs + 2 * v, 2);
		return p + 2;
	}
	if (v < 1000) {
		*p = (char)('0' + v / 100);
		memcpy(p + 1, pairs + 2 * (v % 100), 2);
		return p + 3;
	}
	memcpy(p, pairs + 2 * (v / 100), 2);
	memcpy(p + 2, pairs + 2 * (v % 100), 2);
	return p + 4;
}

/* V < 10000 in four digits at P. */
static inline void fmt_4digits(char *p, uint32_t v)
{
	memcpy(p, pairs + 2 * (v / 100), 2);
	memcpy(p + 2, pairs + 2 * (v % 100), 2);
}

/* V >= 100, in runs of four and eight digits. */
static char *fmt_u_long(char *p, uint64_t v)
{
	if (v >= 100000000) {
		uint32_t lo = (uint32_t)(v % 100000000);

		v /= 100000000;
		p = v >= 10000 ? fmt_u_long(p, v) : fmt_small(p, (uint32_t)v);
		fmt_4digits(p, lo / 10000);
		fmt_4digits(p + 4, lo % 10000);
		return p + 8;
	}
	if (v >= 10000) {
		p = fmt_small(p, (uint32_t)(v / 10000));
		fmt_4digits(p, (uint32_t)(v % 10000));
		return p + 4;
	}
	return fmt_small(p, (uint32_t)v);
}

/*
 * Decimal, at most 20 bytes. Most values (ports, sizes, counts, offsets in
 * the message) have one or two digits: those are written without a call.
 */
static inline char *fmt_u(char *p, uint64_t v)
{
	if (v < 100)
		return fmt_small(p, (uint32_t)v);
	return fmt_u_long(p, v);
}

/* Signed decimal, at most 21 bytes. */
static char *fmt_i(char *p, int64_t v)
{
	if (v >= 0)
		return fmt_u(p, (uint64_t)v);
	*p++ = '-';
	return fmt_u(p, (uint64_t)0 - (uint64_t)v);
}

/* 0x and hex digits, at most 18 bytes. */
static char *fmt_hex(char *p, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	unsigned n = 1;

	while (n < 16 && v >> (4 * n))
		n++;
	*p++ = '0';
	*p++ = 'x';
	for (unsigned k = n; k-- > 0; v >>= 4)
		p[k] = digits[v & 15];
	return p + n;
}

static inline char *fmt_bool(char *p, int v)
{
	if (v)
		return cpy(p, "true", 4);
	return cpy(p, "false", 5);
}

static inline void put(struct strbuf *sb, const char *s, size_t n)
{
	done(sb, cpy(room(sb, n), s, n));
}

/* A string literal: its length is known at compile time. */
#define PUT(sb, lit) put((sb), "" lit, sizeof(lit) - 1)

static inline void put_ch(struct strbuf *sb, char c)
{
	char *p = room(sb, 1);

	*p++ = c;
	done(sb, p);
}

static inline void put_str(struct strbuf *sb, const char *s)
{
	put(sb, s, strlen(s));
}

static void put_u(struct strbuf *sb, uint64_t v)
{
	done(sb, fmt_u(room(sb, 20), v));
}

static void put_i(struct strbuf *sb, int64_t v)
{
	done(sb, fmt_i(room(sb, 21), v));
}

static void put_hex(struct strbuf *sb, uint64_t v)
{
	done(sb, fmt_hex(room(sb, 18), v));
}

static uint64_t page_size(const struct mo_render_opts *o)
{
	return o && o->page_size ? o->page_size : 4096;
}

/* V's page number: a shift for the usual power-of-two page size. */
static uint64_t page_of(uint64_t v, const struct mo_render_opts *o)
{
	uint64_t ps = page_size(o);

	if (!(ps & (ps - 1)))
		return v >> __builtin_ctzll(ps);
	return v / ps;
}

/* The schema argument for item I, or NULL when it is unknown or bad. */
static const struct mo_arg_schema *arg_of(const struct mo_decoded *d,
					  unsigned i)
{
	if (!d->schema || i >= d->schema->nargs || (int)i == d->bad_item)
		return NULL;
	return &d->schema->args[i];
}

/* "INTEGER_32" for MACH_MSG_TYPE_INTEGER_32. */
static void add_type(struct strbuf *sb, unsigned t)
{
	const char *s = mo_xlat_find(mo_xlat_msg_type, t);

	if (s) {
		put_str(sb, s + strlen("MACH_MSG_TYPE_"));
	} else {
		PUT(sb, "type_");
		put_u(sb, t);
	}
}

/* Room fmt_scalar() takes at most. */
#define SCALAR_ROOM 80

/*
 * At P, the text of a scalar that is formatting alone: a port name, a
 * number, an offset with its page, a size or address, a boolean. NULL for
 * one shown by name from the tables, which add_scalar() writes.
 */
static char *fmt_scalar(char *p, const struct mo_item *it,
			const struct mo_arg_schema *a, uint64_t v,
			const struct mo_render_opts *o)
{
	if (mo_type_is_port(it->name))
		return fmt_u(p, v & 0xffffffffu);
	switch (a ? a->sem : MO_SEM_PLAIN) {
	case MO_SEM_OFFSET:
		p = fmt_hex(p, v);
		CPY(p, " [page ");
		p = fmt_u(p, page_of(v, o));
		if (v != page_of(v, o) * page_size(o))
			CPY(p, " +unaligned");
		*p++ = ']';
		return p;
	case MO_SEM_ADDRESS:
	case MO_SEM_SIZE:
		return fmt_hex(p, v);
	case MO_SEM_BOOL:
		if (v <= 1)
			return v ? cpy(p, "TRUE", 4) : cpy(p, "FALSE", 5);
		p = fmt_u(p, v);
		CPY(p, " /* boolean_t??? */");
		return p;
	case MO_SEM_VM_PROT:
	case MO_SEM_RETURN:
	case MO_SEM_COPY_STRATEGY:
	case MO_SEM_KERN_RETURN:
		return NULL;
	default:
		if (it->size == 32)
			return fmt_i(p, (int32_t)v);
		if (it->size == 16)
			return fmt_i(p, (int16_t)v);
		if (it->size <= 64)
			return fmt_u(p, v);
		return p;
	}
}

static void add_scalar(struct strbuf *sb, const struct mo_item *it,
		       const struct mo_arg_schema *a, uint64_t v,
		       const struct mo_render_opts *o)
{
	char *end = fmt_scalar(room(sb, SCALAR_ROOM), it, a, v, o);

	if (end) {
		done(sb, end);
		return;
	}
	switch (a->sem) {
	case MO_SEM_VM_PROT:
		mo_xlat_flags(sb, mo_xlat_vm_prot, (uint32_t)v, "VM_PROT_???");
		break;
	case MO_SEM_RETURN:
		mo_xlat_enum(sb, mo_xlat_mo_return, (uint32_t)v,
			     "MEMORY_OBJECT_RETURN_???");
		break;
	case MO_SEM_COPY_STRATEGY:
		mo_xlat_enum(sb, mo_xlat_copy_strategy, (uint32_t)v,
			     "MEMORY_OBJECT_COPY_???");
		break;
	default:
		mo_xlat_error(sb, (uint32_t)v);
		break;
	}
}

static int is_text(unsigned t)
{
	return t == MACH_MSG_TYPE_CHAR || t == MACH_MSG_TYPE_STRING;
}

/* Elements of a size the renderers show one by one. */
static int is_elem_size(unsigned size)
{
	return size == 8 || size == 16 || size == 32 || size == 64;
}

static void add_text(struct strbuf *sb, const uint8_t *p, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t i;

	put_ch(sb, '"');
	for (i = 0; i < n && i < MAX_CHARS; i++) {
		if (p[i] == 0 && i + 1 == n)
			break;
		if (p[i] == '"' || p[i] == '\\') {
			char e[2] = { '\\', (char)p[i] };

			put(sb, e, 2);
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			put_ch(sb, (char)p[i]);
		} else {
			char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };

			put(sb, e, 4);
		}
	}
	put_ch(sb, '"');
	if (i < n && !(i + 1 == n && p[i] == 0))
		PUT(sb, "...");
}

/* The sender chose a polymorphic right's type: say which it is. */
static void add_poly_type(struct strbuf *sb, const struct mo_item *it,
			  const struct mo_arg_schema *a)
{
	if (!a || a->msgt_name != MO_POLY)
		return;
	PUT(sb, " [");
	add_type(sb, it->name);
	put_ch(sb, ']');
}

/* An item's value as text: the same in both forms. */
static void add_value(struct strbuf *sb, const uint8_t *buf,
		      const struct mo_decoded *d, const struct mo_item *it,
		      const struct mo_arg_schema *a,
		      const struct mo_render_opts *o)
{
	uint32_t i;

	if (!it->is_inline) {
		if (o && o->hide_addresses)
			put_ch(sb, '*');
		else
			put_hex(sb, mo_item_ool_addr(buf, it, d->abi));
		PUT(sb, " [");
		put_u(sb, mo_item_bytes(it));
		PUT(sb, " bytes, out-of-line");
		if (it->dealloc)
			PUT(sb, ", dealloc");
		put_ch(sb, ']');
		return;
	}
	if (it->size == 8 && is_text(it->name)) {
		add_text(sb, buf + it->data_off, it->number);
		return;
	}
	if (!is_elem_size(it->size)) {
		put_ch(sb, '<');
		put_u(sb, mo_item_bytes(it));
		PUT(sb, " bytes>");
		return;
	}
	if (it->number == 1 && !(a && a->variable)) {
		add_scalar(sb, it, a, mo_item_elem(buf, it, 0), o);
		add_poly_type(sb, it, a);
		return;
	}
	put_ch(sb, '[');
	for (i = 0; i < it->number && i < MAX_ELEMS; i++) {
		if (i)
			PUT(sb, ", ");
		add_scalar(sb, it, a, mo_item_elem(buf, it, i), o);
	}
	if (i < it->number)
		PUT(sb, ", ...");
	put_ch(sb, ']');
	add_poly_type(sb, it, a);
}

void mo_render_name(struct strbuf *sb, const struct mo_decoded *d)
{
	if (d->schema) {
		put_str(sb, d->schema->name);
		if (d->schema->kind == MO_KIND_REPLY)
			PUT(sb, "_reply");
	} else if (d->have_header) {
		PUT(sb, "msg_");
		put_i(sb, d->h.id);
	} else {
		put_ch(sb, '?');
	}
}

/* What a form is handed at each step of the walk. */
struct walk {
	struct strbuf *sb;
	const uint8_t *buf;
	const struct mo_decoded *d;
	const struct mo_render_opts *o;
};

/*
 * A form: how the walk's steps are written. open() returns 0 when the
 * message ends there (no header to go on from).
 */
struct form {
	int (*open)(const struct walk *w);
	void (*item)(const struct walk *w, unsigned i);
	void (*close)(const struct walk *w);
};

static void render(const struct form *f, struct strbuf *sb,
		   const uint8_t *buf, const struct mo_decoded *d,
		   const struct mo_render_opts *o)
{
	const struct walk w = { sb, buf, d, o };

	if (!f->open(&w))
		return;
	for (unsigned i = 0; i < d->nitems; i++)
		f->item(&w, i);
	f->close(&w);
}

/* Text: name(dest=5, reply=3, arg=value, ...) [what is wrong] */

static void text_error(struct strbuf *sb, const struct mo_decoded *d)
{
	PUT(sb, " [");
	put_str(sb, d->err);
	put_ch(sb, ']');
}

static int text_open(const struct walk *w)
{
	struct strbuf *sb = w->sb;
	const struct mo_decoded *d = w->d;
	const struct mo_msg_schema *s = d->schema;

	mo_render_name(sb, d);
	if (!d->have_header) {
		text_error(sb, d);
		return 0;
	}
	put_ch(sb, '(');
	if (s) {
		put_str(sb, s->dest_alias ? s->dest_alias : s->dest);
		put_ch(sb, '=');
	} else {
		PUT(sb, "dest=");
	}
	if (d->dest_payload) {
		/* The receiver's own word for the port, not a name. */
		put_hex(sb, d->h.payload);
		PUT(sb, " [protected payload]");
	} else {
		put_u(sb, d->dest);
	}
	if (s ? s->reply_type != 0 : d->reply != 0) {
		PUT(sb, ", reply=");
		put_u(sb, d->reply);
	}
	return 1;
}

static void text_item(const struct walk *w, unsigned i)
{
	struct strbuf *sb = w->sb;
	const struct mo_item *it = &w->d->items[i];
	const struct mo_arg_schema *a = arg_of(w->d, i);

	PUT(sb, ", ");
	if (a) {
		put_str(sb, a->alias ? a->alias : a->name);
	} else {
		put_ch(sb, '#');
		put_u(sb, i);
		put_ch(sb, ':');
		add_type(sb, it->name);
		if (it->number != 1 || !it->is_inline) {
			put_ch(sb, '[');
			put_u(sb, it->number);
			put_ch(sb, ']');
		}
	}
	put_ch(sb, '=');
	add_value(sb, w->buf, w->d, it, a, w->o);
}

static void text_close(const struct walk *w)
{
	put_ch(w->sb, ')');
	if (!w->d->schema)
		PUT(w->sb, " /* unknown message */");
	if (w->d->status != MO_OK)
		text_error(w->sb, w->d);
}

static const struct form text_form = { text_open, text_item, text_close };

void mo_render_text(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o)
{
	render(&text_form, sb, buf, d, o);
}

/* JSON: one object, the header's fields and "args", one object per item. */

/* Room a JSON type takes: the longest MACH_MSG_TYPE_* name, quoted. */
#define TYPE_ROOM 48

/* A message type by name, or its number when it has none. */
static char *fmt_type(char *p, unsigned t)
{
	const struct mo_xlat *x = t < 256 ? mo_xlat_msg_type_index[t] : NULL;
	size_t n;

	if (!x)
		return fmt_u(p, t);
	n = x->len < TYPE_ROOM - 2 ? x->len : TYPE_ROOM - 2;
	*p++ = '"';
	p = cpy16(p, x->name, n);
	*p++ = '"';
	return p;
}

/* {"name":N,"type":T}: at most 40 + TYPE_ROOM bytes. */
static char *fmt_port(char *p, uint32_t name, unsigned type)
{
	CPY(p, "{\"name\":");
	p = fmt_u(p, name);
	CPY(p, ",\"type\":");
	if (type)
		p = fmt_type(p, type);
	else
		CPY(p, "null");
	*p++ = '}';
	return p;
}

/*
 * The value text as a JSON string, then the end of the item's object,
 * written in place after the opening quote: only inline text (add_text)
 * can show a quote or a backslash; such a value is escaped afterwards.
 */
static void json_text_end(const struct walk *w, const struct mo_item *it,
			  const struct mo_arg_schema *a)
{
	struct strbuf *sb = w->sb;
	size_t start = sb->len;
	char *p;

	add_value(sb, w->buf, w->d, it, a, w->o);
	if (it->is_inline && it->size == 8 && is_text(it->name) &&
	    strpbrk(sb->buf + start, "\\\"")) {
		struct strbuf raw = STRBUF_INIT;

		strbuf_add(&raw, sb->buf + start, sb->len - start);
		sb->len = start - 1;
		strbuf_addjson(sb, raw.buf);
		strbuf_release(&raw);
		put_ch(sb, '}');
		return;
	}
	p = room(sb, 2);
	*p++ = '"';
	*p++ = '}';
	done(sb, p);
}

static int json_open(const struct walk *w)
{
	static const char *const status[] = { "\"ok\"", "\"truncated\"",
					      "\"malformed\"" };
	struct strbuf *sb = w->sb;
	const struct mo_decoded *d = w->d;
	const struct mo_msg_schema *s = d->schema;
	const char *abi = mo_abi_info(d->abi)->name;
	size_t abi_len = strlen(abi);
	char *p = room(sb, abi_len + 96);

	CPY(p, "{\"abi\":\"");
	p = cpy(p, abi, abi_len);
	CPY(p, "\",\"bytes\":");
	p = fmt_u(p, d->len);
	CPY(p, ",\"status\":");
	p = cpy(p, status[d->status], strlen(status[d->status]));
	if (d->status != MO_OK) {
		CPY(p, ",\"error\":");
		done(sb, p);
		strbuf_addjson(sb, d->err);
		p = room(sb, 2);
	}
	if (!d->have_header) {
		*p++ = '}';
		done(sb, p);
		return 0;
	}
	done(sb, p);
	p = room(sb, (s ? s->json_len : 0) + 2 * (40 + TYPE_ROOM) + 480);
	CPY(p, ",\"id\":");
	p = fmt_i(p, d->h.id);
	if (s) {
		*p++ = ',';
		p = cpy16(p, s->json, s->json_len);
	} else {
		CPY(p, ",\"name\":null,\"known\":false,\"msgh_bits\":");
	}
	p = fmt_u(p, d->h.bits);
	CPY(p, ",\"complex\":");
	p = fmt_bool(p, d->h.bits & MACH_MSGH_BITS_COMPLEX);
	CPY(p, ",\"msgh_size\":");
	p = fmt_u(p, d->h.size);
	CPY(p, ",\"remote\":");
	p = fmt_port(p, d->h.remote, MACH_MSGH_BITS_REMOTE(d->h.bits));
	CPY(p, ",\"local\":");
	if (MACH_MSGH_BITS_LOCAL(d->h.bits) == MO_TYPE_PROTECTED_PAYLOAD) {
		CPY(p, "{\"payload\":");
		p = fmt_u(p, d->h.payload);
		CPY(p, ",\"type\":");
		p = fmt_type(p, MO_TYPE_PROTECTED_PAYLOAD);
		*p++ = '}';
	} else {
		p = fmt_port(p, d->h.local, MACH_MSGH_BITS_LOCAL(d->h.bits));
	}
	CPY(p, ",\"seqno\":");
	p = fmt_u(p, d->h.seqno);
	if (d->sent_view)
		CPY(p, ",\"view\":\"sent\",\"dest\":");
	else
		CPY(p, ",\"view\":\"received\",\"dest\":");
	if (d->dest_payload) {
		CPY(p, "null,\"dest_payload\":");
		p = fmt_u(p, d->h.payload);
	} else {
		p = fmt_u(p, d->dest);
	}
	CPY(p, ",\"reply\":");
	p = fmt_u(p, d->reply);
	CPY(p, ",\"args\":[");
	done(sb, p);
	return 1;
}

static void json_item(const struct walk *w, unsigned i)
{
	struct strbuf *sb = w->sb;
	const struct mo_item *it = &w->d->items[i];
	const struct mo_arg_schema *a = arg_of(w->d, i);
	char *p = room(sb, (a ? a->json_len + a->json_shape_len : 0) + TYPE_ROOM + 400);
	uint64_t v0 = 0;
	int scalar = 0;
	char *end;

	if (i)
		*p++ = ',';
	if (a)
		p = cpy16(p, a->json, a->json_len);
	else
		CPY(p, "{\"name\":null,\"type\":");
	p = fmt_type(p, it->name);
	/*
	 * The schema's shape holds for most items; a variable count, or an
	 * item after the first that does not fit, is written out.
	 */
	if (a && it->size == a->size && it->number == a->number &&
	    it->is_inline == a->is_inline && it->longform == a->longform) {
		p = cpy16(p, a->json_shape, a->json_shape_len);
	} else {
		CPY(p, ",\"size\":");
		p = fmt_u(p, it->size);
		CPY(p, ",\"number\":");
		p = fmt_u(p, it->number);
		if (it->is_inline)
			CPY(p, ",\"inline\":true,\"longform\":");
		else
			CPY(p, ",\"inline\":false,\"longform\":");
		p = fmt_bool(p, it->longform);
		CPY(p, ",\"offset\":");
	}
	p = fmt_u(p, it->desc_off);
	if (!it->is_inline) {
		CPY(p, ",\"address\":");
		if (w->o && w->o->hide_addresses)
			CPY(p, "null");
		else
			p = fmt_u(p, mo_item_ool_addr(w->buf, it, w->d->abi));
		CPY(p, ",\"bytes\":");
		p = fmt_u(p, mo_item_bytes(it));
		CPY(p, ",\"dealloc\":");
		p = fmt_bool(p, it->dealloc);
	} else if (is_elem_size(it->size) &&
		   !(it->size == 8 && is_text(it->name))) {
		/* Signed where the text form shows a signed number. */
		int sign = it->size == 32 && !mo_type_is_port(it->name) &&
			   (!a || a->sem == MO_SEM_PLAIN ||
			    a->sem == MO_SEM_KERN_RETURN);
		int array = it->number != 1 || (a && a->variable);

		/* A lone scalar's text is written below, as add_value() would. */
		scalar = !array && !(a && a->msgt_name == MO_POLY);
		CPY(p, ",\"value\":");
		if (array)
			*p++ = '[';
		for (uint32_t k = 0; k < it->number; k++) {
			uint64_t v = mo_item_elem(w->buf, it, k);

			if (!k)
				v0 = v;
			if (k) {
				done(sb, p);
				p = room(sb, 64);
				*p++ = ',';
			}
			p = sign ? fmt_i(p, (int32_t)v) : fmt_u(p, v);
		}
		if (array)
			*p++ = ']';
		if (it->number == 1 && a && a->sem == MO_SEM_OFFSET) {
			CPY(p, ",\"page\":");
			p = fmt_u(p, page_of(v0, w->o));
		}
	}
	CPY(p, ",\"text\":\"");
	if (scalar && (end = fmt_scalar(p, it, a, v0, w->o))) {
		p = end;
		CPY(p, "\"}");
		done(sb, p);
		return;
	}
	done(sb, p);
	json_text_end(w, it, a);
}

static void json_close(const struct walk *w)
{
	PUT(w->sb, "]}");
}

static const struct form json_form = { json_open, json_item, json_close };

void mo_render_json(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o)
{
	render(&json_form, sb, buf, d, o);
}
