#!/bin/sh
# slow
# The proxy under load: 64 mo-map kernels at once against one mo-filepager
# through motrace. Kernel N maps its own 64 pages (offset N*64 pages),
# reads each page, then fills it with the byte N+1 (a write-unlock cycle
# a page), waits 2 s and exits (data_return a page, terminate): 8192
# faults and about 21000 messages in all. When every kernel is ready and
# a quarter of the writes are done, the pager is asked to clean
# (SIGUSR1): a lock_request with a reply port to each kernel, crossing
# their faults, answered by data_returns and lock_completed. Every kernel logs what it sent and received (mo-map
# --log); motrace logs what passed. For every kernel the two sides must
# agree message for message, in order, per direction.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
NK=64
NP=64

# Test bodies run in subshells: the pids of what outlives one are kept in
# $TRASH/*.pid for the next and for the cleanup.
cleanup() {
	for f in "$TRASH"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	for f in "$TRASH"/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$TRASH"
}
trap cleanup EXIT
mkdir -m 700 "$S"

# norm: a log's message lines (motrace's or mo-map's) as
# "KERNEL DIR MESSAGE": port names, which differ between processes, become
# P (0 stays 0, MACH_PORT_NULL) and out-of-line addresses (motrace prints
# *) become *.
norm() {
	awk '/^k[0-9]+[<>] / {
		k = substr($1, 2, length($1) - 2)
		d = substr($1, length($1), 1) == ">" ? "out" : "in"
		line = substr($0, length($1) + 2)
		gsub(/(obj|ctl|name|reply_to|reply)=[1-9][0-9]*/, "&=", line)
		gsub(/=[1-9][0-9]*=/, "=P", line)
		gsub(/data=(0x[0-9a-f]+|\*) \[/, "data=* [", line)
		print k, d, line
	}' "$@"
}

