/*
 * util/strbuf.h: growable text buffers (after git's strbuf).
 *
 * All text motrace builds goes through one of these. The buffer is always
 * NUL-terminated; an allocation failure aborts, as there is no sensible way
 * to go on without memory for text.
 */
#ifndef MO_STRBUF_H
#define MO_STRBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char strbuf_slopbuf[1];
#define STRBUF_INIT { strbuf_slopbuf, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fast number formatting for hot paths (no printf). */
void strbuf_addu(struct strbuf *sb, uint64_t v);
void strbuf_addi(struct strbuf *sb, int64_t v);
void strbuf_addhex(struct strbuf *sb, uint64_t v);	/* 0x... */
/* Appends everything F holds; returns 0, or -1 with errno on a read error. */
int strbuf_fread_all(struct strbuf *sb, FILE *f);
/* A JSON string literal, quotes included. */
void strbuf_addjson(struct strbuf *sb, const char *s);

#endif
