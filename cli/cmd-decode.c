/*
 * cli/cmd-decode.c: motrace decode: raw messages in, one line each out.
 *
 * Input is either a binary concatenation of messages (each one's msgh_size
 * gives its length) or, with --hex, one message per line as 32-bit
 * little-endian words in hex, the form kernel debug dumps use.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "decode/decode.h"
#include "decode/hex.h"
#include "decode/render.h"
#include "util/strbuf.h"

struct decode_opts {
	enum mo_abi abi;
	int json;
	int hex;
	struct mo_render_opts render;
};

static const char decode_usage[] =
	"[--abi x86_64|user32|i386|x86_64-2023] [--json] [--hex] [--page-size N] [FILE|-]";

static void decode_help(FILE *out)
{
	fprintf(out,
		"usage: motrace decode %s\n"
		"\n"
		"Decode raw Mach messages into named, typed arguments.\n"
		"\n"
		"  --abi PROFILE   the message layout: x86_64 (default; 64-bit Linux\n"
		"                  processes), user32 (x86-64 GNU Mach with 32-bit\n"
		"                  tasks), i386 (32-bit GNU Mach), x86_64-2023\n"
		"                  (x86-64 GNU Mach with 64-bit tasks, as since 2023)\n"
		"  --json          one JSON object per message instead of text\n"
		"  --hex           input is text: one message per line, as 32-bit\n"
		"                  little-endian words in hex; '#' starts a comment\n"
		"  --page-size N   page size for the [page N] of offsets (4096)\n"
		"  -h, --help      show this help\n"
		"\n"
		"Without FILE, or with '-', reads standard input. Exit status: 0 when\n"
		"every message is well formed, 1 when any is truncated or malformed,\n"
		"2 on a usage or input error.\n",
		decode_usage);
}

/* Decodes and prints one message; returns 0 if it was well formed. */
static int emit(const uint8_t *buf, size_t len, const struct decode_opts *o,
		struct strbuf *out, const char *extra_err)
{
	struct mo_decoded d;
	int r = mo_decode(buf, len, o->abi, &d);

	if (extra_err && d.status == MO_OK) {
		d.status = MO_MALFORMED;
		snprintf(d.err, sizeof(d.err), "%s", extra_err);
		r = -1;
	}
	strbuf_reset(out);
	if (o->json)
		mo_render_json(out, buf, &d, &o->render);
	else
		mo_render_text(out, buf, &d, &o->render);
	strbuf_addch(out, '\n');
	fwrite(out->buf, 1, out->len, stdout);
	return r;
}

static int decode_binary(const struct strbuf *in, const struct decode_opts *o)
{
	const uint8_t *p = (const uint8_t *)in->buf;
	size_t left = in->len;
	struct strbuf out = STRBUF_INIT;
	int bad = 0, stop = 0;

	while (left && !stop) {
		size_t n = mo_stream_next(p, left, o->abi, &stop);

		bad |= emit(p, n, o, &out, NULL);
		if (stop && n >= mo_abi_info(o->abi)->header_size)
			fprintf(stderr,
				"motrace decode: bad msgh_size at byte %zu of the input: cannot find the next message\n",
				(size_t)(p - (const uint8_t *)in->buf));
		p += n;
		left -= n;
	}
	strbuf_release(&out);
	return bad ? 1 : 0;
}

static int decode_hex(struct strbuf *in, const struct decode_opts *o)
{
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT;
	const char *line = in->buf;
	unsigned lineno = 0;
	int bad = 0;

	for (;;) {
		char err[96] = "";
		size_t hsize = mo_abi_info(o->abi)->header_size;
		int r = mo_hex_next(&line, in->buf + in->len, &msg, err,
				    sizeof(err));

		if (!r)
			break;
		lineno++;
		if (r < 0) {
			fprintf(stderr, "motrace decode: line %u: %s\n", lineno,
				err);
			bad = 1;
			continue;
		}
		if (!msg.len)
			continue;
		if (msg.len >= 8) {
			const uint8_t *b = (const uint8_t *)msg.buf;
			uint32_t size = (uint32_t)b[4] | (uint32_t)b[5] << 8 |
					(uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;

			if (size >= hsize && size < msg.len)
				snprintf(err, sizeof(err),
					 "line %u has %zu bytes after msgh_size %u",
					 lineno, msg.len - size, size);
		}
		bad |= emit((const uint8_t *)msg.buf, msg.len, o, &out,
			    err[0] ? err : NULL);
	}
	strbuf_release(&msg);
	strbuf_release(&out);
	return bad ? 1 : 0;
}

static int cmd_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "abi", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct decode_opts o = { .abi = MO_ABI_X86_64 };
	struct strbuf in = STRBUF_INIT;
	const char *path;
	int c, r;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (cli_abi("motrace decode", optarg, &o.abi) < 0)
				return 2;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'x':
			o.hex = 1;
			break;
		case 'p':
			errno = 0;
			o.render.page_size = strtoull(optarg, &end, 0);
			if (*end || errno || !o.render.page_size ||
			    (o.render.page_size & (o.render.page_size - 1))) {
				fprintf(stderr,
					"motrace decode: page size '%s' is not a power of two\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			decode_help(stdout);
			return 0;
		default:
			return cli_bad_option("motrace decode", c, argv);
		}
	}
	if ((r = cli_read_input("motrace decode", argc, argv, optind, &in,
				&path)) != 0) {
		strbuf_release(&in);
		return r;
	}
	r = o.hex ? decode_hex(&in, &o) : decode_binary(&in, &o);
	strbuf_release(&in);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "motrace decode: cannot write output: %s\n",
			strerror(errno));
		return 2;
	}
	return r;
}

const struct cmd_entry cmd_decode_entry = {
	.name = "decode",
	.usage = decode_usage,
	.summary = "decode raw Mach messages (binary or hex words)",
	.exec = cmd_decode,
};
