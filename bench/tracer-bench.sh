#!/bin/sh
# bench/tracer-bench.sh BUILD [PAGES] [ROUNDS]: what motrace costs on live
# traffic. One mo-filepager is reached four ways at once: directly, through
# tracer-relay (copies bytes, nothing else: the floor of any proxy),
# through motrace -o FILE (every message logged) and through motrace -c
# (only the statistics table). Two figures, each against its same-run
# baseline:
#
#   faults/s     mo-map touching PAGES pages (one read fault each), timed
#                from outside (exec, init and terminate included), ROUNDS
#                alternating runs per way, median; ratio to direct
#   added/msg    tracer-bench (the kernel side of mo-map, each fault
#                timed alone): p50 and p99 of the fault round trip
#                (data_request out, data_supply back) through a way minus
#                directly, halved; motrace's against the relay's
#
# The set runs twice: everything pinned to CPU $BENCH_CPU (taskset -c; one
# core, so every hand-over between processes is a same-core wake-up), then
# unpinned (the scheduler spreads processes over the cores, and cross-core
# wake-ups cost ~60 us against ~11 us). Compare figures of one set only.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-5}
BENCH_CPU=${BENCH_CPU:-0}
dir=$(mktemp -d "${TMPDIR:-/tmp}/tracer-bench.XXXXXX") || exit 1
pids=
trap 'stop_all; rm -rf "$dir"' EXIT
truncate -s $((PAGES * 4096)) "$dir/file"
printf 'touch 0 %sp read\n' "$PAGES" > "$dir/touch.map"
mkdir -m 700 "$dir/s"

stop_all() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=
}

# wait_sock PATH: until the socket exists (5 s at most).
wait_sock() {
	i=0
	until [ -S "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "tracer-bench: $1 did not appear" >&2; return 1; }
		sleep 0.05
	done
}

# bg CMD...: starts CMD (pinned as the set says) in the background.
bg() {
	$PIN "$@" &
	pids="$pids $!"
}

now() {
	date +%s.%N
}

# one_set LABEL: starts the pager and the three ways in front of it, runs
# both measurements, stops them.
one_set() {
	s=$dir/s
	rm -f "$s"/* "$dir"/mo.log "$dir"/mc.log
	bg "$B/mo-filepager" "unix:$s/pager" "$dir/file" 2> "$dir/pager.err"
	wait_sock "$s/pager" || return 1
	bg "$B/bench/tracer-relay" "unix:$s/relay" "unix:$s/pager" 2> "$dir/relay.err"
	bg "$B/motrace" -o "$dir/mo.log" --listen "unix:$s/mo" --to "unix:$s/pager" 2> "$dir/mo.err"
	bg "$B/motrace" -c -o "$dir/mc.log" --listen "unix:$s/mc" --to "unix:$s/pager" 2> "$dir/mc.err"
	wait_sock "$s/relay" && wait_sock "$s/mo" && wait_sock "$s/mc" ||
		{ cat "$dir"/*.err >&2; return 1; }
	ways="direct=unix:$s/pager relay=unix:$s/relay motrace-o=unix:$s/mo motrace-c=unix:$s/mc"

	echo "== $1"
	: > "$dir/mo-map.times"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		for w in $ways; do
			t0=$(now)
			$PIN "$B/mo-map" -q --size "${PAGES}p" "${w#*=}" "$dir/touch.map" ||
				{ echo "tracer-bench: mo-map ${w%%=*} failed" >&2; return 1; }
			t1=$(now)
			echo "${w%%=*} $t0 $t1" >> "$dir/mo-map.times"
		done
		r=$((r + 1))
	done
	echo "-- mo-map, touch ${PAGES}p (one read fault a page), $ROUNDS runs a way, median, exec to exit"
	for w in $ways; do
		awk -v w="${w%%=*}" -v p="$PAGES" '$1 == w { print p / ($3 - $2) }' "$dir/mo-map.times" |
			sort -n | awk -v w="${w%%=*}" '{ v[NR] = $1 } END { printf "mo-map %s %.0f\n", w, v[int((NR + 1) / 2)] }'
	done > "$dir/mo-map.res"
	awk '$2 == "direct" { d = $3 } { r[NR] = $2; f[NR] = $3 }
	     END { for (i = 1; i <= NR; i++) printf "%-12s %10.0f faults/s  %5.2fx direct\n", r[i], f[i], f[i] / d }' "$dir/mo-map.res"
	echo "-- per fault, tracer-bench $PAGES pages x $ROUNDS rounds"
	$PIN "$B/bench/tracer-bench" "$PAGES" "$ROUNDS" $ways > "$dir/tb.out" ||
		{ cat "$dir/tb.out"; return 1; }
	grep -v '^result ' "$dir/tb.out"
	stop_all
	echo "-- summary ($1)"
	awk '$1 == "mo-map" { f[$2] = $3 }
	     $1 == "result" { a50[$2] = $6; a99[$2] = $7 }
	     END {
		printf "faults/s: direct %.0f, motrace -o %.0f (%.2fx), motrace -c %.0f (%.2fx); target -o >= 0.75x\n",
			f["direct"], f["motrace-o"], f["motrace-o"] / f["direct"],
			f["motrace-c"], f["motrace-c"] / f["direct"]
		printf "added per message: relay p50 %.1f us p99 %.1f us; motrace -o p50 %.1f us p99 %.1f us; -c p50 %.1f us p99 %.1f us\n",
			a50["relay"], a99["relay"], a50["motrace-o"], a99["motrace-o"], a50["motrace-c"], a99["motrace-c"]
		if (a50["relay"] > 0)
			printf "motrace -o / relay, added p50: %.1fx; target <= 1.5x\n", a50["motrace-o"] / a50["relay"]
		else
			printf "motrace -o / relay, added p50: relay added nothing measurable (%.1f us)\n", a50["relay"]
	     }' "$dir/mo-map.res" "$dir/tb.out"
	grep -h "diagnostic(s)" "$dir/mo.log" "$dir/mc.log" | sed 's/^/motrace: /'
}

PIN="taskset -c $BENCH_CPU"
one_set "pinned: pager, relay, both motraces, mo-map and tracer-bench all on CPU $BENCH_CPU (taskset -c $BENCH_CPU)" || exit 1
PIN=
one_set "unpinned: the same processes, placed by the scheduler over $(nproc) cores" || exit 1
