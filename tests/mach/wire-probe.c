/*
 * tests/mach/wire-probe.c: a hand-made peer of the wire protocol
 * (doc/wire.md) for the t1xxx tests: it speaks the frames itself, not
 * through libmotrace-mach's links, so it can send what the library never
 * would. Messages are real MIG encodings: memory_object_init is sent
 * through MIG's stub to a local port of this process, received, and its
 * bytes framed by hand.
 *
 *   wire-probe ADDR uaf          an init towards an id never given that
 *                                names ids 1 and 54, then an init naming id 0
 *   wire-probe ADDR init SIZE    one init to the published port, padded
 *                                with an inline array to SIZE bytes
 *   wire-probe ADDR hold N SECS  N connections that never say hello
 *   wire-probe ADDR idle N SECS  N connections past the handshake, silent
 *   wire-probe ADDR stack N M    a STACK frame that says N return addresses
 *                                and holds M, then an init
 *   wire-probe ADDR stacks V     a STACKS frame saying V, alone
 *   wire-probe ADDR oolports K   a message of one out-of-line port array
 *                                (a send right, id 7) to the published
 *                                port: K good, or a bad frame of it:
 *                                noregion, inline, flags, size
 *   wire-probe - frame ID        writes the init's MSG frame to stdout, to
 *                                RECEIVER id ID (a seed for tests/fuzz)
 *
 * Prints what the other side sent back ("server sent: ERROR TEXT",
 * "closed" or "no answer"); exit 0 unless the probe itself failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <mach.h>

#include "decode/decode.h"
#include "memory_object.h"

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("wire-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int dial_only(const char *addr);

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* Connects to ADDR; reads give up after 5 s (a server that never answers). */
static int dial(const char *addr)
{
	int fd = dial_only(addr);
	struct timeval tv = { 5, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int dial_only(const char *addr)
{
	int fd;

	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			die("%s: %s", addr, strerror(errno));
		return fd;
	}
	if (!strncmp(addr, "tcp:", 4)) {
		char host[256];
		const char *colon = strrchr(addr + 4, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;

		if (!colon)
			die("%s: no port", addr);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 4), addr + 4);
		if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res))
			die("%s: cannot resolve", addr);
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
			die("%s: %s", addr, strerror(errno));
		freeaddrinfo(res);
		return fd;
	}
	die("%s: unix: or tcp: addresses only", addr);
	return -1;
}

static void full_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			die("write: %s", n < 0 ? strerror(errno) : "closed");
		p += n;
		len -= n;
	}
}

static int full_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Hellos both ways, then the BOOTSTRAP frame: returns the published port's id. */
static uint64_t handshake(int fd)
{
	uint8_t hello[64] = "motrmach", in[64], boot[32];

	put16(hello + 8, 1);
	put16(hello + 10, 64);
	strcpy((char *)hello + 12, "x86_64");
	put32(hello + 28, 64u * 1024 * 1024 + 65536);
	if (getrandom(hello + 48, 16, 0) != 16)
		die("getrandom: %s", strerror(errno));
	full_write(fd, hello, 64);
	if (full_read(fd, in, 64) || full_read(fd, boot, 32))
		die("no hello and bootstrap from the other side");
	if (get32(boot) != 32 || boot[4] != 4)
		die("the first frame is not a bootstrap");
	return get64(boot + 24);
}

/*
 * memory_object_init as MIG encodes it, padded to SIZE bytes (0: as it
 * comes) with an inline array of chars; *PORT_OFF gets the offsets of
 * its two port slots. Returns the bytes (malloc'd), *LEN their count.
 */
