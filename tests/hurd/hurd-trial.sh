#!/bin/sh
# tests/hurd/hurd-trial.sh: the Hurd's libihash, libports and libpager,
# unmodified, built on Linux against the installed libmotrace-mach, with
# a pager of ours on top (hurdpager.c), traced by motrace.
#
#   tests/hurd/hurd-trial.sh build HURD_SRC WORK   builds WORK/hurdpager
#   tests/hurd/hurd-trial.sh run WORK              traces it (run_trial)
#   tests/hurd/hurd-trial.sh all HURD_SRC WORK     both
#
# HURD_SRC is a tree of the Hurd's sources (its libihash, libports,
# libpager, libshouldbeinlibc and hurd folders are read, never written).
# Everything built goes under WORK: the staged install (make install
# DESTDIR=WORK/stage), MIG's stubs, the three libraries, our shim and
# the pager. B names motrace's build folder (default build); MIG, CC
# as in the Makefile. Exits non-zero naming the step that failed.
set -e

TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B="$TOP/$B" ;; esac
MIG=${MIG:-x86_64-gnu-mig}
CC=${CC:-cc}
MACHINC=${MACHINC:-/usr/include/x86_64-linux-gnu}

die() {
	echo "hurd-trial: $*" >&2
	exit 1
}

# Each step's output goes to WORK/log; a failure shows its tail.
step() {
	what=$1
	shift
	if ! "$@" >> "$W/log" 2>&1; then
		tail -n 30 "$W/log" >&2
		die "$what failed (whole output: $W/log)"
	fi
}

# MIG's server side of DEFS, as the Hurd's Makeconf runs it (cpp with
# the library's mig-mutate.h, then migcom with its prefix).
mig_server() {
	defs=$1 name=$2 mutate=$3 prefix=$4 dir=$W/gen/$5
	mkdir -p "$dir"
	( cd "$dir" && $MIG -n -D__x86_64__ -DSERVERPREFIX=S_ -DHURD_SERVER=1 \
		-imacros "$mutate" -I"$H" -I"$MACHINC" -subrprefix __ \
		-prefix "$prefix" -sheader "${name}_S.h" -server "${name}Server.c" \
		"$defs" )
}

# compile LIB OUT SRC...: objects of one Hurd library, then its archive.
compile_lib() {
	lib=$1
	shift
	mkdir -p "$W/obj/$lib"
	objs=
	for src in "$@"; do
		o="$W/obj/$lib/$(basename "$src" .c).o"
		step "compiling $src" $CC -I"$W/gen/lib$lib" $HURD_CFLAGS -I"$H/lib$lib" -c -o "$o" "$src"
		objs="$objs $o"
	done
	rm -f "$W/lib$lib.a"
	step "archiving lib$lib.a" ar rcs "$W/lib$lib.a" $objs
}

# The sources the library's Makefile lists in SRCS, in its own folder.
lib_srcs() {
	awk '
		/^SRCS[ \t]*:?=/ { on = 1; sub(/^SRCS[ \t]*:?=/, "") }
		on { line = $0; cont = sub(/\\$/, "", line); printf "%s ", line; if (!cont) on = 0 }
	' "$H/$1/Makefile"
}

