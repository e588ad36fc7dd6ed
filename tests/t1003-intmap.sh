#!/bin/sh
# t1003: util/intmap, the integer-keyed map behind mach/'s port ids,
# against a plain array over random puts and deletes.
. "$(dirname "$0")/lib.sh"

for seed in 1 2 3; do
	test_expect_success "random puts, deletes and iteration agree (seed $seed)" "
		\"\$B/tests/mach/intmap-test\" $seed
	"
done
test_done
