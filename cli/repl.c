/*
 * cli/repl.c: the interactive debugger's prompt, on readline's callback
 * interface.
 *
 * The main loop stays the proxy's: it watches the terminal as one of its
 * descriptors (mo_engine_add_fd) and, in its own thread, feeds readline,
 * which calls back with whole lines, and those run as commands of the
 * one table (cli/dbg.c) between messages, as -ex commands do. So no
 * thread but the loop's touches the engine. The log and the commands' output go through
 * a stream that takes the prompt and the half-typed line off the screen,
 * writes, and puts them back, so that no line splits what is typed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli/batch.h"
#include "cli/repl.h"
#include "decode/decode.h"
#include "plugins/loader.h"
#include "tracer/engine.h"
#include "tracer/trace.h"

#define PROMPT "(motrace) "

static struct repl *the;	/* readline's callbacks have no context */

/*
 * Reads what was typed; readline calls on_line with each whole line,
 * which only queues it for the batch. Ctrl-D, or a terminal that hung
 * up, ends the session.
 */
static void read_typed(struct repl *r)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	while (!r->done && poll(&pfd, 1, 0) > 0) {
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL) &&
		    !(pfd.revents & POLLIN)) {
			r->done = 1;
			break;
		}
		rl_callback_read_char();
	}
}

/* The loop found the terminal readable (mo_engine_add_fd). */
static void on_terminal(void *ctx, int fd, unsigned revents)
{
	struct repl *r = ctx;

	(void)revents;
	read_typed(r);
	/* A terminal that is gone stays readable: watching it would spin. */
	if (r->done && r->e) {
		mo_engine_remove_fd(r->e, fd);
		r->watching = 0;
	}
}

/* Output above the prompt: the typed line comes back after it. */
static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	int fd = *(int *)cookie;
	struct repl *r = the;
	char *saved = NULL;
	int point = 0, hide = r && r->prompting;
	size_t done = 0;

	if (hide) {
		point = rl_point;
		saved = rl_copy_text(0, rl_end);
		rl_set_prompt("");
		rl_replace_line("", 0);
		rl_redisplay();
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	if (hide) {
		rl_set_prompt(PROMPT);
		rl_replace_line(saved ? saved : "", 0);
		rl_point = point;
		rl_redisplay();
		free(saved);
	}
	return (ssize_t)done;
}

static int fds[2] = { STDOUT_FILENO, STDERR_FILENO };

