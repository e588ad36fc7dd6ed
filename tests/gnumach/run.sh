#!/bin/sh
# tests/gnumach/run.sh: builds GNU Mach's own IPC tests (tests/test-*.c of
# its repository, unchanged) against the installed libmotrace-mach, with
# the stand-in here for their testlib and bootstrap, and runs each test
# function in a process of its own (standin.c).
#
#   tests/gnumach/run.sh SRC [WORK]
#
# SRC is a GNU Mach checkout or its (bare) git directory; WORK a folder
# for the staged install and the programs (default: a fresh one, removed
# afterwards). The library is installed there with `make install-mach
# DESTDIR=WORK/root` and found with pkg-config motrace-mach. Prints one
# line per function and a summary; exits 1 if a function expected to pass
# fails (EXPECTED below), 2 if the tests cannot be built.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$TOP/tests/gnumach"
SRC=${1:?usage: run.sh GNUMACH_SRC [WORK]}
WORK=${2:-}
CC=${CC:-cc}
MAKE=${MAKE:-make}

# What runs as on GNU Mach. The others need thread control the library
# does not have (mach/README.md, "Threads"): test_recv_interrupted and
# _setreturn (thread_suspend, thread_abort, thread_get_state), and
# test_fsgs_base (thread_set_state of the FS and GS bases).
EXPECTED="test_mach_port test_msg_string test_msg_string2 test_msg_ports
test_msg_emptydesc test_iterations test_many"

fail() { echo "gnumach-tests: $*" >&2; exit 2; }

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/gnumach-tests.XXXXXX") || exit 2
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/src" "$WORK/bin" || exit 2

# Their files, from a checkout or from git.
if [ -f "$SRC/tests/test-machmsg.c" ]; then
	cp "$SRC"/tests/test-mach_port.c "$SRC"/tests/test-machmsg.c \
	   "$SRC"/tests/test-threads.c "$WORK/src/" || fail "cannot copy the tests from $SRC"
elif git --git-dir="$SRC" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	git --git-dir="$SRC" archive HEAD tests/test-mach_port.c tests/test-machmsg.c \
	    tests/test-threads.c | tar -x -C "$WORK/src" --strip-components=1 ||
		fail "cannot read the tests from the git directory $SRC"
else
	fail "$SRC holds neither tests/test-machmsg.c nor a git repository with it"
fi

# The installed library: staged, then found as a user finds it.
ROOT="$WORK/root"
"$MAKE" -s -C "$TOP" install-mach DESTDIR="$ROOT" PREFIX=/usr/local LDCONFIG=true \
	>"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "make install-mach failed"; }
PKG_CONFIG_PATH="$ROOT/usr/local/lib/pkgconfig"
PKG_CONFIG_SYSROOT_DIR="$ROOT"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
CFLAGS_LIB=$(pkg-config --cflags motrace-mach) || fail "pkg-config motrace-mach failed"
LIBS_LIB=$(pkg-config --libs motrace-mach) || fail "pkg-config motrace-mach failed"
LIBDIR="$ROOT/usr/local/lib"

INC="-I$HERE/include $CFLAGS_LIB"
B="$WORK/bin"
# shellcheck disable=SC2086
$CC -O2 -g -Wall -Wextra -Wno-unused-parameter $INC -fPIC -shared \
	-o "$B/libgnumach-standin-missing.so" "$HERE/standin-missing.c" $LIBS_LIB -lpthread ||
	fail "cannot build the stand-in's missing calls"
# shellcheck disable=SC2086
$CC -O2 -g -Wall -Wextra -Wno-unused-parameter $INC -c -o "$B/standin.o" "$HERE/standin.c" ||
	fail "cannot build the stand-in"
for t in test-mach_port test-machmsg test-threads; do
	# Their code as it is: its warnings are not ours; main is the runner's.
	# shellcheck disable=SC2086
	$CC -O2 -g -w -Dmain=gnumach_test_main $INC -c -o "$B/$t.o" "$WORK/src/$t.c" \
		>"$B/$t.log" 2>&1 || { cat "$B/$t.log" >&2; fail "cannot build $t.c"; }
	# The library first: the stand-in's answers only for what it lacks.
	# shellcheck disable=SC2086
	$CC -rdynamic -o "$B/$t" "$B/$t.o" "$B/standin.o" $LIBS_LIB \
		-Wl,--no-as-needed -L"$B" -lgnumach-standin-missing -lpthread \
		-Wl,-rpath,"$LIBDIR" -Wl,-rpath,"$B" || fail "cannot link $t"
done

rc=0
summary=
run() {
	prog=$1; shift
	"$B/$prog" "$@" >"$B/$prog.out" 2>"$B/$prog.err"
	sed 's/^/  /' "$B/$prog.err"
	grep -E '^(ok|not ok|gnumach-test-failure)' "$B/$prog.out" |
		sed "s/^\(not ok\|ok\) /\1 $prog: /"
	pass=$(grep -c '^ok ' "$B/$prog.out")
	summary="$summary
gnumach-tests: $prog: $pass of $# functions pass"
	for f in "$@"; do
		case " $(echo $EXPECTED) " in *" $f "*) ;; *) continue ;; esac
		grep -q "^ok $f:" "$B/$prog.out" || rc=1
	done
}
run test-mach_port test_mach_port
run test-machmsg test_msg_string test_msg_string2 test_msg_ports \
	test_msg_emptydesc test_iterations test_recv_interrupted \
	test_recv_interrupted_setreturn
run test-threads test_fsgs_base test_many
echo "$summary" | sed 1d
[ $rc = 0 ] && echo "gnumach-tests: every function expected to pass passes" ||
	echo "gnumach-tests: a function expected to pass failed"
exit $rc
