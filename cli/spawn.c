/* cli/spawn.c: start a pager and attach to it through its control socket. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/spawn.h"
#include "mach/control.h"

int spawn_pager(struct spawn *s, char **argv, const char **listen,
		unsigned nlisten)
{
	(void)listen;
	if (nlisten) {
		fprintf(stderr, "motrace: with a PAGER to start, its own addresses are served; drop --listen\n");
		return -1;
	}
	s->argv0 = argv[0];
	return 0;
}

int spawn_start(struct spawn *s, char **argv)
{
	int fds[2], errfds[2], e = 0;
	char c;
	ssize_t n;

	/*
	 * The child waits for the word to go; a failed exec comes back as
	 * its errno through a close-on-exec pipe.
	 */
	if (pipe(fds) < 0 || pipe2(errfds, O_CLOEXEC) < 0) {
		fprintf(stderr, "motrace: pipe: %s\n", strerror(errno));
		return -1;
	}
	s->pid = fork();
	if (s->pid < 0) {
		fprintf(stderr, "motrace: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!s->pid) {
		close(fds[1]);
		close(errfds[0]);
		if (s->own_group)
			setpgid(0, 0);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		close(fds[0]);
		setenv(MO_TAP_WAIT_ENV, "1", 1);
		setenv(MO_TAP_SESSION_ENV, "1", 1);
		execvp(argv[0], argv);
		e = errno;
		if (write(errfds[1], &e, sizeof(e)) != sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(fds[0]);
	close(errfds[1]);
	if (write(fds[1], "g", 1) != 1) {
		close(fds[1]);
		close(errfds[0]);
		return -1;
	}
	close(fds[1]);
	while ((n = read(errfds[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(errfds[0]);
	if (n == sizeof(e)) {
		fprintf(stderr, "motrace: cannot run '%s': %s\n", argv[0],
			strerror(e));
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return -1;
	}
	return 0;
}

int spawn_attach(struct spawn *s, struct mo_proxy *p,
		 const struct mo_attach_opts *opts, struct mo_attach **out)
{
	struct mo_attach_opts o = *opts;
	char pid[24];
	struct timespec ts = { 0, 5000000 };

	snprintf(pid, sizeof(pid), "%u", (unsigned)s->pid);
	o.quiet = 1;
	/* It waits 30 s for a tracer (mach/control.c); so does motrace. */
	for (int i = 0; i < 6000; i++) {
		/* Gone before it published: the session is its exit status. */
		if (spawn_exited(s)) {
			*out = NULL;
			return 0;
		}
		if ((*out = mo_attach_open(p, pid, &o)))
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "motrace: %s published no address within 30 s (is it a pager on libmotrace-mach?)\n",
		s->argv0);
	return -1;
}

int spawn_exited(struct spawn *s)
{
	int st;

	if (!s->pid)
		return 0;
	if (waitpid(s->pid, &st, WNOHANG) != s->pid)
		return 0;
	s->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	s->exited = 1;
	s->pid = 0;
	return 1;
}

void spawn_release(struct spawn *s, unsigned kernels)
{
	if (s->pid && kernels) {
		/* Detached: it finishes its kernels' work, then exits itself. */
		s->runs_on = 1;
		return;
	}
	/* A pager that is finishing gets a second to do so, then SIGTERM. */
	for (int i = 0; s->pid && i < 20 && !spawn_exited(s); i++)
		usleep(50000);
	if (s->pid) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}
