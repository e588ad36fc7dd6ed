/*
 * tests/mach/mo-pager.c: a pager written as for GNU Mach: MIG's server
 * stubs for memory_object.defs and memory_object_default.defs, MIG's
 * user stubs for mach.defs, nothing else but libmotrace-mach. It answers
 * each kernel message with one call of its own (mo-kernel.c drives the
 * script) and checks every value on arrival.
 *
 *   mo-pager ADDRESS [SECRET-FILE]
 *
 * Exits 0 after memory_object_terminate has moved the control and name
 * receive rights here.
 */
#include <mach/motrace.h>

#include "tests/mach/mo-test.h"
#include "mach4.h"

boolean_t memory_object_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t memory_object_default_server(mach_msg_header_t *in,
				       mach_msg_header_t *out);

static mach_port_t mobj, reply_port, control, name_port, mobj2, control2;
static mach_port_t pset;
static int done;

kern_return_t memory_object_init(mach_port_t mo, mach_port_t ctl,
				 mach_port_t name, vm_size_t page_size)
{
	CHECK("init", mo, mobj);
	CHECK("init", page_size, PAGE);
	if (!has_right(ctl, MACH_PORT_TYPE_SEND) ||
	    !has_right(name, MACH_PORT_TYPE_SEND))
		die("init: control %u or name %u is not a send right", ctl, name);
	control = ctl;
	name_port = name;
	KR(memory_object_ready(ctl, TRUE, MEMORY_OBJECT_COPY_DELAY));
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_request(mach_port_t mo, mach_port_t ctl,
					 vm_offset_t off, vm_size_t len,
					 vm_prot_t access)
{
	vm_address_t data = 0;

	CHECK("data_request", mo, mobj);
	CHECK("data_request", ctl, control);
	CHECK("data_request", off, SUPPLY_OFF);
	CHECK("data_request", len, PAGE);
	CHECK("data_request", access, VM_PROT_READ);
	KR(vm_allocate(mach_task_self(), &data, PAGE, TRUE));
	pattern_fill((void *)data, PAGE, 1);
	KR(memory_object_data_supply(ctl, off, data, PAGE, TRUE, VM_PROT_WRITE,
				     TRUE, reply_port));
	return KERN_SUCCESS;
}

kern_return_t memory_object_supply_completed(mach_port_t mo, mach_port_t ctl,
					     vm_offset_t off, vm_size_t len,
					     kern_return_t result,
					     vm_offset_t error_offset)
{
	CHECK("supply_completed", mo, reply_port);
	CHECK("supply_completed", ctl, control);
	CHECK("supply_completed", off, SUPPLY_OFF);
	CHECK("supply_completed", len, PAGE);
	CHECK("supply_completed", result, KERN_SUCCESS);
	CHECK("supply_completed", error_offset, 0);
	KR(memory_object_data_unavailable(ctl, SUPPLY_OFF, PAGE));
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_unlock(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_size_t len,
					vm_prot_t access)
{
	CHECK("data_unlock", mo, mobj);
	CHECK("data_unlock", ctl, control);
	CHECK("data_unlock", off, UNLOCK_OFF);
	CHECK("data_unlock", len, PAGE);
	CHECK("data_unlock", access, VM_PROT_WRITE);
	KR(memory_object_lock_request(ctl, UNLOCK_OFF, PAGE,
				      MEMORY_OBJECT_RETURN_DIRTY, FALSE,
				      VM_PROT_NONE, reply_port));
	return KERN_SUCCESS;
}

kern_return_t memory_object_lock_completed(mach_port_t mo, mach_port_t ctl,
					   vm_offset_t off, vm_size_t len)
{
	CHECK("lock_completed", mo, reply_port);
	CHECK("lock_completed", ctl, control);
	CHECK("lock_completed", off, UNLOCK_OFF);
	CHECK("lock_completed", len, PAGE);
	KR(memory_object_change_attributes(ctl, FALSE, MEMORY_OBJECT_COPY_NONE,
					   reply_port));
	return KERN_SUCCESS;
}

kern_return_t memory_object_change_completed(mach_port_t mo,
					     boolean_t may_cache,
					     memory_object_copy_strategy_t s)
{
	CHECK("change_completed", mo, reply_port);
	CHECK("change_completed", may_cache, FALSE);
	CHECK("change_completed", s, MEMORY_OBJECT_COPY_NONE);
	KR(memory_object_data_error(control, ERROR_OFF, PAGE, KERN_MEMORY_ERROR));
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_return(mach_port_t mo, mach_port_t ctl,
					vm_offset_t off, vm_offset_t data,
					mach_msg_type_number_t cnt,
					boolean_t dirty, boolean_t kernel_copy)
{
	boolean_t ready, may_cache;
	memory_object_copy_strategy_t s;
	int bad;

	CHECK("data_return", mo, mobj);
	CHECK("data_return", ctl, control);
	CHECK("data_return", off, RETURN_OFF);
	CHECK("data_return", cnt, RETURN_LEN);
	CHECK("data_return", dirty, TRUE);
	CHECK("data_return", kernel_copy, FALSE);
	if ((bad = pattern_check((void *)data, cnt, 2)))
		die("data_return: data differs at byte %d", bad - 1);
	KR(vm_deallocate(mach_task_self(), data, cnt));
	/* A routine: the kernel side answers from what ready and
	 * change_attributes told it. */
	KR(memory_object_get_attributes(ctl, &ready, &may_cache, &s));
	CHECK("get_attributes", ready, TRUE);
	CHECK("get_attributes", may_cache, FALSE);
	CHECK("get_attributes", s, MEMORY_OBJECT_COPY_NONE);
	KR(memory_object_destroy(ctl, DESTROY_REASON));
	return KERN_SUCCESS;
}

kern_return_t memory_object_copy(mach_port_t mo, mach_port_t ctl,
				 vm_offset_t off, vm_size_t len,
				 mach_port_t new_mo)
{
	CHECK("copy", mo, mobj);
	CHECK("copy", ctl, control);
	CHECK("copy", off, COPY_OFF);
	CHECK("copy", len, PAGE);
	if (!has_right(new_mo, MACH_PORT_TYPE_RECEIVE))
		die("copy: new object %u is not a receive right", new_mo);
	KR(mach_port_mod_refs(mach_task_self(), new_mo, MACH_PORT_RIGHT_RECEIVE, -1));
	KR(memory_object_data_unavailable(ctl, COPY_OFF, PAGE));
	return KERN_SUCCESS;
}

kern_return_t memory_object_create(mach_port_t mo, mach_port_t new_mo,
				   vm_size_t size, mach_port_t new_ctl,
				   mach_port_t new_name, vm_size_t page_size)
{
	CHECK("create", mo, mobj);
	CHECK("create", size, CREATE_SIZE);
	CHECK("create", page_size, PAGE);
	if (!has_right(new_mo, MACH_PORT_TYPE_RECEIVE))
		die("create: new object %u is not a receive right", new_mo);
	if (!has_right(new_ctl, MACH_PORT_TYPE_SEND) ||
	    !has_right(new_name, MACH_PORT_TYPE_SEND))
		die("create: new control or name is not a send right");
	mobj2 = new_mo;
	control2 = new_ctl;
	KR(mach_port_move_member(mach_task_self(), mobj2, pset));
	KR(memory_object_ready(new_ctl, TRUE, MEMORY_OBJECT_COPY_TEMPORARY));
	return KERN_SUCCESS;
}

kern_return_t memory_object_data_initialize(mach_port_t mo, mach_port_t ctl,
					    vm_offset_t off, vm_offset_t data,
					    mach_msg_type_number_t cnt)
{
	int bad;

	CHECK("data_initialize", mo, mobj2);
	CHECK("data_initialize", ctl, control2);
	CHECK("data_initialize", off, 0);
	CHECK("data_initialize", cnt, INIT_LEN);
	if ((bad = pattern_check((void *)data, cnt, 3)))
		die("data_initialize: data differs at byte %d", bad - 1);
	KR(vm_deallocate(mach_task_self(), data, cnt));
	/* mach4.defs: a proxy of the new object, asked of the kernel side
	 * (a routine, with an inline array of port rights). */
	{
		memory_object_t objects[2] = { mobj2, mobj };
		vm_offset_t offsets[2] = { 0, PAGE }, starts[2] = { 0, 0 };
		vm_size_t lens[2] = { INIT_LEN, PAGE };
		mach_port_t proxy;

		KR(memory_object_create_proxy(ctl, VM_PROT_READ, objects,
					      MACH_MSG_TYPE_MAKE_SEND, 2, offsets,
					      2, starts, 2, lens, 2, &proxy));
		if (!has_right(proxy, MACH_PORT_TYPE_SEND))
			die("create_proxy: proxy %u is not a send right", proxy);
		KR(mach_port_deallocate(mach_task_self(), proxy));
	}
	KR(memory_object_data_unavailable(ctl, 0, INIT_LEN));
	return KERN_SUCCESS;
}

kern_return_t memory_object_terminate(mach_port_t mo, mach_port_t ctl,
				      mach_port_t name)
{
	CHECK("terminate", mo, mobj);
	/* The receive right arrives under the name its send right had. */
	CHECK("terminate", ctl, control);
	CHECK("terminate", name, name_port);
	if (!has_right(ctl, MACH_PORT_TYPE_RECEIVE) ||
	    !has_right(name, MACH_PORT_TYPE_RECEIVE))
		die("terminate: control %u or name %u is not a receive right",
		    ctl, name);
	KR(mach_port_destroy(mach_task_self(), ctl));
	KR(mach_port_destroy(mach_task_self(), name));
	done = 1;
	return KERN_SUCCESS;
}

int main(int argc, char **argv)
{
	union {
		mach_msg_header_t h;
		char buf[8192];
	} in, out;
	uint32_t seqno = 0;
	char *bound;

	prog = "mo-pager";
	if (argc < 2)
		die("usage: mo-pager ADDRESS [SECRET-FILE]");
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &mobj));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &reply_port));
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_PORT_SET, &pset));
	KR(mach_port_move_member(mach_task_self(), mobj, pset));
	KR(mach_port_move_member(mach_task_self(), reply_port, pset));
	if (mo_mach_publish(argv[1], mobj, argc > 2 ? argv[2] : NULL, &bound) < 0)
		return 1;
	/* The test reads the address (the port tcp:...:0 chose) from here. */
	printf("%s\n", bound);
	fflush(stdout);
	free(bound);
	while (!done) {
		mach_msg_return_t mr = mo_mach_receive(&in.h, sizeof(in), pset,
						       0, 0);
		mig_reply_header_t *r = (mig_reply_header_t *)&out.h;

		if (mr != MACH_MSG_SUCCESS)
			die("mach_msg receive: %#x", mr);
		if (in.h.msgh_local_port == mobj) {
			/* Sequence numbers count the port's messages (ipc_mqueue_receive). */
			CHECK("seqno", in.h.msgh_seqno, seqno);
			seqno++;
		}
		if (!memory_object_server(&in.h, &out.h) &&
		    !memory_object_default_server(&in.h, &out.h))
			die("message id %d is not of memory_object.defs", in.h.msgh_id);
		if (r->RetCode != MIG_NO_REPLY && out.h.msgh_remote_port != MACH_PORT_NULL)
			mach_msg(&out.h, MACH_SEND_MSG, out.h.msgh_size, 0, 0, 0, 0);
	}
	printf("pager: done after %u messages to the object\n", seqno);
	return 0;
}
