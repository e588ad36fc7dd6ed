/* cli/recording.c: -w and -r for the commands that show traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "cli/common.h"
#include "cli/recording.h"
#include "decode/render.h"
#include "plugins/loader.h"

int cli_record_start(struct trace_cli *tc, struct mo_trace *tr,
		     int argc, char **argv, const char *cmd,
		     struct mo_recorder **out)
{
	struct mo_rec_session s = { .realtime_base_ns = tc->o.realtime_base_ns };
	size_t n = 0;
	char err[300];

	*out = NULL;
	if (!tc->writefile)
		return 0;
	if (!strcmp(tc->writefile, "-") && tc->o.out == stdout &&
	    !tc->o.quiet) {
		fprintf(stderr, "%s: -w - records to standard output, where the log goes too: give -o FILE (or -c, --quiet)\n",
			cmd);
		return -1;
	}
	snprintf(s.version, sizeof(s.version), "%s", MOTRACE_VERSION);
	for (int i = 0; i < argc && n + 2 < sizeof(s.command); i++) {
		int w = snprintf(s.command + n, sizeof(s.command) - n, "%s%s",
				 i ? " " : "", argv[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= sizeof(s.command))
		s.command[sizeof(s.command) - 1] = '\0';
	*out = mo_recorder_open(tc->writefile, &s, err, sizeof(err));
	if (!*out) {
		fprintf(stderr, "%s: -w: %s\n", cmd, err);
		return -1;
	}
	mo_recorder_attach(*out, tr);
	return 0;
}

int cli_record_finish(struct mo_recorder *r, const struct trace_cli *tc,
		      const char *cmd)
{
	char err[200];

	if (!r)
		return 0;
	if (mo_recorder_close(r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: writing '%s' failed (%s): the recording is incomplete\n",
			cmd, tc->writefile, err);
		return -1;
	}
	return 0;
}

/*
 * Before record REC (message EV) reaches the trace: a breakpoint that
 * selects it, or a step, stops the recording there, and the commands run
 * (typed, with B->idle, or the script's) until continue or step; a
 * command that waits for traffic (expect, wait) lets the recording go
 * on, as the end of a script does. Returns BATCH_GOING, or BATCH_FAILED
 * or BATCH_QUIT from a command.
 */
static int debug_stop(struct batch *b, const struct mo_event *ev,
		      const struct mo_record *rec)
{
	struct mo_render_opts ro = { 0 };
	struct strbuf sb = STRBUF_INIT;
	unsigned point = dbg_points_judge(b, ev);
	int r = BATCH_GOING;

	if (!point && !b->rec_step)
		return BATCH_GOING;
	b->rec_step = 0;
	b->rec_stopped = 1;
	b->rec_number = rec->number;
	mo_pmsg_free(b->rec_msg);
	b->rec_msg = mo_pmsg_new(ev->dir, ev->kernel, ev->object, 0, ev->t,
				 ev->buf, ev->len, (enum mo_abi)rec->abi, ev->d);
	ro.hide_addresses = mo_trace_options(b->trace)->no_time;
	strbuf_addf(&sb, "k%u%c ", ev->kernel, ev->dir == MO_K2M ? '>' : '<');
	mo_render_text(&sb, ev->buf, ev->d, &ro);
	batch_stopped(b, point, rec->number, ev->kernel, sb.buf);
	free(b->rec_text);
	b->rec_text = strdup(sb.buf);
	strbuf_release(&sb);
	for (;;) {
		r = batch_step(b, rec->t);
		if (r == BATCH_FAILED || r == BATCH_QUIT || !b->rec_stopped)
			break;
		if (b->waiting || (r == BATCH_DONE && !b->idle)) {
			b->rec_stopped = 0;
			break;
		}
		if (r == BATCH_DONE && b->idle(b->idle_ctx)) {
			r = BATCH_QUIT;
			break;
		}
	}
	b->rec_stopped = 0;
	mo_pmsg_free(b->rec_msg);
	b->rec_msg = NULL;
	free(b->rec_text);
	b->rec_text = NULL;
	return r == BATCH_FAILED || r == BATCH_QUIT ? r : BATCH_GOING;
}

/*
 * Hands every event and note of PB to TR, as the live session did.
 * Returns 0, or -1 with ERR after all that came before the bad record;
 * *MALFORMED counts the messages that did not decode (shown as the
 * decoder shows them), BAD names the first.
 */
