#!/bin/sh
# A lock_request that GNU Mach makes wait holds up only itself: the kernel
# serves it in the sending thread and blocks there while a page it would
# change is wired (vm/memory_object.c, memory_object_lock_page answers
# MUST_BLOCK), so the agent sends it from a thread of its own and the
# pager's next message, the supply a fault waits for, reaches the kernel
# meanwhile. Unwiring the page lets the lock_request finish: the dirty
# page goes back, then lock_completed. A requested page makes nothing
# wait: it is absent, and the walk skips it (vm/vm_fault.c,
# vm_fault_page, marks it absent before data_request).
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
TESTPAGER="$B/tests/kernel/mo-testpager"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -x "$TESTPAGER" ] || [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'a waiting lock_request on GNU Mach' 'qemu, the kernel, mo-gnumach or mo-testpager missing'
	test_done
	exit
fi

# guest TAG: mo-testpager, its rules in $TRASH/rulesTAG, serves mo-gnumach
# running $TRASH/mapTAG; the script's output in outTAG, the log in logTAG.
guest() {
	"$TESTPAGER" "unix:$TRASH/tp$1.sock" "$TRASH/rules$1" > "$TRASH/tp$1.out" 2>&1 &
	tp=$!
	if wait_until 10 test -S "$TRASH/tp$1.sock"; then
		timeout 120 "$GNUMACH" --timeout 20 --console "$TRASH/console$1" --log "$TRASH/log$1" \
			"unix:$TRASH/tp$1.sock" "$TRASH/map$1" > "$TRASH/out$1" 2> "$TRASH/err$1"
		rc=$?
	else
		rc=1
	fi
	kill $tp 2>/dev/null
	wait $tp 2>/dev/null
	[ $rc = 0 ] || { cat "$TRASH/err$1" 2>/dev/null; return 1; }
}

test_expect_success 'a lock_request waiting on a wired page lets the supply behind it through' '
	cat > "$TRASH/rules" <<-\EOF &&
	on init ready
	on data_request supply = = lock=none
	on data_request lock 0 1p return=dirty flush=1 reply=1; supply = = lock=none
	EOF
	cat > "$TRASH/map" <<-\EOF &&
	write 0 0x1111
	wire 0
	read 1p
	unwire 0
	echo unwired
	EOF
	guest "" &&
	printf "read 0x1000 0\nunwired\n" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/out" &&
	grep "^k0" "$TRASH/log" | sed -n "s/^k0. \(memory_object_[a-z_]*\)(.*offset=\(0x[0-9a-f]*\).*/\1 \2/p" > "$TRASH/calls" &&
	cat > "$TRASH/want" <<-\EOF &&
	memory_object_data_request 0x0
	memory_object_data_supply 0x0
	memory_object_data_request 0x1000
	memory_object_lock_request 0x0
	memory_object_data_supply 0x1000
	memory_object_data_return 0x0
	memory_object_lock_completed 0x0
	EOF
	test_cmp "$TRASH/want" "$TRASH/calls"
'

test_expect_success 'a lock_request over a requested page completes before its data comes' '
	cat > "$TRASH/rules2" <<-\EOF &&
	on init ready
	on data_request lock 0 4p lock=write reply=1
	on lock_completed supply 0 1p lock=none
	EOF
	printf "read 0\n" > "$TRASH/map2" &&
	guest 2 &&
	echo "read 0 0" > "$TRASH/want2" &&
	test_cmp "$TRASH/want2" "$TRASH/out2" &&
	grep "^k0" "$TRASH/log2" | sed -n "s/^k0. \(memory_object_[a-z_]*\)(.*/\1/p" > "$TRASH/calls2" &&
	cat > "$TRASH/want2" <<-\EOF &&
	memory_object_init
	memory_object_ready
	memory_object_data_request
	memory_object_lock_request
	memory_object_lock_completed
	memory_object_data_supply
	memory_object_terminate
	EOF
	test_cmp "$TRASH/want2" "$TRASH/calls2"
'

test_done
