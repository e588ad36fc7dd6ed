#!/bin/sh
# Recordings (-w FILE, -r FILE): a live session through mo-filepager and
# the Linux-hosted kernel, recorded as pcap; read back by motrace (the
# same log, every trace option), by motrace check, by tcpdump and by
# tshark with the bundled dissector; a message larger than a pcap record;
# every kind of damage refused with its record number; kill -9 of a
# recording motrace leaves a readable file.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"
REC="$TRASH/rec.pcap"
LUA="$B/share/motrace/motrace.lua"

# rec_off FILE N: the byte offset of record N's pcap header.
rec_off() {
	off=24 i=1
	while [ $i -lt "$2" ]; do
		len=$(od -An -tu4 -j $((off + 8)) -N4 "$1" | tr -d " ")
		off=$((off + 16 + len)) i=$((i + 1))
	done
	echo $off
}

# poke FILE OFFSET OCTAL-BYTES: overwrites bytes in place.
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null
}

cat > "$TRASH/w.map" <<'MAP'
read 0
write 0 0x1122334455667788
read 1p
write 2p 0x0badcafe0badcafe
read 0
unmap
MAP

test_expect_success 'a live session is recorded with -w while it is logged' '
	head -c 65536 /dev/zero > "$TRASH/data" &&
	{ timeout 60 "$MOTRACE" --no-time --exit-when-idle -w "$REC" -o "$TRASH/live.log" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/data" 2> "$TRASH/mt.err" &
	  echo $! > "$TRASH/mt.pid"; } &&
	wait_until 10 test -S "$S/fp" &&
	timeout 30 "$B/mo-map" "unix:$S/fp" "$TRASH/w.map" &&
	wait "$(cat "$TRASH/mt.pid")" &&
	grep -q "^k0> memory_object_data_return(" "$TRASH/live.log" &&
	test -s "$REC"
'

test_expect_success '-r FILE --no-time gives the live log, line for line' '
	"$MOTRACE" -r "$REC" --no-time > "$TRASH/read.log" &&
	test_cmp "$TRASH/live.log" "$TRASH/read.log"
'

test_expect_success 'tcpdump reads the recording: the session, then a record per message and note' '
	tcpdump -r "$REC" > "$TRASH/td.out" 2> "$TRASH/td.err" &&
	grep -q "link-type 147" "$TRASH/td.err" &&
	events=$(grep -c -e "^k[0-9]*[<>] " -e "^+++ " "$TRASH/live.log") &&
	test "$(grep -c "^[0-9]" "$TRASH/td.out")" = $((events + 1))
'

test_expect_success 'tshark with the dissector names every message, in order' '
	tshark -X lua_script:"$LUA" -r "$REC" -T fields -e motrace.name \
		-Y "motrace.type == 1" > "$TRASH/ts.names" 2> "$TRASH/ts.err" &&
	sed -n "s/^k[0-9]*[<>] \\([a-z_]*\\)(.*/\\1/p" "$TRASH/live.log" > "$TRASH/log.names" &&
	test_cmp "$TRASH/log.names" "$TRASH/ts.names"
'

