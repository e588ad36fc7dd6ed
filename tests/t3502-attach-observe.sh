#!/bin/sh
# motrace -p PID --observe (doc/attach.md): the pager sends copies and
# never waits. The log, the model and the checker work on them; rules,
# breakpoints and stop are refused, saying why; a motrace that falls
# behind (stopped with SIGSTOP here) slows nothing down and is told how
# many copies it missed.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
. "$TOP/tests/lib-kernels.sh"

start_pager mo-coherent 16p
pid=$(cat "$TRASH/mo-coherent.pid")

test_expect_success 'observing eight kernels: the traffic in the log, no diagnostic, exact totals' '
	kernels 8 1000 2 &&
	sleep 0.2 &&
	"$MOTRACE" --no-time -p $pid --observe -o "$TRASH/o.log" -batch -ex "wait 1s" &&
	all_done 8 &&
	totals 8000 &&
	grep -F "+++ attached to pid $pid (observing: copies only) +++" "$TRASH/o.log" &&
	grep -q "^k[0-9]*< memory_object_lock_request(" "$TRASH/o.log" &&
	grep -q "^k[0-9]*> memory_object_data_return(" "$TRASH/o.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/o.log"
'
test_expect_success 'rules and breakpoints are refused, saying why' '
	st=0 && "$MOTRACE" -p $pid --observe -e hold=data_request 2> "$TRASH/r.err" || st=$?
	test "$st" = 2 &&
	grep -F "motrace: --observe: rules and breakpoints need the messages in motrace'\''s hands" "$TRASH/r.err" &&
	st=0 && "$MOTRACE" -p $pid --observe -o "$TRASH/b.log" -batch -ex "hold data_request" 2> "$TRASH/b.err" || st=$?
	test "$st" = 1 &&
	grep -F "motrace: hold: rules and breakpoints need the messages" "$TRASH/b.err" &&
	st=0 && "$MOTRACE" -p $pid --observe -o "$TRASH/s.log" -batch -ex "stop" 2> "$TRASH/s.err" || st=$?
	test "$st" = 1 &&
	grep -F "motrace: stop: rules and breakpoints need the messages" "$TRASH/s.err"
'
test_expect_success 'a stopped observer slows nothing down, and hears how many copies it missed' '
	{ "$MOTRACE" --no-time -p $pid --observe -o "$TRASH/slow.log" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/slow.log" &&
	kill -STOP $mt &&
	kernels 8 1500 2 &&
	all_done 8 &&
	totals 20000 &&
	kill -CONT $mt &&
	kernels 1 10 2 && all_done 1 &&
	wait_until 20 grep -q "message(s) not copied to motrace, which fell behind" "$TRASH/slow.log" &&
	kill -TERM $mt && wait $mt &&
	grep -F "0 diagnostic(s)" "$TRASH/slow.log"
'
# The pager's sends on the control socket while its observer is stopped:
# once the socket is full, it tries again only when the socket can take
# more, not once a message (each a system call in the pager's workers).
test_expect_success 'a stopped observer costs the pager no system call a message' '
	{ "$MOTRACE" --no-time -p $pid --observe -o "$TRASH/sys.log" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/sys.log" &&
	kill -STOP $mt &&
	{ strace -f -qq -e trace=sendto -e status=failed -o "$TRASH/sys.st" -p $pid & } &&
	st=$! &&
	wait_until 10 test -e "$TRASH/sys.st" &&
	sleep 0.5 &&
	kernels 4 1500 2 &&
	all_done 4 &&
	kill -INT $st && wait $st;
	kill -CONT $mt &&
	kill -TERM $mt && wait $mt &&
	n=$(grep -c "EAGAIN" "$TRASH/sys.st") &&
	echo "sends refused: $n" &&
	test "$n" -ge 1 && test "$n" -le 20
'
# calls FILE: the system calls strace saw (not the ends of calls it saw
# begin, nor its own notes).
calls() {
	grep -vc "resumed>\|restart_syscall\|detached\|attached" "$1"
}
# An observed pager with no traffic sleeps (and the same strace, with
# traffic, sees its calls): its control thread sets a
# timer for a burst of copies only once there is one.
test_expect_success 'an observed pager with no traffic makes no system call' '
	{ "$MOTRACE" --no-time -p $pid --observe -o "$TRASH/idle.log" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/idle.log" &&
	kernels 1 10 2 && all_done 1 &&
	sleep 0.3 &&
	{ strace -f -qq -o "$TRASH/idle.st" -p $pid & } &&
	st=$! &&
	sleep 2 &&
	kill -INT $st && wait $st;
	cat "$TRASH/idle.st" &&
	test "$(calls "$TRASH/idle.st")" -le 2 &&
	{ strace -f -qq -o "$TRASH/busy.st" -p $pid & } &&
	st=$! &&
	sleep 0.5 &&
	kernels 1 10 2 && all_done 1 &&
	kill -INT $st && wait $st;
	kill -TERM $mt && wait $mt &&
	test "$(calls "$TRASH/busy.st")" -gt 20
'
# policies PID: the scheduling policy of each of its threads (sched(7):
# 0 SCHED_OTHER, 5 SCHED_IDLE), one a line, sorted and counted.
policies() {
	for t in /proc/$1/task/*; do awk '{ print $41 }' "$t/stat"; done | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' '
}
test_expect_success 'observing, every thread of motrace runs at SCHED_IDLE; the pager keeps its own; --priority normal keeps motrace at its own' '
	{ "$MOTRACE" --no-time -p $pid --observe -o "$TRASH/pri.log" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/pri.log" &&
	p=$(policies $mt) && echo "motrace: $p" &&
	kill -TERM $mt && wait $mt &&
	case "$p" in *0x*) false ;; 5x*) ;; *) false ;; esac &&
	p=$(policies $pid) && echo "pager: $p" &&
	case "$p" in 0x*) ;; *) false ;; esac && case "$p" in *5x*) false ;; esac &&
	{ "$MOTRACE" --no-time -p $pid --observe --priority normal -o "$TRASH/pri2.log" & } &&
	mt=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/pri2.log" &&
	p=$(policies $mt) && echo "motrace: $p" &&
	kill -TERM $mt && wait $mt &&
	case "$p" in 0x*) ;; *) false ;; esac && case "$p" in *5x*) false ;; esac
'
test_expect_success '--priority takes idle or normal' '
	st=0 && "$MOTRACE" -p $pid --priority low 2> "$TRASH/p.err" || st=$?
	test "$st" = 2 &&
	grep -F "motrace: --priority: '\''low'\'' is neither idle nor normal" "$TRASH/p.err"
'
stop_pager mo-coherent
test_done
