#!/bin/sh
# The proxy's one loop (tracer/engine.h, mo_engine_add_fd and
# mo_engine_add_timer): a message, a readable descriptor and a timer each
# end a step that would otherwise sleep for ten minutes; with all three
# at once and a subscriber that is slow, messages keep their order and no
# callback runs in the middle of one; what is removed is not called.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a message, a descriptor and a timer wake the loop; order kept' '
	"$B/tests/tracer/loop" > "$TRASH/out" &&
	cat > "$TRASH/want" <<-\OUT &&
	ok timer
	ok fd
	ok message
	ok together
	ok removed
	ok twice
	OUT
	test_cmp "$TRASH/want" "$TRASH/out"
'

test_done
