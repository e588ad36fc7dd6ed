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

# gnumach ARGS...: mo-gnumach under a hard timeout, stderr in $TRASH/err;
# the script "read 0" is $TRASH/s.
echo "read 0" > "$TRASH/s"
gnumach() {
	timeout 120 "$GNUMACH" --console "$TRASH/console" "$@" >"$TRASH/out" 2>"$TRASH/err"
}

test_expect_failure_status 'no qemu' 1 '
	gnumach --qemu no-such-qemu builtin "$TRASH/s"
'
test_expect_success 'names the missing program and the package' '
	grep -q "^mo-gnumach: no-such-qemu: not found (install qemu-system-x86)$" "$TRASH/err"
'

# qemu hands the device its shared memory only through our ivshmem
# server (guest/host/vm.c): one that ends first is named, not waited for.
test_expect_failure_status 'a qemu that exits before it reaches the doorbell' 1 '
	gnumach --qemu false builtin "$TRASH/s"
'
test_expect_success 'says so, with the console' '
	grep -q "^mo-gnumach: qemu exited (status 0x100) before it connected to the doorbell (console: $TRASH/console)$" "$TRASH/err"
'

test_expect_failure_status 'a kernel that panics (the stock, unpatched image)' 1 '
	gzip -dc /boot/gnumach-1.8-486.gz > "$TRASH/raw" &&
	objcopy -O elf32-i386 "$TRASH/raw" "$TRASH/stock32" &&
	gnumach --kernel "$TRASH/stock32" builtin "$TRASH/s"
'
test_expect_success 'reports the panic line and keeps the console' '
	grep -q "^mo-gnumach: kernel panic: panic .*kernel_trap.* (console: $TRASH/console)$" "$TRASH/err" &&
	grep -q "Invalid opcode" "$TRASH/console"
'

test_expect_failure_status 'a guest that does not finish in time' 1 '
	gnumach --timeout 0.05 builtin "$TRASH/s"
'
test_expect_success 'says the guest hung' '
	grep -q "^mo-gnumach: guest hung: the workload did not finish in time" "$TRASH/err"
'

test_expect_failure_status 'a bad script word' 1 '
	printf "read 0\njump 4\n" > "$TRASH/bad" &&
	gnumach builtin "$TRASH/bad"
'
test_expect_success 'the agent names the line and the word' '
	grep -q "the agent failed: mo-agent: fatal: script:2: unknown word .jump." "$TRASH/err" &&
	grep -q "mo-agent: fatal: script:2" "$TRASH/console"
'

test_expect_failure_status 'a read outside the mapping' 1 '
	echo "read 16p" > "$TRASH/outside" &&
	gnumach builtin "$TRASH/outside"
'
test_expect_success 'says which line and offset' '
	grep -q "mo-agent: fatal: line 1: offset 0x10000 is not an aligned word of the mapping" "$TRASH/err"
'

test_expect_failure_status 'an expect that does not hold' 1 '
	echo "expect 8 7" > "$TRASH/expect" &&
	gnumach builtin "$TRASH/expect"
'
test_expect_success 'says what it read' '
	grep -q "mo-agent: fatal: line 1: expect 0x8: read 0x5000000c50000008, expected 0x7" "$TRASH/err"
'

test_expect_failure_status 'a missing script' 1 '
	gnumach builtin "$TRASH/nonexistent"
'
test_expect_success 'names it' '
	grep -q "^mo-gnumach: cannot open .*nonexistent.: No such file or directory$" "$TRASH/err"
'

test_expect_failure_status 'a host message to a port that is not a control port' 1 '
	printf "read 0\npager misdirect 1\n" > "$TRASH/misdirect" &&
	gnumach builtin "$TRASH/misdirect"
'
test_expect_success 'the agent refuses it and says why' '
	grep -q "^mo-gnumach: agent: error refused message 2094: destination 1 (bits 0x13) is not a control port$" "$TRASH/err"
'

test_expect_failure_status 'an address that is not one' 1 '
	gnumach /tmp/some-pager.sock "$TRASH/s"
'
test_expect_success 'says what an address is' '
	grep -q "/tmp/some-pager.sock: an address is unix:PATH or tcp:HOST:PORT" "$TRASH/err"
'

test_expect_failure_status 'a bad option value' 2 '
	gnumach --size 0 builtin "$TRASH/s"
'

test_expect_success 'a missing kernel names make' '
	! gnumach --kernel "$TRASH/nope" builtin "$TRASH/s" &&
	grep -q "nope: No such file or directory (run make to prepare the kernel)" "$TRASH/err"
'

test_done
