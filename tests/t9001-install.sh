#!/bin/sh
# make install honours PREFIX and DESTDIR; the man page renders cleanly and
# documents every option of every command.
. "$(dirname "$0")/lib.sh"

test_expect_success 'make install puts the program and the page under DESTDIR/PREFIX' '
	make -s install B="$B" DESTDIR="$TRASH/root" PREFIX=/opt/mt > /dev/null &&
	test -x "$TRASH/root/opt/mt/bin/motrace" &&
	test -f "$TRASH/root/opt/mt/share/man/man1/motrace.1" &&
	"$TRASH/root/opt/mt/bin/motrace" --version | grep -q "^motrace "
'
test_expect_success 'the man page renders without warnings' '
	groff -man -ww -z doc/motrace.1 2> "$TRASH/groff.err" &&
	! test -s "$TRASH/groff.err"
'
test_expect_success 'the man page names every option of every command' '
	{ "$MOTRACE" decode --help; "$MOTRACE" check --help; "$MOTRACE" trace --help; } | grep -o -- "--[a-z-]*" | sort -u > "$TRASH/opts" &&
	while read -r o; do
		grep -q -- "$(echo "$o" | sed "s/-/\\\\\\\\-/g")" doc/motrace.1 ||
			{ echo "$o is not in doc/motrace.1"; exit 1; }
	done < "$TRASH/opts"
'
test_done
