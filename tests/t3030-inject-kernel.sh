#!/bin/sh
# Injected messages: byte for byte what MIG's user stubs send, and each
# call an inject rule can send to a kernel, sent to the Linux-hosted
# kernel (mo-map) with its effect seen: a flushed page faults again, an
# answer asked for comes back, supplied data is what the kernel reads. A
# message that cannot be delivered is an error in the log, not [injected].
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# live NAME WORKLOAD MOTRACE-ARGS...: motrace -- mo-filepager over NAME.data
# (its first word 0x4142434445464748), then mo-map runs WORKLOAD (a printf
# format). NAME.log is the trace, NAME.map.out mo-map's output, NAME.rc
# motrace's status.
live() {
	name=$1 work=$2
	shift 2
	ADDR="unix:$TRASH/s/$name"
	{ printf 'HGFEDCBA'; head -c 65528 /dev/zero; } > "$TRASH/$name.data"
	printf "$work" > "$TRASH/$name.map"
	{ st=0; timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" || st=$?;
	  echo $st > "$TRASH/$name.rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/$name" || return 1
	timeout 20 "$B/mo-map" -v "$ADDR" "$TRASH/$name.map" > "$TRASH/$name.map.out" 2> "$TRASH/$name.map.err"
	maprc=$?
	wait $mt
	cat "$TRASH/$name.log"
	! grep "ignored" "$TRASH/$name.map.err" &&
	return $maprc
}

# requests NAME PAGE: how many data_requests of PAGE the trace has.
requests() {
	grep -c "^k0> memory_object_data_request(.*\[page $2\]" "$TRASH/$1.log"
}

SUPPLY_ZERO='memory_object_data_supply(ctl=$ctl, offset=$offset, data=0 [4096 bytes, out-of-line, dealloc], lock_value=VM_PROT_NONE, precious=FALSE'

test_expect_success 'every injectable call is the bytes of MIG'\''s stub for its arguments' '
	"$B/tests/tracer/inject-mig"
'
test_expect_success 'lock_request with reply_to=0 (a null port) flushes: the page faults again' '
	live flush "read 0\nsleep 100\nread 0\n" -e "inject=data_supply:when=1:send=memory_object_lock_request(ctl=\$ctl, offset=0, size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE, lock_value=VM_PROT_NONE, reply_to=0)" &&
	grep "lock_request(.*reply_to=0) \[injected\]" "$TRASH/flush.log" &&
	test "$(requests flush 0)" = 2 &&
	grep -F "0 diagnostic(s)" "$TRASH/flush.log"
'
test_expect_success 'lock_request with reply_to=1: its lock_completed comes back, to the port the log names' '
	live flushrep "read 0\nsleep 100\nread 0\n" -e "inject=data_supply:when=1:send=memory_object_lock_request(ctl=\$ctl, offset=0, size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE, lock_value=VM_PROT_NONE, reply_to=1)" &&
	rp=$(sed -n "s/.*lock_request(.*reply_to=\([0-9]*\)) \[injected\]/\1/p" "$TRASH/flushrep.log") &&
	test -n "$rp" && test "$rp" != 1 &&
	grep "^k0> memory_object_lock_completed(obj=$rp, .*offset=0x0 \[page 0\], length=0x1000) \[consumed\]" "$TRASH/flushrep.log" &&
	test "$(requests flushrep 0)" = 2
'
test_expect_success 'data_supply: the kernel reads the injected data, not the pager'\''s' '
	live supply "expect 0 0\n" -e drop=data_supply:when=1 \
		-e "inject=data_request:when=1:send=$SUPPLY_ZERO, reply_to=0)" &&
	grep "data_supply(.*\[injected\]" "$TRASH/supply.log"
'
test_expect_success 'data_supply with reply_to=1 and a page the kernel holds: supply_completed comes back' '
	live supplyrep "read 0\nsleep 100\n" -e "inject=data_supply:when=1:send=$SUPPLY_ZERO, reply_to=1)" &&
	grep "^k0> memory_object_supply_completed(.*result=23 /\* KERN_MEMORY_PRESENT or ENFILE \*/.*\[consumed\]" "$TRASH/supplyrep.log" &&
	grep -F "read 0 0x4142434445464748" "$TRASH/supplyrep.map.out"
'
test_expect_success 'data_unavailable: the page is zero-filled' '
	live unavail "expect 0 0\n" -e drop=data_supply:when=1 \
		-e "inject=data_request:when=1:send=memory_object_data_unavailable(ctl=\$ctl, offset=\$offset, size=\$length)" &&
	grep "data_unavailable(.*\[injected\]" "$TRASH/unavail.log"
'
test_expect_success 'data_error: the fault is a memory error' '
	live error "expect-error 0\n" -e drop=data_supply:when=1 \
		-e "inject=data_request:when=1:send=memory_object_data_error(ctl=\$ctl, offset=\$offset, size=\$length, error_value=KERN_MEMORY_ERROR)" &&
	grep "data_error(.*\[injected\]" "$TRASH/error.log" &&
	grep -F "memory error at 0" "$TRASH/error.map.out"
'
test_expect_success 'ready: the pager'\''s is dropped, motrace'\''s lets the faults go on' '
	live ready "expect 0 0x4142434445464748\n" -e drop=ready \
		-e "inject=init:send=memory_object_ready(ctl=\$ctl, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_DELAY)" &&
	grep "ready(.*\[dropped\]" "$TRASH/ready.log" &&
	grep "ready(.*\[injected\]" "$TRASH/ready.log"
'
test_expect_success 'change_attributes with reply_to=1: change_completed comes back' '
	live change "read 0\nsleep 100\n" -e "inject=data_supply:when=1:send=memory_object_change_attributes(ctl=\$ctl, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_DELAY, reply_to=1)" &&
	grep "^k0> memory_object_change_completed(.*\[consumed\]" "$TRASH/change.log"
'
test_expect_success 'get_attributes: the kernel'\''s reply comes back' '
	live getattr "read 0\nsleep 100\n" -e "inject=data_supply:when=1:send=memory_object_get_attributes(ctl=\$ctl, reply=1)" &&
	grep "^k0> memory_object_get_attributes_reply(.*RetCode=KERN_SUCCESS, object_ready=TRUE.*\[consumed\]" "$TRASH/getattr.log"
'
test_expect_success 'destroy: a later fault is a memory error' '
	live destroy "read 0\nsleep 100\nexpect-error 1p\n" -e "inject=data_supply:when=1:send=memory_object_destroy(ctl=\$ctl, reason=KERN_SUCCESS)" &&
	grep "destroy(.*\[injected\]" "$TRASH/destroy.log" &&
	grep -F "memory error at 0x1000" "$TRASH/destroy.map.out"
'
test_expect_success 'data_request to the manager, as if from the kernel: its supply makes the page resident' '
	live request "read 0\nsleep 100\nexpect 1p 0\n" -e "inject=data_supply:when=1:send=memory_object_data_request(obj=\$obj, ctl=\$ctl, offset=0x1000, length=0x1000, desired_access=VM_PROT_READ)" &&
	grep "^k0> memory_object_data_request(.*\[page 1\].*\[injected\]" "$TRASH/request.log" &&
	grep "^k0< memory_object_data_supply(.*\[page 1\]" "$TRASH/request.log" &&
	test "$(grep -c "^k0> memory_object_data_request(.*\[page 1\]" "$TRASH/request.log")" = 1 &&
	grep -F "0 diagnostic(s)" "$TRASH/request.log"
'
test_expect_success 'a message that cannot go is an error in the log, not [injected]' '
	live gone "read 0\n" -e "inject=terminate:send=memory_object_data_unavailable(ctl=\$ctl, offset=0, size=0x1000)" &&
	! grep "\[injected\]" "$TRASH/gone.log" &&
	grep "^+++ inject inject=terminate:.*: not sent: kernel 0 is gone (it terminated object 0, or died) +++" "$TRASH/gone.log"
'
test_expect_success 'a message whose kernel died meanwhile: not delivered, said in words' '
	ADDR="unix:$TRASH/s/dead" &&
	head -c 65536 /dev/zero > "$TRASH/dead.data" &&
	{ timeout 30 "$MOTRACE" --no-time -o "$TRASH/dead.log" -e hold=data_supply:when=1 -batch \
		-ex "expect [held] within 10s" -ex "wait 1s" -ex "release all" -ex "wait 300ms" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/dead.data" > "$TRASH/dead.out" 2>&1 & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/dead" &&
	printf "read 0\n" > "$TRASH/dead.map" &&
	{ "$B/mo-map" "$ADDR" "$TRASH/dead.map" > /dev/null 2>&1 & } &&
	map=$! &&
	wait_for grep -q "\[held\]" "$TRASH/dead.log" &&
	kill -9 $map && wait $mt &&
	cat "$TRASH/dead.log" &&
	grep -F "+++ data_supply to kernel 0'\''s control port was not delivered: MACH_SEND_INVALID_DEST: the port is gone +++" "$TRASH/dead.log"
'
test_done
