#!/bin/sh
# The page model and the checker on written scenarios: each diagnostic is
# provoked by the exchange that causes it, and a correct exchange gets none.
. "$(dirname "$0")/lib.sh"

for f in tests/scenarios/*.in; do
	name=$(basename "$f" .in)
	test_expect_success "scenario $name: output matches $name.out" "
		\"\$MOTRACE\" check --pages $f > \"\$TRASH/$name.out\"; rc=\$? &&
		test_cmp ${f%.in}.out \"\$TRASH/$name.out\" &&
		if grep -q '^0 diagnostic' ${f%.in}.out; then test \$rc = 0; else test \$rc = 1; fi
	"
done

test_expect_success 'each diagnostic is provoked by the scenario named after it' '
	for d in misaligned partial-supply supply-present unlock-timeout \
		nochange-unlock unmatched-completion discard-dirty \
		after-terminate wrong-control two-writers stale-writeback; do
		grep -l "!! $d:" tests/scenarios/*.out > /dev/null ||
			{ echo "no scenario provokes $d"; exit 1; }
	done
'
test_expect_success 'a correct exchange leaves a clean page table' '
	grep -F "object 0 kernel 0: terminated" tests/scenarios/clean.out &&
	grep -F "0 diagnostic(s)" tests/scenarios/clean.out
'
test_expect_success 'bad lines are named with file and line (and column), exit 2' '
	printf "k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)\nk9? nonsense\nk0> memory_object_frob(obj=5)\nk0> memory_object_data_request(obj=5, ctl=7, offset=0x0)\n" > "$TRASH/bad.in" &&
	{ "$MOTRACE" check "$TRASH/bad.in" > /dev/null 2> "$TRASH/err"; test $? = 2; } &&
	grep -F "bad.in:2:3: expected '\''>'\'' or '\''<'\'' after k9" "$TRASH/err" &&
	grep -F "bad.in:3: unknown routine '\''memory_object_frob'\''" "$TRASH/err" &&
	grep -F "bad.in:4: memory_object_data_request: argument length is missing" "$TRASH/err"
'
test_expect_success 'a huge object costs what its touched pages cost' '
	{ echo "k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)";
	  echo "k0> memory_object_data_request(obj=5, ctl=7, offset=0xffffff000000, length=0x1000, desired_access=VM_PROT_READ)";
	  echo "k0< memory_object_lock_request(ctl=7, offset=0x0, size=0xfffffffff000, should_return=MEMORY_OBJECT_RETURN_ALL, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=0)"; } > "$TRASH/huge.in" &&
	timeout 10 "$MOTRACE" check --pages "$TRASH/huge.in" > "$TRASH/huge.out" &&
	grep -F "1 page(s) known" "$TRASH/huge.out" &&
	grep -E "^  68719472640 +requested" "$TRASH/huge.out"
'
test_done
