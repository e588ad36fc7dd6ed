#!/bin/sh
# motrace traces the real GNU Mach kernel: mo-gnumach maps the object
# mo-filepager serves through motrace, runs the demo's workload on the
# real kernel, and motrace's deterministic trace is the one it gives for
# the Linux-hosted kernel (tests/golden/live-demo.out): the real kernel
# as referee, seen through the tracer.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$B/mo-gnumach" ] ||
   [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'GNU Mach through motrace' 'qemu, the kernel or mo-gnumach missing'
	test_done
	exit
fi

test_expect_success 'the real kernel through motrace: the same trace as the Linux-hosted kernel' '
	ADDR="unix:$TRASH/s/golden" &&
	head -c 65536 /dev/zero > "$TRASH/data" &&
	{ timeout 60 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/log" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/data" 2> "$TRASH/err" & } &&
	wait_for test -S "$TRASH/s/golden" &&
	timeout 60 "$B/mo-gnumach" "$ADDR" examples/demo.map > "$TRASH/out" &&
	wait_for grep -q "diagnostic" "$TRASH/log" &&
	sed "s|$TRASH|TRASH|g" "$TRASH/log" > "$TRASH/log.norm" &&
	test_cmp tests/golden/live-demo.out "$TRASH/log.norm" &&
	od -A n -t x1 -j 8 -N 8 "$TRASH/data" | grep -q "48 47 46 45 44 43 42 41"
'
test_done
