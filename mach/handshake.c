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
	put32(h + 32, (has_key ? WIRE_F_HELLO_AUTH : 0) | WIRE_F_HELLO_STACKS |
		      (mo_link_wants_stacks() ? WIRE_F_HELLO_WANT_STACKS : 0));
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

/* Refuses the peer and says so here too (the lookup's side). */
static int handshake_fail(int fd, const char *why)
{
	handshake_refuse(fd, why);
	return mo_error("%s", why);
}

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
 * After the hellos: both sides hold a secret or neither does. Returns 1
 * if both do (proofs follow), 0 if neither, -1 with WHY set otherwise.
 */
static int auth_wanted(const uint8_t *key, const uint8_t *theirs,
		       const char *peer, char *why, size_t whylen)
{
	int they = (get32(theirs + 32) & WIRE_F_HELLO_AUTH) != 0;

	if (!key && !they)
		return 0;
	if (key && they)
		return 1;
	snprintf(why, whylen, "%s: wrong or missing shared secret (%s)", peer,
		 key ? "the peer has none" : "the peer wants one");
	return -1;
}

/* Is the frame HDR, BODY the peer's AUTH with the proof of ROLE? */
static int auth_good(const uint8_t *hdr, const uint8_t *body, const uint8_t *key,
		     uint8_t role, const uint8_t *mine, const uint8_t *theirs)
{
	uint8_t want[WIRE_PROOF];

	proof(key, role, mine + 48, theirs + 48, want);
	return get16(hdr + 4) == WIRE_AUTH &&
	       get32(hdr) == WIRE_FRAME_HEADER + WIRE_PROOF && proof_eq(body, want);
}

/*
 * The connecting side (mo_mach_lookup), blocking with the socket's
 * timeouts: hellos, proofs (ours first), then the BOOTSTRAP frame.
 * Returns the name of the send right it brings.
 */
int mo_link_connect(int fd, const char *peer, const uint8_t *key, mach_port_t *name)
{
	uint8_t mine[WIRE_HELLO], theirs[WIRE_HELLO];
	uint8_t hdr[WIRE_FRAME_HEADER];
	uint8_t body[256];
	char why[300];
	struct link *l;
	struct kport *p;
	int auth;

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
	if ((auth = auth_wanted(key, theirs, peer, why, sizeof(why))) < 0)
		return handshake_fail(fd, why);
	if (auth) {
		if (auth_send(fd, key, 'C', mine, theirs)) {
			close(fd);
			return mo_error("%s: connection lost during the handshake", peer);
		}
		if (handshake_frame(fd, peer, hdr, body, sizeof(body), why, sizeof(why)))
			return mo_error("%s", why);
		if (!auth_good(hdr, body, key, 'S', mine, theirs)) {
			snprintf(why, sizeof(why), "%s: wrong or missing shared secret", peer);
			return handshake_fail(fd, why);
		}
	}
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
	mo_link_hello_stacks(l, get32(mine + 32), get32(theirs + 32));
	pthread_mutex_lock(&mo_lock);
	p = mo_get_right(l, body);
	*name = mo_space_copyout(p, MACH_MSG_TYPE_PORT_SEND);
	mo_link_register(l);
	mo_link_ask_stacks(l);
	pthread_mutex_unlock(&mo_lock);
	return 0;
}

/*
 * The publishing side, read by the I/O thread without blocking and
 * without a thread of its own: a connection is a struct mo_pending
 * until its hello (and proof) are in; then it becomes a link.
 */
struct mo_pending *mo_pending_new(int fd, const char *peer, struct kport *port,
				  const uint8_t *key, uint64_t deadline)
{
	struct mo_pending *pd = calloc(1, sizeof(*pd));

	if (!pd)
		abort();
	pd->fd = fd;
	snprintf(pd->peer, sizeof(pd->peer), "%s", peer);
	pd->port = port;
	if (key) {
		memcpy(pd->key, key, WIRE_KEY);
		pd->has_key = 1;
	}
	pd->deadline = deadline;
	pd->need = WIRE_HELLO;
	if (hello_fill(pd->mine, key != NULL) < 0 ||
	    send(fd, pd->mine, WIRE_HELLO, MSG_NOSIGNAL | MSG_DONTWAIT) != WIRE_HELLO)
		pd->failed = 1;
	return pd;
}

