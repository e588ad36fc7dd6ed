#!/bin/sh
# bench/attach-bench.sh BUILD [PAGES] [ROUNDS]: what attaching costs
# (doc/attach.md). One mo-filepager serves mo-map's read faults (touch
# PAGES pages, one read fault a page, timed from outside: exec, init and
# terminate included) five ways in each round, in the same run:
#
#   direct     mo-map reaches the pager; no tracer attached
#   proxy      through motrace -o FILE --relay --listen/--to (the proxy:
#              kernels reach motrace, which relays to the pager)
#   attached   motrace -p PID -o FILE attached to the pager (nothing to
#              judge: the pager delivers at once and sends copies)
#   judged     motrace -p PID -o FILE -e RULE, a rule no message of the
#              workload matches: every message waits for motrace's verdict
#   observe    motrace -p PID --observe -o FILE (copies only; motrace at
#              SCHED_IDLE, --observe's default: the copies it missed, if
#              it fell behind, are counted and shown)
#
# Each motrace starts afresh for its run and ends (a detach) after it.
# Figures: faults/s medians of ROUNDS, and the median of the rounds'
# ratios to direct (a round's runs are seconds apart). The set runs
# twice: pinned (every process on CPU $BENCH_CPU, taskset -c: every hand-
# over a same-core wake-up), then unpinned (the scheduler's placement).
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-7}
. "$(dirname "$0")/lib.sh"
pager= mt= dir=
trap 'stop_mt; [ -n "$pager" ] && kill $pager 2>/dev/null; rm -rf "$dir"' EXIT
bench_dir || exit 1

wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "attach-bench: waited too long for: $*" >&2; return 1; }
		sleep 0.025
	done
}

stop_mt() {
	[ -n "$mt" ] || return 0
	kill -TERM "$mt" 2>/dev/null
	wait "$mt" 2>/dev/null
	mt=
}

# run WAY ADDR: one timed mo-map run; appends "WAY FAULTS-PER-S".
run() {
	faults "$1" "$2" "$dir/res"
}

attached() {
	grep -q "^+++ attached to pid" "$1" 2>/dev/null
}

one() {
	case $1 in
	direct)
		run direct "unix:$s/pager" ;;
	proxy)
		rm -f "$s/mo"
		$PIN "$B/motrace" -o "$dir/proxy.log" --relay --listen "unix:$s/mo" --to "unix:$s/pager" 2>> "$dir/err" &
		mt=$!
		wait_for test -S "$s/mo" && run proxy "unix:$s/mo"
		st=$?; stop_mt; return $st ;;
	attached|judged|observe)
		rm -f "$dir/$1.log"
		$PIN "$B/motrace" -p "$pager" $([ "$1" = observe ] && echo --observe) \
			$([ "$1" = judged ] && echo -e delay=lock_request:by=1ms) \
			-o "$dir/$1.log" 2>> "$dir/err" &
		mt=$!
		wait_for attached "$dir/$1.log" && run "$1" "unix:$s/pager"
		st=$?; stop_mt
		grep -h "diagnostic(s)" "$dir/$1.log" >> "$dir/diag"
		# Copies an observer missed (it fell behind): the last count.
		sed -n 's/.*not copied to motrace, which fell behind (\([0-9]*\) in all).*/\1/p' \
			"$dir/$1.log" | tail -n 1 | sed "s/^/$1 /" >> "$dir/missed"
		return $st ;;
	esac
}

one_set() {
	rm -f "$dir/res" "$dir/ratio" "$dir/diag" "$dir/missed"
	rm -f "$s/pager"
	$PIN "$B/mo-filepager" "unix:$s/pager" "$dir/file" 2> "$dir/pager.err" &
	pager=$!
	wait_for test -S "$s/pager" || return 1
	# The file's pages into the page cache, the programs into memory.
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/pager" "$dir/touch.map" || return 1
	ways="direct proxy attached judged observe"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		for w in $ways; do
			one "$w" || { cat "$dir/err" >&2; return 1; }
		done
		tail -n 5 "$dir/res" | awk '{ f[$1] = $2 } END { for (w in f) print w, f[w] / f["direct"] }' >> "$dir/ratio"
		ways="${ways#* } ${ways%% *}"
		r=$((r + 1))
	done
	kill $pager; wait $pager 2>/dev/null; pager=
	echo "== $1"
	printf "%-9s %9s %9s\n" way faults/s "x direct"
	for w in direct proxy attached judged observe; do
		f=$(awk -v w=$w '$1 == w { print $2 }' "$dir/res" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }')
		x=$(awk -v w=$w '$1 == w { print $2 }' "$dir/ratio" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }')
		printf "%-9s %9.0f %8.2fx\n" $w "$f" "$x"
		eval "x_$w=$x"
	done
	echo "$x_attached $x_proxy $x_observe $x_judged" | awk '{
		printf "attached / proxy: %.2f (target >= 1), judged / proxy: %.2f; observe: %.2fx direct (target >= 0.9)\n", $1 / $2, $4 / $2, $3 }'
	sort "$dir/diag" | uniq -c | awk '{ $1 = "motrace -p runs: " $1 " reported"; print }'
	awk -v r="$ROUNDS" '{ n[$1] += $2 } END { printf "copies missed (observe, %d runs): %d\n", r, n["observe"] }' "$dir/missed" < /dev/null
}

echo "-- mo-map, touch ${PAGES}p (one read fault a page), exec to exit; medians of $ROUNDS rounds"
two_sets "pager, motrace and mo-map all"
