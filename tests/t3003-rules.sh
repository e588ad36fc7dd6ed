#!/bin/sh
# Rules that perturb the traffic, on a recorded exchange: delay, drop,
# hold, inject, the when= grammar, and per-port order behind a delay.
. "$(dirname "$0")/lib.sh"
S=tests/scenarios/timed.in

test_expect_success 'delay: the message goes later, logged once when it goes with its delay, and what follows it to the same port waits behind it' '
	"$MOTRACE" check -ttt -e delay=data_supply:by=100ms $S > "$TRASH/d" &&
	grep -F "0.150000 k0< memory_object_data_supply(ctl=7" "$TRASH/d" | grep -F "[delayed 0.100000s]" &&
	test "$(grep -c "data_supply(" "$TRASH/d")" = "$(grep -c "data_supply(" $S)" &&
	! grep -F "[released]" "$TRASH/d" &&
	grep -n "" "$TRASH/d" | grep -E "data_supply.*delayed|data_error" | cut -d: -f1 > "$TRASH/order" &&
	test "$(sed -n 1p "$TRASH/order")" -lt "$(sed -n 2p "$TRASH/order")" &&
	grep -F "0.160000 k0< memory_object_data_error" "$TRASH/d"
'
test_expect_success 'delay by a random time in a range is the same for the same seed' '
	"$MOTRACE" check -ttt -e delay=data_request:by=1ms-50ms:seed=7 $S | grep delayed > "$TRASH/r1" &&
	"$MOTRACE" check -ttt -e delay=data_request:by=1ms-50ms:seed=7 $S | grep delayed > "$TRASH/r2" &&
	test_cmp "$TRASH/r1" "$TRASH/r2" && test "$(wc -l < "$TRASH/r1")" = 2
'
test_expect_success 'drop with when=: only the second data_request is dropped' '
	"$MOTRACE" check -e drop=data_request:when=2 $S > "$TRASH/w" &&
	test "$(grep -c "data_request.*\[dropped\]" "$TRASH/w")" = 1 &&
	grep "data_request(obj=5, ctl=7, offset=0x2000.*\[dropped\]" "$TRASH/w"
'
test_expect_success 'when=FIRST..LAST+STEP selects as in strace' '
	printf "k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)\n" > "$TRASH/many.in" &&
	for i in 1 2 3 4 5 6 7 8 9; do
		echo "k0> memory_object_data_request(obj=5, ctl=7, offset=0x${i}000, length=0x1000, desired_access=VM_PROT_READ)"
	done >> "$TRASH/many.in" &&
	"$MOTRACE" check -e drop=data_request:when=2..7+2 "$TRASH/many.in" | grep dropped | grep -o "offset=0x[0-9]*" | tr "\n" " " > "$TRASH/sel" &&
	test "$(cat "$TRASH/sel")" = "offset=0x2000 offset=0x4000 offset=0x6000 " &&
	"$MOTRACE" check -e drop=data_request:when=8+ "$TRASH/many.in" | grep -c dropped | grep -x 2
'
test_expect_success 'hold: held until released; never released, it is reported at the end' '
	{ "$MOTRACE" check -e hold=lock_request $S > "$TRASH/h"; test $? = 1; } &&
	grep "lock_request.*\[held\]" "$TRASH/h" &&
	grep -F "+++ held as 1: '\''release 1'\'' lets it go +++" "$TRASH/h" &&
	grep -F "!! unmatched-completion" "$TRASH/h" &&
	grep -F "+++ 1 message(s) still waiting were not passed on +++" "$TRASH/h"
'
test_expect_success 'hold:for= lets the message go by itself' '
	"$MOTRACE" check -ttt -e hold=lock_request:for=1ms $S > "$TRASH/hf" &&
	grep "0.206000 k0< memory_object_lock_request.*\[released\]" "$TRASH/hf" &&
	! grep -q "still waiting" "$TRASH/hf"
'
test_expect_success 'inject: a lock_request after the second data_request, with its values' '
	"$MOTRACE" check -e "inject=data_request:when=2:send=memory_object_lock_request(ctl=\$ctl, offset=\$offset, size=0x1000, should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=0)" $S > "$TRASH/i" &&
	grep -A1 "data_request(obj=5, ctl=7, offset=0x2000" "$TRASH/i" | tail -n 1 |
		grep -F "k0< memory_object_lock_request(ctl=7, offset=0x2000 [page 2], size=0x1000, should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=0) [injected]"
'
test_expect_success 'a dropped data_supply leaves the page requested in the model' '
	"$MOTRACE" check --pages -e drop=data_supply $S > "$TRASH/ds" &&
	grep -E "^  1 +requested" "$TRASH/ds"
'
test_expect_success 'bad rules are named' '
	{ "$MOTRACE" check -e delay=data_supply $S 2> "$TRASH/b1"; test $? = 2; } &&
	grep -F "a delay needs by=DURATION" "$TRASH/b1" &&
	{ "$MOTRACE" check -e drop=frob $S 2> "$TRASH/b2"; test $? = 2; } &&
	grep -F "unknown message '\''frob'\''" "$TRASH/b2" &&
	{ "$MOTRACE" check -e drop=data_request:when=0 $S 2> "$TRASH/b3"; test $? = 2; } &&
	grep -F "expected FIRST[..LAST][+[STEP]]" "$TRASH/b3" &&
	{ "$MOTRACE" check -e "inject=data_request:send=memory_object_lock_request(ctl=\$ctl)" $S 2> "$TRASH/b4"; test $? = 2; } &&
	grep -F "argument offset is missing" "$TRASH/b4" &&
	{ "$MOTRACE" check -e drop=data_request:colour=red $S 2> "$TRASH/b5"; test $? = 2; } &&
	grep -F "unknown part '\''colour=red'\''" "$TRASH/b5"
'
test_done