static int feed(struct mo_playback *pb, struct mo_trace *tr,
		unsigned *malformed, char *bad, size_t badlen, char *err,
		size_t errlen, struct batch *b, int *bstatus,
		const struct trace_cli *tc)
{
	unsigned long long nmsg = 0;

	struct mo_record rec;
	struct mo_decoded d;
	uint64_t last = 0;
	int r, going = b != NULL, started = 0;

	if (b) {
		b->trace = tr;
		b->replaying = 1;
		/* At the prompt the recording waits before its first message. */
		if (b->idle) {
			b->rec_step = 1;
			fprintf(b->out, "reading %s: 'break' to choose where to stop, 'continue' or 'step' to go on\n",
				mo_playback_name(pb));
		}
	}

	while ((r = mo_playback_next(pb, &rec, err, errlen)) == 1) {
		/* --stop-after N: as if the recording ended after N messages. */
		if (tc->have_stop_after && rec.type == MO_REC_MESSAGE &&
		    nmsg++ == tc->stop_after) {
			r = 0;
			break;
		}
		/* The commands before the first event run at its time. */
		if (going && !started++ &&
		    (r = batch_step(b, rec.t)) != BATCH_GOING &&
		    !(r == BATCH_DONE && b->idle)) {
			going = 0;
			if (r == BATCH_FAILED || r == BATCH_QUIT) {
				*bstatus = b->status ? b->status : r == BATCH_FAILED;
				return 0;
			}
		}
		if (rec.type == MO_REC_NOTE) {
			mo_trace_note(tr, rec.t, "%s", rec.text);
		} else if (rec.type == MO_REC_MESSAGE) {
			struct mo_event ev = {
				.kind = rec.kind, .dir = rec.dir,
				.kernel = rec.kernel, .object = rec.object,
				.t = rec.t, .delay_ns = rec.delay_ns,
				.arrived = rec.arrived,
				.buf = rec.msg, .len = rec.len, .d = &d,
				.ool = rec.ool, .nool = rec.nool,
				.stack = rec.stack,
			};

			if (mo_decode(rec.msg, rec.len, (enum mo_abi)rec.abi,
				      &d) < 0 && !(*malformed)++)
				snprintf(bad, badlen,
					 "%s: record %u at byte %llu: message: %s",
					 mo_playback_name(pb), rec.number,
					 (unsigned long long)rec.offset + 16 +
					 MO_REC_HDRLEN, d.err);
			if (b && (going || b->idle || b->points.n) &&
			    (r = debug_stop(b, &ev, &rec)) != BATCH_GOING) {
				*bstatus = b->status ? b->status : r == BATCH_FAILED;
				return 0;
			}
			mo_trace_event(tr, &ev);
			/* An expect matched it while stopped: not twice. */
			if (b && b->rec_matched) {
				b->next_seen = b->nseen;
				b->rec_matched = 0;
			}
		}
		last = rec.t;
		if (going && (r = batch_step(b, rec.t)) != BATCH_GOING &&
		    !(r == BATCH_DONE && b->idle)) {
			going = 0;
			if (r == BATCH_FAILED || r == BATCH_QUIT) {
				*bstatus = b->status ? b->status : r == BATCH_FAILED;
				return 0;
			}
		}
	}
	if (r >= 0 && b && b->idle) {
		/* At the prompt: the end is a place to look around too. */
		mo_trace_flush(tr);
		fprintf(b->out, "the recording ended: 'pages', 'list', 'info breakpoints' look at it, 'quit' ends the session\n");
		fflush(b->out);
		b->ended = 1;
		for (;;) {
			int q = batch_step(b, last);

			if (q == BATCH_QUIT || b->idle(b->idle_ctx))
				break;
		}
		*bstatus = b->status;
		return 0;
	}
	if (r >= 0 && going && batch_end(b, last) == BATCH_FAILED)
		*bstatus = b->status ? b->status : 1;
	return r < 0 ? -1 : 0;
}

int cli_read_recording(struct trace_cli *tc, const char *path, int argc,
		       char **argv, const char *cmd, unsigned *ndiags,
		       struct batch *b)
{
	int bstatus = 0;
	struct mo_playback *pb;
	struct mo_recorder *rec = NULL;
	struct mo_plugins *plugins;
	struct mo_trace *tr;
	char err[400], bad[400];
	unsigned malformed = 0;
	int status = 0;

	*ndiags = 0;
	pb = mo_playback_open(path, err, sizeof(err));
	if (!pb) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 2;
	}
	/* The recorded clock: -t shows the recorded time of day. */
	tc->o.realtime_base_ns = mo_playback_session(pb)->realtime_base_ns;
	tr = mo_trace_new(&tc->o);
	plugins = trace_cli_plugins(tc, tr, cmd);
	if (!plugins || cli_record_start(tc, tr, argc, argv, cmd, &rec) < 0) {
		mo_plugins_free(plugins);
		mo_trace_free(tr);
		mo_playback_close(pb);
		return 2;
	}
	if (b)
		b->plugins = plugins;
	if (feed(pb, tr, &malformed, bad, sizeof(bad), err, sizeof(err), b,
		 &bstatus, tc) < 0) {
		mo_trace_flush(tr);
		fprintf(stderr, "%s: %s\n", cmd, err);
		status = 1;
	}
	if (malformed) {
		mo_trace_flush(tr);
		fprintf(stderr, "%s: %s", cmd, bad);
		if (malformed > 1)
			fprintf(stderr, " (and %u more malformed)", malformed - 1);
		fputc('\n', stderr);
		status = 1;
	}
	mo_plugins_finish(plugins, tc->o.out);
	mo_trace_finish(tr);
	*ndiags = mo_trace_ndiags(tr);
	if (cli_record_finish(rec, tc, cmd) < 0)
		status = 1;
	mo_plugins_free(plugins);
	mo_trace_free(tr);
	mo_playback_close(pb);
	return status ? status : bstatus;
}
