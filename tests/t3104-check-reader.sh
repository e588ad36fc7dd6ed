#!/bin/sh
# motrace check's reader: every line it cannot read is an error naming
# the file, line and column, and the lines after it are still read; a NUL
# byte does not end the input; a kernel number past the last one is not
# wrapped to another kernel; a time is plain seconds (no nan, no inf).
. "$(dirname "$0")/lib.sh"

INIT="k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)"
REQ="memory_object_data_request(obj=5, ctl=7, offset=0x0, length=0x1000, desired_access=VM_PROT_READ)"

# check_err FILE: runs motrace check on FILE; must exit 2; stderr in FILE.err.
check_err() {
	st=0
	"$MOTRACE" check --no-time "$1" > "$1.out" 2> "$1.err" || st=$?
	cat "$1.err"
	test $st = 2
}

test_expect_success 'a NUL byte is an error at its column, and the lines after it are read' '
	{ echo "$INIT"; printf "k0> memory_obj\000ect_init\n"; echo "k0> $REQ"; } > "$TRASH/nul.in" &&
	check_err "$TRASH/nul.in" &&
	grep -Fx "motrace check: $TRASH/nul.in:2:15: a NUL byte" "$TRASH/nul.in.err" &&
	grep -F "k0> memory_object_data_request(" "$TRASH/nul.in.out"
'
test_expect_success 'k4294967296 is out of range, not kernel 0' '
	{ echo "$INIT"; echo "k4294967296> $REQ"; } > "$TRASH/wrap.in" &&
	check_err "$TRASH/wrap.in" &&
	grep -F "motrace check: $TRASH/wrap.in:2:1: kernel number '\''k4294967296'\'' out of range (4294967294 at most)" "$TRASH/wrap.in.err" &&
	! grep -F "k0> memory_object_data_request(" "$TRASH/wrap.in.out"
'
test_expect_success 'k4294967294 is a kernel; k? (unknown, as the log writes it) reads back' '
	{ echo "k4294967294> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)"; echo "k?> $REQ"; } > "$TRASH/big.in" &&
	"$MOTRACE" check --no-time "$TRASH/big.in" > "$TRASH/big.out" &&
	grep -F "k4294967294> memory_object_init(" "$TRASH/big.out" &&
	grep -F "k?> memory_object_data_request(" "$TRASH/big.out"
'
for t in nan inf -1 1e3 0x10 99999999999; do
	test_expect_success "@$t is not a time: an error at its column" '
		{ echo "$INIT"; echo "  @$t k0> $REQ"; } > "$TRASH/t.in" &&
		check_err "$TRASH/t.in" &&
		grep -F "motrace check: $TRASH/t.in:2:3: bad time '\''@$t" "$TRASH/t.in.err"
	'
done
test_expect_success '@0.25 and @1.5 are times' '
	{ echo "@0.25 $INIT"; echo "@1.5 k0> $REQ"; } > "$TRASH/ok.in" &&
	"$MOTRACE" check -ttt "$TRASH/ok.in" > "$TRASH/ok.out" &&
	cat "$TRASH/ok.out" &&
	grep "^0.250000 k0> memory_object_init(" "$TRASH/ok.out" &&
	grep "^1.500000 k0> memory_object_data_request(" "$TRASH/ok.out"
'
# day_log FIRST SECOND THIRD: a -tt log whose data_unlock comes at FIRST, a
# data_request at SECOND and the lock_request answering the unlock at THIRD.
day_log() {
	printf '%s\n' \
		"$1 k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)" \
		"$1 k0< memory_object_ready(ctl=7, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_DELAY)" \
		"$1 k0> memory_object_data_request(obj=5, ctl=7, offset=0x0, length=0x1000, desired_access=VM_PROT_READ)" \
		"$1 k0< memory_object_data_supply(ctl=7, offset=0x0, data=0x10000 [4096 bytes], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=0)" \
		"$1 k0> memory_object_data_unlock(obj=5, ctl=7, offset=0x0, length=0x1000, desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"$2 k0> memory_object_data_request(obj=5, ctl=7, offset=0x1000, length=0x1000, desired_access=VM_PROT_READ)" \
		"$3 k0< memory_object_lock_request(ctl=7, offset=0x0, size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=FALSE, lock_value=VM_PROT_NONE, reply_to=11)" \
		"$3 k0> memory_object_lock_completed(obj=11, ctl=7, offset=0x0, length=0x1000)"
}
test_expect_success 'a time of day a little before the last is not the next day' '
	day_log 12:00:00.010000 12:00:00.005000 12:00:00.020000 > "$TRASH/back.in" &&
	"$MOTRACE" check "$TRASH/back.in" > "$TRASH/back.out" &&
	grep -F "0 diagnostic(s)" "$TRASH/back.out"
'
test_expect_success 'times of day past midnight are the next day' '
	day_log 23:59:59.000000 00:00:01.500000 00:00:01.600000 > "$TRASH/night.in" &&
	{ "$MOTRACE" check "$TRASH/night.in" > "$TRASH/night.out"; test $? = 1; } &&
	grep -F "!! unlock-timeout: kernel 0 has waited 2.500 s for data_unlock of page 0" "$TRASH/night.out" &&
	day_log 23:59:59.900000 00:00:00.100000 00:00:00.200000 > "$TRASH/night2.in" &&
	"$MOTRACE" check "$TRASH/night2.in" > "$TRASH/night2.out" &&
	grep -F "0 diagnostic(s)" "$TRASH/night2.out"
'
test_done
