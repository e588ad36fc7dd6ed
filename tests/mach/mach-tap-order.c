/*
 * tests/mach/mach-tap-order.c: per-port order, counted on both sides,
 * while tracers attach to and detach from the server (t3505; the tap:
 * mach/control.c, doc/attach.md).
 *
 *   mach-tap-order serve DIR SENDERS
 *       publishes a port at unix:DIR/a; each sender says hello with a
 *       send right to a port of its own, then sends messages numbered
 *       1, 2, ...; the server checks, for each sender, that the numbers
 *       come one after the other, and answers each message on the
 *       sender's port with a number of its own (1, 2, ... for that
 *       port). Says "ready, pid PID" once published; exits 0 once every
 *       sender said it is done after as many as came.
 *   mach-tap-order send DIR INDEX
 *       sender INDEX (1..SENDERS): sends in windows of 16 until the file
 *       DIR/stop exists (however fast the run goes, it lasts until the
 *       test says), checks that the server's answers on its port are
 *       numbered one after the other, and says how many it sent. Exits
 *       0 once every answer came in order.
 *
 * The server's port is published, so a tracer attached taps the
 * messages to it; a sender's port came in a message to it, so the tap
 * takes the answers too (learn() in mach/control.c). A message that a
 * tracer, or the library letting messages go at a detach, put out of
 * order on either port is named and fails the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mach.h>
#include <mach/motrace.h>

#define ID_HELLO 3500
#define ID_NUMBERED 3501
#define ID_ANSWER 3502
#define ID_DONE 3503
#define WINDOW 16
#define SENDERS_MAX 64

struct hello {
	mach_msg_header_t h;
	mach_msg_type_t pt;
	mach_port_t port;
	mach_msg_type_t it;
	unsigned index;
};

struct numbered {
	mach_msg_header_t h;
	mach_msg_type_t t;
	unsigned index, n;
};

static void int_type(mach_msg_type_t *t, unsigned number)
{
	t->msgt_name = MACH_MSG_TYPE_INTEGER_32;
	t->msgt_size = 32;
	t->msgt_number = number;
	t->msgt_inline = 1;
}

static int serve(const char *dir, unsigned senders)
{
	mach_port_t a, to[SENDERS_MAX + 1] = { 0 };
	unsigned last[SENDERS_MAX + 1] = { 0 }, answered[SENDERS_MAX + 1] = { 0 };
	unsigned long done = 0;
	unsigned finished = 0;
	char addr[4096];
	union {
		struct hello hi;
		struct numbered m;
		char spare[256];
	} in;

	if (senders > SENDERS_MAX ||
	    mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &a))
		return 1;
	snprintf(addr, sizeof(addr), "unix:%s/a", dir);
	if (mo_mach_publish(addr, a, NULL, NULL) < 0)
		return 1;
	printf("ready, pid %d\n", (int)getpid());
	fflush(stdout);
	while (finished < senders) {
		struct numbered r = { 0 };
		mach_msg_return_t mr = mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
						0, sizeof(in), a, 30000, MACH_PORT_NULL);

		if (mr) {
			fprintf(stderr, "serve: no message after %lu (%#x)\n", done, mr);
			return 1;
		}
		if (in.m.h.msgh_id == ID_HELLO) {
			if (in.hi.index < 1 || in.hi.index > senders || to[in.hi.index]) {
				fprintf(stderr, "serve: a hello from sender %u is wrong\n",
					in.hi.index);
				return 1;
			}
			to[in.hi.index] = in.hi.port;
			continue;
		}
		if (in.m.h.msgh_id == ID_DONE && in.m.index >= 1 &&
		    in.m.index <= senders && to[in.m.index]) {
			if (in.m.n != last[in.m.index]) {
				fprintf(stderr, "serve: sender %u sent %u, %u came: lost or out of order\n",
					in.m.index, in.m.n, last[in.m.index]);
				return 1;
			}
			finished++;
			continue;
		}
		if (in.m.h.msgh_id != ID_NUMBERED || in.m.index < 1 ||
		    in.m.index > senders || !to[in.m.index]) {
			fprintf(stderr, "serve: message %d from sender %u is unexpected\n",
				in.m.h.msgh_id, in.m.index);
			return 1;
		}
		if (in.m.n != last[in.m.index] + 1) {
			fprintf(stderr, "serve: sender %u's message %u came after its %u: out of order\n",
				in.m.index, in.m.n, last[in.m.index]);
			return 1;
		}
		last[in.m.index] = in.m.n;
		done++;
		r.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
		r.h.msgh_size = sizeof(r);
		r.h.msgh_remote_port = to[in.m.index];
		r.h.msgh_id = ID_ANSWER;
		int_type(&r.t, 2);
		r.index = in.m.index;
		r.n = ++answered[in.m.index];
		if ((mr = mach_msg(&r.h, MACH_SEND_MSG, sizeof(r), 0, MACH_PORT_NULL,
				   MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL))) {
			fprintf(stderr, "serve: answer %u to sender %u failed (%#x)\n",
				r.n, r.index, mr);
			return 1;
		}
	}
	printf("%lu messages from %u senders in order\n", done, senders);
	return 0;
}

/* Sends sender INDEX's message ID numbered N to A. */
static int send_numbered(mach_port_t a, int id, unsigned index, unsigned n)
{
	struct numbered m = { 0 };

	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = a;
	m.h.msgh_id = id;
	int_type(&m.t, 2);
	m.index = index;
	m.n = n;
	if (mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL,
		     MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL)) {
		fprintf(stderr, "send %u: message %u failed\n", index, n);
		return -1;
	}
	return 0;
}

