/*
 * tests/mach/mach-ipc.c: libmotrace-mach's semantics, checked with real
 * processes and sockets (tests/t1001-mach-ipc.sh).
 *
 *   mach-ipc local                 rights and mach_msg in one process
 *   mach-ipc serve ADDR [C-ADDR]   the echo server the other cases talk to
 *   mach-ipc CASE ADDR             one client case against a server
 *   mach-ipc raw ADDR KIND         a peer that sends bad bytes
 *   mach-ipc relay ADDR C-ADDR     passes every message on to C-ADDR
 *   mach-ipc flood ADDR [N]        N messages of 64 KiB out-of-line (2000),
 *                                  then waits (120 s) until all came in order
 *
 * Each prints what it checked and exits 0, or names the first mismatch
 * and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <mach.h>
#include <mach/mig_errors.h>
#include <mach/motrace.h>

#include "decode/decode.h"
#include "tests/mach/mo-test.h"

/* Operations the server performs, in msgh_id. */
enum op {
	OP_ECHO = 100,		/* send the body's right back to the reply port */
	OP_SEND_TO,		/* send a message with val to the body's right */
	OP_HOLD_RECV,		/* keep the body's receive right; serve it once */
	OP_GIVE_RECV,		/* send the held receive right back */
	OP_OOL,			/* check the region, answer with seed + 1 */
	OP_DROP,		/* deallocate the body's right */
	OP_PASS_ON,		/* give the body's right to the third process */
	OP_DIE,			/* exit without answering */
	OP_COUNT,		/* order check: body val = thread << 20 | seq */
	OP_COUNT_END,		/* answer the number of order errors */
	OP_RPC,			/* answer val + 1 */
	OP_BULK,		/* a flood's message: val its number, the region its pattern */
	OP_BULK_END,		/* answer how many came in order, or -1 */
	OP_REPLY = 500,
};

struct pmsg {
	mach_msg_header_t h;
	mach_msg_type_t pt;
	mach_port_t port;
	mach_msg_type_t vt;
	int val;
};

/* Packed at 4 as MIG packs its messages (#pragma pack(4) in its output). */
#pragma pack(push, 4)
struct omsg {
	mach_msg_header_t h;
	mach_msg_type_long_t ot;
	vm_address_t data;
	mach_msg_type_t vt;
	int val;
};
#pragma pack(pop)

union buf {
	mach_msg_header_t h;
	struct pmsg p;
	struct omsg o;
	mach_dead_name_notification_t dn;
	mach_no_senders_notification_t ns;
	char bytes[4096];
};

static const mach_msg_type_t int_type = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };

/* Sends a message with one port right (of DISP) and one integer. */
static mach_msg_return_t psend(mach_port_t to, unsigned to_disp, int id,
			       mach_port_t reply, unsigned reply_disp,
			       mach_port_t port, unsigned disp, int val)
{
	struct pmsg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(to_disp, reply ? reply_disp : 0) |
			MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = to;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = id;
	m.pt = (mach_msg_type_t){ disp, 32, 1, 1, 0, 0, 0 };
	m.port = port;
	m.vt = int_type;
	m.val = val;
	return mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0, 0);
}

static void precv(mach_port_t on, union buf *b, const char *what)
{
	mach_msg_return_t mr = mach_msg(&b->h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
					0, sizeof(*b), on, 15000, 0);

	if (mr != MACH_MSG_SUCCESS)
		die("%s: receive: %#x", what, mr);
}

static mach_port_t new_port(void)
{
	mach_port_t p;

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p));
	return p;
}

static mach_msg_return_t osend(mach_port_t to, unsigned to_disp,
			       mach_port_t reply, int id, void *data, size_t len,
			       int dealloc, int val)
{
	struct omsg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(to_disp,
				       reply ? MACH_MSG_TYPE_MAKE_SEND_ONCE : 0) |
			MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_remote_port = to;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = id;
	m.ot.msgtl_header = (mach_msg_type_t){ 0, 0, 0, 0, 1, dealloc, 0 };
	m.ot.msgtl_name = MACH_MSG_TYPE_BYTE;
	m.ot.msgtl_size = 8;
	m.ot.msgtl_number = (natural_t)len;
	m.data = (vm_address_t)data;
	m.vt = int_type;
	m.val = val;
	return mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0, 0);
}

/* The server. */

static mach_port_t held;		/* OP_HOLD_RECV's receive right */
static mach_port_t third;		/* the third process, for OP_PASS_ON */
static int order_next[64], order_errors;
static int bulk_next, bulk_errors;

