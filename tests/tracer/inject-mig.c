/*
 * tests/tracer/inject-mig.c: a message motrace injects is, byte for byte,
 * what MIG's user stub sends for the same arguments.
 *
 * For each call an inject rule can send, the stub (x86_64 profile) runs
 * with a mach_msg() that records its bytes (as tests/decode/mkgolden.c
 * does); the rule's message is made by the engine (mo_inject_build) and
 * named by mo_inject_prepare, the path the live proxy takes, with the
 * port names and out-of-line address the stub was given. Null ports
 * (reply_to=0) stay null ports of the stub's type.
 *
 * usage: inject-mig      prints one line per call, exits 1 on a difference
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>
#include <mach/memory_object.h>
#include <mach/kern_return.h>
#include <mach/vm_prot.h>

#include "memory_object.h"
#include "mach.h"

#include "tracer/engine.h"

#define OBJ	5
#define CTL	7
#define REPLY	11
#define FAKE_OOL	((vm_offset_t)0x7f0000100000UL)

static unsigned char rec[4096];
static size_t rec_len;

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_t notify)
{
	(void)rcv_size; (void)rcv_name; (void)timeout; (void)notify;
	if (send_size > sizeof(rec))
		abort();
	/* Header padding MIG leaves as stack garbage (see mkgolden.c). */
	memset((char *)msg + 12, 0, 4);
	memset((char *)msg + 20, 0, 4);
	memcpy(rec, msg, send_size);
	rec_len = send_size;
	return (option & MACH_RCV_MSG) ? MACH_RCV_TIMED_OUT : MACH_MSG_SUCCESS;
}

mach_port_t mig_get_reply_port(void) { return REPLY; }
void mig_dealloc_reply_port(mach_port_t port) { (void)port; }
void mig_put_reply_port(mach_port_t port) { (void)port; }

static uint32_t reply_port(void *ctx) { (void)ctx; return REPLY; }
static uint64_t ool(void *ctx, uint64_t bytes) { (void)ctx; (void)bytes; return FAKE_OOL; }

static void mig_lock_request_null(void)
{
	memory_object_lock_request(CTL, 0x0, 0x1000, MEMORY_OBJECT_RETURN_NONE,
				   TRUE, VM_PROT_NONE, MACH_PORT_NULL);
}

static void mig_lock_request_reply(void)
{
	memory_object_lock_request(CTL, 0x3000, 0x1000, MEMORY_OBJECT_RETURN_ALL,
				   FALSE, VM_PROT_WRITE, REPLY);
}

static void mig_supply_null(void)
{
	memory_object_data_supply(CTL, 0x3000, FAKE_OOL, 0x1000, TRUE,
				  VM_PROT_NONE, FALSE, MACH_PORT_NULL);
}

static void mig_supply_reply(void)
{
	memory_object_data_supply(CTL, 0x3000, FAKE_OOL, 0x1000, FALSE,
				  VM_PROT_WRITE, TRUE, REPLY);
}

static void mig_unavailable(void)
{
	memory_object_data_unavailable(CTL, 0x3000, 0x1000);
}

static void mig_error(void)
{
	memory_object_data_error(CTL, 0x3000, 0x1000, KERN_MEMORY_ERROR);
}

static void mig_ready(void)
{
	memory_object_ready(CTL, TRUE, MEMORY_OBJECT_COPY_DELAY);
}

static void mig_change_null(void)
{
	memory_object_change_attributes(CTL, FALSE, MEMORY_OBJECT_COPY_NONE,
					MACH_PORT_NULL);
}

static void mig_change_reply(void)
{
	memory_object_change_attributes(CTL, TRUE, MEMORY_OBJECT_COPY_DELAY,
					REPLY);
}

static void mig_get_attributes(void)
{
	boolean_t ready, cache;
	memory_object_copy_strategy_t strategy;

	memory_object_get_attributes(CTL, &ready, &cache, &strategy);
}

static void mig_destroy(void)
{
	memory_object_destroy(CTL, KERN_SUCCESS);
}

static void mig_data_request(void)
{
	memory_object_data_request(OBJ, CTL, 0x4000, 0x1000, VM_PROT_READ);
}

static void mig_data_unlock(void)
{
	memory_object_data_unlock(OBJ, CTL, 0x3000, 0x1000,
				  VM_PROT_READ | VM_PROT_WRITE);
}

static void mig_lock_completed(void)
{
	memory_object_lock_completed(REPLY, MACH_MSG_TYPE_MOVE_SEND_ONCE, CTL,
				     0x3000, 0x1000);
}

static void mig_data_return(void)
{
	memory_object_data_return(OBJ, CTL, 0x3000, FAKE_OOL, 0x1000, TRUE,
				  FALSE);
}

