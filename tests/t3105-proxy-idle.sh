#!/bin/sh
# --exit-when-idle: idle means no kernel left and no message for a while,
# not the first moment no kernel is left: a workload that unmaps and maps
# again (its kernel terminates the object, then initialises it anew) must
# run to its end through motrace, and motrace must then end by itself.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
ADDR="unix:$TRASH/s/fp"

start_traced() {
	head -c 65536 /dev/zero | tr "\000" "\052" > "$TRASH/data"
	{ st=0; timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/log" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/data" 2> "$TRASH/err" || st=$?; echo $st > "$TRASH/rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/fp"
}

test_expect_success 'unmap; map in one workload: the map is served, then motrace ends' '
	start_traced &&
	printf "expect 0 0x2a2a2a2a2a2a2a2a\nunmap\nmap\nexpect 1p 0x2a2a2a2a2a2a2a2a\nunmap\n" > "$TRASH/w" &&
	ASAN_OPTIONS=detect_leaks=0 run_map --size 2p "$ADDR" "$TRASH/w" &&
	wait $mt &&
	test "$(cat "$TRASH/rc")" = 0 &&
	test "$(grep -c "^k[0-9]> memory_object_init(" "$TRASH/log")" = 2 &&
	test "$(grep -c "^k[0-9]> memory_object_terminate(" "$TRASH/log")" = 2
'
test_done
