#!/bin/sh
# attach and detach at the debugger's prompt (here in a batch script, the
# same commands): attach PID as -p does, detach one pager or all, detach
# drop; and what they say when there is nothing to act on.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

start_pager mo-coherent 16p
A=$(cat "$TRASH/mo-coherent.pid") ADDR_A=$ADDR
head -c 65536 /dev/zero > "$TRASH/f"
start_pager mo-filepager "$TRASH/f"
F=$(cat "$TRASH/mo-filepager.pid") ADDR_F=$ADDR

test_expect_success 'attach PID in a script: its traffic is traced; detach PID and detach end it' '
	printf "write 0 0x1234\nexpect 0 0x1234\n" > "$TRASH/w.map" &&
	"$MOTRACE" --no-time -p $A -o "$TRASH/log" -batch \
		-ex "attach $F" -ex "info objects" \
		-ex "echo go" -ex "expect data_supply within 10s" -ex "wait 300ms" \
		-ex "detach $A" -ex "detach" > "$TRASH/out" 2> "$TRASH/err" &
	mt=$! &&
	wait_until 10 grep -q "^go$" "$TRASH/out" &&
	run_map "$ADDR_F" "$TRASH/w.map" &&
	wait $mt &&
	cat "$TRASH/out" &&
	grep -F "attached to pid $F" "$TRASH/out" &&
	grep -q "^object 1: published at $ADDR_F by pid $F" "$TRASH/out" &&
	grep -F "detached from pid $A" "$TRASH/out" &&
	grep -F "detached from pid $F" "$TRASH/out" &&
	grep -q "^k[0-9]*< memory_object_data_supply(" "$TRASH/log" &&
	grep -F "0 diagnostic(s)" "$TRASH/log"
'
test_expect_success 'detach drop: a held message is dropped, the rest goes on; detach twice says so' '
	printf "read 1p\n" > "$TRASH/r.map" &&
	{ "$MOTRACE" --no-time -p $F -o "$TRASH/d.log" -e hold=data_request -batch \
		-ex "expect \[held\] within 10s" -ex "detach drop" -ex "detach" > "$TRASH/d.out" 2> "$TRASH/d.err" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached" "$TRASH/d.log" &&
	{ timeout -s TERM 3 "$B/mo-map" "$ADDR_F" "$TRASH/r.map" > /dev/null 2>&1; test $? = 124; } &&
	st=0 && wait $mt || st=$?
	cat "$TRASH/d.err" &&
	test "$st" = 1 &&
	grep "memory_object_data_request(.*\[dropped\]" "$TRASH/d.log" &&
	grep -F "motrace: detach: not attached to any pager" "$TRASH/d.err" &&
	run_map "$ADDR_F" "$TRASH/r.map"
'
test_expect_success 'attach with nothing there, detach of a pid not attached: said so' '
	st=0 && "$MOTRACE" -p $A -batch -ex "attach 2147483646" 2> "$TRASH/n.err" || st=$?
	test "$st" = 1 &&
	grep -F "motrace: -p 2147483646: no such process" "$TRASH/n.err" &&
	st=0 && "$MOTRACE" -p $A -batch -ex "detach 2147483646" 2> "$TRASH/n2.err" || st=$?
	test "$st" = 1 &&
	grep -F "motrace: detach: not attached to pid 2147483646" "$TRASH/n2.err"
'
stop_all_pagers
test_done
