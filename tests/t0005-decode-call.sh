#!/bin/sh
# struct mo_call, the fields mo_decode() fills once per message, against
# what the text form shows, on every golden message of every profile.
. "$(dirname "$0")/lib.sh"
C="$B/tests/decode/call"

test_expect_success 'x86_64 (MIG-made): the call holds what the text shows' '
	"$C" x86_64 "$B/tests/golden/x86_64.bin"
'
test_expect_success 'user32: the call holds what the text shows' '
	"$C" user32 tests/golden/user32.hex --hex
'
test_expect_success 'i386: the call holds what the text shows' '
	"$C" i386 tests/golden/i386.hex --hex
'
test_expect_success 'x86_64-2023: the call holds what the text shows' '
	"$C" x86_64-2023 tests/golden/x86_64-2023.hex --hex
'
test_expect_success 'received view: the destination fills the call too' '
	printf "80001100 00000038 00000000 00000006 00000000 00000898 10014011 00000008 00000000 10014011 00000009 00000000 10012002 00001000\n" > "$TRASH/init.hex" &&
	"$C" user32 "$TRASH/init.hex" --hex
'
test_done
