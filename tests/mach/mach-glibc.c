/*
 * tests/mach/mach-glibc.c: the calls a Hurd server takes from glibc and
 * GNU Mach (tests t1010-t1014), checked on real ports, messages and
 * processes.
 *
 *   mach-glibc status ADDR   receive status: make-send, moves, send-once
 *                            rights, queue, sets, no-senders, and the
 *                            counts of a send right held by a child
 *                            process that looked ADDR up
 *   mach-glibc destroy ADDR  mach_msg_destroy releases every right and
 *                            region of a received message, here and for a
 *                            message that came from a child process
 *   mach-glibc payload ADDR  protected payloads in received headers, set,
 *                            cleared, from a child process, and dropped
 *                            with a receive right that moves
 *   mach-glibc thread        mach_thread_self, thread_switch, the
 *                            priority calls, vm_page_size
 *
 * Each prints what it checked and exits 0, or names the first mismatch
 * and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <mach.h>
#include <mach_init.h>
#include <mach/mig_errors.h>
#include <mach/motrace.h>
#include <mach/thread_switch.h>

#include "tests/mach/mo-test.h"

#pragma pack(push, 4)
struct imsg {			/* one integer */
	mach_msg_header_t h;
	mach_msg_type_t t;
	int v;
};

/* Three port rights, a region and an integer, as MIG lays them out. */
struct rmsg {
	mach_msg_header_t h;
	mach_msg_type_t at;
	mach_port_t a;
	mach_msg_type_t bt;
	mach_port_t b;
	mach_msg_type_t ct;
	mach_port_t c;
	mach_msg_type_long_t ot;
	vm_address_t data;
	mach_msg_type_t vt;
	int v;
};
#pragma pack(pop)

/* One port right and an integer. */
struct pmsg {
	mach_msg_header_t h;
	mach_msg_type_t pt;
	mach_port_t port;
	mach_msg_type_t vt;
	int v;
};

union buf {
	mach_msg_header_t h;
	struct imsg i;
	struct pmsg p;
	struct rmsg r;
	mach_no_senders_notification_t ns;
	mig_reply_header_t rep;
	char bytes[8192];
};

static const mach_msg_type_t int_type = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };
#define REGION (128 * 1024)	/* larger than pages.c keeps: freed, it is unmapped */

static mach_port_t new_port(void)
{
	mach_port_t p;

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p));
	return p;
}

static mach_port_status_t status(mach_port_t p)
{
	mach_port_status_t st;

	KR(mach_port_get_receive_status(mach_task_self(), p, &st));
	return st;
}

static mach_msg_return_t isend(mach_port_t to, unsigned disp, mach_port_t reply,
			       unsigned rdisp, int id, int v)
{
	struct imsg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(disp, reply ? rdisp : 0);
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = to;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = id;
	m.t = int_type;
	m.v = v;
	return mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0, 0);
}

/* To TO (made from our receive right), PORT with disposition DISP. */
static mach_msg_return_t psend(mach_port_t to, mach_port_t port, unsigned disp)
{
	struct pmsg m;

	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = to;
	m.h.msgh_id = 20;
	m.pt = (mach_msg_type_t){ disp, 32, 1, 1, 0, 0, 0 };
	m.port = port;
	m.vt = int_type;
	return mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0, 0);
}

static void recv_on(mach_port_t on, union buf *b, const char *what)
{
	mach_msg_return_t mr = mach_msg(&b->h, MACH_RCV_MSG | MACH_RCV_TIMEOUT,
					0, sizeof(*b), on, 15000, 0);

	if (mr != MACH_MSG_SUCCESS)
		die("%s: receive: %#x", what, mr);
}

static int queued(mach_port_t p)
{
	return (int)status(p).mps_msgcount;
}

static mach_port_type_t type_of(mach_port_t name)
{
	mach_port_type_t t = 0;

	if (mach_port_type(mach_task_self(), name, &t) != KERN_SUCCESS)
		return 0;
	return t;
}

