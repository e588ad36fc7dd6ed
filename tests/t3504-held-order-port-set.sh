#!/bin/sh
# A held message keeps its place in its queue as the kernel keeps it: the
# pager's ports in one port set share the set's queue (GNU Mach
# ipc/ipc_mqueue.c, ipc_mqueue_send), so what a kernel sends after a held
# data_return to another port of that set waits behind it. mo-filepager
# asks for a clean (SIGUSR1) with its reply port, in the set with its
# object port: the kernel's lock_completed, were it let past the held
# data_return, would tell the pager the clean is done before the data
# reached it (as it did: lock_completed was logged before the data_return
# let go).
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"

# start_map: mo-map runs k0.map in the background; its status in k0.rc.
start_map() {
	(timeout 30 "$B/mo-map" --size 4p "unix:$S/fp" "$TRASH/k0.map" > "$TRASH/k0.out" 2>&1
	 echo $? > "$TRASH/k0.rc") &
}

test_expect_success 'a held data_return is not overtaken by the lock_completed sent after it to the same port set' '
	head -c 16384 /dev/zero > "$TRASH/data" &&
	timeout 60 "$MOTRACE" --no-time -o "$TRASH/log" -batch \
		-ex "break data_return" \
		-ex "expect k0> memory_object_data_return within 30s" \
		-ex "wait 3s" -ex "continue" -ex "delete 1" \
		-ex "expect k0> memory_object_terminate within 30s" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" > "$TRASH/motrace.out" 2> "$TRASH/motrace.err" &
	echo $! > "$TRASH/motrace.pid" &&
	wait_until 10 test -S "$S/fp" &&
	printf "write 0 0x1234\necho written\nsleep 6000\n" > "$TRASH/k0.map" &&
	start_map &&
	wait_until 10 grep -q written "$TRASH/k0.out" &&
	pager=$(pgrep -n -f "mo-filepager unix:$S/fp") &&
	kill -USR1 "$pager" &&
	wait_until 10 grep -q "^breakpoint 1, message" "$TRASH/motrace.out" &&
	wait_until 20 test -s "$TRASH/k0.rc" &&
	test "$(cat "$TRASH/k0.rc")" = 0 &&
	wait "$(cat "$TRASH/motrace.pid")" &&
	in_log() { grep -n "$1" "$TRASH/log" | head -n 1 | cut -d: -f1; } &&
	held=$(in_log "^k0> memory_object_data_return(.*\[held\]$") &&
	released=$(in_log "^k0> memory_object_data_return(.*\[released\]$") &&
	completed=$(in_log "^k0> memory_object_lock_completed(") &&
	test -n "$held" && test -n "$released" && test -n "$completed" &&
	test "$released" -lt "$completed"
'
test_done
