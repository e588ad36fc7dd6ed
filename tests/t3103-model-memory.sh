#!/bin/sh
# The page model's cost follows the pages that exist, not the lengths
# messages give: a data_request of 2^40 bytes is one message that no
# kernel could mean (huge-length), and a large one within reason is one
# range, not a page each. Outside a sanitizer build the replay runs with
# 256 MiB of address space, which a page each of 2^40 bytes (2^28 pages)
# or of 4 GiB (2^20 pages, some 200 MB) cannot fit in.
. "$(dirname "$0")/lib.sh"

# bounded CMD...: CMD with its address space limited, unless motrace
# carries a sanitizer (whose shadow memory needs terabytes of it).
bounded() {
	if grep -q __asan_init "$MOTRACE"; then
		"$@"
	else
		(ulimit -v 262144 && "$@")
	fi
}

INIT="k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)"

test_expect_success 'a data_request of 2^40 bytes: huge-length, named, in bounded memory' '
	printf "%s\n%s\n" "$INIT" \
		"k0> memory_object_data_request(obj=5, ctl=7, offset=0x0, length=0x10000000000, desired_access=VM_PROT_READ)" > "$TRASH/huge.in" &&
	bounded "$MOTRACE" check "$TRASH/huge.in" > "$TRASH/huge.out" 2>&1;
	st=$?; cat "$TRASH/huge.out" &&
	grep -F "!! huge-length: memory_object_data_request at 0x0 of 0x10000000000 bytes: 268435456 pages" "$TRASH/huge.out" &&
	grep -F "1 diagnostic(s)" "$TRASH/huge.out" &&
	test $st = 1
'
test_expect_success 'a range past 2^64 is huge-length too' '
	printf "%s\n%s\n" "$INIT" \
		"k0> memory_object_data_unlock(obj=5, ctl=7, offset=0xfffffffffffff000, length=0x2000, desired_access=VM_PROT_WRITE)" > "$TRASH/wrap.in" &&
	bounded "$MOTRACE" check "$TRASH/wrap.in" > "$TRASH/wrap.out" 2>&1;
	st=$?; cat "$TRASH/wrap.out" &&
	grep -F "!! huge-length: memory_object_data_unlock at 0xfffffffffffff000 of 0x2000 bytes: the range passes 2^64" "$TRASH/wrap.out" &&
	test $st = 1
'
test_expect_success 'a 4 GiB request, repeated: huge-length each time, bounded memory' '
	{ echo "$INIT" && i=0 && while [ $i -lt 16 ]; do
		printf "k0> memory_object_data_request(obj=5, ctl=7, offset=0x%x00000000, length=0x100000000, desired_access=VM_PROT_READ)\n" $i
		i=$((i + 1))
	done; } > "$TRASH/4g.in" &&
	{ bounded "$MOTRACE" check "$TRASH/4g.in" > "$TRASH/4g.out" 2>&1; st=$?; tail -n 3 "$TRASH/4g.out"; test $st = 1; } &&
	test "$(grep -c "!! huge-length" "$TRASH/4g.out")" = 16
'
test_expect_success 'a 256 MiB request is one range; answers cut it, the table shows what waits' '
	cat > "$TRASH/span.in" <<-\IN &&
	k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)
	k0> memory_object_data_request(obj=5, ctl=7, offset=0x0, length=0x10000000, desired_access=VM_PROT_READ)
	k0< memory_object_data_supply(ctl=7, offset=0x1000, data=0x0 [4096 bytes], lock_value=VM_PROT_NONE, precious=FALSE, reply_to=0)
	k0< memory_object_data_error(ctl=7, offset=0x3000, size=0x2000, error_value=KERN_MEMORY_ERROR)
	k0< memory_object_data_unavailable(ctl=7, offset=0xfff0000, size=0x10000)
	IN
	bounded "$MOTRACE" check --no-time --pages "$TRASH/span.in" > "$TRASH/span.out" 2>&1 &&
	cat "$TRASH/span.out" &&
	grep -F "19 page(s) known" "$TRASH/span.out" &&
	grep -E "^  4 +absent" "$TRASH/span.out" &&
	grep -E "^  1 +resident" "$TRASH/span.out" &&
	grep -E "^  65520 +resident" "$TRASH/span.out" &&
	grep -F "  pages 0-0 requested (1), access r--" "$TRASH/span.out" &&
	grep -F "  pages 2-2 requested (1), access r--" "$TRASH/span.out" &&
	grep -F "  pages 5-65519 requested (65515), access r--" "$TRASH/span.out" &&
	grep -F "0 diagnostic(s)" "$TRASH/span.out"
'
test_done