static void arm_no_senders(mach_port_t p, mach_port_mscount_t sync, mach_port_t notify)
{
	mach_port_t prev;

	KR(mach_port_request_notification(mach_task_self(), p, MACH_NOTIFY_NO_SENDERS,
					  sync, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE,
					  &prev));
	CHECK("no previous request", prev, MACH_PORT_NULL);
}

/* The child's side: looks ADDR up (the parent publishes it after the
 * fork, so that the child starts with no library state of its own). */
static mach_port_t child_lookup(const char *addr)
{
	mach_port_t p = MACH_PORT_NULL;

	for (int i = 0; i < 200; i++) {
		if (access(addr + 5, F_OK) == 0 && mo_mach_lookup(addr, NULL, &p) == 0)
			return p;
		usleep(50000);
	}
	die("child: no server at %s", addr);
}

static void wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("the child process failed (status %#x)", st);
}

/* status */

static int case_status(const char *addr)
{
	mach_port_t p, n, r, q, s, d, prev;
	mach_port_status_t st;
	mach_port_urefs_t refs;
	union buf b;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		/* Holds a send right for as long as the parent says. */
		mach_port_t srv = child_lookup(addr), reply = new_port();

		KR(isend(srv, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND, 1, 0));
		recv_on(reply, &b, "child: the go-ahead");
		_exit(0);
	}

	p = new_port();
	n = new_port();
	r = new_port();
	q = new_port();
	st = status(p);
	CHECK("fresh: make-send count", st.mps_mscount, 0);
	CHECK("fresh: send rights", st.mps_srights, FALSE);
	CHECK("fresh: send-once rights", st.mps_sorights, 0);
	CHECK("fresh: queued", st.mps_msgcount, 0);
	CHECK("fresh: seqno", st.mps_seqno, 0);
	CHECK("fresh: queue limit", st.mps_qlimit, MACH_PORT_QLIMIT_DEFAULT);
	CHECK("fresh: set", st.mps_pset, MACH_PORT_NULL);
	CHECK("fresh: no-senders requested", st.mps_nsrequest, FALSE);
	CHECK("fresh: port-destroyed requested", st.mps_pdrequest, FALSE);

	KR(mach_port_insert_right(mach_task_self(), p, p, MACH_MSG_TYPE_MAKE_SEND));
	st = status(p);
	CHECK("make-send: make-send count", st.mps_mscount, 1);
	CHECK("make-send: send rights", st.mps_srights, TRUE);

	arm_no_senders(p, 0, n);
	CHECK("armed: no-senders requested", status(p).mps_nsrequest, TRUE);
	CHECK("armed: the request holds a send-once right to the notify port",
	      status(n).mps_sorights, 1);

	/* Two messages queued, the first with a send-once reply right. */
	KR(isend(p, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, 10, 0));
	KR(isend(p, MACH_MSG_TYPE_COPY_SEND, 0, 0, 11, 0));
	CHECK("two queued", queued(p), 2);
	CHECK("a send-once right in the queue", status(r).mps_sorights, 1);
	recv_on(p, &b, "the first");
	st = status(p);
	CHECK("one received: queued", st.mps_msgcount, 1);
	CHECK("one received: seqno", st.mps_seqno, 1);
	CHECK("the send-once right is a name now, still counted", status(r).mps_sorights, 1);
	KR(mach_port_deallocate(mach_task_self(), b.h.msgh_remote_port));
	CHECK("the send-once right destroyed", status(r).mps_sorights, 0);
	CHECK("its port heard of it (send-once notification)", queued(r), 1);
	recv_on(p, &b, "the second");
	CHECK("both received: seqno", status(p).mps_seqno, 2);

	/* Moves: the name's send right into a message and back. */
	KR(psend(q, p, MACH_MSG_TYPE_MOVE_SEND));
	KR(mach_port_get_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("moved out: the name's send references", refs, 0);
	st = status(p);
	CHECK("moved out: the right in the message still counts", st.mps_srights, TRUE);
	CHECK("moved out: make-send count", st.mps_mscount, 1);
	recv_on(q, &b, "the moved right");
	CHECK("moved back: same name", b.p.port, p);
	KR(psend(q, p, MACH_MSG_TYPE_MAKE_SEND));
	CHECK("made in a message: make-send count", status(p).mps_mscount, 2);
	recv_on(q, &b, "the made right");
	KR(mach_port_get_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("both rights under one name: references", refs, 2);

	/* A send right in another process. */
	if (mo_mach_publish(addr, p, NULL, NULL) < 0)
		die("publish %s", addr);
	recv_on(p, &b, "the child's message");
	st = status(p);
	CHECK("child holds one: make-send count", st.mps_mscount, 3);
	CHECK("child holds one: send rights", st.mps_srights, TRUE);
	KR(mach_port_mod_refs(mach_task_self(), p, MACH_PORT_RIGHT_SEND, -2));
	CHECK("ours gone, the child's left: send rights", status(p).mps_srights, TRUE);
	CHECK("no notification yet", queued(n), 0);
	KR(isend(b.h.msgh_remote_port, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 2, 0));
	wait_child(pid);
	recv_on(n, &b, "the no-senders notification");
	CHECK("notification id", b.h.msgh_id, MACH_NOTIFY_NO_SENDERS);
	CHECK("notification's make-send count", b.ns.not_count, 3);
	st = status(p);
	CHECK("after: send rights", st.mps_srights, FALSE);
	CHECK("after: no-senders requested", st.mps_nsrequest, FALSE);
	CHECK("after: the notify port's send-once rights", status(n).mps_sorights, 0);
	mo_mach_unpublish(addr);

	/* Sets, the queue limit, bad names. */
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &s));
	KR(mach_port_move_member(mach_task_self(), p, s));
	CHECK("in a set", status(p).mps_pset, s);
	KR(mach_port_move_member(mach_task_self(), p, MACH_PORT_NULL));
	CHECK("out of it", status(p).mps_pset, MACH_PORT_NULL);
	KR(mach_port_set_qlimit(mach_task_self(), p, 3));
	CHECK("queue limit set", status(p).mps_qlimit, 3);
	CHECK("a limit past MACH_PORT_QLIMIT_MAX",
	      mach_port_set_qlimit(mach_task_self(), p, MACH_PORT_QLIMIT_MAX + 1),
	      KERN_INVALID_VALUE);
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_DEAD_NAME, &d));
	CHECK("a dead name", mach_port_get_receive_status(mach_task_self(), d, &st),
	      KERN_INVALID_RIGHT);
	CHECK("no such name", mach_port_get_receive_status(mach_task_self(), 0x7777, &st),
	      KERN_INVALID_NAME);
	CHECK("a port set", mach_port_get_receive_status(mach_task_self(), s, &st),
	      KERN_INVALID_RIGHT);
	(void)prev;
	printf("receive status: make-send, moves, send-once rights, queue, sets, no-senders across processes\n");
	return 0;
}

