/*
 * tests/decode/call.c: struct mo_call against the text form.
 *
 * usage: call ABI FILE [--hex]
 *
 * For every message in FILE the text form is read back, argument by
 * argument, and each argument that names a call field (offset, length,
 * desired_access, the control port...) must show what mo_decode() put in
 * that field: numbers, [page N], flag and constant names read back
 * through the decoder's own name tables, TRUE and FALSE. Every field the
 * call says it has must be shown by the text, and every such argument the
 * text shows must be in the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/hex.h"
#include "decode/render.h"
#include "decode/xlat.h"

static int failures, count, checked;
static const char *cur_text;

static void fail(const char *what, const char *key, uint64_t want,
		 uint64_t got)
{
	printf("%s: %s shows 0x%llx, the call has 0x%llx\n  %s\n", what, key,
	       (unsigned long long)want, (unsigned long long)got, cur_text);
	failures++;
}

/* Looks up NAME (LEN bytes) in the decoder's tables. */
static int name_value(const char *name, size_t len, uint64_t *v)
{
	static const struct mo_xlat *const tables[] = {
		mo_xlat_vm_prot, mo_xlat_mo_return, mo_xlat_kern_return,
		mo_xlat_copy_strategy,
	};

	if (len == 4 && !strncmp(name, "TRUE", 4)) {
		*v = 1;
		return 0;
	}
	if (len == 5 && !strncmp(name, "FALSE", 5)) {
		*v = 0;
		return 0;
	}
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct mo_xlat *x = tables[t]; x->name; x++)
			if (x->len == len && !strncmp(x->name, name, len)) {
				*v = x->value;
				return 0;
			}
	return -1;
}

/*
 * The value a text-form argument shows: a number (decimal or 0x), or names
 * joined by '|' (with a trailing 0x... for unnamed bits); then whatever
 * follows (" [page N]", " / * KERN_??? * /") is left in *rest.
 */
static int text_value(const char *s, uint64_t *v, const char **rest)
{
	char *end;

	if (*s >= '0' && *s <= '9') {
		*v = strtoull(s, &end, 0);
		*rest = end;
		return 0;
	}
	*v = 0;
	for (;;) {
		size_t n = strcspn(s, "|,) [");
		uint64_t x;

		if (n && s[0] == '0' && s[1] == 'x')
			x = strtoull(s, NULL, 16);
		else if (name_value(s, n, &x) < 0)
			return -1;
		*v |= x;
		s += n;
		if (*s != '|')
			break;
		s++;
	}
	*rest = s;
	return 0;
}

/* The text form's key for each call field, and how to read the call. */
enum { F_OBJECT, F_CONTROL, F_OFFSET, F_LENGTH, F_ACCESS, F_LOCK, F_RETURN,
       F_FLUSH, F_REPLY, F_ERROR, F_DATA, F_PAGE_SIZE, F_PRECIOUS, F_DIRTY,
       F_KERNEL_COPY, F_NAME, F_MAY_CACHE, F_COPY_STRATEGY,
       F_ERROR_OFFSET };

static const struct { const char *key; int field; } keys[] = {
	{ "obj", F_OBJECT }, { "old_obj", F_OBJECT },
	{ "ctl", F_CONTROL }, { "old_ctl", F_CONTROL },
	{ "offset", F_OFFSET },
	{ "length", F_LENGTH }, { "size", F_LENGTH },
	{ "desired_access", F_ACCESS },
	{ "lock_value", F_LOCK },
	{ "should_return", F_RETURN },
	{ "should_flush", F_FLUSH },
	{ "reply_to", F_REPLY },
	{ "error_value", F_ERROR }, { "result", F_ERROR }, { "RetCode", F_ERROR },
	{ "reason", F_ERROR }, { "error_offset", F_ERROR_OFFSET },
	{ "data", F_DATA },
	{ "page_size", F_PAGE_SIZE }, { "new_page_size", F_PAGE_SIZE },
	{ "precious", F_PRECIOUS }, { "dirty", F_DIRTY },
	{ "kernel_copy", F_KERNEL_COPY },
	{ "name", F_NAME }, { "may_cache", F_MAY_CACHE },
	{ "copy_strategy", F_COPY_STRATEGY },
};

