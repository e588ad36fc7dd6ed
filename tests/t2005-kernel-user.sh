#!/bin/sh
# The kernel side works for an ordinary user: with
# vm.unprivileged_userfaultfd=0 it asks for user-mode faults only
# (UFFD_USER_MODE_ONLY), which is all it needs. Runs only as root (to
# become nobody with setpriv); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	test_skip 'mo-map and mo-filepager as nobody' 'needs root and setpriv'
	test_done
	exit
fi

if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$B/mo-map"; then
	test_skip 'mo-map and mo-filepager as nobody' "nobody cannot reach $B"
	test_done
	exit
fi

U=$(mktemp -d "${TMPDIR:-/tmp}/motrace-user.XXXXXX")
trap 'kill $(cat "$U/pid" 2>/dev/null) 2>/dev/null; rm -rf "$U" "$TRASH"' EXIT
chown nobody "$U"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

test_expect_success 'mo-map and mo-filepager as nobody' '
	as_nobody sh -c "printf hello > $U/f && truncate -s 16K $U/f && mkdir -m 700 $U/s" &&
	{ setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$B/mo-filepager" "unix:$U/s/p" "$U/f" & echo $! > "$U/pid"; } &&
	i=0 && until [ -S "$U/s/p" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done &&
	printf "expect 0 0x6f6c6c6568\nwrite 0 0x41\n" > "$U/sc" &&
	as_nobody timeout 20 "$B/mo-map" "unix:$U/s/p" "$U/sc" &&
	test "$(head -c 1 "$U/f")" = A
'

test_done