/* destroy */

static int mapped(void *addr, size_t len)
{
	unsigned char vec[REGION / 4096];

	return mincore(addr, len, vec) == 0;
}

/* Sends TO (made send) a message holding rights to A, B, C with those
 * dispositions and a REGION-byte region (moved), REPLY made send-once. */
static void rsend(mach_port_t to, mach_port_t reply, mach_port_t a, unsigned ad,
		  mach_port_t b, unsigned bd, mach_port_t c, unsigned cd)
{
	struct rmsg m;
	vm_address_t data = 0;

	KR(vm_allocate(mach_task_self(), &data, REGION, TRUE));
	pattern_fill((void *)data, REGION, 5);
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE) |
			MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = to;
	m.h.msgh_local_port = reply;
	m.h.msgh_id = 30;
	m.at = (mach_msg_type_t){ ad, 32, 1, 1, 0, 0, 0 };
	m.a = a;
	m.bt = (mach_msg_type_t){ bd, 32, 1, 1, 0, 0, 0 };
	m.b = b;
	m.ct = (mach_msg_type_t){ cd, 32, 1, 1, 0, 0, 0 };
	m.c = c;
	m.ot.msgtl_header = (mach_msg_type_t){ 0, 0, 0, 0, 1, 1, 0 };
	m.ot.msgtl_name = MACH_MSG_TYPE_BYTE;
	m.ot.msgtl_size = 8;
	m.ot.msgtl_number = REGION;
	m.data = data;
	m.vt = int_type;
	m.v = 7;
	KR(mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, 0, 0, 0));
}

