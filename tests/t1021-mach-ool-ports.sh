#!/bin/sh
# t1021: out-of-line port arrays carry send, send-once and receive rights
# (with the messages queued on a moved receive right), in one process and
# between two over a real socket, there and back (tests/mach/mach-oolports.c).
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-oolports"

test_expect_success 'in one process: every disposition, the received types, the errors' '
	timeout 20 "$P" local
'

test_expect_success 'between two processes: rights in arrays arrive, are used and come back' '
	mkdir -p "$TRASH/s" && chmod 700 "$TRASH/s" &&
	{ timeout 40 "$P" serve "unix:$TRASH/s/a" >"$TRASH/out" 2>"$TRASH/err"; echo $? >"$TRASH/rc"; } &
	wait_until 10 grep -q ready "$TRASH/out" &&
	timeout 30 "$P" client "unix:$TRASH/s/a" &&
	wait_until 20 test -s "$TRASH/rc" &&
	cat "$TRASH/out" "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 0 &&
	grep -F "went back" "$TRASH/out"
'
test_expect_success 'an inline receive right with a queued message comes home alive, not dead' '
	{ timeout 40 "$P" home-serve "unix:$TRASH/s/h" >"$TRASH/hout" 2>"$TRASH/herr"; echo $? >"$TRASH/hrc"; } &
	wait_until 10 grep -q ready "$TRASH/hout" &&
	timeout 30 "$P" home-client "unix:$TRASH/s/h" &&
	wait_until 20 test -s "$TRASH/hrc" &&
	cat "$TRASH/hout" "$TRASH/herr" &&
	test "$(cat "$TRASH/hrc")" = 0
'
test_done
