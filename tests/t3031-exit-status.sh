#!/bin/sh
# motrace's exit status, as strace's: the pager's failure is the session's
# (its status, or 128 + the signal that ended it); motrace's own errors are
# non-zero; diagnostics count when --fail-on-diag or the batch script
# ('diagnostics N') asks. And 'motrace help [COMMAND]'.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# status CMD...: runs CMD (30 s at most) and prints its exit status.
status() {
	st=0
	timeout 30 "$@" > "$TRASH/status.out" 2> "$TRASH/status.err" || st=$?
	echo $st
}

test_expect_success 'a pager that cannot be run: named, exit 1' '
	test "$(status "$MOTRACE" -- /nonexistent/pager)" = 1 &&
	grep -F "motrace: cannot run '\''/nonexistent/pager'\'': No such file or directory" "$TRASH/status.err"
'
test_expect_success 'a pager that exits 3: motrace exits 3' '
	test "$(status "$MOTRACE" -o "$TRASH/l1" -- sh -c "exit 3")" = 3 &&
	grep -F "+++ sh exited with status 3 +++" "$TRASH/l1"
'
test_expect_success 'a pager killed by SIGKILL: 128 + 9' '
	test "$(status "$MOTRACE" -o "$TRASH/l2" -- sh -c "kill -9 \$\$")" = 137 &&
	grep -F "+++ sh ended by signal 9 +++" "$TRASH/l2"
'
test_expect_success 'a pager that exits 0: 0' '
	test "$(status "$MOTRACE" -- true)" = 0
'

# faulty BUG MOTRACE-ARGS...: motrace -- mo-faulty --bug=BUG while mo-map
# writes a page; prints motrace's exit status.
faulty() {
	bug=$1
	shift
	ADDR="unix:$TRASH/s/$bug"
	{ st=0; timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/$bug.log" "$@" -- \
		"$B/mo-faulty" "$ADDR" --bug="$bug" > "$TRASH/$bug.out" 2> "$TRASH/$bug.err" || st=$?;
	  echo $st > "$TRASH/$bug.rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/$bug" || return 1
	printf "read 0\nread 1p\n" > "$TRASH/$bug.map"
	timeout 20 "$B/mo-map" "$ADDR" "$TRASH/$bug.map" > /dev/null 2>&1
	wait $mt
	cat "$TRASH/$bug.rc"
}

test_expect_success 'diagnostics alone do not fail a session' '
	test "$(faulty double-supply)" = 0 &&
	grep -q "!! supply-present" "$TRASH/double-supply.log"
'
test_expect_success '--fail-on-diag: a session with diagnostics exits 1' '
	test "$(faulty double-supply --fail-on-diag)" = 1
'
test_expect_success '--fail-on-diag: a clean session exits 0' '
	test "$(faulty none --fail-on-diag)" = 0
'
test_expect_success 'the batch script decides: diagnostics 0 fails, with the count' '
	test "$(faulty double-supply -ex "expect terminate within 10s" -ex "diagnostics 0")" = 1 &&
	grep -F "motrace: diagnostics: the checker reported 2, expected 0" "$TRASH/double-supply.err" &&
	grep -F "motrace: -ex:2: '\''diagnostics 0'\'' failed" "$TRASH/double-supply.err"
'
test_expect_success 'commands given with -ex are numbered from 1' '
	test "$(status "$MOTRACE" -batch -ex "frobnicate" -- true)" = 1 &&
	grep -F "motrace: -ex:1: unknown command '\''frobnicate'\''" "$TRASH/status.err"
'
test_expect_success 'motrace help: the commands and the debugger commands' '
	test "$(status "$MOTRACE" help)" = 0 &&
	grep -E "^  check " "$TRASH/status.out" &&
	grep -E "^  expect " "$TRASH/status.out"
'
test_expect_success 'motrace help COMMAND: that command'\''s help' '
	test "$(status "$MOTRACE" help trace)" = 0 &&
	grep -F "usage: motrace [OPTIONS] --listen ADDR" "$TRASH/status.out" &&
	test "$(status "$MOTRACE" help expect)" = 0 &&
	grep -F "usage: expect PATTERN [within DURATION]" "$TRASH/status.out" &&
	test "$(status "$MOTRACE" help frobnicate)" = 2 &&
	grep -F "unknown command '\''frobnicate'\''" "$TRASH/status.err"
'
test_done
