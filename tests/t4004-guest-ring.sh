#!/bin/sh
# The relay rings (guest/ring.h): flow control under a slow consumer,
# order and integrity across wraps, refusal of impossible lengths.
. "$(dirname "$0")/lib.sh"

test_expect_success 'frames stay in order and intact; bad lengths are refused' '
	timeout 120 "$B/guest/test-ring" 20000 > "$TRASH/tap" &&
	cat "$TRASH/tap" &&
	test "$(grep -c "^ok " "$TRASH/tap")" = 3
'

test_done