static void serve_one(union buf *b)
{
	struct pmsg *m = &b->p;
	mach_port_t reply = m->h.msgh_remote_port;

	switch (m->h.msgh_id) {
	case OP_ECHO:
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 m->port, MACH_MSG_TYPE_MOVE_SEND, m->val));
		break;
	case OP_SEND_TO: {
		unsigned d = m->pt.msgt_name == MACH_MSG_TYPE_PORT_SEND_ONCE ?
			MACH_MSG_TYPE_MOVE_SEND_ONCE : MACH_MSG_TYPE_MOVE_SEND;

		KR(psend(m->port, d, OP_REPLY, 0, 0, MACH_PORT_NULL,
			 MACH_MSG_TYPE_COPY_SEND, m->val + 1));
		break;
	}
	case OP_HOLD_RECV: {
		union buf in;

		if (m->pt.msgt_name != MACH_MSG_TYPE_PORT_RECEIVE ||
		    !has_right(m->port, MACH_PORT_TYPE_RECEIVE))
			die("hold: no receive right in the message");
		held = m->port;
		/* The client sends one message to it; answer what it carried. */
		precv(held, &in, "hold");
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, in.p.val));
		break;
	}
	case OP_GIVE_RECV:
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 held, MACH_MSG_TYPE_MOVE_RECEIVE, 0));
		held = MACH_PORT_NULL;
		break;
	case OP_OOL: {
		struct omsg *o = &b->o;
		size_t len = o->ot.msgtl_number;
		int bad = pattern_check((void *)o->data, len, o->val);

		if (bad)
			die("ool: %zu bytes differ at %d", len, bad - 1);
		/* Answer with the same pages, changed, given away (dealloc). */
		pattern_fill((void *)o->data, len, o->val + 1);
		KR(osend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, OP_REPLY,
			 (void *)o->data, len, 1, o->val + 1));
		break;
	}
	case OP_DROP:
		KR(mach_port_deallocate(mach_task_self(), m->port));
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0));
		break;
	case OP_PASS_ON:
		if (!third)
			die("pass on: no third process");
		KR(psend(third, MACH_MSG_TYPE_COPY_SEND, OP_SEND_TO, 0, 0,
			 m->port, MACH_MSG_TYPE_MOVE_SEND, m->val));
		break;
	case OP_DIE:
		_exit(0);
	case OP_COUNT: {
		int t = m->val >> 20, seq = m->val & 0xfffff;

		if (t < 0 || t >= 64 || seq != order_next[t]++)
			order_errors++;
		if (m->port)
			mach_port_deallocate(mach_task_self(), m->port);
		break;
	}
	case OP_COUNT_END:
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, order_errors));
		/* Ready for the next client. */
		memset(order_next, 0, sizeof(order_next));
		order_errors = 0;
		break;
	case OP_RPC:
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, m->val + 1));
		break;
	case OP_BULK: {
		struct omsg *o = &b->o;
		size_t len = o->ot.msgtl_number;

		if (o->val != bulk_next++ || pattern_check((void *)o->data, len, o->val))
			bulk_errors++;
		KR(vm_deallocate(mach_task_self(), o->data, len));
		break;
	}
	case OP_BULK_END:
		KR(psend(reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, OP_REPLY, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND,
			 bulk_errors ? -1 : bulk_next));
		bulk_next = bulk_errors = 0;
		break;
	default:
		die("server: message id %d", m->h.msgh_id);
	}
}

static int serve(const char *addr, const char *third_addr)
{
	mach_port_t port = new_port();
	union buf b;
	char *bound;

	if (third_addr && mo_mach_lookup(third_addr, NULL, &third) < 0)
		return 1;
	if (mo_mach_publish(addr, port, NULL, &bound) < 0)
		return 1;
	printf("%s\n", bound);
	fflush(stdout);
	free(bound);
	for (;;) {
		mach_msg_return_t mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(b),
						port, 0, 0);

		if (mr != MACH_MSG_SUCCESS)
			die("server: receive: %#x", mr);
		serve_one(&b);
	}
}

/*
 * A relay, as motrace sits between a kernel and a pager: every message
 * to ADDR goes on to C-ADDR with its rights and memory, the reply right
 * included; out-of-line regions are moved on (msgt_deallocate), found
 * with decode/'s walker.
 */
static int relay(const char *addr, const char *to_addr)
{
	mach_port_t port = new_port(), to;
	union buf b;
	char *bound;

	if (mo_mach_lookup(to_addr, NULL, &to) < 0)
		return 1;
	if (mo_mach_publish(addr, port, NULL, &bound) < 0)
		return 1;
	printf("%s\n", bound);
	fflush(stdout);
	free(bound);
	for (;;) {
		struct mo_walker w;
		struct mo_header h;
		struct mo_item it;
		mach_msg_return_t mr;

		mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(b), port, 0, 0);
		if (mr != MACH_MSG_SUCCESS)
			die("relay: receive: %#x", mr);
		if (mo_walk_init(&w, (uint8_t *)&b, b.h.msgh_size, MO_ABI_X86_64, &h) < 0)
			die("relay: %s", w.err);
		while (mo_walk_next(&w, &it) == 1)
			if (!it.is_inline)
				b.bytes[it.desc_off + 3] |= 0x40;	/* msgt_deallocate */
		/* The received types are the dispositions that move the rights on. */
		b.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
					       MACH_MSGH_BITS_REMOTE(b.h.msgh_bits)) |
				(b.h.msgh_bits & MACH_MSGH_BITS_COMPLEX);
		b.h.msgh_local_port = b.h.msgh_remote_port;
		b.h.msgh_remote_port = to;
		mr = mach_msg(&b.h, MACH_SEND_MSG, b.h.msgh_size, 0, 0, 0, 0);
		if (mr != MACH_MSG_SUCCESS)
			die("relay: send: %#x", mr);
	}
}

