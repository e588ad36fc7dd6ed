/*
 * tests/mach/mach-server.c: mach_msg_server_timeout (glibc
 * mach/msgserver.c semantics) serving MIG's server side of
 * tests/mach/srvtest.defs (t1011).
 *
 *   mach-server
 *
 * Every request is queued before the loop starts, so what the loop does
 * with each is known, whatever the scheduling: a routine with a reply, a
 * simpleroutine, a routine that fails (its request destroyed: the moved
 * send right and the region released, the reply still sent), a routine
 * that answers MIG_NO_REPLY and replies itself later, a request whose
 * reply port died, a request larger than the first buffer (received
 * again in a larger one), an unknown id (MIG_BAD_ID); then the loop ends
 * on its timeout. Prints what it checked and exits 0, or names the first
 * mismatch and exits 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <mach.h>
#include <mach/mig_errors.h>

#include "srvtestServer.h"

/* MIG's demuxer (its header names only the routines). */
boolean_t srvtest_server(mach_msg_header_t *in, mach_msg_header_t *out);
#include "tests/mach/mo-test.h"

#define REGION (128 * 1024)
#define BIG 3000

static int notes;
static vm_address_t failed_region;
static mach_port_t deferred;	/* srv_defer's reply right, kept */
static int deferred_v;

kern_return_t srv_add(mach_port_t server, int a, int b, int *sum)
{
	*sum = a + b;
	return KERN_SUCCESS;
}

#pragma pack(push, 4)
struct int_reply {
	mach_msg_header_t h;
	mach_msg_type_t rct;
	kern_return_t rc;
	mach_msg_type_t wt;
	int w;
};
#pragma pack(pop)

static const mach_msg_type_t int_type = { MACH_MSG_TYPE_INTEGER_32, 32, 1, 1, 0, 0, 0 };

kern_return_t srv_note(mach_port_t server, int v)
{
	struct int_reply r;

	if (v >= 0) {
		notes += v;
		return KERN_SUCCESS;
	}
	/* The deferred reply of srv_defer (MIG's reply layout). */
	memset(&r, 0, sizeof(r));
	r.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
	r.h.msgh_size = sizeof(r);
	r.h.msgh_remote_port = deferred;
	r.h.msgh_id = 7703 + 100;
	r.rct = int_type;
	r.rc = KERN_SUCCESS;
	r.wt = int_type;
	r.w = deferred_v + 1;
	KR(mach_msg(&r.h, MACH_SEND_MSG, sizeof(r), 0, 0, 0, 0));
	return KERN_SUCCESS;
}

kern_return_t srv_fail(mach_port_t server, mach_port_t port, vm_offset_t data,
		       mach_msg_type_number_t count)
{
	failed_region = data;
	return KERN_FAILURE;
}

kern_return_t srv_defer(mach_port_t server, mach_port_t reply, int v, int *w)
{
	deferred = reply;
	deferred_v = v;
	return MIG_NO_REPLY;
}

kern_return_t srv_big(mach_port_t server, const int_array_t data,
		      mach_msg_type_number_t count, int *sum)
{
	*sum = 0;
	for (mach_msg_type_number_t i = 0; i < count; i++)
		*sum += data[i];
	return KERN_SUCCESS;
}

#pragma pack(push, 4)
struct req {
	mach_msg_header_t h;
	union {
		struct { mach_msg_type_t at; int a; mach_msg_type_t bt; int b; } add;
		struct { mach_msg_type_t vt; int v; } one;
		struct {
			mach_msg_type_t pt;
			mach_port_t port;
			mach_msg_type_long_t dt;
			vm_address_t data;
		} fail;
		struct { mach_msg_type_long_t dt; int data[BIG]; } big;
	};
};
#pragma pack(pop)

static mach_port_t srv;

static mach_port_t new_port(void)
{
	mach_port_t p;

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p));
	return p;
}

static void request(struct req *m, int id, size_t size, mach_port_t reply)
{
	m->h.msgh_bits |= MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND,
					 reply ? MACH_MSG_TYPE_MAKE_SEND_ONCE : 0);
	m->h.msgh_size = size;
	m->h.msgh_remote_port = srv;
	m->h.msgh_local_port = reply;
	m->h.msgh_id = id;
	mach_msg_return_t mr = mach_msg(&m->h, MACH_SEND_MSG, size, 0, 0, 0, 0);

	if (mr != MACH_MSG_SUCCESS)
		die("request %d: %#x", id, mr);
}

static struct int_reply answer(mach_port_t on, const char *what)
{
	union { struct int_reply r; char b[256]; } u;
	mach_msg_return_t mr = mach_msg(&u.r.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
					sizeof(u), on, 0, 0);

	if (mr != MACH_MSG_SUCCESS)
		die("%s: no reply (%#x)", what, mr);
	return u.r;
}

static int queued(mach_port_t p)
{
	mach_port_status_t st;

	KR(mach_port_get_receive_status(mach_task_self(), p, &st));
	return (int)st.mps_msgcount;
}

static mach_msg_return_t loop_result;

static void *server(void *arg)
{
	(void)arg;
	loop_result = mach_msg_server_timeout(srvtest_server, 0, srv,
					      MACH_RCV_TIMEOUT, 200);
	return NULL;
}

