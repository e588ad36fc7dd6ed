#!/bin/sh
# guest/prepare-kernel: patches exactly the expected image, refuses others.
. "$(dirname "$0")/lib.sh"

img=/boot/gnumach-1.8-486.gz
if [ ! -r "$img" ]; then
	test_skip 'prepare-kernel' "$img missing (gnumach-image-1.8-486)"
	test_done
	exit
fi

test_expect_success 'patches the stock image into a 32-bit ELF' '
	guest/prepare-kernel "$TRASH/k" 2>"$TRASH/err" &&
	grep -q "patched ud2 at file offset 0x1443d" "$TRASH/err" &&
	od -An -tx1 -N5 "$TRASH/k" | grep -q "7f 45 4c 46 01"
'

test_expect_success 'the patched bytes are the two-byte nop' '
	gzip -dc "$img" > "$TRASH/raw" &&
	LC_ALL=C grep -obUaP "\x9c\xfc\x50\x6a\x00\x0f\x0b" "$TRASH/raw" | grep -q "^83000:" &&
	! LC_ALL=C grep -qaP "\x9c\xfc\x50\x6a\x00\x0f\x0b" "$TRASH/k" &&
	LC_ALL=C grep -qaP "\x9c\xfc\x50\x6a\x00\x66\x90" "$TRASH/k"
'

test_expect_failure_status 'refuses an already patched image' 1 '
	gzip -dc "$img" > "$TRASH/p" &&
	printf "\146\220" | dd of="$TRASH/p" bs=1 seek=$((0x1443d)) conv=notrunc status=none &&
	gzip -c "$TRASH/p" > "$TRASH/p.gz" &&
	guest/prepare-kernel --image "$TRASH/p.gz" "$TRASH/out" 2>"$TRASH/err"
'

test_expect_success 'names the reason and writes nothing' '
	grep -q "already patched" "$TRASH/err" && test ! -e "$TRASH/out"
'

test_expect_failure_status 'refuses an image of another version' 1 '
	gzip -dc "$img" | sed "s/GNU Mach 1.8+git20221224/GNU Mach 1.8+git20991231/" |
		gzip -c > "$TRASH/v.gz" &&
	guest/prepare-kernel --image "$TRASH/v.gz" "$TRASH/out" 2>"$TRASH/err"
'

test_expect_success 'says which version it wanted' '
	grep -q "version string .GNU Mach 1.8+git20221224. not found" "$TRASH/err"
'

test_expect_failure_status 'refuses an image with the trap entry twice' 1 '
	{ gzip -dc "$img"; printf "\234\374\120\152\000\017\013"; } | gzip -c > "$TRASH/2.gz" &&
	guest/prepare-kernel --image "$TRASH/2.gz" "$TRASH/out" 2>"$TRASH/err"
'

test_expect_success 'counts the occurrences' '
	grep -q "found 2 times, expected exactly once" "$TRASH/err"
'

test_expect_failure_status 'refuses what is not an x86-64 ELF kernel' 1 '
	echo hello | gzip -c > "$TRASH/x.gz" &&
	guest/prepare-kernel --image "$TRASH/x.gz" "$TRASH/out"
'

test_done
