#!/bin/sh
# motrace replay: a recording played against a live pager (motrace plays
# the kernels) and against a live kernel (motrace plays the manager): the
# same peers give 0 divergences; each mo-faulty bug and changed data give a
# divergence where it acts, shown with the messages before it.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"

cleanup() {
	for f in "$TRASH"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$TRASH"
}
trap cleanup EXIT

# bg NAME CMD...: runs CMD in the background, its pid in $TRASH/NAME.pid.
bg() {
	name=$1
	shift
	"$@" > "$TRASH/$name.out" 2>&1 &
	echo $! > "$TRASH/$name.pid"
}

stop() {
	kill "$(cat "$TRASH/$1.pid")" 2>/dev/null
	wait "$(cat "$TRASH/$1.pid")" 2>/dev/null
	rm -f "$TRASH/$1.pid"
}

# record FILE PAGER-ARGS...: records the workload w.map through motrace
# in front of the pager.
record() {
	out=$1
	shift
	rm -f "$S/rec"
	timeout 60 "$MOTRACE" --no-time --exit-when-idle -w "$out" -o "$out.log" \
		-- "$@" > /dev/null 2>&1 &
	mt=$!
	wait_until 10 test -S "$S/rec" &&
	timeout 30 "$B/mo-map" "unix:$S/rec" "$TRASH/w.map" > "$out.map.out" &&
	wait $mt
}

cat > "$TRASH/w.map" <<'MAP'
read 0
write 0 0x1122334455667788
read 1p
write 2p 0x0badcafe0badcafe
expect 0 0x1122334455667788
unmap
MAP

test_expect_success 'a session with mo-filepager is recorded' '
	head -c 65536 /dev/zero > "$TRASH/data" &&
	record "$TRASH/fp.pcap" "$B/mo-filepager" "unix:$S/rec" "$TRASH/data" &&
	grep -q "^k0> memory_object_data_return(" "$TRASH/fp.pcap.log"
'

test_expect_success 'played against a fresh mo-filepager: 0 divergences, and the returned pages reach its file' '
	head -c 65536 /dev/zero > "$TRASH/data2" &&
	bg fp2 "$B/mo-filepager" "unix:$S/fp2" "$TRASH/data2" &&
	wait_until 10 test -S "$S/fp2" &&
	"$MOTRACE" replay "$TRASH/fp.pcap" --to "unix:$S/fp2" > "$TRASH/r1.out" &&
	cat "$TRASH/r1.out" &&
	grep -q "^8 messages sent, 5 received as recorded: 0 divergences$" "$TRASH/r1.out" &&
	stop fp2 &&
	cmp "$TRASH/data" "$TRASH/data2"
'

test_expect_success 'played against a pager whose file holds other data: the first differing byte is named' '
	head -c 65536 /dev/zero | tr "\\000" "\\101" > "$TRASH/data3" &&
	bg fp3 "$B/mo-filepager" "unix:$S/fp3" "$TRASH/data3" &&
	wait_until 10 test -S "$S/fp3" &&
	rc=0 && { "$MOTRACE" replay "$TRASH/fp.pcap" --to "unix:$S/fp3" > "$TRASH/r2.out" || rc=$?; } &&
	stop fp3 && cat "$TRASH/r2.out" && test $rc = 1 &&
	grep -q "^divergence at record [0-9]* (kernel 0): data differs from byte 0 (recorded 0x00, live 0x41)$" "$TRASH/r2.out" &&
	grep -q "^  k0> memory_object_data_request(.*offset=0x0 \\[page 0\\]" "$TRASH/r2.out" &&
	grep -q "^- k0< memory_object_data_supply(" "$TRASH/r2.out" &&
	grep -q "^+ k0< memory_object_data_supply(" "$TRASH/r2.out" &&
	grep -q "^1 divergence$" "$TRASH/r2.out"
'

