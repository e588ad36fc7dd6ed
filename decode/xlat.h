/*
 * decode/xlat.h: symbolic names of constants, as tables generated from
 * decode/xlat/NAME.in (values from GNU Mach's headers).
 */
#ifndef MO_XLAT_H
#define MO_XLAT_H

#include <stdint.h>
#include <stddef.h>

#include "util/strbuf.h"

struct mo_xlat {
	uint32_t value;
	const char *name;	/* NUL-padded to a multiple of 16 bytes */
	size_t len;		/* strlen(name) */
};

extern const struct mo_xlat mo_xlat_vm_prot[];
extern const struct mo_xlat mo_xlat_mo_return[];
extern const struct mo_xlat mo_xlat_copy_strategy[];
extern const struct mo_xlat mo_xlat_kern_return[];
extern const struct mo_xlat mo_xlat_linux_errno[];
extern const struct mo_xlat mo_xlat_hurd_errno[];
extern const struct mo_xlat mo_xlat_msg_type[];
/* mo_xlat_msg_type by value (NULL: no name), for values below 256. */
extern const struct mo_xlat *const mo_xlat_msg_type_index[256];

/* The name of VALUE, or NULL. */
const char *mo_xlat_find(const struct mo_xlat *x, uint32_t value);
/* The entry of VALUE, or NULL. */
const struct mo_xlat *mo_xlat_entry(const struct mo_xlat *x, uint32_t value);
/*
 * Appends VALUE by name; an unknown value prints as a number with a
 * comment naming the family: "7 / * MEMORY_OBJECT_RETURN_??? * /".
 */
void mo_xlat_enum(struct strbuf *sb, const struct mo_xlat *x, uint32_t value,
		  const char *unknown);
/*
 * Appends the value of an error field (kern_return_t: data_error's
 * error_value, supply_completed's result, a reply's RetCode). A pager
 * built on Linux passes errno values on there, which small KERN_* codes
 * overlap (EIO is 5, KERN_FAILURE), so a value both could be is named both
 * ways: "5 / * KERN_FAILURE or EIO * /"; a Linux errno that is no KERN_*
 * code: "11 / * EAGAIN * /"; a Hurd errno (0x4000xxxx): "0x40000005 / * EIO * /",
 * one glibc does not name "0x40003fff / * Hurd E??? * /";
 * any other KERN_*, MIG_* or MACH_* code by its name.
 */
void mo_xlat_error(struct strbuf *sb, uint32_t value);
/* Appends VALUE as NAME|NAME|0x40; 0 prints as the 0-valued name. */
void mo_xlat_flags(struct strbuf *sb, const struct mo_xlat *x, uint32_t value,
		   const char *unknown);

#endif
