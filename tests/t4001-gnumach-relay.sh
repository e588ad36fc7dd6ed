#!/bin/sh
# The real GNU Mach kernel under qemu, served by mo-gnumach's test pager:
# the message sequences of PROTOCOL.md, as the kernel really sends them.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ]; then
	test_skip 'gnumach relay' 'qemu-system-x86 or build/mo-gnumach missing'
	test_done
	exit
fi

# run NAME STEP...: boots once; the log is $TRASH/NAME.log. The timeout
# stops a hung guest (mo-gnumach's own deadline comes first).
run() {
	name=$1
	shift
	timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/$name.console" \
		--hex "$TRASH/$name.hex" --log "$TRASH/$name.log" builtin "$@"
}

# in_order LOG PATTERN...: each pattern matches a line of LOG, in this
# order; in a pattern, '*' stands for any text.
in_order() {
	awk 'BEGIN { n = ARGC - 2; for (i = 2; i < ARGC; i++) want[i - 1] = ARGV[i]; ARGC = 2; k = 1 }
		function match_all(line, pat,    parts, np, i, at) {
			np = split(pat, parts, "*")
			for (i = 1; i <= np; i++) {
				at = index(line, parts[i])
				if (!at) return 0
				line = substr(line, at + length(parts[i]))
			}
			return 1
		}
		k <= n && match_all($0, want[k]) { k++ }
		END { if (k <= n) { print "missing, in order: " want[k]; exit 1 } }' \
		"$@" || { cat "$1"; return 1; }
}

test_expect_success 'read fault: init, ready, data_request, read-only supply' '
	run read read:0 &&
	in_order "$TRASH/read.log" \
		"< memory_object_init(obj=" \
		"> memory_object_ready(ctl=" \
		"< memory_object_data_request(*offset=0x0 [page 0], length=0x1000, desired_access=VM_PROT_READ)" \
		"> memory_object_data_supply(*lock_value=VM_PROT_WRITE" \
		"# agent: step read 0 0x50000000" \
		"# agent: done"
'

test_expect_success 'the kernel messages carry GNUMACH.md sizes and bits' '
	awk "{ print \$1, \$2, \$6 }" "$TRASH/read.hex" > "$TRASH/words" &&
	printf "%s\n" "80001100 00000038 00000898" "80001100 0000003c 0000089b" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/words"
'

test_expect_success 'write after a read-only supply: data_unlock, lock_request, lock_completed' '
	run unlock read:1 write:1 &&
	in_order "$TRASH/unlock.log" \
		"< memory_object_data_request(*offset=0x1000 [page 1]*desired_access=VM_PROT_READ)" \
		"> memory_object_data_supply(*lock_value=VM_PROT_WRITE" \
		"< memory_object_data_unlock(*desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"> memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=FALSE, lock_value=VM_PROT_NONE" \
		"# agent: step write 1 0x57000001" &&
	grep -q "< memory_object_lock_completed(.*offset=0x1000 \[page 1\], length=0x1000)" "$TRASH/unlock.log"
'

