#!/bin/sh
# The golden capture of real GNU Mach messages (tests/golden/regen-gnumach)
# decodes to its expected text, and a fresh capture still matches it.
. "$(dirname "$0")/lib.sh"

G=tests/golden/gnumach-user32

test_expect_success 'the captured kernel messages decode as recorded' '
	"$MOTRACE" decode --abi user32 --hex $G.hex > "$TRASH/out" &&
	test_cmp $G.out "$TRASH/out"
'

test_expect_success 'the capture has the sizes GNUMACH.md lists (user view)' '
	awk "!/^#/ { print \$6, \$2 }" $G.hex | sort -u > "$TRASH/sizes" &&
	printf "%s\n" "00000898 00000038" "00000899 00000030" "0000089b 0000003c" \
		"0000089c 0000003c" "0000089e 00000034" "000008a0 00000050" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/sizes"
'

if command -v qemu-system-x86_64 >/dev/null 2>&1 && [ -x "$B/mo-gnumach" ] &&
   [ -r /boot/gnumach-1.8-486.gz ]; then
	test_expect_success 'a fresh capture of the same workload gives the same messages' '
		timeout 120 "$B/mo-gnumach" --size 4p --console "$TRASH/console" --hex "$TRASH/hex" \
			--log "$TRASH/log" builtin $G.script > /dev/null &&
		"$MOTRACE" decode --abi user32 --hex "$TRASH/hex" |
			sed "s/data=0x[0-9a-f]*/data=ADDR/" > "$TRASH/fresh" &&
		sed "s/data=0x[0-9a-f]*/data=ADDR/" $G.out > "$TRASH/golden" &&
		test_cmp "$TRASH/golden" "$TRASH/fresh"
	'
else
	test_skip 'fresh capture' 'qemu-system-x86 or build/mo-gnumach missing'
fi

test_done
