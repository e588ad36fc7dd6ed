/*
 * tests/mach/mo-kernel.c: the kernel's side of the memory-object
 * protocol, from MIG's stubs: user stubs of memory_object.defs and
 * memory_object_default.defs, the server of mach.defs for the control
 * port. It looks the pager up at ADDRESS, sends every kernel -> manager
 * message of PROTOCOL.md and checks each manager -> kernel message the
 * pager answers with (mo-pager.c).
 *
 *   mo-kernel ADDRESS [SECRET-FILE]
 */
#define MO_TEST_KERNEL
#include <mach/motrace.h>

#include "tests/mach/mo-test.h"

boolean_t mach_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach4_server(mach_msg_header_t *in, mach_msg_header_t *out);

enum kind {
	NONE, READY, SUPPLY, UNAVAILABLE, LOCK_REQUEST, CHANGE, ERROR,
	GET_ATTRIBUTES, DESTROY, CREATE_PROXY,
};
static const char *const kind_names[] = {
	"none", "ready", "data_supply", "data_unavailable", "lock_request",
	"change_attributes", "data_error", "get_attributes", "destroy",
	"create_proxy",
};

static mach_port_t ctl, name, ctl2, pset, mobj, mobj2;
static int proxies;
static struct {
	enum kind kind;
	mach_port_t ctl;
	vm_offset_t off;
	vm_size_t len;
	int v1, v2;
	mach_port_t reply;
	mach_msg_type_name_t reply_type;
} got;
static boolean_t may_cache;
static memory_object_copy_strategy_t strategy;

static void record(enum kind k, mach_port_t c, vm_offset_t off, vm_size_t len)
{
	got.kind = k;
	got.ctl = c;
	got.off = off;
	got.len = len;
}

