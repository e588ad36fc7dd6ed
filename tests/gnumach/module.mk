# tests/gnumach/: GNU Mach's own IPC tests (tests/test-mach_port.c,
# test-machmsg.c, test-threads.c of its repository, unchanged) built
# against the installed libmotrace-mach with the stand-in here for their
# testlib and bootstrap (tests/gnumach/README.md).
#
#   make gnumach-tests GNUMACH_SRC=DIR   DIR: a GNU Mach checkout or its git dir

gnumach-tests: $(LIBMACH_A) $(LIBMACH_SO) $(MACH_IFACE_H) $(B)/motrace-mach.pc
	@test -n "$(GNUMACH_SRC)" || { echo "gnumach-tests: say where GNU Mach's sources are: make gnumach-tests GNUMACH_SRC=DIR" >&2; exit 2; }
	B=$(B) MAKE="$(MAKE)" tests/gnumach/run.sh "$(GNUMACH_SRC)"

.PHONY: gnumach-tests
