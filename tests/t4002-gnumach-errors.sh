#!/bin/sh
# mo-gnumach: boot and run errors become clear messages and a non-zero
# exit, and the console is kept.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'gnumach errors' 'qemu-system-x86 or build/mo-gnumach missing'
	test_done
	exit
fi

# gnumach ARGS...: mo-gnumach under a hard timeout, stderr in $TRASH/err.
gnumach() {
	timeout 120 "$GNUMACH" --console "$TRASH/console" "$@" >"$TRASH/out" 2>"$TRASH/err"
}

test_expect_failure_status 'no qemu' 1 '
	gnumach --qemu no-such-qemu builtin read:0
'
test_expect_success 'names the missing program and the package' '
	grep -q "^mo-gnumach: no-such-qemu: not found (install qemu-system-x86)$" "$TRASH/err"
'

test_expect_failure_status 'a kernel that panics (the stock, unpatched image)' 1 '
	gzip -dc /boot/gnumach-1.8-486.gz > "$TRASH/raw" &&
	objcopy -O elf32-i386 "$TRASH/raw" "$TRASH/stock32" &&
	gnumach --kernel "$TRASH/stock32" builtin read:0
'
test_expect_success 'reports the panic line and keeps the console' '
	grep -q "^mo-gnumach: kernel panic: panic .*kernel_trap.* (console: $TRASH/console)$" "$TRASH/err" &&
	grep -q "Invalid opcode" "$TRASH/console"
'

test_expect_failure_status 'a guest that does not finish in time' 1 '
	gnumach --timeout 0.05 builtin read:0
'
test_expect_success 'says the guest hung' '
	grep -q "^mo-gnumach: guest hung: the workload did not finish in time" "$TRASH/err"
'

test_expect_failure_status 'a bad workload step' 1 '
	gnumach builtin read:0 read:4
'
test_expect_success 'the agent names the step' '
	grep -q "the agent failed: mo-agent: fatal: bad step .read:4. " "$TRASH/err" &&
	grep -q "mo-agent: fatal: bad step" "$TRASH/console"
'

test_expect_failure_status 'a host message to a port that is not a control port' 1 '
	gnumach builtin read:0 misdirect:1
'
test_expect_success 'the agent refuses it and says why' '
	grep -q "^mo-gnumach: agent: error refused message 2094: destination 1 (bits 0x13) is not a control port$" "$TRASH/err"
'

test_expect_failure_status 'a pager address it cannot reach yet' 2 '
	gnumach /tmp/some-pager.sock read:0
'

test_expect_failure_status 'a bad option value' 2 '
	gnumach --size 0 builtin read:0
'

test_expect_success 'a missing kernel names make' '
	! gnumach --kernel "$TRASH/nope" builtin read:0 &&
	grep -q "nope: No such file or directory (run make to prepare the kernel)" "$TRASH/err"
'

test_done
