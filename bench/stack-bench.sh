#!/bin/sh
# bench/stack-bench.sh BUILD [PAGES] [ROUNDS]: what -k costs.
#
# One mo-filepager reached through four motraces started afresh each
# round: motrace -c and motrace -c -k (the pager and mo-map send each
# message's stack; nothing shows it, so it is not symbolized), motrace -o
# FILE (the log) and motrace -k -o FILE (the log with every stack
# symbolized under its line); mo-map touching PAGES pages (one read fault
# each) through each, in turn, the order rotating, timed from outside.
# Each ratio is the median of the rounds' ratios.
#
# The set runs twice: everything pinned to CPU $BENCH_CPU (taskset -c),
# then unpinned. Compare figures of one set only.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-7}
. "$(dirname "$0")/lib.sh"
pids= dir=
trap 'stop_all; rm -rf "$dir"' EXIT
bench_dir || exit 1

one_set() {
	rm -f "$dir/t" "$dir/ratio" "$s"/*
	bench_pager || return 1
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/pager" "$dir/touch.map" || return 1
	order="c k l m"
	r=0
	while [ "$r" -lt "$ROUNDS" ]; do
		rm -f "$s"/m?
		$PIN "$B/motrace" -c -o "$dir/c.log" --relay --listen "unix:$s/mc" --to "unix:$s/pager" &
		m1=$!
		$PIN "$B/motrace" -c -k -o "$dir/k.log" --relay --listen "unix:$s/mk" --to "unix:$s/pager" &
		m2=$!
		$PIN "$B/motrace" -o "$dir/l.log" --relay --listen "unix:$s/ml" --to "unix:$s/pager" &
		m3=$!
		$PIN "$B/motrace" -k -o "$dir/m.log" --relay --listen "unix:$s/mm" --to "unix:$s/pager" &
		m4=$!
		for w in $order; do wait_sock "$s/m$w" || return 1; done
		for w in $order; do
			timed "$w" $PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/m$w" "$dir/touch.map" || return 1
		done
		kill $m1 $m2 $m3 $m4
		wait $m1 $m2 $m3 $m4
		tail -n 4 "$dir/t" | awk '{ t[$1] = $2 } END { print "k", t["c"] / t["k"]; print "m", t["l"] / t["m"] }' >> "$dir/ratio"
		order="${order#* } ${order%% *}"
		r=$((r + 1))
	done
	stop_all
	for w in c k l m; do
		eval "t_$w=\$(awk -v w=$w '\$1 == w { print \$2 }' \"\$dir/t\" | median)"
	done
	xk=$(awk '$1 == "k" { print $2 }' "$dir/ratio" | median)
	xm=$(awk '$1 == "m" { print $2 }' "$dir/ratio" | median)
	echo "== $1"
	echo "$PAGES $t_c $t_k $xk $ROUNDS $t_l $t_m $xm $(grep -c '^ > ' "$dir/m.log")" | awk '{
		printf "mo-map touch %sp, medians of %s rounds: motrace -c %.0f faults/s, motrace -c -k %.0f faults/s = %.2fx (target >= 0.7x)\n",
			$1, $5, $1 / $2, $1 / $3, $4
		printf "with the log: motrace -o FILE %.0f faults/s, motrace -k -o FILE %.0f faults/s (%d frames symbolized in the last round) = %.2fx\n",
			$1 / $6, $1 / $7, $9, $8
	}'
}

two_sets "pager, both motraces and mo-map"
