#!/bin/sh
# motrace --listen A --to P handed to the pager (doc/attach.md,
# "--listen and --to"), in use: a breakpoint stops a message and continue
# lets it go; tcp: addresses on loopback; the pager that exits ends motrace
# as the relay's manager would; and the relay where no handoff can be
# (--relay, a pager traced already), said once with the reason, whose
# kernels still get their pages.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

printf "read 0\n" > "$TRASH/one.map"
printf "fill 0 8p 0x41\nread 7p\n" > "$TRASH/small.map"
head -c $((64 * 4096)) /dev/zero > "$TRASH/fp.data"
start_pager mo-filepager "$TRASH/fp.data"
FP=$ADDR
fp_pid=$(cat "$TRASH/mo-filepager.pid")

test_expect_success 'a breakpoint through the handoff stops a message; continue lets it go' '
	{ "$MOTRACE" --no-time -o "$TRASH/bp.log" --listen "unix:$TRASH/s/bp" --to "$FP" \
		-batch -ex "break data_request" -ex "expect \[held\] within 10s" -ex "wait 1s" \
		-ex "continue" -ex "expect data_supply within 10s" > "$TRASH/bp.out" 2> "$TRASH/bp.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/bp" &&
	{ { rc=0; run_map --size 4p --offset 8p "unix:$TRASH/s/bp" "$TRASH/one.map" > "$TRASH/bp.map" 2>&1 || rc=$?; echo $rc > "$TRASH/bp.rc"; } & } &&
	wait_until 10 grep -q "^breakpoint 1, " "$TRASH/bp.out" &&
	sleep 0.3 &&
	test ! -s "$TRASH/bp.rc" &&
	wait $mt &&
	wait_until 10 test -s "$TRASH/bp.rc" &&
	cat "$TRASH/bp.out" "$TRASH/bp.err" "$TRASH/bp.map" &&
	test "$(cat "$TRASH/bp.rc")" = 0 &&
	grep -q "^breakpoint 1, message 1: k0> memory_object_data_request(.*offset=0x8000 \[page 8\]" "$TRASH/bp.out" &&
	grep -F "continuing: 1 message(s) let go" "$TRASH/bp.out" &&
	grep -F "+++ object 0: kernels at unix:$TRASH/s/bp reach the manager at $FP (handed to pid $fp_pid: ending motrace detaches) +++" "$TRASH/bp.log" &&
	! grep -F relayed "$TRASH/bp.err"
'
test_expect_success 'tcp: on loopback, port 0: the pager serves the port motrace bound' '
	start_pager mo-coherent 16p &&
	printf "fill 0 4p 0x42\nread 3p\n" > "$TRASH/tcp.map" &&
	{ "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/tcp.log" --listen "tcp:127.0.0.1:0" --to "$ADDR" \
		> "$TRASH/tcp.out" 2> "$TRASH/tcp.err" & } &&
	mt=$! &&
	wait_until 10 grep -q "kernels at tcp:127.0.0.1:[1-9]" "$TRASH/tcp.log" &&
	port=$(sed -n "s/.*kernels at tcp:127.0.0.1:\([0-9]*\) reach the manager.*/\1/p" "$TRASH/tcp.log") &&
	test -n "$port" &&
	run_map "tcp:127.0.0.1:$port" "$TRASH/tcp.map" &&
	wait $mt &&
	cat "$TRASH/tcp.err" &&
	! grep -F relayed "$TRASH/tcp.err" &&
	grep -F "(handed to pid $(cat "$TRASH/mo-coherent.pid"): ending motrace detaches)" "$TRASH/tcp.log" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/tcp.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/tcp.log" &&
	stop_pager mo-coherent
'
test_expect_success 'the pager ends: motrace says its manager went away, ends, and its address refuses' '
	start_pager mo-coherent 16p &&
	{ "$MOTRACE" --no-time -o "$TRASH/gone.log" --listen "unix:$TRASH/s/gone" --to "$ADDR" \
		> "$TRASH/gone.out" 2> "$TRASH/gone.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/gone" &&
	run_map "unix:$TRASH/s/gone" "$TRASH/small.map" &&
	stop_pager mo-coherent &&
	{ st=0; wait $mt || st=$?; } &&
	test "$st" = 0 &&
	grep -F "+++ the manager of object 0 went away +++" "$TRASH/gone.log" &&
	test ! -e "$TRASH/s/gone" &&
	rc=0 && timeout 10 "$B/mo-map" "unix:$TRASH/s/gone" "$TRASH/one.map" > "$TRASH/gone.late" 2>&1 || rc=$?
	cat "$TRASH/gone.late" &&
	test "$rc" = 2 &&
	grep -F "unix:$TRASH/s/gone: No such file or directory" "$TRASH/gone.late"
'
test_expect_success 'every message of the protocol through the handoff, values intact, each its kernel'"'"'s' '
	timeout 30 "$B/tests/mach/mo-pager" "unix:$TRASH/s/mp" > "$TRASH/mp.out" 2> "$TRASH/mp.err" &
	mp=$! &&
	wait_for test -S "$TRASH/s/mp" &&
	{ "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/mp.log" --listen "unix:$TRASH/s/mk" --to "unix:$TRASH/s/mp" \
		> "$TRASH/mk.out" 2> "$TRASH/mk.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/mk" &&
	timeout 20 "$B/tests/mach/mo-kernel" "unix:$TRASH/s/mk" &&
	wait $mp && wait $mt &&
	grep -q "done after 7 messages" "$TRASH/mp.out" &&
	grep -q "(handed to pid [0-9]*: ending motrace detaches) +++$" "$TRASH/mp.log" &&
	for m in init ready data_request data_supply supply_completed data_unavailable \
		data_unlock lock_request lock_completed change_attributes change_completed \
		data_error data_return get_attributes get_attributes_reply destroy copy terminate; do
		grep -q "^k0[<>] memory_object_$m(" "$TRASH/mp.log" || { echo "no $m"; cat "$TRASH/mp.log" "$TRASH/mk.err"; exit 1; }
	done &&
	grep -q "^k?> memory_object_create(" "$TRASH/mp.log"
'
test_expect_success 'tcp: with --secret: the pager asks the kernels at motrace'"'"'s address for the secret' '
	printf "handed-secret\n" > "$TRASH/secret" && chmod 600 "$TRASH/secret" &&
	printf "another\n" > "$TRASH/wrong" && chmod 600 "$TRASH/wrong" &&
	timeout 30 "$B/tests/mach/mo-pager" "unix:$TRASH/s/sp" > "$TRASH/sp.out" 2> "$TRASH/sp.err" &
	sp=$! &&
	wait_for test -S "$TRASH/s/sp" &&
	{ "$MOTRACE" --no-time --exit-when-idle --secret "$TRASH/secret" -o "$TRASH/sec.log" \
		--listen "tcp:127.0.0.1:0" --to "unix:$TRASH/s/sp" > "$TRASH/sec.out" 2> "$TRASH/sec.err" & } &&
	mt=$! &&
	wait_until 10 grep -q "kernels at tcp:127.0.0.1:[1-9]" "$TRASH/sec.log" &&
	port=$(sed -n "s/.*kernels at tcp:127.0.0.1:\([0-9]*\) reach the manager.*/\1/p" "$TRASH/sec.log") &&
	! timeout 10 "$B/tests/mach/mo-kernel" "tcp:127.0.0.1:$port" "$TRASH/wrong" 2> "$TRASH/wrong.err" &&
	grep "wrong or missing shared secret" "$TRASH/wrong.err" &&
	! timeout 10 "$B/tests/mach/mo-kernel" "tcp:127.0.0.1:$port" 2> "$TRASH/none.err" &&
	grep "wrong or missing shared secret" "$TRASH/none.err" &&
	timeout 20 "$B/tests/mach/mo-kernel" "tcp:127.0.0.1:$port" "$TRASH/secret" &&
	wait $sp && wait $mt &&
	grep -q "done after 7 messages" "$TRASH/sp.out" &&
	grep -F "(handed to pid " "$TRASH/sec.log" &&
	! grep -F relayed "$TRASH/sec.err"
'
test_expect_success 'two pairs, each on its own: one handed over, one relayed (its pager traced already)' '
	head -c $((64 * 4096)) /dev/zero > "$TRASH/two.data" &&
	"$B/mo-filepager" "unix:$TRASH/s/two" "$TRASH/two.data" 2> "$TRASH/two.err" &
	two=$! &&
	wait_for test -S "$TRASH/s/two" &&
	{ "$MOTRACE" --no-time -p $two -o "$TRASH/other.log" -batch -ex "wait 20s" & } &&
	other=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/other.log" &&
	{ "$MOTRACE" --no-time -o "$TRASH/pair.log" --listen "unix:$TRASH/s/pa" --to "$FP" \
		--listen "unix:$TRASH/s/pb" --to "unix:$TRASH/s/two" > "$TRASH/pair.out" 2> "$TRASH/pair.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/pb" &&
	run_map "unix:$TRASH/s/pa" "$TRASH/small.map" &&
	run_map "unix:$TRASH/s/pb" "$TRASH/small.map" &&
	kill -TERM $mt && wait $mt &&
	kill -TERM $other && wait $other &&
	kill $two &&
	cat "$TRASH/pair.err" &&
	test "$(wc -l < "$TRASH/pair.err")" = 1 &&
	grep -F "motrace: unix:$TRASH/s/pb: relayed to the manager at unix:$TRASH/s/two (refused: pid $two is traced already" "$TRASH/pair.err" &&
	grep -F "+++ object 0: kernels at unix:$TRASH/s/pa reach the manager at $FP (handed to pid $fp_pid: ending motrace detaches) +++" "$TRASH/pair.log" &&
	grep -F "+++ object 1: kernels at unix:$TRASH/s/pb reach the manager at unix:$TRASH/s/two +++" "$TRASH/pair.log" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/pair.log" &&
	grep -q "^k1> memory_object_terminate(" "$TRASH/pair.log" &&
	test ! -e "$TRASH/s/pa" && test ! -e "$TRASH/s/pb"
'
test_expect_success 'two pairs to one pager: both handed over, through one attachment' '
	{ "$MOTRACE" --no-time -o "$TRASH/one.log" --listen "unix:$TRASH/s/d1" --to "$FP" \
		--listen "unix:$TRASH/s/d2" --to "$FP" > "$TRASH/one.out" 2> "$TRASH/one.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/d2" &&
	run_map "unix:$TRASH/s/d1" "$TRASH/small.map" &&
	run_map "unix:$TRASH/s/d2" "$TRASH/small.map" &&
	kill -TERM $mt && wait $mt &&
	cat "$TRASH/one.err" &&
	test ! -s "$TRASH/one.err" &&
	grep -F "+++ object 0: kernels at unix:$TRASH/s/d1 reach the manager at $FP (handed to pid $fp_pid: ending motrace detaches) +++" "$TRASH/one.log" &&
	grep -F "+++ object 0: kernels at unix:$TRASH/s/d2 reach the manager at $FP (handed to pid $fp_pid: ending motrace detaches) +++" "$TRASH/one.log" &&
	test "$(grep -c "^k[01]> memory_object_terminate(" "$TRASH/one.log")" = 2 &&
	test ! -e "$TRASH/s/d1" && test ! -e "$TRASH/s/d2"
'
test_expect_success '--relay: relayed as before, said once with the reason; the kernel gets its pages' '
	{ "$MOTRACE" --no-time --exit-when-idle --relay -o "$TRASH/relay.log" --listen "unix:$TRASH/s/relay" --to "$FP" \
		> "$TRASH/relay.out" 2> "$TRASH/relay.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/relay" &&
	run_map "unix:$TRASH/s/relay" "$TRASH/small.map" &&
	wait $mt &&
	cat "$TRASH/relay.err" &&
	test "$(wc -l < "$TRASH/relay.err")" = 1 &&
	grep -x "motrace: unix:$TRASH/s/relay: relayed to the manager at $FP (--relay); ending motrace cuts off the kernels connected there, whose rights are to motrace.s own ports" "$TRASH/relay.err" &&
	grep -F "+++ object 0: kernels at unix:$TRASH/s/relay reach the manager at $FP +++" "$TRASH/relay.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/relay.log"
'
test_expect_success 'a pager traced already: relayed, and the note says by whom it is traced' '
	{ "$MOTRACE" --no-time -p $fp_pid -o "$TRASH/first.log" -batch -ex "wait 20s" & } &&
	first=$! &&
	wait_until 10 grep -q "^+++ attached to pid" "$TRASH/first.log" &&
	{ "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/busy.log" --listen "unix:$TRASH/s/busy" --to "$FP" \
		> "$TRASH/busy.out" 2> "$TRASH/busy.err" & } &&
	mt=$! &&
	wait_for test -S "$TRASH/s/busy" &&
	run_map "unix:$TRASH/s/busy" "$TRASH/small.map" &&
	wait $mt &&
	kill -TERM $first && wait $first &&
	cat "$TRASH/busy.err" &&
	grep -F "motrace: unix:$TRASH/s/busy: relayed to the manager at $FP (refused: pid $fp_pid is traced already: detach the other tracer first); ending motrace cuts off" "$TRASH/busy.err" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/first.log"
'
test_expect_success '--relay without --listen is a usage error' '
	st=0 && "$MOTRACE" --relay -p $fp_pid 2> "$TRASH/u.err" || st=$?
	test "$st" = 2 && grep -F "motrace: --relay goes with --listen and --to" "$TRASH/u.err"
'
stop_pager mo-filepager
test_done
