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

start_pager() {
	name=$1
	shift
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
