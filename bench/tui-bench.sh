#!/bin/sh
# bench/tui-bench.sh BUILD [PAGES] [ROUNDS] [SPARSE]: what the page view
# costs (TRAVEL in the environment: the recording's length).
#
#   faults/s   one mo-filepager reached through two motraces started afresh
#              each round: motrace -c, and motrace --tui -c with its screen
#              live in a tmux window (120x40, redrawn as the traffic goes);
#              mo-map touching PAGES pages (one read fault each) through
#              each, timed from outside, the order swapped each round; the
#              ratio is the median of the rounds' ratios (target >= 0.95x)
#   cpu        the CPU time each motrace used for those faults (from
#              /proc/PID/stat), a figure the machine's other load moves
#              less than a rate
#   scroll     SPARSE pages touched one in two (so SPARSE rows, none
#              folded) in the view: how long End, Home and "p N" take to
#              show on the screen (tmux send-keys until capture-pane shows
#              the row selected; polled every 10 ms, so the figures hold
#              that much), median of ROUNDS
#   travel     a recording of mo-map touching PAGES pages, copied until it
#              holds TRAVEL messages (1,000,000; bench/record-copy), read
#              by motrace -r FILE --tui: the time to the first screen (the
#              pass that keeps the checkpoints), then g N to eight places
#              and [ after each, each timed until the screen shows it
#
# The set runs twice: everything pinned to CPU $BENCH_CPU (taskset -c),
# then unpinned. Compare figures of one set only.
B=${1:-build}
PAGES=${2:-2000}
ROUNDS=${3:-7}
SPARSE=${4:-100000}
TRAVEL=${TRAVEL:-1000000}
if ! command -v tmux > /dev/null 2>&1; then
	echo "tui-bench: tmux is missing (tools/packages lists it)" >&2
	exit 1
fi
. "$(dirname "$0")/lib.sh"
pids= dir= T=:
trap 'stop_all; $T kill-server 2> /dev/null; rm -rf "$dir"' EXIT
bench_dir || exit 1
T="tmux -S $dir/tmux.sock"
truncate -s $((SPARSE * 2 * 4096)) "$dir/sparse"
awk -v n="$SPARSE" 'BEGIN { for (i = 0; i < n; i++) printf "read %dp\n", 2 * i; print "sleep 600000" }' > "$dir/sparse.map"

# ticks PID: the CPU time PID has used (user + system, in clock ticks).
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# until_screen SESSION PATTERN: polls the window every 10 ms (30 s at most).
until_screen() {
	i=0
	until $T capture-pane -p -t "$1" | grep -q -- "$2"; do
		i=$((i + 1))
		[ $i -gt 3000 ] && { echo "tui-bench: '$2' never showed" >&2; return 1; }
		sleep 0.01
	done
}

# keyed NAME PATTERN KEYS...: how long from the keys to the screen showing PATTERN.
keyed() {
	name=$1 pat=$2
	shift 2
	t0=$(now)
	$T send-keys -t sp "$@"
	until_screen sp "$pat" || return 1
	t1=$(now)
	lap "$name" "$t0" "$t1"
}

