#!/bin/sh
# Conformance by recording, afresh: each workload of tests/golden/recordings/
# recorded on the real GNU Mach kernel now (mo-gnumach under qemu, through
# motrace -w), then its manager replayed against the Linux-hosted kernel:
# 0 divergences. (t3203 does the same from the kept recordings, without qemu.)
. "$(dirname "$0")/lib.sh"
R=tests/golden/recordings
S="$TRASH/s"
mkdir -m 700 "$S"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$B/mo-gnumach" ] ||
   [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'recording GNU Mach' 'qemu, the kernel or mo-gnumach missing'
	test_done
	exit
fi

for map in $R/*.map; do
	name=$(basename "$map" .map)
	test_expect_success "$name: recorded on GNU Mach now, replayed against mo-map: 0 divergences" '
		perl -e "print pack(q(Q<), \$_ * 8) for 0 .. 8191" > "$TRASH/file" &&
		rm -f "$S/fp" "$S/r" &&
		{ timeout 120 "$MOTRACE" --exit-when-idle -o /dev/null -w "$TRASH/'"$name"'.pcap" \
			-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/file" & echo $! > "$TRASH/mt.pid"; } &&
		wait_until 10 test -S "$S/fp" &&
		timeout 120 "$B/mo-gnumach" --timeout 60 "unix:$S/fp" "$map" > "$TRASH/'"$name"'.gm" &&
		wait "$(cat "$TRASH/mt.pid")" &&
		{ "$MOTRACE" replay "$TRASH/'"$name"'.pcap" --listen "unix:$S/r" > "$TRASH/'"$name"'.rep" 2>&1 &
		  echo $! > "$TRASH/rep.pid"; } &&
		wait_until 10 test -S "$S/r" &&
		timeout 30 "$B/mo-map" "unix:$S/r" "$map" > "$TRASH/'"$name"'.out" &&
		wait "$(cat "$TRASH/rep.pid")" &&
		cat "$TRASH/'"$name"'.rep" &&
		grep -q ": 0 divergences$" "$TRASH/'"$name"'.rep" &&
		test_cmp "$TRASH/'"$name"'.gm" "$TRASH/'"$name"'.out"
	'
done
test_done
