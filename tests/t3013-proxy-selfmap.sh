#!/bin/sh
# A pager that maps its own object, through motrace: every message leaves
# the process for motrace and comes back into it. rpctrace deadlocks here;
# motrace must not, with or without rules that hold messages back.
. "$(dirname "$0")/lib.sh"
SM="$B/tests/tracer/selfmap"

test_expect_success 'without motrace, the self-mapping pager works' '
	timeout 20 "$SM" "unix:$TRASH/s/direct" 64 | grep -F "64 pages written and read back"
'
test_expect_success 'through motrace: no deadlock, every page served' '
	timeout 30 "$MOTRACE" --no-time -o "$TRASH/log" -- "$SM" "unix:$TRASH/s/traced" 256 > "$TRASH/out" &&
	grep -F "256 pages written and read back" "$TRASH/out" &&
	test "$(grep -c "^k0> memory_object_data_request(" "$TRASH/log")" = 256 &&
	test "$(grep -c "^k0< memory_object_data_unavailable(" "$TRASH/log")" = 256 &&
	grep -F "0 diagnostic(s)" "$TRASH/log"
'
test_expect_success 'through motrace with every answer delayed: still no deadlock' '
	timeout 30 "$MOTRACE" --no-time -c -e delay=data_unavailable:by=1ms-3ms -- \
		"$SM" "unix:$TRASH/s/delayed" 64 > "$TRASH/out2" &&
	grep -F "64 pages written and read back" "$TRASH/out2"
'
test_done
