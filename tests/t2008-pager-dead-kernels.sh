#!/bin/sh
# A kernel whose control port dies (mo-map killed with -9) is forgotten
# by every pager (dead-name notification), as at terminate: its slot is
# free again, and mo-coherent neither waits for its answers nor keeps
# its copies. A kernel refused for want of slots gets memory errors,
# not a wait for ever.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# maps N PREFIX SCRIPT: starts N mo-map processes over $ADDR running
# SCRIPT (which must echo "mapped" and then sleep), waits until each has
# said it, and leaves their pids in $TRASH/PREFIX.pids.
maps() {
	: > "$TRASH/$2.pids"
	n=0
	while [ $n -lt $1 ]; do
		timeout 120 "$B/mo-map" --size 4p "$ADDR" "$3" > "$TRASH/$2.$n.out" 2>&1 &
		echo $! >> "$TRASH/$2.pids"
		n=$((n + 1))
	done
	n=0
	while [ $n -lt $1 ]; do
		wait_for grep -q mapped "$TRASH/$2.$n.out" || return 1
		n=$((n + 1))
	done
}

# kill_maps PREFIX: kill -9 (timeout's child, mo-map itself), then reap.
kill_maps() {
	for p in $(cat "$TRASH/$1.pids"); do
		pkill -9 -P "$p" 2>/dev/null
	done
	for p in $(cat "$TRASH/$1.pids"); do
		wait "$p" 2>/dev/null
	done
	return 0
}

gone() {
	test "$(grep -c "is gone (dead name)" "$TRASH/$1.err")" -ge "$2"
}

printf "read 0\necho mapped\nsleep 100000\n" > "$TRASH/hold"

# ROUNDS of 8 killed kernels: more than the pager's slots.
more_than_slots() {
	pager=$1 rounds=$2
	r=0
	while [ $r -lt $rounds ]; do
		maps 8 "k$r" "$TRASH/hold" && kill_maps "k$r" || return 1
		r=$((r + 1))
	done
	wait_for gone "$pager" $((rounds * 8))
}

test_expect_success 'mo-filepager: 72 kernels killed with -9, then a new one maps' '
	printf "hello world\n" > "$TRASH/f" && truncate -s 16K "$TRASH/f" &&
	start_pager mo-filepager -v "$TRASH/f" &&
	more_than_slots mo-filepager 9 &&
	printf "expect 0 0x6f77206f6c6c6568\nwrite 8 7\n" | run_map --size 4p "$ADDR" - &&
	stop_pager mo-filepager
'

test_expect_success 'mo-coherent: 40 kernels killed with -9, then a new one maps' '
	start_pager mo-coherent -v 16p &&
	more_than_slots mo-coherent 5 &&
	printf "write 0 1\nexpect 0 1\n" | run_map --size 4p "$ADDR" - &&
	stop_pager mo-coherent
'

test_expect_success 'mo-faulty forgets the dead kernels too' '
	start_pager mo-faulty -v --bug=none &&
	maps 8 f "$TRASH/hold" && kill_maps f &&
	wait_for gone mo-faulty 8 &&
	stop_pager mo-faulty
'

test_expect_success 'mo-coherent: a dead writer is not waited for; its copy is gone' '
	start_pager mo-coherent 16p &&
	printf "write 0 0x1234\necho mapped\nsleep 100000\n" > "$TRASH/writer" &&
	maps 1 w "$TRASH/writer" && kill_maps w &&
	printf "expect 0 0\nwrite 0 5\nexpect 0 5\n" | run_map --size 4p "$ADDR" - &&
	stop_pager mo-coherent
'

test_expect_success 'mo-coherent: dead readers are not asked to flush' '
	start_pager mo-coherent -v 16p &&
	maps 3 rd "$TRASH/hold" && kill_maps rd &&
	wait_for gone mo-coherent 3 &&
	printf "write 0 9\nexpect 0 9\n" | run_map --log "$TRASH/wlog" --size 4p "$ADDR" - &&
	stop_pager mo-coherent &&
	! grep -q "should_flush=TRUE" "$TRASH/wlog" &&
	! grep -q "is gone, not asked" "$TRASH/mo-coherent.err"
'

test_expect_success 'a kernel past the last slot gets memory errors, not a wait' '
	start_pager mo-coherent 16p &&
	maps 32 live "$TRASH/hold" &&
	! printf "read 0\n" | run_map --size 4p "$ADDR" - 2> "$TRASH/refused.err" &&
	kill_maps live &&
	stop_pager mo-coherent &&
	cat "$TRASH/refused.err" &&
	grep -q "line 1: memory error at offset 0" "$TRASH/refused.err" &&
	grep -q "mo-coherent: init: kernel refused (32 kernels already" "$TRASH/mo-coherent.err"
'

test_done
