#!/bin/sh
# Protected payloads (GNU Mach ipc/mach_port.c, ipc/ipc_kmsg.c
# ipc_kmsg_copyout_header): a port's payload comes back in the headers
# received from it, with MACH_MSG_TYPE_PROTECTED_PAYLOAD, from this
# process and another; cleared, the name again; a receive right that
# moves leaves it behind (tests/mach/mach-glibc.c, payload).
. "$(dirname "$0")/lib.sh"
G="$B/tests/mach/mach-glibc"
mkdir -m 700 "$TRASH/s"

test_expect_success 'payload round trip: set, cleared, remote, moved' '
	timeout 30 "$G" payload "unix:$TRASH/s/p" > "$TRASH/out" &&
	grep -q "not moved with the receive right" "$TRASH/out"
'

test_done
