#!/bin/sh
# t1026: mach_msg writes a message to the peer's socket after letting the
# library's lock go (mach/link.c, "Deferred writes"): a peer woken by the
# write that takes the CPU from the sender then finds no thread of the
# sender's process waiting for a lock held by one that waits for a CPU.
# Several threads sending on one link at once lose nothing and keep each
# thread's order. Real processes: tests/mach/mach-sendlock, whose send()
# and sendmsg() see whether the writing thread holds the library's lock.
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-sendlock"
S="$TRASH/sock"
mkdir -m 700 "$S"

# run N THREADS: a server for N messages and a sender in THREADS threads.
run() {
	rm -f "$S/a" "$TRASH/s.out"
	"$P" serve "unix:$S/a" "$1" >"$TRASH/s.out" 2>"$TRASH/s.err" &
	s_pid=$!
	wait_until 10 test -s "$TRASH/s.out" &&
	"$P" send "unix:$S/a" "$1" "$2" >"$TRASH/c.out" 2>"$TRASH/c.err" &&
	wait $s_pid &&
	cat "$TRASH/c.out" "$TRASH/s.out" &&
	grep -q "^received $1, each thread's in order$" "$TRASH/s.out"
}

test_expect_success 'one thread: every write inside mach_msg runs without the lock' '
	run 2000 1 &&
	grep "^sent 2000 in 1 threads; socket writes inside mach_msg: 0 with the library.s lock held, [0-9]* without$" "$TRASH/c.out" &&
	n=$(sed -n "s/.*, \([0-9]*\) without$/\1/p" "$TRASH/c.out") &&
	test "$n" -ge 1 && test "$n" -le 2000
'

test_expect_success 'eight threads on one link: all arrive, each in order, none written under the lock' '
	run 8000 8 &&
	grep "^sent 8000 in 8 threads; socket writes inside mach_msg: 0 with the library.s lock held" "$TRASH/c.out"
'

test_expect_success 'a peer that stops reading: the queue drains once it reads again, nothing lost' '
	rm -f "$S/a" "$TRASH/s.out"
	"$P" serve "unix:$S/a" 3000 >"$TRASH/s.out" 2>"$TRASH/s.err" &
	s_pid=$!
	wait_until 10 test -s "$TRASH/s.out" &&
	kill -STOP $s_pid &&
	{ "$P" send "unix:$S/a" 3000 4 >"$TRASH/c.out" 2>"$TRASH/c.err" & c_pid=$!; } &&
	sleep 1 &&
	kill -CONT $s_pid &&
	wait $c_pid && wait $s_pid &&
	cat "$TRASH/c.out" "$TRASH/s.out" &&
	grep -q "^received 3000, each thread.s in order$" "$TRASH/s.out"
'

test_expect_success 'usage errors exit 2' '
	{ "$P" send "unix:$S/a" 10 99 2>"$TRASH/u.err"; test $? = 2; } &&
	grep "1 to 16 threads" "$TRASH/u.err" &&
	{ "$P" send "unix:$S/a" 2>"$TRASH/u.err"; test $? = 2; } &&
	grep "^usage: mach-sendlock" "$TRASH/u.err"
'

test_done