test_expect_success 'played as the manager against mo-map running the same workload: 0 divergences' '
	bg rl "$MOTRACE" replay "$TRASH/fp.pcap" --listen "unix:$S/rl" &&
	wait_until 10 test -S "$S/rl" &&
	timeout 30 "$B/mo-map" "unix:$S/rl" "$TRASH/w.map" > "$TRASH/rl.map" &&
	wait "$(cat "$TRASH/rl.pid")" &&
	grep -q "^5 messages sent, 8 received as recorded: 0 divergences$" "$TRASH/rl.out" &&
	test_cmp "$TRASH/fp.pcap.map.out" "$TRASH/rl.map"
'

test_expect_success 'played as the manager against a kernel doing something else: the divergence is shown' '
	printf "read 0\nread 3p\nunmap\n" > "$TRASH/other.map" &&
	bg rl2 "$MOTRACE" replay "$TRASH/fp.pcap" --listen "unix:$S/rl2" --timeout 2 &&
	wait_until 10 test -S "$S/rl2" &&
	{ timeout 10 "$B/mo-map" "unix:$S/rl2" "$TRASH/other.map" > /dev/null 2>&1; true; } &&
	rc=0 && { wait "$(cat "$TRASH/rl2.pid")" || rc=$?; } &&
	cat "$TRASH/rl2.out" && test $rc = 1 &&
	grep -q "^divergence at record [0-9]* (kernel 0): " "$TRASH/rl2.out" &&
	grep -q "^+ k0> memory_object_data_request(.*offset=0x3000 \\[page 3\\]" "$TRASH/rl2.out"
'

test_expect_success 'a session with mo-faulty (no bug) is recorded' '
	record "$TRASH/mf.pcap" "$B/mo-faulty" --size 16p "unix:$S/rec" --bug=none &&
	grep -q "^k0< memory_object_lock_request(" "$TRASH/mf.pcap.log"
'

# against BUG TIMEOUT: replays mf.pcap against mo-faulty --bug=BUG.
against() {
	rm -f "$S/mf"
	bg mf "$B/mo-faulty" --size 16p --delay 50 "unix:$S/mf" --bug=$1 &&
	wait_until 10 test -S "$S/mf" &&
	rc=0 && { "$MOTRACE" replay "$TRASH/mf.pcap" --to "unix:$S/mf" --timeout $2 > "$TRASH/$1.out" || rc=$?; }
	stop mf
	cat "$TRASH/$1.out"
	return $rc
}

test_expect_success 'against mo-faulty with no bug, and slow: 0 divergences' '
	against none 2 && grep -q ": 0 divergences$" "$TRASH/none.out" &&
	against slow 3 && grep -q ": 0 divergences$" "$TRASH/slow.out"
'

while read -r bug why; do
	test_expect_success "against mo-faulty --bug=$bug: the divergence where it acts ($why)" '
		rc=0 && { against '"$bug"' 1 || rc=$?; } && test $rc = 1 &&
		grep -q "^divergence at record [0-9]* (kernel 0): '"$why"'" "$TRASH/'"$bug"'.out"
	'
done <<'BUGS'
never-unlock the recorded message did not come
nochange-unlock lock_value differs
flush-no-clean another message
misaligned offset differs
double-supply another message
wrong-length data has 2048 bytes, recorded 4096
BUGS

test_expect_success 'usage errors and an absent pager: status 2, in words' '
	rc=0 && { "$MOTRACE" replay "$TRASH/fp.pcap" 2> "$TRASH/u1.err" || rc=$?; } && test $rc = 2 &&
	grep -q "give --to ADDR (play the kernels) or --listen ADDR" "$TRASH/u1.err" &&
	rc=0 && { "$MOTRACE" replay "$TRASH/fp.pcap" --to "unix:$S/nobody" 2> "$TRASH/u2.err" || rc=$?; } && test $rc = 2 &&
	grep -q "cannot reach the pager at .unix:$S/nobody." "$TRASH/u2.err" &&
	rc=0 && { "$MOTRACE" replay "$TRASH/nothing.pcap" --to "unix:$S/x" 2> "$TRASH/u3.err" || rc=$?; } && test $rc = 2 &&
	grep -q "nothing.pcap" "$TRASH/u3.err"
'
test_done
