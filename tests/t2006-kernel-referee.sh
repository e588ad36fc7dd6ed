#!/bin/sh
# The real kernel is the referee (DESIGN.md). Each workload of
# tests/kernel/referee/ runs on GNU Mach under qemu (mo-gnumach and its
# built-in test pager) and on the Linux-hosted kernel (mo-map and
# mo-faulty --bug=none, which answers as that test pager does); the two
# message sequences must be the same, up to port names and addresses.
# Then each rule of tests/kernel/rules/ (t2004) runs on GNU Mach with the
# same test pager: what each side sends must be what the rule's expected
# log says the Linux-hosted kernel and the pager send, direction by
# direction (the interleaving of the two directions is timing). A rule
# with NAME.noreferee is left out, for the reason that file gives.
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

# Coherence across kernels of both kinds: GNU Mach and two Linux-hosted
# kernels (two threads each) add to shared counters through one
# mo-coherent; the totals must be exact.
test_expect_success 'GNU Mach and two Linux-hosted kernels share counters through mo-coherent' '
	start_pager mo-coherent 16p &&
	printf "sleep 300\nrepeat 50\nrepeat 10\nadd 0 1\nadd 1p 1\nend\nsleep 1\nend\n" > "$TRASH/inc" &&
	{ { rc=0; timeout 120 "$GNUMACH" --timeout 90 --threads 2 --size 4p --log "$TRASH/coh.g" "$ADDR" "$TRASH/inc" > "$TRASH/coh.gout" 2>&1 || rc=$?; echo $rc > "$TRASH/coh.grc"; } & } &&
	pids=$! &&
	sleep 0.5 &&
	for i in 1 2; do
		{ rc=0; run_map --threads 2 --size 4p --kernel-id $i --log "$TRASH/coh.$i" "$ADDR" "$TRASH/inc" > "$TRASH/coh.$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/coh.$i.rc"; } &
		pids="$pids $!"
	done &&
	wait $pids &&
	{ cat "$TRASH/coh.grc" "$TRASH/coh.1.rc" "$TRASH/coh.2.rc" | tr -d "\n" | grep -qx 000 ||
	  { tail -n 5 "$TRASH"/coh.*; exit 1; }; } &&
	printf "expect 0 3000\nexpect 1p 3000\n" | run_map --size 4p "$ADDR" - &&
	stop_pager mo-coherent &&
	test "$(grep -c "k0< memory_object_lock_request" "$TRASH/coh.g")" -gt 0
'

# the K (kernel) or M (manager) lines of a log, comparable
side() {
	awk -f tests/kernel/referee.awk "$2" | grep "^$1 "
}

for r in tests/kernel/rules/*.rules; do
	n=$(basename "$r" .rules)
	d=tests/kernel/rules/$n
	if [ -f "$d.noreferee" ]; then
		test_skip "rule $n on GNU Mach" "$(cat "$d.noreferee")"
		continue
	fi
	opts=
	[ -f "$d.opts" ] && opts=$(cat "$d.opts")
	# A hang is cut by mo-gnumach's deadline, short here; the terminate
	# the Linux-hosted kernel sends when the hung mo-map is killed has no
	# counterpart then.
	if [ -f "$d.hang" ]; then to=4; else to=60; fi
	test_expect_success "rule $n on GNU Mach" "
		ADDR=unix:\$TRASH/s/tp-$n &&
		{ \"\$B/tests/kernel/mo-testpager\" \"\$ADDR\" $d.rules 2> \"\$TRASH/tp.err\" & echo \$! > \"\$TRASH/tp-$n.pid\"; } &&
		wait_for test -S \"\$TRASH/s/tp-$n\" &&
		{ timeout 120 \"\$GNUMACH\" --timeout $to $opts --log \"\$TRASH/$n.g\" \"\$ADDR\" $d.map > \"\$TRASH/$n.gout\" 2>&1 ||
		  test -f $d.hang || { cat \"\$TRASH/$n.gout\"; exit 1; }; } &&
		stop_pager tp-$n &&
		sed 's/=P[0-9]*/=1/g; s/data=ADDR \\[/data=0x0 [/' $d.log > \"\$TRASH/$n.mine\" &&
		if test -f $d.hang; then sed -i '\$ { /memory_object_terminate/d; }' \"\$TRASH/$n.mine\"; fi &&
		for w in K M; do
			side \$w \"\$TRASH/$n.g\" > \"\$TRASH/$n.\$w.want\" &&
			side \$w \"\$TRASH/$n.mine\" > \"\$TRASH/$n.\$w.got\" &&
			test_cmp \"\$TRASH/$n.\$w.want\" \"\$TRASH/$n.\$w.got\" || exit 1
		done
	"
done

test_done