static const struct {
	const char *send;	/* the rule's send= */
	void (*mig)(void);
	uint32_t dest;		/* the destination the proxy names */
} cases[] = {
	{ "memory_object_lock_request(ctl=$ctl, offset=0, size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE, lock_value=VM_PROT_NONE, reply_to=0)",
	  mig_lock_request_null, CTL },
	{ "memory_object_lock_request(ctl=$ctl, offset=$offset, size=$length, should_return=MEMORY_OBJECT_RETURN_ALL, should_flush=FALSE, lock_value=VM_PROT_WRITE, reply_to=1)",
	  mig_lock_request_reply, CTL },
	{ "memory_object_data_supply(ctl=$ctl, offset=$offset, data=0 [4096 bytes, out-of-line, dealloc], lock_value=VM_PROT_NONE, precious=FALSE, reply_to=0)",
	  mig_supply_null, CTL },
	{ "memory_object_data_supply(ctl=$ctl, offset=$offset, data=0 [4096 bytes, out-of-line], lock_value=VM_PROT_WRITE, precious=TRUE, reply_to=1)",
	  mig_supply_reply, CTL },
	{ "memory_object_data_unavailable(ctl=$ctl, offset=$offset, size=$length)",
	  mig_unavailable, CTL },
	{ "memory_object_data_error(ctl=$ctl, offset=$offset, size=$length, error_value=KERN_MEMORY_ERROR)",
	  mig_error, CTL },
	{ "memory_object_ready(ctl=$ctl, may_cache=TRUE, copy_strategy=MEMORY_OBJECT_COPY_DELAY)",
	  mig_ready, CTL },
	{ "memory_object_change_attributes(ctl=$ctl, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_NONE, reply_to=0)",
	  mig_change_null, CTL },
	{ "memory_object_change_attributes(ctl=$ctl, may_cache=TRUE, copy_strategy=MEMORY_OBJECT_COPY_DELAY, reply_to=1)",
	  mig_change_reply, CTL },
	{ "memory_object_get_attributes(ctl=$ctl, reply=1)", mig_get_attributes, CTL },
	{ "memory_object_destroy(ctl=$ctl, reason=KERN_SUCCESS)", mig_destroy, CTL },
	{ "memory_object_data_request(obj=$obj, ctl=$ctl, offset=0x4000, length=0x1000, desired_access=VM_PROT_READ)",
	  mig_data_request, OBJ },
	{ "memory_object_data_unlock(obj=$obj, ctl=$ctl, offset=$offset, length=$length, desired_access=VM_PROT_READ|VM_PROT_WRITE)",
	  mig_data_unlock, OBJ },
	{ "memory_object_lock_completed(obj=1, ctl=$ctl, offset=$offset, length=$length)",
	  mig_lock_completed, REPLY },
	{ "memory_object_data_return(obj=$obj, ctl=$ctl, offset=$offset, data=0 [4096 bytes, out-of-line], dirty=TRUE, kernel_copy=FALSE)",
	  mig_data_return, OBJ },
};

int main(void)
{
	static const char trigger_text[] =
		"memory_object_data_request(obj=5, ctl=7, offset=0x3000, length=0x1000, desired_access=VM_PROT_READ)";
	struct strbuf tb = STRBUF_INIT, out = STRBUF_INIT;
	struct mo_enc e;
	struct mo_pmsg *trigger;
	char err[300];
	int failures = 0;

	if (mo_parse_call(trigger_text, MO_ABI_X86_64, &e, err, sizeof(err)) < 0 ||
	    mo_encode(MO_ABI_X86_64, &e, &tb, err, sizeof(err)) < 0) {
		fprintf(stderr, "inject-mig: trigger: %s\n", err);
		return 2;
	}
	trigger = mo_pmsg_new(MO_K2M, 0, 0, 0, 0, tb.buf, tb.len,
			      MO_ABI_X86_64, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mo_rules rs = { 0 };
		char rule[512];
		struct mo_pmsg *m = NULL;
		struct mo_inject_names names = {
			.dest = cases[i].dest, .control = CTL,
			.reply_port = reply_port, .ool = ool,
		};

		snprintf(rule, sizeof(rule), "inject=data_request:send=%s",
			 cases[i].send);
		if (mo_rules_parse(&rs, rule, err, sizeof(err)) != 1 ||
		    !(m = mo_inject_build(&rs.r[0], trigger, err, sizeof(err))) ||
		    mo_inject_prepare(m, &names, &out, err, sizeof(err)) < 0) {
			printf("not made: %s: %s\n", cases[i].send, err);
			failures++;
		} else {
			rec_len = 0;
			cases[i].mig();
			if (out.len != rec_len || memcmp(out.buf, rec, rec_len)) {
				printf("differs from MIG's stub: %s\n", cases[i].send);
				for (size_t k = 0; k < rec_len || k < out.len; k += 4) {
					uint32_t a = 0, b = 0;

					if (k + 4 <= out.len)
						memcpy(&a, out.buf + k, 4);
					if (k + 4 <= rec_len)
						memcpy(&b, rec + k, 4);
					if (a != b)
						printf("  byte %zu: motrace %08x, MIG %08x\n",
						       k, a, b);
				}
				failures++;
			} else {
				printf("same as MIG's stub: %s\n", cases[i].send);
			}
		}
		mo_pmsg_free(m);
		mo_rules_release(&rs);
	}
	mo_pmsg_free(trigger);
	strbuf_release(&tb);
	strbuf_release(&out);
	printf("%zu calls, %d differ\n", sizeof(cases) / sizeof(cases[0]),
	       failures);
	return failures ? 1 : 0;
}
