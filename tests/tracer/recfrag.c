/*
 * tests/tracer/recfrag.c: a message larger than a pcap record, recorded
 * and read back.
 *
 *   recfrag FILE SIZE
 *
 * MIG's user stub makes a data_supply of SIZE out-of-line bytes (through a
 * mach_msg() that keeps the bytes instead of sending them); the recorder
 * writes it to FILE as a live message event, then a small note; the
 * reader gives back the same message, the same SIZE bytes and the note.
 * Prints "ok RECORDS" (how many records the message took) or what differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mach/message.h>
#include <mach/memory_object.h>

#include "mach.h"
#include "decode/decode.h"
#include "tracer/record.h"

static uint8_t sent[4096];
static size_t sent_len;

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_t notify)
{
	if (send_size > sizeof(sent))
		exit(2);
	memcpy(sent, msg, send_size);
	sent_len = send_size;
	return MACH_MSG_SUCCESS;
}

mach_port_t mig_get_reply_port(void) { return 11; }
void mig_dealloc_reply_port(mach_port_t port) { (void)port; }
void mig_put_reply_port(mach_port_t port) { (void)port; }

int main(int argc, char **argv)
{
	struct mo_rec_session s = { .version = "test", .command = "recfrag" };
	size_t size = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	uint8_t *data = malloc(size ? size : 1);
	struct mo_recorder *r;
	struct mo_playback *pb;
	struct mo_record rec;
	struct mo_decoded d;
	char err[300];
	unsigned first, last;

	if (argc != 3 || !data) {
		fprintf(stderr, "usage: recfrag FILE SIZE\n");
		return 2;
	}
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	memory_object_data_supply(7, 0x10000, (vm_offset_t)data, size, FALSE,
				  VM_PROT_NONE, FALSE, MACH_PORT_NULL);
	mo_decode(sent, sent_len, MO_ABI_X86_64, &d);
	if (d.status != MO_OK) {
		printf("MIG's message does not decode: %s\n", d.err);
		return 1;
	}
	r = mo_recorder_open(argv[1], &s, err, sizeof(err));
	if (!r) {
		printf("%s\n", err);
		return 1;
	}
	{
		struct mo_event ev = {
			.kind = MO_EV_FORWARDED, .dir = MO_M2K, .kernel = 3,
			.object = 1, .t = 5000000000ULL, .buf = sent,
			.len = sent_len, .d = &d, .ool_local = 1,
		};

		mo_recorder_event(r, &ev);
	}
	mo_recorder_note(r, 6000000000ULL, "after the big one");
	if (mo_recorder_close(r, err, sizeof(err)) < 0) {
		printf("close: %s\n", err);
		return 1;
	}
	pb = mo_playback_open(argv[1], err, sizeof(err));
	if (!pb) {
		printf("%s\n", err);
		return 1;
	}
	if (mo_playback_next(pb, &rec, err, sizeof(err)) != 1) {
		printf("%s\n", err);
		return 1;
	}
	first = rec.number;
	if (rec.type != MO_REC_MESSAGE || rec.len != sent_len ||
	    memcmp(rec.msg, sent, sent_len) || rec.kernel != 3 ||
	    rec.object != 1 || rec.dir != MO_M2K || rec.t != 5000000000ULL) {
		printf("the message came back different\n");
		return 1;
	}
	if (rec.nool != 1 || rec.ool[0].size != size || !rec.ool[0].data ||
	    memcmp(rec.ool[0].data, data, size)) {
		printf("the out-of-line bytes came back different\n");
		return 1;
	}
	if (mo_playback_next(pb, &rec, err, sizeof(err)) != 1 ||
	    rec.type != MO_REC_NOTE || strcmp(rec.text, "after the big one")) {
		printf("the note did not come back: %s\n", err);
		return 1;
	}
	last = rec.number - 1;
	if (mo_playback_next(pb, &rec, err, sizeof(err)) != 0) {
		printf("more than was written\n");
		return 1;
	}
	mo_playback_close(pb);
	printf("ok %u\n", last - first + 1);
	free(data);
	return 0;
}
