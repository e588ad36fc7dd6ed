#!/bin/sh
# t1024: the host port: mach_host_self, host_get_time, host_info, and an
# answer to any message sent to it (tests/mach/mach-host.c).
. "$(dirname "$0")/lib.sh"

test_expect_success 'mach_host_self, host_get_time and host_info as GNU Mach'"'"'s' '
	timeout 20 "$B/tests/mach/mach-host"
'
test_done