/* The hellos and proofs are through: our proof, then the BOOTSTRAP frame. */
static void pending_done(struct mo_pending *pd)
{
	struct link *l = mo_link_new(pd->fd, pd->peer);
	struct kport *port = pd->port;
	char why[200];

	mo_link_hello_stacks(l, get32(pd->mine + 32), get32(pd->in + 32));

	pd->fd = -1;
	pthread_mutex_lock(&mo_lock);
	if (port->kind != KP_LOCAL) {
		pthread_mutex_unlock(&mo_lock);
		snprintf(why, sizeof(why), "%s: the published port is dead", pd->peer);
		handshake_refuse(l->fd, why);
		l->fd = -1;
		mo_link_unref(l);
		return;
	}
	mo_link_register(l);
	if (pd->auth) {
		uint8_t a[WIRE_FRAME_HEADER + WIRE_PROOF] = { 0 };

		put32(a, sizeof(a));
		put16(a + 4, WIRE_AUTH);
		proof(pd->key, 'S', pd->in + 48, pd->mine + 48, a + WIRE_FRAME_HEADER);
		mo_link_write(l, a, sizeof(a));
	}
	mo_link_bootstrap(l, port);
	mo_link_ask_stacks(l);
	pthread_mutex_unlock(&mo_lock);
}

void mo_link_bootstrap(struct link *l, struct kport *port)
{
	struct post post = { .forward_tail = &post.forward };
	struct kright r;
	uint8_t *f;

	/* As MAKE_SEND would: a new send right, in transit to the link. */
	port->srights++;
	port->mscount++;
	mo_kport_ref(port);
	r.off = 0;
	r.type = MACH_MSG_TYPE_PORT_SEND;
	r.port = port;
	f = mo_frame_start(WIRE_BOOTSTRAP, 1, 0, 0, WIRE_ANN);
	mo_put_right(l, &r, f + WIRE_FRAME_HEADER, &post);
	mo_link_write(l, f, mo_scratch.len);
}

/* Refuses a pending peer for a reason worth saying (a bad hello, a wrong proof). */
static int pending_refuse(struct mo_pending *pd, const char *why)
{
	mo_warn("%s; refused", why);
	handshake_refuse(pd->fd, why);
	pd->fd = -1;
	return 1;
}

/*
 * What the peer sent so far, in PD->in: the hello, then (with secrets)
 * its AUTH frame. Returns 1 when PD is finished, 0 when it wants more.
 */
static int pending_parse(struct mo_pending *pd)
{
	char why[300];
	const uint8_t *hdr = pd->in + WIRE_HELLO;
	uint32_t len;

	if (pd->got < pd->need)
		return 0;
	if (pd->need == WIRE_HELLO) {
		if (hello_check(pd->in, pd->peer, why, sizeof(why)))
			return pending_refuse(pd, why);
		pd->auth = auth_wanted(pd->has_key ? pd->key : NULL, pd->in,
				       pd->peer, why, sizeof(why));
		if (pd->auth < 0)
			return pending_refuse(pd, why);
		if (!pd->auth) {
			pending_done(pd);
			return 1;
		}
		pd->need = WIRE_HELLO + WIRE_FRAME_HEADER;
		return 0;
	}
	len = get32(hdr);
	if (pd->need == WIRE_HELLO + WIRE_FRAME_HEADER) {
		if (len < WIRE_FRAME_HEADER || (len & 7) ||
		    WIRE_HELLO + len > sizeof(pd->in)) {
			snprintf(why, sizeof(why), "%s: handshake frame has length %u",
				 pd->peer, len);
			return pending_refuse(pd, why);
		}
		pd->need = WIRE_HELLO + len;
		if (pd->got < pd->need)
			return 0;
	}
	if (get16(hdr + 4) == WIRE_ERROR) {
		uint32_t n = get32(hdr + 12);

		if (n > len - WIRE_FRAME_HEADER)
			n = len - WIRE_FRAME_HEADER;
		mo_warn("%s: refused by the peer: %.*s", pd->peer, (int)n,
			(const char *)hdr + WIRE_FRAME_HEADER);
		close(pd->fd);
		pd->fd = -1;
		return 1;
	}
	if (!auth_good(hdr, hdr + WIRE_FRAME_HEADER, pd->key, 'C', pd->mine, pd->in)) {
		snprintf(why, sizeof(why), "%s: wrong or missing shared secret", pd->peer);
		return pending_refuse(pd, why);
	}
	pending_done(pd);
	return 1;
}

int mo_pending_step(struct mo_pending *pd)
{
	for (;;) {
		ssize_t n;

		if (pd->failed || pd->fd < 0) {
			if (pd->fd >= 0)
				close(pd->fd);
			pd->fd = -1;
			return 1;
		}
		if (pd->got < pd->need) {
			n = recv(pd->fd, pd->in + pd->got, pd->need - pd->got, MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (n <= 0) {
				/* A peer that goes away: nothing to say (diag.c). */
				mo_debug("%s: gone during the handshake%s%s", pd->peer,
					 n ? ": " : "", n ? strerror(errno) : "");
				pd->failed = 1;
				continue;
			}
			pd->got += (size_t)n;
		}
		if (pending_parse(pd))
			return 1;
	}
}

void mo_pending_free(struct mo_pending *pd)
{
	if (pd->fd >= 0)
		close(pd->fd);
	pthread_mutex_lock(&mo_lock);
	mo_kport_unref(pd->port);
	pthread_mutex_unlock(&mo_lock);
	memset(pd->key, 0, sizeof(pd->key));
	free(pd);
}
