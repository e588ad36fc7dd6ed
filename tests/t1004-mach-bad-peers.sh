#!/bin/sh
# t1004: hand-made wire peers (tests/mach/wire-probe) against the
# library's servers, motrace and a pager: what they send is refused by
# name and the receiver lives on.
. "$(dirname "$0")/lib.sh"
IPC="$B/tests/mach/mach-ipc"
PROBE="$B/tests/mach/wire-probe"
S="$TRASH/s"
mkdir -m 700 "$S"
dd if=/dev/zero of="$TRASH/data.img" bs=4096 count=4 2>/dev/null

wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	test -s "$1"
}
# wait_sock PATH: until a socket is there (5 s at most).
wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	test -S "$1"
}

# bg NAME CMD...: runs CMD in the background, output in NAME.out/.err;
# its pid in $NAME_pid, for stop_all.
bg() {
	name=$1; shift
	timeout 120 "$@" >"$TRASH/$name.out" 2>"$TRASH/$name.err" &
	eval "${name}_pid=$!"
	pids="${pids:-} $!"
}
stop_all() {
	for p in ${pids:-}; do kill $p 2>/dev/null; done
	wait 2>/dev/null
	true
}
alive() {
	kill -0 "$1"
}

bg srv "$IPC" serve "unix:$S/b"
wait_sock "$S/b"
bg fp "$B/mo-filepager" "unix:$S/fp" "$TRASH/data.img"
wait_sock "$S/fp"
bg fp2 "$B/mo-filepager" "unix:$S/fp2" "$TRASH/data.img"
wait_sock "$S/fp2"
bg mt "$MOTRACE" --no-time -o "$TRASH/mt.log" --listen "unix:$S/mt" --to "unix:$S/fp2"
wait_sock "$S/mt"

for who in srv fp mt; do
	test_expect_success "port id 0 after ids that were freed: $who refuses it by name, lives on" "
		addr=\$(case $who in srv) echo b;; fp) echo fp;; mt) echo mt;; esac) &&
		\"\$PROBE\" \"unix:\$S/\$addr\" uaf >\"\$TRASH/uaf.$who\" &&
		cat \"\$TRASH/uaf.$who\" &&
		grep 'names port id 0' \"\$TRASH/uaf.$who\" &&
		sleep 0.2 && alive \$${who}_pid
	"
done

test_expect_success 'the server still serves after that' '
	timeout 30 "$IPC" rights "unix:$S/b"
'

test_expect_success 'an init of 8,200 bytes: the pager refuses it by name and serves on' '
	"$PROBE" "unix:$S/fp" init 8200 &&
	i=0 && while ! grep -q "refused" "$TRASH/fp.err" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done &&
	grep "message 2200 of 8200 bytes is larger than the receiver.s buffer of 8192 bytes; refused" "$TRASH/fp.err" &&
	alive $fp_pid
'

test_expect_success 'the same through motrace: motrace and the pager live on' '
	"$PROBE" "unix:$S/mt" init 8200 &&
	i=0 && while ! grep -q "refused" "$TRASH/fp2.err" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done &&
	grep "8200 bytes .*refused" "$TRASH/fp2.err" &&
	alive $mt_pid && alive $fp2_pid
'

test_expect_success 'an init of 256 KiB (MO_MACH_MSG_MAX) through motrace: both live on' '
	"$PROBE" "unix:$S/mt" init 262144 &&
	i=0 && while ! grep -q "262144 bytes" "$TRASH/fp2.err" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done &&
	grep "262144 bytes .*refused" "$TRASH/fp2.err" &&
	alive $mt_pid && alive $fp2_pid
'

test_expect_success 'a larger one is refused to its sender by name; motrace lives on' '
	"$PROBE" "unix:$S/mt" init 262152 >"$TRASH/big" &&
	cat "$TRASH/big" &&
	grep "server sent: frame 1: a message of 262152 bytes exceeds the limit of 262144" "$TRASH/big" &&
	sleep 0.2 && alive $mt_pid && alive $fp2_pid
'

if command -v strace >/dev/null 2>&1; then
	test_expect_success 'each diagnostic is one whole line in one write' '
		strace -f -qq -e trace=write -e signal=none -s 400 -o "$TRASH/st" \
			"$IPC" serve "unix:$S/st" >"$TRASH/st.out" 2>"$TRASH/st.err" &
		pid=$! &&
		wait_sock "$S/st" &&
		"$IPC" raw "unix:$S/st" magic &&
		sleep 0.3 && kill $(pgrep -P $pid) && wait $pid;
		grep "write(2," "$TRASH/st" >"$TRASH/st2" && cat "$TRASH/st2" &&
		grep -q "bad magic" "$TRASH/st2" &&
		! grep "write(2," "$TRASH/st2" | grep -v "write(2, \"motrace-mach: .*\\\\n\", [0-9]*) = [0-9]*$"
	'
else
	test_skip 'each diagnostic is one whole line in one write' 'no strace'
fi

stop_all
test_done
