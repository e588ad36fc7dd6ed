/*
 * tests/fuzz/fuzz-recording.c: libFuzzer target for the reader of
 * recordings (tracer/record.c): the input is a whole file; every record
 * it yields is decoded as motrace -r would.
 */
#include <stdio.h>

#include "decode/decode.h"
#include "tracer/record.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct mo_playback *pb;
	struct mo_record rec;
	struct mo_decoded d;
	char err[400];

	if (!f)
		return 0;
	pb = mo_playback_fopen(f, "fuzz", err, sizeof(err));
	if (!pb)
		return 0;
	while (mo_playback_next(pb, &rec, err, sizeof(err)) == 1) {
		if (rec.type != MO_REC_MESSAGE)
			continue;
		mo_decode(rec.msg, rec.len, (enum mo_abi)rec.abi, &d);
		for (unsigned i = 0; i < rec.nool; i++)
			if (rec.ool[i].data && rec.ool[i].size)
				(void)(volatile uint8_t)rec.ool[i].data[rec.ool[i].size - 1];
	}
	mo_playback_close(pb);
	return 0;
}
