#!/bin/sh
# The log's options, on a recorded exchange with known times: -T, --relative,
# -ttt, -c, -e filters, -o, --json, --no-time, and bad options.
. "$(dirname "$0")/lib.sh"
S=tests/scenarios/timed.in

test_expect_success '-T shows the time until each answer' '
	"$MOTRACE" check -T $S > "$TRASH/T" &&
	grep -F "memory_object_ready(ctl=7" "$TRASH/T" | grep -F "<0.010000>" &&
	grep -F "memory_object_data_supply(ctl=7" "$TRASH/T" | grep -F "<0.030000>" &&
	grep -F "memory_object_data_error(ctl=7" "$TRASH/T" | grep -F "<0.100000>" &&
	grep -F "memory_object_lock_request(ctl=7" "$TRASH/T" | grep -F "<0.005000>" &&
	grep -F "memory_object_lock_completed(" "$TRASH/T" | grep -F "<0.002000>"
'
test_expect_success '-c: counts, errors and latency per message' '
	"$MOTRACE" check -c $S > "$TRASH/c" &&
	grep -E "^ +2 +1 +2 +0\.030000 +0\.030000 +0\.100000 +0\.100000 data_request$" "$TRASH/c" &&
	grep -E "^ +1 +0 +1 +0\.010000 .* init$" "$TRASH/c" &&
	grep -E "^ +9 +1 +total$" "$TRASH/c" &&
	! grep -q "^k0" "$TRASH/c"
'
test_expect_success '-r and -ttt time the lines' '
	"$MOTRACE" check --relative $S | sed -n 3p | grep "^ *0\.010000 k0> memory_object_data_request" &&
	"$MOTRACE" check -ttt $S | sed -n 4p | grep "^0\.050000 k0< memory_object_data_supply"
'
test_expect_success '--no-time drops every time, -T included' '
	"$MOTRACE" check -T -ttt --no-time $S > "$TRASH/nt" &&
	! grep -q "<0\." "$TRASH/nt" && grep -q "^k0> memory_object_init" "$TRASH/nt"
'
test_expect_success '-e trace=, kernel=, page= choose the lines shown' '
	"$MOTRACE" check -e trace=data_request,data_error $S > "$TRASH/e1" &&
	test "$(grep -c "^k0" "$TRASH/e1")" = 3 &&
	"$MOTRACE" check -e trace=!data_request $S > "$TRASH/e2" &&
	test "$(grep -c "^k0" "$TRASH/e2")" = 7 &&
	"$MOTRACE" check -e page=2 $S > "$TRASH/e3" &&
	test "$(grep -c "^k0" "$TRASH/e3")" = 2 &&
	"$MOTRACE" check -e kernel=1 $S > "$TRASH/e4" &&
	! grep -q "^k0" "$TRASH/e4"
'
test_expect_success '-o writes the log to a file, --json lines parse' '
	"$MOTRACE" check --json -T -o "$TRASH/log.json" $S &&
	test "$(jq -c . "$TRASH/log.json" | wc -l)" = 10 &&
	tail -n 1 "$TRASH/log.json" | jq -e ".diagnostics == 0" &&
	jq -s -e "map(select(.msg.name == \"memory_object_data_error\"))[0] |
		.latency == 0.1 and .kernel == 0 and .dir == \"manager-to-kernel\"" "$TRASH/log.json"
'
test_expect_success 'the log reads back into motrace check' '
	"$MOTRACE" check --no-time tests/scenarios/nochange-unlock.in | grep "^k[0-9]" > "$TRASH/relog" &&
	"$MOTRACE" check --no-time "$TRASH/relog" > "$TRASH/again";
	grep -F "!! nochange-unlock" "$TRASH/again"
'
test_expect_success 'bad trace options are named' '
	{ "$MOTRACE" check -e trace=frobnicate $S 2> "$TRASH/b1"; test $? = 2; } &&
	grep -F "unknown message '\''frobnicate'\''" "$TRASH/b1" &&
	{ "$MOTRACE" check -e colour=red $S 2> "$TRASH/b2"; test $? = 2; } &&
	grep -F "unknown qualifier '\''colour'\''" "$TRASH/b2" &&
	{ "$MOTRACE" check -e page=9-3 $S 2> "$TRASH/b3"; test $? = 2; } &&
	grep -F "expected N or FIRST-LAST" "$TRASH/b3" &&
	{ "$MOTRACE" check -o /nonexistent/dir/x $S 2> "$TRASH/b4"; test $? = 2; } &&
	grep -F "cannot write '\''/nonexistent/dir/x'\''" "$TRASH/b4"
'
test_done
