/*
 * util/error.h: how a lower layer says what went wrong (git's error()).
 *
 * A function that fails says why, naming the thing (lowercase, no full
 * stop), and returns -1 or NULL to its caller; only main decides to exit.
 * Where the message shows is the front end's choice: standard error by
 * default, or a routine it sets (a curses view draws it in its status
 * line, a debugger prints it above its prompt).
 */
#ifndef MO_ERROR_H
#define MO_ERROR_H

#include <stdarg.h>

/* Says "PREFIX: MESSAGE" through the error routine; returns -1. */
int mo_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mo_verr(const char *fmt, va_list ap);

/* Where messages go: FN(MESSAGE, CTX), MESSAGE without prefix or newline;
 * NULL: standard error again. */
typedef void mo_err_fn(const char *msg, void *ctx);
void mo_set_err_routine(mo_err_fn *fn, void *ctx);

/* The program's name before each message on standard error ("motrace"). */
void mo_set_err_prefix(const char *prefix);

#endif
