#!/bin/sh
# The decoder on broken input: every truncation of every golden message,
# corrupted descriptors, absurd counts and sizes; under ASan and UBSan.
. "$(dirname "$0")/lib.sh"
M="$B/tests/decode/malformed"

test_expect_success 'x86_64 (MIG-made): truncations and corruptions are named, no bad read' '
	"$M" x86_64 "$B/tests/golden/x86_64.bin"
'
test_expect_success 'user32: truncations and corruptions are named, no bad read' '
	"$M" user32 tests/golden/user32.hex --hex
'
test_expect_success 'i386: truncations and corruptions are named, no bad read' '
	"$M" i386 tests/golden/i386.hex --hex
'
test_expect_success 'x86_64-2023: truncations and corruptions are named, no bad read' '
	"$M" x86_64-2023 tests/golden/x86_64-2023.hex --hex
'
test_expect_success 'x86_64-2023: a port right in a 4-byte slot, a truncated 8-byte descriptor' '
	printf "80001100 00000040 00000000 00000000 00000006 00000000 00000000 00000898  20002011 00000001 00000008 00000000\n" |
		{ "$MOTRACE" decode --abi x86_64-2023 --hex > "$TRASH/p4.out"; test $? = 1; } &&
	grep -F "[port right at byte 32 has msgt_size 32, the x86_64-2023 profile uses 64]" "$TRASH/p4.out" &&
	printf "80001100 00000028 00000000 00000000 00000006 00000000 00000000 00000898  20004011\n" |
		{ "$MOTRACE" decode --abi x86_64-2023 --hex > "$TRASH/d4.out"; test $? = 1; } &&
	grep -F "[truncated at byte 36: expected 8-byte type descriptor]" "$TRASH/d4.out"
'
test_expect_success 'x86_64-2023: msgh_size must be a multiple of 8, the others of 4' '
	printf "00001100 00000024 00000000 00000000 00000006 00000000 00000000 00000898  00000000\n" |
		{ "$MOTRACE" decode --abi x86_64-2023 --hex > "$TRASH/s8.out"; test $? = 1; } &&
	grep -F "[msgh_size 36 is not a multiple of 8]" "$TRASH/s8.out" &&
	printf "00001100 00000024 00000000 00000000 00000006 00000000 00000000 00000898  00000000\n" |
		{ "$MOTRACE" decode --abi x86_64 --hex > "$TRASH/s4.out"; test $? = 1; } &&
	! grep -F "not a multiple" "$TRASH/s4.out" &&
	printf "00001100 00000022 00000000 00000000 00000006 00000000 00000000 00000898  0000\n" |
		{ "$MOTRACE" decode --abi x86_64 --hex > "$TRASH/s2.out"; test $? = 1; } &&
	grep -F "[msgh_size 34 is not a multiple of 4]" "$TRASH/s2.out"
'
test_expect_success 'inline data with msgt_deallocate set is named, in the 2023 layout (bit 31) and the older one (bit 30)' '
	printf "00000013 00000040 00000008 00000000 00000000 00000000 00000000 0000082e  a0002000 00000001 00000001 00000000 20002002 00000001 00000000 00000000\n" |
		{ "$MOTRACE" decode --abi x86_64-2023 --hex > "$TRASH/dl8.out"; test $? = 1; } &&
	grep -F "[type descriptor at byte 32 is inline with msgt_deallocate set]" "$TRASH/dl8.out" &&
	printf "00000013 00000028 00000008 00000000 00000000 0000082e  10012000 00000001 50012002 00000000\n" |
		{ "$MOTRACE" decode --abi user32 --hex > "$TRASH/dl4.out"; test $? = 1; } &&
	grep -F "[type descriptor at byte 32 is inline with msgt_deallocate set]" "$TRASH/dl4.out"
'
test_expect_success 'a truncated binary stream ends with a truncation marker and exit 1' '
	head -c 100 "$B/tests/golden/x86_64.bin" > "$TRASH/cut.bin" &&
	{ "$MOTRACE" decode "$TRASH/cut.bin" > "$TRASH/cut.out"; test $? = 1; } &&
	test "$(wc -l < "$TRASH/cut.out")" = 2 &&
	tail -n 1 "$TRASH/cut.out" | grep -F "memory_object_terminate(obj=5, ctl=7) [truncated at byte 40: msgh_size is 48]"
'
test_expect_success 'a message claiming fewer bytes than its header stops the stream with a message' '
	{ printf "\000\000\000\200\010\000\000\000"; head -c 56 /dev/zero; } > "$TRASH/bad.bin" &&
	{ "$MOTRACE" decode "$TRASH/bad.bin" > "$TRASH/bad.out" 2> "$TRASH/bad.err"; test $? = 1; } &&
	grep -F "msgh_size 8 is smaller than the 32-byte header" "$TRASH/bad.out" &&
	grep -F "cannot find the next message" "$TRASH/bad.err"
'
test_expect_success 'a hex line with trailing words is reported' '
	printf "00000013 00000028 00000008 00000000 00000000 0000082e 10012000 00000001 10012002 00000000 deadbeef\n" |
		{ "$MOTRACE" decode --abi user32 --hex > "$TRASH/trail.out"; test $? = 1; } &&
	grep -F "[line 1 has 4 bytes after msgh_size 40]" "$TRASH/trail.out"
'
test_expect_success 'a wrong type in a known message is named with what was expected' '
	printf "80000013 00000028 00000008 00000000 00000000 0000082e 10012000 00000001 10012011 00000000\n" |
		{ "$MOTRACE" decode --abi i386 --hex > "$TRASH/type.out"; test $? = 1; } &&
	grep -F "argument copy_strategy: expected MACH_MSG_TYPE_INTEGER_32, got MACH_MSG_TYPE_PORT_SEND" "$TRASH/type.out"
'
test_expect_success 'bad options and inputs get clear errors and exit 2' '
	{ "$MOTRACE" decode --abi sparc < /dev/null 2> "$TRASH/e1"; test $? = 2; } &&
	grep -F "unknown ABI profile '\''sparc'\'' (x86_64, user32, i386 or x86_64-2023)" "$TRASH/e1" &&
	{ "$MOTRACE" decode --frobnicate < /dev/null 2> "$TRASH/e2"; test $? = 2; } &&
	grep -F "unknown option '\''--frobnicate'\''" "$TRASH/e2" &&
	{ "$MOTRACE" decode /nonexistent 2> "$TRASH/e3"; test $? = 2; } &&
	grep -F "cannot open '\''/nonexistent'\''" "$TRASH/e3" &&
	{ "$MOTRACE" decode --page-size 1000 < /dev/null 2> "$TRASH/e4"; test $? = 2; } &&
	grep -F "not a power of two" "$TRASH/e4" &&
	{ "$MOTRACE" nosuchcommand 2> "$TRASH/e5"; test $? = 2; } &&
	grep -F "unknown command '\''nosuchcommand'\''" "$TRASH/e5"
'
test_expect_success '--help documents every option' '
	"$MOTRACE" decode --help > "$TRASH/help" &&
	for o in --abi --json --hex --page-size --help; do grep -q -- "$o" "$TRASH/help" || exit 1; done &&
	"$MOTRACE" --help | grep -q decode
'
test_done
