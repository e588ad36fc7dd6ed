# tests/lib-kernels.sh: many mo-map kernels at once against mo-coherent's
# counters at $ADDR; sourced after lib.sh and tests/kernel/lib.sh.

# kernels N REPEAT [MS]: N mo-map processes add to mo-coherent's counters
# REPEAT times each, MS (3) ms apart; NAME.rc files once each is done.
kernels() {
	printf "repeat $2\nadd 0 1\nadd 8 2\nadd 1p 1\nsleep ${3:-3}\nend\n" > "$TRASH/inc"
	rm -f "$TRASH"/c*.rc
	i=1
	while [ $i -le $1 ]; do
		{ rc=0; timeout 60 "$B/mo-map" -q --size 4p "$ADDR" "$TRASH/inc" > "$TRASH/c$i.out" 2>&1 || rc=$?; echo $rc > "$TRASH/c$i.rc"; } &
		i=$((i + 1))
	done
}

# all_done N: every one of the N mo-map processes ended with 0.
all_done() {
	i=1
	while [ $i -le $1 ]; do
		wait_until 60 test -s "$TRASH/c$i.rc" || return 1
		test "$(cat "$TRASH/c$i.rc")" = 0 || { cat "$TRASH/c$i.out"; return 1; }
		i=$((i + 1))
	done
}

# totals N: the counters after N kernels' REPEAT additions.
totals() {
	printf "expect 0 $1\nexpect 8 $(($1 * 2))\nexpect 1p $1\n" | run_map --size 4p "$ADDR" -
}
