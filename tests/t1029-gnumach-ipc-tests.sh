#!/bin/sh
# t1029: GNU Mach's own IPC tests, unchanged, built against the installed
# libmotrace-mach with the stand-in of tests/gnumach/: test-mach_port,
# test-machmsg's message and iteration tests and test-threads' test_many
# pass. Their sources are GNU Mach's: GNUMACH_SRC names a checkout or its
# git directory; without one (as in CI) the test is skipped.
. "$(dirname "$0")/lib.sh"
MIRROR=/work/.mirror/GitMirroring+hurd-gnumach/repo
SRC=${GNUMACH_SRC:-}
if [ -z "$SRC" ] && [ -d "$MIRROR" ]; then
	SRC=$MIRROR
fi

if [ -z "$SRC" ]; then
	test_skip "GNU Mach's IPC tests" "no GNU Mach sources (set GNUMACH_SRC to a checkout or its git directory)"
elif ! [ -f "$SRC/tests/test-machmsg.c" ] &&
     ! git --git-dir="$SRC" cat-file -e HEAD:tests/test-machmsg.c 2>/dev/null; then
	test_skip "GNU Mach's IPC tests" "$SRC has no tests/test-machmsg.c"
else
	test_expect_success "GNU Mach's IPC tests pass against the installed library ($SRC)" '
		B="$B" tests/gnumach/run.sh "$SRC" "$TRASH/g" >"$TRASH/out" 2>&1;
		rc=$?; cat "$TRASH/out"; test $rc = 0 &&
		grep -F "ok test-mach_port: test_mach_port: 29 checks" "$TRASH/out" &&
		grep -F "test-machmsg: 5 of 7 functions pass" "$TRASH/out" &&
		grep -F "ok test-threads: test_many:" "$TRASH/out"
	'
fi
test_done