/* The client cases. */

static mach_port_t server;

/* Sends OP with a right and waits for the reply on a fresh reply port. */
static void call(int op, mach_port_t port, unsigned disp, int val, union buf *b)
{
	mach_port_t r = new_port();

	KR(psend(server, MACH_MSG_TYPE_COPY_SEND, op, r,
		 MACH_MSG_TYPE_MAKE_SEND_ONCE, port, disp, val));
	precv(r, b, "reply");
	CHECK("reply", b->h.msgh_id, OP_REPLY);
	KR(mach_port_mod_refs(mach_task_self(), r, MACH_PORT_RIGHT_RECEIVE, -1));
}

/* Sends OP with a right; no reply. */
static void tell(int op, mach_port_t port, unsigned disp, int val)
{
	KR(psend(server, MACH_MSG_TYPE_COPY_SEND, op, 0, 0, port, disp, val));
}

/* A send-once right for P under a name of its own, by a message to ourselves. */
static mach_port_t make_send_once(mach_port_t p)
{
	union buf b;
	mach_port_t tmp = new_port();

	KR(psend(tmp, MACH_MSG_TYPE_MAKE_SEND, 1, 0, 0, p,
		 MACH_MSG_TYPE_MAKE_SEND_ONCE, 0));
	precv(tmp, &b, "make_send_once");
	CHECK("make_send_once", b.p.pt.msgt_name, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KR(mach_port_mod_refs(mach_task_self(), tmp, MACH_PORT_RIGHT_RECEIVE, -1));
	return b.p.port;
}

static void case_rights(void)
{
	union buf b;
	mach_port_t p = new_port(), q;
	mach_port_urefs_t refs;

	/* MAKE_SEND there and MOVE_SEND back: our own name again. */
	call(OP_ECHO, p, MACH_MSG_TYPE_MAKE_SEND, 1, &b);
	CHECK("echo make_send", b.p.port, p);
	CHECK("echo make_send", b.p.pt.msgt_name, MACH_MSG_TYPE_PORT_SEND);
	KR(mach_port_get_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("echo make_send", refs, 1);
	/* COPY_SEND: the right stays here too, one more reference comes back. */
	call(OP_ECHO, p, MACH_MSG_TYPE_COPY_SEND, 2, &b);
	CHECK("echo copy_send", b.p.port, p);
	KR(mach_port_get_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("echo copy_send", refs, 2);
	/* MOVE_SEND: leaves, and comes back. */
	call(OP_ECHO, p, MACH_MSG_TYPE_MOVE_SEND, 3, &b);
	CHECK("echo move_send", b.p.port, p);
	KR(mach_port_get_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("echo move_send", refs, 2);
	printf("make/copy/move send: a right that comes back has its own name\n");

	/* The server sends to what we gave it. */
	tell(OP_SEND_TO, p, MACH_MSG_TYPE_MAKE_SEND, 10);
	precv(p, &b, "send_to make_send");
	CHECK("send_to make_send", b.p.val, 11);
	CHECK("send_to make_send", MACH_MSGH_BITS_LOCAL(b.h.msgh_bits),
	      MACH_MSG_TYPE_PORT_SEND);
	tell(OP_SEND_TO, p, MACH_MSG_TYPE_MAKE_SEND_ONCE, 20);
	precv(p, &b, "send_to make_send_once");
	CHECK("send_to make_send_once", b.p.val, 21);
	CHECK("send_to make_send_once", MACH_MSGH_BITS_LOCAL(b.h.msgh_bits),
	      MACH_MSG_TYPE_PORT_SEND_ONCE);
	printf("make_send and make_send_once: the server's messages arrive\n");

	/* MOVE_SEND_ONCE of a send-once right we hold for our own port. */
	{
		mach_port_t so = make_send_once(p);

		tell(OP_SEND_TO, so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 30);
		precv(p, &b, "send_to move_send_once");
		CHECK("send_to move_send_once", b.p.val, 31);
	}
	printf("move_send_once: arrives as a send-once right\n");

	/* MOVE_RECEIVE: the server holds q; our send right reaches it there. */
	q = new_port();
	KR(mach_port_insert_right(mach_task_self(), q, q, MACH_MSG_TYPE_MAKE_SEND));
	{
		mach_port_t r = new_port();

		KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_HOLD_RECV, r,
			 MACH_MSG_TYPE_MAKE_SEND_ONCE, q, MACH_MSG_TYPE_MOVE_RECEIVE, 0));
		if (has_right(q, MACH_PORT_TYPE_RECEIVE) ||
		    !has_right(q, MACH_PORT_TYPE_SEND))
			die("move_receive: expected a send right only");
		KR(psend(q, MACH_MSG_TYPE_COPY_SEND, 1, 0, 0, MACH_PORT_NULL,
			 MACH_MSG_TYPE_COPY_SEND, 77));
		precv(r, &b, "hold reply");
		CHECK("move_receive", b.p.val, 77);
	}
	/* ... and gives it back: the receive right joins our send right's name. */
	call(OP_GIVE_RECV, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0, &b);
	CHECK("give back", b.p.pt.msgt_name, MACH_MSG_TYPE_PORT_RECEIVE);
	/* The port itself came back: the name of our send right names it. */
	CHECK("give back", b.p.port, q);
	if (!has_right(b.p.port, MACH_PORT_TYPE_RECEIVE))
		die("give back: no receive right");
	{
		mach_port_t back = b.p.port;

		/* Our old send right still reaches it, wherever it went. */
		KR(psend(q, MACH_MSG_TYPE_COPY_SEND, 2, 0, 0, MACH_PORT_NULL,
			 MACH_MSG_TYPE_COPY_SEND, 88));
		precv(back, &b, "moved back");
		CHECK("moved back", b.p.val, 88);
	}
	printf("move_receive: there and back, messages follow the right\n");
}

static void case_ool(void)
{
	static const size_t sizes[] = { 1, 100, 4096, 4097, 65536,
					1024 * 1024 + 3, 6 * 1024 * 1024 };
	union buf b;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		size_t len = sizes[i];
		vm_address_t a = 0;
		mach_port_t r = new_port();
		int dealloc = i & 1;
		int bad;

		KR(vm_allocate(mach_task_self(), &a, len, TRUE));
		pattern_fill((void *)a, len, (unsigned)i);
		KR(osend(server, MACH_MSG_TYPE_COPY_SEND, r, OP_OOL, (void *)a, len, dealloc, (int)i));
		if (!dealloc) {
			/* Not given away: ours to change at once. */
			memset((void *)a, 0, len);
			KR(vm_deallocate(mach_task_self(), a, len));
		}
		precv(r, &b, "ool reply");
		CHECK("ool size", b.o.ot.msgtl_number, len);
		if ((bad = pattern_check((void *)b.o.data, len, (unsigned)i + 1)))
			die("ool: %zu bytes: reply differs at %d", len, bad - 1);
		KR(vm_deallocate(mach_task_self(), b.o.data, len));
		KR(mach_port_mod_refs(mach_task_self(), r, MACH_PORT_RIGHT_RECEIVE, -1));
	}
	printf("out-of-line: 1 byte to 6 MiB, there and back, in fresh memory\n");
}

static void case_notify(void)
{
	union buf b;
	mach_port_t p = new_port(), n = new_port(), prev;

	/* No senders: the server drops the only send right. */
	KR(mach_port_request_notification(mach_task_self(), p,
					  MACH_NOTIFY_NO_SENDERS, 1, n,
					  MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev));
	call(OP_DROP, p, MACH_MSG_TYPE_MAKE_SEND, 0, &b);
	precv(n, &b, "no-senders");
	CHECK("no-senders", b.h.msgh_id, MACH_NOTIFY_NO_SENDERS);
	CHECK("no-senders mscount", b.ns.not_count, 1);
	printf("no-senders: delivered when the remote holder lets go\n");
}

/* A right passed A -> B -> C reaches A from C (through B). */
static void case_chain(void)
{
	union buf b;
	mach_port_t p = new_port();

	KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_PASS_ON, 0, 0, p,
		 MACH_MSG_TYPE_MAKE_SEND, 40));
	precv(p, &b, "chain");
	CHECK("chain", b.p.val, 41);
	printf("a right passed on twice still reaches its port\n");
}

