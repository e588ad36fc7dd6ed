#!/bin/sh
# Every way motrace -- PAGER ends is a detach (doc/attach.md): SIGTERM,
# SIGINT, the end of a batch script, with a message held or not, in the
# middle of a 2000-page write workload through mo-filepager. The workload
# finishes, every page reaches the file, and the pager, left to its
# kernel, exits by itself once the kernel has gone.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

PAGES=2000
# Seconds of faults: time to end motrace in their middle.
slow_write_map "$TRASH/w.map"
head -c $((PAGES * 4096)) /dev/zero | tr '\0' 'Z' > "$TRASH/want"

# traced NAME MOTRACE-ARGS...: motrace -- mo-filepager over NAME.data,
# in the background ($mt); mo-map starts the workload ($map, NAME.maprc
# when done) once motrace logged 300 data_requests or ARGS's script says.
traced() {
	name=$1
	shift
	ADDR="unix:$TRASH/s/$name"
	head -c $((PAGES * 4096)) /dev/zero > "$TRASH/$name.data"
	"$MOTRACE" --no-time -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" &
	mt=$!
	wait_for test -S "$TRASH/s/$name" || return 1
	{ rc=0; timeout 60 "$B/mo-map" -q --size ${PAGES}p --resident 200 "$ADDR" "$TRASH/w.map" \
		> "$TRASH/$name.map.out" 2>&1 || rc=$?; echo $rc > "$TRASH/$name.maprc"; } &
	map=$!
}

requests() {
	test "$(grep -c "memory_object_data_request(" "$TRASH/$1.log")" -gt "$2"
}

# finished NAME: motrace ended with 0 mid-workload; the workload ends
# well; the pager motrace left running exits once its kernel is gone; the
# file holds every page written.
finished() {
	name=$1
	wait $mt && st=0 || st=$?
	cat "$TRASH/$name.err"
	test "$st" = 0 &&
	wait_until 60 test -s "$TRASH/$name.maprc" &&
	test "$(cat "$TRASH/$name.maprc")" = 0 &&
	grep -F "0 diagnostic(s)" "$TRASH/$name.log" &&
	pid=$(sed -n "s/.*mo-filepager (pid \([0-9]*\)) still serves 1 kernel(s): it runs on, and exits once they are gone +++$/\1/p" "$TRASH/$name.log") &&
	test -n "$pid" &&
	wait_until 20 eval "! kill -0 $pid 2>/dev/null" &&
	test ! -e "$TRASH/s/$name" &&
	cmp "$TRASH/want" "$TRASH/$name.data"
}

test_expect_success 'SIGTERM mid-workload: a detach; every page reaches the file' '
	traced term &&
	wait_until 20 requests term 300 &&
	kill -TERM $mt &&
	finished term &&
	grep -F "+++ stopped by signal 15 +++" "$TRASH/term.log" &&
	test "$(grep -c "memory_object_data_request(" "$TRASH/term.log")" -lt $PAGES
'
test_expect_success 'SIGINT mid-workload (no terminal): the same' '
	traced int &&
	wait_until 20 requests int 300 &&
	kill -INT $mt &&
	finished int &&
	grep -F "+++ stopped by signal 2 +++" "$TRASH/int.log"
'
test_expect_success 'the end of a batch script mid-workload: the same' '
	traced batch -batch -ex "expect data_request within 20s" -ex "wait 500ms" &&
	finished batch &&
	test "$(grep -c "memory_object_data_request(" "$TRASH/batch.log")" -lt $PAGES
'
test_expect_success 'a message held when the script ends is let go first; nothing is lost' '
	traced held -e hold=data_request:when=20 -batch -ex "expect \[held\] within 20s" -ex "wait 200ms" &&
	finished held &&
	grep "memory_object_data_request(.*\[held\]" "$TRASH/held.log" &&
	grep "memory_object_data_request(.*\[released\]" "$TRASH/held.log"
'
test_done
