#!/bin/sh
# The proxy with the Linux-hosted kernel and mo-filepager: a golden trace
# in deterministic mode, each rule kind on live traffic, a kernel killed
# mid-stream.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# live NAME SCRIPT-FILE MOTRACE-ARGS...: motrace -- mo-filepager, then
# mo-map runs SCRIPT-FILE; motrace stops when the kernel has gone.
# Leaves NAME.log (the trace), NAME.map.out, NAME.rc (motrace's status).
live() {
	name=$1 script=$2
	shift 2
	ADDR="unix:$TRASH/s/$name"
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	{ st=0; timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" || st=$?;
	  echo $st > "$TRASH/$name.rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/$name" || return 1
	timeout 20 "$B/mo-map" "$ADDR" "$script" > "$TRASH/$name.map.out" 2> "$TRASH/$name.map.err"
	maprc=$?
	wait $mt
	sed "s|$TRASH|TRASH|g" "$TRASH/$name.log" > "$TRASH/$name.norm"
	return $maprc
}

test_expect_success 'deterministic mode: the demo trace is the golden one' '
	live golden examples/demo.map &&
	test "$(cat "$TRASH/golden.rc")" = 0 &&
	test_cmp tests/golden/live-demo.out "$TRASH/golden.norm"
'
test_expect_success 'delay: the supply comes later (-T shows it), the data is intact' '
	live delay examples/demo.map -T -e delay=data_supply:by=200ms:when=2 --no-time &&
	grep -c "memory_object_data_supply(.*\[delayed 0.2[0-9]*s\]" "$TRASH/delay.log" | grep -x 1 &&
	! grep "memory_object_data_supply(.*\[released\]" "$TRASH/delay.log" &&
	grep -F "read 0x1000 0" "$TRASH/delay.map.out"
'
test_expect_success 'hold and release from a batch script; the workload completes' '
	printf "hold data_supply:when=1\nexpect [held] within 10s\nwait 200ms\ninfo kernels\nrelease all\nexpect terminate within 10s\nquit\n" > "$TRASH/hold.x" &&
	live hold examples/demo.map -batch -x "$TRASH/hold.x" &&
	test "$(cat "$TRASH/hold.rc")" = 0 &&
	grep "memory_object_data_supply(.*\[held\]" "$TRASH/hold.log" &&
	grep "memory_object_data_supply(.*\[released\]" "$TRASH/hold.log" &&
	grep -F "released 1 message(s)" "$TRASH/hold.out" &&
	grep -F "+++ held as 1: '\''release 1'\'' lets it go +++" "$TRASH/hold.log"
'
test_expect_success 'inject: a lock_request the manager never sent; its lock_completed stays with motrace' '
	live inject examples/demo.map -e "inject=data_request:when=2:send=memory_object_lock_request(ctl=\$ctl, offset=0x0, size=0x1000, should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=FALSE, lock_value=VM_PROT_WRITE, reply_to=1)" &&
	test "$(cat "$TRASH/inject.rc")" = 0 &&
	grep "k0< memory_object_lock_request(ctl=[0-9]*, offset=0x0 \[page 0\], size=0x1000, should_return=MEMORY_OBJECT_RETURN_DIRTY.*\[injected\]" "$TRASH/inject.log" &&
	grep "k0> memory_object_lock_completed(.*offset=0x0 \[page 0\], length=0x1000) \[consumed\]" "$TRASH/inject.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/inject.log"
'
# traced NAME MOTRACE-ARGS...: motrace -- mo-filepager in the background
# ($mt; NAME.log the trace, NAME.rc its status once it ends); $ADDR.
traced() {
	name=$1
	shift
	ADDR="unix:$TRASH/s/$name"
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	{ st=0; timeout 30 "$MOTRACE" --no-time -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" 2> "$TRASH/$name.err" || st=$?;
	  echo $st > "$TRASH/$name.rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/$name"
}

test_expect_success 'drop: the dropped supply leaves the reader waiting' '
	printf "read 0\n" > "$TRASH/one.map" &&
	traced drop -e drop=data_supply &&
	{ timeout -s TERM 1 "$B/mo-map" "$ADDR" "$TRASH/one.map" > /dev/null 2>&1; test $? = 124; } &&
	pkill -TERM -P $mt && wait $mt &&
	grep "memory_object_data_supply(.*\[dropped\]" "$TRASH/drop.log" &&
	! grep "memory_object_data_supply(" "$TRASH/drop.log" | grep -v "\[dropped\]" &&
	grep -F "+++ stopped by signal 15 +++" "$TRASH/drop.log"
'
test_expect_success 'a kernel killed mid-stream: motrace says so and ends cleanly' '
	printf "read 0\nsleep 10000\n" > "$TRASH/long.map" &&
	traced kill --exit-when-idle &&
	{ "$B/mo-map" "$ADDR" "$TRASH/long.map" > /dev/null 2>&1 & } &&
	map=$! &&
	wait_for grep -q data_supply "$TRASH/kill.log" &&
	kill -9 $map &&
	wait $mt &&
	test "$(cat "$TRASH/kill.rc")" = 0 &&
	grep -F "+++ kernel 0 went away: the model forgets its " "$TRASH/kill.log" &&
	tail -n 1 "$TRASH/kill.log" | grep -F "0 diagnostic(s)"
'
test_done
