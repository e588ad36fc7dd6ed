/*
 * decode/render.c: text (strace-like) and JSON forms of a decoded message.
 *
 * Both walk the same items; the schema, when the id is known and the item
 * fits it, gives the argument's name and how to print its value.
 */
#include <string.h>

#include <mach/message.h>

#include "decode/render.h"
#include "decode/xlat.h"

#define MAX_ELEMS 16		/* array elements shown before "..." */
#define MAX_CHARS 64		/* characters of inline text shown */

static uint64_t page_size(const struct mo_render_opts *o)
{
	return o && o->page_size ? o->page_size : 4096;
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

	if (s)
		strbuf_addstr(sb, s + strlen("MACH_MSG_TYPE_"));
	else {
		strbuf_addstr(sb, "type_");
		strbuf_addu(sb, t);
	}
}

static void add_scalar(struct strbuf *sb, const struct mo_item *it,
		       const struct mo_arg_schema *a, uint64_t v,
		       const struct mo_render_opts *o)
{
	if (mo_type_is_port(it->name)) {
		strbuf_addu(sb, v & 0xffffffffu);
		return;
	}
	switch (a ? a->sem : MO_SEM_PLAIN) {
	case MO_SEM_OFFSET:
		strbuf_addhex(sb, v);
		strbuf_addstr(sb, " [page ");
		strbuf_addu(sb, v / page_size(o));
		if (v % page_size(o))
			strbuf_addstr(sb, " +unaligned");
		strbuf_addch(sb, ']');
		break;
	case MO_SEM_ADDRESS:
	case MO_SEM_SIZE:
		strbuf_addhex(sb, v);
		break;
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
	case MO_SEM_KERN_RETURN:
		mo_xlat_enum(sb, mo_xlat_kern_return, (uint32_t)v, "KERN_???");
		break;
	case MO_SEM_BOOL:
		if (v <= 1)
			strbuf_addstr(sb, v ? "TRUE" : "FALSE");
		else {
			strbuf_addu(sb, v);
			strbuf_addstr(sb, " /* boolean_t??? */");
		}
		break;
	default:
		if (it->size == 32)
			strbuf_addi(sb, (int32_t)v);
		else if (it->size == 16)
			strbuf_addi(sb, (int16_t)v);
		else if (it->size <= 64)
			strbuf_addu(sb, v);
		break;
	}
}

static int is_text(unsigned t)
{
	return t == MACH_MSG_TYPE_CHAR || t == MACH_MSG_TYPE_STRING;
}

static void add_text(struct strbuf *sb, const uint8_t *p, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t i;

	strbuf_addch(sb, '"');
	for (i = 0; i < n && i < MAX_CHARS; i++) {
		if (p[i] == 0 && i + 1 == n)
			break;
		if (p[i] == '"' || p[i] == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, p[i]);
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			strbuf_addch(sb, p[i]);
		} else {
			char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
			strbuf_add(sb, e, 4);
		}
	}
	strbuf_addch(sb, '"');
	if (i < n && !(i + 1 == n && p[i] == 0))
		strbuf_addstr(sb, "...");
}

/* The sender chose a polymorphic right's type: say which it is. */
static void add_poly_type(struct strbuf *sb, const struct mo_item *it,
			  const struct mo_arg_schema *a)
{
	if (!a || a->msgt_name != MO_POLY)
		return;
	strbuf_addstr(sb, " [");
	add_type(sb, it->name);
	strbuf_addch(sb, ']');
}

static void add_value(struct strbuf *sb, const uint8_t *buf,
		      const struct mo_decoded *d, const struct mo_item *it,
		      const struct mo_arg_schema *a,
		      const struct mo_render_opts *o)
{
	uint32_t i;

	if (!it->is_inline) {
		if (o && o->hide_addresses)
			strbuf_addch(sb, '*');
		else
			strbuf_addhex(sb, mo_item_ool_addr(buf, it, d->abi));
		strbuf_addstr(sb, " [");
		strbuf_addu(sb, mo_item_bytes(it));
		strbuf_addstr(sb, " bytes, out-of-line");
		if (it->dealloc)
			strbuf_addstr(sb, ", dealloc");
		strbuf_addch(sb, ']');
		return;
	}
	if (it->size == 8 && is_text(it->name)) {
		add_text(sb, buf + it->data_off, it->number);
		return;
	}
	if (it->size != 8 && it->size != 16 && it->size != 32 &&
	    it->size != 64) {
		strbuf_addch(sb, '<');
		strbuf_addu(sb, mo_item_bytes(it));
		strbuf_addstr(sb, " bytes>");
		return;
	}
	if (it->number == 1 && !(a && a->variable)) {
		add_scalar(sb, it, a, mo_item_elem(buf, it, 0), o);
		add_poly_type(sb, it, a);
		return;
	}
	strbuf_addch(sb, '[');
	for (i = 0; i < it->number && i < MAX_ELEMS; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		add_scalar(sb, it, a, mo_item_elem(buf, it, i), o);
	}
	if (i < it->number)
		strbuf_addstr(sb, ", ...");
	strbuf_addch(sb, ']');
	add_poly_type(sb, it, a);
}

