/*
 * decode/schema.h: what a message of a known id carries, per ABI profile.
 *
 * The tables are generated at build time by decode/gen-schema.awk from the
 * MIG output of GNU Mach's .defs files (see mig/); nothing here describes a
 * layout by hand.
 */
#ifndef MO_SCHEMA_H
#define MO_SCHEMA_H

#include <stdint.h>

/* A disposition or type the sender picks at run time (MIG "polymorphic"). */
#define MO_POLY 0xff

/* How an argument is rendered; chosen from its C type (decode/ctypes.in). */
enum mo_sem {
	MO_SEM_PLAIN,
	MO_SEM_OFFSET,		/* hex, with the page number */
	MO_SEM_ADDRESS,		/* hex */
	MO_SEM_SIZE,		/* hex */
	MO_SEM_VM_PROT,		/* VM_PROT_* flags */
	MO_SEM_RETURN,		/* MEMORY_OBJECT_RETURN_* */
	MO_SEM_COPY_STRATEGY,	/* MEMORY_OBJECT_COPY_* */
	MO_SEM_BOOL,
	MO_SEM_KERN_RETURN,	/* KERN_* and MIG_* */
};

/*
 * The field of struct mo_call (decode/decode.h) an argument fills, chosen
 * from its .defs name (decode/callfields.in).
 */
enum mo_field {
	MO_FIELD_NONE,
	MO_FIELD_OBJECT,
	MO_FIELD_CONTROL,
	MO_FIELD_OFFSET,
	MO_FIELD_LENGTH,
	MO_FIELD_ACCESS,
	MO_FIELD_LOCK,
	MO_FIELD_RETURN,
	MO_FIELD_FLUSH,
	MO_FIELD_REPLY,
	MO_FIELD_PRECIOUS,
	MO_FIELD_DIRTY,
	MO_FIELD_KERNEL_COPY,
	MO_FIELD_ERROR,
	MO_FIELD_DATA,
	MO_FIELD_PAGE_SIZE,
	MO_FIELD_NAME,
	MO_FIELD_MAY_CACHE,
	MO_FIELD_COPY_STRATEGY,
	MO_FIELD_ERROR_OFFSET,
};

enum mo_kind {
	MO_KIND_SIMPLE,		/* simpleroutine: no reply */
	MO_KIND_ROUTINE,	/* routine request: a reply follows */
	MO_KIND_REPLY,		/* a routine's reply (id + 100) */
};

/* One typed field of a message body, as MIG lays it out for the sender. */
struct mo_arg_schema {
	const char *name;	/* the .defs argument name */
	const char *alias;	/* short name for the text form, or NULL */
	const char *ctype;	/* the C type in MIG's prototype */
	uint8_t sem;		/* enum mo_sem */
	uint8_t msgt_name;	/* sender's MACH_MSG_TYPE_*; 0xff: polymorphic */
	uint16_t size;		/* bits per element */
	uint32_t number;	/* elements (the maximum when variable) */
	uint8_t is_inline;
	uint8_t longform;
	uint8_t variable;	/* the count travels in the descriptor */
	uint8_t out;		/* an out argument of a routine */
	/*
	 * What the JSON form writes before the item's type,
	 * {"name":"...","ctype":"...","type":, and between the type and the
	 * item's offset when the item has the size, count, inline and long
	 * form given here, ,"size":...,"offset": (generated; decode/render.c).
	 * Both are NUL-padded to a multiple of 16 bytes.
	 */
	const char *json;
	uint16_t json_len;
	const char *json_shape;
	uint16_t json_shape_len;
	uint8_t field;		/* enum mo_field */
};

struct mo_msg_schema {
	int32_t id;
	const char *name;	/* the routine name */
	const char *subsystem;	/* the .defs file it comes from */
	uint8_t kind;		/* enum mo_kind */
	const char *dest;	/* name of the request port argument */
	const char *dest_alias;
	uint8_t dest_type;	/* sender's disposition of the destination */
	uint8_t reply_type;	/* sender's disposition of the reply port, or 0 */
	const char *reply;	/* name of the reply port argument, or NULL */
	uint32_t body;		/* bytes after the header in MIG's fixed layout, or 0 */
	uint32_t nargs;
	const struct mo_arg_schema *args;
	/*
	 * The JSON form's "name", "routine", "subsystem", "kind" and "known",
	 * up to the value of "msgh_bits" (generated), NUL-padded to a
	 * multiple of 16 bytes.
	 */
	const char *json;
	uint16_t json_len;
	uint8_t dest_field;	/* enum mo_field the destination port fills */
};

extern const struct mo_msg_schema mo_schema_x86_64[];
extern const unsigned mo_schema_x86_64_count;
extern const struct mo_msg_schema mo_schema_user32[];
extern const unsigned mo_schema_user32_count;
extern const struct mo_msg_schema mo_schema_i386[];
extern const unsigned mo_schema_i386_count;
extern const struct mo_msg_schema mo_schema_x86_64_2023[];
extern const unsigned mo_schema_x86_64_2023_count;

#endif
