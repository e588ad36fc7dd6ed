/*
 * tests/decode/malformed.c: the decoder on broken input, built with
 * AddressSanitizer and UBSan so that any read out of bounds stops the test.
 *
 * usage: malformed ABI FILE [--hex]
 *
 * For every message in FILE: every truncation (each prefix, copied into a
 * buffer of exactly that size) must decode as truncated and say so in the
 * text form; every type descriptor is then corrupted in turn (unused bit,
 * port size, counts, long form with absurd counts, random words) and the
 * header's msgh_size set to absurd values: each must come back as an
 * error, never as a well-formed message, and both renderers must run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/hex.h"
#include "decode/render.h"

static int failures, checks;
static enum mo_abi abi;

static void fail(const char *what, int msgno, size_t at, const char *detail)
{
	fprintf(stderr, "message %d: %s (at %zu): %s\n", msgno, what, at,
		detail);
	failures++;
}

/* Decodes a private copy of exactly LEN bytes and renders it both ways. */
static int decode_copy(const uint8_t *src, size_t len, struct mo_decoded *d,
		       struct strbuf *text)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct strbuf json = STRBUF_INIT;
	int r;

	memcpy(buf, src, len);
	r = mo_decode(buf, len, abi, d);
	strbuf_reset(text);
	mo_render_text(text, buf, d, NULL);
	mo_render_json(&json, buf, d, NULL);
	strbuf_release(&json);
	free(buf);
	checks++;
	return r;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static void must_fail(const uint8_t *m, size_t n, int msgno, size_t at,
		      const char *what, struct strbuf *text)
{
	struct mo_decoded d;

	if (decode_copy(m, n, &d, text) == 0 || d.status == MO_OK)
		fail(what, msgno, at, "decoded as well formed");
	else if (!strstr(text->buf, d.err))
		fail(what, msgno, at, "text form does not name the error");
}