build_trial() {
	H=$(cd "$1" && pwd) || die "no Hurd sources at $1"
	W=$2
	for d in libihash libports libpager libshouldbeinlibc hurd; do
		[ -d "$H/$d" ] || die "$H has no $d folder"
	done
	mkdir -p "$W/gen" "$W/inc/hurd" "$W/obj"
	W=$(cd "$W" && pwd)
	: > "$W/log"

	# 1. The installed library, as a pager author gets it.
	step "make install" make -s -C "$TOP" B="$B" install \
		DESTDIR="$W/stage" PREFIX=/usr/local LDCONFIG=true
	PKG_CONFIG_PATH="$W/stage/usr/local/lib/pkgconfig"
	PKG_CONFIG_SYSROOT_DIR="$W/stage"
	export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
	MO_CFLAGS=$(pkg-config --cflags motrace-mach) || die "pkg-config motrace-mach failed"
	MO_LIBS=$(pkg-config --libs motrace-mach)

	# 2. Where a Hurd system installs the libraries' headers: links to
	# the sources, not copies. config.h: the Hurd's configure output,
	# of which libihash needs nothing.
	for f in libihash/ihash.h libports/ports.h libports/port-deref-deferred.h \
		 hurd/hurd_types.h; do
		ln -sf "$H/$f" "$W/inc/hurd/$(basename "$f")"
	done
	: > "$W/inc/config.h"

	# 3. MIG's stubs: libports serves notify.defs and the Hurd's
	# interrupt.defs, libpager memory_object.defs, each in a folder of its
	# own as in the Hurd's build tree (libpager includes
	# "libports/notify_S.h"); mach4.h (GNU Mach's
	# memory_object_create_proxy) for pager-ro-port.c.
	step "mig notify.defs" mig_server "$MACHINC/mach/notify.defs" notify \
		"$H/libports/mig-mutate.h" ports_ libports
	step "mig interrupt.defs" mig_server "$H/hurd/interrupt.defs" interrupt \
		"$H/libports/mig-mutate.h" ports_ libports
	step "mig memory_object.defs" mig_server "$MACHINC/mach/memory_object.defs" \
		memory_object "$H/libpager/mig-mutate.h" _pager_ libpager
	mkdir -p "$W/inc/mach"
	step "mig mach4.defs" sh -c "cd '$W/gen' && $MIG -n -D__x86_64__ -I'$MACHINC' \
		-user /dev/null -header '$W/inc/mach/mach4.h' '$MACHINC/mach/mach4.defs'"

	# 4. The libraries, unmodified, with the Hurd's own flags
	# (Makeconf: gnu99, gnu89 inline semantics).
	HURD_CFLAGS="-std=gnu99 -fgnu89-inline -O2 -g -Wall -Wno-unused -D_GNU_SOURCE \
		-DHAVE_CONFIG_H -I$W/gen -I$W/inc -I$TOP/tests/hurd/shim \
		-I$H/libshouldbeinlibc -I$H $MO_CFLAGS -I$MACHINC"
	compile_lib ihash $(for s in $(lib_srcs libihash); do echo "$H/libihash/$s"; done)
	compile_lib ports $(for s in $(lib_srcs libports); do echo "$H/libports/$s"; done) \
		"$W/gen/libports/notifyServer.c" "$W/gen/libports/interruptServer.c"
	compile_lib pager $(for s in $(lib_srcs libpager); do echo "$H/libpager/$s"; done) \
		"$W/gen/libpager/memory_objectServer.c"
	compile_lib shouldbeinlibc "$H/libshouldbeinlibc/assert-backtrace.c"

	# 5. Our shim and our pager. libports and libpager pass nested
	# functions' addresses (GCC's trampolines, on the stack): the
	# stacks are executable, as on the Hurd.
	step "compiling the shim" $CC $HURD_CFLAGS -c -o "$W/obj/shim.o" \
		"$TOP/tests/hurd/shim/shim.c"
	step "compiling hurdpager" $CC $HURD_CFLAGS -c -o "$W/obj/hurdpager.o" \
		"$TOP/tests/hurd/hurdpager.c"
	step "linking hurdpager" $CC -o "$W/hurdpager" "$W/obj/hurdpager.o" \
		"$W/libpager.a" "$W/libports.a" "$W/libihash.a" \
		"$W/libshouldbeinlibc.a" "$W/obj/shim.o" $MO_LIBS -lpthread \
		-Wl,-z,execstack -Wl,-rpath,"$W/stage/usr/local/lib"
	echo "hurd-trial: built $W/hurdpager"
}

