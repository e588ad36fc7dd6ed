/*
 * decode/hex.h: messages written as 32-bit little-endian words in hex, one
 * message per line, the form kernel debug dumps use.
 */
#ifndef MO_HEX_H
#define MO_HEX_H

#include <stddef.h>

#include "util/strbuf.h"

/*
 * Appends the bytes of the words on LINE (up to LEN bytes; a '#' starts a
 * comment) to OUT. Returns the number of words, or -1 with ERR naming the
 * token that is not a 32-bit hex word.
 */
int mo_hex_line(const char *line, size_t len, struct strbuf *out, char *err,
		size_t errlen);

/*
 * Reads the next line of [*CUR, END) into OUT (reset first) and moves
 * *CUR past it. Returns 1 (OUT may be empty: a blank or comment line),
 * 0 at the end, -1 with ERR when the line has a bad word.
 */
int mo_hex_next(const char **cur, const char *end, struct strbuf *out,
		char *err, size_t errlen);

#endif
