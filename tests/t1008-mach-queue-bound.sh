#!/bin/sh
# t1008: a link's out queue has a bound (MOTRACE_MACH_QUEUE_MAX): a relay
# between a sender that floods and a peer that stopped reading (SIGSTOP,
# as a stopped pager) stops reading the sender instead of growing, says so
# once, loses nothing, and gives its memory back when the peer reads again.
# Real processes: tests/mach/mach-ipc serve, relay and flood.
. "$(dirname "$0")/lib.sh"
IPC="$B/tests/mach/mach-ipc"
S="$TRASH/sock"
mkdir -m 700 "$S"
N=2000		# messages of 64 KiB: 125 MiB in all

# kib PID FIELD: a VmRSS/VmHWM-style field of /proc/PID/status, in KiB.
kib() {
	awk -v f="$2:" '$1 == f { print $2 }' /proc/$1/status
}
started() {
	test -s "$1"
}
stopped_reading() {
	grep -q "past MOTRACE_MACH_QUEUE_MAX" "$TRASH/r.err"
}
flood_sent() {
	grep -q "^sent $N" "$TRASH/f.out"
}

"$IPC" serve "unix:$S/c" >"$TRASH/c.out" 2>"$TRASH/c.err" &
c_pid=$!
wait_until 10 started "$TRASH/c.out"
MOTRACE_MACH_QUEUE_MAX=4M "$IPC" relay "unix:$S/r" "unix:$S/c" \
	>"$TRASH/r.out" 2>"$TRASH/r.err" &
r_pid=$!
wait_until 10 started "$TRASH/r.out"

test_expect_success 'the peer stops reading; a sender floods the relay' '
	kib $r_pid VmRSS > "$TRASH/base" && echo "relay: $(cat "$TRASH/base") KiB before" &&
	kill -STOP $c_pid &&
	{ timeout 120 "$IPC" flood "unix:$S/r" $N >"$TRASH/f.out" 2>"$TRASH/f.err"
	  echo $? >"$TRASH/f.rc"; } &
	wait_until 60 flood_sent &&
	wait_until 20 stopped_reading
'

test_expect_success 'the relay stays small (peak RSS under 48 MiB for 125 MiB sent)' '
	sleep 1 &&
	hwm=$(kib $r_pid VmHWM) && echo "relay: peak $hwm KiB" &&
	echo "$hwm" >"$TRASH/hwm" &&
	test "$hwm" -lt 49152
'

test_expect_success 'once the peer reads, every message arrives, in order' '
	kill -CONT $c_pid &&
	wait_until 100 started "$TRASH/f.rc" &&
	cat "$TRASH/f.out" "$TRASH/f.err" &&
	test "$(cat "$TRASH/f.rc")" = 0 &&
	grep "^flood: $N messages of 65536 bytes, all in order" "$TRASH/f.out"
'

test_expect_success 'said once, on one line naming the peer' '
	cat "$TRASH/r.err" &&
	test "$(grep -c "past MOTRACE_MACH_QUEUE_MAX" "$TRASH/r.err")" = 1 &&
	grep "^motrace-mach: link unix:$S/c: [0-9]* bytes queued, past MOTRACE_MACH_QUEUE_MAX (4194304): the peer is not reading; .* (episode 1)$" "$TRASH/r.err" &&
	test "$(wc -l <"$TRASH/r.err")" = 1
'

test_expect_success 'the drained queue gives its memory back (less than the 4 MiB bound stays), and drained small' '
	rss=$(kib $r_pid VmRSS) && hwm=$(kib $r_pid VmHWM) &&
	echo "relay: $rss KiB now, $(cat "$TRASH/base") KiB before, peak $(cat "$TRASH/hwm") KiB stopped, $hwm KiB in all" &&
	{ [ "${SANITIZE:-0}" = 1 ] && echo "(ASan keeps freed memory in quarantine: not checked)" ||
	  { test "$rss" -lt $(( $(cat "$TRASH/base") + 4096 )) && test "$hwm" -lt 49152; }; }
'

test_expect_success 'a bad MOTRACE_MACH_QUEUE_MAX is named, and the default used' '
	MOTRACE_MACH_QUEUE_MAX=12q timeout 20 "$IPC" rights "unix:$S/c" 2>"$TRASH/bad.err" &&
	cat "$TRASH/bad.err" &&
	grep "MOTRACE_MACH_QUEUE_MAX: .12q. is not a size of at least 65536 bytes; using 16777216" "$TRASH/bad.err"
'

# motrace in the middle (the relay: --listen/--to would hand the address
# to the pager): its sends to the stopped peer are the library's.
MOTRACE_MACH_QUEUE_MAX=4M "$MOTRACE" -c -o "$TRASH/m.log" --relay --listen "unix:$S/m" --to "unix:$S/c" \
	2>"$TRASH/m.err" &
m_pid=$!
wait_until 10 test -S "$S/m"
motrace_stopped_reading() {
	grep -q "past MOTRACE_MACH_QUEUE_MAX" "$TRASH/m.err"
}

test_expect_success 'motrace between the flood and a stopped pager stays small too' '
	kill -STOP $c_pid &&
	{ timeout 120 "$IPC" flood "unix:$S/m" $N >"$TRASH/f2.out" 2>"$TRASH/f2.err"
	  echo $? >"$TRASH/f2.rc"; } &
	wait_until 60 grep -q "^sent $N" "$TRASH/f2.out" &&
	wait_until 20 motrace_stopped_reading &&
	sleep 1 &&
	hwm=$(kib $m_pid VmHWM) && echo "motrace: peak $hwm KiB" &&
	test "$hwm" -lt 49152
'

test_expect_success 'and once the pager reads, all arrive in order through motrace' '
	kill -CONT $c_pid &&
	wait_until 100 started "$TRASH/f2.rc" &&
	cat "$TRASH/f2.out" "$TRASH/m.err" &&
	test "$(cat "$TRASH/f2.rc")" = 0 &&
	grep "^flood: $N messages of 65536 bytes, all in order" "$TRASH/f2.out" &&
	grep "^motrace-mach: link unix:$S/c: .*past MOTRACE_MACH_QUEUE_MAX (4194304)" "$TRASH/m.err"
'

kill $r_pid $c_pid $m_pid 2>/dev/null
kill -CONT $c_pid 2>/dev/null
wait 2>/dev/null
test_done
