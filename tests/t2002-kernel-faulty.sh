#!/bin/sh
# Each mo-faulty bug shows its symptom through mo-map, and motrace check
# names it from the kernel's log. Hangs are cut by a timeout, not waited
# out.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# hang_map LOG SCRIPT-TEXT: mo-map must still be waiting after 1.5 s.
hang_map() {
	printf "$2" > "$TRASH/script" &&
	{ timeout -s TERM 1.5 "$B/mo-map" --log-times --log "$1" "$ADDR" "$TRASH/script" > "$TRASH/hang.out" 2>&1; rc=$?; } ;
	[ "$rc" = 124 ] || { echo "mo-map ended with $rc, expected a hang"; cat "$TRASH/hang.out"; return 1; }
}

# checked LOG NAME: motrace check names NAME (and exits 1).
checked() {
	"$MOTRACE" check --quiet "$1" > "$TRASH/check.out"
	rc=$?
	cat "$TRASH/check.out"
	[ "$rc" = 1 ] && grep -q "!! $2:" "$TRASH/check.out"
}

test_expect_success 'none: the same pager without a bug is clean' '
	start_pager mo-faulty --bug=none &&
	printf "read 0\nwrite 0 7\nexpect 0 7\nwrite 1p 8\nread 2p\nexpect 1p 8\n" | run_map --log "$TRASH/none" "$ADDR" - &&
	stop_pager mo-faulty &&
	"$MOTRACE" check --quiet "$TRASH/none" | grep -q "^0 diagnostic"
'

test_expect_success 'never-unlock: the writer hangs; unlock-timeout' '
	start_pager mo-faulty --bug=never-unlock &&
	hang_map "$TRASH/never" "read 0\nwrite 0 1\n" &&
	stop_pager mo-faulty &&
	grep -q "k0> memory_object_data_unlock" "$TRASH/never" &&
	! grep -q "k0< memory_object_lock_request" "$TRASH/never" &&
	checked "$TRASH/never" unlock-timeout
'

test_expect_success 'nochange-unlock: the writer hangs; nochange-unlock' '
	start_pager mo-faulty --bug=nochange-unlock &&
	hang_map "$TRASH/nochange" "read 0\nwrite 0 1\n" &&
	stop_pager mo-faulty &&
	grep -q "lock_value=VM_PROT_NO_CHANGE" "$TRASH/nochange" &&
	checked "$TRASH/nochange" nochange-unlock
'

test_expect_success 'flush-no-clean: a write is lost; discard-dirty' '
	start_pager mo-faulty --bug=flush-no-clean &&
	printf "write 0 0x55\nread 1p\nexpect 0 0x55\n" > "$TRASH/sc" &&
	! run_map --log "$TRASH/flush" "$ADDR" "$TRASH/sc" 2> "$TRASH/err" &&
	stop_pager mo-faulty &&
	grep -q "line 3: expect 0: read 0, expected 0x55" "$TRASH/err" &&
	grep -q "should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE" "$TRASH/flush" &&
	! grep -q data_return "$TRASH/flush" &&
	checked "$TRASH/flush" discard-dirty
'

test_expect_success 'misaligned: the unlock finds no page, the writer hangs; misaligned' '
	start_pager mo-faulty --bug=misaligned &&
	hang_map "$TRASH/mis" "read 0\nwrite 0 1\n" &&
	stop_pager mo-faulty &&
	grep -q "k0> memory_object_lock_completed(.*offset=0x10 " "$TRASH/mis" &&
	checked "$TRASH/mis" misaligned
'

test_expect_success 'double-supply: KERN_MEMORY_PRESENT, the data kept; supply-present' '
	start_pager mo-faulty --bug=double-supply &&
	printf "write 0 9\nsleep 300\nexpect 0 9\n" | run_map --log "$TRASH/double" "$ADDR" - &&
	stop_pager mo-faulty &&
	grep -F "supply_completed(" "$TRASH/double" |
		grep -qF "result=23 /* KERN_MEMORY_PRESENT or ENFILE */, error_offset=0x0" &&
	checked "$TRASH/double" supply-present
'

test_expect_success 'wrong-length: the half page is refused, the reader hangs; partial-supply' '
	start_pager mo-faulty --bug=wrong-length &&
	hang_map "$TRASH/partial" "read 0\n" &&
	stop_pager mo-faulty &&
	grep -q "\\[2048 bytes" "$TRASH/partial" &&
	checked "$TRASH/partial" partial-supply
'

test_expect_success 'slow: every answer comes late, as the log times show' '
	start_pager mo-faulty --bug=slow --delay 400 &&
	printf "read 0\nwrite 0 3\nexpect 0 3\n" > "$TRASH/sc" &&
	start=$(date +%s%N) &&
	run_map --log-times --log "$TRASH/slow" "$ADDR" "$TRASH/sc" &&
	end=$(date +%s%N) &&
	stop_pager mo-faulty &&
	test $(( (end - start) / 1000000 )) -ge 800 &&
	awk "/k0> memory_object_data_unlock/ { t = substr(\$1, 2) }
	     /k0< memory_object_lock_request/ { d = substr(\$1, 2) - t }
	     END { exit !(d >= 0.35) }" "$TRASH/slow" &&
	awk "/k0> memory_object_data_request/ { t = substr(\$1, 2) }
	     /k0< memory_object_data_supply/ { d = substr(\$1, 2) - t }
	     END { exit !(d >= 0.35) }" "$TRASH/slow"
'

test_expect_success 'an unknown bug is refused with the list' '
	! "$B/mo-faulty" --bug=nosuch unix:$TRASH/s/x 2> "$TRASH/err" &&
	grep -q "unknown bug .nosuch." "$TRASH/err" &&
	grep -q "never-unlock" "$TRASH/err"
'

test_done
