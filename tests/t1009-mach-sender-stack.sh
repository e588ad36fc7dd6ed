#!/bin/sh
# t1009: motrace -k: each message's sender's stack, sent by libmotrace-mach
# (STACK frames) and symbolized with libdwfl: mo-filepager's data_supply
# names the function and source line in pagers/ that sent it; the same in
# --json, in a recording read back (motrace -r -k) and in the dissector.
# Real processes: motrace -- mo-filepager, with mo-map faulting.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
LUA="$B/share/motrace/motrace.lua"
mkdir -p "$TRASH/s"

# The line of mo-filepager.c that calls memory_object_data_supply, and its function.
SUPPLY_LINE=$(grep -n "memory_object_data_supply(" pagers/mo-filepager.c | head -1 | cut -d: -f1)
SUPPLY_FN=memory_object_data_request

# live NAME MOTRACE-ARGS...: motrace ARGS -- mo-filepager while mo-map
# runs examples/demo.map; NAME.log, NAME.rc, NAME.map.out.
live() {
	name=$1
	shift
	ADDR="unix:$TRASH/s/$name"
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	{ st=0; timeout 30 "$MOTRACE" --exit-when-idle -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" || st=$?;
	  echo $st > "$TRASH/$name.rc"; } &
	mt=$!
	wait_for test -S "$TRASH/s/$name" || return 1
	timeout 20 "$B/mo-map" "$ADDR" examples/demo.map > "$TRASH/$name.map.out" 2> "$TRASH/$name.map.err"
	maprc=$?
	wait $mt
	test "$(cat "$TRASH/$name.rc")" = 0 && return $maprc
}

test_expect_success 'the call to memory_object_data_supply is found in pagers/mo-filepager.c' '
	test -n "$SUPPLY_LINE" && echo "line $SUPPLY_LINE"
'

test_expect_success '-k: data_supply shows the function and line of mo-filepager.c that sent it' '
	live k -k -w "$TRASH/k.pcap" &&
	grep -A12 "^k0< memory_object_data_supply(" "$TRASH/k.log" > "$TRASH/supply" &&
	cat "$TRASH/supply" &&
	grep -E "^ > .*/mo-filepager\($SUPPLY_FN\+0x[0-9a-f]+\) pagers/mo-filepager.c:$SUPPLY_LINE \[0x[0-9a-f]+\]$" "$TRASH/supply"
'

test_expect_success '-k: the kernel side too: mo-map'"'"'s data_request names kernel/kernel.c' '
	grep -A6 "^k0> memory_object_data_request(" "$TRASH/k.log" |
		grep -E "^ > .*/mo-map\([a-z_]+\+0x[0-9a-f]+\) kernel/kernel.c:[0-9]+ "
'

test_expect_success '-k: every message line has its stack under it, from the first (init) on' '
	awk "/^k[0-9]/ { if (prev) bad++; prev = 1; next } /^ > / { prev = 0 } END { exit bad }" "$TRASH/k.log" &&
	grep -A1 "^k0> memory_object_init(" "$TRASH/k.log" | grep "^ > "
'

test_expect_success 'without -k no stack is shown' '
	live plain &&
	grep "^k0< memory_object_data_supply(" "$TRASH/plain.log" &&
	! grep "^ > " "$TRASH/plain.log"
'

test_expect_success '--json -k: the frame as a JSON object' '
	live json -k --json &&
	jq -c "select(.msg.name == \"memory_object_data_supply\") | .stack.frames[]
	       | select(.function == \"$SUPPLY_FN\")" "$TRASH/json.log" > "$TRASH/json.frames" &&
	cat "$TRASH/json.frames" &&
	jq -e "select(.file == \"pagers/mo-filepager.c\" and .line == $SUPPLY_LINE)" "$TRASH/json.frames" &&
	jq -s -e "map(select(.stack)) | length > 0 and all(.[]; .stack.pid > 0)" "$TRASH/json.log"
'

test_expect_success 'the recording keeps the stacks: motrace -r -k shows them' '
	"$MOTRACE" -r "$TRASH/k.pcap" -k > "$TRASH/r.log" &&
	grep -A12 "^k0< memory_object_data_supply(" "$TRASH/r.log" |
		grep -E "mo-filepager\($SUPPLY_FN\+0x[0-9a-f]+\) pagers/mo-filepager.c:$SUPPLY_LINE " &&
	test "$(grep -c "^ > " "$TRASH/r.log")" = "$(grep -c "^ > " "$TRASH/k.log")"
'

test_expect_success 'read without -k, the recording shows no stacks' '
	"$MOTRACE" -r "$TRASH/k.pcap" > "$TRASH/r0.log" &&
	grep "^k0< memory_object_data_supply(" "$TRASH/r0.log" &&
	! grep "^ > " "$TRASH/r0.log"
'

test_expect_success 'the dissector shows the frames of the new records' '
	tshark -X lua_script:"$LUA" -r "$TRASH/k.pcap" -Y "motrace.name == \"memory_object_data_supply\"" \
		-T fields -e motrace.frame > "$TRASH/tshark" &&
	grep "mo-filepager($SUPPLY_FN) pagers/mo-filepager.c:$SUPPLY_LINE" "$TRASH/tshark"
'

# A peer's bad frames are refused by name; a good STACK frame and its init pass.
PROBE="$B/tests/mach/wire-probe"
test_expect_success 'bad STACK and STACKS frames are refused, naming what is wrong' '
	start_pager mo-filepager "$TRASH/k.data" &&
	"$PROBE" "$ADDR" stack 33 33 > "$TRASH/p1" &&
	"$PROBE" "$ADDR" stack 2 1 > "$TRASH/p2" &&
	"$PROBE" "$ADDR" stacks 2 > "$TRASH/p3" &&
	"$PROBE" "$ADDR" stack 3 3 > "$TRASH/p4" &&
	stop_pager mo-filepager &&
	cat "$TRASH/p1" "$TRASH/p2" "$TRASH/p3" "$TRASH/p4" &&
	grep -x "server sent: frame 1: stack frame of 33 return addresses (at most 32)" "$TRASH/p1" &&
	grep -x "server sent: frame 1: stack frame of 2 return addresses has 32 bytes, not 40" "$TRASH/p2" &&
	grep -x "server sent: frame 1: stacks frame says 2, not 0 or 1" "$TRASH/p3" &&
	grep -x "no answer" "$TRASH/p4"
'

test_done
