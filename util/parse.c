/*
 * util/parse.c: numbers and sizes (util/parse.h).
 */
#include <stdio.h>
#include <string.h>

#include "util/parse.h"

static int fail(const char *what, const char *s, const char *why,
		char *err, size_t errlen)
{
	snprintf(err, errlen, "%s%s'%s' %s", what ? what : "", what ? ": " : "",
		 s, why);
	return -1;
}

int mo_parse_u64(const char *what, const char *s, unsigned flags,
		 uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t n = 0, unit = 1;
	unsigned base = 10, digits = 0;
	char why[96];

	snprintf(why, sizeof(why), "is not a number (decimal or 0x hex, with K, M, G, T%s)",
		 flags & MO_PARSE_PAGES ? " or p" : "");
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, digits++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (n > (UINT64_MAX - d) / base)
			return fail(what, s, "is too large", err, errlen);
		n = n * base + d;
	}
	if (!digits)
		return fail(what, s, why, err, errlen);
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': unit = 1ull << 10; p++; break;
	case 'm': case 'M': unit = 1ull << 20; p++; break;
	case 'g': case 'G': unit = 1ull << 30; p++; break;
	case 't': case 'T': unit = 1ull << 40; p++; break;
	case 'p':
		if (flags & MO_PARSE_PAGES) {
			unit = 4096;
			p++;
		}
		break;
	}
	if (*p)
		return fail(what, s, why, err, errlen);
	if (n > UINT64_MAX / unit || n * unit > max) {
		char at_most[48];

		snprintf(at_most, sizeof(at_most), "is too large (at most %llu)",
			 (unsigned long long)max);
		return fail(what, s, at_most, err, errlen);
	}
	*v = n * unit;
	return 0;
}
