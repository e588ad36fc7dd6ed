/*
 * tracer/record.h: recordings of a session, and reading them back.
 *
 * A recording is a pcap file (libpcap, LINKTYPE_USER0) with one record per
 * event of the trace: first one that describes the session, then one per
 * message event (forwarded, injected, dropped, delayed, held, released,
 * consumed) with the message and its out-of-line data, and one per note.
 * Every record starts with motrace's own header. A message too large for
 * one pcap record goes on in continuation records. The layout is in
 * doc/recording.md.
 */
#ifndef MO_RECORD_H
#define MO_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "tracer/stack.h"
#include "tracer/trace.h"	/* struct mo_event, struct mo_region */

#define MO_REC_LINKTYPE 147	/* LINKTYPE_USER0 */
#define MO_REC_SNAPLEN 262144	/* the most libpcap's readers take */
#define MO_REC_HDRLEN 64
#define MO_REC_VERSION 1
#define MO_REC_FLAG_MORE 1u	/* header flags: the payload goes on in the next record */
#define MO_REC_FLAG_STACK 2u	/* header flags: the sender's stack ends the payload (-k) */
#define MO_REC_OOL_KEPT 1u	/* region flags: its bytes follow the table */
/* The most a message with its out-of-line data may take. */
#define MO_REC_MAX_PAYLOAD (64u << 20)

enum mo_rec_type {
	MO_REC_SESSION = 0,
	MO_REC_MESSAGE = 1,
	MO_REC_NOTE = 2,
};

/* What the session record says. */
struct mo_rec_session {
	char version[32];
	char command[1024];
	uint64_t realtime_base_ns;	/* wall clock minus monotonic clock */
};

struct mo_recorder;

/*
 * Opens PATH for writing a recording of the session S. Returns the
 * recorder, or NULL with ERR.
 */
struct mo_recorder *mo_recorder_open(const char *path,
				     const struct mo_rec_session *s,
				     char *err, size_t errlen);
/* Makes R a subscriber of TR's events and notes. */
void mo_recorder_attach(struct mo_recorder *r, struct mo_trace *tr);
void mo_recorder_event(struct mo_recorder *r, const struct mo_event *ev);
void mo_recorder_note(struct mo_recorder *r, uint64_t t, const char *text);
/*
 * Writes out and closes; frees R. Returns 0, or -1 with ERR when any
 * write failed (the recording is incomplete).
 */
int mo_recorder_close(struct mo_recorder *r, char *err, size_t errlen);

/* One record read back; its pointers are good until the next read. */
struct mo_record {
	unsigned number;	/* the record's number in the file, from 1 */
	uint64_t offset;	/* the byte offset of its pcap header */
	unsigned type;		/* enum mo_rec_type */
	unsigned kind;		/* enum mo_event_kind */
	enum mo_dir dir;
	unsigned abi;		/* enum mo_abi */
	unsigned kernel, object;
	uint32_t seq;
	uint64_t t;		/* monotonic nanoseconds */
	uint64_t delay_ns;
	uint64_t arrived;	/* when the message reached motrace */
	const uint8_t *msg;	/* the message (MO_REC_MESSAGE) */
	size_t len;
	unsigned nool;
	struct mo_region ool[64];
	const char *text;	/* a note's or the session's text, NUL-ended */
	unsigned flags;		/* the header's: MO_REC_FLAG_STACK */
	const struct mo_stack *stack;	/* the sender's stack, or NULL */
};

struct mo_playback;

/*
 * Opens the recording PATH ("-": standard input) and reads its session
 * record. Returns it, or NULL with ERR naming the file and the problem.
 */
struct mo_playback *mo_playback_open(const char *path, char *err,
				     size_t errlen);
/* The same from an open file F (the playback closes it), named NAME. */
struct mo_playback *mo_playback_fopen(FILE *f, const char *name, char *err,
				      size_t errlen);
const struct mo_rec_session *mo_playback_session(const struct mo_playback *pb);
/* The name it was opened by. */
const char *mo_playback_name(const struct mo_playback *pb);
/*
 * Reads the next event. Returns 1 with REC filled, 0 at the end, -1 with
 * ERR naming the record's number and byte offset.
 */
int mo_playback_next(struct mo_playback *pb, struct mo_record *rec,
		     char *err, size_t errlen);
void mo_playback_close(struct mo_playback *pb);
/*
 * Reads on from the record at byte OFFSET (a record's offset, as
 * mo_playback_next gave it), NUMBER records having come before it; for
 * moving back and forth over a recording. 0, or -1 (not a file).
 */
int mo_playback_seek(struct mo_playback *pb, uint64_t offset, unsigned number);


/* Does the file at PATH start as a pcap file does? */
int mo_is_recording(const char *path);

#endif
