# tests/: TAP scripts tests/tNNNN-AREA.sh, run by tests/run.
# Modules add programs the tests need to TEST_PROGRAMS.
#
# Numbering: t0xxx decode, t1xxx mach IPC, t2xxx kernel and pagers,
# t3xxx tracer and cli, t4xxx GNU Mach guest, t9xxx build and install.


check: all $$(TEST_PROGRAMS)
	B=$(B) tests/run

# Everything the tests need, without running them (tests/run T... after it).
test-programs: all $$(TEST_PROGRAMS)
.PHONY: test-programs
include tests/decode/module.mk
include tests/fuzz/module.mk
include tests/tracer/module.mk
include tests/hurd/module.mk
include tests/gnumach/module.mk
