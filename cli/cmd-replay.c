/*
 * cli/cmd-replay.c: motrace replay: a recording played against a live
 * pager (motrace plays the kernels) or a live kernel (motrace plays the
 * manager), comparing what the live side sends with what was recorded.
 *
 *   motrace replay [OPTIONS] FILE --to ADDR [--to ADDR]...
 *   motrace replay [OPTIONS] FILE --listen ADDR [--listen ADDR]...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "tracer/replay.h"

static const char replay_usage[] =
	"[OPTIONS] FILE --to ADDR... | [OPTIONS] FILE --listen ADDR...";

static void replay_help(FILE *out)
{
	fprintf(out,
		"usage: motrace replay %s\n"
		"\n"
		"Play a recording (motrace -w FILE) against a live peer and compare what it\n"
		"sends with what was recorded: call, offsets, lengths, lock values, flags,\n"
		"the data's bytes (port names aside).\n"
		"\n"
		"  --to ADDR              play the recorded kernels against the pager at ADDR\n"
		"                         (one --to per recorded object, in their order)\n"
		"  --listen ADDR          play the recorded manager: serve the object at ADDR\n"
		"                         to kernels running the same workload\n"
		"  --speed N              keep the recorded pace (1), or N times it; the\n"
		"                         default is as fast as the peer answers\n"
		"  --timeout SECS         how long a recorded message may take to come (5)\n"
		"  --secret FILE          shared secret for tcp: addresses\n"
		"  -v, --verbose          show every message sent and received\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 when the live side did as recorded ('0 divergences'), 1 at\n"
		"the first divergence (shown with the messages before it: '-' recorded,\n"
		"'+' live), 2 on a usage error or when the replay cannot be done.\n",
		replay_usage);
}

enum { OPT_TO = 0x3000, OPT_LISTEN, OPT_SPEED, OPT_TIMEOUT, OPT_SECRET };

static int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *to[16], *listen[16];
	unsigned nto = 0, nlisten = 0;
	struct mo_replay_opts o = { .timeout_ns = 5000000000ULL, .out = stdout };
	struct mo_playback *pb;
	char err[400], *end;
	double v;
	int c, rc;

	opterr = 0;
	optind = 0;	/* glibc: start afresh; options may follow FILE */
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TO:
		case OPT_LISTEN:
			if ((c == OPT_TO ? nto : nlisten) == 16) {
				fprintf(stderr, "motrace replay: at most 16 addresses\n");
				return 2;
			}
			if (c == OPT_TO)
				to[nto++] = optarg;
			else
				listen[nlisten++] = optarg;
			break;
		case OPT_SPEED:
		case OPT_TIMEOUT:
			v = strtod(optarg, &end);
			if (*end || end == optarg || v < 0 || (c == OPT_TIMEOUT && v == 0)) {
				fprintf(stderr, "motrace replay: --%s: '%s' is not a %s\n",
					c == OPT_SPEED ? "speed" : "timeout", optarg,
					c == OPT_SPEED ? "number" : "number of seconds");
				return 2;
			}
			if (c == OPT_SPEED)
				o.speed = v;
			else
				o.timeout_ns = (uint64_t)(v * 1e9);
			break;
		case OPT_SECRET:
			o.secret_file = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			replay_help(stdout);
			return 0;
		default:
			return cli_bad_option("motrace replay", c, argv);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "motrace replay: give one recording (see motrace replay --help)\n");
		return 2;
	}
	if (!nto == !nlisten) {
		fprintf(stderr, "motrace replay: give --to ADDR (play the kernels) or --listen ADDR (play the manager)\n");
		return 2;
	}
	o.side = nto ? MO_REPLAY_KERNELS : MO_REPLAY_MANAGER;
	o.addrs = nto ? to : listen;
	o.naddrs = nto ? nto : nlisten;
	pb = mo_playback_open(argv[optind], err, sizeof(err));
	if (!pb) {
		fprintf(stderr, "motrace replay: %s\n", err);
		return 2;
	}
	rc = mo_replay_run(pb, &o, err, sizeof(err));
	mo_playback_close(pb);
	if (rc < 0) {
		fprintf(stderr, "motrace replay: %s\n", err);
		return 2;
	}
	return rc;
}

const struct cmd_entry cmd_replay_entry = {
	.name = "replay",
	.usage = replay_usage,
	.summary = "play a recording against a live pager or kernel, compare",
	.exec = cmd_replay,
};
