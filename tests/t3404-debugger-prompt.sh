#!/bin/sh
# The new debugger commands at the prompt, through tmux (real readline on
# a real pseudo-terminal) against real mo-map faults: Tab completes a
# condition's field names; every command's bad input gets an error naming
# the problem and the session goes on; the race of doc/debugging.md (a
# flush sent while the kernel's data_unlock is stopped) walked through as
# a user would, mo-map's write surviving it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-tty.sh"

TTY_LINES=1000
tty_start 'the prompt'
export MOTRACE_HISTORY="$TRASH/history"

head -c 65536 /dev/zero > "$TRASH/data"

test_expect_success 'the prompt, and Tab completes the fields of a condition' '
	$T new-session -d -s t -x 200 -y 50 \
		"cd $TOP && $MOTRACE --no-time -nx -- $B/mo-filepager unix:$S/fp $TRASH/data; echo EXIT=\$?; sleep 60" &&
	wait_until 10 test -S "$S/fp" &&
	wait_until 10 on_screen "^(motrace) $" &&
	$T send-keys -t t "break lock_request if flu" Tab &&
	wait_until 5 on_screen "^(motrace) break lock_request if flush $" &&
	$T send-keys -t t "&& pa" Tab &&
	wait_until 5 on_screen "^(motrace) break lock_request if flush && page" &&
	$T send-keys -t t " >= 3" Enter &&
	wait_until 5 on_screen "^breakpoint 1: lock_request if flush && page >= 3$"
'

# bad INPUT ERROR: typed at the prompt, INPUT is answered with ERROR.
bad() {
	type_line "$1" &&
	wait_until 5 on_screen "^motrace: $2" || return 1
}

test_expect_success 'every command says what is wrong with bad input, and the session goes on' '
	bad "break" "break: give the messages to stop" &&
	bad "break data_unlock if pge > 3" "break: condition: unknown field .pge. (fields: kernel, object" &&
	bad "break data_unlock if page >" "break: condition: a field or a number is missing at the end" &&
	bad "break data_unlock if (page > 3" "break: condition: expected .). at the end" &&
	bad "break data_unlock if page = 3" "break: condition: .=.: compare with .==." &&
	bad "break data_unlock if page > 3 )" "break: condition: unexpected .)." &&
	bad "break data_unlock if page > 3q" "break: condition: .3q. is not a number" &&
	bad "break data_unlock kernal=1" "break: unknown part .kernal=1." &&
	bad "break data_unlock if" "break: .if. needs a condition" &&
	bad "delete 9" "delete: no breakpoint or watchpoint 9" &&
	bad "delete rule 4" "delete rule: no rule .4." &&
	bad "disable x" "disable: .x. is not a breakpoint.s number" &&
	bad "enable" "enable: .. is not a breakpoint.s number" &&
	bad "commands 42" "commands: no breakpoint or watchpoint 42" &&
	bad "end" "(motrace):[0-9]*: end: no .commands N. to end" &&
	bad "watch page" "watch: .page. needs a number" &&
	bad "watch pgae 3" "watch: unknown word .pgae." &&
	bad "watch object 1" "watch: which page?" &&
	bad "watch page 3 kernel x" "watch: kernel: .x. is not a number" &&
	bad "send" "send: what?" &&
	bad "send frobnicate" "send: unknown call .frobnicate." &&
	bad "send lock_request kernel=0 bogus=1" "send: memory_object_lock_request has no argument .bogus." &&
	bad "send lock_request offset" "send: .offset. is not ARG=VALUE" &&
	bad "send lock_request kernel=7 offset=0 size=1p" "send: no message of kernel 7 has come" &&
	bad "pages object" "pages: .object. needs a number" &&
	bad "pages 5-2" "pages: .5-2. is not a page or a range of pages" &&
	bad "set timestamps sometimes" "set timestamps: .sometimes. is not none, time, us, epoch or relative" &&
	bad "set timestamps time" "set timestamps: --no-time keeps times out of this session" &&
	bad "set colour on" "set: .colour on.: give .set filter" &&
	bad "set filter trace=nosuch" "set filter: " &&
	bad "print 99" "print: no stopped message 99" &&
	bad "x" "x: give a stopped message.s number" &&
	bad "info nothing" "info: .info objects., .info kernels." &&
	bad "list x" "list: .x. is not a number of messages" &&
	bad "release x" "release: .x. is not a held message.s number" &&
	bad "wait x" "wait: .x. is not a duration" &&
	bad "diagnostics x" "diagnostics: .x. is not a number" &&
	bad "frob" "(motrace):[0-9]*: unknown command .frob." &&
	type_line "info breakpoints" &&
	wait_until 5 on_screen "^1    breakpoint  y    0     lock_request if flush && page >= 3$" &&
	test "$(screen | grep -c "^[0-9]  *\\(break\\|watch\\)point  ")" = 1 &&
	type_line "continue" &&
	wait_until 5 on_screen "^continuing: 0 message(s) let go"
'

test_expect_success 'the race at the prompt: data_unlock stopped, flush sent, lock_completed kept by motrace, the write survives' '
	type_line "delete 1" &&
	type_line "break data_unlock" &&
	wait_until 5 on_screen "^breakpoint 2: data_unlock$" &&
	printf "read 3p\nwrite 3p 5\nexpect 3p 5\nunmap\n" > "$TRASH/race.map" &&
	{ timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/race.map" > "$TRASH/map.out" 2>&1; echo $? > "$TRASH/map.rc"; } &
	wait_until 10 on_screen "^breakpoint 2, message [0-9]*: k0> memory_object_data_unlock(.*\\[page 3\\]" &&
	type_line "pages 3" &&
	wait_until 5 on_screen "^  3  *resident   ---    -w-  ---$" &&
	type_line "send lock_request kernel=0 offset=3p size=1p flush=true return=all lock=write reply=motrace" &&
	wait_until 5 on_screen "^sent memory_object_lock_request to kernel 0$" &&
	wait_until 5 on_screen "^k0> memory_object_lock_completed(.*\\[page 3\\].*\\[consumed\\]$" &&
	type_line "pages 3" &&
	wait_until 5 on_screen "^  3  *absent     ---    -w-  ---$" &&
	! test -s "$TRASH/map.rc" &&
	type_line "continue" &&
	wait_until 10 test -s "$TRASH/map.rc" &&
	test "$(cat "$TRASH/map.rc")" = 0 &&
	on_screen "^k0> memory_object_data_request(.*\\[page 3\\].*VM_PROT_READ|VM_PROT_WRITE)$" &&
	type_line "quit" &&
	wait_until 20 on_screen "^EXIT=0$"
'
test_done
