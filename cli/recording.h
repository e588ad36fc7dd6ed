/*
 * cli/recording.h: -w FILE (record the session) and -r FILE (read a
 * recording instead of live traffic), for the commands that show traffic.
 */
#ifndef MO_CLI_RECORDING_H
#define MO_CLI_RECORDING_H

#include "cli/trace-opts.h"
#include "tracer/record.h"

/*
 * With -w, opens the recording and makes it a subscriber of TR; ARGV is
 * the command line it records. Returns 0 (*OUT may stay NULL), or -1
 * after a message naming CMD.
 */
int cli_record_start(struct trace_cli *tc, struct mo_trace *tr,
		     int argc, char **argv, const char *cmd,
		     struct mo_recorder **out);
/* Closes R (if any); 0, or -1 after a message saying the file is incomplete. */
int cli_record_finish(struct mo_recorder *r, const struct trace_cli *tc,
		      const char *cmd);
/*
 * Shows the recording PATH through the trace options of TC (the log,
 * -c, --pages, the checker) and, with -w, records it again. Returns the
 * exit status: 0, 1 when the recording is damaged (after showing all that
 * came before), 2 when it cannot be opened; *NDIAGS gets the checker's count.
 * With B (not NULL), its commands run between the recorded messages, the
 * recorded times as the clock; a failed command makes the status 1, or
 * what quit asks.
 */
struct batch;
int cli_read_recording(struct trace_cli *tc, const char *path, int argc,
		       char **argv, const char *cmd, unsigned *ndiags,
		       struct batch *b);

#endif
