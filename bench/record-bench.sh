#!/bin/sh
# bench/record-bench.sh BUILD [PAGES] [ROUNDS] [COPIES]: what recording and
# plugins cost.
#
#   write   one mo-filepager reached through three motraces started afresh
#           each round: motrace -c, motrace -c -w FILE and motrace -c
#           --plugin timeline; mo-map touching PAGES pages (one read fault
#           each) through each, timed from outside; each ratio to -c is the
#           median of the rounds' ratios
#   read    the last round's recording copied COPIES times into one file
#           (bench/record-copy: real traffic, many records), then read by
#           motrace -r FILE -c and by tcpdump -r FILE -w /dev/null (libpcap
#           alone, the floor of any reader): records per second, median of
#           ROUNDS
#
# The set runs twice: everything pinned to CPU $BENCH_CPU (taskset -c),
# then unpinned. Compare figures of one set only.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-7}
COPIES=${4:-100}
. "$(dirname "$0")/lib.sh"
pids= dir=
trap 'stop_all; rm -rf "$dir"' EXIT
bench_dir || exit 1

one_set() {
	rm -f "$dir/t" "$dir/ratio" "$s"/*
	bench_pager || return 1
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/pager" "$dir/touch.map" || return 1
	order="c w t"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		rm -f "$s/mc" "$s/mw" "$s/mt" "$dir/rec.pcap"
		$PIN "$B/motrace" -c -o "$dir/c.log" --relay --listen "unix:$s/mc" --to "unix:$s/pager" &
		m1=$!
		$PIN "$B/motrace" -c -o "$dir/w.log" -w "$dir/rec.pcap" --relay --listen "unix:$s/mw" --to "unix:$s/pager" &
		m2=$!
		$PIN "$B/motrace" -c -o "$dir/t.log" --plugin "$B/plugins/timeline.so=$dir/tl.json" \
			--relay --listen "unix:$s/mt" --to "unix:$s/pager" &
		m3=$!
		wait_sock "$s/mc" && wait_sock "$s/mw" && wait_sock "$s/mt" || return 1
		for w in $order; do
			timed "$w" $PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/m$w" "$dir/touch.map" || return 1
		done
		kill $m1 $m2 $m3
		wait $m1 $m2 $m3
		tail -n 3 "$dir/t" | awk '{ t[$1] = $2 } END { print "w", t["c"] / t["w"]; print "t", t["c"] / t["t"] }' >> "$dir/ratio"
		order="${order#* } ${order%% *}"
		r=$((r + 1))
	done
	stop_all
	"$B/bench/record-copy" "$dir/rec.pcap" "$dir/big.pcap" "$COPIES" || return 1
	nrec=$(($(tcpdump -r "$dir/big.pcap" 2> /dev/null | grep -c "^[0-9]")))
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		timed read $PIN "$B/motrace" -r "$dir/big.pcap" -c -o /dev/null || return 1
		timed pcap $PIN tcpdump -r "$dir/big.pcap" -w /dev/null 2> /dev/null || return 1
		r=$((r + 1))
	done

	c=$(awk '$1 == "c" { print $2 }' "$dir/t" | median)
	w=$(awk '$1 == "w" { print $2 }' "$dir/t" | median)
	tp=$(awk '$1 == "t" { print $2 }' "$dir/t" | median)
	xt=$(awk '$1 == "t" { print $2 }' "$dir/ratio" | median)
	rd=$(awk '$1 == "read" { print $2 }' "$dir/t" | median)
	pc=$(awk '$1 == "pcap" { print $2 }' "$dir/t" | median)
	x=$(awk '$1 == "w" { print $2 }' "$dir/ratio" | median)
	echo "== $1"
	echo "$PAGES $c $w $x $nrec $rd $pc $ROUNDS $(wc -c < "$dir/big.pcap") $tp $xt" | awk '{
		printf "write: mo-map touch %sp, medians of %s rounds: motrace -c %.0f faults/s, motrace -c -w %.0f faults/s = %.2fx (target >= 0.95x)\n",
			$1, $8, $1 / $2, $1 / $3, $4
		printf "plugin: motrace -c --plugin timeline %.0f faults/s = %.2fx motrace -c (target >= 0.9x)\n",
			$1 / $10, $11
		printf "read: %d records (%.1f MB): motrace -r -c %.2f M records/s (target >= 1 M/s), libpcap alone (tcpdump -r -w) %.2f M records/s, motrace / libpcap %.2fx\n",
			$5, $9 / 1e6, $5 / $6 / 1e6, $5 / $7 / 1e6, $7 / $6
	}'
}

two_sets "pager, both motraces and mo-map"
