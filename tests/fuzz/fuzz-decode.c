/*
 * tests/fuzz/fuzz-decode.c: libFuzzer target for the decoder and both
 * renderers.
 *
 * Input: one control byte, then messages. Bits 0-1 of the control byte
 * pick the ABI profile (enum mo_abi: 3 is x86_64-2023); bit 2 says the messages are
 * hex word lines rather than a binary stream. Each message is decoded from
 * a buffer of exactly its length, so a read past it is caught.
 */
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/hex.h"
#include "decode/render.h"

static void one(const uint8_t *p, size_t n, enum mo_abi abi,
		struct strbuf *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	struct mo_decoded d;

	memcpy(copy, p, n);
	mo_decode(copy, n, abi, &d);
	strbuf_reset(out);
	mo_render_text(out, copy, &d, NULL);
	mo_render_json(out, copy, &d, NULL);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT, msg = STRBUF_INIT;
	enum mo_abi abi;
	int stop = 0;

	if (!size)
		return 0;
	abi = (enum mo_abi)((data[0] & 3) % MO_ABI_COUNT);
	if (data[0] & 4) {
		const char *line = (const char *)data + 1;
		const char *end = (const char *)data + size;
		char err[96];

		for (int r; (r = mo_hex_next(&line, end, &msg, err, sizeof(err)));)
			if (r > 0 && msg.len)
				one((const uint8_t *)msg.buf, msg.len, abi, &out);
	} else {
		for (size_t pos = 1, n; pos < size && !stop; pos += n) {
			n = mo_stream_next(data + pos, size - pos, abi, &stop);
			one(data + pos, n, abi, &out);
		}
	}
	strbuf_release(&out);
	strbuf_release(&msg);
	return 0;
}
