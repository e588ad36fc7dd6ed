#!/bin/sh
# What motrace cannot pass on is named in the log, never dropped in
# silence: a data_supply kept back by a delay rule for a kernel that is
# killed meanwhile finds its receiver gone, and the log says so.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
ADDR="unix:$TRASH/s/fp"

start_traced() {
	head -c 65536 /dev/zero > "$TRASH/data"
	{ st=0; timeout 60 "$MOTRACE" --no-time -o "$TRASH/log" -e delay=data_supply:by=1500ms -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/data" 2> "$TRASH/err" || st=$?; echo $st > "$TRASH/rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/fp"
}

test_expect_success 'a delayed data_supply to a killed kernel: named when it cannot go' '
	start_traced &&
	printf "read 0\n" > "$TRASH/w" &&
	{ ASAN_OPTIONS=detect_leaks=0 "$B/mo-map" --size 1p "$ADDR" "$TRASH/w" > /dev/null 2>&1 & echo $! > "$TRASH/map.pid"; } &&
	wait_for grep -q "^k0> memory_object_data_request(" "$TRASH/log" &&
	kill -9 "$(cat "$TRASH/map.pid")" &&
	wait_for grep -q "kernel 0 went away" "$TRASH/log" &&
	wait_for grep -q "^+++ data_supply to kernel 0.s control port was not delivered: MACH_SEND_INVALID_DEST" "$TRASH/log" &&
	pkill -TERM -P $mt && wait $mt
'
test_done
