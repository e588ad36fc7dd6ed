#!/bin/sh
# motrace check reads back motrace's own -o log, whatever the trace
# options: notes, marks ([injected], [delayed ...], -T latencies), times
# (-t, -tt, -ttt, --relative, --no-time), diagnostics, the page table, the
# statistics and the summary; and it finds the same diagnostics.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# logged NAME MOTRACE-ARGS...: a live session over mo-faulty
# --bug=double-supply (a supply-present per page) with a rule of each
# kind; leaves NAME.log.
logged() {
	name=$1
	shift
	ADDR="unix:$TRASH/s/$name"
	{ timeout 30 "$MOTRACE" --exit-when-idle -o "$TRASH/$name.log" --pages \
		-e delay=data_request:by=10ms:when=2 -e hold=data_unlock:for=5ms \
		-e "inject=data_supply:when=1:send=memory_object_lock_request(ctl=\$ctl, offset=0x1000, size=0x1000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=FALSE, lock_value=VM_PROT_NONE, reply_to=1)" \
		"$@" -- "$B/mo-faulty" "$ADDR" --bug=double-supply 2> "$TRASH/$name.err" & } &&
	wait_for test -S "$TRASH/s/$name" &&
	printf "read 0\nwrite 0 1\nread 1p\nread 2p\n" > "$TRASH/$name.map" &&
	timeout 20 "$B/mo-map" "$ADDR" "$TRASH/$name.map" > /dev/null &&
	wait_for grep -q "diagnostic(s)" "$TRASH/$name.log"
}

# reads_back NAME CHECK-ARGS...: check reads NAME.log without an error and
# finds the diagnostics the log names.
reads_back() {
	name=$1
	shift
	st=0
	"$MOTRACE" check --no-time "$@" "$TRASH/$name.log" > "$TRASH/$name.check" 2> "$TRASH/$name.check.err" || st=$?
	cat "$TRASH/$name.check.err"
	test "$st" = 1 && test ! -s "$TRASH/$name.check.err" &&
	grep -o "!! [a-z-]*" "$TRASH/$name.log" | sort > "$TRASH/$name.want" &&
	grep -o "!! [a-z-]*" "$TRASH/$name.check" | sort > "$TRASH/$name.got" &&
	test -s "$TRASH/$name.want" &&
	test_cmp "$TRASH/$name.want" "$TRASH/$name.got" &&
	sed "s/\x1b\[[0-9;]*m//g" "$TRASH/$name.log" | grep -v "\[held\]" |
		grep -c "^[0-9: .]*k[0-9][<>] " > "$TRASH/$name.n1" &&
	grep -c "^k[0-9][<>] " "$TRASH/$name.check" > "$TRASH/$name.n2" &&
	test_cmp "$TRASH/$name.n1" "$TRASH/$name.n2"
}

for opts in "--no-time" "-t" "-tt" "-ttt" "--relative" "-T" "-T -ttt" "-tt --color=always"; do
	name=$(echo "x$opts" | tr -c "a-z0-9\n" "_")
	test_expect_success "the log of motrace $opts reads back" "
		logged $name $opts && reads_back $name &&
		grep -q \"+++ \" \"\$TRASH/$name.log\" &&
		grep -q \"\\[injected\\]\" \"\$TRASH/$name.log\" &&
		grep -q \"\\[delayed \" \"\$TRASH/$name.log\" &&
		grep -q \"^object 0 kernel 0:\" \"\$TRASH/$name.log\"
	"
done
test_expect_success 'the log'"'"'s times never go back (-ttt), nor do -r steps wrap' '
	awk "/^[0-9]+\\.[0-9]+ k/ { if (\$1 < last) { print \"back at line \" NR; bad = 1 } last = \$1 } END { exit bad }" "$TRASH/x_ttt.log" &&
	! grep -E "^ *[0-9]{7,}\.[0-9]{6} " "$TRASH/x__relative.log"
'
test_expect_success 'the log of motrace -c (the statistics table) reads back' '
	logged stats -c &&
	grep -q " total$" "$TRASH/stats.log" &&
	{ "$MOTRACE" check "$TRASH/stats.log" > "$TRASH/stats.check" 2> "$TRASH/stats.err"; test $? = 0; } &&
	test ! -s "$TRASH/stats.err" && grep -F "0 diagnostic(s)" "$TRASH/stats.check"
'
test_expect_success 'what looks like the log but is not still names its line' '
	printf "k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)\n12 garbage\n+++ unfinished note\n" > "$TRASH/bad.in" &&
	{ "$MOTRACE" check "$TRASH/bad.in" > /dev/null 2> "$TRASH/bad.err"; test $? = 2; } &&
	grep -F "bad.in:2:1: expected '\''kN>'\'' or '\''kN<'\'' at '\''12 garbage'\''" "$TRASH/bad.err" &&
	grep -F "bad.in:3:1: expected" "$TRASH/bad.err"
'
test_done
