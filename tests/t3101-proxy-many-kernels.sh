#!/bin/sh
# The proxy's tables grow while it handles a message: 35 kernels at once
# through motrace (the port table doubles at the 30th's init, under the
# message that makes it). Under a sanitizer build (B=build-san, or make
# check SANITIZE=1) a stale pointer into the old table is a report; in
# any build every kernel must read its data and motrace must end well.
# (The kernels' own leaks are not this test's: leak checks are motrace's.)
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"
NK=35
ADDR="unix:$TRASH/s/fp"

start_traced() {
	head -c 65536 /dev/zero | tr "\000" "\001" > "$TRASH/data"
	{ st=0; timeout 60 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/log" -- \
		"$B/mo-filepager" "$ADDR" "$TRASH/data" > "$TRASH/mt.out" 2> "$TRASH/mt.err" || st=$?;
	  echo $st > "$TRASH/mt.rc"; } &
	wait_for test -S "$TRASH/s/fp"
}

# kernels N: N mo-map at once, each reading two pages and checking them; waits for all.
kernels() {
	printf "expect 0 0x0101010101010101\nsleep 300\nexpect 1p 0x0101010101010101\n" > "$TRASH/w"
	i=0
	while [ $i -lt "$1" ]; do
		{ rc=0; ASAN_OPTIONS=detect_leaks=0 run_map -q --size 2p "$ADDR" "$TRASH/w" > "$TRASH/m$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/m$i.rc"; } &
		i=$((i + 1))
	done
	wait
}

test_expect_success "$NK kernels at once: every one reads its pages, motrace ends well" '
	start_traced &&
	kernels $NK &&
	head -n 12 "$TRASH/mt.err" &&
	test "$(cat "$TRASH"/m*.rc | sort -u)" = 0 &&
	test "$(cat "$TRASH/mt.rc")" = 0 &&
	test "$(grep -c "^k[0-9]*> memory_object_init(" "$TRASH/log")" = $NK &&
	! grep -q "Sanitizer\|runtime error" "$TRASH/mt.err"
'
test_done