kern_return_t memory_object_ready(mach_port_t c, boolean_t cache,
				  memory_object_copy_strategy_t s)
{
	record(READY, c, 0, 0);
	got.v1 = cache;
	got.v2 = s;
	may_cache = cache;
	strategy = s;
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_supply(mach_port_t c, vm_offset_t off,
					vm_offset_t data,
					mach_msg_type_number_t cnt,
					vm_prot_t lock, boolean_t precious,
					mach_port_t reply,
					mach_msg_type_name_t reply_type)
{
	int bad;

	record(SUPPLY, c, off, cnt);
	got.v1 = lock;
	got.v2 = precious;
	got.reply = reply;
	got.reply_type = reply_type;
	if ((bad = pattern_check((void *)data, cnt, 1)))
		die("data_supply: data differs at byte %d", bad - 1);
	KR(vm_deallocate(mach_task_self(), data, cnt));
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_unavailable(mach_port_t c, vm_offset_t off,
					     vm_size_t size)
{
	record(UNAVAILABLE, c, off, size);
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_request(mach_port_t c, vm_offset_t off,
					 vm_size_t size,
					 memory_object_return_t should_return,
					 boolean_t should_flush,
					 vm_prot_t lock, mach_port_t reply,
					 mach_msg_type_name_t reply_type)
{
	record(LOCK_REQUEST, c, off, size);
	got.v1 = should_return | should_flush << 8;
	got.v2 = lock;
	got.reply = reply;
	got.reply_type = reply_type;
	return KERN_SUCCESS;
}

kern_return_t memory_object_change_attributes(mach_port_t c, boolean_t cache,
					      memory_object_copy_strategy_t s,
					      mach_port_t reply,
					      mach_msg_type_name_t reply_type)
{
	record(CHANGE, c, 0, 0);
	got.v1 = cache;
	got.v2 = s;
	got.reply = reply;
	got.reply_type = reply_type;
	may_cache = cache;
	strategy = s;
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_error(mach_port_t c, vm_offset_t off,
				       vm_size_t size, kern_return_t err)
{
	record(ERROR, c, off, size);
	got.v1 = err;
	return KERN_SUCCESS;
}

kern_return_t memory_object_get_attributes(mach_port_t c, boolean_t *ready,
					   boolean_t *cache,
					   memory_object_copy_strategy_t *s)
{
	record(GET_ATTRIBUTES, c, 0, 0);
	*ready = TRUE;
	*cache = may_cache;
	*s = strategy;
	return KERN_SUCCESS;
}

kern_return_t memory_object_destroy(mach_port_t c, kern_return_t reason)
{
	record(DESTROY, c, 0, 0);
	got.v1 = reason;
	return KERN_SUCCESS;
}

/* mach4.defs, a routine: checks what came and makes a proxy port. */
kern_return_t memory_object_create_proxy(mach_port_t task,
					 vm_prot_t max_protection,
					 memory_object_array_t object,
					 mach_msg_type_number_t objectCnt,
					 vm_offset_array_t offset,
					 mach_msg_type_number_t offsetCnt,
					 vm_offset_array_t start,
					 mach_msg_type_number_t startCnt,
					 vm_size_array_t len,
					 mach_msg_type_number_t lenCnt,
					 mach_port_t *proxy)
{
	record(CREATE_PROXY, task, 0, 0);
	CHECK("create_proxy", max_protection, VM_PROT_READ);
	CHECK("create_proxy", objectCnt, 2);
	CHECK("create_proxy", offsetCnt, 2);
	CHECK("create_proxy", startCnt, 2);
	CHECK("create_proxy", lenCnt, 2);
	/* Send rights; not necessarily under our names for these ports: an
	 * interposer (motrace) may stand in for them (t3010). */
	for (int i = 0; i < 2; i++)
		if (!has_right(object[i], MACH_PORT_TYPE_SEND))
			die("create_proxy: object[%d] %u is not a send right",
			    i, object[i]);
	CHECK("create_proxy", offset[1], PAGE);
	CHECK("create_proxy", start[0], 0);
	CHECK("create_proxy", len[0], INIT_LEN);
	CHECK("create_proxy", len[1], PAGE);
	for (int i = 0; i < 2; i++)
		KR(mach_port_deallocate(mach_task_self(), object[i]));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, proxy));
	KR(mach_port_insert_right(mach_task_self(), *proxy, *proxy,
				  MACH_MSG_TYPE_MAKE_SEND));
	proxies++;
	return KERN_SUCCESS;
}

/* Serves the control ports until a call of kind K arrives. */
static void expect(enum kind k, mach_port_t on)
{
	union {
		mach_msg_header_t h;
		char buf[8192];
	} in, out;

	for (;;) {
		mig_reply_header_t *r = (mig_reply_header_t *)&out.h;
		mach_msg_return_t mr;

		got.kind = NONE;
		mr = mach_msg(&in.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
			      sizeof(in), pset, 15000, 0);
		if (mr != MACH_MSG_SUCCESS)
			die("waiting for %s: mach_msg: %#x", kind_names[k], mr);
		if (!mach_server(&in.h, &out.h) && !mach4_server(&in.h, &out.h))
			die("waiting for %s: message id %d is not of mach.defs",
			    kind_names[k], in.h.msgh_id);
		if (in.h.msgh_local_port != on)
			die("%s arrived on port %u, expected %u",
			    kind_names[got.kind], in.h.msgh_local_port, on);
		if (r->RetCode != MIG_NO_REPLY &&
		    out.h.msgh_remote_port != MACH_PORT_NULL)
			KR(mach_msg(&out.h, MACH_SEND_MSG, out.h.msgh_size, 0, 0, 0, 0));
		if (got.kind == k)
			break;
		if (got.kind != GET_ATTRIBUTES && got.kind != CREATE_PROXY)
			die("got %s, expected %s", kind_names[got.kind], kind_names[k]);
	}
	CHECK(kind_names[k], got.ctl, on);
}

int main(int argc, char **argv)
{
	const char *secret = argc > 2 ? argv[2] : NULL;
	mach_port_t newobj, name2, notify, prev;
	vm_address_t data;
	mach_port_type_t t;
	union {
		mach_dead_name_notification_t n;
		char buf[256];
	} msg;

	prog = "mo-kernel";
	if (argc < 2)
		die("usage: mo-kernel ADDRESS [SECRET-FILE]");
	if (mo_mach_lookup(argv[1], secret, &mobj) < 0)
		return 1;
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &ctl));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &name));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &ctl2));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &name2));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &pset));
	KR(mach_port_move_member(mach_task_self(), ctl, pset));
	KR(mach_port_move_member(mach_task_self(), ctl2, pset));

	/* init -> ready */
	KR(memory_object_init(mobj, ctl, name, PAGE));
	expect(READY, ctl);
	CHECK("ready", got.v1, TRUE);
	CHECK("ready", got.v2, MEMORY_OBJECT_COPY_DELAY);

	/* data_request -> data_supply; supply_completed -> data_unavailable */
	KR(memory_object_data_request(mobj, ctl, SUPPLY_OFF, PAGE, VM_PROT_READ));
	expect(SUPPLY, ctl);
	CHECK("data_supply", got.off, SUPPLY_OFF);
	CHECK("data_supply", got.len, PAGE);
	CHECK("data_supply", got.v1, VM_PROT_WRITE);
	CHECK("data_supply", got.v2, TRUE);
	CHECK("data_supply", got.reply_type, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KR(memory_object_supply_completed(got.reply, MACH_MSG_TYPE_MOVE_SEND_ONCE,
					  ctl, SUPPLY_OFF, PAGE, KERN_SUCCESS, 0));
	expect(UNAVAILABLE, ctl);
	CHECK("data_unavailable", got.off, SUPPLY_OFF);
	CHECK("data_unavailable", got.len, PAGE);

	/* data_unlock -> lock_request; lock_completed -> change_attributes;
	 * change_completed -> data_error */
	KR(memory_object_data_unlock(mobj, ctl, UNLOCK_OFF, PAGE, VM_PROT_WRITE));
	expect(LOCK_REQUEST, ctl);
	CHECK("lock_request", got.off, UNLOCK_OFF);
	CHECK("lock_request", got.len, PAGE);
	CHECK("lock_request", got.v1, MEMORY_OBJECT_RETURN_DIRTY);
	CHECK("lock_request", got.v2, VM_PROT_NONE);
	CHECK("lock_request", got.reply_type, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KR(memory_object_lock_completed(got.reply, MACH_MSG_TYPE_MOVE_SEND_ONCE,
					ctl, UNLOCK_OFF, PAGE));
	expect(CHANGE, ctl);
	CHECK("change_attributes", got.v1, FALSE);
	CHECK("change_attributes", got.v2, MEMORY_OBJECT_COPY_NONE);
	CHECK("change_attributes", got.reply_type, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KR(memory_object_change_completed(got.reply, MACH_MSG_TYPE_MOVE_SEND_ONCE,
					  FALSE, MEMORY_OBJECT_COPY_NONE));
	expect(ERROR, ctl);
	CHECK("data_error", got.off, ERROR_OFF);
	CHECK("data_error", got.len, PAGE);
	CHECK("data_error", got.v1, KERN_MEMORY_ERROR);

	/* data_return of several MiB -> get_attributes (a routine), destroy */
	KR(vm_allocate(mach_task_self(), &data, RETURN_LEN, TRUE));
	pattern_fill((void *)data, RETURN_LEN, 2);
	KR(memory_object_data_return(mobj, ctl, RETURN_OFF, data, RETURN_LEN,
				     TRUE, FALSE));
	expect(DESTROY, ctl);
	CHECK("destroy", got.v1, DESTROY_REASON);
	KR(vm_deallocate(mach_task_self(), data, RETURN_LEN));

	/* copy moves a receive right -> data_unavailable */
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &newobj));
	KR(memory_object_copy(mobj, ctl, COPY_OFF, PAGE, newobj));
	if (mach_port_type(mach_task_self(), newobj, &t) != KERN_INVALID_NAME)
		die("copy: the new object's receive right is still here");
	expect(UNAVAILABLE, ctl);
	CHECK("data_unavailable", got.off, COPY_OFF);

	/* memory_object_default.defs: create moves the new object's receive
	 * right, we keep a send right; data_initialize goes to it there. */
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &mobj2));
	KR(mach_port_insert_right(mach_task_self(), mobj2, mobj2,
				  MACH_MSG_TYPE_MAKE_SEND));
	/* create takes the default pager's send right (MOVE_SEND in
	 * memory_object_default.defs): give it a reference of its own. */
	KR(mach_port_mod_refs(mach_task_self(), mobj, MACH_PORT_RIGHT_SEND, 1));
	KR(memory_object_create(mobj, mobj2, CREATE_SIZE, ctl2, name2, PAGE));
	if (!has_right(mobj2, MACH_PORT_TYPE_SEND) ||
	    has_right(mobj2, MACH_PORT_TYPE_RECEIVE))
		die("create: expected a send right only to the new object");
	expect(READY, ctl2);
	CHECK("ready", got.v2, MEMORY_OBJECT_COPY_TEMPORARY);
	KR(vm_allocate(mach_task_self(), &data, INIT_LEN, TRUE));
	pattern_fill((void *)data, INIT_LEN, 3);
	KR(memory_object_data_initialize(mobj2, ctl2, 0, data, INIT_LEN));
	expect(UNAVAILABLE, ctl2);
	CHECK("data_unavailable", got.off, 0);
	CHECK("data_unavailable", got.len, INIT_LEN);
	CHECK("memory_object_create_proxy calls", proxies, 1);

	/* terminate moves control and name; the pager then exits, and the
	 * dead-name notification we ask for tells us so. */
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &notify));
	KR(mach_port_request_notification(mach_task_self(), mobj,
					  MACH_NOTIFY_DEAD_NAME, 0, notify,
					  MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev));
	CHECK("request_notification", prev, MACH_PORT_NULL);
	/* terminate, too, takes a send right (MOVE_SEND in memory_object.defs). */
	KR(mach_port_mod_refs(mach_task_self(), mobj, MACH_PORT_RIGHT_SEND, 1));
	KR(memory_object_terminate(mobj, ctl, name));
	if (mach_port_type(mach_task_self(), ctl, &t) != KERN_INVALID_NAME ||
	    mach_port_type(mach_task_self(), name, &t) != KERN_INVALID_NAME)
		die("terminate: control or name is still here");
	if (mach_msg(&msg.n.not_header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
		     sizeof(msg), notify, 15000, 0) != MACH_MSG_SUCCESS)
		die("no dead-name notification for the pager's object");
	CHECK("dead-name notification", msg.n.not_header.msgh_id, MACH_NOTIFY_DEAD_NAME);
	CHECK("dead-name notification", msg.n.not_port, mobj);
	if (!has_right(mobj, MACH_PORT_TYPE_DEAD_NAME))
		die("the pager's object is not a dead name");
	if (memory_object_data_request(mobj, MACH_PORT_NULL, 0, PAGE, VM_PROT_READ) !=
	    MACH_SEND_INVALID_DEST)
		die("a message to the dead pager did not fail with MACH_SEND_INVALID_DEST");
	printf("kernel: every message checked\n");
	return 0;
}
