#!/bin/sh
# The interactive debugger's prompt, driven as a user would through tmux
# (real readline on a real pseudo-terminal): the prompt; Tab completes; a
# breakpoint on data_unlock stops a write fault of mo-map, which waits
# until continue; step lets exactly one message go; Ctrl-C stops all
# traffic and continue resumes it; log lines never split what is typed;
# the history file keeps the commands; the terminal is sane after quit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-tty.sh"

TTY_LINES=200
tty_start 'the prompt'
export MOTRACE_HISTORY="$TRASH/history"
tty_more() {
	pkill -f "mo-map unix:$S/" 2> /dev/null
}

# The prompt's line: the last line that is not empty.
last_line() {
	screen | grep -v "^$" | tail -n 1
}

head -c 65536 /dev/zero > "$TRASH/data"
printf 'read 0\nwrite 0 0x1122334455667788\nread 1p\nread 2p\nunmap\n' > "$TRASH/w.map"

test_expect_success 'on a terminal, motrace -- PAGER shows the prompt while traffic flows' '
	$T new-session -d -s t -x 120 -y 40 \
		"cd $TOP && $MOTRACE --no-time -nx -- $B/mo-filepager unix:$S/fp $TRASH/data; echo EXIT=\$?; stty -a > $TRASH/stty; sleep 60" &&
	wait_until 10 test -S "$S/fp" &&
	wait_until 10 on_screen "^(motrace) $"
'

test_expect_success 'Tab completes brea to break' '
	$T send-keys -t t "brea" Tab &&
	wait_until 5 on_screen "^(motrace) break $" &&
	$T send-keys -t t "data_unlock" Enter &&
	wait_until 5 on_screen "^breakpoint 1: data_unlock"
'

test_expect_success 'the breakpoint stops the write fault: mo-map waits, pages shows it, continue lets it finish' '
	{ timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/w.map" > "$TRASH/map.out" 2>&1; echo $? > "$TRASH/map.rc"; } &
	wait_until 10 on_screen "memory_object_data_unlock(.*\\[held\\]" &&
	sleep 0.5 && ! test -s "$TRASH/map.rc" &&
	type_line "info stopped" &&
	wait_until 5 on_screen "^   1  k0> memory_object_data_unlock(" &&
	type_line "pages" &&
	wait_until 5 on_screen "^  0  *resident" &&
	! test -s "$TRASH/map.rc" &&
	type_line "continue" &&
	wait_until 5 on_screen "^continuing: 1 message(s) let go" &&
	wait_until 10 test -s "$TRASH/map.rc" &&
	test "$(cat "$TRASH/map.rc")" = 0
'

test_expect_success 'step lets exactly one message go' '
	type_line "delete 1" &&
	type_line "stop" &&
	wait_until 5 on_screen "^all traffic stopped" &&
	printf "read 3p\nread 4p\nunmap\n" > "$TRASH/r.map" &&
	{ timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/r.map" > "$TRASH/map2.out" 2>&1; echo $? > "$TRASH/map2.rc"; } &
	wait_until 10 on_screen "memory_object_init(.*\\[held\\]" &&
	type_line "step" &&
	wait_until 5 on_screen "^stepped: message [0-9]* let go" &&
	wait_until 5 on_screen "memory_object_ready(.*\\[held\\]" &&
	sleep 0.5 &&
	on_screen "^k1> memory_object_init(.*\\[released\\]" &&
	! on_screen "^k1> memory_object_data_request(" &&
	type_line "continue" &&
	wait_until 10 test -s "$TRASH/map2.rc" &&
	test "$(cat "$TRASH/map2.rc")" = 0
'

test_expect_success 'Ctrl-C stops all traffic; continue resumes it' '
	$T send-keys -t t C-c &&
	wait_until 5 on_screen "^Ctrl-C: all traffic stopped" &&
	sleep 1.2 &&
	printf "read 5p\nunmap\n" > "$TRASH/c.map" &&
	{ timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/c.map" > "$TRASH/map3.out" 2>&1; echo $? > "$TRASH/map3.rc"; } &
	wait_until 10 on_screen "memory_object_init(.*\\[held\\]" &&
	sleep 0.5 && ! test -s "$TRASH/map3.rc" &&
	type_line "continue" &&
	wait_until 10 test -s "$TRASH/map3.rc" &&
	test "$(cat "$TRASH/map3.rc")" = 0
'

test_expect_success 'log lines never split the line being typed' '
	$T send-keys -t t "info kern" &&
	wait_until 5 on_screen "^(motrace) info kern$" &&
	n=$(screen | grep -c "^k[0-9]*> memory_object_terminate(") &&
	{ timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/c.map" > /dev/null 2>&1 & } &&
	wait_until 10 eval "test \$(screen | grep -c \"^k[0-9]*> memory_object_terminate(\") -gt $n" &&
	sleep 0.5 &&
	test "$(last_line)" = "(motrace) info kern" &&
	! screen | grep -q "(motrace) info kern." &&
	$T send-keys -t t "els" Enter &&
	wait_until 5 on_screen "^kernel "
'

test_expect_success 'quit ends the session: status 0, the history file holds the commands, the terminal is sane' '
	type_line "quit" &&
	wait_until 20 on_screen "^EXIT=0$" &&
	wait_until 5 test -s "$TRASH/stty" &&
	grep -q " icanon " "$TRASH/stty" && grep -q " echo " "$TRASH/stty" &&
	grep -qx "break data_unlock" "$TRASH/history" &&
	grep -qx "info stopped" "$TRASH/history" &&
	grep -qx "quit" "$TRASH/history"
'
test_done
