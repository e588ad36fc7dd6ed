#!/bin/sh
# The rule scenarios of tests/kernel/rules (a workload NAME.map, a test
# pager's answers NAME.rules, the Linux-hosted kernel's exchange NAME.log)
# run on the real GNU Mach kernel, every one of them: the exchange must be
# the same, messages in the same order and names the same up to
# numbering (a reply port is one of the agent's own, as a pager's would
# be, and each host message is logged where the kernel received it), up
# to the deallocate bit the real kernel sets on its out-of-line data.
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
# - present: the agent makes up for the send-once right GNU Mach uses
#   twice after a failed data_supply; may-cache: at the end the agent
#   makes the cached object uncacheable and GNU Mach returns its dirty
#   page and terminates it, as mo-map's kernel does when it empties its
#   cache.
# - busy-wait, return-all: a lock_request over a requested page; GNU
#   Mach's walk skips it at once (vm/memory_object.c,
#   memory_object_lock_page: an absent page is DONE; vm/vm_fault.c,
#   vm_fault_page, marks a requested page absent before data_request), so
#   lock_completed comes before the supply, as in the expected logs.
#   These compare whole, as every other one does.

# Port names P1... in order (tests/kernel/normalise.awk), then the
# deallocate bits as above.
view() {
	grep -v "^#" "$1" | awk -f tests/kernel/normalise.awk |
	sed -e 's/, dealloc\]/]/'
}

# compare NAME: want and got, whole.
compare() {
	test_cmp "$TRASH/$1.want" "$TRASH/$1.got"
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
