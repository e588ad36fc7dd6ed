#!/bin/sh
# A kernel that cannot give dirty pages back says so: when the pager is
# gone, mo-map names each run of pages it could not return (object,
# offset, pages) and exits non-zero, at the end of its script, at an
# unmap step and on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# dirty_then_kill SCRIPT: runs mo-map over a 128-page file with SCRIPT,
# which writes every page, echoes "written" and sleeps; kills the pager
# (not mo-map) with -9 once the pages are written, and waits for mo-map.
# Leaves its status in $TRASH/rc, its stderr in $TRASH/err, the pid of
# timeout(1), which passes SIGTERM on to mo-map, in $TRASH/map.pid.
dirty_then_kill() {
	: > "$TRASH/f" && truncate -s 512K "$TRASH/f" &&
	start_pager mo-filepager "$TRASH/f" &&
	rm -f "$TRASH/rc" "$TRASH/out" &&
	{ ( timeout 30 "$B/mo-map" --size 128p "$ADDR" "$1" > "$TRASH/out" 2> "$TRASH/err" &
	    echo $! > "$TRASH/map.pid"; rc=0; wait $! || rc=$?; echo $rc > "$TRASH/rc" ) & } &&
	wait_for grep -q written "$TRASH/out" &&
	pid=$(cat "$TRASH/mo-filepager.pid") &&
	kill -9 "$pid" &&
	{ wait "$pid" || :; }
}

test_expect_success 'unmap after the pager died: each lost run named, status 1' '
	printf "fill 0 128p 0x61\necho written\nsleep 3000\n" > "$TRASH/s1" &&
	dirty_then_kill "$TRASH/s1" &&
	wait_for test -s "$TRASH/rc" &&
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 1 &&
	grep -q "^mo-kernel: object [0-9]*: 128 page(s) at offset 0x0+0x80000 (pages 0 to 127) not returned: data_return failed (MACH_SEND_INVALID_DEST: the pager is gone); their data is lost$" "$TRASH/err" &&
	test "$(wc -l < "$TRASH/err")" = 1 &&
	test "$(tr -d "\\0" < "$TRASH/f" | wc -c)" = 0
'

test_expect_success 'runs apart are named apart; an unmap step stops the script' '
	printf "fill 0 2p 0x61\nfill 5p 1p 0x62\necho written\nsleep 3000\nunmap\necho after\n" > "$TRASH/s2" &&
	dirty_then_kill "$TRASH/s2" &&
	wait_for test -s "$TRASH/rc" &&
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 1 &&
	grep -q "object [0-9]*: 2 page(s) at offset 0x0+0x2000 (pages 0 to 1) not returned" "$TRASH/err" &&
	grep -q "object [0-9]*: 1 page(s) at offset 0x5000+0x1000 (pages 5 to 5) not returned" "$TRASH/err" &&
	! grep -q after "$TRASH/out"
'

test_expect_success 'SIGTERM after the pager died names the lost pages too' '
	printf "fill 1p 3p 0x61\necho written\nsleep 20000\n" > "$TRASH/s3" &&
	dirty_then_kill "$TRASH/s3" &&
	kill -TERM "$(cat "$TRASH/map.pid")" &&
	wait_for test -s "$TRASH/rc" &&
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 143 &&
	grep -q "object [0-9]*: 3 page(s) at offset 0x1000+0x3000 (pages 1 to 3) not returned" "$TRASH/err"
'

test_done
