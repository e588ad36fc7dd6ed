#!/bin/sh
# mach_msg_destroy (glibc mach/msg-destroy.c) releases every right and
# out-of-line region of a received message: seen from the ports' side
# (no-senders, send-once notifications, a dead name, receive status) and
# the region unmapped, for a message from this process and from another
# (tests/mach/mach-glibc.c, destroy).
. "$(dirname "$0")/lib.sh"
G="$B/tests/mach/mach-glibc"
mkdir -m 700 "$TRASH/s"

test_expect_success 'every right and region released, here and from another process' '
	timeout 30 "$G" destroy "unix:$TRASH/s/p" > "$TRASH/out" &&
	grep -q "here and from another process" "$TRASH/out"
'

test_done
