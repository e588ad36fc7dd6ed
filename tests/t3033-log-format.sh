#!/bin/sh
# The log a reader follows: where it goes (standard error, as strace's,
# the pager's output keeping standard output), port names that stay the
# same port's from line to line, the page table after the object ended,
# and --json pages as objects.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
TM="$B/tests/mach"
S="$TRASH/s"

test_expect_success 'the log goes to standard error; the pager'\''s output stays on standard output' '
	"$MOTRACE" --no-time -- sh -c "echo the pager speaks" > "$TRASH/out" 2> "$TRASH/err" &&
	test "$(cat "$TRASH/out")" = "the pager speaks" &&
	grep -F "+++ sh exited with status 0 +++" "$TRASH/err" &&
	grep -F "0 diagnostic(s)" "$TRASH/err"
'
test_expect_success 'port names a reader can follow: a reply port is the one answered to, the name port keeps its name' '
	timeout 30 "$TM/mo-pager" "unix:$S/pager" > "$TRASH/p.out" 2> "$TRASH/p.err" &
	pager=$! &&
	wait_for test -S "$S/pager" &&
	{ timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/log" --listen "unix:$S/mt" --to "unix:$S/pager" & } &&
	wait_for test -S "$S/mt" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt" && wait $pager &&
	wait_for grep -q "diagnostic" "$TRASH/log" &&
	for pair in "data_supply(.*reply_to=:supply_completed(obj=" \
		    "lock_request(.*reply_to=:lock_completed(obj=" \
		    "change_attributes(.*reply_to=:change_completed(obj=" \
		    "get_attributes(.*reply=:get_attributes_reply(reply="; do
		ask=${pair%%:*} answer=${pair#*:} &&
		n=$(sed -n "s/^k0< memory_object_$ask\([0-9]*\).*/\1/p" "$TRASH/log") &&
		test -n "$n" &&
		grep "^k0> memory_object_$answer$n[,)]" "$TRASH/log" || { echo "$ask $n"; exit 1; }
	done &&
	name=$(sed -n "s/^k0> memory_object_init(.*name=\([0-9]*\).*/\1/p" "$TRASH/log") &&
	grep "^k0> memory_object_terminate(.*name=$name)" "$TRASH/log"
'

# demo NAME MOTRACE-ARGS...: motrace -- mo-filepager, mo-map runs the demo
live_demo() {
	name=$1
	shift
	ADDR="unix:$S/$name"
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	{ timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/$name.log" "$@" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/$name.data" 2> "$TRASH/$name.err" & } &&
	wait_for test -S "$S/$name" &&
	timeout 20 "$B/mo-map" "$ADDR" examples/demo.map > /dev/null &&
	wait_for grep -q "diagnostic" "$TRASH/$name.log"
}

test_expect_success '--pages after the unmap: the object'\''s last state before its terminate' '
	live_demo pages --pages &&
	grep -F "object 0 kernel 0: terminated; before that:" "$TRASH/pages.log" &&
	grep -E "^  0 +absent " "$TRASH/pages.log" &&
	grep -E "^  1 +resident " "$TRASH/pages.log"
'
test_expect_success '--json --pages: the pages are objects, not a string' '
	live_demo json --pages --json &&
	grep "^{\"pages\":\[{\"object\":0,\"kernel\":0,\"state\":\"terminated\",\"before_terminate\":{" "$TRASH/json.log" &&
	grep -F "{\"page\":1,\"state\":\"resident\",\"access\":\"VM_PROT_NONE\",\"lock\":\"VM_PROT_WRITE\"" "$TRASH/json.log" &&
	if command -v python3 > /dev/null; then
		grep "^{\"pages\"" "$TRASH/json.log" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"pages\"][0][\"before_terminate\"][\"pages\"][0][\"page\"] == 0"
	fi
'
test_done
