/*
 * tests/decode/mkgolden.c: every message of PROTOCOL.md, built by calling
 * the MIG-generated user stubs (x86_64 profile) with a mach_msg() that
 * writes the request bytes to standard output instead of sending them.
 *
 * Argument values are distinct so that a decoder that mixes fields up is
 * caught: ports are small odd numbers, offsets and sizes page multiples.
 * Out-of-line pointers are fixed fake addresses; the stubs never touch the
 * memory, and the output stays the same from run to run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>
#include <mach/memory_object.h>
#include <mach/kern_return.h>
#include <mach/vm_prot.h>

#include "memory_object.h"
#include "memory_object_default.h"
#include "mach.h"
#include "mach4.h"
#include "notify.h"

#define OBJ	5
#define CTL	7
#define NAME	9
#define REPLY	11
#define FAKE_OOL	((vm_offset_t)0x7f0000100000UL)

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_t notify)
{
	if (!(option & MACH_SEND_MSG) || send_size != msg->msgh_size) {
		fprintf(stderr, "mkgolden: stub sent %u bytes, msgh_size %u\n",
			send_size, msg->msgh_size);
		exit(1);
	}
	/*
	 * The header's padding after msgh_remote_port and the high half of
	 * the msgh_local_port union are not part of the message (the kernel
	 * ignores them) and MIG leaves them as stack garbage: zero them so
	 * the golden input is the same from run to run.
	 */
	memset((char *)msg + 12, 0, 4);
	memset((char *)msg + 20, 0, 4);
	if (fwrite(msg, 1, send_size, stdout) != send_size) {
		perror("mkgolden: write");
		exit(1);
	}
	/* A routine waits for a reply that will not come. */
	return (option & MACH_RCV_MSG) ? MACH_RCV_TIMED_OUT : MACH_MSG_SUCCESS;
}

mach_port_t mig_get_reply_port(void) { return REPLY; }
void mig_dealloc_reply_port(mach_port_t port) { (void)port; }
void mig_put_reply_port(mach_port_t port) { (void)port; }

int main(void)
{
	boolean_t ready, cache;
	memory_object_copy_strategy_t strategy;
	mach_port_t proxy;
	mach_port_t objs[2] = { 13, 15 };
	vm_offset_t offs[2] = { 0x0, 0x4000 }, starts[2] = { 0x10000, 0x20000 };
	vm_size_t lens[2] = { 0x1000, 0x2000 };

	/* kernel -> manager (memory_object.defs, memory_object_default.defs) */
	memory_object_init(OBJ, CTL, NAME, 0x1000);
	memory_object_terminate(OBJ, CTL, NAME);
	memory_object_copy(OBJ, CTL, 0x2000, 0x3000, 17);
	memory_object_data_request(OBJ, CTL, 0x3000, 0x1000, VM_PROT_READ);
	memory_object_data_unlock(OBJ, CTL, 0x0, 0x1000,
				  VM_PROT_READ | VM_PROT_WRITE);
	memory_object_lock_completed(REPLY, MACH_MSG_TYPE_MOVE_SEND_ONCE, CTL,
				     0x4000, 0x2000);
	memory_object_supply_completed(REPLY, MACH_MSG_TYPE_MOVE_SEND_ONCE, CTL,
				       0x5000, 0x1000, KERN_MEMORY_PRESENT,
				       0x5000);
	memory_object_data_return(OBJ, CTL, 0x6000, FAKE_OOL, 0x2000,
				  TRUE, FALSE);
	memory_object_change_completed(REPLY, MACH_MSG_TYPE_MOVE_SEND_ONCE,
				       TRUE, MEMORY_OBJECT_COPY_DELAY);
	memory_object_create(OBJ, 19, 0x100000, CTL, NAME, 0x1000);
	memory_object_data_initialize(OBJ, CTL, 0x7000, FAKE_OOL, 0x1000);

	/* manager -> kernel (mach.defs, mach4.defs) */
	memory_object_data_unavailable(CTL, 0x8000, 0x1000);
	memory_object_get_attributes(CTL, &ready, &cache, &strategy);
	memory_object_lock_request(CTL, 0x9000, 0x3000,
				   MEMORY_OBJECT_RETURN_DIRTY, TRUE,
				   VM_PROT_WRITE, REPLY);
	memory_object_data_error(CTL, 0xa000, 0x1000, KERN_MEMORY_ERROR);
	memory_object_destroy(CTL, KERN_SUCCESS);
	memory_object_data_supply(CTL, 0xb000, FAKE_OOL, 0x1000, FALSE,
				  VM_PROT_WRITE, TRUE, REPLY);
	memory_object_ready(CTL, TRUE, MEMORY_OBJECT_COPY_NONE);
	memory_object_change_attributes(CTL, FALSE, MEMORY_OBJECT_COPY_CALL,
					REPLY);
	memory_object_create_proxy(3, VM_PROT_READ, objs,
				   MACH_MSG_TYPE_COPY_SEND, 2, offs, 2, starts,
				   2, lens, 2, &proxy);

	/* the notifications pagers rely on (notify.defs) */
	mach_notify_no_senders(21, 3);
	mach_notify_dead_name(21, 23);
	mach_notify_port_deleted(21, 25);
	mach_notify_port_destroyed(21, 27, MACH_MSG_TYPE_MOVE_RECEIVE);
	mach_notify_send_once(21);
	return fflush(stdout) ? 1 : 0;
}
