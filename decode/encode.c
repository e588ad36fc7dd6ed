/*
 * decode/encode.c: messages from the schema, and the text form parsed back.
 *
 * Descriptors are written as MIG writes them (decode/schema.h gives each
 * argument's type, size, count and form); the header as a sender writes it
 * or as the kernel delivers it (GNU Mach ipc/ipc_kmsg.c,
 * ipc_kmsg_copyout_header: destination in msgh_local_port, reply in
 * msgh_remote_port, dispositions rewritten to PORT_* types).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>

#include "decode/encode.h"
#include "decode/xlat.h"

static int err_at(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_at(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void put32(struct strbuf *sb, uint32_t v)
{
	uint8_t b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	strbuf_add(sb, b, 4);
}

static void put_elem(struct strbuf *sb, unsigned bits, uint64_t v)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bits / 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf_add(sb, b, bits / 8);
}

static unsigned disposition(unsigned t, int sent_view)
{
	return sent_view ? t : mo_type_received(t);
}

int mo_encode(enum mo_abi abi, const struct mo_enc *e, struct strbuf *out,
	      char *err, size_t errlen)
{
	const struct mo_abi_info *a = mo_abi_info(abi);
	const struct mo_msg_schema *s = e->schema;
	size_t start = out->len;
	uint32_t bits, complex = 0, dtype, rtype;

	if (e->dest_payload && e->sent_view)
		return err_at(err, errlen,
			      "%s: a protected payload stands for the destination only in a received message",
			      s->name);
	if (e->dest_payload && a->header_size < 32 && e->payload >> 32)
		return err_at(err, errlen,
			      "%s: protected payload 0x%llx does not fit the 4-byte msgh_local_port of %s",
			      s->name, (unsigned long long)e->payload, a->name);
	strbuf_grow(out, 256);
	for (unsigned i = 0; i < a->header_size; i++)
		strbuf_addch(out, 0);
	for (uint32_t i = 0; i < s->nargs; i++) {
		const struct mo_arg_schema *as = &s->args[i];
		const struct mo_enc_value *v = &e->args[i];
		unsigned name = as->msgt_name;
		uint32_t number = as->number;

		if (!v->set) {
			out->len = start;
			return err_at(err, errlen, "%s: argument %s is missing",
				      s->name, as->name);
		}
		/* A polymorphic right is a send right unless the text says. */
		if (name == MO_POLY)
			name = v->type ? v->type : MACH_MSG_TYPE_COPY_SEND;
		if (mo_type_is_port(name)) {
			name = disposition(name, e->sent_view);
			complex = 1;
		}
		if (as->variable && as->is_inline)
			number = v->count;
		if (!as->is_inline) {
			complex = 1;
			number = (uint32_t)(v->ool_bytes * 8 / (as->size ? as->size : 8));
		} else if (v->count != number) {
			out->len = start;
			return err_at(err, errlen,
				      "%s: argument %s takes %u value(s), got %u",
				      s->name, as->name, number, v->count);
		}
		if (a->desc_bytes == 8) {
			/* The 2023 layout: one form, long or not (decode/walk.c). */
			put32(out, name | (uint32_t)as->size << 8 |
				   (uint32_t)as->is_inline << 29 |
				   (uint32_t)as->longform << 30 |
				   (uint32_t)v->dealloc << 31);
			put32(out, number);
		} else if (as->longform) {
			put32(out, (uint32_t)as->is_inline << 28 | 1u << 29 |
				   (uint32_t)v->dealloc << 30);
			put32(out, name | (uint32_t)as->size << 16);
			put32(out, number);
		} else {
			put32(out, name | (uint32_t)as->size << 8 |
				   (number & 0xfff) << 16 |
				   (uint32_t)as->is_inline << 28);
		}
		if (!as->is_inline) {
			put_elem(out, a->ool_slot * 8, v->v[0]);
			continue;
		}
		for (uint32_t k = 0; k < number; k++)
			put_elem(out, as->size, v->v[k]);
		while ((out->len - start) & (a->align - 1u))
			strbuf_addch(out, 0);
	}

	/*
	 * A polymorphic destination is the reply_to of lock_request,
	 * data_supply or change_attributes: a send-once right, which is how
	 * GNU Mach sends lock_completed (GNUMACH.md: bits 0x80001200).
	 */
	dtype = disposition(s->dest_type == MO_POLY
			    ? MACH_MSG_TYPE_MOVE_SEND_ONCE : s->dest_type,
			    e->sent_view);
	if (e->dest_payload)
		dtype = MO_TYPE_PROTECTED_PAYLOAD;
	rtype = s->reply_type ? disposition(s->reply_type, e->sent_view) : 0;
	if (!e->reply)
		rtype = 0;
	bits = (complex ? MACH_MSGH_BITS_COMPLEX : 0) |
	       (e->sent_view ? MACH_MSGH_BITS(dtype, rtype)
			     : MACH_MSGH_BITS(rtype, dtype));
	{
		uint8_t *h = (uint8_t *)out->buf + start;
		uint32_t words[6] = { bits, (uint32_t)(out->len - start),
				      e->sent_view ? e->dest : e->reply,
				      e->sent_view ? e->reply : e->dest, 0,
				      (uint32_t)s->id };
		unsigned offs[6] = { 0, 4, 8, a->local_off,
				     a->header_size - 8u, a->header_size - 4u };

		if (e->dest_payload)
			words[3] = (uint32_t)e->payload;
		for (int w = 0; w < 6; w++)
			for (int b = 0; b < 4; b++)
				h[offs[w] + b] = (uint8_t)(words[w] >> (8 * b));
		/* The payload fills the local slot, an rpc_uintptr_t. */
		if (e->dest_payload && a->header_size == 32)
			for (int b = 0; b < 4; b++)
				h[a->local_off + 4 + b] =
					(uint8_t)(e->payload >> (32 + 8 * b));
	}
	return 0;
}

