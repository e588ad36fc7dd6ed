#!/bin/sh
# t1005: an idle process sleeps; floods of connections (idle ones,
# handshakes never finished, more than the descriptors allow) cost no
# thread each, no spinning, and the process serves on. Loopback and
# unix: sockets only, bounded counts.
. "$(dirname "$0")/lib.sh"
PROBE="$B/tests/mach/wire-probe"
S="$TRASH/s"
mkdir -m 700 "$S"
dd if=/dev/zero of="$TRASH/data.img" bs=4096 count=4 2>/dev/null

wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	test -s "$1"
}
# wait_sock PATH: until a socket is there (5 s at most).
wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	test -S "$1"
}
# Voluntary context switches of all of PID's threads: each sleep that
# ends (a poll that returns) counts one.
switches() {
	cat /proc/$1/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
threads() {
	awk '/^Threads:/ { print $2 }' /proc/$1/status
}
# wakeups PID: how often PID's threads woke up in one second.
wakeups() {
	a=$(switches $1); sleep 1; b=$(switches $1)
	echo $((b - a))
}

"$B/mo-filepager" "unix:$S/fp" "$TRASH/data.img" >"$TRASH/fp.out" 2>"$TRASH/fp.err" &
fp=$!
wait_sock "$S/fp"
sleep 0.5

test_expect_success 'an idle pager sleeps (at most 3 wake-ups in a second)' '
	n=$(wakeups $fp) && echo "$n wake-ups" &&
	test "$n" -le 3
'

test_expect_success 'so it does with 3 idle connections' '
	{ "$PROBE" "unix:$S/fp" idle 3 3 >"$TRASH/idle.out" & echo $! >"$TRASH/idle.pid"; } &&
	wait_for "$TRASH/idle.out" && sleep 0.3 &&
	n=$(wakeups $fp) && echo "$n wake-ups" &&
	test "$n" -le 3
'

test_expect_success '200 connections that never say hello take no thread each' '
	before=$(threads $fp) &&
	{ "$PROBE" "unix:$S/fp" hold 200 3 >"$TRASH/hold.out" & echo $! >"$TRASH/hold.pid"; } &&
	wait_for "$TRASH/hold.out" && sleep 0.5 &&
	during=$(threads $fp) && echo "threads: $before, then $during" &&
	test "$during" -le "$before"
'

test_expect_success 'meanwhile a real peer gets through' '
	timeout 10 "$PROBE" "unix:$S/fp" idle 1 0 >"$TRASH/one.out" &&
	grep "holding 1 connections" "$TRASH/one.out"
'

test_expect_success 'nothing said of peers that went away or never spoke' '
	while kill -0 $(cat "$TRASH/hold.pid") $(cat "$TRASH/idle.pid") 2>/dev/null; do
		sleep 0.1; done &&
	sleep 0.5 && cat "$TRASH/fp.err" &&
	! grep -v "^mo-filepager: serving at" "$TRASH/fp.err"
'
kill $fp 2>/dev/null; wait

# Out of descriptors: 12 at most, fewer than the connections.
( ulimit -n 12 && exec "$B/mo-filepager" "unix:$S/low" "$TRASH/data.img" ) \
	>"$TRASH/low.out" 2>"$TRASH/low.err" &
low=$!
wait_sock "$S/low"

test_expect_success 'with the descriptors used up: no spinning, one line' '
	{ if "$PROBE" "unix:$S/low" idle 20 1 >"$TRASH/flood.out" 2>&1; then
		echo 0; else echo 1; fi >"$TRASH/flood.rc"; } &
	sleep 2 &&
	n=$(wakeups $low) && echo "$n wake-ups while out of descriptors" &&
	wait_for "$TRASH/flood.rc" && cat "$TRASH/flood.out" "$TRASH/low.err" &&
	grep "no hello and bootstrap" "$TRASH/flood.out" &&
	test "$n" -le 20 &&
	test "$(grep -c "accept" "$TRASH/low.err")" = 1 &&
	grep "accept: Too many open files; accepting again when there is room" "$TRASH/low.err" &&
	kill -0 $low
'

test_expect_success 'when descriptors are free again, it accepts again' '
	i=0 &&
	until timeout 10 "$PROBE" "unix:$S/low" idle 1 0 >"$TRASH/again.out" 2>&1 ||
	      [ $i -ge 20 ]; do sleep 0.2; i=$((i + 1)); done &&
	grep "holding 1 connections" "$TRASH/again.out"
'
kill $low 2>/dev/null; wait
test_done
