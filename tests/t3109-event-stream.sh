#!/bin/sh
# The trace's event stream (tracer/trace.h, mo_trace_subscribe): two
# subscribers see the same events, notes and diagnostics in the same
# order, the end of the session last; one added mid-session sees only
# what follows.
. "$(dirname "$0")/lib.sh"

S="$B/tests/tracer/subscribers"

test_expect_success 'two subscribers, one more mid-session: the same stream, from where each came in' '
	cat > "$TRASH/s.in" <<-\IN &&
	note session starts
	k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)
	k0< memory_object_ready(ctl=7, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_DELAY)
	k0> memory_object_data_request(obj=5, ctl=7, offset=0x3000, length=0x1000, desired_access=VM_PROT_READ)
	k0< memory_object_data_supply(ctl=7, offset=0x3000, data=0x10000 [4096 bytes], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=0)
	join
	k0> memory_object_data_unlock(obj=5, ctl=7, offset=0x3000, length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE)
	k0< memory_object_data_supply(ctl=8, offset=0x5000, data=0x10000 [4096 bytes], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=0)
	note in the middle
	k0> memory_object_terminate(obj=5, ctl=7, name=9)
	IN
	"$S" "$TRASH/s.in" > "$TRASH/s.out" &&
	cat > "$TRASH/s.want" <<-\OUT &&
	note session starts
	event 0 > k0 o0 memory_object_init
	event 0 < k0 o0 memory_object_ready
	event 0 > k0 o0 memory_object_data_request
	event 0 < k0 o0 memory_object_data_supply
	event 2 > k0 o0 memory_object_data_unlock
	event 0 < k0 o4294967295 memory_object_data_supply
	diag wrong-control k0 o4294967295
	note in the middle
	event 0 > k0 o0 memory_object_terminate
	end 1
	OUT
	test_cmp "$TRASH/s.want" "$TRASH/s.out"
'

test_done
