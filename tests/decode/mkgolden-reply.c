/*
 * tests/decode/mkgolden-reply.c: the replies of the routines among the
 * golden messages, made by the MIG-generated server stubs.
 *
 * Reads the requests mkgolden wrote; for each routine request it rewrites
 * the header and the port dispositions the way the kernel delivers them
 * (the server stubs check the delivered types), hands it to the server
 * demux and writes the reply MIG built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>
#include <mach/memory_object.h>
#include <mach/vm_prot.h>

#include "decode/decode.h"

boolean_t mach_server(mach_msg_header_t *in, mach_msg_header_t *out);
boolean_t mach4_server(mach_msg_header_t *in, mach_msg_header_t *out);

kern_return_t memory_object_get_attributes(mach_port_t control,
					   boolean_t *object_ready,
					   boolean_t *may_cache,
					   memory_object_copy_strategy_t *copy)
{
	*object_ready = TRUE;
	*may_cache = FALSE;
	*copy = MEMORY_OBJECT_COPY_DELAY;
	return KERN_SUCCESS;
}

kern_return_t memory_object_create_proxy(mach_port_t task, vm_prot_t prot,
					 mach_port_t *object,
					 mach_msg_type_number_t nobject,
					 vm_offset_t *offset,
					 mach_msg_type_number_t noffset,
					 vm_offset_t *start,
					 mach_msg_type_number_t nstart,
					 vm_size_t *len, mach_msg_type_number_t nlen,
					 mach_port_t *proxy)
{
	*proxy = 29;
	return KERN_SUCCESS;
}

/* What the kernel does on the way: dispositions become PORT_* types. */
static void deliver(uint8_t *msg, size_t len)
{
	mach_msg_header_t *h = (mach_msg_header_t *)msg;
	unsigned dest = mo_type_received(MACH_MSGH_BITS_REMOTE(h->msgh_bits));
	unsigned reply = mo_type_received(MACH_MSGH_BITS_LOCAL(h->msgh_bits));
	mach_port_t remote = h->msgh_remote_port;
	struct mo_walker w;
	struct mo_header hd;
	struct mo_item it;

	h->msgh_bits = MACH_MSGH_BITS_OTHER(h->msgh_bits) |
		       MACH_MSGH_BITS(reply, dest);
	h->msgh_remote_port = h->msgh_local_port;
	h->msgh_local_port = remote;
	if (mo_walk_init(&w, msg, len, MO_ABI_X86_64, &hd) < 0)
		return;
	while (mo_walk_next(&w, &it) == 1)
		if (!it.longform && mo_type_is_port(it.name))
			msg[it.desc_off] = (uint8_t)mo_type_received(it.name);
}

int main(void)
{
	static uint8_t in[1 << 16];
	static union {
		mach_msg_header_t h;
		uint8_t b[1 << 16];
	} out;
	size_t n = fread(in, 1, sizeof(in), stdin), pos = 0;

	while (pos + sizeof(mach_msg_header_t) <= n) {
		mach_msg_header_t *h = (mach_msg_header_t *)(in + pos);
		size_t size = h->msgh_size;
		boolean_t handled;

		if (size < sizeof(*h) || pos + size > n) {
			fprintf(stderr, "mkgolden-reply: bad input at byte %zu\n",
				pos);
			return 1;
		}
		if (h->msgh_id == MO_ID_MEMORY_OBJECT_GET_ATTRIBUTES ||
		    h->msgh_id == MO_ID_MEMORY_OBJECT_CREATE_PROXY) {
			deliver(in + pos, size);
			memset(&out, 0, sizeof(out));
			handled = h->msgh_id == MO_ID_MEMORY_OBJECT_GET_ATTRIBUTES
					  ? mach_server(h, &out.h)
					  : mach4_server(h, &out.h);
			if (!handled) {
				fprintf(stderr, "mkgolden-reply: server refused id %d\n",
					h->msgh_id);
				return 1;
			}
			fwrite(out.b, 1, out.h.msgh_size, stdout);
		}
		pos += size;
	}
	return fflush(stdout) ? 1 : 0;
}
