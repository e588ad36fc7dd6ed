#!/bin/sh
# t1020: mach_port_names, _rename, _allocate_name, _get_set_status,
# _extract_right and _set_seqno behave, and fail, as GNU Mach's
# ipc/mach_port.c (tests/mach/mach-portcalls.c).
. "$(dirname "$0")/lib.sh"
P="$B/tests/mach/mach-portcalls"

test_expect_success 'mach_port_names lists every name with mach_port_type'"'"'s type' '
	timeout 20 "$P" names
'
test_expect_success 'mach_port_rename moves rights, references, set members and requests' '
	timeout 20 "$P" rename
'
test_expect_success 'mach_port_allocate_name gives receive, set and dead names at chosen names' '
	timeout 20 "$P" allocate-name
'
test_expect_success 'mach_port_get_set_status lists the members of a set' '
	timeout 20 "$P" set-status
'
test_expect_success 'mach_port_extract_right takes each disposition as mach_msg would' '
	timeout 20 "$P" extract-right
'
test_expect_success 'mach_port_set_seqno sets the sequence number of the next message' '
	timeout 20 "$P" set-seqno
'
test_done
