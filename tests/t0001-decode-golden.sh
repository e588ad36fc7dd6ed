#!/bin/sh
# The decoder on golden inputs: real MIG output (x86_64) and hand-assembled
# user32, i386 and x86_64-2023 messages, against the expected text and JSON.
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
	for name in x86_64 user32 i386 x86_64-2023; do
		test "$(jq -c . tests/golden/$name.json | wc -l)" = \
			"$(wc -l < tests/golden/$name.out)" || exit 1
	done &&
	jq -s -e "map(select(.name == \"memory_object_data_unlock\"))[0] |
		.args[3].name == \"desired_access\" and .args[3].value == 3 and
		.args[1].page == 3 and .dest == 6" tests/golden/user32.json
'

test_expect_success 'x86_64-2023: 8-byte descriptors, inline ports in 8-byte slots, data padded to 8' '
	"$MOTRACE" decode --abi x86_64-2023 --hex --json tests/golden/x86_64-2023.hex > "$TRASH/2023.json" &&
	jq -s -e "map(select(.name == \"memory_object_data_request\"))[0] |
		.abi == \"x86_64-2023\" and .msgh_size == 96 and
		[.args[].offset] == [32, 48, 64, 80] and
		.args[0].size == 64 and .args[0].value == 8 and
		.args[3].value == 1" "$TRASH/2023.json"
'

test_expect_success 'a message in the 2023 layout is not read as x86_64, nor an x86_64 one with a body as 2023' '
	grep -m1 "^8" tests/golden/x86_64-2023.hex > "$TRASH/init2023.hex" &&
	{ "$MOTRACE" decode --abi x86_64 --hex "$TRASH/init2023.hex" > "$TRASH/as64.out"; test $? = 1; } &&
	grep -F "[message ends at byte 80 (msgh_size): expected 8-byte out-of-line pointer]" "$TRASH/as64.out" &&
	{ "$MOTRACE" decode --abi x86_64-2023 "$B/tests/golden/x86_64.bin" > "$TRASH/as2023.out"; test $? = 1; } &&
	grep -v "\]\$" "$TRASH/as2023.out" > "$TRASH/unmarked" &&
	grep -E "^[a-z_]+\([a-z_]+=[0-9]+(, reply=[0-9]+)?\)\$" tests/golden/x86_64.out > "$TRASH/bodyless" &&
	test_cmp "$TRASH/bodyless" "$TRASH/unmarked"
'

test_expect_success 'x86_64-2023: motrace check replays a hex log in that layout, and its help names the profile' '
	H=tests/golden/x86_64-2023.hex &&
	{ printf "k1> %s\n" "$(grep -A1 "^# memory_object_init:" $H | tail -n 1)" &&
	  printf "k1> %s\n" "$(grep -A1 "^# memory_object_data_request:" $H | tail -n 1)" &&
	  printf "k1< %s\n" "$(grep -A1 "^# memory_object_data_supply" $H | tail -n 1)"; } > "$TRASH/2023.log" &&
	"$MOTRACE" check --abi x86_64-2023 "$TRASH/2023.log" > "$TRASH/2023.check" &&
	grep -F "k1< memory_object_data_supply(ctl=8, offset=0x3000 [page 3], data=0x7f0000300000 [4096 bytes, out-of-line, dealloc], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=12)" "$TRASH/2023.check" &&
	grep -F "0 diagnostic(s)" "$TRASH/2023.check" &&
	{ "$MOTRACE" check --abi x86_64 "$TRASH/2023.log" > /dev/null 2>&1; test $? = 2; } &&
	"$MOTRACE" check --help | grep -F "x86_64|user32|i386|x86_64-2023"
'

test_expect_success 'a protected payload in place of the destination: all 64 bits, named as such, never a port' '
	"$MOTRACE" decode --abi x86_64-2023 --hex --json tests/golden/x86_64-2023.hex > "$TRASH/pp.json" &&
	jq -s -e "map(select(.local.type == \"MACH_MSG_TYPE_PROTECTED_PAYLOAD\")) | length == 1 and
		.[0].local.payload == 139638282147448 and .[0].local.name == null and
		.[0].dest == null and .[0].dest_payload == 139638282147448 and
		.[0].view == \"received\"" "$TRASH/pp.json" &&
	"$MOTRACE" decode --abi user32 --hex --json tests/golden/user32.hex |
		jq -s -e "map(select(.local.type == \"MACH_MSG_TYPE_PROTECTED_PAYLOAD\")) |
			length == 1 and .[0].dest_payload == 134520848" &&
	echo "k1> memory_object_data_request(obj=0x7f0012345678 [protected payload], ctl=8, offset=0x3000, length=0x1000, desired_access=VM_PROT_READ)" > "$TRASH/pp.log" &&
	"$MOTRACE" check --abi x86_64-2023 "$TRASH/pp.log" > "$TRASH/pp.check" &&
	grep -F "k1> memory_object_data_request(obj=0x7f0012345678 [protected payload], ctl=8," "$TRASH/pp.check" &&
	{ "$MOTRACE" check --abi user32 "$TRASH/pp.log" > /dev/null 2> "$TRASH/pp.err"; test $? = 2; } &&
	grep -F "memory_object_data_request: protected payload 0x7f0012345678 does not fit the 4-byte msgh_local_port of user32" "$TRASH/pp.err"
'

# data_error as libpager sends it: EIO, ENOSPC or EDQUOT (the Hurd's
# libpager/data-request.c and mark-error.c), from a pager built on Linux
# (Linux errno, some of which are also KERN_* codes) or on the Hurd.
test_expect_success 'data_error values named both ways: Linux errno, KERN_* codes, the Hurd errno' '
	for v in 5 0x1c 0x7a 0x40000005 0x4000001c 0x40000045 0x40003fff; do
		printf "00000013 00000050 00000008 00000000 00000000 00000000 00000000 0000082a  2000400b 00000001 00004000 00000000 2000400b 00000001 00001000 00000000 20002002 00000001 %08x 00000000\n" $v
	done | "$MOTRACE" decode --abi x86_64-2023 --hex | sed "s/.*error_value=//" > "$TRASH/errs" &&
	cat > "$TRASH/errs.want" <<-\EOF &&
	5 /* KERN_FAILURE or EIO */)
	28 /* KERN_INTERRUPTED or ENOSPC */)
	122 /* EDQUOT */)
	0x40000005 /* EIO */)
	0x4000001c /* ENOSPC */)
	0x40000045 /* EDQUOT */)
	0x40003fff /* Hurd E??? */)
	EOF
	test_cmp "$TRASH/errs.want" "$TRASH/errs"
'

test_expect_success 'the decoder names the malformed user32 message and exits 1' '
	printf "80001100 00000038 00000000 00000006 00000000 00000898 10014011 00000008 00000000 10014011 00000009\n" |
		{ "$MOTRACE" decode --abi user32 --hex > "$TRASH/trunc.out"; test $? = 1; } &&
	grep -F "memory_object_init(obj=6, ctl=8) [truncated at byte 44: expected 8-byte port slot]" "$TRASH/trunc.out"
'

test_done
