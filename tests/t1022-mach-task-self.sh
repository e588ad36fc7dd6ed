#!/bin/sh
# t1022: mach_task_self() adds a user reference per call, as GNU Mach's
# trap does: a right moved away with MOVE_SEND leaves the task its own
# (tests/mach/mach-taskself.c).
. "$(dirname "$0")/lib.sh"

test_expect_success 'a reference per call, moved away and back, a new right when all are gone, pegged' '
	timeout 60 "$B/tests/mach/mach-taskself"
'
test_done
