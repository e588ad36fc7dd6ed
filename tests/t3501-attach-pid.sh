#!/bin/sh
# motrace -p PID on pagers that run without motrace (doc/attach.md):
# eight kernels fault continuously through mo-coherent while motrace
# attaches and detaches twenty times (exact totals, no diagnostic); a
# breakpoint while attached stops a message and continue lets it go;
# motrace killed with SIGKILL while it holds messages: the pager delivers
# them and the workload finishes; another user, a process that is no
# pager, a second tracer: refused, in words.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
. "$TOP/tests/lib-kernels.sh"

held_at_least() {
	test -f "$2" && test "$(grep -c "\[held\]" "$2")" -ge "$1"
}

start_pager mo-coherent 16p
pid=$(cat "$TRASH/mo-coherent.pid")

test_expect_success 'twenty attaches and detaches while eight kernels fault: exact totals, no diagnostic' '
	kernels 8 1500 &&
	sleep 0.3 &&
	n=1 &&
	while [ $n -le 20 ]; do
		"$MOTRACE" --no-time -p $pid -o "$TRASH/a$n.log" -batch -ex "wait 100ms" || exit 1
		n=$((n + 1))
	done &&
	all_done 8 &&
	totals 12000 &&
	test "$(grep -l -F "0 diagnostic(s)" "$TRASH"/a*.log | wc -l)" = 20 &&
	test "$(grep -l "^k[0-9]*[<>] memory_object_" "$TRASH"/a*.log | wc -l)" -ge 15 &&
	grep -q "^+++ kernel 7: object 0, control port [0-9]*, page size 0x1000, set up before motrace attached" "$TRASH/a10.log" &&
	grep -q "^+++ detached from pid $pid" "$TRASH/a10.log"
'
test_expect_success 'info kernels while attached names the kernels set up before' '
	kernels 2 300 &&
	info_kernels() {
		"$MOTRACE" --no-time -p $pid -o "$TRASH/info.log" -batch -ex "info kernels" -ex "info objects" > "$TRASH/info.out" &&
		grep -q "^kernel 1: object 0, control port [0-9]* (pid $pid.s)" "$TRASH/info.out"
	} &&
	wait_until 20 info_kernels &&
	grep -q "^object 0: published at unix:$TRASH/s/mo-coherent by pid $pid" "$TRASH/info.out" &&
	all_done 2 &&
	totals 12600
'
test_expect_success 'a breakpoint while attached stops a message; continue lets it go' '
	printf "read 0\n" > "$TRASH/one.map" &&
	{ "$MOTRACE" --no-time -p $pid -o "$TRASH/bp.log" -e hold=data_request \
		-batch -ex "expect \[held\] within 10s" -ex "wait 1s" -ex "continue" \
		-ex "expect data_supply within 10s" > "$TRASH/bp.out" 2>&1 & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/bp.log" &&
	{ { rc=0; run_map --size 4p --offset 8p "$ADDR" "$TRASH/one.map" > "$TRASH/bp.map" 2>&1 || rc=$?; echo $rc > "$TRASH/bp.rc"; } & } &&
	wait_until 10 grep -q "memory_object_data_request(.*\[held\]" "$TRASH/bp.log" &&
	sleep 0.3 &&
	test ! -s "$TRASH/bp.rc" &&
	wait $mt &&
	wait_until 10 test -s "$TRASH/bp.rc" &&
	test "$(cat "$TRASH/bp.rc")" = 0 &&
	grep -q "memory_object_data_request(.*\[released\]" "$TRASH/bp.log" &&
	grep -F "continuing: 1 message(s) let go" "$TRASH/bp.out"
'
# Attached before the kernels start, so that the workload cannot end
# before the attach however slow the machine; killed whatever happens, so
# that a later test finds the pager free.
# The first data_request held on a queue holds the ones behind it too,
# without a [held] line of their own: how many lines say [held] depends
# on the order the kernels came in (two of eight, under load).
test_expect_success 'motrace killed with SIGKILL while it holds messages: the pager delivers them, exact totals' '
	{ "$MOTRACE" --no-time -p $pid -o "$TRASH/k9.log" -e hold=data_request 2> "$TRASH/k9.err" & } &&
	mt=$! &&
	held=0 &&
	{ wait_until 20 grep -q "^+++ attached to pid" "$TRASH/k9.log" &&
	  kernels 8 300 &&
	  wait_until 20 held_at_least 1 "$TRASH/k9.log" && sleep 0.3 || held=1; } &&
	kill -9 $mt &&
	{ wait $mt; true; } &&
	test $held = 0 &&
	all_done 8 &&
	totals 15000
'
test_expect_success 'another user may not attach' '
	id nobody > /dev/null 2>&1 || { echo "no user nobody"; exit 1; }
	st=0 &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$MOTRACE" -p $pid > "$TRASH/nobody.out" 2> "$TRASH/nobody.err" || st=$?
	cat "$TRASH/nobody.err" &&
	test "$st" = 1 &&
	grep -F "only that user or root may attach" "$TRASH/nobody.err" &&
	kill -0 $pid
'
test_expect_success 'the control socket is 0600 in a folder of the user, mode 0700' '
	test -S "/tmp/motrace-$(id -u)/$pid" &&
	test "$(stat -c %a "/tmp/motrace-$(id -u)/$pid")" = 600 &&
	test "$(stat -c %a "/tmp/motrace-$(id -u)")" = 700
'
test_expect_success 'a second tracer is refused while one is attached' '
	"$MOTRACE" --no-time -p $pid -o "$TRASH/first.log" -batch -ex "wait 2s" &
	first=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/first.log" &&
	st=0 && "$MOTRACE" -p $pid -batch 2> "$TRASH/second.err" || st=$?
	cat "$TRASH/second.err" &&
	test "$st" = 1 &&
	grep -F "refused: pid $pid is traced already: detach the other tracer first" "$TRASH/second.err" &&
	wait $first
'
test_expect_success 'a process that is no pager, and no process: said so' '
	sleep 30 & other=$! &&
	st=0 && "$MOTRACE" -p $other 2> "$TRASH/np.err" || st=$?
	kill $other &&
	test "$st" = 1 &&
	grep -F "motrace: -p $other: pid $other has no control socket" "$TRASH/np.err" &&
	grep -F "it is not a pager on libmotrace-mach" "$TRASH/np.err" &&
	st=0 && "$MOTRACE" -p 2147483646 2> "$TRASH/none.err" || st=$?
	test "$st" = 1 &&
	grep -F "motrace: -p 2147483646: no such process" "$TRASH/none.err" &&
	st=0 && "$MOTRACE" -p nonsense 2> "$TRASH/bad.err" || st=$?
	test "$st" = 1 &&
	grep -F "give a pid or unix:PATH" "$TRASH/bad.err"
'
test_expect_success '-p with a PAGER or --listen is a usage error' '
	st=0 && "$MOTRACE" -p $pid -- true 2> "$TRASH/u.err" || st=$?
	test "$st" = 2 && grep -F "give no --listen, --to or PAGER with it" "$TRASH/u.err"
'
stop_pager mo-coherent
test_done
