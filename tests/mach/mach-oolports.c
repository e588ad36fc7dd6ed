/*
 * tests/mach/mach-oolports.c: out-of-line port arrays carrying send,
 * send-once and receive rights, within a process and between two over a
 * real socket (tests/t1021-mach-ool-ports.sh). GNU Mach's
 * ipc/ipc_kmsg.c (ipc_kmsg_copyin_body, ipc_kmsg_copyout_body) is the
 * model: each element is copied in with the item's disposition, the
 * receiver sees the received type in the descriptor and its own names in
 * fresh memory.
 *
 *   mach-oolports local          one process: send to itself and back
 *   mach-oolports serve ADDR     the peer: checks one request, answers it
 *   mach-oolports client ADDR    sends the request, checks what comes back
 *   mach-oolports home-serve ADDR, home-client ADDR
 *                                an inline receive right with a queued
 *                                message there and back
 *   mach-oolports sink ADDR      takes one message of one array (from
 *                                tests/mach/wire-probe ADDR oolports good)
 *
 * Prints what it checked and exits 0, or names the first mismatch and
 * exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mach.h>
#include <mach/motrace.h>

#include "tests/mach/mo-test.h"

#pragma pack(push, 4)
/* Four port arrays, as MIG lays a message out (packed at 4). */
struct req {
	mach_msg_header_t h;
	mach_msg_type_t st;	/* MAKE_SEND of two receive rights */
	mach_port_t *sends;
	mach_msg_type_t ot;	/* MAKE_SEND_ONCE of one */
	mach_port_t *sonce;
	mach_msg_type_t rt;	/* MOVE_RECEIVE of one */
	mach_port_t *recv;
	mach_msg_type_t ct;	/* COPY_SEND: NULL, DEAD and one again */
	mach_port_t *copies;
	mach_msg_type_t et;	/* an empty array */
	mach_port_t *empty;
};

struct rep {
	mach_msg_header_t h;
	mach_msg_type_t rt;	/* MOVE_RECEIVE: the receive right sent back */
	mach_port_t *recv;
	mach_msg_type_t st;	/* MOVE_SEND: a send right to the client's port */
	mach_port_t *sends;
};
/* One long-form array, for more elements than a short form counts. */
struct big {
	mach_msg_header_t h;
	mach_msg_type_long_t t;
	mach_port_t *ports;
};
#pragma pack(pop)

/* In one process the client's own send right to a shares the name. */
static int same_space;

union buf {
	mach_msg_header_t h;
	struct req q;
	struct rep r;
	char bytes[4096];
};

static mach_msg_type_t ool_type(unsigned name, unsigned n)
{
	mach_msg_type_t t = { name, 32, n, 0, 0, 0, 0 };

	return t;
}

static mach_port_t recv_port(void)
{
	mach_port_t p;

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p));
	return p;
}

static mach_port_type_t type_of(mach_port_t name)
{
	mach_port_type_t t = 0;

	KR(mach_port_type(mach_task_self(), name, &t));
	return t;
}

static void send_id(mach_port_t to, unsigned disp, int id)
{
	mach_msg_header_t h = { 0 };

	h.msgh_bits = MACH_MSGH_BITS(disp, 0);
	h.msgh_size = sizeof(h);
	h.msgh_remote_port = to;
	h.msgh_id = id;
	CHECK("send", mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
			       MACH_PORT_NULL), MACH_MSG_SUCCESS);
}

