# tests/kernel/lib.sh: helpers for the kernel and pager tests (t2*),
# sourced after tests/lib.sh.
#
#   start_pager NAME ARGS...   runs $B/NAME at unix:$TRASH/s/NAME in the
#                              background (stderr in $TRASH/NAME.err) and
#                              waits for its socket; $ADDR is the address
#   stop_pager NAME            SIGTERM, then waits (at most 5 s); its pid
#                              is in $TRASH/NAME.pid while it runs
#   run_map ARGS...            timeout 20 $B/mo-map ARGS...
#   norm LOG                   the log, normalised (normalise.awk)
#   wait_for CMD...            runs CMD every 50 ms until it succeeds (5 s)
#   slow_write_map FILE        writes to FILE an mo-map script of 100 steps
#                              of 20 pages filled with 0x5a and 20 ms: a
#                              2000-page write that lasts seconds, time
#                              to end a motrace in its middle

slow_write_map() {
	: > "$1"
	i=0
	while [ $i -lt 100 ]; do
		echo "fill $((i * 20))p 20p 0x5a" >> "$1"
		echo "sleep 20" >> "$1"
		i=$((i + 1))
	done
}

start_pager() {
	name=$1
	shift
	# One of a name at a time: a test that failed half-way left its own.
	stop_pager "$name"
	ADDR="unix:$TRASH/s/$name"
	rm -f "$TRASH/s/$name"
	"$B/$name" "$ADDR" "$@" 2>"$TRASH/$name.err" &
	echo $! > "$TRASH/$name.pid"
	# A watchdog, so that no pager outlives a broken test for long.
	{ sleep 120; kill "$(cat "$TRASH/$name.pid" 2>/dev/null)" 2>/dev/null; } >/dev/null 2>&1 &
	echo $! > "$TRASH/$name.dog"
	wait_for test -S "$TRASH/s/$name"
}

stop_pager() {
	[ -f "$TRASH/$1.pid" ] || return 0
	pid=$(cat "$TRASH/$1.pid")
	rm -f "$TRASH/$1.pid"
	[ -f "$TRASH/$1.dog" ] && kill "$(cat "$TRASH/$1.dog")" 2>/dev/null
	rm -f "$TRASH/$1.dog"
	kill "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

stop_all_pagers() {
	for p in "$TRASH"/*.pid; do
		[ -f "$p" ] && stop_pager "$(basename "$p" .pid)"
	done
	return 0
}

run_map() {
	timeout 20 "$B/mo-map" "$@"
}

norm() {
	awk -f "$TOP/tests/kernel/normalise.awk" "$1"
}

wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -ge 100 ] && { echo "timed out waiting for: $*"; return 1; }
		sleep 0.05
	done
}

trap 'stop_all_pagers; rm -rf "$TRASH"' EXIT
mkdir -m 700 "$TRASH/s"

# run_rule NAME: mo-testpager with tests/kernel/rules/NAME.rules against
# mo-map with NAME.map (and the options in NAME.opts); when NAME.hang
# exists mo-map must still be waiting after 1.5 s. The normalised log is
# left in $TRASH/NAME.log.
run_rule() {
	r="$TOP/tests/kernel/rules/$1"
	ADDR="unix:$TRASH/s/tp"
	rm -f "$TRASH/s/tp"
	"$B/tests/kernel/mo-testpager" "$ADDR" "$r.rules" 2>"$TRASH/tp.err" &
	echo $! > "$TRASH/tp.pid"
	wait_for test -S "$TRASH/s/tp" || return 1
	opts=
	[ -f "$r.opts" ] && opts=$(cat "$r.opts")
	if [ -f "$r.hang" ]; then
		timeout -s TERM 1.5 "$B/mo-map" $opts --log "$TRASH/$1.raw" "$ADDR" "$r.map" > "$TRASH/$1.out" 2>&1
		rc=$?
		[ "$rc" = 124 ] || { echo "mo-map ended with $rc, expected a hang"; cat "$TRASH/$1.out"; stop_pager tp; return 1; }
	else
		run_map $opts --log "$TRASH/$1.raw" "$ADDR" "$r.map" > "$TRASH/$1.out" 2>&1 ||
			{ cat "$TRASH/$1.out"; stop_pager tp; return 1; }
	fi
	stop_pager tp
	norm "$TRASH/$1.raw" > "$TRASH/$1.log"
}
