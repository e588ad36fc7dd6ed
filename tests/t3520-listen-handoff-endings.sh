#!/bin/sh
# motrace --listen A --to P, P a pager on libmotrace-mach: motrace hands
# A to the pager and watches it through its control socket, so every way
# motrace ends is a detach (doc/attach.md, "--listen and --to"). SIGTERM,
# SIGINT, the end of a batch script and SIGKILL in the middle of a
# 2000-page write workload through A: mo-map finishes, and the file holds
# what the same workload leaves with the bare pager. A kernel that comes
# to A once motrace has ended is refused in words, not kept waiting.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

PAGES=2000
# Seconds of faults: time to end motrace in their middle.
slow_write_map "$TRASH/w.map"
printf "read 0\n" > "$TRASH/one.map"

# workload ADDR NAME: mo-map's write workload at ADDR in the background
# ($map; NAME.maprc its status when done).
workload() {
	{ rc=0; timeout 60 "$B/mo-map" -q --size ${PAGES}p --resident 200 "$1" "$TRASH/w.map" \
		> "$TRASH/$2.map.out" 2>&1 || rc=$?; echo $rc > "$TRASH/$2.maprc"; } &
	map=$!
}

test_expect_success 'the bare pager: the file the workload leaves' '
	head -c $((PAGES * 4096)) /dev/zero > "$TRASH/bare.data" &&
	start_pager mo-filepager "$TRASH/bare.data" &&
	workload "$ADDR" bare &&
	wait $map &&
	test "$(cat "$TRASH/bare.maprc")" = 0 &&
	stop_pager mo-filepager &&
	test "$(tr -d Z < "$TRASH/bare.data" | wc -c)" = 0
'

# handed NAME MOTRACE-ARGS...: mo-filepager over NAME.data, motrace
# --listen unix:$TRASH/s/NAME --to it in the background ($mt), then the
# workload through motrace's address ($A).
handed() {
	hn=$1
	shift
	head -c $((PAGES * 4096)) /dev/zero > "$TRASH/$hn.data"
	start_pager mo-filepager "$TRASH/$hn.data" || return 1
	A="unix:$TRASH/s/$hn"
	"$MOTRACE" --no-time -o "$TRASH/$hn.log" "$@" --listen "$A" --to "$ADDR" \
		> "$TRASH/$hn.out" 2> "$TRASH/$hn.err" &
	mt=$!
	wait_for test -S "$TRASH/s/$hn" || return 1
	workload "$A" "$hn"
}

requests() {
	test "$(grep -c "memory_object_data_request(" "$TRASH/$1.log")" -gt "$2"
}

# finished NAME STATUS: motrace ended with STATUS mid-workload; the
# workload ends well and the file is the bare pager's.
finished() {
	wait $mt && st=0 || st=$?
	cat "$TRASH/$1.err"
	test "$st" = "$2" &&
	wait $map &&
	cat "$TRASH/$1.map.out" &&
	test "$(cat "$TRASH/$1.maprc")" = 0 &&
	stop_pager mo-filepager &&
	cmp "$TRASH/bare.data" "$TRASH/$1.data" &&
	! grep -F "relayed" "$TRASH/$1.err"
}

# refused NAME: a kernel that comes to A now is told it cannot connect.
refused() {
	rc=0 && timeout 10 "$B/mo-map" "unix:$TRASH/s/$1" "$TRASH/one.map" > "$TRASH/$1.late" 2>&1 || rc=$?
	cat "$TRASH/$1.late"
	test "$rc" != 0 && test "$rc" != 124 &&
	grep -E "unix:$TRASH/s/$1: (No such file or directory|Connection refused)" "$TRASH/$1.late"
}

test_expect_success 'SIGTERM mid-workload: a detach; every page reaches the file' '
	handed term &&
	wait_until 20 requests term 300 &&
	kill -TERM $mt &&
	finished term 0 &&
	grep -F "(handed to pid " "$TRASH/term.log" &&
	grep -F "+++ stopped by signal 15 +++" "$TRASH/term.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/term.log" &&
	test "$(grep -c "memory_object_data_request(" "$TRASH/term.log")" -lt $PAGES &&
	test ! -e "$TRASH/s/term" &&
	refused term
'
test_expect_success 'SIGINT mid-workload (no terminal): the same' '
	handed int &&
	wait_until 20 requests int 300 &&
	kill -INT $mt &&
	finished int 0 &&
	grep -F "+++ stopped by signal 2 +++" "$TRASH/int.log" &&
	test ! -e "$TRASH/s/int" &&
	refused int
'
test_expect_success 'the end of a batch script mid-workload: the same' '
	handed batch -batch -ex "expect data_request within 20s" -ex "wait 500ms" &&
	finished batch 0 &&
	test "$(grep -c "memory_object_data_request(" "$TRASH/batch.log")" -lt $PAGES &&
	test ! -e "$TRASH/s/batch" &&
	refused batch
'
test_expect_success 'a message held when the script ends is let go first; nothing is lost' '
	handed held -e hold=data_request:when=20 -batch -ex "expect \[held\] within 20s" -ex "wait 200ms" &&
	finished held 0 &&
	grep "memory_object_data_request(.*\[held\]" "$TRASH/held.log" &&
	grep "memory_object_data_request(.*\[released\]" "$TRASH/held.log"
'
test_expect_success 'SIGKILL mid-workload, messages held: the pager passes them; every page reaches the file' '
	handed kill -e hold=data_request:when=300 &&
	wait_until 20 grep -q "memory_object_data_request(.*\[held\]" "$TRASH/kill.log" &&
	kill -KILL $mt &&
	finished kill 137 &&
	refused kill
'
test_done
