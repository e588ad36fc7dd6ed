#!/bin/sh
# The proxy on live traffic: a kernel and a pager built from MIG's stubs
# (tests/mach/mo-kernel, mo-pager) exchange every message of PROTOCOL.md
# through motrace, each checking every value on arrival.
. "$(dirname "$0")/lib.sh"
TM="$B/tests/mach"
S="$TRASH/s"

# bg_pager NAME ADDR: starts mo-pager at ADDR in the background; $pager is
# its pid, NAME.out its output (the address, once published).
bg_pager() {
	timeout 30 "$TM/mo-pager" "$2" > "$TRASH/$1.out" 2> "$TRASH/$1.err" &
	pager=$!
	wait_for "$TRASH/$1.out"
}

# bg_motrace LOG ARGS...: starts motrace with -o LOG in the background;
# $mt is its pid; its exit status lands in LOG.rc.
bg_motrace() {
	log=$1; shift
	{ st=0; timeout 30 "$MOTRACE" --no-time -o "$log" "$@" > "$log.stdout" 2> "$log.err" || st=$?; echo $st > "$log.rc"; } &
	mt=$!
	wait_for "$log"
}

# wait_for FILE: until FILE has a line (5 s at most).
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	test -s "$1"
}

# mo-kernel's memory_object_create gives the pager the control port of a
# new object: the relay passes its traffic by, the pager's tap (the
# handoff, t3521) traces it too. These check the relay's log (--relay).
test_expect_success 'every message passes through --listen/--to, values intact' '
	bg_pager p1 "unix:$S/pager" &&
	bg_motrace "$TRASH/log1" --exit-when-idle --relay --listen "unix:$S/mt" --to "unix:$S/pager" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt" &&
	wait $pager && wait $mt && test "$(cat "$TRASH/log1.rc")" = 0 &&
	grep -q "done after 7 messages" "$TRASH/p1.out" &&
	for m in init ready data_request data_supply supply_completed data_unavailable \
		data_unlock lock_request lock_completed change_attributes change_completed \
		data_error data_return get_attributes get_attributes_reply destroy copy terminate; do
		grep -q "^k0[<>] memory_object_$m(" "$TRASH/log1" || { echo "no $m"; exit 1; }
	done &&
	# create names no control port motrace knows: its kernel is unknown
	grep -q "^k?> memory_object_create(" "$TRASH/log1" &&
	grep -F "0 diagnostic(s)" "$TRASH/log1"
'
test_expect_success 'the manager sees one control port for the kernel, whatever the message' '
	test "$(grep -o "ctl=[0-9]*" "$TRASH/log1" | sort -u | wc -l)" = 1
'
test_expect_success 'motrace -- PAGER: the pager'\''s own address is served through motrace' '
	bg_motrace "$TRASH/log2" --exit-when-idle -- "$TM/mo-pager" "unix:$S/spawned" &&
	wait_for "$TRASH/log2.stdout" &&
	test "$(head -n 1 "$TRASH/log2.stdout")" = "unix:$S/spawned" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/spawned" &&
	wait $mt && test "$(cat "$TRASH/log2.rc")" = 0 &&
	grep -q "done after 7 messages" "$TRASH/log2.stdout" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/log2" &&
	grep -F "reach the manager started by motrace" "$TRASH/log2"
'
test_expect_success 'a batch script: expect and stats, exit 0' '
	bg_pager p3 "unix:$S/pager3" &&
	printf "expect memory_object_init within 5s\nexpect k0< memory_object_ready\nexpect lock_completed within 5s\ninfo kernels\nexpect terminate\nstats\nquit\n" > "$TRASH/script" &&
	bg_motrace "$TRASH/log3" -batch -x "$TRASH/script" --listen "unix:$S/mt3" --to "unix:$S/pager3" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt3" &&
	wait $mt && wait $pager && test "$(cat "$TRASH/log3.rc")" = 0 &&
	grep -F "expect: got k0< memory_object_ready(" "$TRASH/log3.stdout" &&
	grep -E "^kernel 0: object 0, control port" "$TRASH/log3.stdout" &&
	grep -E " lock_request$" "$TRASH/log3.stdout"
'
test_expect_success 'a failed expect says what was expected and what came, exit 1' '
	bg_pager p4 "unix:$S/pager4" &&
	bg_motrace "$TRASH/log4" -batch -ex "expect memory_object_frobnicate within 20s" --relay --listen "unix:$S/mt4" --to "unix:$S/pager4" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt4" &&
	wait $pager && wait $mt &&
	test "$(cat "$TRASH/log4.rc")" = 1 &&
	grep -F "expect: no message matching '\''*memory_object_frobnicate*'\'' came before the traffic ended; the last was: k0> memory_object_terminate(" "$TRASH/log4.err"
'
test_expect_success 'killing the manager mid-stream: motrace says so and exits, log flushed' '
	bg_pager p5 "unix:$S/pager5" &&
	bg_motrace "$TRASH/log5" --listen "unix:$S/mt5" --to "unix:$S/pager5" &&
	pkill -9 -P $pager &&
	wait $mt && test "$(cat "$TRASH/log5.rc")" = 0 &&
	grep -F "+++ the manager of object 0 went away +++" "$TRASH/log5" &&
	grep -F "0 diagnostic(s)" "$TRASH/log5"
'
test_expect_success 'two objects of two managers through one motrace, kernels told apart' '
	bg_pager p6 "unix:$S/pager6a" && pager_a=$pager &&
	bg_pager p7 "unix:$S/pager6b" && pager_b=$pager &&
	bg_motrace "$TRASH/log6" --relay --listen "unix:$S/mt6a" --to "unix:$S/pager6a" \
		--listen "unix:$S/mt6b" --to "unix:$S/pager6b" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt6a" &&
	timeout 20 "$TM/mo-kernel" "unix:$S/mt6b" &&
	wait $pager_a && wait $pager_b && wait $mt &&
	grep -F "object 1: kernels at unix:$S/mt6b" "$TRASH/log6" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/log6" &&
	grep -q "^k1> memory_object_terminate(" "$TRASH/log6" &&
	grep -c "^k1" "$TRASH/log6" | grep -qv "^0$" &&
	grep -F "0 diagnostic(s)" "$TRASH/log6"
'
test_expect_success 'bad command lines are named' '
	{ "$MOTRACE" --listen unix:/tmp/x 2> "$TRASH/e1"; test $? = 2; } &&
	grep -F "each --listen needs a --to" "$TRASH/e1" &&
	{ "$MOTRACE" -batch 2> "$TRASH/e2"; test $? = 2; } &&
	grep -F "nothing to trace" "$TRASH/e2" &&
	{ "$MOTRACE" --listen "unix:$S/x" --to "unix:$S/nobody" 2> "$TRASH/e3"; test $? = 1; } &&
	grep -F "cannot reach the manager at '\''unix:$S/nobody'\''" "$TRASH/e3"
'
test_done
