#!/bin/sh
# slow
# fuzzes a message's way through the proxy's engine (fake transport) and
# motrace check's reader for CI_FUZZ_SECONDS (20) each with libFuzzer,
# from the kept corpus (tests/fuzz/corpus-check) and the golden seeds.
. "$(dirname "$0")/lib.sh"
secs=${CI_FUZZ_SECONDS:-20}

# fuzz NAME SEEDS... : runs $B/fuzz/fuzz-NAME; no crash, leak or bad read.
fuzz() {
	name=$1
	shift
	mkdir -p "$TRASH/corpus-$name" &&
	"$B/fuzz/fuzz-$name" -max_total_time=$secs -print_final_stats=1 \
		-artifact_prefix="$TRASH/" "$TRASH/corpus-$name" "$@" \
		> "$TRASH/$name.log" 2>&1 ||
		{ grep -A20 "ERROR\|runtime error" "$TRASH/$name.log" | head -40; return 1; }
	grep "^Done [0-9]* runs" "$TRASH/$name.log" &&
	grep "number_of_executed_units" "$TRASH/$name.log"
}

test_expect_success "the kept corpus of check's reader runs clean (each input once)" '
	"$B/fuzz/fuzz-check" -runs=0 tests/fuzz/corpus-check > "$TRASH/once.log" 2>&1 ||
		{ tail -n 30 "$TRASH/once.log"; false; }
'
test_expect_success "the engine: no crash, leak or bad read in ${secs}s" '
	fuzz engine "$B/fuzz/seeds-engine"
'
test_expect_success "check's reader: no crash, leak or bad read in ${secs}s" '
	fuzz check -dict=tests/fuzz/check.dict tests/fuzz/corpus-check
'
test_done
