#!/bin/sh
# The debugger over a recording (motrace -r FILE): break stops before the
# record it selects, step moves one record, continue to the next stop or
# the end; pages and print show the state at that point; commands that act
# on live traffic are refused, naming what works; on a terminal the prompt
# starts stopped before the first message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-tty.sh"
S="$TRASH/s"
mkdir -m 700 "$S"

head -c 65536 /dev/zero > "$TRASH/data"
printf 'read 0\nread 3p\nwrite 3p 5\nwrite 0 7\nunmap\n' > "$TRASH/w.map"

test_expect_success 'a recorded session of real faults' '
	timeout 30 "$MOTRACE" --no-time -o "$TRASH/live.log" -w "$TRASH/rec.pcap" --exit-when-idle \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" &
	wait_until 10 test -S "$S/fp" &&
	timeout 20 "$B/mo-map" "unix:$S/fp" "$TRASH/w.map" > /dev/null &&
	wait &&
	grep -q "data_unlock(.*\\[page 3\\]" "$TRASH/live.log"
'

test_expect_success 'break stops before the record; pages show the state then; step moves one record' '
	"$MOTRACE" --no-time -o "$TRASH/r.log" -r "$TRASH/rec.pcap" \
		-ex "break data_unlock if page == 3" -ex "expect data_unlock" -ex "pages 3" \
		-ex "print" -ex "step" -ex "info stopped" -ex "pages 3" -ex "continue" \
		-ex "expect terminate" > "$TRASH/r.out" &&
	n=$(sed -n "s/^breakpoint 1, record \\([0-9]*\\): k0> memory_object_data_unlock(.*\\[page 3\\].*/\\1/p" "$TRASH/r.out") &&
	test -n "$n" &&
	test "$(grep -c "^breakpoint 1, " "$TRASH/r.out")" = 1 &&
	grep -q "^expect: got k0> memory_object_data_unlock(.*\\[page 3\\].* (stopped)$" "$TRASH/r.out" &&
	sed -n "/^expect: got/,/^record /p" "$TRASH/r.out" | grep -q "^  3  *resident   ---    -w-  ---$" &&
	grep -q "^record $n: k0> memory_object_data_unlock(" "$TRASH/r.out" &&
	grep "^{" "$TRASH/r.out" | jq -e ".name == \"memory_object_data_unlock\"" > /dev/null &&
	grep -q "^stopped at record $((n + 1)): k0< memory_object_lock_request(.*\\[page 3\\]" "$TRASH/r.out" &&
	grep -q "^ *$((n + 1))  k0< memory_object_lock_request(" "$TRASH/r.out" &&
	sed -n "/^stopped at record/,\$p" "$TRASH/r.out" | grep -q "^  3  *resident   ---    -w-  rw-    unlock-pending$" &&
	grep -q "^expect: got k0> memory_object_terminate(" "$TRASH/r.out" &&
	"$MOTRACE" --no-time -r "$TRASH/rec.pcap" > "$TRASH/plain.log" &&
	cmp "$TRASH/plain.log" "$TRASH/r.log"
'

test_expect_success 'commands that act on live traffic are refused over a recording, naming what works' '
	for c in "send lock_request offset=0" "drop 1" "release all" "hold data_request" "stop" "delete rule 1"; do
		rc=0 && "$MOTRACE" -o /dev/null -r "$TRASH/rec.pcap" -ex "step" -ex "$c" > /dev/null 2> "$TRASH/l.err" || rc=$?
		test $rc = 1 || return 1
		grep -q "acts on live traffic; a recording (-r) is only read" "$TRASH/l.err" || return 1
		grep -q "(break, step, continue, print, x, pages, list and info stopped work on it)" "$TRASH/l.err" || return 1
	done
'

test_expect_success 'set changes the trace options between messages' '
	"$MOTRACE" --no-time -r "$TRASH/rec.pcap" -o "$TRASH/s.log" \
		-ex "break data_unlock" -ex "expect data_unlock" -ex "set filter trace=data_unlock,terminate" \
		-ex "continue" > /dev/null &&
	sed -n "/data_unlock/,\$p" "$TRASH/s.log" | grep "^k0" > "$TRASH/s.after" &&
	test "$(wc -l < "$TRASH/s.after")" = 3 &&
	! grep -v "data_unlock\|terminate" "$TRASH/s.after" &&
	grep -q "^k0> memory_object_data_request(" "$TRASH/s.log" &&
	"$MOTRACE" -r "$TRASH/rec.pcap" -o "$TRASH/t.log" -ex "step" -ex "set timestamps epoch" -ex "continue" > /dev/null &&
	grep -q "^[0-9]*\.[0-9]\{6\} k0> memory_object_data_request(" "$TRASH/t.log" &&
	rc=0 && "$MOTRACE" --no-time -r "$TRASH/rec.pcap" -o /dev/null -ex "set timestamps time" > /dev/null 2> "$TRASH/t.err" || rc=$? &&
	test $rc = 1 && grep -q "no-time keeps times out" "$TRASH/t.err"
'

test_expect_success 'the man page documents every debugger command' '
	"$MOTRACE" -o /dev/null -r "$TRASH/rec.pcap" -ex help > "$TRASH/help" &&
	test "$(wc -l < "$TRASH/help")" -gt 20 &&
	awk "{ print \$1 }" "$TRASH/help" > "$TRASH/names" &&
	grep -qx send "$TRASH/names" && grep -qx watch "$TRASH/names" &&
	while read -r n; do
		grep -qE "^\.(B|BI|BR) \"?$n( |\"|\$)|\\\\fP$n\"" "$TOP/doc/motrace.1" ||
			{ echo "$n is not in doc/motrace.1"; return 1; }
	done < "$TRASH/names"
'

TTY_LINES=300
tty_start 'the prompt over a recording'
export MOTRACE_HISTORY="$TRASH/history"
test_expect_success 'on a terminal, -r FILE stops before the first message; break, continue, step and quit at the prompt' '
	$T new-session -d -s t -x 200 -y 50 \
		"cd $TOP && $MOTRACE --no-time -nx -r $TRASH/rec.pcap; echo EXIT=\$?; sleep 60" &&
	wait_until 10 on_screen "^stopped at record [0-9]*: k0> memory_object_init(" &&
	wait_until 5 on_screen "^(motrace) $" &&
	! on_screen "^k0> memory_object_init(" &&
	type_line "break data_unlock if page == 3" &&
	wait_until 5 on_screen "^breakpoint 1: data_unlock if page == 3$" &&
	type_line "continue" &&
	wait_until 5 on_screen "^breakpoint 1, record [0-9]*: k0> memory_object_data_unlock(.*\\[page 3\\]" &&
	! on_screen "^k0> memory_object_data_unlock(" &&
	type_line "pages 3" &&
	wait_until 5 on_screen "^  3  *resident   ---    -w-  ---$" &&
	type_line "step" &&
	wait_until 5 on_screen "^stopped at record [0-9]*: k0< memory_object_lock_request(" &&
	on_screen "^k0> memory_object_data_unlock(.*\\[page 3\\]" &&
	type_line "send lock_request" &&
	wait_until 5 on_screen "^motrace: send acts on live traffic" &&
	type_line "continue" &&
	wait_until 5 on_screen "^the recording ended" &&
	on_screen "^k0> memory_object_terminate(" &&
	type_line "quit" &&
	wait_until 10 on_screen "^EXIT=0$"
'
test_done
