#!/bin/sh
# One number parser (util/parse.c) for mo-map and the pagers: decimal,
# 0x hex, K M G T suffixes, p for pages, overflow and ranges checked, the
# argument named. mo-map's --log - is standard output; a word beyond the
# mapping says so, with the mapping's size; --log-times has microseconds,
# which motrace check -T reads.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

test_expect_success 'mo-coherent takes a size with a suffix (64K is 16 pages)' '
	start_pager mo-coherent 64K &&
	printf "write 15p 1\nexpect 15p 1\nexpect-error 16p\n" | run_map --size 17p "$ADDR" - &&
	stop_pager mo-coherent
'

test_expect_success 'mo-map --size 64K, --offset 1M, --kernel-id 010 (decimal)' '
	start_pager mo-faulty --bug=none --size 2M &&
	printf "write 0xfff8 3\nexpect 0xfff8 3\n" | run_map --size 64K --offset 1M --kernel-id 010 --log "$TRASH/log" "$ADDR" - &&
	stop_pager mo-faulty &&
	grep -q "^k10> memory_object_data_request(.*offset=0x10f000 " "$TRASH/log"
'

# bad ARGS EXPECTED-MESSAGE: the program exits 2 with that message.
bad() {
	want=$1
	shift
	rc=0
	"$@" > "$TRASH/bad.out" 2>&1 < /dev/null || rc=$?
	cat "$TRASH/bad.out"
	test "$rc" = 2 && test "$(cat "$TRASH/bad.out")" = "$want"
}

test_expect_success 'bad numbers are named, with what was wrong' '
	bad "mo-coherent: SIZE: '\''64Q'\'' is not a number (decimal or 0x hex, with K, M, G, T or p)" \
		"$B/mo-coherent" "unix:$TRASH/s/x" 64Q &&
	bad "mo-faulty: --delay: '\''-1'\'' is not a number (decimal or 0x hex, with K, M, G, T or p)" \
		"$B/mo-faulty" --delay -1 --bug=none "unix:$TRASH/s/x" &&
	bad "mo-map: --size: '\''99999999999999999999'\'' is too large" \
		"$B/mo-map" --size 99999999999999999999 "unix:$TRASH/s/x" - &&
	bad "mo-map: --size: '\''17179869184T'\'' is too large (at most 18446744073709551615)" \
		"$B/mo-map" --size 17179869184T "unix:$TRASH/s/x" - &&
	bad "mo-map: --threads: '\''300'\'' is too large (at most 256)" \
		"$B/mo-map" --threads 300 "unix:$TRASH/s/x" - &&
	bad "mo-map: --offset: '\''0x'\'' is not a number (decimal or 0x hex, with K, M, G, T or p)" \
		"$B/mo-map" --offset 0x "unix:$TRASH/s/x" -
'

test_expect_success 'a bad number in a script names the line' '
	printf "read 0\nwrite 8 12Q\n" > "$TRASH/bad.map" &&
	! "$B/mo-map" "unix:$TRASH/s/x" "$TRASH/bad.map" 2> "$TRASH/err" &&
	test "$(cat "$TRASH/err")" = "mo-map: $TRASH/bad.map:2: '\''12Q'\'' is not a number (decimal or 0x hex, with K, M, G, T or p)"
'

test_expect_success 'a word beyond the mapping says so, with its size' '
	start_pager mo-faulty --bug=none &&
	! printf "read 100p\n" | run_map "$ADDR" - 2> "$TRASH/err1" &&
	! printf "read 4\n" | run_map "$ADDR" - 2> "$TRASH/err2" &&
	! printf "fill 15p 2p 1\n" | run_map "$ADDR" - 2> "$TRASH/err3" &&
	stop_pager mo-faulty &&
	cat "$TRASH/err1" "$TRASH/err2" "$TRASH/err3" &&
	test "$(cat "$TRASH/err1")" = "mo-map: line 1: offset 0x64000 is beyond the mapping (0x10000 bytes)" &&
	test "$(cat "$TRASH/err2")" = "mo-map: line 1: offset 0x4 is not 8-byte aligned, as a word'\''s must be" &&
	test "$(cat "$TRASH/err3")" = "mo-map: line 1: range 0xf000+0x2000 is beyond the mapping (0x10000 bytes)"
'

test_expect_success '--log - writes the log to standard output, no file named -' '
	start_pager mo-faulty --bug=none &&
	(cd "$TRASH" && printf "read 0\n" | run_map --log - "$ADDR" - > "$TRASH/both") &&
	stop_pager mo-faulty &&
	test ! -e "$TRASH/-" &&
	grep -q "^k0> memory_object_data_request(" "$TRASH/both" &&
	grep -q "^read 0 0$" "$TRASH/both"
'

test_expect_success '--log-times: microseconds, and motrace check -T reads them' '
	start_pager mo-faulty --bug=none &&
	printf "repeat 20\nread 0+t\nwrite 0+t 1\nunmap\nmap\nend\n" | run_map --log-times --log "$TRASH/tlog" "$ADDR" - > /dev/null &&
	stop_pager mo-faulty &&
	! grep -v "^@[0-9][0-9]*\\.[0-9][0-9][0-9][0-9][0-9][0-9] k0[<>] " "$TRASH/tlog" &&
	"$MOTRACE" check -T "$TRASH/tlog" > "$TRASH/t" &&
	grep -c "<0\\.[0-9]*>" "$TRASH/t" > "$TRASH/n" &&
	test "$(cat "$TRASH/n")" -ge 80 &&
	grep "<0\\.[0-9]*>" "$TRASH/t" | grep -v "<0\\.000000>" > "$TRASH/nonzero" &&
	test -s "$TRASH/nonzero"
'

test_done