static void expect_no_senders(mach_port_t n, unsigned count, const char *what)
{
	union buf b;

	recv_on(n, &b, what);
	CHECK(what, b.h.msgh_id, MACH_NOTIFY_NO_SENDERS);
	CHECK(what, b.ns.not_count, count);
}

static void destroy_received(mach_port_t dst, const char *what)
{
	union buf b;

	recv_on(dst, &b, what);
	if (pattern_check((void *)b.r.data, REGION, 5))
		die("%s: the region arrived changed", what);
	CHECK("the region is mapped before", mapped((void *)b.r.data, REGION), 1);
	mach_msg_destroy(&b.h);
	CHECK("the region is unmapped after", mapped((void *)b.r.data, REGION), 0);
}

static int case_destroy(const char *addr)
{
	mach_port_t dst, a, bb, c, r, na, nb, x, y, nx;
	union buf b;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		/* A message of the same shape from another process. */
		mach_port_t srv = child_lookup(addr);

		x = new_port();
		y = new_port();
		nx = new_port();
		KR(mach_port_insert_right(mach_task_self(), x, x, MACH_MSG_TYPE_MAKE_SEND));
		arm_no_senders(x, 0, nx);
		rsend(srv, y, x, MACH_MSG_TYPE_MOVE_SEND, x, MACH_MSG_TYPE_MAKE_SEND,
		      MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND);
		expect_no_senders(nx, 2, "child: no-senders for its port");
		recv_on(y, &b, "child: its reply port hears the send-once right went");
		CHECK("child: send-once notification", b.h.msgh_id, MACH_NOTIFY_SEND_ONCE);
		_exit(0);
	}

	dst = new_port();
	a = new_port();
	bb = new_port();
	c = new_port();
	r = new_port();
	na = new_port();
	nb = new_port();
	KR(mach_port_insert_right(mach_task_self(), a, a, MACH_MSG_TYPE_MAKE_SEND));
	KR(mach_port_insert_right(mach_task_self(), c, c, MACH_MSG_TYPE_MAKE_SEND));
	KR(mach_port_insert_right(mach_task_self(), dst, dst, MACH_MSG_TYPE_MAKE_SEND));
	arm_no_senders(a, 0, na);
	arm_no_senders(bb, 1, nb);
	rsend(dst, r, a, MACH_MSG_TYPE_MOVE_SEND, bb, MACH_MSG_TYPE_MAKE_SEND,
	      c, MACH_MSG_TYPE_MOVE_RECEIVE);
	CHECK("in flight: a's send right", status(a).mps_srights, TRUE);
	CHECK("in flight: b's send right", status(bb).mps_srights, TRUE);
	CHECK("in flight: r's send-once right", status(r).mps_sorights, 1);
	destroy_received(dst, "the message");
	CHECK("a: no send right left", status(a).mps_srights, FALSE);
	expect_no_senders(na, 1, "a's no-senders");
	CHECK("b: no send right left", status(bb).mps_srights, FALSE);
	expect_no_senders(nb, 1, "b's no-senders");
	CHECK("c: its receive right destroyed, our send right is a dead name",
	      type_of(c), MACH_PORT_TYPE_DEAD_NAME);
	CHECK("r: the reply right destroyed", status(r).mps_sorights, 0);
	recv_on(r, &b, "r's send-once notification");
	CHECK("r: send-once notification", b.h.msgh_id, MACH_NOTIFY_SEND_ONCE);

	if (mo_mach_publish(addr, dst, NULL, NULL) < 0)
		die("publish %s", addr);
	destroy_received(dst, "the child's message");
	wait_child(pid);
	mo_mach_unpublish(addr);
	printf("mach_msg_destroy: move-send, make-send, move-receive, send-once, a region; here and from another process\n");
	return 0;
}

/* payload */

#define PAYLOAD 0x7fe5deadbeefUL

