#!/bin/sh
# mach_port_get_receive_status (GNU Mach ipc/mach_port.c): the make-send
# count, send and send-once rights, queue length, sequence number, set,
# queue limit and no-senders request, after make-send, moves, receives and
# a send right held by another process, until its no-senders notification
# (tests/mach/mach-glibc.c, status).
. "$(dirname "$0")/lib.sh"
G="$B/tests/mach/mach-glibc"
mkdir -m 700 "$TRASH/s"

test_expect_success 'receive status counts, here and across processes' '
	timeout 30 "$G" status "unix:$TRASH/s/p" > "$TRASH/out" &&
	grep -q "no-senders across processes" "$TRASH/out"
'

test_done
