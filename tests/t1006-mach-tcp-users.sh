#!/bin/sh
# t1006: loopback tcp: is for the user's own processes, as unix: is:
# without a shared secret, a peer of another uid is refused at either
# end; with one, the secret decides. Needs root, to be another user.
. "$(dirname "$0")/lib.sh"
TM="$B/tests/mach"
PROBE="$TM/wire-probe"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	test_skip 'other users on loopback tcp' 'needs root and setpriv'
	test_done
	exit 0
fi
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
# A folder nobody can use, for its side's files.
NB=$(mktemp -d "${TMPDIR:-/tmp}/motrace-nobody.XXXXXX")
chown 65534:65534 "$NB"
trap 'rm -rf "$TRASH" "$NB"' EXIT

# start_pager WHO ARGS...: mo-pager in the background (as nobody if WHO
# is nobody); $pager_pid, and $addr once it is published.
start_pager() {
	who=$1; shift
	rm -f "$NB/pager.out" "$NB/pager.err"
	if [ "$who" = nobody ]; then
		# setpriv itself, not the function: $! is then the pager's pid
		# (a function in the background is a subshell of its own).
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$TM/mo-pager" "$@" >"$NB/pager.out" 2>"$NB/pager.err" &
	else
		"$TM/mo-pager" "$@" >"$NB/pager.out" 2>"$NB/pager.err" &
	fi
	pager_pid=$!
	i=0
	while [ ! -s "$NB/pager.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	addr=$(head -n 1 "$NB/pager.out")
	test -n "$addr"
}

start_pager root tcp:127.0.0.1:0
test_expect_success "another user's peer is refused by a pager without a secret" '
	! as_nobody "$PROBE" "$addr" init 100 >"$TRASH/probe" 2>&1 &&
	cat "$TRASH/probe" &&
	grep "no hello and bootstrap" "$TRASH/probe" &&
	sleep 0.2 && cat "$NB/pager.err" &&
	grep "peer runs as uid 65534, not 0; refused" "$NB/pager.err" &&
	kill -0 $pager_pid
'

test_expect_success 'the pager still serves its own user' '
	timeout 20 "$TM/mo-kernel" "$addr" &&
	i=0 && while ! grep -q "done after 7 messages" "$NB/pager.out" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1)); done &&
	grep "done after 7 messages" "$NB/pager.out"
'

# Both ends check, and whichever is first refuses.
test_expect_success "a lookup refuses a publisher of another user" '
	start_pager nobody tcp:127.0.0.1:0 &&
	! timeout 10 "$TM/mo-kernel" "$addr" 2>"$TRASH/err" &&
	cat "$TRASH/err" &&
	sleep 0.2 && cat "$NB/pager.err" && {
		grep "peer runs as uid 65534, not 0; refused" "$TRASH/err" ||
		grep "peer runs as uid 0, not 65534; refused" "$NB/pager.err"
	}
	rc=$?; kill $pager_pid; wait $pager_pid; exit $rc
'

test_expect_success 'with a shared secret, the secret decides' '
	printf "shared-words\n" >"$TRASH/secret" && chmod 600 "$TRASH/secret" &&
	printf "shared-words\n" >"$NB/secret" && chown 65534 "$NB/secret" && chmod 600 "$NB/secret" &&
	start_pager root tcp:127.0.0.1:0 "$TRASH/secret" &&
	as_nobody timeout 20 "$TM/mo-kernel" "$addr" "$NB/secret" &&
	wait $pager_pid &&
	grep -q "done after 7 messages" "$NB/pager.out"
'
test_done
