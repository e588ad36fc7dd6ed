#!/bin/sh
# slow
# fuzzes the reader of recordings for CI_FUZZ_SECONDS (20) with libFuzzer,
# from the recordings kept in tests/fuzz/recordings/.
. "$(dirname "$0")/lib.sh"
secs=${CI_FUZZ_SECONDS:-20}

test_expect_success "libFuzzer finds no crash, leak or bad read in the reader in ${secs}s" '
	mkdir -p "$TRASH/corpus" &&
	"$B/fuzz/fuzz-recording" -max_total_time=$secs -max_len=65536 \
		-print_final_stats=1 "$TRASH/corpus" tests/fuzz/recordings > "$TRASH/fuzz.log" 2>&1 &&
	grep "^Done [0-9]* runs" "$TRASH/fuzz.log" &&
	grep "number_of_executed_units" "$TRASH/fuzz.log"
'
test_done
