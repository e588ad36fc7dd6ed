/*
 * mach/addr.c: the rendezvous: publishing a send right under an address
 * and looking one up (doc/wire.md, "Rendezvous").
 *
 * unix:PATH sockets live in a directory only the user can enter and are
 * made 0600; both ends check that the peer runs under the same uid
 * (SO_PEERCRED, unix(7)). tcp:HOST:PORT listens on loopback by default,
 * and without a shared secret both ends check there too that the peer
 * runs under the same uid (/proc/net/tcp, proc(5)); any other address
 * needs a shared secret, given by a file only the user can read, and
 * with a secret the secret decides. A secret belongs to tcp: addresses:
 * given with a unix: one, it is not used.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <mach.h>
#include <mach/motrace.h>

#include "mach/ipc.h"
#include "mach/wire.h"

struct addr {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];
	char port[16];
};

static int addr_parse(const char *s, struct addr *a)
{
	const char *colon;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "unix:", 5)) {
		a->is_unix = 1;
		n = strlen(s + 5);
		if (n == 0 || n >= sizeof(a->path))
			return mo_error("%s: a unix: path must have 1 to %zu bytes",
					s, sizeof(a->path) - 1);
		memcpy(a->path, s + 5, n + 1);
		return 0;
	}
	if (strncmp(s, "tcp:", 4) || !(colon = strrchr(s + 4, ':')))
		return mo_error("%s: an address is unix:PATH or tcp:HOST:PORT", s);
	n = colon - (s + 4);
	if (n >= sizeof(a->host) || strlen(colon + 1) >= sizeof(a->port) ||
	    !colon[1])
		return mo_error("%s: host or port too long or missing", s);
	memcpy(a->host, s + 4, n);
	if (n >= 2 && a->host[0] == '[' && a->host[n - 1] == ']') {
		memmove(a->host, a->host + 1, n - 2);
		a->host[n - 2] = '\0';
	}
	if (!a->host[0])
		strcpy(a->host, "127.0.0.1");
	strcpy(a->port, colon + 1);
	return 0;
}

/* The key made from the first line of FILE, which only its owner may read. */
static int read_secret(const char *file, uint8_t *key)
{
	char buf[4096];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return mo_error("secret file %s: %s", file, strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		close(fd);
		return mo_error("secret file %s can be read by others (mode %04o)",
				file, (unsigned)st.st_mode & 07777);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return mo_error("secret file %s: %s", file, strerror(errno));
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0)
		return mo_error("secret file %s: the first line is empty", file);
	mo_secret_key(buf, len, key);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

/* How /proc/net/tcp{,6} writes an address: the words as the kernel holds them. */
static void proc_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		snprintf(out, len, "%08X:%04X", (unsigned)in->sin_addr.s_addr,
			 (unsigned)ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		uint32_t w[4];

		memcpy(w, &in6->sin6_addr, sizeof(w));
		snprintf(out, len, "%08X%08X%08X%08X:%04X", (unsigned)w[0],
			 (unsigned)w[1], (unsigned)w[2], (unsigned)w[3],
			 (unsigned)ntohs(in6->sin6_port));
	}
}

/*
 * The uid that owns the other end of the loopback TCP connection FD:
 * the socket whose local address is our peer's and whose remote address
 * is ours, as proc(5) lists it in /proc/net/tcp (or tcp6), established
 * (1) or, just after connect(), still the listener's request (SYN_RECV,
 * 3, listed with the listener's uid: Linux net/ipv4/tcp_ipv4.c,
 * get_openreq4). Returns it, or -1 with WHY set.
 */
static long tcp_peer_uid(int fd, char *why, size_t whylen)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	char want_local[64], want_remote[64], line[512];
	FILE *f;
	long uid = -1;

	if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	proc_addr(&peer, want_local, sizeof(want_local));
	proc_addr(&me, want_remote, sizeof(want_remote));
	/*
	 * The listing is not atomic: while a request becomes a socket, it
	 * may be in neither place the walk looks. Look again, a few times.
	 */
	for (int tries = 0; uid < 0 && tries < 20; tries++) {
		if (tries) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
		}
		f = fopen(peer.ss_family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", "re");
		if (!f) {
			snprintf(why, whylen, "/proc/net/tcp: %s", strerror(errno));
			return -1;
		}
		while (uid < 0 && fgets(line, sizeof(line), f)) {
			char local[64], remote[64];
			unsigned st;
			unsigned long u;

			/* sl local_address rem_address st tx:rx tr:when retrnsmt uid ... */
			if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %lu", local,
				   remote, &st, &u) == 4 &&
			    (st == 1 || st == 3) && !strcmp(local, want_local) &&
			    !strcmp(remote, want_remote))
				uid = (long)u;
		}
		fclose(f);
	}
	if (uid < 0) {
		char c;

		/* Refused by the other end first, which closed its socket. */
		if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			snprintf(why, whylen, "it closed the connection");
		else
			snprintf(why, whylen, "its socket is not in /proc/net/tcp");
	}
	return uid;
}

