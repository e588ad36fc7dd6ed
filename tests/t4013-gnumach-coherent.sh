#!/bin/sh
# The real GNU Mach kernel and the Linux-hosted kernel share one object:
# mo-coherent serves both through motrace (issue 16: one writer or many
# readers per page across the two kernels), and a breakpoint on the
# pager's lock_request to the Linux-hosted kernel holds the page that GNU
# Mach's read waits for, until continue lets it go.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -x "$B/mo-coherent" ] || [ ! -x "$B/mo-map" ] || [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'GNU Mach and the Linux-hosted kernel on one object' 'qemu, the kernel, mo-gnumach, mo-map or mo-coherent missing'
	test_done
	exit
fi
S="$TRASH/s"
mkdir -m 700 "$S"

# Kernel 0 (mo-map, the first to come) writes and sleeps; kernel 1 (GNU
# Mach) reads the word, which makes mo-coherent ask kernel 0 for the
# dirty page: that lock_request stops at motrace, and kernel 1 waits until
# continue. Then kernel 1 writes, kernel 0 wakes and reads that.
test_expect_success 'one object, two kernels, a breakpoint between them' '
	timeout 90 "$MOTRACE" --no-time -o "$TRASH/log" -batch \
		-ex "break lock_request:kernel=0" \
		-ex "expect k0< memory_object_lock_request within 60s" \
		-ex "info stopped" -ex "wait 1s" -ex "continue" -ex "delete 1" \
		-ex "expect k1> memory_object_terminate within 60s" \
		-ex "expect k0> memory_object_terminate within 60s" \
		-- "$B/mo-coherent" "unix:$S/co" 16p > "$TRASH/motrace.out" 2> "$TRASH/motrace.err" &
	echo $! > "$TRASH/motrace.pid" &&
	wait_until 10 test -S "$S/co" &&
	printf "write 0 0x1234\necho written\nsleep 8000\nexpect 0 0x5678\n" > "$TRASH/linux.map" &&
	{ timeout 60 "$B/mo-map" --size 4p "unix:$S/co" "$TRASH/linux.map" > "$TRASH/linux.out" 2>&1;
	  echo $? > "$TRASH/linux.rc"; } &
	wait_until 10 grep -q written "$TRASH/linux.out" &&
	printf "expect 0 0x1234\nwrite 0 0x5678\n" > "$TRASH/gnumach.map" &&
	timeout 60 "$GNUMACH" --size 4p --console "$TRASH/console" "unix:$S/co" "$TRASH/gnumach.map" &&
	wait_until 30 test -s "$TRASH/linux.rc" &&
	test "$(cat "$TRASH/linux.rc")" = 0 &&
	wait "$(cat "$TRASH/motrace.pid")" &&
	grep -q "^breakpoint 1: lock_request" "$TRASH/motrace.out" &&
	grep -q "^continuing: 1 message(s) let go$" "$TRASH/motrace.out" &&
	in_log() { grep -n "$1" "$TRASH/log" | head -n 1 | cut -d: -f1; } &&
	held=$(in_log "^k0< memory_object_lock_request(.*should_return=MEMORY_OBJECT_RETURN_DIRTY.*\[held\]$") &&
	released=$(in_log "^k0< memory_object_lock_request(.*\[released\]$") &&
	returned=$(in_log "^k0> memory_object_data_return(.*offset=0x0 .*dirty=TRUE") &&
	supply=$(in_log "^k1< memory_object_data_supply(.*offset=0x0 ") &&
	test -n "$held" && test -n "$released" && test -n "$returned" && test -n "$supply" &&
	test "$held" -lt "$released" && test "$released" -lt "$returned" &&
	test "$returned" -lt "$supply"
'
test_done
