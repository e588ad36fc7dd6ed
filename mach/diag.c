/*
 * mach/diag.c: the library's diagnostics on stderr. Each is one line
 * written with one write(2), so that lines of several threads (and
 * processes sharing the terminal) never interleave.
 *
 * A peer that goes away is normal in Mach (its ports die, the notifications
 * say so): that is told only with MOTRACE_MACH_DEBUG set in the
 * environment (mo_debug).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mach/ipc.h"

static void say(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno, n, p;

	p = snprintf(line, sizeof(line), "motrace-mach: %s", prefix);
	n = vsnprintf(line + p, sizeof(line) - p - 1, fmt, ap);
	if (n < 0)
		n = 0;
	n += p;
	if (n > (int)sizeof(line) - 2) {
		n = (int)sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

void mo_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

int mo_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

int mo_debugging(void)
{
	static int on = -1;

	if (on < 0) {
		const char *v = getenv("MOTRACE_MACH_DEBUG");

		on = v && *v && strcmp(v, "0");
	}
	return on;
}

void mo_debug(const char *fmt, ...)
{
	va_list ap;

	if (!mo_debugging())
		return;
	va_start(ap, fmt);
	say("debug: ", fmt, ap);
	va_end(ap);
}
