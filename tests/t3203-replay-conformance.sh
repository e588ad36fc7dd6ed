#!/bin/sh
# Conformance by recording: the workloads of tests/golden/recordings/ were
# recorded on the real GNU Mach kernel (regen there); motrace replays each
# recording's manager against the Linux-hosted kernel (mo-map running the
# same workload): 0 divergences and the same output as on GNU Mach. And
# each recording's kernel against a fresh mo-filepager: 0 divergences.
. "$(dirname "$0")/lib.sh"
R=tests/golden/recordings
S="$TRASH/s"
mkdir -m 700 "$S"

for map in $R/*.map; do
	name=$(basename "$map" .map)
	test_expect_success "$name: GNU Mach's manager played against mo-map: 0 divergences, GNU Mach's output" '
		rm -f "$S/r" &&
		{ "$MOTRACE" replay "$R/gnumach-'"$name"'.pcap" --listen "unix:$S/r" --timeout 5 \
			> "$TRASH/'"$name"'.rep" 2>&1 & echo $! > "$TRASH/rep.pid"; } &&
		wait_until 10 test -S "$S/r" &&
		timeout 30 "$B/mo-map" "unix:$S/r" "$R/'"$name"'.map" > "$TRASH/'"$name"'.out" &&
		wait "$(cat "$TRASH/rep.pid")" &&
		cat "$TRASH/'"$name"'.rep" &&
		grep -q ": 0 divergences$" "$TRASH/'"$name"'.rep" &&
		test_cmp "$R/'"$name"'.out" "$TRASH/'"$name"'.out"
	'
	test_expect_success "$name: GNU Mach's kernel played against mo-filepager: 0 divergences" '
		perl -e "print pack(q(Q<), \$_ * 8) for 0 .. 8191" > "$TRASH/file" &&
		rm -f "$S/fp" &&
		{ "$B/mo-filepager" "unix:$S/fp" "$TRASH/file" > /dev/null 2>&1 & echo $! > "$TRASH/fp.pid"; } &&
		wait_until 10 test -S "$S/fp" &&
		rc=0 && { "$MOTRACE" replay "$R/gnumach-'"$name"'.pcap" --to "unix:$S/fp" > "$TRASH/'"$name"'.rep2" || rc=$?; } &&
		kill "$(cat "$TRASH/fp.pid")" &&
		cat "$TRASH/'"$name"'.rep2" && test $rc = 0 &&
		grep -q ": 0 divergences$" "$TRASH/'"$name"'.rep2"
	'
done
test_done