static void check_message(const uint8_t *m, size_t n, int msgno)
{
	struct strbuf text = STRBUF_INIT;
	struct mo_decoded d;
	uint8_t *c = malloc(n);
	char want[48];
	unsigned i;

	if (decode_copy(m, n, &d, &text) != 0)
		fail("golden message", msgno, 0, d.err);

	for (size_t k = 0; k < n; k++) {
		struct mo_decoded t;

		decode_copy(m, k, &t, &text);
		snprintf(want, sizeof(want), "[truncated at byte %zu", k);
		if (t.status != MO_TRUNCATED)
			fail("truncation", msgno, k, "not reported as truncated");
		else if (!strstr(text.buf, want))
			fail("truncation", msgno, k, text.buf);
	}

	for (i = 0; i < d.nitems; i++) {
		const struct mo_item *it = &d.items[i];
		uint32_t off = it->desc_off;
		uint32_t word = (uint32_t)m[off] | (uint32_t)m[off + 1] << 8 |
				(uint32_t)m[off + 2] << 16 |
				(uint32_t)m[off + 3] << 24;
		static const uint32_t numbers[] = { 0, 2, 0xfff, 0xffffffff };
		/*
		 * The descriptor's bits: one word with msgt_number in bits
		 * 16-27 (12 bytes long form), or in the x86_64-2023 layout
		 * two words, the second msgt_number (decode/walk.c).
		 */
		int wide = mo_abi_info(abi)->desc_bytes == 8;
		uint32_t unused = wide ? 0x1f000000u : 0x80000000u;
		uint32_t inline_bit = wide ? 0x20000000u : 0x10000000u;
		uint32_t size_mask = wide ? 0xffff00u : 0xff00u;

		memcpy(c, m, n);
		put32(c + off, word | unused);
		must_fail(c, n, msgno, off, "msgt_unused set", &text);
		if (wide) {
			memcpy(c, m, n);
			put32(c + off, word | 0x01000000u);
			must_fail(c, n, msgno, off, "one msgt_unused bit set",
				  &text);
		}

		if (!d.schema) {
			/* Without a schema any consistent layout is acceptable. */
		} else if (!it->longform) {
			for (unsigned k = 0; k < 4; k++) {
				if (numbers[k] == it->number ||
				    (!wide && numbers[k] > 0xfff))
					continue;
				memcpy(c, m, n);
				if (wide)
					put32(c + off + 4, numbers[k]);
				else
					put32(c + off, (word & ~0x0fff0000u) |
							       numbers[k] << 16);
				must_fail(c, n, msgno, off, "msgt_number changed",
					  &text);
			}
			memcpy(c, m, n);
			put32(c + off, (word & ~size_mask) | 48u << 8);
			must_fail(c, n, msgno, off, "msgt_size 48", &text);
			memcpy(c, m, n);
			put32(c + off, word ^ inline_bit);
			must_fail(c, n, msgno, off, "inline flag flipped", &text);
		} else {
			memcpy(c, m, n);
			put32(c + off + (wide ? 4 : 8), 0xffffffffu);
			c[off + (wide ? 0 : 4)] = 9;	/* BYTE, so inline or not it is data */
			put32(c + off, (wide ? (word & ~0xffu) | 9 : word) | inline_bit);
			must_fail(c, n, msgno, off, "long form, 2^32-1 inline bytes",
				  &text);
		}
		if (it->is_inline) {
			/* msgt_deallocate: bit 31 in the 2023 layout, else 30. */
			memcpy(c, m, n);
			put32(c + off, word | (wide ? 0x80000000u : 0x40000000u));
			must_fail(c, n, msgno, off, "inline with msgt_deallocate",
				  &text);
		}
		for (unsigned r = 0; r < 64; r++) {
			struct mo_decoded junk;

			memcpy(c, m, n);
			put32(c + off, (uint32_t)rand() * 2654435761u ^ (uint32_t)rand());
			decode_copy(c, n, &junk, &text);
		}
	}

	{
		static const uint32_t sizes[] = { 0, 3, 8, 0xfffffffc, 0xffffffff };

		for (i = 0; i < 5; i++) {
			memcpy(c, m, n);
			put32(c + 4, sizes[i]);
			must_fail(c, n, msgno, 4, "absurd msgh_size", &text);
		}
	}
	free(c);
	strbuf_release(&text);
}

int main(int argc, char **argv)
{
	struct strbuf in = STRBUF_INIT, msg = STRBUF_INIT;
	int hex = argc > 3 && !strcmp(argv[3], "--hex"), msgno = 0;
	FILE *f;
	size_t n;

	if (argc < 3 || mo_abi_from_name(argv[1]) < 0) {
		fprintf(stderr, "usage: malformed ABI FILE [--hex]\n");
		return 2;
	}
	abi = (enum mo_abi)mo_abi_from_name(argv[1]);
	f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	do {
		strbuf_grow(&in, 65536);
		n = fread(in.buf + in.len, 1, in.alloc - in.len - 1, f);
		in.len += n;
	} while (n);
	fclose(f);
	srand(1);

	if (hex) {
		char err[96];
		const char *line = in.buf, *end = in.buf + in.len;

		for (int r; (r = mo_hex_next(&line, end, &msg, err, sizeof(err)));)
			if (r > 0 && msg.len)
				check_message((const uint8_t *)msg.buf, msg.len,
					      ++msgno);
	} else {
		int stop = 0;

		for (size_t pos = 0, n; pos < in.len && !stop; pos += n) {
			n = mo_stream_next((const uint8_t *)in.buf + pos,
					   in.len - pos, abi, &stop);
			check_message((const uint8_t *)in.buf + pos, n, ++msgno);
		}
	}
	printf("%d messages, %d decodes, %d failures\n", msgno, checks,
	       failures);
	strbuf_release(&in);
	strbuf_release(&msg);
	return failures || !msgno ? 1 : 0;
}