/* The server dies with our request unanswered; nothing hangs. */
static void case_death(void)
{
	union buf b;
	mach_port_t r = new_port(), n = new_port(), prev;
	mach_msg_return_t mr;

	KR(mach_port_request_notification(mach_task_self(), server,
					  MACH_NOTIFY_DEAD_NAME, 0, n,
					  MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev));
	KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_DIE, r,
		 MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 0));
	/* The reply right died with the server (ipc_notify_send_once). */
	precv(r, &b, "reply from a dead server");
	CHECK("dead server's reply", b.h.msgh_id, MACH_NOTIFY_SEND_ONCE);
	precv(n, &b, "dead-name");
	CHECK("dead-name", b.h.msgh_id, MACH_NOTIFY_DEAD_NAME);
	CHECK("dead-name", b.dn.not_port, server);
	mr = psend(server, MACH_MSG_TYPE_COPY_SEND, OP_RPC, 0, 0, MACH_PORT_NULL,
		   MACH_MSG_TYPE_COPY_SEND, 0);
	CHECK("send to a dead server", mr, MACH_SEND_INVALID_DEST);
	printf("server death: send-once and dead-name notifications, then MACH_SEND_INVALID_DEST\n");
}

#define THREADS 4
#define PER_THREAD 2000

static void *order_thread(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++)
		KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_COUNT, 0, 0,
			 MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, t << 20 | i));
	return NULL;
}