one_set() {
	rm -f "$dir/t" "$dir/ratio" "$dir/cpu" "$s"/*
	bench_pager 200 || return 1
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/pager" "$dir/touch.map" || return 1
	order="c u"
	r=0
	while [ "$r" -lt "$ROUNDS" ]; do
		rm -f "$s/mc" "$s/mu" "$dir/mu.pid"
		$PIN "$B/motrace" -c -o "$dir/c.log" --relay --listen "unix:$s/mc" --to "unix:$s/pager" &
		m1=$!
		$T new-session -d -s u -x 120 -y 40 \
			"echo \$\$ > $dir/mu.pid; exec $PIN $B/motrace --tui -c -o $dir/u.log --relay --listen unix:$s/mu --to unix:$s/pager"
		wait_sock "$s/mc" 200 && wait_sock "$s/mu" 200 || return 1
		mu=$(cat "$dir/mu.pid")
		c0=$(ticks $m1) u0=$(ticks "$mu")
		for w in $order; do
			timed "$w" $PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/m$w" "$dir/touch.map" || return 1
		done
		echo "cpu $(($(ticks $m1) - c0)) $(($(ticks "$mu") - u0))" >> "$dir/cpu"
		$T capture-pane -p -t u | grep -q "kernels 1" || { echo "tui-bench: the view did not show the kernel" >&2; return 1; }
		kill $m1 "$(cat "$dir/mu.pid")"
		wait $m1
		while $T has-session -t u 2> /dev/null; do sleep 0.05; done
		tail -n 2 "$dir/t" | awk '{ t[$1] = $2 } END { print t["c"] / t["u"] }' >> "$dir/ratio"
		order="${order#* } ${order%% *}"
		r=$((r + 1))
	done
	stop_all

	# scroll: SPARSE rows in the view
	rm -f "$s"/*
	$T new-session -d -s sp -x 120 -y 40 \
		"exec $PIN $B/motrace --tui --no-time -- $B/mo-filepager unix:$s/sparse $dir/sparse"
	wait_sock "$s/sparse" 200 || return 1
	$PIN "$B/mo-map" -q --size "$((SPARSE * 2))p" "unix:$s/sparse" "$dir/sparse.map" &
	pids="$pids $!"
	until_screen sp "pages $SPARSE " || return 1
	last=$((SPARSE * 2 - 2))
	mid=$(((SPARSE / 2) * 2))
	r=0
	while [ "$r" -lt "$ROUNDS" ]; do
		keyed end "^>$last " End || return 1
		keyed home "^>0 " Home || return 1
		keyed goto "^>$mid " p "$mid" Enter || return 1
		r=$((r + 1))
	done
	$T send-keys -t sp q
	stop_all
	$T kill-server 2> /dev/null

	# travel: a recording of TRAVEL messages or more, moved over
	rm -f "$s"/*
	bench_pager 200 || return 1
	$PIN "$B/motrace" -c -o /dev/null -w "$dir/rec.pcap" --relay --listen "unix:$s/mr" --to "unix:$s/pager" &
	m1=$!
	wait_sock "$s/mr" 200 || return 1
	$PIN "$B/mo-map" -q --size "${PAGES}p" "unix:$s/mr" "$dir/touch.map" || return 1
	kill $m1
	wait $m1
	stop_all
	one=$("$B/motrace" -r "$dir/rec.pcap" --no-time | grep -c "^k")
	"$B/bench/record-copy" "$dir/rec.pcap" "$dir/big.pcap" $(((TRAVEL + one - 1) / one)) || return 1
	total=$(((TRAVEL + one - 1) / one * one))
	t0=$(now)
	$T new-session -d -s tv -x 120 -y 40 "exec $PIN $B/motrace -r $dir/big.pcap --tui"
	until_screen tv "recording: message 0 of $total$" || return 1
	t1=$(now)
	lap scan "$t0" "$t1"
	r=0
	for n in $((total / 2)) 1000 $((total - 3)) $((total / 3 + 17)) 5 $((total * 2 / 3 + 999)) $((total / 7)) $((total - 1234)); do
		t0=$(now)
		$T send-keys -t tv g "$n" Enter
		until_screen tv "recording: message $n of" || return 1
		t1=$(now)
		lap jump "$t0" "$t1"
		t0=$(now)
		$T send-keys -t tv "["
		until_screen tv "recording: message $((n - 1)) of" || return 1
		t1=$(now)
		lap back1 "$t0" "$t1"
	done
	$T send-keys -t tv q
	$T kill-server 2> /dev/null

	c=$(awk '$1 == "c" { print $2 }' "$dir/t" | median)
	u=$(awk '$1 == "u" { print $2 }' "$dir/t" | median)
	x=$(median < "$dir/ratio")
	echo "== $1"
	echo "$PAGES $c $u $x $ROUNDS" | awk '{
		printf "faults/s: mo-map touch %sp, medians of %s rounds: motrace -c %.0f faults/s, motrace --tui -c (screen live) %.0f faults/s = %.2fx (target >= 0.95x)\n",
			$1, $5, $1 / $2, $1 / $3, $4
	}'
	awk -v p="$PAGES" -v r="$ROUNDS" -v hz="$(getconf CLK_TCK)" '{ c += $2; u += $3 } END {
		printf "cpu: motrace -c %.1f us a fault, motrace --tui -c %.1f us a fault (its own CPU time over all rounds; %.2fx)\n",
			c * 1e6 / hz / (p * r), u * 1e6 / hz / (p * r), c ? u / c : 0
	}' "$dir/cpu"
	awk '$1 == "scan" { print $2 }' "$dir/t" | awk -v n="$total" \
		'{ printf "travel: a recording of %d messages: first screen (the scan, a checkpoint each 1000 messages) in %.2f s\n", n, $1 }'
	for k in jump back1; do
		awk -v k=$k '$1 == k { print $2 }' "$dir/t" | median | awk -v k=$k \
			'{ printf "travel: %s shown in %.0f ms (median of 8; 10 ms polling)\n", k == "jump" ? "g N" : "[ after it", $1 * 1000 }'
	done
	for k in end home goto; do
		awk -v k=$k '$1 == k { print $2 }' "$dir/t" | median | awk -v k=$k -v n="$SPARSE" \
			'{ printf "scroll: %d rows, %s shown in %.0f ms (median; 10 ms polling)\n", n, k, $1 * 1000 }'
	done
}

two_sets "pager, both motraces, mo-map" "; tmux unpinned"