FILE *repl_stream(int fd)
{
	cookie_io_functions_t io = { .write = out_write };
	FILE *f = fopencookie(fd == STDERR_FILENO ? &fds[1] : &fds[0], "w", io);

	if (f)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static void on_line(char *line)
{
	struct repl *r = the;

	if (!line) {
		/* Ctrl-D: as quit. */
		fputs("quit\n", r->out);
		r->done = 1;
		return;
	}
	if (*line) {
		HIST_ENTRY *last = history_length ? history_get(history_base +
							       history_length - 1)
						  : NULL;

		if (!last || strcmp(last->line, line))
			add_history(line);
		batch_add(r->batch, line, "(motrace)", ++r->lineno);
		r->pending = 1;
	}
	free(line);
}

/* Completion: command names first, then message names and known words. */
static char *complete_from(const char *text, int state, int words)
{
	static size_t i, j;
	static const struct mo_abi_info *abi;
	size_t n = strlen(text);

	if (!state) {
		i = 0;
		j = 0;
		abi = mo_abi_info(MO_ABI_X86_64);
	}
	if (!words) {
		for (; dbg_table[i].name; i++)
			if (!strncmp(dbg_table[i].name, text, n))
				return strdup(dbg_table[i++].name);
		return NULL;
	}
	/* Message names, with and without memory_object_. */
	for (; j < 2 * *abi->schema_count; j++) {
		const char *name = abi->schema[j / 2].name;

		if (j % 2 && !strncmp(name, "memory_object_", 14))
			name += 14;
		else if (j % 2)
			continue;
		if (!strncmp(name, text, n)) {
			j++;
			return strdup(name);
		}
	}
	{
		static const char *const extra[] = {
			"objects", "kernels", "breakpoints", "stopped", "rules",
			"watchpoints", "all", "load", "unload", "list", "within",
			"page", "object", "kernel", "stop", "if", "filter",
			"timestamps", "latency", "rule", NULL,
		};
		size_t k = j - 2 * *abi->schema_count;

		for (; extra[k]; k++, j++)
			if (!strncmp(extra[k], text, n)) {
				j++;
				return strdup(extra[k]);
			}
	}
	return NULL;
}

static char *complete_command(const char *text, int state)
{
	return complete_from(text, state, 0);
}

static char *complete_word(const char *text, int state)
{
	return complete_from(text, state, 1);
}

/* After "if": the fields a breakpoint's condition may name. */
static char *complete_field(const char *text, int state)
{
	static size_t i;
	size_t n = strlen(text);

	if (!state)
		i = 0;
	for (; dbg_cond_fields[i]; i++)
		if (!strncmp(dbg_cond_fields[i], text, n))
			return strdup(dbg_cond_fields[i++]);
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	int first = 1;

	for (int k = 0; k < start; k++)
		if (rl_line_buffer[k] != ' ' && rl_line_buffer[k] != '\t')
			first = 0;
	rl_attempted_completion_over = 1;
	if (!first) {
		for (int k = 0; k + 2 < start; k++)
			if ((k == 0 || rl_line_buffer[k - 1] == ' ') &&
			    !strncmp(rl_line_buffer + k, "if ", 3))
				return rl_completion_matches(text, complete_field);
	}
	return rl_completion_matches(text, first ? complete_command : complete_word);
}

static char *history_path(void)
{
	const char *env = getenv("MOTRACE_HISTORY"), *home = getenv("HOME");
	char *p = NULL;

	if (env && *env)
		return strdup(env);
	if (home && asprintf(&p, "%s/.motrace_history", home) < 0)
		p = NULL;
	return p;
}

int repl_start(struct repl *r, struct batch *b, struct mo_engine *e,
	       int no_init)
{
	const char *home = getenv("HOME");

	memset(r, 0, sizeof(*r));
	the = r;
	r->batch = b;
	b->interactive = 1;
	r->e = e;
	r->out = b->out;
	/* ~/.motracerc first, as gdb's ~/.gdbinit; -nx leaves it out. */
	if (!no_init && home) {
		char *rc;

		if (asprintf(&rc, "%s/.motracerc", home) >= 0) {
			if (access(rc, R_OK) == 0 && batch_add_file(b, rc) < 0) {
				free(rc);
				return -1;
			}
			free(rc);
		}
	}
	rl_readline_name = "motrace";
	rl_attempted_completion_function = complete;
	/* motrace's loop owns SIGINT; readline's would only redraw. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 1;
	using_history();
	stifle_history(1000);
	r->history = history_path();
	if (r->history)
		read_history(r->history);
	rl_callback_handler_install(PROMPT, on_line);
	r->prompting = 1;
	/* The commands' errors go above the prompt too. */
	r->old_stderr = stderr;
	r->err = repl_stream(STDERR_FILENO);
	if (r->err)
		stderr = r->err;
	/* Without a loop (a recording), repl_idle reads itself. */
	if (!e)
		return 0;
	if (mo_engine_add_fd(e, STDIN_FILENO, POLLIN, on_terminal, r) < 0) {
		fprintf(stderr, "motrace: the loop cannot watch the terminal\n");
		rl_callback_handler_remove();
		return -1;
	}
	r->watching = 1;
	return 0;
}

void repl_interrupt(struct repl *r, int second)
{
	if (second)
		fputs("\nsecond Ctrl-C: quitting\n", r->out);
	else
		fputs("\nCtrl-C: all traffic stopped; 'continue' lets it go, Ctrl-C again quits\n",
		      r->out);
	rl_replace_line("", 0);
	rl_redisplay();
}

void repl_stop(struct repl *r)
{
	if (the != r)
		return;
	if (r->watching) {
		mo_engine_remove_fd(r->e, STDIN_FILENO);
		r->watching = 0;
	}
	r->prompting = 0;
	if (r->err) {
		stderr = r->old_stderr;
		fclose(r->err);
	}
	rl_callback_handler_remove();
	/* Leave the cursor on a fresh line for the shell. */
	fputc('\n', stdout);
	fflush(stdout);
	if (r->history) {
		write_history(r->history);
		free(r->history);
	}
	the = NULL;
}

int repl_idle(void *ctx)
{
	struct repl *r = ctx;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	if (!r->done && poll(&pfd, 1, 200) > 0)
		read_typed(r);
	return r->done;
}

int repl_start_recording(struct repl *r, struct batch *b,
			 struct mo_trace_opts *o, int no_init)
{
	FILE *log = repl_stream(fileno(o->out)), *out = repl_stream(STDOUT_FILENO);

	if (!log || !out) {
		fprintf(stderr, "motrace: cannot set up the terminal's streams\n");
		return -1;
	}
	o->out = log;
	b->out = out;
	if (repl_start(r, b, NULL, no_init) < 0)
		return -1;
	b->idle = repl_idle;
	b->idle_ctx = r;
	return 0;
}