static int send_all(const char *dir, unsigned index)
{
	mach_port_t a, mine;
	char addr[4096], stop[4096];
	struct hello hi = { 0 };
	unsigned sent = 0, got = 0;
	int stopping = 0;

	snprintf(addr, sizeof(addr), "unix:%s/a", dir);
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	if (mo_mach_lookup(addr, NULL, &a) < 0 ||
	    mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &mine))
		return 1;
	hi.h.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	hi.h.msgh_size = sizeof(hi);
	hi.h.msgh_remote_port = a;
	hi.h.msgh_id = ID_HELLO;
	hi.pt.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
	hi.pt.msgt_size = 32;
	hi.pt.msgt_number = 1;
	hi.pt.msgt_inline = 1;
	hi.port = mine;
	int_type(&hi.it, 1);
	hi.index = index;
	if (mach_msg(&hi.h, MACH_SEND_MSG, sizeof(hi), 0, MACH_PORT_NULL,
		     MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL))
		return 1;
	while (!stopping || got < sent) {
		/* Looked for once a window. */
		if (!stopping && sent % WINDOW == 0) {
			stopping = access(stop, F_OK) == 0;
			if (stopping && send_numbered(a, ID_DONE, index, sent) < 0)
				return 1;
		}
		while (!stopping && sent - got < WINDOW)
			if (send_numbered(a, ID_NUMBERED, index, ++sent) < 0)
				return 1;
		if (got == sent)
			continue;
		{
			union {
				struct numbered m;
				char spare[256];
			} in;
			mach_msg_return_t mr = mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
							0, sizeof(in), mine, 30000,
							MACH_PORT_NULL);

			if (mr) {
				fprintf(stderr, "send %u: no answer after %u of %u (%#x)\n",
					index, got, sent, mr);
				return 1;
			}
			if (in.m.h.msgh_id != ID_ANSWER || in.m.index != index ||
			    in.m.n != got + 1) {
				fprintf(stderr, "send %u: answer %u came after %u: out of order\n",
					index, in.m.n, got);
				return 1;
			}
			got++;
		}
	}
	printf("sender %u: %u sent, %u answers in order\n", index, sent, got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], (unsigned)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_all(argv[2], (unsigned)atoi(argv[3]));
	fprintf(stderr, "usage: mach-tap-order serve DIR SENDERS | send DIR INDEX\n");
	return 2;
}
