#!/bin/sh
# The engine's waiting queues are bounded: past 4096 waiting messages
# (held, delayed, or behind one that is) the oldest goes on before its
# time, in order, said in the log; none is lost, and what the queues took
# is given back when they drain.
. "$(dirname "$0")/lib.sh"

# requests N: an init, then N data_requests of pages 0..N-1.
requests() {
	echo "k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)"
	i=0
	while [ $i -lt "$1" ]; do
		printf "k0> memory_object_data_request(obj=5, ctl=7, offset=0x%x000, length=0x1000, desired_access=VM_PROT_READ)\n" $i
		i=$((i + 1))
	done
}

test_expect_success 'hold everything, 5000 messages: the oldest 904 go on early, in order, logged' '
	requests 5000 > "$TRASH/h.in" &&
	"$MOTRACE" check --no-time -e hold=data_request "$TRASH/h.in" > "$TRASH/h.out" 2>&1 &&
	grep -F "+++ 4096 message(s) wait, the most there may be: the oldest went on before its time (1 so far) +++" "$TRASH/h.out" &&
	grep -F "(512 so far)" "$TRASH/h.out" &&
	test "$(grep -c "^k0> memory_object_data_request(.*\[released\]$" "$TRASH/h.out")" = 904 &&
	grep "\[released\]$" "$TRASH/h.out" | sed -n "1p;904p" > "$TRASH/ends" &&
	grep -q "offset=0x0 \[page 0\]" "$TRASH/ends" &&
	grep -q "offset=0x387000 \[page 903\]" "$TRASH/ends" &&
	grep -F "+++ 4096 message(s) still waiting were not passed on +++" "$TRASH/h.out"
'
test_expect_success 'delayed, 6000 messages: every one is passed on, none lost' '
	requests 6000 > "$TRASH/d.in" &&
	"$MOTRACE" check --no-time --pages --request-timeout 100 -e delay=data_request:by=1s "$TRASH/d.in" > "$TRASH/d.out" 2>&1 &&
	grep -F "object 0 kernel 0: initialised, control 7, page size 0x1000, 6000 page(s) known" "$TRASH/d.out" &&
	test "$(grep -c "^  [0-9]* *requested" "$TRASH/d.out")" = 6000 &&
	! grep -F "still waiting" "$TRASH/d.out"
'
test_done
