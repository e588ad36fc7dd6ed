/*
 * mach/interpose.c: mo_mach_publish() under motrace (mach/interpose.h):
 * the port goes to motrace, which publishes the address itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach.h>
#include <mach/motrace.h>
#include <mach/notify.h>

#include "mach/interpose.h"

int mo_interposed(void)
{
	const char *via = getenv(MO_INTERPOSE_ENV);

	return via && *via;
}

/* Names for the codes an answer can carry (GNU Mach include/mach/kern_return.h). */
static const char *kern_error_name(kern_return_t kr)
{
	static char other[32];

	switch (kr) {
	case KERN_INVALID_ADDRESS: return "KERN_INVALID_ADDRESS";
	case KERN_PROTECTION_FAILURE: return "KERN_PROTECTION_FAILURE";
	case KERN_NO_SPACE: return "KERN_NO_SPACE";
	case KERN_INVALID_ARGUMENT: return "KERN_INVALID_ARGUMENT: it refused the address";
	case KERN_FAILURE: return "KERN_FAILURE";
	case KERN_RESOURCE_SHORTAGE: return "KERN_RESOURCE_SHORTAGE";
	case KERN_NAME_EXISTS: return "KERN_NAME_EXISTS: the address is served already";
	}
	snprintf(other, sizeof(other), "code 0x%x", (unsigned)kr);
	return other;
}

/* And for mach_msg's (GNU Mach include/mach/message.h). */
static const char *msg_error_name(mach_msg_return_t mr)
{
	static char other[32];

	switch (mr) {
	case MACH_SEND_INVALID_DEST: return "MACH_SEND_INVALID_DEST: motrace is gone";
	case MACH_RCV_PORT_DIED: return "MACH_RCV_PORT_DIED";
	case MACH_RCV_INTERRUPTED: return "MACH_RCV_INTERRUPTED";
	case MACH_RCV_TOO_LARGE: return "MACH_RCV_TOO_LARGE";
	}
	snprintf(other, sizeof(other), "error 0x%x", (unsigned)mr);
	return other;
}

int mo_interpose_publish(const char *addr, unsigned port)
{
	const char *via = getenv(MO_INTERPOSE_ENV);
	struct {
		mach_msg_header_t h;
		mach_msg_type_long_t addr_type;
		char addr[MO_INTERPOSE_ADDR_MAX];
		mach_msg_type_t port_type;
		mach_port_t port;
	} req;
	union {
		mach_msg_header_t h;
		struct {
			mach_msg_header_t h;
			mach_msg_type_t t;
			kern_return_t ret;
		} r;
		char buf[256];
	} rep;
	mach_port_t motrace, reply;
	size_t n = strlen(addr) + 1, padded = (n + 3) & ~(size_t)3;
	kern_return_t kr;

	if (!via || !*via)
		return 1;
	if (n > sizeof(req.addr)) {
		fprintf(stderr, "motrace interpose: address '%s' is too long\n", addr);
		return -1;
	}
	if (mo_mach_lookup(via, NULL, &motrace) < 0) {
		fprintf(stderr, "motrace interpose: cannot reach motrace at '%s' (%s)\n",
			via, MO_INTERPOSE_ENV);
		return -1;
	}
	reply = mach_reply_port();
	memset(&req, 0, sizeof(req));
	req.addr_type.msgtl_header.msgt_inline = 1;
	req.addr_type.msgtl_header.msgt_longform = 1;
	req.addr_type.msgtl_name = MACH_MSG_TYPE_CHAR;
	req.addr_type.msgtl_size = 8;
	req.addr_type.msgtl_number = (natural_t)n;
	memcpy(req.addr, addr, n);
	/* The port descriptor follows the padded text. */
	{
		mach_msg_type_t *t = (mach_msg_type_t *)(req.addr + padded);
		mach_port_t *p = (mach_port_t *)(t + 1);

		memset(t, 0, sizeof(*t));
		t->msgt_name = MACH_MSG_TYPE_MAKE_SEND;
		t->msgt_size = 32;
		t->msgt_number = 1;
		t->msgt_inline = 1;
		*p = port;
		req.h.msgh_size = (mach_msg_size_t)((char *)(p + 1) - (char *)&req);
	}
	req.h.msgh_bits = MACH_MSGH_BITS_COMPLEX |
			  MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
					 MACH_MSG_TYPE_MAKE_SEND_ONCE);
	req.h.msgh_remote_port = motrace;
	req.h.msgh_local_port = reply;
	req.h.msgh_id = MO_INTERPOSE_MSGID;
	kr = mach_msg(&req.h, MACH_SEND_MSG, req.h.msgh_size, 0, MACH_PORT_NULL,
		      MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
	if (kr == MACH_MSG_SUCCESS)
		kr = mach_msg(&rep.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
			      sizeof(rep), reply, 10000, MACH_PORT_NULL);
	mach_port_deallocate(mach_task_self(), motrace);
	mach_port_mod_refs(mach_task_self(), reply, MACH_PORT_RIGHT_RECEIVE, -1);
	if (kr == MACH_RCV_TIMED_OUT) {
		fprintf(stderr, "motrace interpose: motrace did not answer within 10 s for '%s'\n",
			addr);
		return -1;
	}
	if (kr != MACH_MSG_SUCCESS) {
		fprintf(stderr, "motrace interpose: no answer from motrace for '%s' (%s)\n",
			addr, msg_error_name(kr));
		return -1;
	}
	if (rep.h.msgh_id == MACH_NOTIFY_SEND_ONCE) {
		fprintf(stderr, "motrace interpose: motrace went away before it answered for '%s'\n",
			addr);
		return -1;
	}
	if (rep.h.msgh_id != MO_INTERPOSE_MSGID + 100 || rep.h.msgh_size < sizeof(rep.r)) {
		fprintf(stderr, "motrace interpose: motrace answered '%s' with a message that is not the answer (id %d, %u bytes)\n",
			addr, rep.h.msgh_id, rep.h.msgh_size);
		return -1;
	}
	if (rep.r.ret != KERN_SUCCESS) {
		fprintf(stderr, "motrace interpose: motrace could not publish '%s' for this program (%s); motrace's own message says why\n",
			addr, kern_error_name(rep.r.ret));
		return -1;
	}
	return 0;
}
