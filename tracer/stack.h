/*
 * tracer/stack.h: senders' stacks (motrace -k): the return addresses a
 * process on libmotrace-mach sends with each message, symbolized from
 * its binaries with elfutils' libdwfl (function, source file and line, as
 * strace -k shows them), printed under the log line, in --json and in
 * recordings.
 */
#ifndef MO_STACK_H
#define MO_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define MO_STACK_MAX 32

struct mo_frame {
	uint64_t pc;		/* a return address, in the sender's memory */
	const char *module;	/* the binary or library it is in, or NULL */
	const char *function;	/* or NULL */
	uint64_t offset;	/* from the function's start */
	const char *file;	/* the call's source file, or NULL */
	unsigned line;
};

struct mo_symbolizer;

struct mo_stack {
	uint32_t pid, tid;	/* the sender's */
	unsigned n;
	struct mo_frame f[MO_STACK_MAX];	/* innermost first */
	/* Symbolized when first shown: until then only the pcs are set. */
	struct mo_symbolizer *sy;
};

/* What symbolizes: a cache of each sender process's modules and frames. */
struct mo_symbolizer *mo_symbolizer_new(void);
void mo_symbolizer_free(struct mo_symbolizer *sy);

/*
 * A stack of N return addresses PCS of process PID's thread TID, each
 * frame to be symbolized from PID's binaries as its /proc shows them
 * (cached; a process we cannot read gives its addresses only) when it is
 * first shown or recorded, so that a stack nobody looks at (-c) costs no
 * look-up. Frames inside libmotrace-mach's own send path are left out
 * then. Returns it allocated (free() it); its strings live as long as SY.
 */
struct mo_stack *mo_stack_new(struct mo_symbolizer *sy, uint32_t pid,
			      uint32_t tid, const uint64_t *pcs, unsigned n);

/*
 * The frames as lines under a log line, strace -k's way:
 *  " > MODULE(FUNCTION+0xOFF) FILE:LINE [0xPC]"; without addresses
 * (HIDE_ADDRESSES, for deterministic output) " > MODULE(FUNCTION) FILE:LINE".
 */
void mo_stack_text(struct strbuf *sb, const struct mo_stack *st,
		   int hide_addresses);
/* The same as a JSON object: {"pid":..,"tid":..,"frames":[{...},...]}. */
void mo_stack_json(struct strbuf *sb, const struct mo_stack *st,
		   int hide_addresses);

/* A recording's stack block (doc/recording.md, "The sender's stack"). */
void mo_stack_encode(struct strbuf *sb, const struct mo_stack *st);
/* Room for the names of one stack read back (each name at most 255 bytes). */
#define MO_STACK_NAMES (MO_STACK_MAX * 3 * 256)
/*
 * Reads a stack block of at most N bytes at P into ST, its names copied
 * into NAMES (MO_STACK_NAMES bytes). Returns the bytes it took, or -1
 * with ERR naming the byte offset in the block.
 */
long mo_stack_decode(const uint8_t *p, size_t n, struct mo_stack *st,
		     char *names, char *err, size_t errlen);

#endif
