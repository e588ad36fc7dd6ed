#!/bin/sh
# bench/tracer-bench.sh BUILD [PAGES] [ROUNDS]: what motrace costs on live
# traffic. One mo-filepager is reached four ways at once: directly, through
# tracer-relay (copies bytes, nothing else: the floor of any proxy),
# through motrace --relay -o FILE (every message logged) and through
# motrace --relay -c (only the statistics table); a second one, on the
# same file, through motrace -o FILE as it runs by default (attached to
# the pager, which it handed the address). Figures, each against its
# same-run baseline:
#
#   faults/s     mo-map touching PAGES pages (one read fault each), timed
#                from outside (exec, init and terminate included), one run
#                a way a round, median of ROUNDS; ratio to direct: the
#                median of the rounds' ratios (a round's runs are seconds
#                apart, so a change in the machine's load touches both)
#   added/msg    tracer-bench (the kernel side of mo-map, each fault timed
#                alone), PAGES faults a way a round: p50 and p99 of the
#                fault round trip (data_request out, data_supply back)
#                through a way minus directly, halved; motrace's against
#                the relay's
#   history      one motrace -c serving HISTORY mo-map runs in a row: the
#                last run's faults/s against the first's (1.00 when what
#                motrace keeps of kernels that have gone costs nothing)
#
# Each round starts both motraces afresh for each of the first two, so
# that every figure is that of a motrace that has seen one kernel.
# The set runs twice: everything pinned to CPU $BENCH_CPU (taskset -c; one
# core, so every hand-over between processes is a same-core wake-up), then
# unpinned (the scheduler spreads processes over the cores, and cross-core
# wake-ups cost ~60 us against ~11 us). Compare figures of one set only.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-9}
HISTORY=${HISTORY:-6}
. "$(dirname "$0")/lib.sh"
pids= mts= dir=
trap 'stop_motraces; stop_all; rm -rf "$dir"' EXIT
bench_dir || exit 1

stop_motraces() {
	kill_wait $mts
	mts=
}

