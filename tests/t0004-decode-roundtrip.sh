#!/bin/sh
# The text form reads back into the same bytes: decode, print, parse,
# encode. For the MIG-made messages this holds the encoder (used for
# scenarios and injected messages) to exactly what MIG's stubs send.
. "$(dirname "$0")/lib.sh"
R="$B/tests/decode/roundtrip"

test_expect_success 'x86_64: every MIG-made message round-trips byte for byte' '
	"$R" x86_64 "$B/tests/golden/x86_64.bin"
'
test_expect_success 'user32: every hand-assembled message round-trips' '
	"$R" user32 tests/golden/user32.hex --hex
'
test_expect_success 'i386: every hand-assembled message round-trips' '
	"$R" i386 tests/golden/i386.hex --hex
'
test_expect_success 'x86_64-2023: every hand-assembled message round-trips' '
	"$R" x86_64-2023 tests/golden/x86_64-2023.hex --hex
'
test_done