test_expect_success 'flush of a dirty page: data_return (not a kernel copy), then lock_completed' '
	run flush write:2 flush:2 &&
	in_order "$TRASH/flush.log" \
		"< memory_object_data_request(*desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"> memory_object_data_supply(*lock_value=VM_PROT_NONE" \
		"> memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=TRUE" \
		"< memory_object_data_return(*offset=0x2000 [page 2]*dirty=TRUE, kernel_copy=FALSE)" \
		"# pager: data_return page 2 word 0 0x57000002" \
		"< memory_object_lock_completed(*offset=0x2000 [page 2], length=0x1000)"
'

test_expect_success 'clean without flush: data_return with kernel_copy, then lock_completed' '
	run clean write:0 clean:0 &&
	in_order "$TRASH/clean.log" \
		"> memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=FALSE, lock_value=VM_PROT_NO_CHANGE" \
		"< memory_object_data_return(*dirty=TRUE, kernel_copy=TRUE)" \
		"< memory_object_lock_completed("
'

test_expect_success 'a clean page flushed: lock_completed only' '
	run cleanflush read:3 flush:3 &&
	in_order "$TRASH/cleanflush.log" "should_flush=TRUE" "< memory_object_lock_completed(" &&
	! grep -q data_return "$TRASH/cleanflush.log"
'

test_expect_success 'contiguous dirty pages come back in one data_return' '
	run flushall write:0 write:1 write:2 read:3 flushall &&
	in_order "$TRASH/flushall.log" \
		"> memory_object_lock_request(*offset=0x0 [page 0], size=0x4000*should_flush=TRUE" \
		"< memory_object_data_return(*offset=0x0 [page 0], data=0x*[12288 bytes, out-of-line, dealloc], dirty=TRUE, kernel_copy=FALSE)" \
		"# pager: data_return page 0 word 0 0x57000000" \
		"# pager: data_return page 2 word 0 0x57000002" \
		"< memory_object_lock_completed(*offset=0x0 [page 0], length=0x4000)" &&
	test "$(grep -c "^< memory_object_data_return" "$TRASH/flushall.log")" = 1
'

test_expect_success 'a 1 MiB flush: data_returns of 32 pages, twice the ring, all intact' '
	timeout 120 "$GNUMACH" --timeout 60 --size 256 --console "$TRASH/big.console" \
		--log "$TRASH/big.log" builtin writeall flushall unmap &&
	test "$(grep -c "^< memory_object_data_return(.*\[131072 bytes, out-of-line, dealloc\], dirty=TRUE, kernel_copy=FALSE)" "$TRASH/big.log")" = 8 &&
	test "$(grep -c "^# pager: data_return page [0-9]* word 0 0x570000" "$TRASH/big.log")" = 256 &&
	in_order "$TRASH/big.log" "offset=0xe0000 [page 224]" "< memory_object_lock_completed(*length=0x100000)" \
		"< memory_object_terminate("
'

test_expect_success 'two threads faulting on one page: one data_request' '
	run par par:write:0+write:0 par:read:1+read:2 &&
	test "$(grep -c "^< memory_object_data_request(.*\[page 0\]" "$TRASH/par.log")" = 1 &&
	test "$(grep -c "^# agent: step write 0 0x57000000" "$TRASH/par.log")" = 2 &&
	grep -q "^# agent: step read 2 0x50002000" "$TRASH/par.log"
'

test_expect_success 'unmap: dirty pages come back, then terminate' '
	run unmap write:1 read:2 unmap &&
	in_order "$TRASH/unmap.log" \
		"< memory_object_data_return(*offset=0x1000 [page 1]*dirty=TRUE, kernel_copy=FALSE)" \
		"< memory_object_terminate(" \
		"# agent: step unmap" "# agent: done" &&
	test "$(grep -c "^< memory_object_data_return" "$TRASH/unmap.log")" = 1
'

test_expect_success 'fault cycles through the relay: one data_request per read' '
	run cycles cycles:10 &&
	test "$(grep -c "^< memory_object_data_request(" "$TRASH/cycles.log")" = 10 &&
	test "$(grep -c "^> memory_object_lock_request(.*offset=0x0 \[page 0\], size=0x4000.*should_flush=TRUE" "$TRASH/cycles.log")" = 3 &&
	grep -q "# agent: mark end 10" "$TRASH/cycles.log"
'

test_expect_success 'the in-guest pager (the floor) keeps every message inside' '
	timeout 120 "$GNUMACH" --console "$TRASH/local.console" --log "$TRASH/local.log" \
		guest cycles:10 unmap &&
	! grep -q "^[<>]" "$TRASH/local.log" &&
	grep -q "# agent: step unmap" "$TRASH/local.log"
'

test_expect_success 'the saved hex decodes to the logged kernel messages' '
	"$MOTRACE" decode --abi user32 --hex "$TRASH/unmap.hex" > "$TRASH/decoded" &&
	sed -n "s/^< //p" "$TRASH/unmap.log" > "$TRASH/logged" &&
	test_cmp "$TRASH/logged" "$TRASH/decoded"
'

test_expect_success 'every run kept its console with the agent lines' '
	grep -q "mo-agent: started, 4 pages" "$TRASH/unmap.console" &&
	grep -q "mo-agent: done" "$TRASH/unmap.console"
'

test_done
