#!/bin/sh
# t1001: rights, out-of-line memory, notifications, death, order and
# bad peers, between real processes (tests/mach/mach-ipc.c).
. "$(dirname "$0")/lib.sh"
IPC="$B/tests/mach/mach-ipc"
S="$TRASH/sock"

# Starts "mach-ipc serve ADDR [C-ADDR]" as server NAME; waits for its address.
start_server() {
	name=$1; shift
	timeout 60 "$IPC" serve "$@" >"$TRASH/$name.out" 2>"$TRASH/$name.err" &
	eval "${name}_pid=$!"
	i=0
	while [ ! -s "$TRASH/$name.out" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	test -s "$TRASH/$name.out"
}

stop_servers() {
	for p in ${r_pid:-} ${c_pid:-} ${b_pid:-}; do kill $p 2>/dev/null; done
	wait 2>/dev/null
	true
}

test_expect_success 'in one process: seqnos, too large, timeouts, sets, dead names' '
	timeout 20 "$IPC" local
'

# Started here, not in a test's subshell, so that stop_servers knows them.
start_server c "unix:$S/c"
start_server b "unix:$S/b" "unix:$S/c"
# R relays every message to B, as motrace sits between kernel and pager.
start_relay() {
	timeout 60 "$IPC" relay "$@" >"$TRASH/r.out" 2>"$TRASH/r.err" &
	r_pid=$!
	i=0
	while [ ! -s "$TRASH/r.out" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
start_relay "unix:$S/r" "unix:$S/b"
test_expect_success 'a server (B) that can pass rights on to C is up' '
	test -s "$TRASH/b.out" && test -s "$TRASH/c.out"
'

for case in rights ool notify chain order fork; do
	test_expect_success "$case" "timeout 30 \"\$IPC\" $case unix:\$S/b"
done

for case in rights ool order; do
	test_expect_success "$case, through a relay" "timeout 30 \"\$IPC\" $case unix:\$S/r"
done

for kind in magic version abi; do
	test_expect_success "a hello with a bad $kind is refused by name" "
		timeout 10 \"\$IPC\" raw unix:\$S/b $kind >\"\$TRASH/raw\" &&
		cat \"\$TRASH/raw\" &&
		grep -E 'bad magic|wire version 9|ABI profile .i386.' \"\$TRASH/raw\"
	"
done

test_expect_success 'an oversized frame is refused by name' '
	timeout 10 "$IPC" raw "unix:$S/b" huge >"$TRASH/raw" &&
	grep "exceeds the limit" "$TRASH/raw"
'

test_expect_success 'a frame of unknown type is refused by name' '
	timeout 10 "$IPC" raw "unix:$S/b" type >"$TRASH/raw" &&
	grep "frame type 77 is unknown" "$TRASH/raw"
'

test_expect_success 'a message frame shorter than its contents is refused' '
	timeout 10 "$IPC" raw "unix:$S/b" short >"$TRASH/raw" &&
	grep "too short" "$TRASH/raw"
'

test_expect_success 'a peer that dies in the middle of a frame' '
	timeout 10 "$IPC" raw "unix:$S/b" half &&
	i=0 &&
	while ! grep -q "middle of a frame" "$TRASH/b.err" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	grep "closed in the middle of a frame" "$TRASH/b.err"
'

test_expect_success 'a peer killed while its 48 MiB message is on the way' '
	! timeout 30 "$IPC" die-sending "unix:$S/b" &&
	i=0 &&
	while [ "$(grep -c "middle of a frame" "$TRASH/b.err")" -lt 2 ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	test "$(grep -c "middle of a frame" "$TRASH/b.err")" = 2
'

test_expect_success 'the server still serves after all of that' '
	cat "$TRASH/b.err" &&
	timeout 30 "$IPC" rights "unix:$S/b"
'

test_expect_success 'a server that dies: notifications, then MACH_SEND_INVALID_DEST' '
	timeout 30 "$IPC" death "unix:$S/b"
'

stop_servers
test_done
