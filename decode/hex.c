/* decode/hex.c: hex word lines to message bytes. */
#include <stdio.h>
#include <string.h>

#include "decode/hex.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mo_hex_line(const char *line, size_t len, struct strbuf *out, char *err,
		size_t errlen)
{
	size_t i = 0;
	int words = 0;

	while (i < len && line[i] != '#') {
		size_t start, digits = 0;
		unsigned long v = 0;
		unsigned char b[4];

		if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++;
			continue;
		}
		start = i;
		if (i + 1 < len && line[i] == '0' && (line[i + 1] == 'x' || line[i + 1] == 'X'))
			i += 2;
		for (; i < len && line[i] != ' ' && line[i] != '\t' &&
		       line[i] != '\r' && line[i] != '#'; i++) {
			int h = hexval(line[i]);

			if (h < 0 || ++digits > 8) {
				digits = 9;
				break;
			}
			v = v << 4 | (unsigned long)h;
		}
		if (digits == 0 || digits > 8) {
			while (i < len && line[i] != ' ' && line[i] != '\t' &&
			       line[i] != '#')
				i++;
			snprintf(err, errlen, "'%.*s' is not a 32-bit hex word",
				 (int)(i - start > 40 ? 40 : i - start),
				 line + start);
			return -1;
		}
		b[0] = v & 0xff;
		b[1] = (v >> 8) & 0xff;
		b[2] = (v >> 16) & 0xff;
		b[3] = (v >> 24) & 0xff;
		strbuf_add(out, b, 4);
		words++;
	}
	return words;
}

int mo_hex_next(const char **cur, const char *end, struct strbuf *out,
		char *err, size_t errlen)
{
	const char *line = *cur, *eol;

	if (line >= end)
		return 0;
	eol = memchr(line, '\n', (size_t)(end - line));
	if (!eol)
		eol = end;
	*cur = eol + 1;
	strbuf_reset(out);
	return mo_hex_line(line, (size_t)(eol - line), out, err, errlen) < 0
	       ? -1 : 1;
}
