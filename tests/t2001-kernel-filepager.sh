#!/bin/sh
# mo-map against mo-filepager: the message sequence of a read fault, a
# write upgrade and an unmap; data integrity through the file; clean on
# SIGUSR1; batching of returns; pageout; read-only files.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

mkfile() {
	printf 'hello world\n' > "$1" && truncate -s "$2" "$1"
}

test_expect_success 'read, write upgrade and unmap send what GNU Mach sends' '
	mkfile "$TRASH/f" 64K &&
	start_pager mo-filepager "$TRASH/f" &&
	run_map --log "$TRASH/log" "$ADDR" tests/kernel/basic.map > "$TRASH/out" &&
	stop_pager mo-filepager &&
	norm "$TRASH/log" > "$TRASH/log.n" &&
	test_cmp tests/kernel/basic.log "$TRASH/log.n" &&
	printf "read 0 0x6f77206f6c6c6568\nread 0x1000 0\n" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/out"
'

test_expect_success 'the written word is in the file after unmap' '
	printf "GFEDCBA" > "$TRASH/want" &&
	dd if="$TRASH/f" bs=1 skip=9 count=7 2>/dev/null > "$TRASH/got" &&
	test_cmp "$TRASH/want" "$TRASH/got"
'

test_expect_success 'motrace check finds nothing wrong in the exchange' '
	"$MOTRACE" check --quiet "$TRASH/log" > "$TRASH/check" &&
	grep -q "^0 diagnostic" "$TRASH/check"
'

test_expect_success 'a second run reads what the first one wrote' '
	start_pager mo-filepager "$TRASH/f" &&
	printf "expect 8 0x4142434445464748\n" | run_map "$ADDR" - &&
	stop_pager mo-filepager
'

test_expect_success 'SIGUSR1 cleans: the file holds the write while mapped' '
	mkfile "$TRASH/g" 16K &&
	start_pager mo-filepager "$TRASH/g" &&
	printf "write 0x1000 0x3132333435363738\necho written\nsleep 3000\n" > "$TRASH/s1" &&
	{ run_map --log "$TRASH/log2" --size 4p "$ADDR" "$TRASH/s1" > "$TRASH/out2" & } &&
	wait_for grep -q written "$TRASH/out2" &&
	kill -USR1 "$(cat "$TRASH/mo-filepager.pid")" &&
	wait_for grep -q 87654321 "$TRASH/g" &&
	wait_for grep -q lock_completed "$TRASH/log2" &&
	grep -q "data_return(.*offset=0x1000 .*dirty=TRUE, kernel_copy=TRUE)" "$TRASH/log2" &&
	grep -q "lock_request(.*should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=FALSE" "$TRASH/log2" &&
	stop_pager mo-filepager
'

test_expect_success 'a clean returns contiguous dirty pages 32 to a data_return' '
	mkfile "$TRASH/h" 256K &&
	start_pager mo-filepager "$TRASH/h" &&
	printf "fill 0 40p 0x61\nfill 48p 2p 0x62\necho written\nsleep 3000\n" > "$TRASH/s2" &&
	{ run_map --log "$TRASH/log3" --size 64p "$ADDR" "$TRASH/s2" > "$TRASH/out3" & } &&
	wait_for grep -q written "$TRASH/out3" &&
	kill -USR1 "$(cat "$TRASH/mo-filepager.pid")" &&
	wait_for grep -q lock_completed "$TRASH/log3" &&
	grep "data_return" "$TRASH/log3" | sed "s/.*offset=\\(0x[0-9a-f]*\\).*\\[\\([0-9]*\\) bytes.*/\\1 \\2/" > "$TRASH/returns" &&
	printf "0x0 131072\n0x20000 32768\n0x30000 8192\n" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/returns" &&
	stop_pager mo-filepager &&
	head -c 40960 "$TRASH/h" | tr -d a | wc -c | grep -qx 0
'

test_expect_success 'pageout under --resident returns dirty pages, which come back' '
	mkfile "$TRASH/p" 64K &&
	start_pager mo-filepager "$TRASH/p" &&
	printf "write 0 1\nwrite 1p 2\nwrite 2p 3\nwrite 3p 4\nexpect 0 1\nexpect 1p 2\nexpect 2p 3\nexpect 3p 4\n" > "$TRASH/s3" &&
	run_map --resident 2 --log "$TRASH/log4" "$ADDR" "$TRASH/s3" &&
	stop_pager mo-filepager &&
	grep -q "data_return(.*offset=0x0 .*dirty=TRUE, kernel_copy=FALSE)" "$TRASH/log4" &&
	test "$(grep -c data_request "$TRASH/log4")" -gt 4
'

test_expect_success 'a write to a read-only file is a memory error' '
	mkfile "$TRASH/r" 16K &&
	start_pager mo-filepager "$TRASH/r" --read-only &&
	printf "expect 0 0x6f77206f6c6c6568\nwrite 0 1\n" > "$TRASH/s4" &&
	! run_map --log "$TRASH/log5" "$ADDR" "$TRASH/s4" 2> "$TRASH/err5" &&
	stop_pager mo-filepager &&
	grep -q "line 2: memory error at offset 0" "$TRASH/err5" &&
	grep -q "memory_object_data_error" "$TRASH/log5"
'

test_expect_success 'a mapping 1 TiB into the object costs what its pages cost' '
	mkfile "$TRASH/t" 16K &&
	start_pager mo-filepager "$TRASH/t" &&
	printf "write 8 1\nexpect 8 1\nread 3p\n" | run_map --log "$TRASH/log7" --offset 0x10000000000 --size 4p "$ADDR" - &&
	stop_pager mo-filepager &&
	grep -q "data_request(.*offset=0x10000003000 \[page 268435459\]" "$TRASH/log7" &&
	grep -q "data_return(.*offset=0x10000000000 .*dirty=TRUE" "$TRASH/log7"
'

test_expect_success 'each pager ends cleanly on SIGTERM and SIGINT, quietly' '
	mkfile "$TRASH/q" 16K &&
	for sig in TERM INT; do
		for p in "mo-filepager $TRASH/q" "mo-coherent 4p" "mo-faulty --bug=none"; do
			set -- $p &&
			"$B/$1" "unix:$TRASH/s/q" $2 2> "$TRASH/q.err" &
			pid=$! &&
			wait_for test -S "$TRASH/s/q" &&
			printf "write 0 1\n" | run_map --size 4p "unix:$TRASH/s/q" - &&
			kill -$sig $pid &&
			{ wait $pid; test $? = 0; } &&
			test ! -e "$TRASH/s/q" &&
			! test -s "$TRASH/q.err" ||
			{ echo "$1 on SIG$sig:"; cat "$TRASH/q.err"; exit 1; }
		done
	done
'

test_expect_success 'when the pager dies, the next fault is a memory error' '
	mkfile "$TRASH/d" 16K &&
	start_pager mo-filepager "$TRASH/d" &&
	printf "read 0\necho read\nsleep 1000\nread 1p\n" > "$TRASH/s6" &&
	{ { rc=0; run_map --size 4p "$ADDR" "$TRASH/s6" > "$TRASH/out6" 2> "$TRASH/err6" || rc=$?; echo $rc > "$TRASH/rc6"; } & } &&
	wait_for grep -q read "$TRASH/out6" &&
	kill -9 "$(cat "$TRASH/mo-filepager.pid")" &&
	wait_for test -s "$TRASH/rc6" &&
	test "$(cat "$TRASH/rc6")" = 1 &&
	grep -q "line 4: memory error at offset 0x1000" "$TRASH/err6"
'

test_done
