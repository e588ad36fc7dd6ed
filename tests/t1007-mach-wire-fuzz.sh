#!/bin/sh
# t1007: libmotrace-mach's frames and handshake under libFuzzer
# (tests/fuzz/fuzz-wire.c): every seed of tests/fuzz/wire-seeds runs
# clean (no crash, no leak, no bad read), then CI_FUZZ_SECONDS (20) of
# fuzzing from them find nothing either.
. "$(dirname "$0")/lib.sh"
secs=${CI_FUZZ_SECONDS:-20}
FUZZ="$B/fuzz/fuzz-wire"

test_expect_success 'each seed runs clean' '
	(cd "$TRASH" && "$FUZZ" -close_fd_mask=2 "$TOP"/tests/fuzz/wire-seeds/*) \
		>"$TRASH/seeds.log" 2>&1 || { cat "$TRASH/seeds.log"; false; } &&
	grep "Executed .*wire-seeds/msg-to-nowhere" "$TRASH/seeds.log"
'

test_expect_success "libFuzzer finds no crash, leak or bad read in ${secs}s" '
	mkdir -p "$TRASH/corpus" &&
	(cd "$TRASH" && "$FUZZ" -max_total_time=$secs -print_final_stats=1 \
		-close_fd_mask=2 "$TRASH/corpus" "$TOP/tests/fuzz/wire-seeds") \
		>"$TRASH/fuzz.log" 2>&1 || { tail -60 "$TRASH/fuzz.log"; false; } &&
	grep "^Done [0-9]* runs" "$TRASH/fuzz.log" &&
	grep "number_of_executed_units" "$TRASH/fuzz.log"
'
test_done
