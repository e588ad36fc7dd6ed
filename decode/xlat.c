/* decode/xlat.c: printing constants by name. */
#include "decode/xlat.h"

const struct mo_xlat *mo_xlat_entry(const struct mo_xlat *x, uint32_t value)
{
	for (; x->name; x++)
		if (x->value == value)
			return x;
	return NULL;
}

const char *mo_xlat_find(const struct mo_xlat *x, uint32_t value)
{
	x = mo_xlat_entry(x, value);
	return x ? x->name : NULL;
}

void mo_xlat_enum(struct strbuf *sb, const struct mo_xlat *x, uint32_t value,
		  const char *unknown)
{
	const char *s = mo_xlat_find(x, value);

	if (s) {
		strbuf_addstr(sb, s);
		return;
	}
	/* Small values read best in decimal, codes like 0x10000003 in hex. */
	if (value < 0x100)
		strbuf_addu(sb, value);
	else
		strbuf_addhex(sb, value);
	strbuf_addstr(sb, " /* ");
	strbuf_addstr(sb, unknown);
	strbuf_addstr(sb, " */");
}

void mo_xlat_flags(struct strbuf *sb, const struct mo_xlat *x, uint32_t value,
		   const char *unknown)
{
	uint32_t left = value;
	int any = 0;

	if (value == 0) {
		mo_xlat_enum(sb, x, 0, unknown);
		return;
	}
	for (; x->name; x++) {
		if (!x->value || (left & x->value) != x->value)
			continue;
		if (any)
			strbuf_addch(sb, '|');
		strbuf_addstr(sb, x->name);
		left &= ~x->value;
		any = 1;
	}
	if (!any) {
		mo_xlat_enum(sb, x, value, unknown);
		return;
	}
	if (left) {
		strbuf_addch(sb, '|');
		strbuf_addhex(sb, left);
	}
}

void mo_xlat_error(struct strbuf *sb, uint32_t value)
{
	const char *kern = mo_xlat_find(mo_xlat_kern_return, value);
	const char *linux_name = mo_xlat_find(mo_xlat_linux_errno, value);
	const char *hurd = NULL;

	/*
	 * The Hurd's errno: Mach error system 0x10, subsystem 0 (glibc's
	 * numbering); one it does not name is still the Hurd's.
	 */
	if ((value & 0xffffc000) == 0x40000000) {
		hurd = mo_xlat_find(mo_xlat_hurd_errno, value);
		if (!hurd)
			hurd = "Hurd E???";
	}
	if (kern && !linux_name) {
		strbuf_addstr(sb, kern);
		return;
	}
	if (!linux_name && !hurd) {
		mo_xlat_enum(sb, mo_xlat_kern_return, value, "KERN_???");
		return;
	}
	if (value < 0x100)
		strbuf_addu(sb, value);
	else
		strbuf_addhex(sb, value);
	strbuf_addstr(sb, " /* ");
	if (kern) {
		strbuf_addstr(sb, kern);
		strbuf_addstr(sb, " or ");
	}
	strbuf_addstr(sb, hurd ? hurd : linux_name);
	strbuf_addstr(sb, " */");
}
