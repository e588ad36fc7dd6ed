/*
 * tests/mach/mach-pset-order.c: a port set gives messages in the order
 * they arrived, whichever member they were sent to (Mach queues the
 * messages of a port in a set on the set's one queue: GNU Mach
 * ipc/ipc_port.c, ipc_port_lock_mqueue).
 *
 *   mach-pset-order serve DIR N    two ports a and b in a set; a is
 *                                  published at DIR/a and hands out b;
 *                                  receives N messages and checks that
 *                                  their numbers increase
 *   mach-pset-order send DIR N     sends N numbered messages, to a or b
 *                                  by a fixed pseudo-random pattern
 *
 * The sender reaches b through a, so both ports are on one link, as the
 * ports of one peer are in a pager's exchange with a kernel. It exits as
 * soon as it has sent, while the server still sleeps: what it sent must
 * arrive all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mach.h>
#include <mach/motrace.h>

struct numbered {
	mach_msg_header_t h;
	mach_msg_type_t t;
	unsigned n;
};

static int serve(const char *dir, unsigned count)
{
	mach_port_t set, a, b;
	char addr[4096];
	struct {
		struct numbered m;
		char spare[64];
	} in;
	unsigned last = 0;

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &set) ||
	    mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &a) ||
	    mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &b) ||
	    mach_port_move_member(mach_task_self(), a, set) ||
	    mach_port_move_member(mach_task_self(), b, set))
		return 1;
	snprintf(addr, sizeof(addr), "unix:%s/a", dir);
	if (mo_mach_publish(addr, a, NULL, NULL) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	/* The sender asks for b on a. */
	if (mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(in),
		     set, 10000, MACH_PORT_NULL) || in.m.h.msgh_id != 999) {
		fprintf(stderr, "serve: no request for b\n");
		return 1;
	}
	{
		struct numbered r = { 0 };

		r.h.msgh_bits = MACH_MSGH_BITS_COMPLEX |
				MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
		r.h.msgh_size = sizeof(r);
		r.h.msgh_remote_port = in.m.h.msgh_remote_port;
		r.h.msgh_id = 1099;
		r.t.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
		r.t.msgt_size = 32;
		r.t.msgt_number = 1;
		r.t.msgt_inline = 1;
		r.n = b;
		if (mach_msg(&r.h, MACH_SEND_MSG, sizeof(r), 0, MACH_PORT_NULL,
			     MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL))
			return 1;
	}
	/* Let the sender queue everything first: the order is the queue's. */
	sleep(1);
	for (unsigned i = 0; i < count; i++) {
		if (mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
			     sizeof(in), set, 10000, MACH_PORT_NULL)) {
			fprintf(stderr, "serve: message %u did not come\n", i + 1);
			return 1;
		}
		if (in.m.n != last + 1) {
			fprintf(stderr, "serve: message %u came after %u (on port %u)\n",
				in.m.n, last, in.m.h.msgh_local_port);
			return 1;
		}
		last = in.m.n;
	}
	printf("%u messages in order\n", count);
	return 0;
}

static int send_all(const char *dir, unsigned count)
{
	mach_port_t a, b;
	char addr[4096];
	unsigned pattern = 12345;

	snprintf(addr, sizeof(addr), "unix:%s/a", dir);
	if (mo_mach_lookup(addr, NULL, &a) < 0)
		return 1;
	{
		struct {
			struct numbered m;
			char spare[64];
		} r;
		mach_port_t reply = mach_reply_port();

		memset(&r, 0, sizeof(r));
		r.m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
						 MACH_MSG_TYPE_MAKE_SEND_ONCE);
		r.m.h.msgh_size = sizeof(mach_msg_header_t);
		r.m.h.msgh_remote_port = a;
		r.m.h.msgh_local_port = reply;
		r.m.h.msgh_id = 999;
		if (mach_msg(&r.m.h, MACH_SEND_MSG | MACH_RCV_MSG, r.m.h.msgh_size,
			     sizeof(r), reply, MACH_MSG_TIMEOUT_NONE,
			     MACH_PORT_NULL) || r.m.h.msgh_id != 1099) {
			fprintf(stderr, "send: no answer with b\n");
			return 1;
		}
		b = r.m.n;
	}
	for (unsigned i = 1; i <= count; i++) {
		struct numbered m = { 0 };

		pattern = pattern * 1103515245 + 12345;
		m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
		m.h.msgh_size = sizeof(m);
		m.h.msgh_remote_port = (pattern >> 16) & 1 ? a : b;
		m.h.msgh_id = 1000;
		m.t.msgt_name = MACH_MSG_TYPE_INTEGER_32;
		m.t.msgt_size = 32;
		m.t.msgt_number = 1;
		m.t.msgt_inline = 1;
		m.n = i;
		if (mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL,
			     MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL)) {
			fprintf(stderr, "send: message %u failed\n", i);
			return 1;
		}
	}
	/* Exit at once: what was sent must arrive all the same. */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mach-pset-order serve|send DIR N\n");
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return serve(argv[2], (unsigned)atoi(argv[3]));
	return send_all(argv[2], (unsigned)atoi(argv[3]));
}
