/*
 * mach/server.c: what glibc's mach/ folder gives a Mach server on the
 * Hurd: the page size (mach_init.h), the server loop mach_msg_server and
 * mach_msg_server_timeout (glibc mach/msgserver.c), and
 * mach_msg_destroy (glibc mach/msg-destroy.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mach.h>
#include <mach_init.h>
#include <mach/mig_errors.h>

#include "mach/ipc.h"

/*
 * glibc sets __vm_page_size when a program starts (mach/mach_init.c,
 * from vm_statistics' pagesize) and vm_page_size is the same variable
 * (a weak alias); here it is Linux's page size, the one userfaultfd and
 * mmap work in.
 */
vm_size_t __vm_page_size = 4096;
extern vm_size_t vm_page_size __attribute__((alias("__vm_page_size")));

__attribute__((constructor))
static void page_size_init(void)
{
	long n = sysconf(_SC_PAGESIZE);

	if (n > 0)
		__vm_page_size = (vm_size_t)n;
}

static void destroy_right(mach_port_t name, unsigned type)
{
	if (!MACH_PORT_VALID(name))
		return;
	/* glibc msg-destroy.c, mach_msg_destroy_port: only the rights a
	 * received message holds; MAKE_* and COPY_SEND hold none. */
	switch (type) {
	case MACH_MSG_TYPE_PORT_SEND:
	case MACH_MSG_TYPE_PORT_SEND_ONCE:
		mach_port_deallocate(mach_task_self(), name);
		break;
	case MACH_MSG_TYPE_PORT_RECEIVE:
		mach_port_mod_refs(mach_task_self(), name,
				   MACH_PORT_RIGHT_RECEIVE, -1);
		break;
	}
}

/*
 * Releases every right and out-of-line region a received message holds
 * (its reply right in msgh_remote_port, the body's ports and regions).
 * msgh_local_port holds none: the receive consumed the destination
 * right (glibc mach/msg-destroy.c). The body is read by the same walker
 * that carries messages, so an item is found where mach_msg put it.
 */
void mach_msg_destroy(mach_msg_header_t *msg)
{
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;

	destroy_right(msg->msgh_remote_port,
		      MACH_MSGH_BITS_REMOTE(msg->msgh_bits));
	if (!(msg->msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return;
	if (mo_walk_init(&w, (const uint8_t *)msg, msg->msgh_size,
			 MO_ABI_X86_64, &h) < 0)
		return;
	while (mo_walk_next(&w, &it) == 1) {
		uint64_t bytes = mo_item_bytes(&it);
		uint8_t *addr;

		if (it.is_inline) {
			if (mo_type_is_port(it.name))
				for (uint32_t i = 0; i < it.number; i++)
					destroy_right((mach_port_t)mo_item_elem(
						(const uint8_t *)msg, &it, i), it.name);
			continue;
		}
		addr = (uint8_t *)(uintptr_t)mo_item_ool_addr(
			(const uint8_t *)msg, &it, MO_ABI_X86_64);
		if (!addr || !bytes)
			continue;
		if (mo_type_is_port(it.name))
			for (uint32_t i = 0; i < it.number; i++) {
				mach_port_t name;

				memcpy(&name, addr + 4 * (size_t)i, 4);
				destroy_right(name, it.name);
			}
		vm_deallocate(mach_task_self(), (vm_address_t)addr, bytes);
	}
}

/*
 * glibc mach/msgserver.c, __mach_msg_server_timeout: receive a request,
 * hand it to DEMUX, and unless its RetCode is MIG_NO_REPLY send the reply
 * and receive the next request in one mach_msg. A failed routine's
 * request is destroyed but for its reply right, which the error reply
 * uses; a reply with no reply port is destroyed; a reply whose port
 * died is destroyed and the loop goes on; any other error (the timeout
 * among them) is returned. MAX_SIZE 0 means two pages and
 * MACH_RCV_LARGE: a larger request is received again in a buffer of its
 * size. The buffers come from the heap, not the stack (glibc's alloca),
 * as libports gives its threads 64 KiB stacks.
 */
mach_msg_return_t
mach_msg_server_timeout(boolean_t (*demux)(mach_msg_header_t *request,
					    mach_msg_header_t *reply),
			mach_msg_size_t max_size, mach_port_t rcv_name,
			mach_msg_option_t option, mach_msg_timeout_t timeout)
{
	mig_reply_header_t *request, *reply, *tmp;
	mach_msg_return_t mr;

	if (max_size == 0) {
		option |= MACH_RCV_LARGE;
		max_size = 2 * __vm_page_size;
	}
	for (;;) {
		request = malloc(max_size);
		reply = malloc(max_size);
		if (!request || !reply) {
			free(request);
			free(reply);
			return KERN_RESOURCE_SHORTAGE;
		}
		for (;;) {
			mr = mach_msg(&request->Head, MACH_RCV_MSG | option, 0,
				      max_size, rcv_name, timeout, MACH_PORT_NULL);
			while (mr == MACH_MSG_SUCCESS) {
				(void)(*demux)(&request->Head, &reply->Head);
				if (reply->Head.msgh_size > max_size)
					abort();	/* glibc asserts it */
				if (reply->RetCode == MIG_NO_REPLY)
					break;
				if (reply->RetCode != KERN_SUCCESS) {
					request->Head.msgh_remote_port = MACH_PORT_NULL;
					mach_msg_destroy(&request->Head);
				}
				if (reply->Head.msgh_remote_port == MACH_PORT_NULL) {
					if (reply->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX)
						mach_msg_destroy(&reply->Head);
					break;
				}
				tmp = request;
				request = reply;
				reply = tmp;
				mr = mach_msg(&request->Head,
					      MACH_SEND_MSG | MACH_RCV_MSG | option,
					      request->Head.msgh_size, max_size,
					      rcv_name, timeout, MACH_PORT_NULL);
			}
			if (mr == MACH_MSG_SUCCESS)
				continue;
			if (mr == MACH_SEND_INVALID_DEST) {
				/* The requester went away: drop its reply. */
				mach_msg_destroy(&request->Head);
				continue;
			}
			break;
		}
		if (mr != MACH_RCV_TOO_LARGE) {
			free(request);
			free(reply);
			return mr;
		}
		/* Its header says the size it needs: with MACH_RCV_LARGE it
		 * is still queued (glibc receives it again, larger). */
		max_size = request->Head.msgh_size;
		free(request);
		free(reply);
	}
}

mach_msg_return_t
mach_msg_server(boolean_t (*demux)(mach_msg_header_t *in,
				   mach_msg_header_t *out),
		mach_msg_size_t max_size, mach_port_t rcv_name)
{
	return mach_msg_server_timeout(demux, max_size, rcv_name,
				       MACH_MSG_OPTION_NONE,
				       MACH_MSG_TIMEOUT_NONE);
}
