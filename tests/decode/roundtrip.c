/*
 * tests/decode/roundtrip.c: decode, print, parse the text back, encode:
 * the bytes must be the original ones. For the MIG-made golden messages
 * this holds the encoder to what MIG's stubs send.
 *
 * usage: roundtrip ABI FILE [--hex]
 */
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/encode.h"
#include "decode/hex.h"
#include "decode/render.h"

static int failures, count;

/*
 * A reply's schema knows the types its receiver checks, not the server's
 * dispositions (MAKE_SEND arrives as PORT_SEND): compare replies as the
 * receiver sees them.
 */
static void normalize(uint8_t *m, size_t n, enum mo_abi abi)
{
	struct mo_decoded d;

	if (mo_decode(m, n, abi, &d) < 0 || !d.schema ||
	    d.schema->kind != MO_KIND_REPLY)
		return;
	for (unsigned i = 0; i < d.nitems; i++)
		if (!d.items[i].longform && mo_type_is_port(d.items[i].name))
			m[d.items[i].desc_off] =
				(uint8_t)mo_type_received(d.items[i].name);
}

static void check(const uint8_t *m, size_t n, enum mo_abi abi)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct mo_decoded d;
	struct mo_enc e;
	char err[200];

	uint8_t norm[65536];

	if (mo_decode(m, n, abi, &d) < 0 || !d.schema || n > sizeof(norm))
		return;		/* only well-formed, known messages round-trip */
	memcpy(norm, m, n);
	normalize(norm, n, abi);
	count++;
	mo_render_text(&text, m, &d, NULL);
	if (mo_parse_call(text.buf, abi, &e, err, sizeof(err)) < 0) {
		printf("parse failed: %s\n  %s\n", err, text.buf);
		failures++;
	} else {
		e.sent_view = d.sent_view;
		if (mo_encode(abi, &e, &out, err, sizeof(err)) < 0) {
			printf("encode failed: %s\n  %s\n", err, text.buf);
			failures++;
		} else if (out.len != n ||
			   (normalize((uint8_t *)out.buf, n, abi),
			    memcmp(out.buf, norm, n))) {
			printf("bytes differ (%zu vs %zu):\n  %s\n", out.len, n,
			       text.buf);
			for (size_t i = 0; i < n || i < out.len; i += 4)
				if (i + 4 > n || i + 4 > out.len ||
				    memcmp(out.buf + i, m + i, 4))
					printf("  at %zu\n", i);
			failures++;
		}
	}
	strbuf_release(&text);
	strbuf_release(&out);
}

int main(int argc, char **argv)
{
	static char in[1 << 20];
	struct strbuf msg = STRBUF_INIT;
	FILE *f;
	size_t len;
	int abi, stop = 0;

	if (argc < 3 || (abi = mo_abi_from_name(argv[1])) < 0 ||
	    !(f = fopen(argv[2], "rb"))) {
		fprintf(stderr, "usage: roundtrip ABI FILE [--hex]\n");
		return 2;
	}
	len = fread(in, 1, sizeof(in), f);
	fclose(f);
	if (argc > 3 && !strcmp(argv[3], "--hex")) {
		char err[96];

		const char *line = in;

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
	printf("%d messages round-tripped, %d failures\n", count, failures);
	strbuf_release(&msg);
	return failures || !count;
}
