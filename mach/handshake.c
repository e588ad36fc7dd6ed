/*
 * mach/handshake.c: how a connection begins (doc/wire.md, "Connection"):
 * hellos both ways, the proofs of a shared secret, the BOOTSTRAP frame;
 * then the link joins the I/O thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mach/link.h"

/* The hello of doc/wire.md, with a fresh nonce. */
static int hello_fill(uint8_t *h, int has_key)
{
	memset(h, 0, WIRE_HELLO);
	memcpy(h, WIRE_MAGIC, 8);
	put16(h + 8, WIRE_VERSION);
	put16(h + 10, WIRE_HELLO);
	strcpy((char *)h + 12, "x86_64");
	put32(h + 28, WIRE_MAX_FRAME);
	put32(h + 32, has_key ? WIRE_F_HELLO_AUTH : 0);
	if (getrandom(h + 48, WIRE_NONCE, 0) != WIRE_NONCE)
		return mo_error("getrandom: %s", strerror(errno));
	return 0;
}

/*
 * The proof that a side holds the shared secret: SipHash-2-4 under the
 * key made from it, over ROLE ('C' for the connecting side, 'S' for the
 * publisher) and both hellos' nonces, its own last; two halves make 128
 * bits. Each side's nonce is fresh, so a proof cannot be replayed.
 */
static void proof(const uint8_t *key, uint8_t role, const uint8_t *other_nonce,
		  const uint8_t *own_nonce, uint8_t *out)
{
	uint8_t m[2 + 2 * WIRE_NONCE];

	m[0] = role;
	memcpy(m + 2, other_nonce, WIRE_NONCE);
	memcpy(m + 2 + WIRE_NONCE, own_nonce, WIRE_NONCE);
	for (int half = 0; half < 2; half++) {
		uint64_t h;

		m[1] = (uint8_t)half;
		h = mo_siphash(key, m, sizeof(m));
		for (int i = 0; i < 8; i++)
			out[half * 8 + i] = (uint8_t)(h >> (8 * i));
	}
}

/* Sends an AUTH frame with our proof; blocking (during the handshake). */
static int auth_send(int fd, const uint8_t *key, uint8_t role,
		     const uint8_t *mine, const uint8_t *theirs);

