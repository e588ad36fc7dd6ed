/*
 * bench/record-copy.c: record-copy IN OUT N: writes OUT, a recording of
 * the session recorded in IN played N times in a row (times shifted), so
 * that reading can be timed on many records of real traffic.
 */
#include <stdio.h>
#include <stdlib.h>

#include "decode/decode.h"
#include "tracer/record.h"

int main(int argc, char **argv)
{
	struct mo_rec_session s = { .version = "bench", .command = "record-copy" };
	struct mo_recorder *w;
	uint64_t shift = 0, last = 0;
	long n = argc == 4 ? atol(argv[3]) : 0;
	char err[400];

	if (n <= 0) {
		fprintf(stderr, "usage: record-copy IN OUT N\n");
		return 2;
	}
	w = mo_recorder_open(argv[2], &s, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "record-copy: %s\n", err);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct mo_playback *pb = mo_playback_open(argv[1], err, sizeof(err));
		struct mo_record rec;
		struct mo_decoded d;
		int r;

		if (!pb) {
			fprintf(stderr, "record-copy: %s\n", err);
			return 1;
		}
		while ((r = mo_playback_next(pb, &rec, err, sizeof(err))) == 1) {
			struct mo_event ev = {
				.kind = rec.kind, .dir = rec.dir,
				.kernel = rec.kernel, .object = rec.object,
				.t = rec.t + shift, .delay_ns = rec.delay_ns,
				.arrived = rec.arrived + shift,
				.buf = rec.msg, .len = rec.len, .d = &d,
				.ool = rec.ool, .nool = rec.nool,
			};

			if (rec.type != MO_REC_MESSAGE)
				continue;
			mo_decode(rec.msg, rec.len, (enum mo_abi)rec.abi, &d);
			mo_recorder_event(w, &ev);
			last = ev.t;
		}
		mo_playback_close(pb);
		if (r < 0) {
			fprintf(stderr, "record-copy: %s\n", err);
			return 1;
		}
		shift = last + 1000000;
	}
	if (mo_recorder_close(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "record-copy: %s\n", err);
		return 1;
	}
	return 0;
}