static const uint32_t has_bit[] = {
	[F_OBJECT] = MO_CALL_OBJECT, [F_CONTROL] = MO_CALL_CONTROL,
	[F_OFFSET] = MO_CALL_OFFSET, [F_LENGTH] = MO_CALL_LENGTH,
	[F_ACCESS] = MO_CALL_ACCESS, [F_LOCK] = MO_CALL_LOCK,
	[F_RETURN] = MO_CALL_RETURN, [F_FLUSH] = MO_CALL_FLUSH,
	[F_REPLY] = MO_CALL_REPLY, [F_ERROR] = MO_CALL_ERROR,
	[F_DATA] = MO_CALL_DATA, [F_PAGE_SIZE] = MO_CALL_PAGE_SIZE,
	[F_PRECIOUS] = MO_CALL_FLAGS, [F_DIRTY] = MO_CALL_FLAGS,
	[F_KERNEL_COPY] = MO_CALL_FLAGS, [F_NAME] = MO_CALL_NAME,
	[F_MAY_CACHE] = MO_CALL_FLAGS,
	[F_COPY_STRATEGY] = MO_CALL_COPY_STRATEGY,
	[F_ERROR_OFFSET] = MO_CALL_ERROR_OFFSET,
};

static uint64_t call_value(const struct mo_call *c, int f)
{
	switch (f) {
	case F_OBJECT: return c->object;
	case F_CONTROL: return c->control;
	case F_OFFSET: return c->offset;
	case F_LENGTH: return c->length;
	case F_ACCESS: return c->access;
	case F_LOCK: return c->lock;
	case F_RETURN: return c->should_return;
	case F_FLUSH: return c->should_flush;
	case F_REPLY: return c->reply;
	case F_ERROR: return (uint32_t)c->error;
	case F_DATA: return c->data_addr;
	case F_PAGE_SIZE: return c->page_size;
	case F_PRECIOUS: return !!(c->flags & MO_FLAG_PRECIOUS);
	case F_DIRTY: return !!(c->flags & MO_FLAG_DIRTY);
	case F_KERNEL_COPY: return !!(c->flags & MO_FLAG_KERNEL_COPY);
	case F_NAME: return c->name;
	case F_MAY_CACHE: return !!(c->flags & MO_FLAG_MAY_CACHE);
	case F_COPY_STRATEGY: return c->copy_strategy;
	case F_ERROR_OFFSET: return c->error_offset;
	}
	return 0;
}

/* Checks one "key=value" of the text against the call; returns its field. */
static int check_arg(const struct mo_decoded *d, const char *key, size_t klen,
		     const char *val)
{
	const struct mo_call *c = &d->call;
	const char *rest;
	uint64_t v;
	int f = -1;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (strlen(keys[k].key) == klen &&
		    !strncmp(keys[k].key, key, klen))
			f = keys[k].field;
	/* A routine's reply port shows as reply=, after the destination. */
	if (klen == 5 && !strncmp(key, "reply", 5) &&
	    d->schema->kind == MO_KIND_ROUTINE && !strstr(cur_text, "reply_to="))
		f = F_REPLY;
	/* A notification's name= is the port it is about, no call field. */
	if (f == F_NAME && !strcmp(d->schema->subsystem, "notify"))
		return -1;
	/* An array (create_proxy's offset=[...]) is no call field. */
	if (f < 0 || *val == '[')
		return -1;
	/* A destination given by its protected payload is no port: no field. */
	if (text_value(val, &v, &rest) == 0 &&
	    !strncmp(rest, " [protected payload]", 20)) {
		if (c->has & has_bit[f])
			fail("payload taken for a port", key, 0, call_value(c, f));
		return -1;
	}
	if (!(c->has & has_bit[f])) {
		fail("field missing", key, 0, 0);
		return f;
	}
	if (text_value(val, &v, &rest) < 0) {
		printf("cannot read the value of %.*s\n  %s\n", (int)klen, key,
		       cur_text);
		failures++;
		return f;
	}
	if (f == F_DATA && !strncmp(val, "*", 1))
		v = c->data_addr;
	if (call_value(c, f) != v)
		fail("value", key, v, call_value(c, f));
	if (f == F_OFFSET && !strncmp(rest, " [page ", 7)) {
		uint64_t page = strtoull(rest + 7, NULL, 10);

		if (page != c->first_page)
			fail("page", key, page, c->first_page);
	}
	if (f == F_DATA) {
		unsigned long long bytes;

		if (sscanf(rest, " [%llu bytes", &bytes) == 1 &&
		    bytes != c->data_bytes)
			fail("data bytes", key, bytes, c->data_bytes);
		if (c->data < 0 || (unsigned)c->data >= d->nitems)
			fail("data item", key, 0, (uint64_t)c->data);
	}
	checked++;
	return f;
}

