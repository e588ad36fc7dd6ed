#!/bin/sh
# The real kernel is the referee (DESIGN.md): each workload of
# tests/kernel/referee/ runs on GNU Mach under qemu (mo-gnumach and its
# built-in test pager) and on the Linux-hosted kernel (mo-map and
# mo-faulty --bug=none, which answers as that test pager does); the two
# message sequences must be the same, up to port names and addresses.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/kernel/lib.sh"

GNUMACH="$B/mo-gnumach"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'the Linux-hosted kernel against GNU Mach' 'qemu-system-x86, the kernel or build/mo-gnumach missing'
	test_done
	exit
fi

for m in tests/kernel/referee/*.map; do
	n=$(basename "$m" .map)
	test_expect_success "$n: $(sed -n "1s/^# //p" "$m")" "
		timeout 120 \"\$GNUMACH\" --timeout 60 --log \"\$TRASH/$n.gnumach\" builtin $m > /dev/null &&
		start_pager mo-faulty --bug=none &&
		run_map --log \"\$TRASH/$n.linux\" \"\$ADDR\" $m > /dev/null &&
		stop_pager mo-faulty &&
		awk -f tests/kernel/referee.awk \"\$TRASH/$n.gnumach\" > \"\$TRASH/$n.want\" &&
		awk -f tests/kernel/referee.awk \"\$TRASH/$n.linux\" > \"\$TRASH/$n.got\" &&
		test -s \"\$TRASH/$n.want\" &&
		test_cmp \"\$TRASH/$n.want\" \"\$TRASH/$n.got\"
	"
done

test_done
