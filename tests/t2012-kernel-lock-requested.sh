#!/bin/sh
# A lock_request over a page the kernel has requested (data_request sent,
# no data yet) does not wait for that page: GNU Mach marks a requested
# page absent before data_request (vm/vm_fault.c, vm_fault_page) and
# memory_object_lock_page answers DONE for an absent page, so the walk of
# memory_object_lock_request (vm/memory_object.c) passes it and
# lock_completed goes out before the supply (tests/t4014 shows it on GNU
# Mach). A pager that waits for lock_completed before it supplies the
# page must work under mo-map's kernel as it does there.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# tp RULES: mo-testpager with RULES at $ADDR, in the background.
tp() {
	ADDR="unix:$TRASH/s/tp"
	rm -f "$TRASH/s/tp"
	"$B/tests/kernel/mo-testpager" "$ADDR" "$1" 2> "$TRASH/tp.err" &
	echo $! > "$TRASH/tp.pid"
	wait_for test -S "$TRASH/s/tp"
}

# calls LOG: the memory_object_* calls of the normalised log, one a line.
calls() {
	norm "$1" | sed -n "s/^k0. \(memory_object_[a-z_]*\)(.*/\1/p"
}

test_expect_success 'a pager that supplies on lock_completed ends the fault' '
	cat > "$TRASH/r1" <<-\EOF &&
	on init ready
	on data_request lock 0 4p lock=write reply=1
	on lock_completed supply 0 1p lock=none
	EOF
	printf "read 0\n" > "$TRASH/m1" &&
	tp "$TRASH/r1" &&
	run_map --log "$TRASH/l1" "$ADDR" "$TRASH/m1" > "$TRASH/o1" &&
	stop_pager tp &&
	echo "read 0 0" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/o1" &&
	calls "$TRASH/l1" > "$TRASH/got" &&
	cat > "$TRASH/want" <<-\EOF &&
	memory_object_init
	memory_object_ready
	memory_object_data_request
	memory_object_lock_request
	memory_object_lock_completed
	memory_object_data_supply
	memory_object_terminate
	EOF
	test_cmp "$TRASH/want" "$TRASH/got"
'

# The walk passes the requested page and goes on: the dirty page before
# it goes back and is flushed, then lock_completed, then the supply.
test_expect_success 'the walk passes the requested page and acts on the others' '
	cat > "$TRASH/r2" <<-\EOF &&
	on init ready
	on data_request supply = = lock=none
	on data_request lock 0 4p return=dirty flush=1 reply=1
	on data_request supply = = lock=none
	on lock_completed supply 1p 1p lock=none
	EOF
	cat > "$TRASH/m2" <<-\EOF &&
	write 0 7
	read 1p
	read 0
	EOF
	tp "$TRASH/r2" &&
	run_map --log "$TRASH/l2" "$ADDR" "$TRASH/m2" > "$TRASH/o2" &&
	stop_pager tp &&
	printf "read 0x1000 0\nread 0 0\n" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/o2" &&
	norm "$TRASH/l2" | sed -n "s/^k0. \(memory_object_[a-z_]*\)(.*offset=\(0x[0-9a-f]*\).*/\1 \2/p" > "$TRASH/got" &&
	cat > "$TRASH/want" <<-\EOF &&
	memory_object_data_request 0x0
	memory_object_data_supply 0x0
	memory_object_data_request 0x1000
	memory_object_lock_request 0x0
	memory_object_data_return 0x0
	memory_object_lock_completed 0x0
	memory_object_data_supply 0x1000
	memory_object_data_request 0x0
	memory_object_data_supply 0x0
	EOF
	test_cmp "$TRASH/want" "$TRASH/got"
'

test_done
