#!/bin/sh
# A port set gives messages in arrival order across its members, as Mach's
# one queue per set does; pagers rely on it (data_return before the
# lock_completed that follows it on another port).
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-pset-order"

test_expect_success 'messages to two ports of a set come out in the order sent, none lost when the sender exits at once' '
	mkdir -p "$TRASH/s" && chmod 700 "$TRASH/s" &&
	{ timeout 30 "$P" serve "$TRASH/s" 2000 > "$TRASH/out" 2> "$TRASH/err"; echo $? > "$TRASH/rc"; } &
	i=0; while ! grep -q ready "$TRASH/out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done;
	timeout 20 "$P" send "$TRASH/s" 2000 &&
	i=0; while [ ! -s "$TRASH/rc" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done;
	cat "$TRASH/err" &&
	test "$(cat "$TRASH/rc")" = 0 &&
	grep -F "2000 messages in order" "$TRASH/out"
'
test_done