static void *rpc_thread(void *arg)
{
	int t = (int)(intptr_t)arg;
	mach_port_t r = mig_get_reply_port();
	union buf b;

	for (int i = 0; i < PER_THREAD / 4; i++) {
		int v = t * 100000 + i;

		KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_RPC, r,
			 MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_PORT_NULL,
			 MACH_MSG_TYPE_COPY_SEND, v));
		precv(r, &b, "rpc");
		CHECK("rpc answer", b.p.val, v + 1);
	}
	return NULL;
}

static void case_order(void)
{
	pthread_t th[THREADS];
	union buf b;

	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, order_thread, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	call(OP_COUNT_END, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0, &b);
	CHECK("messages out of order", b.p.val, 0);
	printf("order: %d threads x %d messages, each thread's in order\n",
	       THREADS, PER_THREAD);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, rpc_thread, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("threads: %d threads in mach_msg at once, each got its answers\n",
	       THREADS);
}

static mach_port_t intr_port;
static volatile sig_atomic_t intr_done;

static void on_signal(int sig)
{
	(void)sig;
}

static void *intr_thread(void *arg)
{
	union buf b;
	mach_msg_return_t mr;

	(void)arg;
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_INTERRUPT, 0, sizeof(b),
		      intr_port, 0, 0);
	intr_done = 1;
	return (void *)(uintptr_t)mr;
}

/* The library's keyed hash (mach/siphash.c), against the paper's vectors. */
uint64_t mo_siphash(const uint8_t key[16], const void *data, size_t len);

