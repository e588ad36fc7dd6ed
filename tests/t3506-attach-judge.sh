#!/bin/sh
# Attached with nothing that could stop or change a message (no rule,
# no verdict plugin, no prompt, script or page view), the pager does not
# wait for motrace's word: it sends copies and delivers at once (judging
# off, doc/attach.md). A stopped motrace then slows nothing down as long
# as the copies fit the pager's queue (4 MiB); past that the pager waits
# for motrace, so that no copy is lost. With a rule, every message waits.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

mkdir -p -m 700 "$TRASH/s"
ADDR="unix:$TRASH/s/pager"
head -c $((2000 * 4096)) /dev/zero | tr '\0' 'Q' > "$TRASH/file"
"$B/mo-filepager" "$ADDR" "$TRASH/file" 2> "$TRASH/pager.err" &
pager=$!
wait_for test -S "$TRASH/s/pager"
echo "touch 0 1p" > "$TRASH/r1.map"
echo "touch 0 3p" > "$TRASH/r3.map"
echo "touch 0 300p" > "$TRASH/r300.map"
echo "touch 0 2000p" > "$TRASH/r2000.map"

# attach LOG ARGS...: motrace -p on the pager in the background ($mt),
# once a message has passed through it (motrace says whether it judges
# as it attaches; the message shows the pager heard it).
attach() {
	log=$1
	shift
	{ "$MOTRACE" ${NO_TIME---no-time} -p $pager -o "$log" "$@" < /dev/null & } &&
	mt=$! &&
	wait_until 10 grep -q "+++ attached to pid $pager" "$log" &&
	"$B/mo-map" -q --size 1p "$ADDR" "$TRASH/r1.map"
}

# done_mt: motrace ends (a detach) whatever the case left it doing.
done_mt() {
	kill -CONT $mt 2>/dev/null
	kill -TERM $mt 2>/dev/null
	wait $mt
}

# waits_for_mt SIZE MAP SECS: mo-map runs MAP while motrace ($mt) is
# stopped and still runs SECS later; motrace goes on, mo-map ends with 0.
waits_for_mt() {
	{ timeout 60 "$B/mo-map" -q --size "$1" "$ADDR" "$2" & } &&
	map=$! &&
	sleep "$3" &&
	kill -0 $map &&
	kill -CONT $mt &&
	wait $map
}

supplies() {
	grep -c "^k[0-9]*< memory_object_data_supply(" "$1"
}

test_expect_success 'nothing to judge: a stopped motrace slows nothing down, and its log misses nothing' '
	attach "$TRASH/a.log" &&
	kill -STOP $mt &&
	timeout 60 "$B/mo-map" -q --size 300p "$ADDR" "$TRASH/r300.map" &&
	done_mt &&
	test "$(supplies "$TRASH/a.log")" = 301 &&
	! grep -F "not copied to motrace" "$TRASH/a.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/a.log"
'

test_expect_success 'copies come without their data when nothing reads it; the sizes stay' '
	NO_TIME= attach "$TRASH/n.log" &&
	timeout 60 "$B/mo-map" -q --size 3p "$ADDR" "$TRASH/r3.map" &&
	done_mt &&
	test "$(grep -c "< memory_object_data_supply(.*data=0x0 \[4096 bytes, out-of-line" "$TRASH/n.log")" = 4
'

# With -w the copies carry the data (the recording keeps it): 2000 pages
# of copies are past the 4 MiB a stopped motrace may fall behind by.
test_expect_success 'past the queue the pager waits for a stopped motrace: every copy reaches the log and the recording' '
	attach "$TRASH/b.log" -w "$TRASH/b.pcap" &&
	kill -STOP $mt &&
	waits_for_mt 2000p "$TRASH/r2000.map" 2 &&
	done_mt &&
	test "$(supplies "$TRASH/b.log")" = 2001 &&
	test "$(stat -c %s "$TRASH/b.pcap")" -gt $((2001 * 4096)) &&
	! grep -F "not copied to motrace" "$TRASH/b.log" &&
	grep -F "0 diagnostic(s)" "$TRASH/b.log"
'

test_expect_success 'with a rule, every message waits for motrace: a stopped motrace stops the workload' '
	attach "$TRASH/c.log" -e delay=lock_request:by=1ms &&
	kill -STOP $mt &&
	waits_for_mt 300p "$TRASH/r300.map" 1 &&
	done_mt &&
	test "$(supplies "$TRASH/c.log")" = 301
'

# Said as motrace attaches, not once it has read the first copies: a
# motrace that gets no CPU time from the start (stopped here; at idle
# priority on a busy machine) would else be sent 2000 pages of data,
# past the 4 MiB queue.
test_expect_success 'copies come without data from the first one: a motrace stopped as it attaches misses none of 2000 pages' '
	{ "$MOTRACE" --no-time -p $pager --observe -o "$TRASH/d.log" < /dev/null & } &&
	mt=$! &&
	wait_until 10 grep -q "+++ attached to pid $pager" "$TRASH/d.log" &&
	kill -STOP $mt &&
	timeout 60 "$B/mo-map" -q --size 2000p "$ADDR" "$TRASH/r2000.map" &&
	kill -CONT $mt &&
	"$B/mo-map" -q --size 1p "$ADDR" "$TRASH/r1.map" &&
	done_mt &&
	test "$(supplies "$TRASH/d.log")" = 2001 &&
	! grep -F "not copied to motrace" "$TRASH/d.log"
'

kill $pager
wait $pager 2>/dev/null
test_done
