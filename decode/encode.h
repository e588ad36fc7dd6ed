/*
 * decode/encode.h: building messages from the schema, and from the text
 * form the decoder prints.
 *
 * The layout comes from the generated schema (MIG's descriptors), so an
 * encoded message is what MIG's stubs would send; the decoder's text form
 * reads back into the same bytes, which makes it the language of scenario
 * files and of injected messages.
 */
#ifndef MO_ENCODE_H
#define MO_ENCODE_H

#include "decode/decode.h"
#include "util/strbuf.h"

#define MO_ENC_MAX_ELEMS 16

/* The value of one argument. */
struct mo_enc_value {
	int set;
	uint32_t count;			/* elements given (arrays) */
	uint64_t v[MO_ENC_MAX_ELEMS];	/* inline elements, or the OOL address */
	uint64_t ool_bytes;		/* out-of-line: bytes of data */
	int dealloc;			/* out-of-line: msgt_deallocate */
	uint8_t type;			/* a polymorphic right's type, or 0 */
	int payload;			/* "[protected payload]" followed it */
};

struct mo_enc {
	const struct mo_msg_schema *schema;
	int sent_view;		/* header as a sender writes it */
	uint32_t dest, reply;
	/* Received at a port with a protected payload: PAYLOAD in its stead. */
	int dest_payload;
	uint64_t payload;
	struct mo_enc_value args[MO_MAX_ITEMS];
};

/*
 * Appends the message E describes to OUT. Returns 0, or -1 with ERR naming
 * the argument that is missing or does not fit.
 */
int mo_encode(enum mo_abi abi, const struct mo_enc *e, struct strbuf *out,
	      char *err, size_t errlen);

/*
 * Parses the text form, e.g.
 *   memory_object_data_unlock(obj=6, ctl=8, offset=0x3000, length=0x1000,
 *                             desired_access=VM_PROT_READ|VM_PROT_WRITE)
 * into E. Names may be the .defs names or the short ones; constants may be
 * symbolic; "[page N]", "[N bytes, out-of-line]" and a destination's
 * "[protected payload]" read as the decoder writes them. Returns 0, or -1
 * with ERR.
 */
int mo_parse_call(const char *text, enum mo_abi abi, struct mo_enc *e,
		  char *err, size_t errlen);

/* The schema of routine NAME ("NAME_reply" for its reply), or NULL. */
const struct mo_msg_schema *mo_schema_by_name(enum mo_abi abi,
					      const char *name);

#endif
