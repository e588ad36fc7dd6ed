/*
 * tests/mach/mach-portcalls.c: mach_port_names, _rename, _allocate_name,
 * _get_set_status, _extract_right and _set_seqno, their semantics and
 * their errors as GNU Mach's ipc/mach_port.c gives them
 * (tests/t1020-mach-port-calls.sh).
 *
 *   mach-portcalls CASE   names, rename, allocate-name, set-status,
 *                         extract-right, set-seqno
 *
 * Prints what it checked and exits 0, or names the first mismatch and
 * exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mach.h>

#include "tests/mach/mo-test.h"

static mach_port_t recv_port(void)
{
	mach_port_t p;

	CHECK("mach_port_allocate", mach_port_allocate(mach_task_self(),
			MACH_PORT_RIGHT_RECEIVE, &p), KERN_SUCCESS);
	return p;
}

static mach_port_type_t type_of(mach_port_t name)
{
	mach_port_type_t t = 0;

	CHECK("mach_port_type", mach_port_type(mach_task_self(), name, &t),
	      KERN_SUCCESS);
	return t;
}

static mach_port_urefs_t refs_of(mach_port_t name, mach_port_right_t right)
{
	mach_port_urefs_t r = 0;

	CHECK("mach_port_get_refs", mach_port_get_refs(mach_task_self(), name,
			right, &r), KERN_SUCCESS);
	return r;
}

/* Sends a simple message with id ID to NAME (a send right made or copied). */
static void send_to(mach_port_t name, unsigned disp, int id)
{
	mach_msg_header_t h = { 0 };

	h.msgh_bits = MACH_MSGH_BITS(disp, 0);
	h.msgh_size = sizeof(h);
	h.msgh_remote_port = name;
	h.msgh_id = id;
	CHECK("send", mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL,
			       0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
}

static mach_msg_header_t recv_on(mach_port_t name)
{
	union { mach_msg_header_t h; char b[256]; } m;

	CHECK("receive", mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
				  sizeof(m), name, 5000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	return m.h;
}

/* The type mach_port_names gives NAME, or ~0 if it lists no such name. */
static mach_port_type_t listed(mach_port_t name)
{
	mach_port_name_array_t names;
	mach_port_type_array_t types;
	mach_msg_type_number_t nn, nt;
	mach_port_type_t t = ~0u;

	CHECK("mach_port_names", mach_port_names(mach_task_self(), &names, &nn,
						 &types, &nt), KERN_SUCCESS);
	CHECK("names and types counts", nn, nt);
	for (unsigned i = 0; i < nn; i++)
		if (names[i] == name)
			t = types[i];
	vm_deallocate(mach_task_self(), (vm_address_t)names, nn * sizeof(*names));
	vm_deallocate(mach_task_self(), (vm_address_t)types, nt * sizeof(*types));
	return t;
}

static void case_names(void)
{
	mach_port_t rx = recv_port(), set, dead, so, prev, task = mach_task_self();
	mach_msg_type_name_t t;
	mach_port_name_array_t names;
	mach_port_type_array_t types;
	mach_msg_type_number_t nn, nt;
	unsigned seen = 0;

	CHECK("allocate a set", mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET,
						   &set), KERN_SUCCESS);
	CHECK("allocate a dead name", mach_port_allocate(task,
			MACH_PORT_RIGHT_DEAD_NAME, &dead), KERN_SUCCESS);
	CHECK("make a send right", mach_port_insert_right(task, rx, rx,
			MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	CHECK("make a send-once right", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t), KERN_SUCCESS);
	CHECK("a dead-name request", mach_port_request_notification(task, so,
			MACH_NOTIFY_DEAD_NAME, 0, rx, MACH_MSG_TYPE_MAKE_SEND_ONCE,
			&prev), KERN_SUCCESS);

	CHECK("receive and send", listed(rx),
	      MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	CHECK("port set", listed(set), MACH_PORT_TYPE_PORT_SET);
	CHECK("dead name", listed(dead), MACH_PORT_TYPE_DEAD_NAME);
	CHECK("send-once with its request", listed(so),
	      MACH_PORT_TYPE_SEND_ONCE | MACH_PORT_TYPE_DNREQUEST);
	CHECK("the task port", listed(task), MACH_PORT_TYPE_SEND);

	/* Every name listed is one mach_port_type knows, with that type. */
	CHECK("mach_port_names", mach_port_names(task, &names, &nn, &types, &nt),
	      KERN_SUCCESS);
	for (unsigned i = 0; i < nn; i++) {
		CHECK("listed type", types[i], type_of(names[i]));
		seen++;
	}
	if (seen < 5)
		die("mach_port_names listed %u names, not at least 5", seen);
	vm_deallocate(task, (vm_address_t)names, nn * sizeof(*names));
	vm_deallocate(task, (vm_address_t)types, nt * sizeof(*types));

	CHECK("a destroyed name is not listed",
	      mach_port_destroy(task, dead), KERN_SUCCESS);
	CHECK("destroyed", listed(dead), ~0u);
	CHECK("not the task", mach_port_names(rx, &names, &nn, &types, &nt),
	      KERN_INVALID_TASK);
	printf("names: %u names listed with mach_port_type's types; a destroyed one is not\n",
	       seen);
}

static void case_rename(void)
{
	mach_port_t task = mach_task_self(), rx = recv_port(), other = recv_port();
	mach_port_t set, dn_rx = recv_port(), sr, prev;
	mach_msg_header_t h;
	union { mach_msg_header_t h; mach_dead_name_notification_t dn; char b[256]; } m;

	CHECK("make send", mach_port_insert_right(task, rx, rx,
			MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	CHECK("copy send", mach_port_mod_refs(task, rx, MACH_PORT_RIGHT_SEND, 2),
	      KERN_SUCCESS);
	CHECK("rename", mach_port_rename(task, rx, 5000), KERN_SUCCESS);
	CHECK("old name gone", mach_port_type(task, rx, &(mach_port_type_t){0}),
	      KERN_INVALID_NAME);
	CHECK("new name's type", type_of(5000),
	      MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	CHECK("its send references moved", refs_of(5000, MACH_PORT_RIGHT_SEND), 3);
	send_to(5000, MACH_MSG_TYPE_COPY_SEND, 7);
	h = recv_on(5000);
	CHECK("received on the new name", h.msgh_local_port, 5000);
	CHECK("message id", h.msgh_id, 7);

	CHECK("onto a name in use", mach_port_rename(task, 5000, other),
	      KERN_NAME_EXISTS);
	CHECK("to MACH_PORT_NULL", mach_port_rename(task, 5000, MACH_PORT_NULL),
	      KERN_INVALID_VALUE);
	CHECK("to MACH_PORT_DEAD", mach_port_rename(task, 5000, MACH_PORT_DEAD),
	      KERN_INVALID_VALUE);
	CHECK("from a free name", mach_port_rename(task, 4999, 4998),
	      KERN_INVALID_NAME);
	CHECK("the old name is free again", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_DEAD_NAME, rx), KERN_SUCCESS);

	/* A set renamed keeps its members, and receives under its new name. */
	CHECK("allocate a set", mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET,
						   &set), KERN_SUCCESS);
	CHECK("rename the set", mach_port_rename(task, set, 6000), KERN_SUCCESS);
	CHECK("move into it", mach_port_move_member(task, other, 6000), KERN_SUCCESS);
	send_to(other, MACH_MSG_TYPE_MAKE_SEND, 8);
	h = recv_on(6000);
	CHECK("set message id", h.msgh_id, 8);
	CHECK("set message port", h.msgh_local_port, other);

	/* A dead-name notification names the send right by its new name. */
	CHECK("send right to another port", mach_port_insert_right(task, dn_rx,
			dn_rx, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	CHECK("extract it", mach_port_extract_right(task, dn_rx,
			MACH_MSG_TYPE_MAKE_SEND_ONCE, &sr, &(mach_msg_type_name_t){0}),
	      KERN_SUCCESS);
	CHECK("request", mach_port_request_notification(task, sr,
			MACH_NOTIFY_DEAD_NAME, 0, other, MACH_MSG_TYPE_MAKE_SEND_ONCE,
			&prev), KERN_SUCCESS);
	CHECK("rename the watched right", mach_port_rename(task, sr, 7000),
	      KERN_SUCCESS);
	CHECK("the request went along", type_of(7000),
	      MACH_PORT_TYPE_SEND_ONCE | MACH_PORT_TYPE_DNREQUEST);
	CHECK("destroy its port", mach_port_mod_refs(task, dn_rx,
			MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	CHECK("notification", mach_msg(&m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
			sizeof(m), 6000, 5000, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("notification id", m.h.msgh_id, MACH_NOTIFY_DEAD_NAME);
	CHECK("it names the new name", m.dn.not_port, 7000);
	printf("rename: rights, references, set members and requests move; errors as GNU Mach\n");
}

static void case_allocate_name(void)
{
	mach_port_t task = mach_task_self(), n;

	CHECK("receive at 1000", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_RECEIVE, 1000), KERN_SUCCESS);
	CHECK("set at 1001", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_PORT_SET, 1001), KERN_SUCCESS);
	CHECK("dead name at 1002", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_DEAD_NAME, 1002), KERN_SUCCESS);
	CHECK("far away", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_RECEIVE, 300000), KERN_SUCCESS);
	CHECK("type 1000", type_of(1000), MACH_PORT_TYPE_RECEIVE);
	CHECK("type 1001", type_of(1001), MACH_PORT_TYPE_PORT_SET);
	CHECK("type 1002", type_of(1002), MACH_PORT_TYPE_DEAD_NAME);
	CHECK("type 300000", type_of(300000), MACH_PORT_TYPE_RECEIVE);
	CHECK("dead name's references", refs_of(1002, MACH_PORT_RIGHT_DEAD_NAME), 1);
	CHECK("a name in use", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_RECEIVE, 1000), KERN_NAME_EXISTS);
	CHECK("the task's name", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_DEAD_NAME, task), KERN_NAME_EXISTS);
	CHECK("MACH_PORT_NULL", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_RECEIVE, MACH_PORT_NULL), KERN_INVALID_VALUE);
	CHECK("MACH_PORT_DEAD", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_RECEIVE, MACH_PORT_DEAD), KERN_INVALID_VALUE);
	CHECK("a send right", mach_port_allocate_name(task,
			MACH_PORT_RIGHT_SEND, 1003), KERN_INVALID_VALUE);
	CHECK("not the task", mach_port_allocate_name(1000,
			MACH_PORT_RIGHT_RECEIVE, 1004), KERN_INVALID_TASK);
	for (int i = 0; i < 2000; i++) {
		CHECK("allocate", mach_port_allocate(task, MACH_PORT_RIGHT_DEAD_NAME,
						     &n), KERN_SUCCESS);
		if (n == 1000 || n == 1001 || n == 1002 || n == 300000)
			die("mach_port_allocate gave name %u, which is taken", n);
	}
	send_to(1000, MACH_MSG_TYPE_MAKE_SEND, 9);
	CHECK("a message on the named port", recv_on(1000).msgh_id, 9);
	printf("allocate-name: receive, set and dead name at chosen names; never given again; errors as GNU Mach\n");
}

static void case_set_status(void)
{
	mach_port_t task = mach_task_self(), set, a = recv_port(), b = recv_port();
	mach_port_name_array_t mem;
	mach_msg_type_number_t n;

	CHECK("allocate a set", mach_port_allocate(task, MACH_PORT_RIGHT_PORT_SET,
						   &set), KERN_SUCCESS);
	CHECK("empty", mach_port_get_set_status(task, set, &mem, &n), KERN_SUCCESS);
	CHECK("no members", n, 0);
	vm_deallocate(task, (vm_address_t)mem, sizeof(*mem));
	CHECK("add a", mach_port_move_member(task, a, set), KERN_SUCCESS);
	CHECK("add b", mach_port_move_member(task, b, set), KERN_SUCCESS);
	CHECK("two", mach_port_get_set_status(task, set, &mem, &n), KERN_SUCCESS);
	CHECK("two members", n, 2);
	if (!((mem[0] == a && mem[1] == b) || (mem[0] == b && mem[1] == a)))
		die("members %u %u, not %u and %u", mem[0], mem[1], a, b);
	vm_deallocate(task, (vm_address_t)mem, n * sizeof(*mem));
	CHECK("take a out", mach_port_move_member(task, a, MACH_PORT_NULL),
	      KERN_SUCCESS);
	CHECK("one", mach_port_get_set_status(task, set, &mem, &n), KERN_SUCCESS);
	CHECK("one member", n, 1);
	CHECK("it is b", mem[0], b);
	vm_deallocate(task, (vm_address_t)mem, n * sizeof(*mem));
	CHECK("a receive right", mach_port_get_set_status(task, a, &mem, &n),
	      KERN_INVALID_RIGHT);
	CHECK("a free name", mach_port_get_set_status(task, 77777, &mem, &n),
	      KERN_INVALID_NAME);
	printf("set-status: members as moved in and out; errors as GNU Mach\n");
}

static void case_extract_right(void)
{
	mach_port_t task = mach_task_self(), rx = recv_port(), poly, so;
	mach_msg_type_name_t pp;
	mach_msg_header_t h;

	CHECK("MAKE_SEND", mach_port_extract_right(task, rx, MACH_MSG_TYPE_MAKE_SEND,
						    &poly, &pp), KERN_SUCCESS);
	CHECK("the port's own name", poly, rx);
	CHECK("as received", pp, MACH_MSG_TYPE_PORT_SEND);
	CHECK("one send reference", refs_of(rx, MACH_PORT_RIGHT_SEND), 1);
	CHECK("COPY_SEND", mach_port_extract_right(task, rx, MACH_MSG_TYPE_COPY_SEND,
						    &poly, &pp), KERN_SUCCESS);
	CHECK("two send references", refs_of(rx, MACH_PORT_RIGHT_SEND), 2);
	CHECK("MOVE_SEND", mach_port_extract_right(task, rx, MACH_MSG_TYPE_MOVE_SEND,
						    &poly, &pp), KERN_SUCCESS);
	CHECK("still two", refs_of(rx, MACH_PORT_RIGHT_SEND), 2);
	CHECK("MAKE_SEND_ONCE", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &pp), KERN_SUCCESS);
	CHECK("a name of its own", so != rx, 1);
	CHECK("send-once", pp, MACH_MSG_TYPE_PORT_SEND_ONCE);
	CHECK("its type", type_of(so), MACH_PORT_TYPE_SEND_ONCE);
	send_to(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 11);
	h = recv_on(rx);
	CHECK("through the send-once right", h.msgh_id, 11);
	CHECK("used up", mach_port_type(task, so, &(mach_port_type_t){0}),
	      KERN_INVALID_NAME);
	CHECK("MOVE_RECEIVE", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_MOVE_RECEIVE, &poly, &pp), KERN_SUCCESS);
	CHECK("receive right", pp, MACH_MSG_TYPE_PORT_RECEIVE);
	CHECK("back under its name", poly, rx);
	CHECK("with its send rights", type_of(rx),
	      MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	CHECK("not a right", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_INTEGER_32, &poly, &pp), KERN_INVALID_VALUE);
	CHECK("a free name", mach_port_extract_right(task, 88888,
			MACH_MSG_TYPE_MAKE_SEND, &poly, &pp), KERN_INVALID_NAME);
	CHECK("MOVE_SEND_ONCE of a send right", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_MOVE_SEND_ONCE, &poly, &pp), KERN_INVALID_RIGHT);
	CHECK("drop the receive right", mach_port_mod_refs(task, rx,
			MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	CHECK("MAKE_SEND from a dead name", mach_port_extract_right(task, rx,
			MACH_MSG_TYPE_MAKE_SEND, &poly, &pp), KERN_INVALID_RIGHT);
	printf("extract-right: each disposition as a message's copyin gives it; errors as GNU Mach\n");
}

static void case_set_seqno(void)
{
	mach_port_t task = mach_task_self(), rx = recv_port();
	union { mach_msg_header_t h; char b[256]; } m;

	CHECK("set", mach_port_set_seqno(task, rx, 41), KERN_SUCCESS);
	send_to(rx, MACH_MSG_TYPE_MAKE_SEND, 1);
	send_to(rx, MACH_MSG_TYPE_MAKE_SEND, 2);
	CHECK("first", mach_msg(&m.h, MACH_RCV_MSG, 0, sizeof(m), rx, 0,
				MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("first seqno", m.h.msgh_seqno, 41);
	CHECK("second", mach_msg(&m.h, MACH_RCV_MSG, 0, sizeof(m), rx, 0,
				 MACH_PORT_NULL), MACH_MSG_SUCCESS);
	CHECK("second seqno", m.h.msgh_seqno, 42);
	CHECK("make send", mach_port_insert_right(task, rx, rx,
			MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	CHECK("the task port", mach_port_set_seqno(task, task, 1), KERN_INVALID_RIGHT);
	CHECK("a free name", mach_port_set_seqno(task, 99999, 1), KERN_INVALID_NAME);
	printf("set-seqno: the next message gets it, the one after it + 1; errors as GNU Mach\n");
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "names", case_names },
	{ "rename", case_rename },
	{ "allocate-name", case_allocate_name },
	{ "set-status", case_set_status },
	{ "extract-right", case_extract_right },
	{ "set-seqno", case_set_seqno },
};

int main(int argc, char **argv)
{
	prog = "mach-portcalls";
	if (argc == 2)
		for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
			if (!strcmp(argv[1], cases[i].name)) {
				cases[i].fn();
				return 0;
			}
	fprintf(stderr, "usage: mach-portcalls names|rename|allocate-name|set-status|extract-right|set-seqno\n");
	return 2;
}
