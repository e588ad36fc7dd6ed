/*
 * tracer/replay.h: a recording played against a live peer.
 *
 * Against a pager (MO_REPLAY_KERNELS), motrace plays the recorded kernels:
 * it sends each message they sent, in the recorded order, once every
 * message the pager sent before it in the recording has come, and
 * compares each message the pager sends with the recorded one (call,
 * every argument but port names, out-of-line bytes). Against a kernel
 * (MO_REPLAY_MANAGER), it plays the recorded manager the same way and
 * compares what the kernel sends.
 */
#ifndef MO_REPLAY_H
#define MO_REPLAY_H

#include <stdio.h>

#include "tracer/record.h"

enum mo_replay_side {
	MO_REPLAY_KERNELS,	/* play the kernels; the pager is live */
	MO_REPLAY_MANAGER,	/* play the manager; the kernels are live */
};

struct mo_replay_opts {
	enum mo_replay_side side;
	const char *const *addrs;	/* --to (one per object) or --listen */
	unsigned naddrs;
	const char *secret_file;
	double speed;		/* 0: as fast as the peer answers; 1: recorded pace */
	uint64_t timeout_ns;	/* how long an expected message may take */
	int verbose;		/* each message sent and received, on OUT */
	FILE *out;
};

/*
 * Plays PB. Returns 0 when the live peer did as recorded, 1 at the first
 * divergence (shown on OUT with the messages around it), -1 when the
 * replay could not be done (ERR says why).
 */
int mo_replay_run(struct mo_playback *pb, const struct mo_replay_opts *o,
		  char *err, size_t errlen);

#endif
