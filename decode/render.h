/*
 * decode/render.h: a decoded message as one line of text or of JSON.
 */
#ifndef MO_RENDER_H
#define MO_RENDER_H

#include "decode/decode.h"
#include "util/strbuf.h"

struct mo_render_opts {
	uint64_t page_size;	/* for the [page N] of offsets; 0: 4096 */
	int hide_addresses;	/* out-of-line addresses as "*" (deterministic) */
};

/*
 * memory_object_data_unlock(obj=6, ctl=8, offset=0x0 [page 0],
 * length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE)
 * followed by " [what is wrong]" when the message is malformed. No newline.
 */
void mo_render_text(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o);

/* One JSON object with every header field and argument. No newline. */
void mo_render_json(struct strbuf *sb, const uint8_t *buf,
		    const struct mo_decoded *d, const struct mo_render_opts *o);

/* The name a message is shown under: the routine, or msg_ID if unknown. */
void mo_render_name(struct strbuf *sb, const struct mo_decoded *d);

#endif
