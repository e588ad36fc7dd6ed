#!/bin/sh
# The rule scenarios of tests/kernel/rules (a workload NAME.map, a test
# pager's answers NAME.rules, the Linux-hosted kernel's exchange NAME.log)
# run on the real GNU Mach kernel, every one of them: the exchange must be
# the same, up to how the relay shows replies (the kernel answers the
# agent's object port, so reply ports, a routine's too, are not separate
# names) and the deallocate bit the real kernel sets on its out-of-line
# data.
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
TESTPAGER="$B/tests/kernel/mo-testpager"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -x "$TESTPAGER" ] || [ ! -r /boot/gnumach-1.8-486.gz ] ||
   [ ! -d tests/kernel/rules ]; then
	test_skip 'rule scenarios on GNU Mach' 'qemu, the kernel, mo-gnumach or mo-testpager missing'
	test_done
	exit
fi

# How some scenarios are compared (guest/README.md):
# - NAME.hang (destroy, misaligned, no-resend, partial): the workload
#   never ends; mo-gnumach's deadline (short here) must say the guest
#   hung, and the exchange is the expected one up to its last terminate,
#   which the Linux-hosted kernel sends only when the hung mo-map is
#   killed.
# - return-all, each direction apart: the relay logs the pager's last
#   supply when it hands it to the agent, before the kernel's returns that
#   the lock_request ahead of it caused; the kernel saw them the other way
#   round (its log order is the order of the rings, not the kernel's).
# - present: the agent makes up for the send-once right GNU Mach uses
#   twice after a failed data_supply; may-cache: at the end the agent
#   makes the cached object uncacheable and GNU Mach returns its dirty
#   page and terminates it, as mo-map's kernel does when it empties its
#   cache.
apart="return-all"

# Port names P1... in order (tests/kernel/normalise.awk), then replies
# and deallocate bits as above.
view() {
	grep -v "^#" "$1" | awk -f tests/kernel/normalise.awk |
	sed -e 's/reply_to=P[0-9]*/reply_to=R/' \
	    -e 's/_completed(obj=P[0-9]*/_completed(obj=R/' \
	    -e 's/reply=P[0-9]*/reply=R/g' \
	    -e 's/notify=P[0-9]*/notify=R/' \
	    -e 's/, dealloc\]/]/'
}

# compare NAME: want and got, whole or (in $apart) one direction at a time.
compare() {
	case " $apart " in
	*" $1 "*)
		for w in '>' '<'; do
			grep "^k0$w" "$TRASH/$1.want" > "$TRASH/$1.want$w" &&
			grep "^k0$w" "$TRASH/$1.got" > "$TRASH/$1.got$w" &&
			test_cmp "$TRASH/$1.want$w" "$TRASH/$1.got$w" || return 1
		done ;;
	*)	test_cmp "$TRASH/$1.want" "$TRASH/$1.got" ;;
	esac
}

for r in tests/kernel/rules/*.rules; do
	n=$(basename "$r" .rules)
	if [ -f "tests/kernel/rules/$n.hang" ]; then
		to=4 status=1 cut='$ { /memory_object_terminate/d; }'
	else
		to=60 status=0 cut=
	fi
	test_expect_success "$n: $(sed -n "1s/^# //p" "$r")" "
		rm -f \"\$TRASH/$n.sock\" &&
		{ \"\$TESTPAGER\" \"unix:\$TRASH/$n.sock\" $r > \"\$TRASH/$n.tp\" 2>&1 & echo \$! > \"\$TRASH/$n.pid\"; } &&
		i=0 && while [ ! -S \"\$TRASH/$n.sock\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done &&
		{ timeout 120 \"\$GNUMACH\" --timeout $to --console \"\$TRASH/$n.console\" \$(cat tests/kernel/rules/$n.opts 2>/dev/null) \
			--log \"\$TRASH/$n.raw\" \"unix:\$TRASH/$n.sock\" tests/kernel/rules/$n.map \
			> /dev/null 2> \"\$TRASH/$n.err\"; rc=\$?; } ;
		kill \$(cat \"\$TRASH/$n.pid\") 2>/dev/null; wait \$(cat \"\$TRASH/$n.pid\") 2>/dev/null;
		{ test \$rc = $status || { cat \"\$TRASH/$n.err\"; false; }; } &&
		{ test $status = 0 || grep -q 'guest hung' \"\$TRASH/$n.err\" || { cat \"\$TRASH/$n.err\"; false; }; } &&
		view tests/kernel/rules/$n.log | sed '$cut' > \"\$TRASH/$n.want\" &&
		view \"\$TRASH/$n.raw\" > \"\$TRASH/$n.got\" &&
		compare $n
	"
done

test_done
