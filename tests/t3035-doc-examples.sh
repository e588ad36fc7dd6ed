#!/bin/sh
# Every example of README.md and doc/motrace.1 runs as it is, pasted into
# a shell: each block of commands runs in a fresh sh -e, from a scratch
# folder that has the tree's examples/ and build/, with the programs on
# PATH and a private /tmp (its own tmpfs, mode 1777 as a real /tmp, so
# the examples' fixed /tmp paths meet no other test's). A block marked
# "not run: WHY" (README: an HTML comment line before it; man page: a
# '.\" not run: WHY' line before its .nf) is left out and listed; one
# marked "needs: gnumach" runs when qemu and GNU Mach are here. A block of
# "$ COMMAND" lines must print what follows each command.
#
# The examples use unix:/tmp/fp: libmotrace-mach's rule that a socket's
# directory be private refuses /tmp until branch mach relaxes it for a
# sticky directory; until then such a block is reported
# "not ok ... # TODO expected to pass once branch mach lands".
. "$(dirname "$0")/lib.sh"

if ! command -v unshare > /dev/null ||
   ! unshare -m --propagation private true 2> /dev/null; then
	test_skip 'the examples of README.md and doc/motrace.1' 'no private mount namespace (unshare -m, as root)'
	test_done
	exit
fi
have_gnumach=0
if command -v qemu-system-x86_64 > /dev/null 2>&1 && [ -x "$B/mo-gnumach" ] &&
   [ -r /boot/gnumach-1.8-486.gz ]; then
	have_gnumach=1
fi

BL="$TRASH/blocks"
mkdir -p "$BL"

# extract: writes BL/N.sh (the commands), BL/N.want (expected output of a
# "$ " block, else absent), BL/N.info ("SOURCE:LINE MARK").
awk -v dir="$BL" '
function flush() {
	if (n) {
		nb++
		f = dir "/" nb
		print src ":" start " " mark > (f ".info")
		for (i = 1; i <= n; i++) {
			l = lines[i]
			if (prompt && l ~ /^\$ /) {
				print substr(l, 3) > (f ".sh")
				cont = 1
			} else if (prompt && cont && l ~ /^[ \t]/) {
				print l > (f ".sh")
			} else if (prompt) {
				cont = 0
				print l > (f ".want")
			} else {
				print l > (f ".sh")
			}
		}
		close(f ".sh"); close(f ".want"); close(f ".info")
	}
	n = 0; mark = ""; prompt = 0
}
FNR == 1 { flush(); src = FILENAME; man = FILENAME ~ /\.1$/; prev = ""; inblock = 0 }
man && /^\.nf/ { inblock = 1; start = FNR; mark = pending; pending = ""; next }
man && /^\.fi/ { inblock = 0; flush(); next }
man && inblock && /^\.R[SE]/ { next }
man && inblock {
	l = $0
	gsub(/\\-/, "-", l); gsub(/\\e/, "\\", l)
	lines[++n] = l
	next
}
man && /^\.\\" (not run|needs):/ { pending = substr($0, 5); next }
man { if ($0 !~ /^\.PP/) pending = ""; next }
/^<!-- (not run|needs):.* -->$/ { pending = $0; sub(/^<!-- /, "", pending); sub(/ -->$/, "", pending); prev = "mark"; next }
/^    / && (prev == "" || prev == "mark" || n) {
	if (!n) { start = FNR; mark = (prev == "mark") ? pending : "" }
	l = substr($0, 5)
	if (!n && l ~ /^\$ /) prompt = 1
	lines[++n] = l
	prev = "code"
	next
}
{ if (n) flush(); pending = ""; prev = ($0 == "") ? "" : "text" }
END { flush() }
' README.md doc/motrace.1

WORK="$TRASH/work"
mkdir -p "$WORK"
# The tree and the build may themselves be under /tmp, which the private
# /tmp hides: the block sees them at /mnt (bound before the hiding, in the
# block's own mount namespace).
ln -s /mnt/examples "$WORK/examples"
ln -s /mnt/build "$WORK/build"

# runs BLOCK N: in a private /tmp, its own process group (whatever it left
# running is stopped afterwards); output in BL/N.out, status returned.
run_block() {
	cp "$BL/$1.sh" "$WORK/block.sh"
	# The folder is entered before the private /tmp hides it.
	unshare -m --propagation private sh -c '
		cd "$1" || exit 99
		mount -t tmpfs tmpfs /mnt && mkdir /mnt/build /mnt/examples &&
		mount --bind "$2" /mnt/build &&
		mount --bind "$3" /mnt/examples || exit 99
		mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 99
		PATH="/mnt/build:$PATH" setsid sh -c "timeout 300 sh -e ./block.sh; st=\$?; trap \"\" TERM; kill -TERM 0; exit \$st"
	' sh "$WORK" "$B" "$TOP/examples" > "$BL/$1.out" 2>&1
}

for info in $(ls "$BL"/*.info | sort -t/ -k1 -V); do
	n=$(basename "$info" .info)
	where=$(cut -d" " -f1 "$info")
	mark=$(cut -d" " -f2- "$info")
	first=$(head -n 1 "$BL/$n.sh")
	case "$mark" in
	"not run:"*)
		test_skip "$where: $first" "${mark#not run: }"
		continue ;;
	"needs: gnumach"*)
		if [ $have_gnumach = 0 ]; then
			test_skip "$where: $first" "qemu, GNU Mach or mo-gnumach missing"
			continue
		fi ;;
	esac
	if run_block "$n" && { [ ! -f "$BL/$n.want" ] || diff -u "$BL/$n.want" "$BL/$n.out"; }; then
		echo "ok $((test_count + 1)) - $where: $first"
		test_count=$((test_count + 1))
	else
		test_count=$((test_count + 1))
		if grep -q "must belong to uid" "$BL/$n.out"; then
			echo "not ok $test_count - $where: $first # TODO expected to pass once branch mach lands"
		else
			echo "not ok $test_count - $where: $first"
		fi
		sed 's/^/# /' "$BL/$n.sh" "$BL/$n.out" | tail -n 40
		test_failed=$((test_failed + 1))
	fi
done
test_done