# logged N NAME: motrace has logged N messages NAME; logged_min: N or more.
logged() {
	test "$(grep -c "^k[0-9]*[<>] memory_object_$2(" "$TRASH/mt.log")" = "$1"
}
logged_min() {
	test "$(grep -c "^k[0-9]*[<>] memory_object_$2(" "$TRASH/mt.log")" -ge "$1"
}

# totals FILE: "DIR NAME COUNT" per message name and direction of a
# normalised log, with the cleaning lock_request (should_return
# RETURN_DIRTY) counted apart from the grants as lock_request/clean.
totals() {
	awk '{ n = $3; sub(/\(.*/, "", n)
	       if (n == "memory_object_lock_request" && $0 ~ /RETURN_DIRTY/) n = n "/clean"
	       c[$2 " " n]++ }
	     END { for (k in c) print k, c[k] }' "$1" | sort
}

test_expect_success "$NK kernels fault $((NK * NP * 2)) times through motrace, all exit 0" '
	truncate -s $((NK * NP * 4096)) "$TRASH/file" &&
	{ "$B/mo-filepager" "unix:$S/pager" "$TRASH/file" 2> "$TRASH/pager.err" &
	  echo $! > "$TRASH/pager.pid"; } &&
	{ sleep 110 & echo $! > "$TRASH/dog.pid"; wait; kill "$(cat "$TRASH/pager.pid")"; } > /dev/null 2>&1 &
	echo $! > "$TRASH/dogshell.pid" &&
	wait_until 5 test -S "$S/pager" &&
	{ timeout 100 "$MOTRACE" --no-time -o "$TRASH/mt.log" -w "$TRASH/mt.pcap" \
		--listen "unix:$S/mt" --to "unix:$S/pager" > "$TRASH/mt.out" 2> "$TRASH/mt.err" &
	  echo $! > "$TRASH/mt.pid"; wait $!; echo $? > "$TRASH/mt.rc"; } &
	wait_until 5 test -S "$S/mt" &&
	n=0 && maps= &&
	while [ $n -lt $NK ]; do
		printf "touch 0 %sp read\nfill 0 %sp %s\nsleep 2000\n" $NP $NP $((n + 1)) > "$TRASH/k$n.map" &&
		{ timeout -k 5 60 "$B/mo-map" -q --kernel-id $n --log "$TRASH/k$n.log" \
			--offset $((n * NP))p --size ${NP}p "unix:$S/mt" "$TRASH/k$n.map" \
			> "$TRASH/k$n.out" 2>&1; echo $? > "$TRASH/k$n.rc"; } &
		maps="$maps $!" && n=$((n + 1))
	done &&
	wait_until 30 logged $NK ready &&
	wait_until 30 logged_min $((NK * NP / 4)) data_unlock &&
	{ logged 0 terminate || { echo "a kernel ended before the clean"; exit 1; }; } &&
	kill -USR1 "$(cat "$TRASH/pager.pid")" &&
	for p in $maps; do wait $p; done &&
	n=0 &&
	while [ $n -lt $NK ]; do
		test "$(cat "$TRASH/k$n.rc")" = 0 ||
			{ echo "mo-map $n exited $(cat "$TRASH/k$n.rc")"; cat "$TRASH/k$n.out"; exit 1; }
		n=$((n + 1))
	done
'

# The clean's lock_request (RETURN_DIRTY, VM_PROT_NO_CHANGE, the whole
# object) crosses data_unlocks that are then answered: no diagnostic.
test_expect_success 'motrace logs every terminate, stops on SIGTERM, diagnoses nothing' '
	wait_until 30 logged $NK terminate &&
	kill "$(cat "$TRASH/mt.pid")" &&
	wait_until 10 test -s "$TRASH/mt.rc" &&
	test "$(cat "$TRASH/mt.rc")" = 0 &&
	grep -q "^+++ stopped by signal 15 +++" "$TRASH/mt.log" &&
	! grep "^  !! " "$TRASH/mt.log" &&
	grep -q "^0 diagnostic(s)$" "$TRASH/mt.log"
'

test_expect_success 'every kernel logged exactly its expected messages' '
	norm "$TRASH"/k*.log > "$TRASH/kernels.norm" &&
	totals "$TRASH/kernels.norm" > "$TRASH/kernels.totals" &&
	awk "\$2 != \"memory_object_data_return\"" "$TRASH/kernels.totals" > "$TRASH/kernels.exact" &&
	cat > "$TRASH/expected.totals" <<-EOF &&
	in memory_object_data_supply $((NK * NP))
	in memory_object_lock_request $((NK * NP))
	in memory_object_lock_request/clean $NK
	in memory_object_ready $NK
	out memory_object_data_request $((NK * NP))
	out memory_object_data_unlock $((NK * NP))
	out memory_object_init $NK
	out memory_object_lock_completed $NK
	out memory_object_terminate $NK
	EOF
	test_cmp "$TRASH/expected.totals" "$TRASH/kernels.exact" &&
	pages=$(awk "\$3 ~ /^memory_object_data_return\\(/ {
		match(\$0, /\\[[0-9]+ bytes/); b += substr(\$0, RSTART + 1, RLENGTH - 7) }
		END { print b / 4096 }" "$TRASH/kernels.norm") &&
	echo "pages returned: $pages" &&
	test "$pages" -ge $((NK * NP))
'

test_expect_success 'motrace logged the same totals per message and direction' '
	norm "$TRASH/mt.log" > "$TRASH/mt.norm" &&
	totals "$TRASH/mt.norm" > "$TRASH/mt.totals" &&
	test_cmp "$TRASH/kernels.totals" "$TRASH/mt.totals"
'

# motrace numbers kernels as their inits arrive; mo-map N is the kernel
# whose first data_request is for page N*NP, its first page.
test_expect_success "per kernel and direction, motrace's sequence is the kernel's, message for message" '
	awk -v np=$NP "
		\$3 ~ /^memory_object_data_request\\(/ && !(\$1 in who) {
			match(\$0, /\\[page [0-9]+\\]/)
			who[\$1] = int(substr(\$0, RSTART + 6, RLENGTH - 7) / np)
		}
		END { for (k in who) print k, who[k] }" "$TRASH/mt.norm" | sort -n > "$TRASH/mt.who" &&
	test "$(wc -l < "$TRASH/mt.who")" = $NK &&
	test "$(cut -d" " -f2 "$TRASH/mt.who" | sort -u | wc -l)" = $NK &&
	bad=0 &&
	while read -r mk n; do
		for d in out in; do
			awk -v k=$mk -v d=$d "\$1 == k && \$2 == d { \$1 = \"\"; print }" "$TRASH/mt.norm" > "$TRASH/m.$n.$d" &&
			norm "$TRASH/k$n.log" | awk -v k=$n -v d=$d "\$1 == k && \$2 == d { \$1 = \"\"; print }" > "$TRASH/k.$n.$d"
			test -s "$TRASH/k.$n.$d" && cmp -s "$TRASH/k.$n.$d" "$TRASH/m.$n.$d" ||
				{ echo "kernel $n (motrace k$mk), $d:"; diff "$TRASH/k.$n.$d" "$TRASH/m.$n.$d" | head -n 10; bad=$((bad + 1)); }
		done
	done < "$TRASH/mt.who" &&
	test $bad = 0
'

test_expect_success 'the recording of the whole run reads back as the same log' '
	"$MOTRACE" -r "$TRASH/mt.pcap" --no-time > "$TRASH/mt.replay" &&
	test_cmp "$TRASH/mt.log" "$TRASH/mt.replay"
'

test_expect_success 'every kernel'\''s bytes reached the file, and nothing else did' '
	n=0 &&
	while [ $n -lt $NK ]; do
		head -c $((NP * 4096)) /dev/zero | tr "\\000" "\\$(printf %03o $((n + 1)))"
		n=$((n + 1))
	done > "$TRASH/expected.file" &&
	wait_until 10 cmp -s "$TRASH/expected.file" "$TRASH/file"
'
test_done
