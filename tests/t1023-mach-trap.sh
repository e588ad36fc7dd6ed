#!/bin/sh
# t1023: mach_msg_trap returns MACH_RCV_INTERRUPTED from an interrupted
# receive whatever its options, as GNU Mach's trap; mach_msg without
# MACH_RCV_INTERRUPT receives on (tests/mach/mach-trap.c).
. "$(dirname "$0")/lib.sh"

test_expect_success 'a signal interrupts mach_msg_trap; mach_msg receives on' '
	timeout 60 "$B/tests/mach/mach-trap"
'
test_done