/* In one process: what needs no peer. */
static int local(void)
{
	union buf b;
	mach_port_t p = new_port(), q = new_port(), s, dead;
	mach_port_type_t t;
	mach_msg_return_t mr;

	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 1, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 1));
	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 2, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 2));
	precv(p, &b, "seqno");
	CHECK("first seqno", b.h.msgh_seqno, 0);
	CHECK("first id", b.h.msgh_id, 1);
	precv(p, &b, "seqno");
	CHECK("second seqno", b.h.msgh_seqno, 1);

	/* Too large: dequeued and destroyed, the header tells the size. */
	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 3, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 3));
	mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(mach_msg_header_t), p, 0, 0);
	CHECK("small buffer", mr, MACH_RCV_TOO_LARGE);
	CHECK("needed size", b.h.msgh_size, sizeof(struct pmsg));
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(b), p, 0, 0);
	CHECK("queue after too large", mr, MACH_RCV_TIMED_OUT);

	/* Too large, sent to a send-once right: the right is used up as in a
	 * delivery (ipc_kmsg_copyout_dest), no send-once notification. */
	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND_ONCE, 3, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 3));
	mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(mach_msg_header_t), p, 0, 0);
	CHECK("small buffer, to a send-once right", mr, MACH_RCV_TOO_LARGE);
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(b), p, 0, 0);
	CHECK("no notification after it", mr, MACH_RCV_TIMED_OUT);

	/* MACH_RCV_LARGE: the message stays queued, msgh_size says how large. */
	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 4, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 4));
	b.h.msgh_id = 0;
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_LARGE, 0,
		      sizeof(mach_msg_header_t), p, 0, 0);
	CHECK("small buffer, MACH_RCV_LARGE", mr, MACH_RCV_TOO_LARGE);
	CHECK("size to retry with", b.h.msgh_size, sizeof(struct pmsg));
	CHECK("only the size is written", b.h.msgh_id, 0);
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_LARGE | MACH_RCV_TIMEOUT, 0,
		      sizeof(struct pmsg), p, 0, 0);
	CHECK("retry with that size", mr, MACH_MSG_SUCCESS);
	CHECK("the message kept", b.p.val, 4);
	CHECK("its seqno not used up by the first try", b.h.msgh_seqno, 4);

	/* mo_mach_receive: a message too large for a server's buffer is
	 * refused and answered; the loop goes on to the next one. */
	{
		mach_port_t reply = new_port();
		mach_msg_header_t small = {
			.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0),
			.msgh_size = sizeof(small), .msgh_remote_port = p, .msgh_id = 6,
		};
		union buf r;

		KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 5, reply,
			 MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_PORT_NULL,
			 MACH_MSG_TYPE_COPY_SEND, 5));
		KR(mach_msg(&small, MACH_SEND_MSG, sizeof(small), 0, 0, 0, 0));
		mr = mo_mach_receive(&b.h, sizeof(mach_msg_header_t), p,
				     MACH_RCV_TIMEOUT, 1000);
		CHECK("mo_mach_receive goes on to the next message", mr, MACH_MSG_SUCCESS);
		CHECK("mo_mach_receive: the one that fits", b.h.msgh_id, 6);
		mr = mach_msg(&r.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(r),
			      reply, 1000, 0);
		CHECK("the refused message is answered", mr, MACH_MSG_SUCCESS);
		CHECK("the answer's id", r.h.msgh_id, 105);
		CHECK("the answer's code", ((mig_reply_header_t *)&r.h)->RetCode,
		      MIG_BAD_ARGUMENTS);
		KR(mach_port_mod_refs(mach_task_self(), reply, MACH_PORT_RIGHT_RECEIVE, -1));
	}

	/* The library's limit: larger messages are not sent. */
	{
		size_t big = MO_MACH_MSG_MAX + 8;
		mach_msg_header_t *h = calloc(1, big);

		h->msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
		h->msgh_size = (mach_msg_size_t)big;
		h->msgh_remote_port = p;
		mr = mach_msg(h, MACH_SEND_MSG, (mach_msg_size_t)big, 0, 0, 0, 0);
		CHECK("a message over MO_MACH_MSG_MAX", mr, MACH_SEND_NO_BUFFER);
		h->msgh_size = MO_MACH_MSG_MAX;
		KR(mach_msg(h, MACH_SEND_MSG, MO_MACH_MSG_MAX, 0, 0, 0, 0));
		mr = mach_msg(h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, MO_MACH_MSG_MAX, p, 0, 0);
		CHECK("a message of MO_MACH_MSG_MAX", mr, MACH_MSG_SUCCESS);
		free(h);
	}
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(b), p, 10, 0);
	CHECK("timeout", mr, MACH_RCV_TIMED_OUT);
	mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(b), 9999, 0, 0);
	CHECK("receive on no name", mr, MACH_RCV_INVALID_NAME);
	mr = psend(9999, MACH_MSG_TYPE_COPY_SEND, 1, 0, 0, MACH_PORT_NULL,
		   MACH_MSG_TYPE_COPY_SEND, 0);
	CHECK("send to no name", mr, MACH_SEND_INVALID_DEST);
	mr = psend(p, MACH_MSG_TYPE_MAKE_SEND, 1, 0, 0, 9999,
		   MACH_MSG_TYPE_COPY_SEND, 0);
	CHECK("body right that is not there", mr, MACH_SEND_INVALID_RIGHT);
	printf("local: sequence numbers, MACH_RCV_TOO_LARGE, MACH_RCV_LARGE, mo_mach_receive, MO_MACH_MSG_MAX, timeouts, bad names\n");

	/* Port sets. */
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &s));
	KR(mach_port_move_member(mach_task_self(), p, s));
	KR(mach_port_move_member(mach_task_self(), q, s));
	KR(psend(q, MACH_MSG_TYPE_MAKE_SEND, 7, 0, 0, MACH_PORT_NULL,
		 MACH_MSG_TYPE_COPY_SEND, 0));
	precv(s, &b, "port set");
	CHECK("port set member", b.h.msgh_local_port, q);
	mr = mach_msg(&b.h, MACH_RCV_MSG, 0, sizeof(b), q, 0, 0);
	CHECK("receive on a member", mr, MACH_RCV_IN_SET);
	KR(mach_port_move_member(mach_task_self(), q, MACH_PORT_NULL));
	printf("local: port sets\n");

	/* Dead names from a destroyed receive right. */
	KR(mach_port_insert_right(mach_task_self(), q, q, MACH_MSG_TYPE_MAKE_SEND));
	KR(psend(p, MACH_MSG_TYPE_MAKE_SEND, 8, 0, 0, q,
		 MACH_MSG_TYPE_MAKE_SEND_ONCE, 0));
	precv(s, &b, "send-once name");
	dead = b.p.port;
	KR(mach_port_mod_refs(mach_task_self(), q, MACH_PORT_RIGHT_RECEIVE, -1));
	KR(mach_port_type(mach_task_self(), q, &t));
	CHECK("send right of a dead port", t, MACH_PORT_TYPE_DEAD_NAME);
	KR(mach_port_type(mach_task_self(), dead, &t));
	CHECK("send-once right of a dead port", t, MACH_PORT_TYPE_DEAD_NAME);
	mr = psend(q, MACH_MSG_TYPE_COPY_SEND, 1, 0, 0, MACH_PORT_NULL,
		   MACH_MSG_TYPE_COPY_SEND, 0);
	CHECK("send to a dead name", mr, MACH_SEND_INVALID_DEST);
	KR(mach_port_deallocate(mach_task_self(), q));
	KR(mach_port_deallocate(mach_task_self(), dead));
	CHECK("dead name gone", mach_port_type(mach_task_self(), q, &t),
	      KERN_INVALID_NAME);
	printf("local: dead names\n");

	/* insert_right makes one send right: dropping it leaves no senders. */
	{
		mach_port_t r = new_port(), n = new_port(), prev;
		mach_port_urefs_t refs;

		KR(mach_port_insert_right(mach_task_self(), r, r,
					  MACH_MSG_TYPE_MAKE_SEND));
		KR(mach_port_get_refs(mach_task_self(), r, MACH_PORT_RIGHT_SEND, &refs));
		CHECK("insert_right", refs, 1);
		CHECK("insert_right elsewhere",
		      mach_port_insert_right(mach_task_self(), n, r,
					     MACH_MSG_TYPE_MAKE_SEND),
		      KERN_NAME_EXISTS);
		KR(mach_port_request_notification(mach_task_self(), r,
						  MACH_NOTIFY_NO_SENDERS, 1, n,
						  MACH_MSG_TYPE_MAKE_SEND_ONCE,
						  &prev));
		KR(mach_port_deallocate(mach_task_self(), r));
		precv(n, &b, "no-senders after insert_right");
		CHECK("no-senders", b.h.msgh_id, MACH_NOTIFY_NO_SENDERS);
		CHECK("no-senders mscount", b.ns.not_count, 1);
	}
	printf("local: insert_right and no-senders\n");

	/* MACH_RCV_INTERRUPT: a signal ends the wait. Signals are repeated
	 * until the receiver has started sleeping where they reach it. */
	{
		pthread_t th;
		struct sigaction sa = { .sa_handler = on_signal };
		void *ret;

		sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
		intr_port = new_port();
		pthread_create(&th, NULL, intr_thread, NULL);
		for (int i = 0; i < 2000 && !intr_done; i++) {
			pthread_kill(th, SIGUSR1);
			usleep(5000);
		}
		pthread_join(th, &ret);
		CHECK("receive with MACH_RCV_INTERRUPT", (uintptr_t)ret,
		      MACH_RCV_INTERRUPTED);
	}
	printf("local: MACH_RCV_INTERRUPT\n");
	{
		uint8_t key[16], data[15];

		for (int i = 0; i < 16; i++)
			key[i] = (uint8_t)i;
		for (int i = 0; i < 15; i++)
			data[i] = (uint8_t)i;
		/* Aumasson and Bernstein, "SipHash", appendix A. */
		CHECK("siphash of 15 bytes", mo_siphash(key, data, 15),
		      0xa129ca6149be45e5ull);
		CHECK("siphash of nothing", mo_siphash(key, data, 0),
		      0x726fdb47dd0e0e31ull);
	}
	printf("local: SipHash-2-4 test vectors\n");
	return 0;
}

