#!/bin/sh
# The workload language's second object (doc/workload.md, object N):
# what mo-map and mo-gnumach say of a script or addresses that do not fit,
# before any pager or qemu is needed. The runs themselves: t4006 (both
# kernels, compared) and below with mo-filepager for mo-map.
. "$(dirname "$0")/lib.sh"

MAP="$B/mo-map"
GNUMACH="$B/mo-gnumach"
FILEPAGER="$B/mo-filepager"

test_expect_success 'mo-map: object N beyond the addresses given is named' '
	printf "read 0\nobject 1\n" > "$TRASH/s" &&
	{ "$MAP" unix:$TRASH/none "$TRASH/s" 2> "$TRASH/err"; rc=$?; } ;
	test $rc = 1 &&
	grep -q "s:2: object 1: there is only 1 (objects are numbered from 0, one for each ADDR)" "$TRASH/err"
'

test_expect_success 'mo-map: two objects, each its own data, unmap and map one' '
	head -c 65536 /dev/zero > "$TRASH/f0" &&
	head -c 65536 /dev/zero > "$TRASH/f1" &&
	{ "$FILEPAGER" "unix:$TRASH/p0" "$TRASH/f0" > /dev/null 2>&1 & echo $! > "$TRASH/pid0"; } &&
	{ "$FILEPAGER" "unix:$TRASH/p1" "$TRASH/f1" > /dev/null 2>&1 & echo $! > "$TRASH/pid1"; } &&
	wait_until 10 test -S "$TRASH/p0" && wait_until 10 test -S "$TRASH/p1" &&
	cat > "$TRASH/two" <<-\EOF &&
	write 0 5
	object 1
	write 0 7
	read 0
	object 0
	read 0
	unmap
	map
	expect 0 5
	EOF
	timeout 30 "$MAP" --log "$TRASH/log" "unix:$TRASH/p0" "unix:$TRASH/p1" "$TRASH/two" > "$TRASH/out";
	rc=$?; kill $(cat "$TRASH/pid0") $(cat "$TRASH/pid1"); test $rc = 0 &&
	printf "read 0 0x7\nread 0 0x5\n" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/out" &&
	test $(grep -c memory_object_init "$TRASH/log") = 3 &&
	test $(grep -c memory_object_terminate "$TRASH/log") = 3 &&
	od -A n -t x1 -N 1 "$TRASH/f0" | grep -q 05 &&
	od -A n -t x1 -N 1 "$TRASH/f1" | grep -q 07
'

if [ ! -x "$GNUMACH" ]; then
	test_skip 'mo-gnumach with several objects' 'mo-gnumach missing'
	test_done
	exit
fi

test_expect_success 'mo-gnumach: the in-guest pager serves one object only' '
	printf "read 0\n" > "$TRASH/s1" &&
	{ "$GNUMACH" guest builtin "$TRASH/s1" 2> "$TRASH/err"; rc=$?; } ;
	test $rc = 2 && grep -q "'"'guest'"' serves one object" "$TRASH/err" &&
	{ "$GNUMACH" builtin guest "$TRASH/s1" 2> "$TRASH/err"; rc=$?; } ;
	test $rc = 2 && grep -q "'"'guest'"' serves one object" "$TRASH/err"
'

test_expect_success 'mo-gnumach: at most four objects' '
	{ "$GNUMACH" builtin builtin builtin builtin builtin "$TRASH/s1" 2> "$TRASH/err"; rc=$?; } ;
	test $rc = 2 && grep -q "5 addresses: the agent maps at most 4 objects" "$TRASH/err"
'

if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'two objects on GNU Mach' 'qemu or the kernel missing'
	test_done
	exit
fi

test_expect_success 'mo-gnumach: object N beyond the addresses given is named' '
	printf "read 0\nobject 1\n" > "$TRASH/s" &&
	{ timeout 60 "$GNUMACH" --console "$TRASH/console" builtin "$TRASH/s" 2> "$TRASH/err"; rc=$?; } ;
	test $rc = 1 &&
	grep -q "script:2: object 1: there is only 1 (objects are numbered from 0, one for each ADDR)" "$TRASH/err"
'

test_expect_success 'mo-gnumach: two built-in objects, pager words to the chosen one' '
	cat > "$TRASH/words" <<-\EOF &&
	object 1
	write 0 9
	pager flush 0
	object 0
	read 0
	EOF
	timeout 60 "$GNUMACH" --console "$TRASH/console" --log "$TRASH/log" builtin builtin "$TRASH/words" &&
	grep "memory_object_lock_request" "$TRASH/log" > "$TRASH/lock" &&
	ctl=$(grep -m 1 "memory_object_data_request" "$TRASH/log" | sed "s/.*ctl=\([0-9]*\).*/\1/") &&
	grep -q "ctl=$ctl," "$TRASH/lock" &&
	grep -q "data_return page 0 word 0 0x00000009" "$TRASH/log"
'
test_done