void mo_render_name(struct strbuf *sb, const struct mo_decoded *d)
{
	if (d->schema) {
		strbuf_addstr(sb, d->schema->name);
		if (d->schema->kind == MO_KIND_REPLY)
			strbuf_addstr(sb, "_reply");
	} else if (d->have_header) {
		strbuf_addstr(sb, "msg_");
		strbuf_addi(sb, d->h.id);
	} else {
		strbuf_addch(sb, '?');
	}
}

void mo_render_text(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o)
{
	const struct mo_msg_schema *s = d->schema;
	unsigned i;

	mo_render_name(sb, d);
	if (!d->have_header) {
		strbuf_addstr(sb, " [");
		strbuf_addstr(sb, d->err);
		strbuf_addch(sb, ']');
		return;
	}
	strbuf_addch(sb, '(');
	if (s) {
		strbuf_addstr(sb, s->dest_alias ? s->dest_alias : s->dest);
		strbuf_addch(sb, '=');
		strbuf_addu(sb, d->dest);
		if (s->reply_type) {
			strbuf_addstr(sb, ", reply=");
			strbuf_addu(sb, d->reply);
		}
	} else {
		strbuf_addstr(sb, "dest=");
		strbuf_addu(sb, d->dest);
		if (d->reply) {
			strbuf_addstr(sb, ", reply=");
			strbuf_addu(sb, d->reply);
		}
	}
	for (i = 0; i < d->nitems; i++) {
		const struct mo_item *it = &d->items[i];
		const struct mo_arg_schema *a = arg_of(d, i);

		strbuf_addstr(sb, ", ");
		if (a) {
			strbuf_addstr(sb, a->alias ? a->alias : a->name);
		} else {
			strbuf_addch(sb, '#');
			strbuf_addu(sb, i);
			strbuf_addch(sb, ':');
			add_type(sb, it->name);
			if (it->number != 1 || !it->is_inline) {
				strbuf_addch(sb, '[');
				strbuf_addu(sb, it->number);
				strbuf_addch(sb, ']');
			}
		}
		strbuf_addch(sb, '=');
		add_value(sb, buf, d, it, a, o);
	}
	strbuf_addch(sb, ')');
	if (!s)
		strbuf_addstr(sb, " /* unknown message */");
	if (d->status != MO_OK) {
		strbuf_addstr(sb, " [");
		strbuf_addstr(sb, d->err);
		strbuf_addch(sb, ']');
	}
}

static void json_key(struct strbuf *sb, const char *k)
{
	strbuf_addch(sb, ',');
	strbuf_addjson(sb, k);
	strbuf_addch(sb, ':');
}

static void json_type(struct strbuf *sb, unsigned t)
{
	const char *s = mo_xlat_find(mo_xlat_msg_type, t);

	if (s)
		strbuf_addjson(sb, s);
	else
		strbuf_addu(sb, t);
}

static void json_port(struct strbuf *sb, const char *k, uint32_t name,
		      unsigned type)
{
	json_key(sb, k);
	strbuf_addstr(sb, "{\"name\":");
	strbuf_addu(sb, name);
	strbuf_addstr(sb, ",\"type\":");
	if (type)
		json_type(sb, type);
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '}');
}

