#!/bin/sh
# bench/guest-fault.sh: fault cycles per second of the real GNU Mach kernel
# served by a pager on the host through the relay, against the same
# workload served by a pager inside the guest (the floor: the kernel's own
# IPC, no relay).
#
# usage: bench/guest-fault.sh BUILD [PAGES [ROUNDS]]
# A fault cycle: a read fault on an absent page, data_request, data_supply.
# The workload (an mo-map script) reads each of PAGES pages once. Pagers:
# the in-guest one (floor), mo-gnumach's built-in test pager, and
# mo-filepager over mach/ when it is built. They run alternately ROUNDS
# times (TCG; qemu and the host side on the CPUs in $BENCH_CPUS, default
# 0,1, as qemu and the relay each want a core); medians and ratios; then
# the same again with a busy loop on the last of those CPUs (a second core
# busy: the issue's "under load"). Then the CPU an idle run costs. Each
# ratio twice: of the medians, and the median of each round's ratio to
# the floor's run just before it (the machine's load moves both).
set -eu
b=$1
pages=${2:-4096}
rounds=${3:-5}
cpus=${BENCH_CPUS:-0,1}
tmp=$(mktemp -d)
pager= hog=
trap '[ -n "$pager" ] && kill $pager 2>/dev/null; [ -n "$hog" ] && kill $hog 2>/dev/null; rm -rf "$tmp"' EXIT
printf "mark start\ntouch 0 %dp\nmark end %d\n" "$pages" "$pages" > "$tmp/script"
load0=$(cut -d" " -f1-3 /proc/loadavg)

# rate ADDR: one run, its fault cycles per second.
rate() {
	taskset -c "$cpus" timeout 300 "$b/mo-gnumach" --stats --size "${pages}p" \
		--console "$tmp/console" "$1" "$tmp/script" 2>"$tmp/err" >/dev/null ||
		{ cat "$tmp/err" >&2; exit 1; }
	sed -n 's/.* fault cycles in .*: \([0-9]*\) per second$/\1/p' "$tmp/err"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

kinds="guest builtin"
if [ -x "$b/mo-filepager" ]; then
	head -c $((pages * 4096)) /dev/zero > "$tmp/file"
	taskset -c "$cpus" "$b/mo-filepager" "unix:$tmp/p.sock" "$tmp/file" >/dev/null 2>&1 &
	pager=$!
	i=0
	while [ ! -S "$tmp/p.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kinds="$kinds unix:$tmp/p.sock"
fi

# rounds SUFFIX: ROUNDS alternating runs of every kind.
rounds() {
	i=0
	while [ "$i" -lt "$rounds" ]; do
		for k in $kinds; do
			rate "$k" >> "$tmp/$(echo "$k" | tr -c 'a-z\n' _)$1"
		done
		i=$((i + 1))
	done
}
rounds ""
hogcpu=${cpus##*,}
taskset -c "$hogcpu" sh -c 'while :; do :; done' &
hog=$!
rounds .busy
kill $hog
hog=
# CPU time (qemu and mo-gnumach, user + system) per second of an idle
# run: the same short workload with and without a 5 s sleep, the
# difference over 5 s. The host then sleeps on its doorbell, the agent
# until the host rings its serial line (guest/README.md).
cpu() {
	/usr/bin/time -f "%U %S" -o "$tmp/time" taskset -c "$cpus" timeout 300 \
		"$b/mo-gnumach" --console "$tmp/console" builtin "$1" >/dev/null 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	awk '{ print $1 + $2 }' "$tmp/time"
}
idle=
if [ -x /usr/bin/time ]; then
	printf "read 0\n" > "$tmp/busy"
	printf "read 0\nsleep 5000\n" > "$tmp/idle"
	idle=$(awk -v a="$(cpu "$tmp/busy")" -v b="$(cpu "$tmp/idle")" 'BEGIN { printf "%.3f", (b - a) / 5 }')
fi

for load in "" .busy; do
	floor=$(median < "$tmp/guest$load")
	if [ -z "$load" ]; then
		echo "fault cycles/s, $pages read faults, median of $rounds (CPUs $cpus):"
	else
		echo "the same with a busy loop on CPU $hogcpu:"
	fi
	for k in $kinds; do
		case $k in
		guest) what="pager inside the guest (floor)" ;;
		builtin) what="host test pager through the relay" ;;
		*) what="mo-filepager (mach/) through the relay" ;;
		esac
		file=$tmp/$(echo "$k" | tr -c 'a-z\n' _)$load
		v=$(median < "$file")
		# Each round's rate over the floor of the same round: the
		# machine's load moves both together.
		paired=$(paste "$file" "$tmp/guest$load" | awk '{ print $1 / $2 }' | median)
		awk -v w="$what" -v v="$v" -v f="$floor" -v p="$paired" \
			'BEGIN { printf "  %-40s %8d  %.2f of the floor, %.2f by round\n", w, v, v / f, p }'
	done
done
[ -z "$idle" ] || echo "idle: $idle CPU seconds per second (qemu and mo-gnumach; /usr/bin/time, one run)"
echo "load average before and after: $load0 / $(cut -d" " -f1-3 /proc/loadavg)"