static void check(const uint8_t *m, size_t n, enum mo_abi abi)
{
	struct strbuf text = STRBUF_INIT;
	struct mo_decoded d;
	uint32_t shown = 0;
	const char *p;
	int depth = 0;

	mo_decode(m, n, abi, &d);
	if (!d.schema || !d.have_header)
		return;
	count++;
	mo_render_text(&text, m, &d, NULL);
	cur_text = text.buf;
	p = strchr(text.buf, '(');
	if (!p)
		return;
	p++;
	/* "key=value, key=value)": split at top-level ", ". */
	while (*p && *p != ')') {
		const char *eq = strchr(p, '='), *q;
		int f;

		if (!eq)
			break;
		for (q = eq + 1; *q; q++) {
			if (*q == '[' || *q == '(')
				depth++;
			else if ((*q == ']' || *q == ')') && depth)
				depth--;
			else if (!depth && (*q == ')' || (*q == ',' && q[1] == ' ')))
				break;
			else if (*q == '"')
				while (*++q && *q != '"')
					if (*q == '\\' && q[1])
						q++;
		}
		f = check_arg(&d, p, (size_t)(eq - p), eq + 1);
		if (f >= 0)
			shown |= has_bit[f];
		p = *q == ',' ? q + 2 : q;
	}
	/* The length of data_supply and data_return is its data's. */
	if ((shown & MO_CALL_DATA) && (d.call.has & MO_CALL_LENGTH) &&
	    !(shown & MO_CALL_LENGTH)) {
		if (d.call.length != d.call.data_bytes)
			fail("length of the data", "data", d.call.data_bytes,
			     d.call.length);
		shown |= MO_CALL_LENGTH;
	}
	if (d.call.has & ~shown) {
		printf("the call has fields 0x%x the text does not show\n  %s\n",
		       d.call.has & ~shown, text.buf);
		failures++;
	}
	if ((d.call.has & MO_CALL_OFFSET) && d.call.length) {
		uint64_t last = (d.call.offset + d.call.length - 1) / MO_CALL_PAGE;

		if (d.call.first_page + d.call.npages - 1 != last)
			fail("page range", "length", last,
			     d.call.first_page + d.call.npages - 1);
	}
	strbuf_release(&text);
}

int main(int argc, char **argv)
{
	static char in[1 << 20];
	struct strbuf msg = STRBUF_INIT;
	size_t len;
	int abi, stop = 0;
	FILE *f;

	if (argc < 3 || (abi = mo_abi_from_name(argv[1])) < 0 ||
	    !(f = fopen(argv[2], "rb"))) {
		fprintf(stderr, "usage: call ABI FILE [--hex]\n");
		return 2;
	}
	len = fread(in, 1, sizeof(in), f);
	fclose(f);
	if (argc > 3 && !strcmp(argv[3], "--hex")) {
		const char *line = in;
		char err[96];

		for (int r; (r = mo_hex_next(&line, in + len, &msg, err,
					      sizeof(err)));)
			if (r > 0 && msg.len)
				check((const uint8_t *)msg.buf, msg.len, abi);
	} else {
		for (size_t pos = 0, n; pos < len && !stop; pos += n) {
			n = mo_stream_next((const uint8_t *)in + pos, len - pos,
					   abi, &stop);
			check((const uint8_t *)in + pos, n, abi);
		}
	}
	printf("%d messages, %d fields checked, %d failures\n", count, checked,
	       failures);
	strbuf_release(&msg);
	return failures || !count || !checked;
}
