#!/bin/sh
# Breakpoints, watchpoints and send, against real mo-map faults through
# mo-filepager: a conditional breakpoint stops only the message it speaks
# of and its commands run at the stop; disable, enable and delete take
# effect; a watchpoint reports each change of its page with old -> new and
# the message that made it; send lock_request flush discards a page mo-map
# wrote, which mo-map then reads back from the pager; the classic race
# (a flush while the kernel's data_unlock is stopped) as a -x script whose
# checker names what happened.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"

# traced NAME MOTRACE-ARGS...: motrace in front of a fresh mo-filepager
# on a file of zeros,
# its output in NAME.out (commands) and NAME.log (the log).
traced() {
	name=$1
	shift
	rm -f "$S/fp"
	head -c 65536 /dev/zero > "$TRASH/data"
	timeout 30 "$MOTRACE" --no-time -o "$TRASH/$name.log" -batch "$@" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" &
	echo $! > "$TRASH/$name.pid"
	wait_until 10 test -S "$S/fp"
}

# map NAME SCRIPT: mo-map runs SCRIPT against it; its output in NAME.map.
map() {
	printf "$2" > "$TRASH/$1.script"
	timeout 20 "$B/mo-map" "unix:$S/fp" "$TRASH/$1.script" > "$TRASH/$1.map" 2>&1
}

test_expect_success 'break if CONDITION stops only the message it names; its commands run at the stop' '
	traced a -ex "break data_unlock if page >= 3 && access & VM_PROT_WRITE" \
		-ex "commands 1" -ex "echo stopped at page 3" -ex "pages 3" -ex "continue" -ex "end" \
		-ex "expect terminate" -ex "info breakpoints" &&
	map a "read 0\nread 3p\nwrite 0 1\nwrite 3p 2\nexpect 3p 2\nunmap\n" &&
	wait "$(cat "$TRASH/a.pid")" &&
	test "$(grep -c "^breakpoint 1, " "$TRASH/a.out")" = 1 &&
	grep -q "^breakpoint 1, message 1: k0> memory_object_data_unlock(.*offset=0x3000 \\[page 3\\]" "$TRASH/a.out" &&
	sed -n "/^breakpoint 1, /,\$p" "$TRASH/a.out" > "$TRASH/a.after" &&
	sed -n 2p "$TRASH/a.after" | grep -qx "stopped at page 3" &&
	grep -q "^  3  *resident   ---    -w-" "$TRASH/a.after" &&
	! grep -q "^  0 " "$TRASH/a.after" &&
	grep -q "^continuing: 1 message(s) let go$" "$TRASH/a.after" &&
	grep -q "^k0> memory_object_data_unlock(.*\\[page 0\\].*VM_PROT_WRITE)$" "$TRASH/a.log" &&
	grep -q "^k0> memory_object_data_unlock(.*\\[page 3\\].*\\[held\\]$" "$TRASH/a.log" &&
	grep -q "^1    breakpoint  y    1 .*data_unlock if page >= 3" "$TRASH/a.out"
'

