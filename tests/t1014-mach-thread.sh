#!/bin/sh
# The thread calls of a Hurd server (libports' adjust_priority), as GNU
# Mach answers an unprivileged task: mach_thread_self (a send right, dead
# when the thread exits), thread_switch, thread_get_assignment,
# host_processor_set_priv, thread_priority, thread_max_priority; and
# vm_page_size (tests/mach/mach-glibc.c, thread).
. "$(dirname "$0")/lib.sh"
G="$B/tests/mach/mach-glibc"
mkdir -m 700 "$TRASH/s"

test_expect_success 'thread ports, priorities, processor sets, page size' '
	timeout 30 "$G" thread > "$TRASH/out" &&
	grep -q "as an unprivileged task" "$TRASH/out"
'

test_done