static uint8_t *init_message(size_t size, uint32_t port_off[2], size_t *len)
{
	mach_port_t task = mach_task_self(), obj, ctl, name;
	union {
		mach_msg_header_t h;
		uint8_t b[512];
	} u;
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;
	unsigned nports = 0;
	uint8_t *m;
	size_t base;

	if (mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &obj) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &ctl) ||
	    mach_port_allocate(task, MACH_PORT_RIGHT_RECEIVE, &name) ||
	    mach_port_insert_right(task, obj, obj, MACH_MSG_TYPE_MAKE_SEND) ||
	    mach_port_insert_right(task, ctl, ctl, MACH_MSG_TYPE_MAKE_SEND) ||
	    mach_port_insert_right(task, name, name, MACH_MSG_TYPE_MAKE_SEND))
		die("cannot make ports");
	if (memory_object_init(obj, ctl, name, 4096) != KERN_SUCCESS)
		die("memory_object_init to a local port failed");
	if (mach_msg(&u.h, MACH_RCV_MSG, 0, sizeof(u), obj, 0, 0) != MACH_MSG_SUCCESS)
		die("cannot receive the init");
	base = u.h.msgh_size;
	if (size && size < base + 16)
		die("an init has at least %zu bytes", base + 16);
	m = calloc(1, size ? size : base);
	if (!m)
		die("no memory");
	memcpy(m, u.b, base);
	if (size) {
		/* A long-form inline array of chars fills the rest. */
		mach_msg_type_long_t *t = (mach_msg_type_long_t *)(m + base);
		size_t desc = sizeof(*t);	/* data follows, 4-byte aligned */

		t->msgtl_header.msgt_inline = 1;
		t->msgtl_header.msgt_longform = 1;
		t->msgtl_name = MACH_MSG_TYPE_CHAR;
		t->msgtl_size = 8;
		t->msgtl_number = (unsigned)(size - base - desc);
		memset(m + base + desc, 'x', size - base - desc);
		((mach_msg_header_t *)m)->msgh_size = (mach_msg_size_t)size;
		base = size;
	}
	if (mo_walk_init(&w, m, base, MO_ABI_X86_64, &h) < 0)
		die("init: %s", w.err);
	while (mo_walk_next(&w, &it) == 1)
		if (mo_type_is_port(it.name) && nports < 2)
			port_off[nports++] = it.data_off;
	if (w.err[0])
		die("init of %zu bytes: %s", base, w.err);
	if (nports != 2)
		die("init has %u ports", nports);
	*len = base;
	return m;
}

/*
 * A MSG frame carrying MSG to (WK_RECEIVER, DEST) with its ports as SENDER
 * ids, after PRE bytes of room; malloc'd, *FLEN its bytes with the room.
 */
static uint8_t *init_frame(size_t pre, uint64_t dest, const uint8_t *msg, size_t len,
			   const uint32_t off[2], uint64_t id0, uint64_t id1, size_t *flen)
{
	size_t body = 16 + 2 * 16 + ((len + 7) & ~(size_t)7);
	uint8_t *f = calloc(1, pre + 16 + body), *ann;

	if (!f)
		die("no memory");
	*flen = pre + 16 + body;
	f += pre;
	ann = f + 32;

	put32(f, (uint32_t)(16 + body));
	put16(f + 4, 1);	/* MSG */
	put16(f + 6, 2);
	put32(f + 12, (uint32_t)len);
	f[16] = 3;		/* RECEIVER: an id of the other side's */
	f[17] = MACH_MSG_TYPE_PORT_SEND;
	put64(f + 24, dest);
	for (int i = 0; i < 2; i++, ann += 16) {
		put32(ann, off[i]);
		ann[4] = MACH_MSG_TYPE_PORT_SEND;
		ann[5] = 2;	/* SENDER: ours */
		put64(ann + 8, i ? id1 : id0);
	}
	memcpy(ann, msg, len);
	put32(ann, MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0));
	return f - pre;
}

static void send_init(int fd, uint64_t dest, const uint8_t *msg, size_t len,
		      const uint32_t off[2], uint64_t id0, uint64_t id1)
{
	size_t flen;
	uint8_t *f = init_frame(0, dest, msg, len, off, id0, id1, &flen);
	size_t body = flen - 16;

	if (fd == STDOUT_FILENO) {
		if (fwrite(f, 1, 16 + body, stdout) != 16 + body)
			die("write: %s", strerror(errno));
	} else {
		full_write(fd, f, 16 + body);
	}
	free(f);
}

/* Prints what comes back within SECS seconds: an ERROR frame's text, or not. */
static void answer(int fd, int secs)
{
	uint8_t hdr[16];
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	for (;;) {
		uint32_t len;
		uint8_t *b;

		if (poll(&pf, 1, secs * 1000) <= 0) {
			printf("no answer\n");
			return;
		}
		if (full_read(fd, hdr, 16)) {
			printf("closed\n");
			return;
		}
		len = get32(hdr);
		if (len < 16 || len > (1u << 20))
			die("a frame of %u bytes came back", len);
		b = malloc(len - 16 + 1);
		if (!b || full_read(fd, b, len - 16)) {
			printf("closed\n");
			return;
		}
		if (hdr[4] == 5) {
			uint32_t n = get32(hdr + 12);

			printf("server sent: %.*s\n", (int)(n < len - 16 ? n : len - 16), b);
			free(b);
			return;
		}
		free(b);
	}
}

