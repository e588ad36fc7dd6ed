#!/bin/sh
# t1025: out-of-line port arrays on the wire (doc/wire.md): a frame that
# gets the PORTS region or the IN_REGION annotations wrong is refused by
# name and the receiver lives on; a right one delivers the array
# (tests/mach/wire-probe, tests/mach/mach-oolports sink).
. "$(dirname "$0")/lib.sh"
PROBE="$B/tests/mach/wire-probe"
P="$B/tests/mach/mach-oolports"
mkdir -m 700 "$TRASH/s"
A="unix:$TRASH/s/a"

{ timeout 60 "$P" sink "$A" >"$TRASH/sink.out" 2>"$TRASH/sink.err"; echo $? >"$TRASH/rc"; } &

test_expect_success 'the receiver is up' '
	wait_until 10 grep -q ready "$TRASH/sink.out"
'
for k in "noregion:has no matching region" "inline:no port annotation for byte 36" \
	 "flags:port annotation flags 0x82 are unknown" \
	 "size:of 8 bytes does not match the frame"; do
	kind=${k%%:*} want=${k#*:}
	test_expect_success "a port array frame that is wrong ($kind) is refused by name" "
		timeout 20 \"\$PROBE\" \"\$A\" oolports $kind >\"\$TRASH/$kind\" &&
		cat \"\$TRASH/$kind\" &&
		grep -F 'server sent: frame 1: ' \"\$TRASH/$kind\" &&
		grep -F '$want' \"\$TRASH/$kind\" &&
		! test -s \"\$TRASH/rc\"
	"
done
test_expect_success 'a right one delivers its send right in an array' '
	timeout 20 "$PROBE" "$A" oolports good &&
	wait_until 20 test -s "$TRASH/rc" &&
	cat "$TRASH/sink.out" "$TRASH/sink.err" &&
	test "$(cat "$TRASH/rc")" = 0 &&
	grep -F "an array of 1, its right a send right" "$TRASH/sink.out"
'
wait
test_done
