#!/bin/sh
# Per-port order across attaches and detaches, counted on both sides
# (doc/attach.md): eight senders number what they send to a published
# port, the server numbers its answers on each sender's port; each side
# checks the other's numbers come one after the other while motrace
# attaches and detaches twenty times (each detach lets go, in order, what
# the pager holds that motrace has not judged yet). The senders run until
# the twentieth detach, however fast the machine, then say how many they
# sent: none may be missing either.
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-tap-order"

test_expect_success 'twenty attaches and detaches in eight senders run: order kept on every port, both ways' '
	mkdir -p "$TRASH/s" && chmod 700 "$TRASH/s" &&
	{ timeout 120 "$P" serve "$TRASH/s" 8 > "$TRASH/out" 2> "$TRASH/err"; echo $? > "$TRASH/rc"; } &
	wait_until 10 grep -q "^ready, pid [0-9]*$" "$TRASH/out" &&
	pid=$(sed -n "s/^ready, pid \([0-9]*\)$/\1/p" "$TRASH/out") &&
	i=1 &&
	while [ $i -le 8 ]; do
		{ rc=0; timeout 120 "$P" send "$TRASH/s" $i > "$TRASH/s$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/s$i.rc"; } &
		i=$((i + 1))
	done &&
	n=1 &&
	while [ $n -le 20 ]; do
		"$MOTRACE" --no-time -p $pid -o "$TRASH/a$n.log" -batch -ex "wait 100ms" ||
			{ cat "$TRASH/err"; exit 1; }
		n=$((n + 1))
	done &&
	: > "$TRASH/s/stop" &&
	wait_until 120 test -s "$TRASH/rc" &&
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 0 &&
	grep "^[0-9]* messages from 8 senders in order$" "$TRASH/out" &&
	i=1 &&
	while [ $i -le 8 ]; do
		wait_until 20 test -s "$TRASH/s$i.rc" &&
		cat "$TRASH/s$i.out" &&
		test "$(cat "$TRASH/s$i.rc")" = 0 &&
		grep -q "^sender $i: [1-9][0-9]* sent, [0-9]* answers in order$" "$TRASH/s$i.out" || exit 1
		i=$((i + 1))
	done &&
	test "$(grep -l -F "0 diagnostic(s)" "$TRASH"/a*.log | wc -l)" = 20 &&
	test "$(grep -l "^k?> msg_3501(" "$TRASH"/a*.log | wc -l)" -ge 15 &&
	test "$(grep -l "^k?< msg_3502(" "$TRASH"/a*.log | wc -l)" -ge 15
'
test_done