# start_motraces: fresh, motrace -o at $s/mo in front of the second
# pager (as a user starts it: the pager is on libmotrace-mach, so motrace
# hands it the address and attaches, and the pager then copies every
# message of its own to motrace: the other ways go to the first), and,
# through the relay (--relay: kernels reach motrace, which relays to the
# first pager), motrace -o at $s/mr and motrace -c at $s/mc.
start_motraces() {
	rm -f "$s/mo" "$s/mc" "$s/mr"
	$PIN "$B/motrace" -o "$dir/mo.log" --listen "unix:$s/mo" --to "unix:$s/pager2" 2>> "$dir/mo.err" &
	mts="$mts $!"
	wait_sock "$s/mo" || { cat "$dir"/*.err >&2; return 1; }
	$PIN "$B/motrace" --relay -o "$dir/mr.log" --listen "unix:$s/mr" --to "unix:$s/pager" 2>> "$dir/mr.err" &
	mts="$mts $!"
	$PIN "$B/motrace" --relay -c -o "$dir/mc.log" --listen "unix:$s/mc" --to "unix:$s/pager" 2>> "$dir/mc.err" &
	mts="$mts $!"
	wait_sock "$s/mr" && wait_sock "$s/mc" || { cat "$dir"/*.err >&2; return 1; }
}

# diagnostics: what the motraces just stopped reported, once per log.
diagnostics() {
	grep -h "diagnostic(s)" "$dir/mo.log" "$dir/mr.log" "$dir/mc.log" >> "$dir/diag"
}

# pct FILE KIND WAY P: the P-quantile of the values of lines "KIND WAY
# VALUE" (KIND empty: lines "WAY VALUE").
pct() {
	if [ -n "$2" ]; then
		awk -v k="$2" -v w="$3" '$1 == k && $2 == w { print $3 }' "$1"
	else
		awk -v w="$3" '$1 == w { print $2 }' "$1"
	fi | sort -n | awk -v p="$4" '{ v[NR] = $1 } END { i = int(p * NR) + 1; if (i > NR) i = NR; print v[i] }'
}

# one_set LABEL
one_set() {
	rm -f "$dir/mo-map.res" "$dir/raw" "$dir/diag" "$dir/history" "$dir/ratio"
	bg_pager || return 1
	$PIN "$B/bench/tracer-relay" "unix:$s/relay" "unix:$s/pager" 2> "$dir/relay.err" &
	pids="$pids $!"
	wait_sock "$s/relay" || return 1
	ways="direct=unix:$s/pager relay=unix:$s/relay motrace-o=unix:$s/mo motrace-r=unix:$s/mr motrace-c=unix:$s/mc"
	# The file's pages into the page cache, the programs into memory.
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/pager" "$dir/touch.map" || return 1

	r=0
	while [ $r -lt "$ROUNDS" ]; do
		start_motraces || return 1
		for w in $ways; do
			faults "${w%%=*}" "${w#*=}" "$dir/mo-map.res" || return 1
		done
		stop_motraces
		diagnostics
		tail -n 5 "$dir/mo-map.res" | awk '{ f[$1] = $2 }
			END { for (w in f) { print "map", w, f[w] / f["direct"]
				print "mapr", w, f[w] / f["relay"] } }' >> "$dir/ratio"
		start_motraces || return 1
		$PIN "$B/bench/tracer-bench" -r "$dir/raw" "$PAGES" 1 $ways > "$dir/tb.out" ||
			{ cat "$dir/tb.out"; return 1; }
		stop_motraces
		diagnostics
		awk '$1 == "result" { f[$2] = $3 }
			END { for (w in f) { print "tb", w, f[w] / f["direct"]
				print "tbr", w, f[w] / f["relay"] } }' "$dir/tb.out" >> "$dir/ratio"
		# Rotate, so that no way always runs first after a restart.
		ways="${ways#* } ${ways%% *}"
		r=$((r + 1))
	done

	start_motraces || return 1
	h=0
	while [ $h -lt "$HISTORY" ]; do
		t0=$(now)
		$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/mc" "$dir/touch.map" || return 1
		t1=$(now)
		echo "$t0 $t1" | awk -v p="$PAGES" '{ printf "%.1f\n", p / ($2 - $1) }' >> "$dir/history"
		h=$((h + 1))
	done
	stop_motraces
	diagnostics
	stop_all

	echo "== $1"
	: > "$dir/fig"
	for w in direct relay motrace-o motrace-r motrace-c; do
		echo "map.$w $(pct "$dir/mo-map.res" '' "$w" 0.5)"
		echo "mapx.$w $(pct "$dir/ratio" map "$w" 0.5)"
		echo "rate.$w $(pct "$dir/raw" rate "$w" 0.5)"
		echo "ratex.$w $(pct "$dir/ratio" tb "$w" 0.5)"
		echo "mapr.$w $(pct "$dir/ratio" mapr "$w" 0.5)"
		echo "rater.$w $(pct "$dir/ratio" tbr "$w" 0.5)"
		echo "p50.$w $(pct "$dir/raw" fault "$w" 0.5)"
		echo "p99.$w $(pct "$dir/raw" fault "$w" 0.99)"
	done >> "$dir/fig"
	echo "hist.first $(head -n 1 "$dir/history")" >> "$dir/fig"
	echo "hist.last $(tail -n 1 "$dir/history")" >> "$dir/fig"
	awk -v pages="$PAGES" -v rounds="$ROUNDS" -v hist="$HISTORY" '
	{ x[$1] = $2 }
	END {
		nw = split("direct relay motrace-o motrace-r motrace-c", W, " ")
		printf "-- mo-map, touch %sp (one read fault a page), exec to exit: medians of %s rounds\n", pages, rounds
		printf "%-10s %8s %9s\n", "way", "faults/s", "x direct"
		for (i = 1; i <= nw; i++)
			printf "%-10s %8.0f %8.2fx\n", W[i], x["map." W[i]], x["mapx." W[i]]
		printf "-- tracer-bench, %s faults a way a round, %s rounds: faults/s and x direct medians of the rounds, fault time over all faults\n", pages, rounds
		printf "%-10s %8s %9s %8s %8s %15s %15s\n", "way", "faults/s", "x direct", "p50 us", "p99 us", "added/msg p50", "added/msg p99"
		for (i = 1; i <= nw; i++) {
			w = W[i]
			a50[w] = (x["p50." w] - x["p50.direct"]) / 2
			a99[w] = (x["p99." w] - x["p99.direct"]) / 2
			printf "%-10s %8.0f %8.2fx %8.1f %8.1f %12.1f us %12.1f us\n", w, x["rate." w], x["ratex." w], x["p50." w], x["p99." w], a50[w], a99[w]
		}
		printf "-- summary\n"
		printf "faults/s (mo-map): direct %.0f, motrace -o %.0f = %.2fx direct, motrace -c %.0f = %.2fx direct (target for -o: >= 0.75x)\n",
			x["map.direct"], x["map.motrace-o"], x["mapx.motrace-o"],
			x["map.motrace-c"], x["mapx.motrace-c"]
		printf "added per message: relay p50 %.1f us, p99 %.1f us; motrace -o p50 %.1f us, p99 %.1f us; motrace -c p50 %.1f us, p99 %.1f us\n",
			a50["relay"], a99["relay"], a50["motrace-o"], a99["motrace-o"], a50["motrace-c"], a99["motrace-c"]
		printf "motrace / relay, faults/s (medians of the rounds'"'"' ratios): -o %.2fx (mo-map), %.2fx (tracer-bench), --relay -o %.2fx, %.2fx, --relay -c %.2fx, %.2fx (target for -o: >= 0.9x)\n",
			x["mapr.motrace-o"], x["rater.motrace-o"], x["mapr.motrace-r"], x["rater.motrace-r"], x["mapr.motrace-c"], x["rater.motrace-c"]
		if (a50["relay"] > 0.5)
			printf "motrace / relay, added p50: -o %.2fx, --relay -o %.2fx, --relay -c %.2fx (target for -o: <= 1.3x)\n",
				a50["motrace-o"] / a50["relay"], a50["motrace-r"] / a50["relay"], a50["motrace-c"] / a50["relay"]
		else
			printf "motrace / relay, added p50: the relay added %.1f us, too little for a ratio\n", a50["relay"]
		printf "history: motrace -c, mo-map run %d in a row against run 1: %.0f / %.0f faults/s = %.2fx\n",
			hist, x["hist.last"], x["hist.first"], x["hist.last"] / x["hist.first"]
	}' "$dir/fig"
	sort "$dir/diag" | uniq -c | awk '{ $1 = "motrace runs: " $1 " reported"; print }'
}

bg_pager() {
	rm -f "$s/relay" "$s/pager2"
	bench_pager || return 1
	$PIN "$B/mo-filepager" "unix:$s/pager2" "$dir/file" 2> "$dir/pager2.err" &
	pids="$pids $!"
	wait_sock "$s/pager2"
}

two_sets "pager, relay, both motraces, mo-map and tracer-bench all"
