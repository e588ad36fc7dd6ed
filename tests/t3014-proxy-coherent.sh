#!/bin/sh
# The coherent (distributed shared memory) pager through motrace: four
# kernels, two threads each, increment shared counters; the totals must be
# exact (no write lost on the way, whatever the ports the messages take)
# and the checker, which knows the rules of several kernels (one writer per
# page, write-backs in order), must find nothing.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

ADDR="unix:$TRASH/s/coherent"

start_traced() {
	{ st=0; timeout 60 "$MOTRACE" --no-time -o "$TRASH/log" -- \
		"$B/mo-coherent" "$ADDR" 16p 2> "$TRASH/err" || st=$?; echo $st > "$TRASH/rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/coherent"
}

# counters N: four mo-map processes add to the counters N times each.
counters() {
	printf "repeat $1\nadd 0 1\nadd 8 2\nadd 1p 1\nend\n" > "$TRASH/inc"
	for i in 1 2 3 4; do
		{ rc=0; run_map -q --threads 2 --size 4p "$ADDR" "$TRASH/inc" > "$TRASH/c$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/c$i.rc"; } &
	done
	# wait_for gives up after 5 s: four of them give the workload 20.
	wait_for test -s "$TRASH/c1.rc" || wait_for test -s "$TRASH/c1.rc" ||
		wait_for test -s "$TRASH/c1.rc" || wait_for test -s "$TRASH/c1.rc"
	wait_for test -s "$TRASH/c2.rc" && wait_for test -s "$TRASH/c3.rc" &&
	wait_for test -s "$TRASH/c4.rc" &&
	test "$(cat "$TRASH"/c?.rc | tr -d "\n")" = 0000
}

test_expect_success 'four kernels, shared counters, through motrace: exact totals, no diagnostic' '
	start_traced &&
	counters 500 &&
	printf "expect 0 4000\nexpect 8 8000\nexpect 1p 4000\n" | run_map --size 4p "$ADDR" - &&
	pkill -TERM -P $mt && wait $mt &&
	grep -F "0 diagnostic(s)" "$TRASH/log" &&
	grep -q "^k4> memory_object_terminate(" "$TRASH/log"
'
test_done
