# tests/lib.sh: a small TAP library for tests/tNNNN-*.sh (after git's t/).
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it checks' '
#       first &&
#       second
#   '
# Chain the commands with && (as in git's tests): the body runs as an if
# condition, where set -e has no effect.
#   test_done
#
# Tests run from the top of the tree with $B (the build folder, default
# build) and $MOTRACE (the program) set; each gets a fresh $TRASH folder.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$TOP/$B" ;; esac
MOTRACE="$B/motrace"
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/motrace-test.XXXXXX")
trap 'rm -rf "$TRASH"' EXIT
export TZ=UTC LC_ALL=C NO_COLOR=1
cd "$TOP" || exit 1
test_count=0
test_failed=0

test_expect_success() {
	test_count=$((test_count + 1))
	out="$TRASH/.out.$test_count"
	if (set -e; eval "$2") >"$out" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		sed 's/^/# /' "$out" | tail -n 40
		test_failed=$((test_failed + 1))
	fi
}

test_expect_failure_status() {
	# test_expect_failure_status 'name' STATUS 'commands': the last command
	# must exit with STATUS.
	test_count=$((test_count + 1))
	out="$TRASH/.out.$test_count"
	(eval "$3") >"$out" 2>&1
	rc=$?
	if [ "$rc" = "$2" ]; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1 (exit $rc, expected $2)"
		sed 's/^/# /' "$out" | tail -n 40
		test_failed=$((test_failed + 1))
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - # SKIP $1: $2"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}

# Compares two files, showing the difference when they differ.
test_cmp() {
	diff -u "$1" "$2"
}

# wait_until SECONDS CMD...: runs CMD every 100 ms until it succeeds, or
# says what it waited for (and runs $WAIT_SHOW, when set, to show more)
# and fails after SECONDS.
WAIT_SHOW=
wait_until() {
	n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		[ $n -le 0 ] && { echo "timed out waiting for: $*"; $WAIT_SHOW; return 1; }
		sleep 0.1
	done
}
