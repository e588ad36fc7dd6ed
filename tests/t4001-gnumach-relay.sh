#!/bin/sh
# The real GNU Mach kernel under qemu, served by mo-gnumach's test pager:
# the message sequences of PROTOCOL.md, as the kernel really sends them.
# Workloads are mo-map scripts (doc/mo-map.1) run by the agent.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'gnumach relay' 'qemu-system-x86, the kernel or build/mo-gnumach missing'
	test_done
	exit
fi

# run NAME [OPTION...] < SCRIPT: boots once with the test pager; the
# script's output is $TRASH/NAME.out, the messages $TRASH/NAME.log. The
# timeout stops a hung guest (mo-gnumach's own deadline comes first).
run() {
	name=$1
	shift
	timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/$name.console" \
		--hex "$TRASH/$name.hex" --log "$TRASH/$name.log" "$@" builtin - \
		> "$TRASH/$name.out"
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
	echo "read 0" | run read &&
	in_order "$TRASH/read.log" \
		"k0> memory_object_init(obj=" \
		"k0< memory_object_ready(ctl=*may_cache=FALSE" \
		"k0> memory_object_data_request(*offset=0x0 [page 0], length=0x1000, desired_access=VM_PROT_READ)" \
		"k0< memory_object_data_supply(*lock_value=VM_PROT_WRITE" \
		"# agent: out read 0 0x5000000450000000" \
		"# agent: done" &&
	echo "read 0 0x5000000450000000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/read.out"
'

test_expect_success 'the kernel messages carry GNUMACH.md sizes and bits' '
	awk "{ print \$1, \$2, \$6 }" "$TRASH/read.hex" > "$TRASH/words" &&
	printf "%s\n" "80001100 00000038 00000898" "80001100 0000003c 0000089b" \
		"80001100 00000030 00000899" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/words"
'

test_expect_success 'write after a read-only supply: data_unlock, lock_request, lock_completed' '
	printf "read 1p\nwrite 1p 7\n" | run unlock &&
	in_order "$TRASH/unlock.log" \
		"k0> memory_object_data_request(*offset=0x1000 [page 1]*desired_access=VM_PROT_READ)" \
		"k0< memory_object_data_supply(*lock_value=VM_PROT_WRITE" \
		"k0> memory_object_data_unlock(*desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"k0< memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=FALSE, lock_value=VM_PROT_NONE" &&
	grep -q "k0> memory_object_lock_completed(.*offset=0x1000 \[page 1\], length=0x1000)" "$TRASH/unlock.log"
'

test_expect_success 'without --log the reply ports still reach their pager (marks only for them)' '
	printf "read 1p\nwrite 1p 7\npager flush 1p\nexpect 1p 7\n" |
	timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/nolog.console" --stats \
		builtin - > "$TRASH/nolog.out" 2> "$TRASH/nolog.err" &&
	echo "read 0x1000 0x5000100450001000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/nolog.out" &&
	grep -q "^mo-gnumach: 8 kernel messages, 5 pager messages," "$TRASH/nolog.err"
'

test_expect_success 'with --spin 0 the host wakes the sleeping agent through its serial line' '
	printf "read 1p\nwrite 1p 7\nexpect 1p 7\n" | run spin0 --spin 0 --stats 2> "$TRASH/spin0.err" &&
	in_order "$TRASH/spin0.log" \
		"k0< memory_object_data_supply(*lock_value=VM_PROT_WRITE" \
		"k0> memory_object_data_unlock(*desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"k0< memory_object_lock_request(" \
		"k0> memory_object_lock_completed(" \
		"# agent: done" &&
	sed -n "s/^mo-agent: done, woken \([0-9]*\) times by the host.s serial doorbell.*/\1/p" \
		"$TRASH/spin0.console" > "$TRASH/spin0.kicks" &&
	test "$(cat "$TRASH/spin0.kicks")" -ge 1 &&
	grep -q "^mo-gnumach: the guest.s serial doorbell rung [1-9][0-9]* times$" "$TRASH/spin0.err"
'

test_expect_success '--spin takes a count only' '
	{ "$GNUMACH" --spin x builtin - < /dev/null 2> "$TRASH/spin.err"; test $? = 2; } &&
	grep -q "^mo-gnumach: --spin: .x. is not 0 to 100000000$" "$TRASH/spin.err"
'

test_expect_success 'flush of a dirty page: data_return (not a kernel copy), then lock_completed' '
	printf "write 2p 0x57\npager flush 2p\n" | run flush &&
	in_order "$TRASH/flush.log" \
		"k0> memory_object_data_request(*desired_access=VM_PROT_READ|VM_PROT_WRITE)" \
		"k0< memory_object_data_supply(*lock_value=VM_PROT_NONE" \
		"k0< memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=TRUE" \
		"k0> memory_object_data_return(*offset=0x2000 [page 2]*dirty=TRUE, kernel_copy=FALSE)" \
		"# pager: data_return page 2 word 0 0x00000057" \
		"k0> memory_object_lock_completed(*offset=0x2000 [page 2], length=0x1000)"
'

test_expect_success 'clean without flush: data_return with kernel_copy, then lock_completed' '
	printf "write 0 1\npager clean 0\n" | run clean &&
	in_order "$TRASH/clean.log" \
		"k0< memory_object_lock_request(*should_return=MEMORY_OBJECT_RETURN_DIRTY, should_flush=FALSE, lock_value=VM_PROT_NO_CHANGE" \
		"k0> memory_object_data_return(*dirty=TRUE, kernel_copy=TRUE)" \
		"k0> memory_object_lock_completed("
'

test_expect_success 'a clean page flushed: lock_completed only' '
	printf "read 3p\npager flush 3p\n" | run cleanflush &&
	in_order "$TRASH/cleanflush.log" "should_flush=TRUE" "k0> memory_object_lock_completed(" &&
	! grep -q data_return "$TRASH/cleanflush.log"
'

test_expect_success 'data survives a flush: the pager gets it back, the kernel asks again' '
	run integrity <<-\EOF &&
	fill 0 4096 0xab
	write 1p 0x1122334455667788
	pager flushall
	check 0 4096 0xab
	expect 1p 0x1122334455667788
	EOF
	in_order "$TRASH/integrity.log" \
		"k0> memory_object_data_return(*offset=0x0 [page 0], data=0x*[8192 bytes, out-of-line, dealloc]" \
		"k0> memory_object_lock_completed(" \
		"k0> memory_object_data_request(*[page 0]*desired_access=VM_PROT_READ)" \
		"k0> memory_object_data_request(*[page 1]*desired_access=VM_PROT_READ)" \
		"# agent: done"
'

test_expect_success 'data_error: the read takes a memory error; data_unavailable: zeros' '
	run errors <<-\EOF &&
	pager error 1p
	pager zero 2p
	expect-error 1p
	expect 2p 0
	read 3p
	EOF
	in_order "$TRASH/errors.log" \
		"k0> memory_object_data_request(*[page 1]" \
		"k0< memory_object_data_error(*offset=0x1000 [page 1], size=0x1000, error_value=10 /* KERN_MEMORY_ERROR or ECHILD */)" \
		"k0> memory_object_data_request(*[page 2]" \
		"k0< memory_object_data_unavailable(*offset=0x2000 [page 2], size=0x1000)" \
		"k0> memory_object_data_request(*[page 3]" &&
	printf "%s\n" "memory error at 0x1000, as expected" "read 0x3000 0x5000300450003000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/errors.out"
'

test_expect_success 'contiguous dirty pages come back in one data_return' '
	printf "touch 0 3p write\nread 3p\npager flushall\n" | run flushall &&
	in_order "$TRASH/flushall.log" \
		"k0< memory_object_lock_request(*offset=0x0 [page 0], size=0x10000*should_flush=TRUE" \
		"k0> memory_object_data_return(*offset=0x0 [page 0], data=0x*[12288 bytes, out-of-line, dealloc], dirty=TRUE, kernel_copy=FALSE)" \
		"k0> memory_object_lock_completed(*offset=0x0 [page 0], length=0x10000)" &&
	test "$(grep -c "^k0> memory_object_data_return" "$TRASH/flushall.log")" = 1
'

test_expect_success 'a 1 MiB flush: data_returns of 32 pages, twice the ring, all intact' '
	printf "fill 0 256p 0x5a\npager flushall\ncheck 0 256p 0x5a\nunmap\n" | run big --size 1M &&
	test "$(grep -c "^k0> memory_object_data_return(.*\[131072 bytes, out-of-line, dealloc\], dirty=TRUE, kernel_copy=FALSE)" "$TRASH/big.log")" = 8 &&
	test "$(grep -c "^# pager: data_return page [0-9]* word 0 0x5a5a5a5a" "$TRASH/big.log")" = 256 &&
	in_order "$TRASH/big.log" "offset=0xe0000 [page 224]" "k0> memory_object_lock_completed(*length=0x100000)" \
		"k0> memory_object_terminate("
'

test_expect_success 'two threads faulting on one page: one data_request' '
	printf "add 0 1\n" | run par --threads 2 &&
	test "$(grep -c "^k0> memory_object_data_request(.*\[page 0\]" "$TRASH/par.log")" = 1 &&
	grep -q "^# agent: done" "$TRASH/par.log"
'

test_expect_success 'threads with +t offsets fault their own pages' '
	printf "read 0+t\n" | run plust --threads 3 &&
	sort "$TRASH/plust.out" > "$TRASH/got" &&
	printf "%s\n" "t0: read 0 0x5000000450000000" "t1: read 0x1000 0x5000100450001000" \
		"t2: read 0x2000 0x5000200450002000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/got" &&
	test "$(grep -c "^k0> memory_object_data_request(" "$TRASH/plust.log")" = 3
'

test_expect_success 'eight threads, the most --threads takes' '
	printf "read 0+t\n" | run eight --threads 8 &&
	test "$(wc -l < "$TRASH/eight.out")" = 8 &&
	grep -q "^t7: read 0x7000 0x5000700450007000$" "$TRASH/eight.out"
'

test_expect_success 'threads unmap together: all dirty pages back, terminate, all go on' '
	printf "write 0+t 5\nunmap\necho after\n" | run unmap3 --threads 3 &&
	test "$(grep -c "^k0> memory_object_data_return(.*dirty=TRUE" "$TRASH/unmap3.log")" = 3 &&
	in_order "$TRASH/unmap3.log" "k0> memory_object_data_return(" "k0> memory_object_terminate(" &&
	sort "$TRASH/unmap3.out" > "$TRASH/got" &&
	printf "%s\n" "t0: after" "t1: after" "t2: after" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/got"
'

test_expect_success 'map again after terminate: a new init, the data kept by the pager' '
	printf "write 0 1\nunmap\nmap\nexpect 0 1\n" | run remap &&
	test "$(grep -c "^k0> memory_object_init(" "$TRASH/remap.log")" = 2 &&
	in_order "$TRASH/remap.log" "k0> memory_object_data_return(" "k0> memory_object_terminate(" \
		"k0> memory_object_init(" "k0> memory_object_data_request(*desired_access=VM_PROT_READ)" \
		"k0> memory_object_terminate("
'

test_expect_success 'unmap: dirty pages come back, then terminate' '
	printf "write 1p 1\nread 2p\nunmap\n" | run unmap &&
	in_order "$TRASH/unmap.log" \
		"k0> memory_object_data_return(*offset=0x1000 [page 1]*dirty=TRUE, kernel_copy=FALSE)" \
		"k0> memory_object_terminate(" \
		"# agent: done" &&
	test "$(grep -c "^k0> memory_object_data_return" "$TRASH/unmap.log")" = 1
'

test_expect_success 'repeat, touch and marks: one data_request per page per pass' '
	run cycles --size 4p --stats <<-\EOF 2> "$TRASH/cycles.err" &&
	mark start
	repeat 3
	touch 0 4p
	pager flushall
	end
	mark end 12
	EOF
	test "$(grep -c "^k0> memory_object_data_request(" "$TRASH/cycles.log")" = 12 &&
	test "$(grep -c "^k0< memory_object_lock_request(.*should_flush=TRUE" "$TRASH/cycles.log")" = 3 &&
	grep -q "^mo-gnumach: 12 fault cycles in .* per second$" "$TRASH/cycles.err"
'

# The host sleeps on the ivshmem doorbell rather than polling (vm.c): the
# agent's frames wake it, so some of its sleeps end by a ring, never more
# than it slept, and the guest found its device registers.
test_expect_success 'the doorbell: the agent rings, the sleeping host wakes' '
	sed -n "s/^mo-gnumach: \([0-9]*\) sleeps on the doorbell, \([0-9]*\) ended by a ring$/\1 \2/p" \
		"$TRASH/cycles.err" > "$TRASH/bell" &&
	read sleeps rings < "$TRASH/bell" &&
	test "$rings" -ge 1 && test "$rings" -le "$sleeps" &&
	grep -q "doorbell at BAR0 " "$TRASH/cycles.console"
'

# The agent hands the kernel the host's page data as a copy from one
# buffer of its own, reused (agent.c, copy_buf): no fresh page and no
# deallocate bit per data_supply, which made GNU Mach flush the whole TLB
# each fault cycle. The kernel copies while the message is sent, so each
# page keeps the data of its own supply after the buffer has served the
# next ones.
# copies NAME [OPTION...]: 64 pages touched, then read, each its own data.
copies() {
	name=$1
	shift
	{
		echo "touch 0 64p" &&
		i=0 && while [ $i -lt 64 ]; do echo "read ${i}p"; i=$((i + 1)); done
	} | run "$name" --size 64p --stats "$@" 2> "$TRASH/$name.stats" &&
	awk "BEGIN { for (p = 0; p < 64; p++)
		printf \"read %s 0x%08x%08x\\n\", p ? sprintf(\"0x%x\", p * 4096) : \"0\",
			1342177284 + p * 4096, 1342177280 + p * 4096 }" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/$name.out" &&
	test "$(grep -c "^k0< memory_object_data_supply(" "$TRASH/$name.log")" = 64
}

# agent_pages NAME: "ALLOCATED POOL", the agent's count of the pages it
# allocated for copies of the host's data and of those that came in its pool.
agent_pages() {
	sed -n "s/^mo-agent: done, .*, \([0-9]*\) pages allocated for the host.s data, \([0-9]*\) pages of it from the pool$/\1 \2/p" \
		"$TRASH/$1.console"
}

test_expect_success 'the host writes the data into the agent'"'"'s page pool: no copy in the guest, every page its own' '
	copies pool &&
	test "$(agent_pages pool)" = "0 64" &&
	grep -q "^mo-gnumach: 64 regions of the host.s data through the agent.s page pool, 0 through the ring$" \
		"$TRASH/pool.stats"
'

test_expect_success '--pool 0: the data comes in the ring, copied from one reused buffer' '
	copies ring --pool 0 &&
	test "$(agent_pages ring)" = "1 0" &&
	grep -q "^mo-gnumach: 0 regions of the host.s data through the agent.s page pool, 64 through the ring$" \
		"$TRASH/ring.stats"
'

test_expect_success 'a one-page pool with four threads faulting: pool or ring, every page its own' '
	i=0 && while [ $i -lt 64 ]; do echo "read ${i}p+t"; i=$((i + 4)); done |
	run pool1 --size 64p --threads 4 --pool 1 --stats 2> "$TRASH/pool1.stats" &&
	awk "BEGIN { for (p = 0; p < 64; p++)
		printf \"t%d: read %s 0x%08x%08x\\n\", p % 4, p ? sprintf(\"0x%x\", p * 4096) : \"0\",
			1342177284 + p * 4096, 1342177280 + p * 4096 }" | sort > "$TRASH/want" &&
	sort "$TRASH/pool1.out" > "$TRASH/got" &&
	test_cmp "$TRASH/want" "$TRASH/got" &&
	sed -n "s/^mo-gnumach: \([0-9]*\) regions .* pool, \([0-9]*\) through the ring$/\1 \2/p" \
		"$TRASH/pool1.stats" > "$TRASH/split" &&
	read inpool inring < "$TRASH/split" &&
	test $((inpool + inring)) = 64 &&
	set -- $(agent_pages pool1) &&
	test "$2" = "$inpool"
'

test_expect_success '--pool takes 0 to 1024 pages' '
	! "$GNUMACH" --pool 1025 builtin - < /dev/null 2> "$TRASH/err" &&
	grep -q "^mo-gnumach: --pool: .1025. is not 0 to 1024 pages$" "$TRASH/err" &&
	! "$GNUMACH" --pool x builtin - < /dev/null 2> "$TRASH/err"
'

test_expect_success 'the in-guest pager (the floor) keeps every message inside' '
	printf "touch 0 4p\npager flushall\nread 0\nunmap\n" |
	timeout 120 "$GNUMACH" --console "$TRASH/local.console" --log "$TRASH/local.log" \
		guest - > "$TRASH/local.out" &&
	! grep -q "^k0[<>]" "$TRASH/local.log" &&
	echo "read 0 0x5000000450000000" > "$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/local.out"
'

test_expect_success 'the saved hex decodes to the logged kernel messages' '
	"$MOTRACE" decode --abi user32 --hex "$TRASH/unmap.hex" > "$TRASH/decoded" &&
	sed -n "s/^k0> //p" "$TRASH/unmap.log" > "$TRASH/logged" &&
	test_cmp "$TRASH/logged" "$TRASH/decoded"
'

test_expect_success 'motrace check reads the log and finds nothing wrong with the real kernel' '
	for t in read unlock flush clean integrity flushall big unmap3; do
		"$MOTRACE" check --abi user32 "$TRASH/$t.log" > "$TRASH/$t.check" ||
			{ cat "$TRASH/$t.check"; exit 1; }
		tail -n 1 "$TRASH/$t.check" | grep -q "^0 diagnostic(s)$" ||
			{ echo "$t:"; cat "$TRASH/$t.check"; exit 1; }
	done
'

test_expect_success 'every run kept its console with the agent lines' '
	grep -q "mo-agent: started, 16 pages, 1 threads, 1 objects, relay" "$TRASH/unmap.console" &&
	grep -q "mo-agent: done" "$TRASH/unmap.console"
'

# slices PID: "comm slice" for each of PID's threads.
slices() {
	for f in /proc/$1/task/*/sched; do
		printf "%s %s\n" "$(head -n 1 "$f" | cut -d" " -f1)" "$(awk '$1 == "se.slice" { print $3 }' "$f")"
	done
}

if ! grep -q "^se.slice" /proc/self/sched; then
	test_skip 'the host side slice' 'this kernel shows no se.slice in /proc/PID/sched'
else
test_expect_success 'the host side runs with a 100 us slice, qemu with the default (vm.h, vm_set_slice)' '
	default=$(awk "\$1 == \"se.slice\" { print \$3 }" /proc/self/sched) &&
	printf "read 0\nsleep 3000\n" > "$TRASH/slice.script" &&
	{ "$GNUMACH" --timeout 60 --console "$TRASH/slice.console" builtin "$TRASH/slice.script" \
		> "$TRASH/slice.out" & mg=$!; } &&
	wait_until 30 test -s "$TRASH/slice.out" &&
	q=$(pgrep -P $mg qemu) &&
	slices $mg > "$TRASH/slice.host" && slices $q > "$TRASH/slice.qemu" &&
	wait $mg &&
	cat "$TRASH/slice.host" "$TRASH/slice.qemu" &&
	test -s "$TRASH/slice.host" &&
	! grep -v " 100000$" "$TRASH/slice.host" &&
	! grep -v " $default$" "$TRASH/slice.qemu"
'
fi

# cpus LIST: the CPUs of a taskset list (0,2-3), one a line.
cpus() {
	echo "$1" | tr , "\n" | awk -F- "{ for (c = \$1; c <= (NF > 1 ? \$2 : \$1); c++) print c }"
}

if [ "$(cpus "$(taskset -pc $$ | sed "s/.*: //")" | wc -l)" -ge 2 ]; then
test_expect_success 'the host side keeps off the CPU of qemu'"'"'s vCPU thread (vm.h, vm_steer)' '
	mine=$(taskset -pc $$ | sed "s/.*: //") &&
	printf "touch 0 16p\necho go\nrepeat 4000000\ntouch 0 16p\nend\n" > "$TRASH/steer.script" &&
	{ "$GNUMACH" --timeout 60 --size 16p --console "$TRASH/steer.console" builtin \
		"$TRASH/steer.script" > "$TRASH/steer.out" & mg=$!; } &&
	wait_until 30 test -s "$TRASH/steer.out" &&
	q=$(pgrep -P $mg qemu) &&
	: > "$TRASH/steer.samples" &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.1 &&
		for t in /proc/$q/task/*; do
			[ "$(cat $t/comm)" != "CPU 0/TCG" ] || sed "s/.*) //" $t/stat | cut -d" " -f37
		done > "$TRASH/vcpu" &&
		for t in /proc/$mg/task/*; do
			want=$(cpus "$mine" | grep -vx "$(cat "$TRASH/vcpu")" | paste -sd,) &&
			got=$(cpus "$(taskset -pc ${t##*/} | sed "s/.*: //")" | paste -sd,) &&
			echo "vcpu $(cat "$TRASH/vcpu") want $want got $got"
		done >> "$TRASH/steer.samples" || return 1
	done &&
	wait $mg &&
	cat "$TRASH/steer.samples" &&
	test -s "$TRASH/vcpu" &&
	n=$(wc -l < "$TRASH/steer.samples") &&
	ok=$(awk "\$4 == \$6" "$TRASH/steer.samples" | wc -l) &&
	test $((ok * 10)) -ge $((n * 8))
'
fi

test_done
