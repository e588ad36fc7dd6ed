#!/bin/sh
# The real GNU Mach kernel served by a real pager over mach/: mo-filepager
# on a Unix socket, reached by mo-gnumach as mo-map reaches it.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
FILEPAGER="$B/mo-filepager"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -x "$FILEPAGER" ] || [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'gnumach with mo-filepager' 'qemu, the kernel, mo-gnumach or mo-filepager missing'
	test_done
	exit
fi

# A 16-page file whose word at byte offset X holds X.
perl -e 'print pack("Q<", $_ * 8) for 0 .. 8191' > "$TRASH/file"

sock="unix:$TRASH/pager.sock"
"$FILEPAGER" "$sock" "$TRASH/file" > "$TRASH/pager.out" 2>&1 &
pager=$!
trap 'kill $pager 2>/dev/null; rm -rf "$TRASH"' EXIT
i=0
while [ ! -S "$TRASH/pager.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

test_expect_success 'reads and writes through the relay to the file pager' '
	printf "read 0\nread 1p\nexpect 0x2008 0x2008\nwrite 2p 0x77\nunmap\n" |
	timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/console" --log "$TRASH/log" \
		"$sock" - > "$TRASH/out" &&
	printf "%s\n" "read 0 0" "read 0x1000 0x1000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/out"
'

test_expect_success 'the pager saw init, requests, the return and terminate, in order' '
	grep "^k0[<>]" "$TRASH/log" | sed "s/(.*//" > "$TRASH/seq" &&
	printf "%s\n" "k0> memory_object_init" "k0< memory_object_ready" \
		"k0> memory_object_data_request" "k0< memory_object_data_supply" \
		"k0> memory_object_data_request" "k0< memory_object_data_supply" \
		"k0> memory_object_data_request" "k0< memory_object_data_supply" \
		"k0> memory_object_data_unlock" "k0< memory_object_lock_request" \
		"k0> memory_object_data_return" "k0> memory_object_terminate" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/seq"
'

test_expect_success 'the written word reached the file' '
	od -An -tx8 -j 8192 -N 8 "$TRASH/file" | tr -d " " > "$TRASH/word" &&
	echo 0000000000000077 > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/word"
'

test_expect_failure_status 'pager words need the built-in test pager' 1 '
	printf "pager flush 0\n" |
	timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/console2" "$sock" - 2> "$TRASH/err"
'

test_expect_failure_status 'an address with no pager' 1 '
	echo "read 0" | timeout 60 "$GNUMACH" --console "$TRASH/console3" "unix:$TRASH/none.sock" - 2> "$TRASH/err3"
'

test_done
