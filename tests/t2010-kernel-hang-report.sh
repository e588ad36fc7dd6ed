#!/bin/sh
# A mo-map that waits for ever says, on SIGTERM or SIGINT, which script
# step each thread is at (line, words) and which page it waits for, and
# why; -v shows each step as it runs.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# hang SIGNAL FILE PATTERN N ARGS...: mo-map ARGS in the background,
# with -v and a log ($TRASH/hlog); once FILE (hlog or err) has N lines
# with PATTERN, send SIGNAL. Status in $TRASH/rc, stderr in $TRASH/err.
hang() {
	sig=$1 file=$2 pattern=$3 count=$4
	shift 4
	rm -f "$TRASH/rc" "$TRASH/hlog"
	{ ( "$B/mo-map" -v --log "$TRASH/hlog" "$@" > "$TRASH/out" 2> "$TRASH/err" &
	    echo $! > "$TRASH/map.pid"; rc=0; wait $! || rc=$?; echo $rc > "$TRASH/rc" ) & }
	wait_for sh -c "test \$(grep -c -- \"$pattern\" \"$TRASH/$file\" 2>/dev/null || :) -ge $count" ||
		{ kill -9 "$(cat "$TRASH/map.pid")"; return 1; }
	kill -"$sig" "$(cat "$TRASH/map.pid")"
	wait_for test -s "$TRASH/rc" || return 1
	cat "$TRASH/err"
}

test_expect_success 'SIGTERM: the step and the page whose unlock never comes' '
	start_pager mo-faulty --bug=never-unlock &&
	printf "read 0\n\nwrite 0 1   # the pager never unlocks\n" > "$TRASH/s1" &&
	hang TERM hlog data_unlock 1 "$ADDR" "$TRASH/s1" &&
	stop_pager mo-faulty &&
	test "$(cat "$TRASH/rc")" = 143 &&
	grep -qx "mo-map: line 1: read 0" "$TRASH/err" &&
	grep -qx "mo-map: line 3: write 0 1" "$TRASH/err" &&
	obj=$(sed -n "s/.*data_unlock(obj=\\([0-9]*\\),.*/\\1/p" "$TRASH/hlog") &&
	grep -qx "mo-map: SIGTERM: line 3 (write 0 1) waits for the page at offset 0x0 of object $obj (offset 0x0 of the mapping): data_unlock sent for write access, no lock_request has unlocked it (its lock forbids writing)" "$TRASH/err"
'

test_expect_success 'SIGINT, two threads, a mapping into the object' '
	start_pager mo-faulty --bug=never-unlock --size 8p &&
	printf "read 0+t\nwrite 0+t 1\n" > "$TRASH/s2" &&
	hang INT hlog data_unlock 2 --threads 2 --offset 4p --size 4p "$ADDR" "$TRASH/s2" &&
	stop_pager mo-faulty &&
	test "$(cat "$TRASH/rc")" = 130 &&
	grep -qx "mo-map: t1: line 2: write 0+t 1" "$TRASH/err" &&
	grep -q "^mo-map: SIGINT: t0 line 2 (write 0+t 1) waits for the page at offset 0x4000 of object [0-9]* (offset 0x0 of the mapping): data_unlock sent" "$TRASH/err" &&
	grep -q "^mo-map: SIGINT: t1 line 2 (write 0+t 1) waits for the page at offset 0x5000 of object [0-9]* (offset 0x1000 of the mapping): data_unlock sent" "$TRASH/err"
' 

test_expect_success 'a data_request never answered, a ready never sent' '
	printf "on init ready\non data_request nothing\n" > "$TRASH/r1" &&
	printf "on init nothing\n" > "$TRASH/r2" &&
	for r in r1:data_request r2:memory_object_init; do
		"$B/tests/kernel/mo-testpager" "unix:$TRASH/s/tp" "$TRASH/${r%%:*}" 2> "$TRASH/tp.err" &
		echo $! > "$TRASH/tp.pid" &&
		wait_for test -S "$TRASH/s/tp" &&
		printf "echo here\nread 1p\n" > "$TRASH/s3" &&
		hang TERM hlog "${r#*:}" 1 "unix:$TRASH/s/tp" "$TRASH/s3" &&
		stop_pager tp &&
		test "$(cat "$TRASH/rc")" = 143 || exit 1
		cp "$TRASH/err" "$TRASH/${r%%:*}.err"
	done &&
	grep -q "^mo-map: SIGTERM: line 2 (read 1p) waits for the page at offset 0x1000 of object [0-9]* (offset 0x1000 of the mapping): data_request sent, no data_supply, data_unavailable or data_error for it yet$" "$TRASH/r1.err" &&
	grep -q "^mo-map: SIGTERM: line 2 (read 1p) waits for the page at offset 0x1000 .*: the pager has not answered memory_object_init with memory_object_ready$" "$TRASH/r2.err"
'

test_expect_success 'SIGTERM while not in a fault names the step' '
	start_pager mo-faulty --bug=none &&
	printf "read 0\nsleep 100000\n" > "$TRASH/s4" &&
	hang TERM err "line 2: sleep" 1 "$ADDR" "$TRASH/s4" &&
	stop_pager mo-faulty &&
	grep -qx "mo-map: SIGTERM: at line 2 (sleep 100000)" "$TRASH/err"
'

test_expect_success 'without -v, a normal run prints no steps' '
	start_pager mo-faulty --bug=none &&
	printf "read 0\n" | run_map "$ADDR" - 2> "$TRASH/quiet.err" &&
	stop_pager mo-faulty &&
	! test -s "$TRASH/quiet.err"
'

test_done
