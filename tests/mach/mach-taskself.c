/*
 * tests/mach/mach-taskself.c: mach_task_self() gives a send right with
 * each call, as GNU Mach's trap does (kern/ipc_tt.c, mach_task_self:
 * ipc_port_copyout_send), so that a program can move one away and keep
 * its own (tests/t1022-mach-task-self.sh).
 */
#include <stdio.h>
#include <string.h>
#include <mach.h>

#include "tests/mach/mo-test.h"

static mach_port_urefs_t task_refs(void)
{
	mach_port_urefs_t r = 0;
	mach_port_t t = mach_task_self();

	KR(mach_port_get_refs(t, t, MACH_PORT_RIGHT_SEND, &r));
	return r;	/* counting the one this call took */
}

int main(void)
{
	mach_port_t t, rx, again;
	mach_port_urefs_t r0, r1;
	vm_address_t a = 0;
	union { mach_msg_header_t h; char b[256]; } m;

	prog = "mach-taskself";
	r0 = task_refs();
	t = mach_task_self();
	(void)mach_task_self();
	r1 = task_refs();
	CHECK("one reference per call", r1, r0 + 3);
	CHECK("the same name each call", mach_task_self(), t);

	/* A MOVE_SEND of mach_task_self() leaves the task its other rights. */
	KR(mach_port_allocate(t, MACH_PORT_RIGHT_RECEIVE, &rx));
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MOVE_SEND);
	m.h.msgh_size = sizeof(m.h);
	m.h.msgh_remote_port = rx;
	m.h.msgh_local_port = mach_task_self();
	CHECK("send the task's right", mach_msg(&m.h, MACH_SEND_MSG, sizeof(m.h),
			0, MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	KR(vm_allocate(t, &a, 4096, 1));
	KR(vm_deallocate(t, a, 4096));
	CHECK("receive it", mach_msg(&m.h, MACH_RCV_MSG, 0, sizeof(m), rx, 0,
				     MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("it comes back under the task's name", m.h.msgh_remote_port, t);

	/* Every right given away: the next call makes a new one. */
	KR(mach_port_get_refs(t, t, MACH_PORT_RIGHT_SEND, &r1));
	KR(mach_port_mod_refs(t, t, MACH_PORT_RIGHT_SEND, -(mach_port_delta_t)r1));
	again = mach_task_self();
	CHECK("a name again", again != MACH_PORT_NULL, 1);
	KR(mach_port_get_refs(again, again, MACH_PORT_RIGHT_SEND, &r1));
	CHECK("with one reference", r1, 1);
	KR(vm_allocate(again, &a, 4096, 1));
	KR(vm_deallocate(again, a, 4096));
	CHECK("the old name is not the task's", mach_port_allocate(t == again ?
			MACH_PORT_DEAD : t, MACH_PORT_RIGHT_RECEIVE, &rx),
	      KERN_INVALID_TASK);

	/* Pegged below MACH_PORT_UREFS_MAX (ipc_right_copyout, overflow TRUE). */
	for (int i = 0; i < 70000; i++)
		(void)mach_task_self();
	KR(mach_port_get_refs(again, again, MACH_PORT_RIGHT_SEND, &r1));
	CHECK("pegged", r1, 65534);
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &rx));
	printf("task-self: a reference per call; moved away, the task keeps its own; pegged at 65534\n");
	return 0;
}