int main(int argc, char **argv)
{
	const char *addr, *what;
	uint32_t off[2];
	size_t len;
	uint8_t *msg;
	uint64_t boot;
	int fd;

	if (argc < 3)
		die("usage: wire-probe ADDR uaf | init SIZE | hold N SECS | idle N SECS");
	addr = argv[1];
	what = argv[2];
	if (!strcmp(what, "hold") || !strcmp(what, "idle")) {
		int n = argc > 3 ? atoi(argv[3]) : 1, secs = argc > 4 ? atoi(argv[4]) : 10;
		int *fds = calloc(n, sizeof(*fds));

		for (int i = 0; i < n; i++) {
			fds[i] = dial(addr);
			if (what[0] == 'i')
				handshake(fds[i]);
		}
		printf("holding %d connections\n", n);
		fflush(stdout);
		sleep(secs);
		free(fds);
		return 0;
	}
	if (!strcmp(what, "frame") && argc > 3) {
		msg = init_message(0, off, &len);
		send_init(STDOUT_FILENO, strtoull(argv[3], NULL, 0), msg, len, off, 7, 8);
		free(msg);
		return 0;
	}
	if (!strcmp(what, "uaf")) {
		msg = init_message(0, off, &len);
		fd = dial(addr);
		boot = handshake(fd);
		send_init(fd, 987654321, msg, len, off, 1, 54);
		send_init(fd, boot, msg, len, off, 0, 55);
		answer(fd, 5);
		free(msg);
		return 0;
	}
	if ((!strcmp(what, "stack") && argc > 4) || (!strcmp(what, "stacks") && argc > 3)) {
		unsigned n = (unsigned)strtoul(argv[3], NULL, 0);
		unsigned m = what[5] ? 0 : (unsigned)strtoul(argv[4], NULL, 0);
		size_t slen = 16 + 8 + 8 * (size_t)m, flen = slen;
		uint8_t *f;

		if (m > 4096)
			die("a stack of %u addresses is more than this probe sends", m);
		msg = init_message(0, off, &len);
		fd = dial(addr);
		boot = handshake(fd);
		/* One write: the frame and the init after it, before any answer. */
		f = what[5] ? calloc(1, slen) : init_frame(slen, boot, msg, len, off, 7, 8, &flen);
		if (!f)
			die("no memory");
		put32(f, (uint32_t)slen);
		put16(f + 4, what[5] ? 7 : 8);	/* STACKS, STACK */
		if (what[5]) {
			put32(f + 16, n);
		} else {
			put16(f + 6, (uint16_t)n);
			put32(f + 16, (uint32_t)getpid());
			for (unsigned i = 0; i < m; i++)
				put64(f + 24 + 8 * i, 0x1000 + i);
		}
		full_write(fd, f, flen);
		answer(fd, 1);
		free(f);
		free(msg);
		return 0;
	}
	if (!strcmp(what, "oolports") && argc > 3) {
		/* doc/wire.md, "Out-of-line port arrays": a PORTS region and
		 * one IN_REGION annotation; K spoils one part of it. */
		const char *k = argv[3];
		int in = !strcmp(k, "inline");
		uint32_t mlen = in ? 40 : 44, nool = strcmp(k, "noregion") && !in;
		uint8_t f[16 + 16 + 16 + 16 + 48] = { 0 }, *ann = f + 32;
		uint8_t *oann = ann + 16, *m = oann + 16 * nool;
		size_t flen = (size_t)(m - f) + ((mlen + 7) & ~7u);

		fd = dial(addr);
		boot = handshake(fd);
		put32(f, (uint32_t)flen);
		put16(f + 4, 1);	/* MSG */
		put16(f + 6, 1);
		put32(f + 8, nool);
		put32(f + 12, mlen);
		f[16] = 3;		/* RECEIVER */
		f[17] = MACH_MSG_TYPE_PORT_SEND;
		put64(f + 24, boot);
		put32(ann, 36);
		ann[4] = MACH_MSG_TYPE_PORT_SEND;
		ann[5] = 2;		/* SENDER */
		ann[6] = !strcmp(k, "flags") ? 0x82 : 2;	/* IN_REGION */
		put64(ann + 8, 7);
		if (nool) {
			put32(oann, 36);
			put32(oann + 4, 1);	/* PORTS */
			put64(oann + 8, !strcmp(k, "size") ? 8 : 4);
		}
		put32(m, MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0));
		put32(m + 4, mlen);
		put32(m + 28, 4242);
		/* msgt_name PORT_SEND, 32 bits, 1 element, inline or not */
		put32(m + 32, MACH_MSG_TYPE_PORT_SEND | 32 << 8 | 1 << 16 | (uint32_t)in << 28);
		full_write(fd, f, flen);
		answer(fd, 1);
		return 0;
	}
	if (!strcmp(what, "init") && argc > 3) {
		msg = init_message(strtoul(argv[3], NULL, 0), off, &len);
		fd = dial(addr);
		boot = handshake(fd);
		send_init(fd, boot, msg, len, off, 7, 8);
		answer(fd, 1);
		free(msg);
		return 0;
	}
	die("unknown probe '%s'", what);
	return 2;
}