static void expect_local(mach_port_t on, int payload, mach_port_t name, const char *what)
{
	union buf b;

	recv_on(on, &b, what);
	if (payload) {
		CHECK(what, MACH_MSGH_BITS_LOCAL(b.h.msgh_bits), MACH_MSG_TYPE_PROTECTED_PAYLOAD);
		CHECK(what, b.h.msgh_protected_payload, PAYLOAD);
	} else {
		CHECK(what, MACH_MSGH_BITS_LOCAL(b.h.msgh_bits), MACH_MSG_TYPE_PORT_SEND);
		CHECK(what, b.h.msgh_local_port, name);
	}
	CHECK(what, b.i.v, 9);
}

static int case_payload(const char *addr)
{
	mach_port_t p, q, moved, d;
	union buf b;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		KR(isend(child_lookup(addr), MACH_MSG_TYPE_COPY_SEND, 0, 0, 40, 9));
		_exit(0);
	}
	p = new_port();
	q = new_port();
	KR(mach_port_insert_right(mach_task_self(), p, p, MACH_MSG_TYPE_MAKE_SEND));
	KR(mach_port_set_protected_payload(mach_task_self(), p, PAYLOAD));
	KR(isend(p, MACH_MSG_TYPE_COPY_SEND, 0, 0, 40, 9));
	expect_local(p, 1, p, "set: the payload names the port");
	KR(mach_port_clear_protected_payload(mach_task_self(), p));
	KR(isend(p, MACH_MSG_TYPE_COPY_SEND, 0, 0, 40, 9));
	expect_local(p, 0, p, "cleared: the name again");

	KR(mach_port_set_protected_payload(mach_task_self(), p, PAYLOAD));
	if (mo_mach_publish(addr, p, NULL, NULL) < 0)
		die("publish %s", addr);
	expect_local(p, 1, p, "from another process: the payload");
	wait_child(pid);
	mo_mach_unpublish(addr);

	/* The payload stays with the task: a receive right that moves
	 * arrives without it (ipc_right_copyin). */
	KR(psend(q, p, MACH_MSG_TYPE_MOVE_RECEIVE));
	recv_on(q, &b, "the moved receive right");
	moved = b.p.port;
	KR(isend(moved, MACH_MSG_TYPE_COPY_SEND, 0, 0, 40, 9));
	expect_local(moved, 0, moved, "moved: no payload");

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_DEAD_NAME, &d));
	CHECK("a dead name", mach_port_set_protected_payload(mach_task_self(), d, 1),
	      KERN_INVALID_RIGHT);
	CHECK("no such name", mach_port_clear_protected_payload(mach_task_self(), 0x7777),
	      KERN_INVALID_NAME);
	printf("protected payloads: set, cleared, from another process, not moved with the receive right\n");
	return 0;
}

/* thread */

static mach_port_t other_thread;
static pthread_mutex_t tl = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tc = PTHREAD_COND_INITIALIZER;
static int tstate;

static void *other(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tl);
	other_thread = mach_thread_self();
	tstate = 1;
	pthread_cond_broadcast(&tc);
	while (tstate != 2)
		pthread_cond_wait(&tc, &tl);
	pthread_mutex_unlock(&tl);
	return NULL;
}

