# bench/lib.sh: what the bench scripts share, sourced by each
# (. "$(dirname "$0")/lib.sh"). BENCH, the name their messages carry, is the
# script's own name.
BENCH=${0##*/}
BENCH=${BENCH%.sh}
BENCH_CPU=${BENCH_CPU:-0}

# bench_dir: a fresh $dir (the script's exit trap removes it), $s the
# folder of sockets in it, $dir/file of PAGES pages and $dir/touch.map,
# mo-map's script touching each of them once.
bench_dir() {
	dir=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH.XXXXXX") || return 1
	s=$dir/s
	truncate -s $((PAGES * 4096)) "$dir/file" &&
	printf 'touch 0 %sp read\n' "$PAGES" > "$dir/touch.map" &&
	mkdir -m 700 "$s"
}

# kill_wait PID...: ends each and waits for it.
kill_wait() {
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
}

# stop_all: ends the processes in $pids.
stop_all() {
	kill_wait $pids
	pids=
}

# wait_sock PATH [TRIES]: until the socket exists (TRIES polls 50 ms
# apart, 100 unless told).
wait_sock() {
	i=0
	until [ -S "$1" ]; do
		i=$((i + 1))
		[ $i -gt "${2:-100}" ] && { echo "$BENCH: $1 did not appear" >&2; return 1; }
		sleep 0.05
	done
}

now() {
	date +%s.%N
}

# median: of the numbers on stdin, one a line (the lower middle one of an
# even count).
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# lap NAME T0 T1: appends "NAME SECONDS" to $dir/t.
lap() {
	echo "$1 $2 $3" | awk '{ printf "%s %.6f\n", $1, $3 - $2 }' >> "$dir/t"
}

# timed NAME CMD...: runs CMD; appends "NAME SECONDS" to $dir/t.
timed() {
	name=$1
	shift
	t0=$(now)
	"$@" || { echo "$BENCH: $name failed" >&2; return 1; }
	t1=$(now)
	lap "$name" "$t0" "$t1"
}

# faults NAME ADDR OUT: one mo-map run through ADDR timed from outside
# (exec, init and terminate included); appends "NAME FAULTS-PER-S" to OUT.
faults() {
	t0=$(now)
	$PIN "$B/mo-map" -q --size "${PAGES}p" "$2" "$dir/touch.map" ||
		{ echo "$BENCH: mo-map through $1 failed" >&2; return 1; }
	t1=$(now)
	echo "$1 $t0 $t1" | awk -v p="$PAGES" '{ printf "%s %.1f\n", $1, p / ($3 - $2) }' >> "$3"
}

# bench_pager [TRIES]: mo-filepager (under $PIN) serving $dir/file at
# $s/pager, in $pids; returns once the socket is there.
bench_pager() {
	rm -f "$s/pager"
	$PIN "$B/mo-filepager" "unix:$s/pager" "$dir/file" 2> "$dir/pager.err" &
	pids="$pids $!"
	wait_sock "$s/pager" "$@"
}

# two_sets WHO [AFTER]: one_set with everything pinned to CPU $BENCH_CPU
# (WHO says what runs there), then unpinned; exits when one fails.
two_sets() {
	PIN="taskset -c $BENCH_CPU"
	one_set "pinned: $1 on CPU $BENCH_CPU (taskset -c $BENCH_CPU)$2" || exit 1
	PIN=
	one_set "unpinned: the same processes, placed by the scheduler over $(nproc) cores" || exit 1
}
