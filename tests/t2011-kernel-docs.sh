#!/bin/sh
# The pager author's documents: every man page under doc/ has the same
# header form; mo-map.1 renders cleanly and names every option; the
# documents cite only what the project ships (doc/protocol.md, not the
# unshipped PROTOCOL.md), and make install installs them.
. "$(dirname "$0")/lib.sh"

test_expect_success 'every man page under doc/ has one .TH form' '
	ls doc/*.[1-9] > "$TRASH/pages" &&
	test "$(wc -l < "$TRASH/pages")" -ge 2 &&
	for p in $(cat "$TRASH/pages"); do
		name=$(basename "$p" | sed "s/\\.[1-9]\$//" | tr a-z A-Z) &&
		sect=${p##*.} &&
		grep "^\\.TH " "$p" > "$TRASH/th" &&
		test "$(wc -l < "$TRASH/th")" = 1 &&
		grep -qx ".TH $name $sect \"[0-9]*\" \"motrace [0-9.]*\" \"User Commands\"" "$TRASH/th" ||
			{ echo "$p: $(cat "$TRASH/th")"; exit 1; }
		cut -d" " -f4- "$TRASH/th" >> "$TRASH/tails"
	done &&
	test "$(sort -u "$TRASH/tails" | wc -l)" = 1
'

test_expect_success 'mo-map.1 renders without warnings and names every option' '
	groff -man -ww -z doc/mo-map.1 2> "$TRASH/groff.err" &&
	! test -s "$TRASH/groff.err" &&
	"$B/mo-map" --help | grep -o -- "--[a-z-]*" | sort -u > "$TRASH/opts" &&
	test -s "$TRASH/opts" &&
	while read -r o; do
		grep -q -- "$(echo "$o" | sed "s/-/\\\\\\\\-/g")" doc/mo-map.1 ||
			{ echo "$o is not in doc/mo-map.1"; exit 1; }
	done < "$TRASH/opts"
'

test_expect_success 'the pager documents cite shipped files only' '
	! grep -n "PROTOCOL\\.md" doc/pager-howto.md doc/pagers.md doc/protocol.md \
		doc/workload.md doc/mo-map.1 kernel/README.md pagers/README.md &&
	grep -q "doc/protocol.md" doc/pager-howto.md &&
	grep -q "doc/protocol.md" doc/pagers.md &&
	for f in $(grep -oh "doc/[a-z-]*\\.md\\|tests/t[0-9]*\\|pagers/[a-z-]*\\.c" \
			doc/pager-howto.md doc/pagers.md doc/protocol.md | sort -u); do
		ls -d $f* > /dev/null 2>&1 || { echo "$f is cited but not there"; exit 1; }
	done
'

test_expect_success 'protocol.md: rule 4 says what GNU Mach does with a busy page' '
	grep -q "A requested page is skipped at once: lock_request does not wait" doc/protocol.md &&
	! grep -q "lock_request waits for its data" doc/protocol.md &&
	grep -q "MIG_EOPNOTSUPP=MIG_BAD_ID" doc/protocol.md doc/pager-howto.md doc/pagers.md &&
	! grep -n -- "-DMIG_EOPNOTSUPP\([^=]\|$\)" doc/pager-howto.md doc/pagers.md | grep -v "bare"
'

test_expect_success 'make install installs the documents and mo-map.1' '
	make -s install B="$B" DESTDIR="$TRASH/root" PREFIX=/usr > /dev/null &&
	for f in pager-howto.md protocol.md pagers.md; do
		test -f "$TRASH/root/usr/share/doc/motrace/$f" || { echo "no $f"; exit 1; }
	done &&
	test -f "$TRASH/root/usr/share/man/man1/mo-map.1"
'

test_done
