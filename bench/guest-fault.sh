#!/bin/sh
# bench/guest-fault.sh: fault cycles per second of the real GNU Mach kernel
# served by the host's pager through the relay, against the same workload
# served by a pager inside the guest (the floor: the kernel's own IPC).
#
# usage: bench/guest-fault.sh MO_GNUMACH [PASSES [PAGES [ROUNDS]]]
# A fault cycle: a read fault on an absent page, data_request, data_supply;
# the workload (an mo-map script) touches PAGES pages PASSES times and has
# the pager flush them after each pass.
# Runs both alternately ROUNDS times (TCG; qemu and the host side pinned to
# the CPUs in $BENCH_CPUS, default 0,1, as qemu and the relay each want a
# core) and prints the medians and their ratio.
set -eu
gnumach=$1
passes=${2:-64}
pages=${3:-64}
cycles=$((passes * pages))
rounds=${4:-5}
cpus=${BENCH_CPUS:-0,1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "mark start\nrepeat %d\ntouch 0 %dp\npager flushall\nend\nmark end %d\n" \
	"$passes" "$pages" "$cycles" > "$tmp/script"

rate() {
	taskset -c "$cpus" timeout 300 "$gnumach" --stats --size "${pages}p" \
		--console "$tmp/console" "$1" "$tmp/script" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	sed -n 's/.* fault cycles in .*: \([0-9]*\) per second$/\1/p' "$tmp/err"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

i=0
while [ "$i" -lt "$rounds" ]; do
	rate guest >> "$tmp/floor"
	rate builtin >> "$tmp/relay"
	i=$((i + 1))
done
floor=$(median < "$tmp/floor")
relay=$(median < "$tmp/relay")
echo "fault cycles/s, $cycles read faults ($passes passes over $pages pages), median of $rounds (CPUs $cpus):"
printf '  %-34s %8s\n' "pager inside the guest (floor)" "$floor" \
	"host pager through the relay" "$relay"
awk -v f="$floor" -v r="$relay" 'BEGIN { printf "  relay / floor: %.2f\n", r / f }'
