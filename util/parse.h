/*
 * util/parse.h: the one parser of numbers and sizes given on command
 * lines and in scripts.
 *
 * A number is decimal ("4096") or hexadecimal with 0x ("0x1000"); no
 * sign, no octal (a leading 0 is decimal). It may end in one suffix: K, M,
 * G or T (either case; powers of 1024), or, where the caller passes
 * MO_PARSE_PAGES, p for pages of 4096 bytes ("3p" is 12288). Overflow, and
 * values above the caller's maximum, are errors.
 */
#ifndef MO_PARSE_H
#define MO_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define MO_PARSE_PAGES	1u	/* "Np": N pages of 4096 bytes */

/*
 * Parses S into *V: the whole string, at most MAX. Returns 0, or -1 with
 * a message in ERR (ERRLEN bytes) that names WHAT (an option, an operand;
 * NULL names nothing) and the text, as "--size: '64Q' is not a number
 * (decimal or 0x hex, with K, M, G, T or p)".
 */
int mo_parse_u64(const char *what, const char *s, unsigned flags,
		 uint64_t max, uint64_t *v, char *err, size_t errlen);

#endif
