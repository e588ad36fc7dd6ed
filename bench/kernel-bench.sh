#!/bin/sh
# bench/kernel-bench.sh BUILD [PAGES] [ROUNDS]: the kernel side's fault
# cycles against mo-filepager, and the in-process userfaultfd baseline,
# in the same run. Pinned with taskset -c, in two placements: the pager on
# the benchmark's CPU, and on the other CPU (a wake-up across CPUs costs
# much more on some machines: compare only the figures of one placement).
# PLACEMENTS="BENCH:PAGER ..." overrides them (default "0:0 0:1").
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-5}
PLACEMENTS=${PLACEMENTS:-"0:0 0:1"}
. "$(dirname "$0")/lib.sh"
pid= dir=
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
bench_dir || exit 1
for p in $PLACEMENTS; do
	bench_cpu=${p%:*}
	pager_cpu=${p#*:}
	rm -f "$s/pager"
	taskset -c "$pager_cpu" "$B/mo-filepager" "unix:$s/pager" "$dir/file" 2>/dev/null &
	pid=$!
	wait_sock "$s/pager" || exit 1
	echo "== kernel: bench pinned to CPU $bench_cpu, mo-filepager to CPU $pager_cpu (taskset -c)"
	taskset -c "$bench_cpu" "$B/bench/kernel-bench" "unix:$s/pager" "$PAGES" "$ROUNDS" || exit 1
	kill $pid
	wait $pid 2>/dev/null
	pid=
done