test_expect_success 'tshark filters on a name and shows the fields: offset, page, access' '
	tshark -X lua_script:"$LUA" -r "$REC" -Y "motrace.name == \"memory_object_data_unlock\"" \
		-T fields -e motrace.kernel -e motrace.offset -e motrace.page -e motrace.desired_access \
		> "$TRASH/ts.unlock" 2>> "$TRASH/ts.err" &&
	test "$(wc -l < "$TRASH/ts.unlock")" = "$(grep -c "^k0> memory_object_data_unlock(" "$TRASH/live.log")" &&
	head -n 1 "$TRASH/ts.unlock" | grep -q "^0	0	0	3$" &&
	tshark -X lua_script:"$LUA" -r "$REC" -Y "motrace.name == \"memory_object_data_supply\" && motrace.page == 2" \
		2>> "$TRASH/ts.err" | grep -q "data_supply(ctl=[0-9]*, offset=0x2000 \\[page 2\\], data=\\[4096 bytes\\]"
'

test_expect_success 'the pages written travel in the recording, out-of-line data and all' '
	od -An -tx1 -v "$REC" | tr -d " \\n" > "$TRASH/rec.hex" &&
	grep -q 8877665544332211 "$TRASH/rec.hex" &&
	grep -q fecaad0bfecaad0b "$TRASH/rec.hex"
'

test_expect_success 'every trace option works on a recording: -c, -T, -tt, filters, --json, --pages' '
	"$MOTRACE" -r "$REC" -c > "$TRASH/c.out" &&
	grep -q " data_unlock$" "$TRASH/c.out" &&
	calls=$(awk "\$3 == \"total\" { print \$1 }" "$TRASH/c.out") &&
	test "$calls" = "$(grep -c "^k[0-9]*[<>] " "$TRASH/live.log")" &&
	"$MOTRACE" -r "$REC" -T | grep "^k0< memory_object_data_supply(" | grep -q "<[0-9]*\\.[0-9]\\{6\\}>$" &&
	"$MOTRACE" -r "$REC" -tt | grep -q "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\\.[0-9]\\{6\\} k0> memory_object_init(" &&
	"$MOTRACE" -r "$REC" --no-time -e trace=data_unlock | grep "^k" > "$TRASH/f.out" &&
	test "$(grep -vc data_unlock "$TRASH/f.out")" = 0 && test -s "$TRASH/f.out" &&
	"$MOTRACE" -r "$REC" --json > "$TRASH/j.out" &&
	jq -e . "$TRASH/j.out" > /dev/null &&
	test "$(jq -r "select(.msg) | .msg.name" "$TRASH/j.out" | wc -l)" = "$calls" &&
	"$MOTRACE" -r "$REC" --no-time --pages > "$TRASH/p.out" &&
	test "$(wc -l < "$TRASH/p.out")" -gt "$(wc -l < "$TRASH/live.log")"
'

test_expect_success 'batch commands run between the recorded messages: the page table as it was at the unlock' '
	"$MOTRACE" -r "$REC" --no-time -ex "expect data_unlock" -ex "pages" \
		-ex "expect terminate" -ex "diagnostics 0" > "$TRASH/b.out" &&
	sed -n "/^expect: got k0> memory_object_data_unlock(/,/^k0/p" "$TRASH/b.out" > "$TRASH/b.pages" &&
	grep -q "^  0  *resident .*unlock-pending" "$TRASH/b.pages" &&
	grep -q "^diagnostics: 0, as expected$" "$TRASH/b.out" &&
	rc=0 && { "$MOTRACE" -r "$REC" -ex "expect lock_completed within 10ms" > /dev/null 2> "$TRASH/b.err" || rc=$?; } &&
	test $rc = 1 && grep -q "no message matching .\*lock_completed\*. came in time" "$TRASH/b.err" &&
	rc=0 && { "$MOTRACE" -r "$REC" -ex "drop data_supply" > /dev/null 2> "$TRASH/b2.err" || rc=$?; } &&
	test $rc = 1 && grep -q "drop acts on live traffic; a recording (-r) is only read" "$TRASH/b2.err"
'

test_expect_success 'motrace check reads a recording as it reads a log' '
	"$MOTRACE" check --no-time "$REC" > "$TRASH/check.out" &&
	test_cmp "$TRASH/live.log" "$TRASH/check.out"
'

test_expect_success 'a message larger than a pcap record goes in continuations and comes back whole' '
	"$B/tests/tracer/recfrag" "$TRASH/big.pcap" 1048576 > "$TRASH/big.out" &&
	grep -q "^ok 5$" "$TRASH/big.out" &&
	test "$(tcpdump -r "$TRASH/big.pcap" 2> /dev/null | grep -c "^[0-9]")" = 7 &&
	"$MOTRACE" -r "$TRASH/big.pcap" | grep -q "^k3< memory_object_data_supply(.*\\[1048576 bytes, out-of-line\\]"
'

test_expect_success 'a file that is not pcap is refused, by name (status 2)' '
	printf "XXXX" > "$TRASH/bad" && cat "$REC" >> "$TRASH/bad" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/bad" 2> "$TRASH/bad.err" || rc=$?; } &&
	test $rc = 2 && grep -q "bad: not a recording" "$TRASH/bad.err"
'

test_expect_success 'another link type is refused (status 2)' '
	cp "$REC" "$TRASH/lt" && poke "$TRASH/lt" 20 "\\001\\000\\000\\000" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/lt" 2> "$TRASH/lt.err" || rc=$?; } &&
	test $rc = 2 && grep -q "link type 1 is not a motrace recording" "$TRASH/lt.err"
'

test_expect_success 'a header that lies about a length: the record and byte are named, all before is shown' '
	cp "$REC" "$TRASH/lie" && off=$(rec_off "$TRASH/lie" 4) &&
	poke "$TRASH/lie" $((off + 16 + 48)) "\\377\\377\\377\\077" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/lie" --no-time > "$TRASH/lie.out" 2> "$TRASH/lie.err" || rc=$?; } &&
	cat "$TRASH/lie.err" && test $rc = 1 &&
	grep -q "lie: record 4 at byte $((off + 16 + 48)): payload of 1073741823 bytes" "$TRASH/lie.err" &&
	head -n 2 "$TRASH/live.log" > "$TRASH/lie.want" &&
	head -n 2 "$TRASH/lie.out" | test_cmp "$TRASH/lie.want" - &&
	! grep -q memory_object_ready "$TRASH/lie.out"
'

test_expect_success 'a file cut inside a record: named, all before is shown' '
	size=$(wc -c < "$REC") && head -c $((size - 10)) "$REC" > "$TRASH/cut" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/cut" --no-time > "$TRASH/cut.out" 2> "$TRASH/cut.err" || rc=$?; } &&
	cat "$TRASH/cut.err" && test $rc = 1 &&
	grep -q "cut: record [0-9]* at byte [0-9]*: truncated dump file" "$TRASH/cut.err" &&
	! grep -q "^k0> memory_object_terminate(" "$TRASH/cut.out" &&
	grep "^k" "$TRASH/live.log" | sed "\$d" > "$TRASH/cut.want" &&
	grep "^k" "$TRASH/cut.out" | test_cmp "$TRASH/cut.want" -
'

test_expect_success 'a file cut between the records of one message' '
	off=$(rec_off "$TRASH/big.pcap" 4) && head -c $off "$TRASH/big.pcap" > "$TRASH/bigcut" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/bigcut" 2> "$TRASH/bigcut.err" || rc=$?; } &&
	cat "$TRASH/bigcut.err" && test $rc = 1 &&
	grep -q "bigcut: record 4 at byte $off: the file ends inside a message" "$TRASH/bigcut.err"
'

test_expect_success 'garbage in a message: shown as the decoder sees it, named, the rest goes on' '
	cp "$REC" "$TRASH/garb" && off=$(rec_off "$TRASH/garb" 3) &&
	poke "$TRASH/garb" $((off + 16 + 64 + 4)) "\\003\\000\\000\\000" &&
	rc=0 && { "$MOTRACE" -r "$TRASH/garb" --no-time > "$TRASH/garb.out" 2> "$TRASH/garb.err" || rc=$?; } &&
	cat "$TRASH/garb.err" && test $rc = 1 &&
	grep -q "garb: record 3 at byte $((off + 16 + 64)): message: msgh_size 3 is smaller" "$TRASH/garb.err" &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/garb.out"
'

test_expect_success 'kill -9 of a recording motrace leaves a readable recording' '
	printf "repeat 400\nread 0\nwrite 1p 7\nsleep 5\nend\n" > "$TRASH/loop.map" &&
	head -c 65536 /dev/zero > "$TRASH/data2" &&
	{ timeout 60 "$MOTRACE" -c -w "$TRASH/k9.pcap" \
		-- "$B/mo-filepager" "unix:$S/fp2" "$TRASH/data2" > /dev/null 2>&1 &
	  echo $! > "$TRASH/k9.pid"; } &&
	wait_until 10 test -S "$S/fp2" &&
	{ timeout 30 "$B/mo-map" "unix:$S/fp2" "$TRASH/loop.map" > /dev/null 2>&1 & } &&
	sleep 2 &&
	kill -9 "$(cat "$TRASH/k9.pid")" &&
	sleep 0.2 && pkill -f "mo-filepager unix:$S/fp2"; pkill -f "mo-map unix:$S/fp2";
	"$MOTRACE" -r "$TRASH/k9.pcap" --no-time > "$TRASH/k9.out" 2> "$TRASH/k9.err" &&
	! test -s "$TRASH/k9.err" &&
	test "$(grep -c "^k0> memory_object_data_request(" "$TRASH/k9.out")" -ge 1
'
test_done
