#!/bin/sh
# The checker names each mo-faulty bug live, through the proxy: motrace
# starts the pager, mo-map faults pages in through the Linux-hosted kernel,
# and the diagnostic appears inline in motrace's log.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# traced BUG SCRIPT-TEXT [HANG]: motrace -- mo-faulty --bug=BUG, mo-map runs
# the script (cut after 1.5 s when HANG is given), then motrace is stopped.
traced() {
	ADDR="unix:$TRASH/s/$1"
	timeout 30 "$MOTRACE" --no-time --unlock-timeout 0.3 -o "$TRASH/$1.log" -- \
		"$B/mo-faulty" "$ADDR" --bug="$1" 2> "$TRASH/$1.err" &
	mt=$!
	wait_for test -S "$TRASH/s/$1" || return 1
	printf "$2" > "$TRASH/$1.map"
	if [ -n "${3:-}" ]; then
		timeout -s TERM 1.5 "$B/mo-map" "$ADDR" "$TRASH/$1.map" > /dev/null 2>&1
	else
		timeout 20 "$B/mo-map" "$ADDR" "$TRASH/$1.map" > /dev/null 2>&1
	fi
	sleep 0.2
	kill -TERM $mt 2>/dev/null
	wait $mt
	cat "$TRASH/$1.log"
}

test_expect_success 'none: a pager without a bug draws no diagnostic' '
	traced none "read 0\nwrite 0 7\nexpect 0 7\nwrite 1p 8\n" &&
	grep -q "^0 diagnostic" "$TRASH/none.log" &&
	grep -q "^k0< memory_object_lock_request(" "$TRASH/none.log"
'
test_expect_success 'never-unlock: unlock-timeout, while the writer waits' '
	traced never-unlock "read 0\nwrite 0 1\n" hang &&
	grep -q "^  !! unlock-timeout: kernel 0 has waited" "$TRASH/never-unlock.log"
'
test_expect_success 'nochange-unlock: named at the lock_request that does it' '
	traced nochange-unlock "read 0\nwrite 0 1\n" hang &&
	grep -A1 "lock_value=VM_PROT_NO_CHANGE" "$TRASH/nochange-unlock.log" | grep -q "!! nochange-unlock:"
'
test_expect_success 'flush-no-clean: discard-dirty' '
	traced flush-no-clean "write 0 0x55\nread 1p\nexpect 0 0x55\n" &&
	grep -q "!! discard-dirty:" "$TRASH/flush-no-clean.log"
'
test_expect_success 'misaligned: misaligned' '
	traced misaligned "read 0\nwrite 0 1\n" hang &&
	grep -q "!! misaligned:" "$TRASH/misaligned.log"
'
test_expect_success 'double-supply: supply-present' '
	traced double-supply "write 0 9\nsleep 300\nexpect 0 9\n" &&
	grep -q "!! supply-present:" "$TRASH/double-supply.log"
'
test_expect_success 'wrong-length: partial-supply' '
	traced wrong-length "read 0\n" hang &&
	grep -q "!! partial-supply:" "$TRASH/wrong-length.log"
'
test_expect_success 'the summary counts what was found, one line per name' '
	grep -E "^ +1 +nochange-unlock " "$TRASH/nochange-unlock.log"
'
test_done