static int recv_id(mach_port_t on)
{
	union buf b;

	CHECK("receive", mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				  sizeof(b), on, 10000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	return b.h.msgh_id;
}

/* The client's side: its ports and the request naming them. */
struct mine {
	mach_port_t a, b, c, d, reply;
	mach_port_t sends[2], sonce[1], recv[1], copies[3];
};

static void build_request(struct req *q, struct mine *my, mach_port_t to,
			  unsigned to_disp)
{
	my->a = recv_port();
	my->b = recv_port();
	my->c = recv_port();
	my->d = recv_port();
	my->reply = recv_port();
	/* A message already queued on d goes along with its receive right. */
	send_id(my->d, MACH_MSG_TYPE_MAKE_SEND, 77);
	my->sends[0] = my->a;
	my->sends[1] = my->b;
	my->sonce[0] = my->c;
	my->recv[0] = my->d;
	my->copies[0] = MACH_PORT_NULL;
	my->copies[1] = MACH_PORT_DEAD;
	my->copies[2] = my->a;
	KR(mach_port_insert_right(mach_task_self(), my->a, my->a,
				  MACH_MSG_TYPE_MAKE_SEND));
	memset(q, 0, sizeof(*q));
	q->h.msgh_bits = MACH_MSGH_BITS(to_disp, MACH_MSG_TYPE_MAKE_SEND_ONCE) |
			 MACH_MSGH_BITS_COMPLEX;
	q->h.msgh_size = sizeof(*q);
	q->h.msgh_remote_port = to;
	q->h.msgh_local_port = my->reply;
	q->h.msgh_id = 500;
	q->st = ool_type(MACH_MSG_TYPE_MAKE_SEND, 2);
	q->sends = my->sends;
	q->ot = ool_type(MACH_MSG_TYPE_MAKE_SEND_ONCE, 1);
	q->sonce = my->sonce;
	q->rt = ool_type(MACH_MSG_TYPE_MOVE_RECEIVE, 1);
	q->recv = my->recv;
	q->ct = ool_type(MACH_MSG_TYPE_COPY_SEND, 3);
	q->copies = my->copies;
	q->et = ool_type(MACH_MSG_TYPE_MOVE_SEND, 0);
	q->empty = NULL;
}

/*
 * The receiver's checks of a request, then its answer: a message through
 * each right, the queued message read off the moved receive right, and a
 * reply that sends the receive right and a send right back in arrays.
 */
static void serve_request(union buf *in)
{
	struct req *q = &in->q;
	mach_port_t s0, s1, so, rx;
	union buf out;

	CHECK("size", q->h.msgh_size, sizeof(*q));
	CHECK("complex", !!(q->h.msgh_bits & MACH_MSGH_BITS_COMPLEX), 1);
	CHECK("sends type", q->st.msgt_name, MACH_MSG_TYPE_PORT_SEND);
	CHECK("send-once type", q->ot.msgt_name, MACH_MSG_TYPE_PORT_SEND_ONCE);
	CHECK("receive type", q->rt.msgt_name, MACH_MSG_TYPE_PORT_RECEIVE);
	CHECK("copies type", q->ct.msgt_name, MACH_MSG_TYPE_PORT_SEND);
	CHECK("still out of line", q->st.msgt_inline, 0);
	CHECK("sends count", q->st.msgt_number, 2);
	CHECK("copies count", q->ct.msgt_number, 3);
	CHECK("empty array", (uintptr_t)q->empty, 0);
	if (!q->sends || !q->sonce || !q->recv || !q->copies)
		die("an array came without memory");
	CHECK("fresh pages", (uintptr_t)q->sends & 4095, 0);
	s0 = q->sends[0];
	s1 = q->sends[1];
	so = q->sonce[0];
	rx = q->recv[0];
	/* In one process the names hold the receive rights too. */
	CHECK("send right", type_of(s0) & MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND);
	CHECK("second send right", type_of(s1) & MACH_PORT_TYPE_SEND,
	      MACH_PORT_TYPE_SEND);
	CHECK("two ports", s0 != s1, 1);
	CHECK("send-once right", type_of(so), MACH_PORT_TYPE_SEND_ONCE);
	CHECK("receive right", type_of(rx), MACH_PORT_TYPE_RECEIVE);
	CHECK("null stays null", q->copies[0], MACH_PORT_NULL);
	CHECK("dead stays dead", q->copies[1], MACH_PORT_DEAD);
	CHECK("a copy of the first port has its name", q->copies[2], s0);
	{
		mach_port_urefs_t r;

		KR(mach_port_get_refs(mach_task_self(), s0, MACH_PORT_RIGHT_SEND, &r));
		CHECK("two references to it (and the sender's own)", r, 2 + same_space);
	}
	CHECK("the queued message came with the receive right", recv_id(rx), 77);
	send_id(s0, MACH_MSG_TYPE_COPY_SEND, 1);
	send_id(s1, MACH_MSG_TYPE_MOVE_SEND, 2);
	send_id(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 3);
	/* Queued here, it must follow the receive right back. */
	send_id(rx, MACH_MSG_TYPE_MAKE_SEND, 78);
	vm_deallocate(mach_task_self(), (vm_address_t)q->sends, 8);

	memset(&out, 0, sizeof(out));
	out.r.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0) |
			    MACH_MSGH_BITS_COMPLEX;
	out.r.h.msgh_size = sizeof(out.r);
	out.r.h.msgh_remote_port = q->h.msgh_remote_port;
	out.r.h.msgh_id = 600;
	out.r.rt = ool_type(MACH_MSG_TYPE_MOVE_RECEIVE, 1);
	out.r.rt.msgt_deallocate = 1;	/* the received array goes with it */
	out.r.recv = q->recv;
	out.r.st = ool_type(MACH_MSG_TYPE_MOVE_SEND, 1);
	out.r.sends = &q->copies[2];
	CHECK("reply", mach_msg(&out.h, MACH_SEND_MSG, sizeof(out.r), 0,
				MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	{
		mach_port_urefs_t r;

		KR(mach_port_get_refs(mach_task_self(), s0, MACH_PORT_RIGHT_SEND, &r));
		CHECK("one reference moved out", r, 1 + same_space);
	}
	CHECK("the receive right left", mach_port_type(mach_task_self(), rx,
			&(mach_port_type_t){0}), KERN_INVALID_NAME);
}

/* The client's checks of what came back. */
static void check_answer(struct mine *my)
{
	union buf in;
	mach_port_t back;

	CHECK("through the first send right", recv_id(my->a), 1);
	CHECK("through the second", recv_id(my->b), 2);
	CHECK("through the send-once right", recv_id(my->c), 3);
	CHECK("reply", mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				sizeof(in), my->reply, 10000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	CHECK("reply id", in.h.msgh_id, 600);
	CHECK("receive type", in.r.rt.msgt_name, MACH_MSG_TYPE_PORT_RECEIVE);
	CHECK("send type", in.r.st.msgt_name, MACH_MSG_TYPE_PORT_SEND);
	back = in.r.recv[0];
	CHECK("the receive right is back", type_of(back) & MACH_PORT_TYPE_RECEIVE,
	      MACH_PORT_TYPE_RECEIVE);
	CHECK("what was queued on it over there", recv_id(back), 78);
	send_id(back, MACH_MSG_TYPE_MAKE_SEND, 79);
	CHECK("it receives here", recv_id(back), 79);
	CHECK("a send right to our own port has its name", in.r.sends[0], my->a);
	CHECK("which holds both rights", type_of(my->a),
	      MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
}

static void case_local(void)
{
	struct mine my;
	struct req q;
	mach_port_t srv = recv_port();
	union buf in;

	same_space = 1;
	build_request(&q, &my, srv, MACH_MSG_TYPE_MAKE_SEND);
	CHECK("send", mach_msg(&q.h, MACH_SEND_MSG, sizeof(q), 0, MACH_PORT_NULL,
			       0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("the sender's array is untouched", my.sends[0], my.a);
	CHECK("the receive right left", mach_port_type(mach_task_self(), my.d,
			&(mach_port_type_t){0}), KERN_INVALID_NAME);
	CHECK("receive", mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				  sizeof(in), srv, 10000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	/* In one space the names are the sender's own. */
	CHECK("same names", in.q.sends[0], my.a);
	serve_request(&in);
	check_answer(&my);
	{
		/* Errors: a name that holds no right, and bad memory. */
		mach_port_t bad[1] = { 123456 };

		q = (struct req){ 0 };
		q.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) |
				MACH_MSGH_BITS_COMPLEX;
		q.h.msgh_size = sizeof(q);
		q.h.msgh_remote_port = srv;
		q.st = ool_type(MACH_MSG_TYPE_COPY_SEND, 1);
		q.sends = bad;
		q.ot = q.rt = q.ct = q.et = ool_type(MACH_MSG_TYPE_COPY_SEND, 0);
		CHECK("a name without a right", mach_msg(&q.h, MACH_SEND_MSG,
				sizeof(q), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL),
		      MACH_SEND_INVALID_RIGHT);
		q.sends = NULL;
		CHECK("no memory", mach_msg(&q.h, MACH_SEND_MSG, sizeof(q), 0,
				MACH_PORT_NULL, 0, MACH_PORT_NULL),
		      MACH_SEND_INVALID_MEMORY);
		/* More rights than a frame counts (doc/wire.md, "Limits"). */
		struct big big = { 0 };

		big.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) |
				  MACH_MSGH_BITS_COMPLEX;
		big.h.msgh_size = sizeof(big);
		big.h.msgh_remote_port = srv;
		big.t.msgtl_header.msgt_longform = 1;
		big.t.msgtl_name = MACH_MSG_TYPE_COPY_SEND;
		big.t.msgtl_size = 32;
		big.t.msgtl_number = 70000;
		big.ports = calloc(70000, sizeof(mach_port_t));
		CHECK("70000 rights", mach_msg(&big.h, MACH_SEND_MSG, sizeof(big), 0,
				MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_SEND_NO_BUFFER);
		big.t.msgtl_number = 65534;
		CHECK("65534 rights", mach_msg(&big.h, MACH_SEND_MSG, sizeof(big), 0,
				MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
		free(big.ports);
		{
			union buf in2;
			mach_port_t *got;

			CHECK("receive them", mach_msg(&in2.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
					0, sizeof(in2), srv, 10000, MACH_PORT_NULL),
			      MACH_MSG_SUCCESS);
			memcpy(&got, in2.bytes + 44, sizeof(got));
			CHECK("all null", got[0] | got[65533], MACH_PORT_NULL);
			vm_deallocate(mach_task_self(), (vm_address_t)got, 65534 * 4);
		}
	}
	printf("local: send, send-once and receive rights in out-of-line arrays, there and back\n");
}

static void case_serve(const char *addr)
{
	mach_port_t srv = recv_port();
	union buf in;

	if (mo_mach_publish(addr, srv, NULL, NULL) < 0)
		die("cannot publish %s", addr);
	printf("ready\n");
	fflush(stdout);
	CHECK("request", mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				  sizeof(in), srv, 20000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	serve_request(&in);
	/* Stay until the client said it is done (its next message). */
	CHECK("done", mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
			       sizeof(in), srv, 20000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	CHECK("done id", in.h.msgh_id, 999);
	printf("serve: the arrays' rights arrived as sent and went back\n");
}

static void case_client(const char *addr)
{
	struct mine my;
	struct req q;
	mach_port_t srv;

	if (mo_mach_lookup(addr, NULL, &srv) < 0)
		die("cannot look %s up", addr);
	build_request(&q, &my, srv, MACH_MSG_TYPE_COPY_SEND);
	CHECK("send", mach_msg(&q.h, MACH_SEND_MSG, sizeof(q), 0, MACH_PORT_NULL,
			       0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	check_answer(&my);
	send_id(srv, MACH_MSG_TYPE_COPY_SEND, 999);
	printf("client: send, send-once and receive rights in out-of-line arrays, across processes and back\n");
}

/* An inline receive right and the message queued on it. */
struct one {
	mach_msg_header_t h;
	mach_msg_type_t t;
	mach_port_t port;
};

static void send_recv_right(mach_port_t to, unsigned to_disp, mach_port_t rx,
			    mach_port_t reply)
{
	struct one m = { 0 };

	m.h.msgh_bits = MACH_MSGH_BITS(to_disp, reply ? MACH_MSG_TYPE_MAKE_SEND_ONCE : 0) |
			MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = to;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = 700;
	m.t = (mach_msg_type_t){ MACH_MSG_TYPE_MOVE_RECEIVE, 32, 1, 1, 0, 0, 0 };
	m.port = rx;
	CHECK("send a receive right", mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0,
					       MACH_PORT_NULL, 0, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
}

static mach_port_t recv_recv_right(mach_port_t on, mach_port_t *reply)
{
	union { struct one m; char b[256]; } in;

	CHECK("receive a receive right", mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
			0, sizeof(in), on, 20000, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("its type", in.m.t.msgt_name, MACH_MSG_TYPE_PORT_RECEIVE);
	if (reply)
		*reply = in.m.h.msgh_remote_port;
	return in.m.port;
}

/*
 * An inline receive right there and back over a link, a message queued
 * on it each way: it must come home alive (recv.c, moved_to), not dead.
 */
static void case_home_serve(const char *addr)
{
	mach_port_t srv = recv_port(), reply, rx;

	if (mo_mach_publish(addr, srv, NULL, NULL) < 0)
		die("cannot publish %s", addr);
	printf("ready\n");
	fflush(stdout);
	rx = recv_recv_right(srv, &reply);
	CHECK("the queued message came with it", recv_id(rx), 77);
	send_id(rx, MACH_MSG_TYPE_MAKE_SEND, 78);
	send_recv_right(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, rx, MACH_PORT_NULL);
	CHECK("done", recv_id(srv), 999);
	printf("home-serve: the receive right went back with its queued message\n");
}

static void case_home_client(const char *addr)
{
	mach_port_t srv, rx = recv_port(), reply = recv_port(), back;

	if (mo_mach_lookup(addr, NULL, &srv) < 0)
		die("cannot look %s up", addr);
	send_id(rx, MACH_MSG_TYPE_MAKE_SEND, 77);
	send_recv_right(srv, MACH_MSG_TYPE_COPY_SEND, rx, reply);
	back = recv_recv_right(reply, NULL);
	CHECK("alive, not MACH_PORT_DEAD", back != MACH_PORT_DEAD && back != MACH_PORT_NULL, 1);
	CHECK("a receive right", type_of(back), MACH_PORT_TYPE_RECEIVE);
	CHECK("what was queued on it over there", recv_id(back), 78);
	send_id(srv, MACH_MSG_TYPE_COPY_SEND, 999);
	printf("home-client: the receive right came home alive with its queued message\n");
}

/* Takes one message on a published port; says what its array held. */
static void case_sink(const char *addr)
{
	mach_port_t srv = recv_port();
	union buf in;
	struct {
		mach_msg_header_t h;
		mach_msg_type_t t;
		mach_port_t *ports;
	} __attribute__((packed)) *m = (void *)&in;

	if (mo_mach_publish(addr, srv, NULL, NULL) < 0)
		die("cannot publish %s", addr);
	printf("ready\n");
	fflush(stdout);
	CHECK("a message", mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				    sizeof(in), srv, 30000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	CHECK("its id", in.h.msgh_id, 4242);
	CHECK("out of line", m->t.msgt_inline, 0);
	CHECK("one element", m->t.msgt_number, 1);
	if (!m->ports)
		die("the array came without memory");
	printf("sink: message %d, an array of %u, its right a %s\n", in.h.msgh_id,
	       m->t.msgt_number, type_of(m->ports[0]) == MACH_PORT_TYPE_SEND ?
	       "send right" : "wrong right");
}

int main(int argc, char **argv)
{
	prog = "mach-oolports";
	if (argc == 2 && !strcmp(argv[1], "local"))
		case_local();
	else if (argc == 3 && !strcmp(argv[1], "serve"))
		case_serve(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "client"))
		case_client(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "sink"))
		case_sink(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "home-serve"))
		case_home_serve(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "home-client"))
		case_home_client(argv[2]);
	else {
		fprintf(stderr, "usage: mach-oolports local | serve ADDR | client ADDR | home-serve ADDR | home-client ADDR | sink ADDR\n");
		return 2;
	}
	return 0;
}
