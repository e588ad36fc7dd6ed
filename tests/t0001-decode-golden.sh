#!/bin/sh
# The decoder on golden inputs: real MIG output (x86_64) and hand-assembled
# user32 and i386 messages, against the expected text and JSON.
. "$(dirname "$0")/lib.sh"

grep -v '^#' tests/golden/TESTLIST > "$TRASH/list"
while read -r name abi form input; do
	[ -n "$name" ] || continue
	flag=
	[ "$form" = hex ] && flag=--hex
	input=$(echo "$input" | sed "s|^build/|$B/|")
	test_expect_success "$name: text form matches tests/golden/$name.out" "
		\"\$MOTRACE\" decode --abi $abi $flag $input > \"\$TRASH/$name.out\" &&
		test_cmp tests/golden/$name.out \"\$TRASH/$name.out\"
	"
	test_expect_success "$name: JSON form matches tests/golden/$name.json" "
		\"\$MOTRACE\" decode --abi $abi $flag --json $input > \"\$TRASH/$name.json\" &&
		test_cmp tests/golden/$name.json \"\$TRASH/$name.json\"
	"
done < "$TRASH/list"

test_expect_success 'every message of PROTOCOL.md is among the MIG-made golden messages' '
	for name in init terminate copy data_request data_unlock lock_completed \
		supply_completed data_return change_completed create data_initialize \
		data_unavailable get_attributes lock_request data_error destroy \
		data_supply ready change_attributes create_proxy; do
		grep -q "^memory_object_$name(" tests/golden/x86_64.out ||
			{ echo "memory_object_$name missing"; exit 1; }
	done &&
	grep -q "^memory_object_get_attributes_reply(" tests/golden/x86_64.out
'

test_expect_success 'the MIG-made messages decode without a single error' '
	! grep "\] *\$" tests/golden/x86_64.out &&
	test "$(jq -r .status tests/golden/x86_64.json | sort -u)" = ok
'

test_expect_success 'JSON lines parse, one object per message, every field there' '
	for name in x86_64 user32 i386; do
		test "$(jq -c . tests/golden/$name.json | wc -l)" = \
			"$(wc -l < tests/golden/$name.out)" || exit 1
	done &&
	jq -s -e "map(select(.name == \"memory_object_data_unlock\"))[0] |
		.args[3].name == \"desired_access\" and .args[3].value == 3 and
		.args[1].page == 3 and .dest == 6" tests/golden/user32.json
'

test_expect_success 'the decoder names the malformed user32 message and exits 1' '
	printf "80001100 00000038 00000000 00000006 00000000 00000898 10014011 00000008 00000000 10014011 00000009\n" |
		{ "$MOTRACE" decode --abi user32 --hex > "$TRASH/trunc.out"; test $? = 1; } &&
	grep -F "memory_object_init(obj=6, ctl=8) [truncated at byte 44: expected 8-byte port slot]" "$TRASH/trunc.out"
'

test_done
