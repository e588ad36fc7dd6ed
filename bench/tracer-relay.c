/*
 * bench/tracer-relay.c: the floor that bench/tracer-bench.sh measures
 * motrace against: a relay that copies bytes between kernels and a pager
 * and does nothing else.
 *
 *   tracer-relay unix:LISTEN-PATH unix:PAGER-PATH
 *
 * Each connection accepted at LISTEN-PATH gets its own connection to
 * PAGER-PATH, and bytes are copied both ways until either side closes.
 * The wire format (doc/wire.md) is per connection, hello included, so a
 * byte copy is transparent; the peer-credential checks of mach/addr.c
 * see the relay, which runs as the same user. One thread, one poll loop,
 * non-blocking sockets: a full socket buffer stops reading from the other
 * side instead of blocking the relay, the same promise motrace keeps
 * (DESIGN.md: "never block the proxy on one peer").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_PAIRS 256
#define BUF_SIZE 65536

/* One direction of a pair: bytes read from FROM wait in BUF for TO. */
struct dir {
	int from, to;
	size_t off, len;
	char buf[BUF_SIZE];
};

struct pair {
	int used;
	struct dir d[2];
};

static struct pair pairs[MAX_PAIRS];

static int unix_path(const char *addr, struct sockaddr_un *sun)
{
	if (strncmp(addr, "unix:", 5) || strlen(addr + 5) >= sizeof(sun->sun_path)) {
		fprintf(stderr, "tracer-relay: %s: not a unix:PATH address\n", addr);
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, addr + 5);
	return 0;
}

static int nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void pair_close(struct pair *p)
{
	close(p->d[0].from);
	close(p->d[0].to);
	p->used = 0;
}

static void pair_open(int kfd, const struct sockaddr_un *pager)
{
	int pfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pair *p = NULL;

	for (int i = 0; i < MAX_PAIRS && !p; i++)
		if (!pairs[i].used)
			p = &pairs[i];
	if (!p || pfd < 0 ||
	    connect(pfd, (const struct sockaddr *)pager, sizeof(*pager)) < 0) {
		fprintf(stderr, "tracer-relay: %s: %s\n", pager->sun_path,
			p ? strerror(errno) : "too many connections");
		if (pfd >= 0)
			close(pfd);
		close(kfd);
		return;
	}
	nonblock(kfd);
	nonblock(pfd);
	p->used = 1;
	p->d[0].from = kfd;
	p->d[0].to = pfd;
	p->d[1].from = pfd;
	p->d[1].to = kfd;
	p->d[0].off = p->d[0].len = p->d[1].off = p->d[1].len = 0;
}

/*
 * Moves what it can of D: writes what waits, then reads more while the
 * buffer is empty. Returns -1 when either end has closed.
 */
static int dir_pump(struct dir *d)
{
	for (;;) {
		ssize_t n;

		while (d->off < d->len) {
			n = write(d->to, d->buf + d->off, d->len - d->off);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			d->off += (size_t)n;
		}
		d->off = d->len = 0;
		n = read(d->from, d->buf, sizeof(d->buf));
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		d->len = (size_t)n;
	}
}

int main(int argc, char **argv)
{
	static struct pollfd pf[1 + 2 * MAX_PAIRS];
	static int who[1 + 2 * MAX_PAIRS];	/* pair * 2 + direction */
	struct sockaddr_un here, pager;
	int lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: tracer-relay unix:LISTEN-PATH unix:PAGER-PATH\n");
		return 2;
	}
	if (unix_path(argv[1], &here) < 0 || unix_path(argv[2], &pager) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	unlink(here.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&here, sizeof(here)) < 0 ||
	    chmod(here.sun_path, 0600) < 0 || listen(lfd, 64) < 0) {
		fprintf(stderr, "tracer-relay: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		int n = 1;

		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (int i = 0; i < MAX_PAIRS; i++) {
			if (!pairs[i].used)
				continue;
			for (int j = 0; j < 2; j++) {
				struct dir *d = &pairs[i].d[j];

				/* Wait for room when bytes wait, else for bytes. */
				pf[n].fd = d->off < d->len ? d->to : d->from;
				pf[n].events = d->off < d->len ? POLLOUT : POLLIN;
				who[n++] = i * 2 + j;
			}
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tracer-relay: poll: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 1; i < n; i++) {
			struct pair *p = &pairs[who[i] / 2];

			/* A pair closed earlier in this round leaves entries. */
			if (!pf[i].revents || !p->used)
				continue;
			if (dir_pump(&p->d[who[i] % 2]) < 0)
				pair_close(p);
		}
		/* After the pumps, so that a new pair is not in this round's PF. */
		if (pf[0].revents & POLLIN) {
			int kfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (kfd >= 0)
				pair_open(kfd, &pager);
		}
	}
}
