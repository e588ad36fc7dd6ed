# tests/mach/unimpl.awk: weak definitions, answering KERN_FAILURE, of
# every server routine a MIG Server.h declares, so that a program that
# serves only some routines of a large .defs (mach.defs) still links.
# The program's own definitions win over these. Names in "skip" (the
# calls libmotrace-mach provides itself) are left alone.
BEGIN {
	n = split(skip, s, " ")
	for (i = 1; i <= n; i++)
		skipped[s[i]] = 1
}
/^kern_return_t [a-z_0-9]+$/ && !($2 in skipped) {
	printf "__attribute__((weak)) int %s(void) { return 5; }\n", $2
}