/* A peer that breaks the rules: the server must refuse it and go on. */
static int raw(const char *addr, const char *kind)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned char hello[64] = "motrmach", frame[64], in[512];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n;
	size_t got = 0;

	if (strncmp(addr, "unix:", 5))
		die("raw: unix: addresses only");
	strcpy(sun.sun_path, addr + 5);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		die("raw: connect: %s", strerror(errno));
	hello[8] = 1;
	hello[10] = 64;
	strcpy((char *)hello + 12, "x86_64");
	hello[31] = 4;	/* max frame: 64 MiB */
	if (!strcmp(kind, "magic"))
		hello[0] = 'X';
	else if (!strcmp(kind, "version"))
		hello[8] = 9;
	else if (!strcmp(kind, "abi"))
		strcpy((char *)hello + 12, "i386");
	if (write(fd, hello, 64) != 64)
		die("raw: write");
	if (!strcmp(kind, "half")) {
		/* A good start (the server's hello and bootstrap frame) ... */
		while (got < 96 && (n = read(fd, in + got, 96 - got)) > 0)
			got += n;
		if (got != 96)
			die("raw: no hello and bootstrap from the server");
	}
	memset(frame, 0, sizeof(frame));
	if (!strcmp(kind, "huge")) {
		frame[3] = 0x7f;	/* 2 GiB */
		frame[4] = 1;
		(void)!write(fd, frame, 16);
	} else if (!strcmp(kind, "type")) {
		frame[0] = 16;
		frame[4] = 77;
		(void)!write(fd, frame, 16);
	} else if (!strcmp(kind, "short")) {
		/* A message frame too short for what it claims. */
		frame[0] = 32;
		frame[4] = 1;
		frame[6] = 5;	/* five ports */
		frame[12] = 32;
		(void)!write(fd, frame, 32);
	} else if (!strcmp(kind, "half")) {
		/* ... then death in the middle of a frame. */
		frame[0] = 64;
		frame[4] = 1;
		(void)!write(fd, frame, 20);
		close(fd);
		printf("raw: closed in the middle of a frame\n");
		return 0;
	}
	/* Read until the server closes: its hello, then an ERROR frame. */
	while (got < sizeof(in) - 1 && (n = read(fd, in + got, sizeof(in) - 1 - got)) > 0)
		got += n;
	in[got] = '\0';
	for (size_t i = 0; i < got; i++)
		if (in[i] < ' ' || in[i] > '~')
			in[i] = '.';
	printf("raw: server sent: %s\n", in);
	return 0;
}

