#!/bin/sh
# The debugger's commands in a batch script (the same table as the
# prompt's): a breakpoint stops data_unlock; print shows it whole (JSON),
# x its bytes (which decode back to the same message), list the last
# messages; continue lets the write finish; drop N drops a stopped
# data_request (the fault waits, and the checker names it); help names one
# command; an ambiguous prefix says what it could be.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"

head -c 65536 /dev/zero > "$TRASH/data"
printf 'read 0\nwrite 0 5\nunmap\n' > "$TRASH/w.map"

# traced NAME MOTRACE-ARGS...: motrace in front of a fresh mo-filepager,
# its output in NAME.out (commands) and NAME.log (the log).
traced() {
	name=$1
	shift
	rm -f "$S/fp"
	timeout 30 "$MOTRACE" --no-time -o "$TRASH/$name.log" -batch "$@" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" &
	echo $! > "$TRASH/$name.pid"
	wait_until 10 test -S "$S/fp"
}

test_expect_success 'break, print, x, list and continue on a stopped data_unlock' '
	traced a -ex "break data_unlock" -ex "expect data_unlock" -ex "print 1" -ex "x 1" \
		-ex "list 2" -ex "continue" -ex "expect terminate" &&
	timeout 20 "$B/mo-map" "unix:$S/fp" "$TRASH/w.map" > /dev/null &&
	wait "$(cat "$TRASH/a.pid")" &&
	grep -q "^breakpoint 1: data_unlock$" "$TRASH/a.out" &&
	grep -q "^message 1: k0> memory_object_data_unlock(" "$TRASH/a.out" &&
	grep "^{" "$TRASH/a.out" | jq -e ".name == \"memory_object_data_unlock\" and .args[3].text == \"VM_PROT_READ|VM_PROT_WRITE\"" > /dev/null &&
	grep "^[0-9a-f]\\{8\\}\\( [0-9a-f]\\{8\\}\\)*$" "$TRASH/a.out" | tr "\\n" " " > "$TRASH/a.hex" &&
	"$MOTRACE" decode --hex "$TRASH/a.hex" > "$TRASH/a.dec" &&
	grep -q "^memory_object_data_unlock(obj=[0-9]*, ctl=[0-9]*, offset=0x0 \\[page 0\\], length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE)$" "$TRASH/a.dec" &&
	sed -n "/^10012002 /,/^continuing/p" "$TRASH/a.out" | grep "^k0" > "$TRASH/a.list" &&
	test "$(wc -l < "$TRASH/a.list")" = 2 &&
	head -n 1 "$TRASH/a.list" | grep -q "^k0< memory_object_data_supply(" &&
	tail -n 1 "$TRASH/a.list" | grep -q "^k0> memory_object_data_unlock(.*\[held\]$" &&
	grep -q "^continuing: 1 message(s) let go$" "$TRASH/a.out" &&
	grep -q "^k0> memory_object_data_unlock(.*\\[released\\]$" "$TRASH/a.log"
'

test_expect_success 'drop N drops a stopped data_request: the fault waits and the checker names it' '
	traced b --request-timeout 0.5 -ex "break data_request" -ex "expect data_request" \
		-ex "drop 1" -ex "info stopped" -ex "wait 1500ms" -ex "quit" &&
	{ timeout 20 "$B/mo-map" "unix:$S/fp" "$TRASH/w.map" > /dev/null 2>&1 & echo $! > "$TRASH/map.pid"; } &&
	wait "$(cat "$TRASH/b.pid")" ;
	kill "$(cat "$TRASH/map.pid")" 2> /dev/null;
	grep -q "^dropped message 1$" "$TRASH/b.out" &&
	grep -q "^no message is stopped$" "$TRASH/b.out" &&
	grep -q "^k0> memory_object_data_request(.*\\[dropped\\]$" "$TRASH/b.log" &&
	grep -q "^  !! request-timeout: kernel 0 has waited .* for data_request of page 0" "$TRASH/b.log"
'

test_expect_success 'help names one command; a prefix that fits several says which' '
	rm -f "$S/fp" &&
	"$MOTRACE" -o /dev/null -batch -ex "help brea" -ex "help c" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" > "$TRASH/c.out" &&
	grep -q "^break NAMES" "$TRASH/c.out" &&
	grep -q "^continue " "$TRASH/c.out" &&
	rm -f "$S/fp" &&
	rc=0 && { "$MOTRACE" -o /dev/null -batch -ex "st" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" > /dev/null 2> "$TRASH/d.err" || rc=$?; } &&
	test $rc = 1 &&
	grep -q "'\''st'\'' is ambiguous: it could be stats step stop" "$TRASH/d.err"
'
test_done
