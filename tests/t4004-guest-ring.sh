#!/bin/sh
# The relay rings (guest/ring.h): flow control under a slow consumer,
# order and integrity across wraps, refusal of impossible lengths, the
# host's data in the agent's page pool or in the frame.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$B/guest/test-ring" ]; then
	test_skip 'guest rings' "$B/guest/test-ring not built (make check builds it)"
	test_done
	exit
fi

test_expect_success 'frames stay in order and intact; bad lengths are refused; the page pool is used in order' '
	timeout 120 "$B/guest/test-ring" 20000 > "$TRASH/tap" &&
	cat "$TRASH/tap" &&
	test "$(grep -c "^ok " "$TRASH/tap")" = 4
'

test_done