int mo_addr_check_peer(int fd, const char *addr, int has_secret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	char why[160];
	long uid;

	if (strncmp(addr, "unix:", 5)) {
		/* With a shared secret, the secret decides (doc/wire.md). */
		if (has_secret)
			return 0;
		if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
			return mo_error("%s: getpeername: %s", addr, strerror(errno));
		if (!is_loopback((struct sockaddr *)&peer))
			return mo_error("%s: tcp beyond loopback needs a secret file; refused",
					addr);
		if ((uid = tcp_peer_uid(fd, why, sizeof(why))) < 0)
			return mo_error("%s: cannot learn the peer's uid (%s); refused (a secret file lets other users in)",
					addr, why);
		if ((uid_t)uid != getuid())
			return mo_error("%s: peer runs as uid %ld, not %u; refused (a secret file lets other users in)",
					addr, uid, (unsigned)getuid());
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return mo_error("%s: cannot learn the peer's uid: %s", addr,
				strerror(errno));
	if (cred.uid != getuid())
		return mo_error("%s: peer pid %d runs as uid %u, not %u; refused",
				addr, (int)cred.pid, (unsigned)cred.uid,
				(unsigned)getuid());
	return 0;
}

void mo_addr_peer_name(int fd, const char *addr, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	if (!strncmp(addr, "unix:", 5)) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			snprintf(buf, len, "%s (pid %d)", addr, (int)cred.pid);
		else
			snprintf(buf, len, "%s", addr);
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(buf, len, "%s", addr);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "tcp:%s:%u", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

/*
 * Checks PATH's folder, creating it (0700) if missing. Returns 0 if it
 * is the user's alone; 1 if it is a shared folder with the sticky bit
 * (as /tmp), where others cannot remove or replace what we make, so
 * the socket itself must then be ours and 0600 (listen_unix checks);
 * -1 after a message otherwise.
 */
static int private_dir(const char *addr, const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0700) < 0 || stat(dir, &st) < 0)
			return mo_error("%s: directory %s: %s", addr, dir,
					strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return mo_error("%s: %s is not a directory", addr, dir);
	if (st.st_uid == getuid() && !(st.st_mode & 077))
		return 0;
	if ((st.st_mode & S_ISVTX) && (st.st_uid == getuid() || st.st_uid == 0))
		return 1;
	return mo_error("%s: directory %s (uid %u, mode %04o) lets others replace the socket: use a directory of your own with mode 0700, or a sticky one such as /tmp",
			addr, dir, (unsigned)st.st_uid, (unsigned)st.st_mode & 07777);
}

static int listen_unix(const char *addr, const struct addr *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, shared;

	if ((shared = private_dir(addr, a->path)) < 0)
		return -1;
	strcpy(sun.sun_path, a->path);
	if (lstat(a->path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return mo_error("%s: %s exists and is not a socket", addr,
					a->path);
		if (shared && st.st_uid != getuid())
			return mo_error("%s: %s is another user's socket (uid %u)", addr,
					a->path, (unsigned)st.st_uid);
		/* A socket nobody answers on is left over from a dead process. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
					  sizeof(sun)) == 0) {
			close(probe);
			return mo_error("%s: another process listens there", addr);
		}
		if (probe >= 0)
			close(probe);
		unlink(a->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mo_error("%s: socket: %s", addr, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(a->path, 0600) < 0 || listen(fd, 64) < 0) {
		mo_error("%s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	/* In a shared folder: what is at PATH now must be the socket we made. */
	if (shared && (lstat(a->path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
		       st.st_uid != getuid() || (st.st_mode & 07777) != 0600)) {
		close(fd);
		return mo_error("%s: the socket in the shared directory is not ours with mode 0600",
				addr);
	}
	return fd;
}

static int listen_tcp(const char *addr, const struct addr *a, int has_secret,
		      char **bound)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char name[160];
	int fd, one = 1, r;

	r = getaddrinfo(a->host, a->port, &hints, &res);
	if (r)
		return mo_error("%s: %s", addr, gai_strerror(r));
	if (!is_loopback(res->ai_addr) && !has_secret) {
		freeaddrinfo(res);
		return mo_error("%s: listening beyond loopback needs a secret file",
				addr);
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return mo_error("%s: socket: %s", addr, strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		mo_error("%s: %s", addr, strerror(errno));
		freeaddrinfo(res);
		close(fd);
		return -1;
	}
	freeaddrinfo(res);
	if (bound && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		char host[INET6_ADDRSTRLEN];

		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
				  host, sizeof(host));
			snprintf(name, sizeof(name), "tcp:%s:%u", host,
				 ntohs(((struct sockaddr_in *)&ss)->sin_port));
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  host, sizeof(host));
			snprintf(name, sizeof(name), "tcp:[%s]:%u", host,
				 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
		}
		*bound = strdup(name);
	}
	return fd;
}

/*
 * The listening socket of ADDR, with the checks of doc/wire.md
 * "Rendezvous", non-blocking; *KEY_SET says whether KEY holds the key of
 * SECRET_FILE (tcp: only). Returns it, or -1 after a message.
 */
static int listen_addr(const char *addr, struct addr *a, const char *secret_file,
		       uint8_t *key, int *key_set, char **bound)
{
	int fd;

	*key_set = 0;
	if (bound)
		*bound = NULL;
	if (addr_parse(addr, a) < 0)
		return -1;
	if (a->is_unix)
		secret_file = NULL;	/* the uid check is the rule there */
	if (secret_file && read_secret(secret_file, key) < 0)
		return -1;
	*key_set = secret_file != NULL;
	fd = a->is_unix ? listen_unix(addr, a) :
			  listen_tcp(addr, a, secret_file != NULL, bound);
	if (fd < 0)
		return -1;
	if (a->is_unix && bound)
		*bound = strdup(addr);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int mo_mach_listen(const char *addr, const char *secret_file,
		   unsigned char key[16], int *key_set, char **bound)
{
	struct addr a;

	return listen_addr(addr, &a, secret_file, key, key_set, bound);
}

int mo_mach_publish(const char *addr, mach_port_t port,
		    const char *secret_file, char **bound)
{
	uint8_t key[WIRE_KEY];
	struct addr a;
	struct entry *e;
	int fd, key_set;

	mo_init();
	fd = listen_addr(addr, &a, secret_file, key, &key_set, bound);
	if (fd < 0)
		return -1;
	if (!key_set)
		secret_file = NULL;
	/*
	 * The control socket, before the lock: under motrace -- PAGER, no
	 * kernel comes before motrace attached.
	 */
	mo_tap_wait();
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(port);
	if (!e || !(e->type & MACH_PORT_TYPE_RECEIVE)) {
		pthread_mutex_unlock(&mo_lock);
		close(fd);
		if (a.is_unix)
			unlink(a.path);
		return mo_error("%s: name %u is not a receive right", addr, port);
	}
	mo_kport_ref(e->port);
	mo_tap_publish(e->port, bound && *bound ? *bound : addr);
	mo_io_add_listener(fd, bound && *bound ? *bound : addr, e->port,
			secret_file ? key : NULL);
	pthread_mutex_unlock(&mo_lock);
	return 0;
}

int mo_mach_unpublish(const char *addr)
{
	struct addr a;
	int r;

	if (addr_parse(addr, &a) < 0)
		return -1;
	pthread_mutex_lock(&mo_lock);
	r = mo_io_remove_listener(addr);
	if (r == 0)
		mo_tap_unpublish(addr);
	pthread_mutex_unlock(&mo_lock);
	if (r < 0)
		return mo_error("%s: not published here", addr);
	if (a.is_unix)
		unlink(a.path);
	return 0;
}

int mo_mach_lookup(const char *addr, const char *secret_file,
		   mach_port_t *port)
{
	uint8_t key[WIRE_KEY];
	struct addr a;
	struct timeval tv = { 10, 0 };
	int fd = -1, one = 1;

	mo_init();
	*port = MACH_PORT_NULL;
	if (addr_parse(addr, &a) < 0)
		return -1;
	if (a.is_unix)
		secret_file = NULL;	/* the uid check is the rule there */
	if (secret_file && read_secret(secret_file, key) < 0)
		return -1;
	if (a.is_unix) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		strcpy(sun.sun_path, a.path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			mo_error("%s: %s", addr, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		if (mo_addr_check_peer(fd, addr, 0) < 0) {
			close(fd);
			return -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
					  .ai_flags = AI_NUMERICSERV };
		struct addrinfo *res, *ai;
		int r = getaddrinfo(a.host, a.port, &hints, &res);

		if (r)
			return mo_error("%s: %s", addr, gai_strerror(r));
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			return mo_error("%s: %s", addr, strerror(errno));
		/* Without a secret, the publisher must be ours, as for unix:
		 * (a socket not accepted yet already lists its listener's uid). */
		if (mo_addr_check_peer(fd, addr, secret_file != NULL) < 0) {
			close(fd);
			return -1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return mo_link_connect(fd, addr, secret_file ? key : NULL, port);
}
