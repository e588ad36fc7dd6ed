#!/bin/sh
# mach_msg_server_timeout with glibc's semantics (mach/msgserver.c)
# serving MIG's server side of tests/mach/srvtest.defs: a reply, none for
# a simpleroutine, a failed routine's request destroyed (its send right
# and region released) and its error sent, MIG_NO_REPLY (the routine
# replies itself), a dead reply port, a request larger than the first
# buffer, an unknown id answered MIG_BAD_ID, and the loop's end on its
# timeout (tests/mach/mach-server.c).
. "$(dirname "$0")/lib.sh"

test_expect_success 'the server loop, request by request, then its timeout' '
	timeout 30 "$B/tests/mach/mach-server" > "$TRASH/out" &&
	grep -q "bad id, timeout" "$TRASH/out"
'

test_done
