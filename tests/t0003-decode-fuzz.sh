#!/bin/sh
# slow
# fuzzes the decoder for CI_FUZZ_SECONDS (30) with libFuzzer.
. "$(dirname "$0")/lib.sh"
secs=${CI_FUZZ_SECONDS:-30}

test_expect_success "libFuzzer finds no crash, leak or bad read in ${secs}s" '
	mkdir -p "$TRASH/corpus" &&
	"$B/fuzz/fuzz-decode" -max_total_time=$secs -print_final_stats=1 \
		"$TRASH/corpus" "$B/fuzz/seeds" > "$TRASH/fuzz.log" 2>&1 &&
	grep "^Done [0-9]* runs" "$TRASH/fuzz.log" &&
	grep "number_of_executed_units" "$TRASH/fuzz.log"
'
test_done
