#!/bin/sh
# The checker, live: a data_request never answered is named
# (request-timeout, with its page and kernel), a misaligned grant leaves an
# unlock-timeout, a NO_CHANGE answer is no answer for -c, and what
# motrace's own rules did is never blamed on a peer.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

# traced NAME PAGER-ARGS WORKLOAD MOTRACE-ARGS...: motrace -- PAGER-ARGS at
# unix:$TRASH/s/NAME (PAGER-ARGS: a pager and its options; the address is
# put after the pager's name), then mo-map runs WORKLOAD (a printf format),
# cut after 2 s; then motrace is stopped. NAME.log is the trace.
traced() {
	name=$1 pager=$2 work=$3
	shift 3
	ADDR="unix:$TRASH/s/$name"
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	set -- "$@" -- $(echo "$pager" | sed "s|^\([^ ]*\)|$B/\1 $ADDR|; s|DATA|$TRASH/$name.data|")
	timeout 30 "$MOTRACE" --no-time -o "$TRASH/$name.log" --request-timeout 0.3 \
		--unlock-timeout 0.3 "$@" > "$TRASH/$name.out" 2> "$TRASH/$name.err" &
	mt=$!
	wait_for test -S "$TRASH/s/$name" || return 1
	printf "$work" > "$TRASH/$name.map"
	timeout -s TERM 2 "$B/mo-map" "$ADDR" "$TRASH/$name.map" > "$TRASH/$name.map.out" 2>&1
	sleep 0.2
	kill -TERM $mt 2>/dev/null
	wait $mt
	cat "$TRASH/$name.log"
}

test_expect_success 'a dropped data_supply: request-timeout names page and kernel, and motrace'\''s rule' '
	traced drop "mo-filepager DATA" "read 0\nread 1p\n" -e drop=data_supply:when=2 &&
	grep -F "  !! request-timeout: kernel 0 has waited" "$TRASH/drop.log" |
		grep -F "for data_request of page 1 (access VM_PROT_READ) to be answered: motrace'\''s rule dropped the manager'\''s answer"
'
test_expect_success 'mo-faulty wrong-length: the refused supply leaves a request-timeout, the pager'\''s' '
	traced wrong-length "mo-faulty --bug=wrong-length" "read 0\n" &&
	grep -F "!! partial-supply:" "$TRASH/wrong-length.log" &&
	grep -F "  !! request-timeout: kernel 0 has waited" "$TRASH/wrong-length.log" |
		grep "for data_request of page 0 (access VM_PROT_READ) to be answered$"
'
test_expect_success 'mo-faulty misaligned: the grant finds no page, the writer waits: unlock-timeout' '
	traced misaligned "mo-faulty --bug=misaligned" "read 0\nwrite 0 1\n" &&
	grep -F "!! misaligned:" "$TRASH/misaligned.log" &&
	grep -F "  !! unlock-timeout: kernel 0 has waited" "$TRASH/misaligned.log" |
		grep -F "for data_unlock of page 0 (access VM_PROT_READ|VM_PROT_WRITE) to be answered"
'
test_expect_success 'a NO_CHANGE answer: -c counts no answered unlock, and the wait is named' '
	traced nochange "mo-faulty --bug=nochange-unlock" "read 0\nwrite 0 1\n" -c &&
	grep -E "^ +[0-9]+ +[0-9]+ +0 .* data_unlock$" "$TRASH/nochange.log" &&
	grep -E "^ +1 +unlock-timeout " "$TRASH/nochange.log"
'
test_expect_success 'a lock_completed a rule held past the terminate: no after-terminate' '
	"$MOTRACE" check -e hold=lock_completed:for=2ms tests/scenarios/clean.in > "$TRASH/held" &&
	grep -n "" "$TRASH/held" | grep -E "terminate\(|lock_completed\(.*\[released\]" | head -n 1 | grep -q terminate &&
	! grep -F "after-terminate" "$TRASH/held" &&
	grep -F "0 diagnostic(s)" "$TRASH/held"
'
test_expect_success 'a message motrace injected is named as motrace'\''s in a diagnostic' '
	{ "$MOTRACE" check -e "inject=lock_completed:when=1:send=memory_object_lock_request(ctl=\$ctl, offset=0x0, size=0x10000, should_return=MEMORY_OBJECT_RETURN_NONE, should_flush=TRUE, lock_value=VM_PROT_NO_CHANGE, reply_to=0)" \
		tests/scenarios/clean.in > "$TRASH/inj"; test $? = 1; } &&
	grep -F "!! discard-dirty:" "$TRASH/inj" | grep -F "(in a message motrace injected)"
'
test_expect_success 'a dropped data_request: the kernel waits all the same, and the rule is named' '
	cat > "$TRASH/req.in" <<-\EOS &&
	@0.0 k0> memory_object_init(obj=5, ctl=7, name=9, page_size=0x1000)
	@0.0 k0< memory_object_ready(ctl=7, may_cache=FALSE, copy_strategy=MEMORY_OBJECT_COPY_DELAY)
	@0.1 k0> memory_object_data_request(obj=5, ctl=7, offset=0x0, length=0x1000, desired_access=VM_PROT_READ)
	@2.0 k0> memory_object_data_request(obj=5, ctl=7, offset=0x1000, length=0x1000, desired_access=VM_PROT_READ)
	EOS
	{ "$MOTRACE" check -e drop=data_request:when=1 "$TRASH/req.in" > "$TRASH/req.out"; test $? = 1; } &&
	grep -F "  !! request-timeout: kernel 0 has waited 1.900 s for data_request of page 0 (access VM_PROT_READ) to be answered: motrace'\''s rule dropped the request, the manager never saw it" "$TRASH/req.out"
'
test_done