static int case_thread(void)
{
	mach_port_t self, again, pset, priv, reply, p;
	mach_port_urefs_t refs;
	pthread_t t;
	union buf b;
	kern_return_t kr;

	CHECK("vm_page_size", vm_page_size, (unsigned long)sysconf(_SC_PAGESIZE));
	CHECK("__vm_page_size", __vm_page_size, vm_page_size);
	CHECK("round_page", round_page(1), vm_page_size);
	CHECK("trunc_page", trunc_page(vm_page_size + 1), vm_page_size);

	self = mach_thread_self();
	CHECK("mach_thread_self: a send right", type_of(self), MACH_PORT_TYPE_SEND);
	again = mach_thread_self();
	CHECK("again: the same name", again, self);
	KR(mach_port_get_refs(mach_task_self(), self, MACH_PORT_RIGHT_SEND, &refs));
	CHECK("one more reference each call", refs, 2);
	KR(mach_port_deallocate(mach_task_self(), again));

	pthread_create(&t, NULL, other, NULL);
	pthread_mutex_lock(&tl);
	while (tstate != 1)
		pthread_cond_wait(&tc, &tl);
	pthread_mutex_unlock(&tl);
	if (other_thread == self || !MACH_PORT_VALID(other_thread))
		die("another thread's port is %#x, ours %#x", other_thread, self);
	CHECK("another thread's port while it runs", type_of(other_thread), MACH_PORT_TYPE_SEND);
	pthread_mutex_lock(&tl);
	tstate = 2;
	pthread_cond_broadcast(&tc);
	pthread_mutex_unlock(&tl);
	pthread_join(t, NULL);
	CHECK("its port after it exited: a dead name", type_of(other_thread),
	      MACH_PORT_TYPE_DEAD_NAME);

	KR(thread_switch(MACH_PORT_NULL, SWITCH_OPTION_NONE, 0));
	KR(thread_switch(MACH_PORT_NULL, SWITCH_OPTION_DEPRESS, 10));
	KR(thread_switch(MACH_PORT_NULL, SWITCH_OPTION_WAIT, 1));
	CHECK("thread_switch: an unknown option", thread_switch(MACH_PORT_NULL, 7, 0),
	      KERN_INVALID_ARGUMENT);

	/* libports' adjust_priority, as an unprivileged task. */
	KR(thread_get_assignment(self, &pset));
	CHECK("the processor set's name port", type_of(pset), MACH_PORT_TYPE_SEND);
	p = new_port();
	KR(mach_port_insert_right(mach_task_self(), p, p, MACH_MSG_TYPE_MAKE_SEND));
	CHECK("thread_get_assignment: not a thread", thread_get_assignment(p, &priv),
	      KERN_INVALID_ARGUMENT);
	CHECK("thread_get_assignment: no right", thread_get_assignment(0x7777, &priv),
	      MACH_SEND_INVALID_DEST);
	CHECK("host_processor_set_priv: no privileged host port",
	      host_processor_set_priv(p, pset, &priv), KERN_INVALID_ARGUMENT);
	CHECK("host_processor_set_priv: the set port", priv, MACH_PORT_NULL);
	CHECK("host_processor_set_priv: a bad name",
	      host_processor_set_priv(0x7777, pset, &priv), MACH_SEND_INVALID_DEST);
	CHECK("thread_max_priority: a name port is no control port",
	      thread_max_priority(self, pset, 0), KERN_INVALID_ARGUMENT);
	CHECK("thread_priority: above the task's maximum", thread_priority(self, 2, FALSE),
	      KERN_FAILURE);
	CHECK("thread_priority: out of range", thread_priority(self, 50, FALSE),
	      KERN_INVALID_ARGUMENT);
	CHECK("thread_priority: not a thread", thread_priority(p, 30, FALSE),
	      KERN_INVALID_ARGUMENT);
	KR(thread_priority(self, 25, FALSE));
	KR(thread_priority(self, 28, TRUE));
	CHECK("thread_priority: past the lowered maximum", thread_priority(self, 27, FALSE),
	      KERN_FAILURE);
	KR(thread_priority(self, 30, FALSE));

	/* A message to a thread's port is answered, as the kernel would. */
	reply = new_port();
	KR(isend(self, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 2999, 0));
	recv_on(reply, &b, "the thread port's answer");
	CHECK("answer id", b.h.msgh_id, 3099);
	CHECK("answer", b.rep.RetCode, MIG_BAD_ID);
	kr = mach_port_deallocate(mach_task_self(), pset);
	CHECK("the set's name port deallocates", kr, KERN_SUCCESS);
	printf("threads: mach_thread_self, thread_switch, priorities and processor sets as an unprivileged task, vm_page_size\n");
	return 0;
}

int main(int argc, char **argv)
{
	prog = "mach-glibc";
	if (argc == 3 && !strcmp(argv[1], "status"))
		return case_status(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "destroy"))
		return case_destroy(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "payload"))
		return case_payload(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "thread"))
		return case_thread();
	fprintf(stderr, "usage: mach-glibc status|destroy|payload ADDR | thread\n");
	return 2;
}
