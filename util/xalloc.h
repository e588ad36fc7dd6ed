/*
 * util/xalloc.h: the one allocation-failure policy.
 *
 * Memory that cannot be had is the end of the process: it says how much
 * it asked for and aborts (a core to look at). A proxy that went on
 * without the memory for a message would lose that message, and every
 * caller would need a path that loses nothing for a case that never
 * happens under a sane limit; what comes from outside is bounded before
 * it is allocated (message sizes, MO_SCHED_MAX, MO_MODEL_MAX_PAGES), so
 * a failure here is the machine's, not a peer's doing.
 *
 * Header-only, so that every library (libmotrace-mach included) has it
 * without another object.
 */
#ifndef MO_XALLOC_H
#define MO_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void mo_oom(size_t n)
{
	fprintf(stderr, "motrace: out of memory (%zu bytes)\n", n);
	abort();
}

/* malloc, calloc, realloc and strdup that return memory or abort. */
static inline void *mo_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		mo_oom(n);
	return p;
}

static inline void *mo_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		mo_oom(n * size);
	return p;
}

static inline void *mo_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		mo_oom(n);
	return p;
}

static inline char *mo_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		mo_oom(strlen(s) + 1);
	return p;
}

#endif
