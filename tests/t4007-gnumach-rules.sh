#!/bin/sh
# The rule scenarios of tests/kernel/rules (a workload NAME.map, a test
# pager's answers NAME.rules, the Linux-hosted kernel's exchange NAME.log)
# run on the real GNU Mach kernel: the exchange must be the same, up to
# how the relay shows replies (the kernel answers the agent's object port,
# so reply ports, a routine's too, are not separate names) and the deallocate bit the real
# kernel sets on its out-of-line data. Scenarios where the real kernel is
# known to differ, or that the relay cannot carry, are listed below.
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

# Not compared (guest/README.md): destroy (the real kernel sends no terminate
# and leaves the fault waiting), return-all (the relay logs the pager's later supply
# before the kernel's returns it overtakes), and the .hang scenarios.
# present runs: the agent makes up for the send-once right GNU Mach uses
# twice after a failed data_supply; may-cache runs: at the end the agent
# makes the cached object uncacheable and GNU Mach returns its dirty page
# and terminates it, as mo-map's kernel does when it empties its cache
# (guest/README.md).
skip="destroy return-all"

# Port names P1... in order (tests/kernel/normalise.awk), then replies
# and deallocate bits as above.
view() {
	grep -v "^#" "$1" | awk -f tests/kernel/normalise.awk |
	sed -e 's/reply_to=P[0-9]*/reply_to=R/' \
	    -e 's/_completed(obj=P[0-9]*/_completed(obj=R/' \
	    -e 's/reply=P[0-9]*/reply=R/g' \
	    -e 's/, dealloc\]/]/'
}

for r in tests/kernel/rules/*.rules; do
	n=$(basename "$r" .rules)
	case " $skip " in *" $n "*) continue ;; esac
	[ -f "tests/kernel/rules/$n.hang" ] && continue
	test_expect_success "$n: $(sed -n "1s/^# //p" "$r")" "
		rm -f \"\$TRASH/$n.sock\" &&
		{ \"\$TESTPAGER\" \"unix:\$TRASH/$n.sock\" $r > \"\$TRASH/$n.tp\" 2>&1 & echo \$! > \"\$TRASH/$n.pid\"; } &&
		i=0 && while [ ! -S \"\$TRASH/$n.sock\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done &&
		{ timeout 120 \"\$GNUMACH\" --timeout 60 \$(cat tests/kernel/rules/$n.opts 2>/dev/null) \
			--log \"\$TRASH/$n.raw\" \"unix:\$TRASH/$n.sock\" tests/kernel/rules/$n.map > /dev/null; rc=\$?; } ;
		kill \$(cat \"\$TRASH/$n.pid\") 2>/dev/null; wait \$(cat \"\$TRASH/$n.pid\") 2>/dev/null;
		test \$rc = 0 &&
		view tests/kernel/rules/$n.log > \"\$TRASH/$n.want\" &&
		view \"\$TRASH/$n.raw\" > \"\$TRASH/$n.got\" &&
		test_cmp \"\$TRASH/$n.want\" \"\$TRASH/$n.got\"
	"
done

test_done
