#!/bin/sh
# Per-port order across attaches and detaches, counted on both sides
# (doc/attach.md): eight senders number what they send to a published
# port, the server numbers its answers on each sender's port; each side
# checks the other's numbers come one after the other while motrace
# attaches and detaches twenty times, holding messages in between (a
# detach lets the held ones go: they must not overtake, nor be overtaken).
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-tap-order"

test_expect_success 'twenty attaches and detaches in eight senders run: order kept on every port, both ways' '
	mkdir -p "$TRASH/s" && chmod 700 "$TRASH/s" &&
	{ timeout 120 "$P" serve "$TRASH/s" 8 40000 > "$TRASH/out" 2> "$TRASH/err"; echo $? > "$TRASH/rc"; } &
	wait_until 10 grep -q ready "$TRASH/out" &&
	pid=$(pgrep -f -n "^$P serve $TRASH/s") &&
	i=1 &&
	while [ $i -le 8 ]; do
		{ rc=0; timeout 120 "$P" send "$TRASH/s" $i 40000 > "$TRASH/s$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/s$i.rc"; } &
		i=$((i + 1))
	done &&
	n=1 &&
	while [ $n -le 20 ]; do
		"$MOTRACE" --no-time -p $pid -o "$TRASH/a$n.log" -batch -ex "wait 100ms" || exit 1
		n=$((n + 1))
	done &&
	wait_until 120 test -s "$TRASH/rc" &&
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 0 &&
	grep -F "320000 messages from 8 senders in order" "$TRASH/out" &&
	i=1 &&
	while [ $i -le 8 ]; do
		wait_until 20 test -s "$TRASH/s$i.rc" &&
		cat "$TRASH/s$i.out" &&
		test "$(cat "$TRASH/s$i.rc")" = 0 || exit 1
		i=$((i + 1))
	done &&
	test "$(grep -l -F "0 diagnostic(s)" "$TRASH"/a*.log | wc -l)" = 20 &&
	test "$(grep -l "^k?> msg_3501(" "$TRASH"/a*.log | wc -l)" -ge 15 &&
	test "$(grep -l "^k?< msg_3502(" "$TRASH"/a*.log | wc -l)" -ge 15
'
test_done