# Until FILE has a line (10 s at most).
wait_line() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	test -s "$1"
}

# motrace --exit-when-idle -o LOG -- hurdpager ADDR FILE, with mo-map
# running tests/hurd/trial.map against ADDR: the kernel's reads, the
# written words back from FILE after an unmap and a new mapping, the
# file holding them, motrace's log with every message and 0 diagnostics.
run_trial() {
	W=$(cd "$1" && pwd) || die "no folder $1"
	R="$W/run"
	[ -x "$W/hurdpager" ] || die "no $W/hurdpager: build first"
	rm -rf "$R"
	mkdir -m 700 -p "$R/s"
	printf 'hello world\n' > "$R/file"
	truncate -s 64K "$R/file"
	ADDR="unix:$R/s/pager"
	{ st=0; timeout 60 "$B/motrace" --no-time --exit-when-idle -o "$R/log" \
		-- "$W/hurdpager" "$ADDR" "$R/file" > "$R/pager.out" 2> "$R/pager.err" \
		|| st=$?; echo $st > "$R/motrace.rc"; } &
	mt=$!
	wait_line "$R/pager.out" || { kill $mt 2>/dev/null; die "hurdpager did not publish $ADDR: $(cat "$R/pager.err")"; }
	if ! timeout 30 "$B/mo-map" "$ADDR" "$TOP/tests/hurd/trial.map" \
			> "$R/map.out" 2> "$R/map.err"; then
		kill $mt 2>/dev/null
		die "mo-map failed: $(cat "$R/map.err")"
	fi
	wait $mt
	rc=$(cat "$R/motrace.rc")
	[ "$rc" = 0 ] || die "motrace exited with status $rc: $(cat "$R/pager.err")"
	# The pager's end: libpager dropped the object (its summary line);
	# motrace names the exit when it saw it first (a failure is its own
	# exit status then), else the pager was seen closing its socket.
	grep -q "page(s) read" "$R/pager.err" ||
		die "libpager never dropped the object: $(cat "$R/pager.err")"
	! grep -q "hurdpager ended by signal\|hurdpager exited with status [1-9]" "$R/log" ||
		die "hurdpager failed ($R/log)"
	printf 'read 0 0x6f77206f6c6c6568\nread 0x1000 0\nread 0x3000 0\n' > "$R/map.want"
	cmp -s "$R/map.want" "$R/map.out" || die "mo-map read other data: $(cat "$R/map.out")"
	[ "$(dd if="$R/file" bs=1 skip=8 count=8 2>/dev/null)" = HGFEDCBA ] ||
		die "the written word is not in the file"
	[ "$(dd if="$R/file" bs=4096 skip=2 count=1 2>/dev/null | tr -d Z | wc -c)" = 0 ] ||
		die "the filled page is not in the file"
	for m in init ready data_request data_supply data_unlock lock_request \
		 data_return terminate; do
		grep -q "^k[01][<>] memory_object_$m(" "$R/log" || die "no memory_object_$m in $R/log"
	done
	grep -qx "0 diagnostic(s)" "$R/log" || die "motrace found diagnostics: $(grep -v "^k" "$R/log")"
	echo "hurd-trial: libpager served $(grep -c "data_request(" "$R/log") faults through motrace, 0 diagnostics ($R/log)"
}

case $1 in
build)
	[ $# = 3 ] || die "usage: hurd-trial.sh build HURD_SRC WORK"
	build_trial "$2" "$3"
	;;
run)
	[ $# = 2 ] || die "usage: hurd-trial.sh run WORK"
	run_trial "$2"
	;;
all)
	[ $# = 3 ] || die "usage: hurd-trial.sh all HURD_SRC WORK"
	build_trial "$2" "$3"
	run_trial "$3"
	;;
*)
	die "usage: hurd-trial.sh build HURD_SRC WORK | run WORK | all HURD_SRC WORK"
	;;
esac
