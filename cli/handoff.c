/*
 * cli/handoff.c: motrace --listen A --to P handed to the pager
 * (handoff.h; doc/attach.md, "--listen and --to").
 *
 * Which process listens at P: for unix:, the peer's credentials on a
 * connection to it (SO_PEERCRED, unix(7): the pid of the process that
 * called listen); for tcp: on loopback, the owner of the listening socket
 * that /proc/net/tcp (or tcp6) names by its inode (proc(5)), found among
 * the descriptors of the processes motrace may look into.
 */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <mach/motrace.h>

#include "cli/handoff.h"
#include "util/error.h"

/* The unix: sockets handed over: removed at the end if still ours. */
static struct handed {
	char *path;
	dev_t dev;
	ino_t ino;
} handed[16];
static unsigned nhanded;

/* What came of looking for the process at P. */
enum { FOUND, UNREACHABLE, NOT_HERE };

static int unix_pid(const char *path, pid_t *pid, uid_t *uid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return UNREACHABLE;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return UNREACHABLE;
	}
	close(fd);
	*pid = cred.pid;
	*uid = cred.uid;
	return FOUND;
}

/* The pid whose descriptors hold socket inode INODE, or 0. */
static pid_t socket_owner(unsigned long inode)
{
	char want[64], link[64], fdpath[600];
	DIR *proc = opendir("/proc");
	struct dirent *p;
	pid_t found = 0;

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!found && (p = readdir(proc))) {
		DIR *fds;
		struct dirent *f;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/%s/fd", p->d_name);
		if (!(fds = opendir(fdpath)))
			continue;
		while ((f = readdir(fds))) {
			ssize_t n;

			snprintf(fdpath, sizeof(fdpath), "/proc/%s/fd/%s", p->d_name,
				 f->d_name);
			n = readlink(fdpath, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (!strcmp(link, want)) {
				found = (pid_t)atoi(p->d_name);
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* The process listening on loopback at TCP port PORT (host order). */
static int tcp_pid(unsigned port, int v6, pid_t *pid, uid_t *uid)
{
	FILE *f = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "re");
	char line[512];
	unsigned long inode = 0;

	if (!f)
		return NOT_HERE;
	while (!inode && fgets(line, sizeof(line), f)) {
		char local[64], *colon;
		unsigned st;
		unsigned long u, ino;

		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %lu %*s %lu", local,
			   &st, &u, &ino) != 4 || st != 0x0a ||
		    !(colon = strchr(local, ':')) ||
		    strtoul(colon + 1, NULL, 16) != port)
			continue;
		*uid = (uid_t)u;
		inode = ino;
	}
	fclose(f);
	if (!inode || !(*pid = socket_owner(inode)))
		return NOT_HERE;
	return FOUND;
}

/*
 * The pid and uid of the process listening at TO; WHY says why not when
 * it is NOT_HERE (UNREACHABLE: nothing listens; the relay says so).
 */
static int pager_of(const char *to, pid_t *pid, uid_t *uid, char *why,
		    size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256];
	const char *colon;
	size_t n;
	int r, v6, local;
	unsigned port;

	if (!strncmp(to, "unix:", 5))
		return unix_pid(to + 5, pid, uid);
	if (strncmp(to, "tcp:", 4) || !(colon = strrchr(to + 4, ':')))
		return UNREACHABLE;
	n = (size_t)(colon - (to + 4));
	if (n >= sizeof(host))
		return UNREACHABLE;
	memcpy(host, to + 4, n);
	host[n] = '\0';
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res))
		return UNREACHABLE;
	v6 = res->ai_family == AF_INET6;
	local = v6 ? IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr)
		   : (ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr) >> 24) == 127;
	port = ntohs(v6 ? ((struct sockaddr_in6 *)res->ai_addr)->sin6_port
		     : ((struct sockaddr_in *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	if (!local) {
		snprintf(why, whylen, "%s is not this host's loopback: motrace cannot reach that pager's control socket",
			 to);
		return NOT_HERE;
	}
	r = tcp_pid(port, v6, pid, uid);
	if (r != FOUND)
		snprintf(why, whylen, "no process of motrace's user listens at %s",
			 to);
	return r;
}

/* The relay, as the proxy always did, with the reason said once. */
static int relay(struct mo_proxy *p, const char *listen, const char *to,
		 const char *why)
{
	if (mo_proxy_add(p, listen, to) < 0)
		return -1;
	if (why)
		fprintf(stderr, "motrace: %s: relayed to the manager at %s (%s); ending motrace cuts off the kernels connected there, whose rights are to motrace's own ports\n",
			listen, to, why);
	return 0;
}

/* Remembers LISTEN's socket (a unix: one, ST) to remove it at the end. */
static void remember(const char *listen, const struct stat *st)
{
	if (strncmp(listen, "unix:", 5) || nhanded == 16)
		return;
	handed[nhanded].path = strdup(listen + 5);
	handed[nhanded].dev = st->st_dev;
	handed[nhanded].ino = st->st_ino;
	if (handed[nhanded].path)
		nhanded++;
}

/* Removes LISTEN's socket if it is the one motrace made. */
static void forget(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev &&
	    st.st_ino == ino)
		unlink(path);
}

int handoff_add(struct mo_proxy *p, const char *listen, const char *to,
		const char *secret, int relayed)
{
	struct mo_attach_opts ao = { .handoff = 1 };
	struct mo_attach *a;
	unsigned char key[16];
	char why[400], target[24], *bound = NULL;
	pid_t pid = 0;
	uid_t uid = 0;
	struct stat st;
	int lfd, key_set = 0, r, opened = 1;

	if (relayed)
		return relay(p, listen, to, "--relay");
	why[0] = '\0';
	r = pager_of(to, &pid, &uid, why, sizeof(why));
	if (r == UNREACHABLE)
		return relay(p, listen, to, NULL);	/* which says it cannot */
	if (r == NOT_HERE)
		return relay(p, listen, to, why);
	if (uid != getuid()) {
		snprintf(why, sizeof(why), "pid %u runs as uid %u, motrace as uid %u: the pager would refuse the kernels motrace lets in",
			 (unsigned)pid, (unsigned)uid, (unsigned)getuid());
		return relay(p, listen, to, why);
	}
	/* Another pair to the same pager: one attachment serves both. */
	a = NULL;
	for (unsigned i = 0; !a && i < mo_attach_count(); i++)
		if (mo_attach_pid(mo_attach_nth(i)) == (unsigned)pid &&
		    !mo_attach_gone(mo_attach_nth(i)) &&
		    !mo_attach_detached(mo_attach_nth(i)))
			a = mo_attach_nth(i);
	if (a)
		opened = 0;
	snprintf(target, sizeof(target), "%u", (unsigned)pid);
	ao.why = why;
	ao.whylen = sizeof(why);
	if (!a && !(a = mo_attach_open(p, target, &ao)))
		return relay(p, listen, to, why);
	/* Asked first: a pager that cannot serve A leaves A to the relay. */
	if (mo_attach_adopt(a, -1, listen, to, NULL, why, sizeof(why)) < 0) {
		if (opened) {
			mo_attach_detach(a, 0);
			mo_attach_free(a);
		}
		return relay(p, listen, to, why);
	}
	lfd = mo_mach_listen(listen, secret, key, &key_set, &bound);
	if (lfd < 0) {
		mo_err("cannot listen at '%s'", listen);
		if (opened) {
			mo_attach_detach(a, 0);
			mo_attach_free(a);
		}
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (!strncmp(listen, "unix:", 5) && lstat(listen + 5, &st) < 0)
		memset(&st, 0, sizeof(st));
	r = mo_attach_adopt(a, lfd, bound ? bound : listen, to,
			    key_set ? key : NULL, why, sizeof(why));
	memset(key, 0, sizeof(key));
	if (r == 0)
		remember(listen, &st);
	else if (!strncmp(listen, "unix:", 5))
		forget(listen + 5, st.st_dev, st.st_ino);
	/* The pager's copy is the only one: once it closes, A refuses. */
	close(lfd);
	free(bound);
	if (r == 0)
		return 1;
	if (opened) {
		mo_attach_detach(a, 0);
		mo_attach_free(a);
	}
	return relay(p, listen, to, why);
}

void handoff_unlink(void)
{
	for (unsigned i = 0; i < nhanded; i++) {
		forget(handed[i].path, handed[i].dev, handed[i].ino);
		free(handed[i].path);
	}
	nhanded = 0;
}
