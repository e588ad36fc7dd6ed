#!/bin/sh
# The kernel side follows each rule of doc/protocol.md: a pager whose answers
# the test writes (tests/kernel/mo-testpager.c) drives it, and the
# exchange must be exactly tests/kernel/rules/NAME.log (port names and
# out-of-line addresses normalised). Each NAME.rules says which rule.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

for r in tests/kernel/rules/*.rules; do
	n=$(basename "$r" .rules)
	test_expect_success "$n: $(sed -n "1s/^# //p" "$r")" "
		run_rule $n &&
		test_cmp tests/kernel/rules/$n.log \"\$TRASH/$n.log\"
	"
done

test_expect_success 'rule 2: 60 threads fault 60 pages, 50 data_requests go out' '
	ADDR="unix:$TRASH/s/tp" &&
	{ "$B/tests/kernel/mo-testpager" "$ADDR" tests/kernel/absent-max.rules & echo $! > "$TRASH/tp.pid"; } &&
	wait_for test -S "$TRASH/s/tp" &&
	printf "read 0+t\n" > "$TRASH/sc" &&
	{ timeout -s TERM 1.5 "$B/mo-map" --threads 60 --size 64p --log "$TRASH/absent" "$ADDR" "$TRASH/sc"; test $? = 124; } &&
	stop_pager tp &&
	test "$(grep -c "k0> memory_object_data_request" "$TRASH/absent")" = 50 &&
	test "$(grep "k0> memory_object_data_request" "$TRASH/absent" | sort -u | wc -l)" = 50
'

# motrace check names what NAME.diag lists (a rule that shows a pager's
# mistake), and nothing else.
test_expect_success 'the checker names in each rule exchange what NAME.diag says' '
	for r in tests/kernel/rules/*.log; do
		d=${r%.log}.diag &&
		sed "s/=P\\([0-9]*\\)/=1\\1/g; s/data=ADDR/data=0x10000/" "$r" > "$TRASH/chk.in" &&
		{ "$MOTRACE" check --quiet "$TRASH/chk.in" > "$TRASH/chk.out"; true; } &&
		sed -n "s/^  !! \\([a-z-]*\\):.*/\\1/p" "$TRASH/chk.out" | sort -u > "$TRASH/got" &&
		{ if [ -f "$d" ]; then sort -u "$d"; fi; } > "$TRASH/want" &&
		{ test_cmp "$TRASH/want" "$TRASH/got" || { echo "$r:"; cat "$TRASH/chk.out"; exit 1; }; }
	done
'

test_done