const struct mo_msg_schema *mo_schema_by_name(enum mo_abi abi,
					      const char *name)
{
	const struct mo_abi_info *a = mo_abi_info(abi);
	size_t n = strlen(name);
	int reply = n > 6 && !strcmp(name + n - 6, "_reply");

	for (unsigned i = 0; i < *a->schema_count; i++) {
		const struct mo_msg_schema *s = &a->schema[i];

		if ((s->kind == MO_KIND_REPLY) != reply)
			continue;
		if (strlen(s->name) == (reply ? n - 6 : n) &&
		    !strncmp(s->name, name, strlen(s->name)))
			return s;
	}
	return NULL;
}

/* The parser: a cursor over the text. */
struct cur {
	const char *p;
	char *err;
	size_t errlen;
};

static void skip_ws(struct cur *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static int ident(struct cur *c, char *out, size_t n)
{
	size_t k = 0;

	skip_ws(c);
	while ((isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '#') &&
	       k + 1 < n)
		out[k++] = *c->p++;
	out[k] = '\0';
	return k ? 0 : -1;
}

static const struct mo_xlat *const symbol_tables[] = {
	mo_xlat_vm_prot, mo_xlat_mo_return, mo_xlat_copy_strategy,
	mo_xlat_kern_return, mo_xlat_msg_type, NULL
};

static int symbol(const char *name, uint64_t *v)
{
	if (!strcmp(name, "TRUE") || !strcmp(name, "FALSE")) {
		*v = name[0] == 'T';
		return 0;
	}
	for (const struct mo_xlat *const *t = symbol_tables; *t; t++)
		for (const struct mo_xlat *x = *t; x->name; x++)
			if (!strcmp(x->name, name)) {
				*v = x->value;
				return 0;
			}
	return -1;
}

/* number | SYMBOL, joined by '|'; a trailing C comment is skipped. */
static int scalar(struct cur *c, uint64_t *v)
{
	*v = 0;
	for (;;) {
		uint64_t part;
		char word[64];

		skip_ws(c);
		if (*c->p == '*') {
			/* an address the log hid (--no-time) */
			part = 0;
			c->p++;
		} else if (isdigit((unsigned char)*c->p) || *c->p == '-') {
			char *end;

			part = *c->p == '-' ? (uint64_t)strtoll(c->p, &end, 0)
					    : strtoull(c->p, &end, 0);
			c->p = end;
		} else if (ident(c, word, sizeof(word)) == 0) {
			if (symbol(word, &part) < 0)
				return err_at(c->err, c->errlen,
					      "unknown constant '%s'", word);
		} else {
			return err_at(c->err, c->errlen,
				      "expected a value at '%.20s'", c->p);
		}
		*v |= part;
		skip_ws(c);
		if (!strncmp(c->p, "/*", 2)) {
			const char *end = strstr(c->p, "*/");

			c->p = end ? end + 2 : c->p + strlen(c->p);
			skip_ws(c);
		}
		if (*c->p != '|')
			return 0;
		c->p++;
	}
}

/* "[...]" after a value: "[N bytes, ...]" gives a size; others are notes. */
static int annotation(struct cur *c, struct mo_enc_value *v)
{
	const char *close;
	char *end;
	uint64_t n;

	close = strchr(c->p, ']');
	if (!close)
		return err_at(c->err, c->errlen, "unclosed '['");
	n = strtoull(c->p + 1, &end, 0);
	if (end > c->p + 1 && !strncmp(end, " bytes", 6))
		v->ool_bytes = n;
	if (memmem(c->p, (size_t)(close - c->p), "dealloc", 7))
		v->dealloc = 1;
	if (memmem(c->p, (size_t)(close - c->p), "protected payload", 17))
		v->payload = 1;
	{
		/* [PORT_RECEIVE]: the type of a polymorphic right */
		char type[40] = "MACH_MSG_TYPE_";
		size_t k = (size_t)(close - c->p - 1);

		if (k < sizeof(type) - 15) {
			memcpy(type + 14, c->p + 1, k);
			type[14 + k] = '\0';
			for (const struct mo_xlat *x = mo_xlat_msg_type; x->name; x++)
				if (!strcmp(x->name, type))
					v->type = (uint8_t)x->value;
		}
	}
	c->p = close + 1;
	return 0;
}

static int value(struct cur *c, struct mo_enc_value *v)
{
	skip_ws(c);
	v->set = 1;
	v->count = 0;
	if (*c->p == '[') {
		c->p++;
		for (;;) {
			skip_ws(c);
			if (*c->p == ']') {
				c->p++;
				break;
			}
			if (v->count == MO_ENC_MAX_ELEMS)
				return err_at(c->err, c->errlen,
					      "more than %d array elements",
					      MO_ENC_MAX_ELEMS);
			if (scalar(c, &v->v[v->count++]) < 0)
				return -1;
			skip_ws(c);
			while (*c->p == '[' && annotation(c, v) == 0)
				skip_ws(c);
			if (*c->p == ',')
				c->p++;
		}
		skip_ws(c);
		while (*c->p == '[') {
			if (annotation(c, v) < 0)
				return -1;
			skip_ws(c);
		}
		return 0;
	}
	if (*c->p == '"')
		return err_at(c->err, c->errlen, "text values are not supported");
	if (scalar(c, &v->v[0]) < 0)
		return -1;
	v->count = 1;
	skip_ws(c);
	while (*c->p == '[') {
		if (annotation(c, v) < 0)
			return -1;
		skip_ws(c);
	}
	return 0;
}

int mo_parse_call(const char *text, enum mo_abi abi, struct mo_enc *e,
		  char *err, size_t errlen)
{
	char sub[160];
	struct cur c = { text, sub, sizeof(sub) };
	const struct mo_msg_schema *s;
	char name[96], key[64];
	int have_dest = 0;

	memset(e, 0, sizeof(*e));
	if (ident(&c, name, sizeof(name)) < 0)
		return err_at(err, errlen, "expected a routine name");
	s = mo_schema_by_name(abi, name);
	if (!s)
		return err_at(err, errlen, "unknown routine '%s'", name);
	e->schema = s;
	skip_ws(&c);
	if (*c.p++ != '(')
		return err_at(err, errlen, "expected '(' after %s", name);
	for (;;) {
		struct mo_enc_value v;
		int found = 0;

		skip_ws(&c);
		if (*c.p == ')')
			break;
		if (ident(&c, key, sizeof(key)) < 0)
			return err_at(err, errlen, "%s: expected an argument name at '%.20s'",
				      name, c.p);
		skip_ws(&c);
		if (*c.p++ != '=')
			return err_at(err, errlen, "%s: expected '=' after %s",
				      name, key);
		memset(&v, 0, sizeof(v));
		if (value(&c, &v) < 0)
			return err_at(err, errlen, "%s: argument %s: %s", name,
				      key, sub);
		if (!strcmp(key, s->dest) ||
		    (s->dest_alias && !strcmp(key, s->dest_alias)) ||
		    !strcmp(key, "dest")) {
			e->dest = (uint32_t)v.v[0];
			if (v.payload) {
				e->dest_payload = 1;
				e->payload = v.v[0];
				e->dest = 0;
			}
			have_dest = found = 1;
		} else if (!strcmp(key, "reply")) {
			e->reply = (uint32_t)v.v[0];
			found = 1;
		}
		for (uint32_t i = 0; i < s->nargs && !found; i++) {
			const struct mo_arg_schema *a = &s->args[i];

			if (strcmp(key, a->name) &&
			    !(a->alias && !strcmp(key, a->alias)))
				continue;
			if (!a->is_inline && !v.ool_bytes)
				return err_at(err, errlen,
					      "%s: argument %s is out-of-line: give its size as in '0x1000 [4096 bytes]'",
					      name, key);
			e->args[i] = v;
			found = 1;
		}
		if (!found)
			return err_at(err, errlen, "%s has no argument '%s'",
				      name, key);
		skip_ws(&c);
		if (*c.p == ',')
			c.p++;
		else if (*c.p != ')')
			return err_at(err, errlen, "%s: expected ',' or ')' at '%.20s'",
				      name, c.p);
	}
	if (!have_dest)
		return err_at(err, errlen, "%s: the destination %s is missing",
			      name, s->dest_alias ? s->dest_alias : s->dest);
	return 0;
}
