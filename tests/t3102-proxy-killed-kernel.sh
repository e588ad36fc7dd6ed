#!/bin/sh
# A kernel killed mid-workload is gone: its control port dies without a
# terminate. What it held must leave motrace's model, or the next kernel
# to write its pages is taken for a second writer. The next run through
# the same motrace must raise nothing.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
ADDR="unix:$TRASH/s/fp"

start_traced() {
	head -c 65536 /dev/zero > "$TRASH/data"
	{ st=0; timeout 60 "$MOTRACE" --no-time -o "$TRASH/log" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/data" 2> "$TRASH/err" || st=$?; echo $st > "$TRASH/rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/fp"
}

# supplied N: motrace has logged N data_supply messages or more.
supplied() {
	test "$(grep -c "^k0< memory_object_data_supply(" "$TRASH/log")" -ge "$1"
}

test_expect_success 'kill -9 a writing kernel, then another writes the same pages: no diagnostic' '
	start_traced &&
	printf "add 0 1\nadd 1p 1\nadd 2p 1\nsleep 30000\n" > "$TRASH/victim" &&
	{ ASAN_OPTIONS=detect_leaks=0 "$B/mo-map" --size 4p "$ADDR" "$TRASH/victim" > /dev/null 2>&1 & echo $! > "$TRASH/victim.pid"; } &&
	wait_for supplied 3 &&
	kill -9 "$(cat "$TRASH/victim.pid")" &&
	wait_for grep -q "kernel 0 went away" "$TRASH/log" &&
	printf "add 0 1\nadd 1p 1\nadd 2p 1\nadd 3p 1\nunmap\n" > "$TRASH/after" &&
	ASAN_OPTIONS=detect_leaks=0 run_map --size 4p "$ADDR" "$TRASH/after" &&
	pkill -TERM -P $mt && wait $mt &&
	grep -F "+++ kernel 0 went away: the model forgets its 3 page(s) +++" "$TRASH/log" &&
	grep -q "^k1> memory_object_terminate(" "$TRASH/log" &&
	grep -F "0 diagnostic(s)" "$TRASH/log"
'
test_done
