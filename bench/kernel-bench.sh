#!/bin/sh
# bench/kernel-bench.sh BUILD [PAGES] [ROUNDS]: the kernel side's fault
# cycles against mo-filepager, and the in-process userfaultfd baseline,
# in the same run. The benchmark (and with it the kernel side's threads)
# runs on CPU $BENCH_CPU, the pager on CPU $PAGER_CPU: taskset -c.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-5}
BENCH_CPU=${BENCH_CPU:-0}
PAGER_CPU=${PAGER_CPU:-1}
dir=$(mktemp -d "${TMPDIR:-/tmp}/kernel-bench.XXXXXX") || exit 1
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
truncate -s $((PAGES * 4096)) "$dir/file"
mkdir -m 700 "$dir/s"
taskset -c "$PAGER_CPU" "$B/mo-filepager" "unix:$dir/s/pager" "$dir/file" 2>/dev/null &
pid=$!
i=0
until [ -S "$dir/s/pager" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "kernel-bench: mo-filepager did not start" >&2; exit 1; }
	sleep 0.05
done
echo "== kernel: bench pinned to CPU $BENCH_CPU, mo-filepager to CPU $PAGER_CPU (taskset -c)"
taskset -c "$BENCH_CPU" "$B/bench/kernel-bench" "unix:$dir/s/pager" "$PAGES" "$ROUNDS"
