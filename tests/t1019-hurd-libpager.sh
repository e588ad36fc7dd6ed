#!/bin/sh
# slow
# The Hurd's libpager, libports and libihash, unmodified, built against
# the installed libmotrace-mach (tests/hurd/hurd-trial.sh), with a pager
# of ours on libpager: mo-map's read, write and unmap faults are served
# through motrace, the data comes back, and the log has 0 diagnostics.
# The Hurd's sources: $HURD_SRC, else the mirror at $HURD_MIRROR (a bare
# git folder, default /work/.mirror/joshumax+hurd/repo); without either
# the test is skipped.
. "$(dirname "$0")/lib.sh"
HURD_MIRROR=${HURD_MIRROR:-/work/.mirror/joshumax+hurd/repo}
HURD_SRC=${HURD_SRC:-}

if [ -z "$HURD_SRC" ] && [ -d "$HURD_MIRROR" ]; then
	HURD_SRC="$TRASH/hurd-src"
	mkdir -p "$HURD_SRC" &&
	git --git-dir="$HURD_MIRROR" archive HEAD libpager libports libihash \
		libshouldbeinlibc hurd include | tar -x -C "$HURD_SRC" ||
		HURD_SRC=
fi
if [ -z "$HURD_SRC" ] || [ ! -d "$HURD_SRC/libpager" ]; then
	test_skip 'the Hurd trial' 'no Hurd sources (set HURD_SRC to a Hurd tree, or HURD_MIRROR to a bare git copy of it)'
	test_done
	exit
fi
if ! command -v pkg-config >/dev/null; then
	test_skip 'the Hurd trial' 'no pkg-config'
	test_done
	exit
fi

test_expect_success 'libihash, libports and libpager build unmodified against the installed library' '
	touch "$TRASH/before" && sleep 1 &&
	tests/hurd/hurd-trial.sh build "$HURD_SRC" "$TRASH/w" > "$TRASH/build.out" &&
	test -x "$TRASH/w/hurdpager" &&
	for l in ihash ports pager; do test -s "$TRASH/w/lib$l.a" || exit 1; done &&
	! grep "^$HURD_SRC" "$TRASH/w/log" | grep -v "mach_print" | grep -q "error\|warning"
'

test_expect_success 'the Hurd sources are left as they were' '
	test -z "$(find "$HURD_SRC" -newer "$TRASH/before" -type f | head -n 1)"
'

test_expect_success 'the libpager pager serves faults through motrace, data intact, 0 diagnostics' '
	tests/hurd/hurd-trial.sh run "$TRASH/w" > "$TRASH/run.out" &&
	grep -q "0 diagnostics" "$TRASH/run.out"
'

test_expect_success 'the log shows the write upgrade and the pages returned at unmap' '
	L="$TRASH/w/run/log" &&
	grep -q "^k0> memory_object_data_unlock(.*offset=0x0 " "$L" &&
	grep -q "^k0> memory_object_data_return(.*offset=0x0 " "$L" &&
	grep -q "^k0> memory_object_data_return(.*offset=0x2000 " "$L" &&
	grep -q "^k1> memory_object_init(" "$L" &&
	grep -q "^k1> memory_object_terminate(" "$L" &&
	grep -q "2 written, 2 unlock(s)" "$TRASH/w/run/pager.err"
'

test_done