/*
 * LeakSanitizer (make check SANITIZE=1) asks this before its check at
 * exit: a forked child lost the threads whose stacks hold its memory,
 * so everything they hold would look leaked.
 */
static int forked_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return forked_child;
}

/*
 * Dies in the middle of sending a large message: mach_msg has returned,
 * the frame is still going out when SIGKILL ends the process.
 */
static void case_die_sending(void)
{
	size_t len = 48u << 20;
	vm_address_t a = 0;

	KR(vm_allocate(mach_task_self(), &a, len, TRUE));
	memset((void *)a, 0x5a, len);
	KR(osend(server, MACH_MSG_TYPE_COPY_SEND, 0, OP_OOL, (void *)a, len, 1, 0));
	raise(SIGKILL);
}

/* A child of fork() is a task of its own: the parent's links stay whole. */
static void case_fork(void)
{
	union buf b;
	pid_t pid;
	int status;

	call(OP_RPC, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 1, &b);
	pid = fork();
	if (pid == 0) {
		mach_msg_return_t mr = psend(server, MACH_MSG_TYPE_COPY_SEND,
					     OP_RPC, 0, 0, MACH_PORT_NULL,
					     MACH_MSG_TYPE_COPY_SEND, 0);

		/* exit, not _exit: the library's exit handler runs here too. */
		forked_child = 1;
		exit(mr == MACH_SEND_INVALID_DEST ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		die("fork: no child");
	CHECK("child's send to the parent's server", WEXITSTATUS(status), 0);
	call(OP_RPC, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 41, &b);
	CHECK("rpc after the child exited", b.p.val, 42);
	printf("fork: the child cannot use the parent's links; the parent goes on\n");
}

/*
 * A sender that never waits, towards a peer that may not be reading:
 * FLOOD_N regions of 64 KiB, each with its number's pattern, then one
 * question that is answered once all have arrived.
 */
static int flood_n = 2000;

static void case_flood(void)
{
	size_t len = 64 << 10;
	mach_port_t r = new_port();
	union buf b;
	mach_msg_return_t mr;

	for (int i = 0; i < flood_n; i++) {
		vm_address_t a;

		KR(vm_allocate(mach_task_self(), &a, len, 1));
		pattern_fill((void *)a, len, (unsigned)i);
		KR(osend(server, MACH_MSG_TYPE_COPY_SEND, 0, OP_BULK, (void *)a, len, 1, i));
	}
	printf("sent %d\n", flood_n);
	fflush(stdout);
	KR(psend(server, MACH_MSG_TYPE_COPY_SEND, OP_BULK_END, r,
		 MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0));
	mr = mach_msg(&b.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(b), r, 120000, 0);
	if (mr != MACH_MSG_SUCCESS)
		die("flood: receive: %#x", mr);
	CHECK("messages that came in order", b.p.val, flood_n);
	printf("flood: %d messages of %zu bytes, all in order\n", flood_n, len);
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "flood", case_flood },
	{ "fork", case_fork },
	{ "die-sending", case_die_sending },
	{ "rights", case_rights },
	{ "ool", case_ool },
	{ "notify", case_notify },
	{ "chain", case_chain },
	{ "order", case_order },
	{ "death", case_death },
};

int main(int argc, char **argv)
{
	prog = "mach-ipc";
	if (argc >= 2 && !strcmp(argv[1], "local"))
		return local();
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc >= 4 && !strcmp(argv[1], "raw"))
		return raw(argv[2], argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "relay"))
		return relay(argv[2], argv[3]);
	for (size_t i = 0; argc >= 3 && i < sizeof(cases) / sizeof(*cases); i++)
		if (!strcmp(argv[1], cases[i].name)) {
			if (mo_mach_lookup(argv[2], NULL, &server) < 0)
				return 1;
			if (argc > 3)
				flood_n = atoi(argv[3]);
			cases[i].run();
			return 0;
		}
	die("usage: mach-ipc local | serve ADDR [C-ADDR] | relay ADDR C-ADDR | CASE ADDR | raw ADDR KIND");
}