int main(void)
{
	static struct req m;
	mach_port_t rp_add, rp_fail, rp_defer, rp_dead, rp_big, rp_bad, x, nx, prev;
	mach_port_status_t st;
	struct int_reply r;
	vm_address_t data = 0;
	pthread_t t;
	int want = 0;

	prog = "mach-server";
	srv = new_port();
	rp_add = new_port();
	rp_fail = new_port();
	rp_defer = new_port();
	rp_dead = new_port();
	rp_big = new_port();
	rp_bad = new_port();

	memset(&m, 0, sizeof(m));
	m.add.at = int_type, m.add.a = 2, m.add.bt = int_type, m.add.b = 3;
	request(&m, 7700, 48, rp_add);

	memset(&m, 0, sizeof(m));
	m.one.vt = int_type, m.one.v = 5;
	request(&m, 7701, 40, MACH_PORT_NULL);

	/* srv_fail: a send right to X (armed for no-senders) and a region. */
	x = new_port();
	nx = new_port();
	KR(mach_port_insert_right(mach_task_self(), x, x, MACH_MSG_TYPE_MAKE_SEND));
	KR(mach_port_request_notification(mach_task_self(), x, MACH_NOTIFY_NO_SENDERS, 0,
					  nx, MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev));
	KR(vm_allocate(mach_task_self(), &data, REGION, TRUE));
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	m.fail.pt = (mach_msg_type_t){ MACH_MSG_TYPE_MOVE_SEND, 32, 1, 1, 0, 0, 0 };
	m.fail.port = x;
	m.fail.dt.msgtl_header = (mach_msg_type_t){ 0, 0, 0, 0, 1, 1, 0 };
	m.fail.dt.msgtl_name = MACH_MSG_TYPE_BYTE;
	m.fail.dt.msgtl_size = 8;
	m.fail.dt.msgtl_number = REGION;
	m.fail.data = data;
	request(&m, 7702, sizeof(m.h) + sizeof(m.fail), rp_fail);

	memset(&m, 0, sizeof(m));
	m.one.vt = int_type, m.one.v = 7;
	request(&m, 7703, 40, rp_defer);

	/* A reply port that dies before the loop answers. */
	memset(&m, 0, sizeof(m));
	m.add.at = int_type, m.add.a = 1, m.add.bt = int_type, m.add.b = 1;
	request(&m, 7700, 48, rp_dead);
	KR(mach_port_mod_refs(mach_task_self(), rp_dead, MACH_PORT_RIGHT_RECEIVE, -1));

	/* Larger than the loop's first buffer (two pages). */
	memset(&m, 0, sizeof(m));
	m.big.dt.msgtl_header = (mach_msg_type_t){ 0, 0, 0, 1, 1, 0, 0 };
	m.big.dt.msgtl_name = MACH_MSG_TYPE_INTEGER_32;
	m.big.dt.msgtl_size = 32;
	m.big.dt.msgtl_number = BIG;
	for (int i = 0; i < BIG; i++) {
		m.big.data[i] = i;
		want += i;
	}
	request(&m, 7704, 44 + 4 * BIG, rp_big);

	memset(&m, 0, sizeof(m));
	m.one.vt = int_type, m.one.v = -1;	/* srv_note: send the deferred reply */
	request(&m, 7701, 40, MACH_PORT_NULL);

	memset(&m, 0, sizeof(m));
	m.one.vt = int_type, m.one.v = 0;
	request(&m, 7799, 40, rp_bad);

	CHECK("queued before the loop", queued(srv), 8);
	pthread_create(&t, NULL, server, NULL);
	pthread_join(t, NULL);
	CHECK("the loop ends on its timeout", loop_result, MACH_RCV_TIMED_OUT);
	CHECK("every request taken", queued(srv), 0);

	r = answer(rp_add, "srv_add");
	CHECK("srv_add: reply id", r.h.msgh_id, 7800);
	CHECK("srv_add: RetCode", r.rc, KERN_SUCCESS);
	CHECK("srv_add: sum", r.w, 5);
	CHECK("srv_add: one reply", queued(rp_add), 0);
	CHECK("srv_note: served, no reply", notes, 5);

	r = answer(rp_fail, "srv_fail");
	CHECK("srv_fail: the error is the reply", r.rc, KERN_FAILURE);
	CHECK("srv_fail: the region reached the routine", failed_region != 0, 1);
	{
		unsigned char vec[REGION / 4096];

		CHECK("srv_fail: its region released with the request",
		      mincore((void *)failed_region, REGION, vec) == 0, 0);
	}
	KR(mach_port_get_receive_status(mach_task_self(), x, &st));
	CHECK("srv_fail: its send right released with the request", st.mps_srights, FALSE);
	CHECK("srv_fail: X heard no-senders", queued(nx), 1);

	r = answer(rp_defer, "srv_defer");
	CHECK("srv_defer: the routine's own reply", r.w, 8);
	CHECK("srv_defer: no reply from the loop for MIG_NO_REPLY", queued(rp_defer), 0);

	r = answer(rp_big, "srv_big");
	CHECK("srv_big: received in a larger buffer", r.rc, KERN_SUCCESS);
	CHECK("srv_big: sum", r.w, want);

	r = answer(rp_bad, "unknown id");
	CHECK("unknown id: reply id", r.h.msgh_id, 7899);
	CHECK("unknown id: MIG_BAD_ID", r.rc, MIG_BAD_ID);

	printf("mach_msg_server_timeout: replies, none, failure destroyed, MIG_NO_REPLY, dead reply port, large request, bad id, timeout\n");
	return 0;
}
