/*
 * util/error.c: one way to say an error (util/error.h).
 */
#include <stdio.h>

#include "util/error.h"

static mo_err_fn *routine;
static void *routine_ctx;
static const char *prefix = "motrace";

void mo_set_err_routine(mo_err_fn *fn, void *ctx)
{
	routine = fn;
	routine_ctx = ctx;
}

void mo_set_err_prefix(const char *p)
{
	prefix = p;
}

int mo_verr(const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (routine)
		routine(msg, routine_ctx);
	else
		fprintf(stderr, "%s: %s\n", prefix, msg);
	return -1;
}

int mo_err(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = mo_verr(fmt, ap);
	va_end(ap);
	return r;
}