test_expect_success 'disable, enable and delete take effect' '
	traced b -ex "break data_request" -ex "disable 1" -ex "info breakpoints" \
		-ex "expect data_supply" -ex "enable 1" -ex "expect data_request" \
		-ex "delete 1" -ex "info breakpoints" -ex "continue" -ex "expect terminate" &&
	map b "read 0\nread 1p\nread 2p\nunmap\n" &&
	wait "$(cat "$TRASH/b.pid")" &&
	grep -q "^1    breakpoint  n    0 " "$TRASH/b.out" &&
	grep -q "^breakpoint 1 enabled$" "$TRASH/b.out" &&
	grep -q "^deleted breakpoint 1$" "$TRASH/b.out" &&
	grep -q "^no breakpoints or watchpoints$" "$TRASH/b.out" &&
	test "$(grep -c "data_request(.*\\[held\\]" "$TRASH/b.log")" = 1 &&
	grep -q "^k0> memory_object_data_request(.*\\[page 1\\].*\\[held\\]$" "$TRASH/b.log" &&
	grep -q "^k0> memory_object_data_request(.*\\[page 0\\].*VM_PROT_READ)$" "$TRASH/b.log" &&
	grep -q "^k0> memory_object_data_request(.*\\[page 2\\].*VM_PROT_READ)$" "$TRASH/b.log"
'

test_expect_success 'watch page reports each change, old -> new and the message; with stop its messages stop' '
	traced c -ex "watch page 3 kernel 0" -ex "watch page 5 stop" -ex "expect data_request*page 5" \
		-ex "pages 5" -ex "continue" -ex "expect data_supply*page 5" -ex "continue" \
		-ex "expect terminate" &&
	map c "read 3p\nwrite 3p 1\nread 5p\nunmap\n" &&
	wait "$(cat "$TRASH/c.pid")" &&
	grep -q "^watchpoint 1: object 0 kernel 0 page 3: absent -> requested access r-- lock --- unlock ---, by k0> memory_object_data_request(.*\\[page 3\\]" "$TRASH/c.out" &&
	grep -q "^watchpoint 1: object 0 kernel 0 page 3: requested access r-- lock --- unlock --- -> resident lock -w- unlock ---, by k0< memory_object_data_supply(" "$TRASH/c.out" &&
	grep -q "^watchpoint 1: object 0 kernel 0 page 3: resident lock -w- unlock --- -> resident lock -w- unlock rw- unlock-pending, by k0> memory_object_data_unlock(" "$TRASH/c.out" &&
	grep -q "^watchpoint 1: .* -> resident lock --- unlock --- may-be-dirty, by k0< memory_object_lock_request(" "$TRASH/c.out" &&
	grep -q "^watchpoint 2, message 1: k0> memory_object_data_request(.*\\[page 5\\]" "$TRASH/c.out" &&
	sed -n "/^watchpoint 2, /,/^continuing/p" "$TRASH/c.out" > "$TRASH/c.stop" &&
	grep -q "^  5  *absent  " "$TRASH/c.stop" &&
	grep -q "^watchpoint 2: object 0 kernel 0 page 5: absent -> requested access r--.*, by k0> memory_object_data_request(.*\\[released\\]$" "$TRASH/c.out" &&
	grep -q "^watchpoint 2, message 2: k0< memory_object_data_supply(.*\\[page 5\\], data=\\* \\[4096" "$TRASH/c.out" &&
	grep -q "^watchpoint 2: object 0 kernel 0 page 5: requested access r-- .* -> resident lock -w- unlock ---, by k0< memory_object_data_supply(.*\\[released\\]$" "$TRASH/c.out"
'

test_expect_success 'send lock_request flush discards the page mo-map wrote: mo-map faults again and reads the old data' '
	traced d -ex "break data_unlock:page=4" -ex "expect data_unlock" \
		-ex "send lock_request kernel=0 offset=3p size=1p flush=true return=none reply=motrace" \
		-ex "expect lock_completed" -ex "continue" -ex "expect terminate" &&
	map d "write 3p 0x77\nread 4p\nwrite 4p 1\nread 3p\nunmap\n" &&
	wait "$(cat "$TRASH/d.pid")" &&
	grep -qx "read 0x3000 0" "$TRASH/d.map" &&
	grep -q "^sent memory_object_lock_request to kernel 0$" "$TRASH/d.out" &&
	grep -q "^k0< memory_object_lock_request(ctl=[0-9]*, offset=0x3000 \\[page 3\\], size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=[1-9][0-9]*) \\[injected\\]$" "$TRASH/d.log" &&
	grep -q "^k0> memory_object_lock_completed(.*\\[page 3\\].*\\[consumed\\]$" "$TRASH/d.log" &&
	test "$(grep -c "^k0> memory_object_data_request(.*\\[page 3\\]" "$TRASH/d.log")" = 2 &&
	grep -q "^  !! discard-dirty: lock_request flushes 1 page(s) from page 3 with MEMORY_OBJECT_RETURN_NONE" "$TRASH/d.log"
'

test_expect_success 'send data_unlock as the kernel: the pager answers it, to the kernel' '
	traced f -ex "break data_request:page=1" -ex "expect data_request*page 1" \
		-ex "send data_unlock offset=0 size=1p access=rw" \
		-ex "expect lock_request*page 0" -ex "continue" -ex "expect terminate" &&
	map f "read 0\nread 1p\nwrite 0 9\nunmap\n" &&
	wait "$(cat "$TRASH/f.pid")" &&
	grep -q "^sent memory_object_data_unlock to the manager as kernel 0$" "$TRASH/f.out" &&
	grep -q "^k0> memory_object_data_unlock(obj=[0-9]*, ctl=[0-9]*, offset=0x0 \\[page 0\\], length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE) \\[injected\\]$" "$TRASH/f.log" &&
	sed -n "/data_unlock(.*\\[injected\\]/,\$p" "$TRASH/f.log" | sed -n 2p |
		grep -q "^k0< memory_object_lock_request(ctl=[0-9]*, offset=0x0 \\[page 0\\], .*lock_value=VM_PROT_NONE" &&
	! grep -q "^k0> memory_object_data_unlock(.*\\[page 0\\].*)$" "$TRASH/f.log"
'

cat > "$TRASH/race.x" <<'EOF'
# The classic race: the pager flushes a page while the kernel's
# data_unlock for it is on its way (here: stopped at motrace).
break data_unlock
expect data_unlock
pages 3
send lock_request offset=3p size=1p flush=true return=all lock=write reply=motrace
expect lock_completed
pages 3
wait 400ms
continue
expect data_request*page 3
expect terminate
diagnostics 1
EOF

test_expect_success 'the race as a script: flush while data_unlock is stopped; the checker names the wait; the write survives' '
	traced e --unlock-timeout 0.2 -x "$TRASH/race.x" &&
	map e "read 3p\nwrite 3p 5\nexpect 3p 5\nunmap\n" &&
	wait "$(cat "$TRASH/e.pid")" &&
	grep -q "^expect: got k0> memory_object_lock_completed(.*\\[page 3\\].*\\[consumed\\]$" "$TRASH/e.out" &&
	grep -q "^  3  *absent " "$TRASH/e.out" &&
	grep -q "^diagnostics: 1, as expected$" "$TRASH/e.out" &&
	grep -q "^  !! unlock-timeout: kernel 0 has waited .* for data_unlock of page 3 .*motrace.s rule holds the request back" "$TRASH/e.log" &&
	grep -q "^k0> memory_object_data_request(.*\\[page 3\\], length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE)$" "$TRASH/e.log" &&
	od -A n -t x8 -j 12288 -N 8 "$TRASH/data" | grep -q "0000000000000005"
'
test_done