static int full_io(int fd, void *buf, size_t len, int out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Compares proofs in time that does not depend on where they differ. */
static int proof_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (int i = 0; i < WIRE_PROOF; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int auth_send(int fd, const uint8_t *key, uint8_t role,
		     const uint8_t *mine, const uint8_t *theirs)
{
	uint8_t f[WIRE_FRAME_HEADER + WIRE_PROOF] = { 0 };

	put32(f, sizeof(f));
	put16(f + 4, WIRE_AUTH);
	proof(key, role, theirs + 48, mine + 48, f + WIRE_FRAME_HEADER);
	return full_io(fd, f, sizeof(f), 1);
}

static void handshake_refuse(int fd, const char *why);
static int handshake_fail(int fd, const char *why);

/*
 * Reads the frame the handshake expects next (AUTH or BOOTSTRAP) into
 * HDR and BODY. Returns 0, or -1 with WHY set (an ERROR frame's text
 * included) and the socket closed.
 */
static int handshake_frame(int fd, const char *peer, uint8_t *hdr,
			   uint8_t *body, size_t body_max, char *why,
			   size_t whylen)
{
	uint32_t len;

	if (full_io(fd, hdr, WIRE_FRAME_HEADER, 0)) {
		snprintf(why, whylen, "%s: connection closed during the handshake", peer);
		close(fd);
		return -1;
	}
	len = get32(hdr);
	if (len < WIRE_FRAME_HEADER || len - WIRE_FRAME_HEADER > body_max ||
	    (len & 7)) {
		snprintf(why, whylen, "%s: handshake frame has length %u", peer, len);
		handshake_refuse(fd, why);
		return -1;
	}
	if (full_io(fd, body, len - WIRE_FRAME_HEADER, 0)) {
		snprintf(why, whylen, "%s: connection closed in a handshake frame", peer);
		close(fd);
		return -1;
	}
	if (get16(hdr + 4) == WIRE_ERROR) {
		uint32_t n = get32(hdr + 12);

		if (n > len - WIRE_FRAME_HEADER)
			n = len - WIRE_FRAME_HEADER;
		snprintf(why, whylen, "%s: refused: %.*s", peer, (int)n, (char *)body);
		close(fd);
		return -1;
	}
	return 0;
}

/*
 * After the hellos: both sides hold a secret or neither does; if both,
 * each proves it, the connecting side first.
 */
static int handshake_auth(int fd, const char *peer, const uint8_t *key,
			  int publisher, const uint8_t *mine,
			  const uint8_t *theirs)
{
	uint8_t hdr[WIRE_FRAME_HEADER], body[64], want[WIRE_PROOF];
	int they = (get32(theirs + 32) & WIRE_F_HELLO_AUTH) != 0;
	char why[300];
	uint8_t role = publisher ? 'C' : 'S';	/* the peer's role */

	if (!key && !they)
		return 0;
	if (!key || !they) {
		snprintf(why, sizeof(why), "%s: wrong or missing shared secret (%s)",
			 peer, key ? "the peer has none" : "the peer wants one");
		return handshake_fail(fd, why);
	}
	if (!publisher && auth_send(fd, key, 'C', mine, theirs)) {
		close(fd);
		return mo_error("%s: connection lost during the handshake", peer);
	}
	if (handshake_frame(fd, peer, hdr, body, sizeof(body), why, sizeof(why)))
		return mo_error("%s", why);
	proof(key, role, mine + 48, theirs + 48, want);
	if (get16(hdr + 4) != WIRE_AUTH || get32(hdr) != sizeof(hdr) + WIRE_PROOF ||
	    !proof_eq(body, want)) {
		snprintf(why, sizeof(why), "%s: wrong or missing shared secret", peer);
		return handshake_fail(fd, why);
	}
	if (publisher && auth_send(fd, key, 'S', mine, theirs)) {
		close(fd);
		return mo_error("%s: connection lost during the handshake", peer);
	}
	return 0;
}

static int hello_check(const uint8_t *h, const char *peer, char *why,
		       size_t whylen)
{
	char abi[17];

	if (memcmp(h, WIRE_MAGIC, 8)) {
		snprintf(why, whylen, "%s: not a motrace-mach peer (bad magic)", peer);
		return -1;
	}
	if (get16(h + 8) != WIRE_VERSION) {
		snprintf(why, whylen, "%s: wire version %u is not supported (this side speaks %u)",
			 peer, get16(h + 8), WIRE_VERSION);
		return -1;
	}
	memcpy(abi, h + 12, 16);
	abi[16] = '\0';
	for (char *c = abi; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c > '~')
			*c = '?';
	if (strcmp(abi, "x86_64")) {
		snprintf(why, whylen, "%s: peer speaks ABI profile '%s', this process x86_64",
			 peer, abi);
		return -1;
	}
	return 0;
}

/* Tells the peer WHY in an ERROR frame and closes the socket. */
static void handshake_refuse(int fd, const char *why)
{
	uint8_t f[WIRE_FRAME_HEADER + 256];
	size_t n = strlen(why), body;

	if (n > 240)
		n = 240;
	body = (n + 7) & ~(size_t)7;
	memset(f, 0, sizeof(f));
	put32(f, (uint32_t)(WIRE_FRAME_HEADER + body));
	put16(f + 4, WIRE_ERROR);
	put32(f + 12, (uint32_t)n);
	memcpy(f + WIRE_FRAME_HEADER, why, n);
	(void)!send(fd, f, WIRE_FRAME_HEADER + body, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_RDWR);
	close(fd);
}

/* Refuses the peer and says so here too. */
static int handshake_fail(int fd, const char *why)
{
	handshake_refuse(fd, why);
	return mo_error("%s", why);
}

/*
 * Both sides of a new connection begin alike: hellos both ways, then the
 * proofs of the shared secret (SERVER says which side this is). Returns
 * 0, or -1 with FD closed and a message.
 */
static int handshake_hello(int fd, const char *peer, const uint8_t *key,
			   int server)
{
	uint8_t mine[WIRE_HELLO], theirs[WIRE_HELLO];
	char why[200];

	if (hello_fill(mine, key != NULL) < 0) {
		close(fd);
		return -1;
	}
	if (full_io(fd, mine, WIRE_HELLO, 1) || full_io(fd, theirs, WIRE_HELLO, 0)) {
		close(fd);
		return mo_error("%s: connection lost during the hello", peer);
	}
	if (hello_check(theirs, peer, why, sizeof(why)))
		return handshake_fail(fd, why);
	return handshake_auth(fd, peer, key, server, mine, theirs) < 0 ? -1 : 0;
}

/*
 * The server side of a new connection: hellos, proofs of the shared
 * secret, then the BOOTSTRAP frame with a send right made from PORT.
 */
int mo_link_accept(int fd, const char *peer, struct kport *port,
		const uint8_t *key)
{
	char why[200];
	struct link *l;
	uint8_t *f;
	struct kright r;
	struct post post = { .forward_tail = &post.forward };

	if (handshake_hello(fd, peer, key, 1) < 0)
		return -1;
	l = mo_link_new(fd, peer);
	pthread_mutex_lock(&mo_lock);
	if (port->kind != KP_LOCAL) {
		pthread_mutex_unlock(&mo_lock);
		mo_link_unref(l);
		snprintf(why, sizeof(why), "%s: the published port is dead", peer);
		return handshake_fail(fd, why);
	}
	/* As MAKE_SEND would: a new send right, in transit to the link. */
	port->srights++;
	port->mscount++;
	mo_kport_ref(port);
	r.off = 0;
	r.type = MACH_MSG_TYPE_PORT_SEND;
	r.port = port;
	f = mo_frame_start(WIRE_BOOTSTRAP, 1, 0, 0, WIRE_ANN);
	mo_put_right(l, &r, f + WIRE_FRAME_HEADER, &post);
	/* Blocking write: the link is not on the I/O thread's list yet. */
	if (full_io(fd, f, mo_scratch.len, 1)) {
		mo_link_close(l, NULL);
		pthread_mutex_unlock(&mo_lock);
		return mo_error("%s: connection lost before the bootstrap frame", peer);
	}
	mo_link_register(l);
	pthread_mutex_unlock(&mo_lock);
	return 0;
}

/* The client side: hellos, proofs, then the BOOTSTRAP frame; returns the name. */
int mo_link_connect(int fd, const char *peer, const uint8_t *key, mach_port_t *name)
{
	uint8_t hdr[WIRE_FRAME_HEADER];
	uint8_t body[256];
	char why[300];
	struct link *l;
	struct kport *p;

	if (handshake_hello(fd, peer, key, 0) < 0)
		return -1;
	if (handshake_frame(fd, peer, hdr, body, sizeof(body), why, sizeof(why)))
		return mo_error("%s", why);
	if (get16(hdr + 4) != WIRE_BOOTSTRAP ||
	    get32(hdr) != WIRE_FRAME_HEADER + WIRE_ANN ||
	    body[4] != MACH_MSG_TYPE_PORT_SEND || body[5] != WK_SENDER ||
	    !get64(body + 8)) {
		snprintf(why, sizeof(why), "%s: first frame is not a bootstrap send right",
			 peer);
		return handshake_fail(fd, why);
	}
	l = mo_link_new(fd, peer);
	pthread_mutex_lock(&mo_lock);
	p = mo_get_right(l, body);
	*name = mo_space_copyout(p, MACH_MSG_TYPE_PORT_SEND);
	mo_link_register(l);
	pthread_mutex_unlock(&mo_lock);
	return 0;
}