static void json_item(struct strbuf *sb, struct strbuf *text,
		      const uint8_t *buf, const struct mo_decoded *d,
		      unsigned i, const struct mo_render_opts *o)
{
	const struct mo_item *it = &d->items[i];
	const struct mo_arg_schema *a = arg_of(d, i);
	uint32_t k;

	strbuf_addstr(sb, "{\"name\":");
	if (a)
		strbuf_addjson(sb, a->name);
	else
		strbuf_addstr(sb, "null");
	if (a) {
		json_key(sb, "ctype");
		strbuf_addjson(sb, a->ctype);
	}
	json_key(sb, "type");
	json_type(sb, it->name);
	json_key(sb, "size");
	strbuf_addu(sb, it->size);
	json_key(sb, "number");
	strbuf_addu(sb, it->number);
	json_key(sb, "inline");
	strbuf_addstr(sb, it->is_inline ? "true" : "false");
	json_key(sb, "longform");
	strbuf_addstr(sb, it->longform ? "true" : "false");
	json_key(sb, "offset");
	strbuf_addu(sb, it->desc_off);
	if (!it->is_inline) {
		json_key(sb, "address");
		if (o && o->hide_addresses)
			strbuf_addstr(sb, "null");
		else
			strbuf_addu(sb, mo_item_ool_addr(buf, it, d->abi));
		json_key(sb, "bytes");
		strbuf_addu(sb, mo_item_bytes(it));
		json_key(sb, "dealloc");
		strbuf_addstr(sb, it->dealloc ? "true" : "false");
	} else if ((it->size == 8 && is_text(it->name)) ||
		   (it->size != 8 && it->size != 16 && it->size != 32 &&
		    it->size != 64)) {
		/* shown as text only */
	} else {
		json_key(sb, "value");
		if (it->number != 1 || (a && a->variable))
			strbuf_addch(sb, '[');
		for (k = 0; k < it->number; k++) {
			uint64_t v = mo_item_elem(buf, it, k);

			if (k)
				strbuf_addch(sb, ',');
			if (it->size == 32 && !mo_type_is_port(it->name) &&
			    (!a || a->sem == MO_SEM_PLAIN ||
			     a->sem == MO_SEM_KERN_RETURN))
				strbuf_addi(sb, (int32_t)v);
			else
				strbuf_addu(sb, v);
		}
		if (it->number != 1 || (a && a->variable))
			strbuf_addch(sb, ']');
		if (it->number == 1 && a && a->sem == MO_SEM_OFFSET) {
			json_key(sb, "page");
			strbuf_addu(sb, mo_item_elem(buf, it, 0) / page_size(o));
		}
	}
	strbuf_reset(text);
	add_value(text, buf, d, it, a, o);
	json_key(sb, "text");
	strbuf_addjson(sb, text->buf);
	strbuf_addch(sb, '}');
}

void mo_render_json(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o)
{
	const struct mo_msg_schema *s = d->schema;
	static const char *const kinds[] = { "simpleroutine", "routine",
					     "reply" };
	static const char *const status[] = { "ok", "truncated", "malformed" };
	struct strbuf text;
	unsigned i;

	strbuf_addstr(sb, "{\"abi\":");
	strbuf_addjson(sb, mo_abi_info(d->abi)->name);
	json_key(sb, "bytes");
	strbuf_addu(sb, d->len);
	json_key(sb, "status");
	strbuf_addjson(sb, status[d->status]);
	if (d->status != MO_OK) {
		json_key(sb, "error");
		strbuf_addjson(sb, d->err);
	}
	if (!d->have_header) {
		strbuf_addch(sb, '}');
		return;
	}
	json_key(sb, "id");
	strbuf_addi(sb, d->h.id);
	json_key(sb, "name");
	if (s) {
		strbuf_addch(sb, '"');
		mo_render_name(sb, d);
		strbuf_addch(sb, '"');
		json_key(sb, "routine");
		strbuf_addjson(sb, s->name);
		json_key(sb, "subsystem");
		strbuf_addjson(sb, s->subsystem);
		json_key(sb, "kind");
		strbuf_addjson(sb, kinds[s->kind]);
	} else {
		strbuf_addstr(sb, "null");
	}
	json_key(sb, "known");
	strbuf_addstr(sb, s ? "true" : "false");
	json_key(sb, "msgh_bits");
	strbuf_addu(sb, d->h.bits);
	json_key(sb, "complex");
	strbuf_addstr(sb, d->h.bits & MACH_MSGH_BITS_COMPLEX ? "true" : "false");
	json_key(sb, "msgh_size");
	strbuf_addu(sb, d->h.size);
	json_port(sb, "remote", d->h.remote, MACH_MSGH_BITS_REMOTE(d->h.bits));
	json_port(sb, "local", d->h.local, MACH_MSGH_BITS_LOCAL(d->h.bits));
	json_key(sb, "seqno");
	strbuf_addu(sb, d->h.seqno);
	json_key(sb, "view");
	strbuf_addjson(sb, d->sent_view ? "sent" : "received");
	json_key(sb, "dest");
	strbuf_addu(sb, d->dest);
	json_key(sb, "reply");
	strbuf_addu(sb, d->reply);
	json_key(sb, "args");
	strbuf_addch(sb, '[');
	strbuf_init(&text, 256);
	for (i = 0; i < d->nitems; i++) {
		if (i)
			strbuf_addch(sb, ',');
		json_item(sb, &text, buf, d, i, o);
	}
	strbuf_release(&text);
	strbuf_addstr(sb, "]}");
}
