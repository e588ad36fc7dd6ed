#!/bin/sh
# tests/hurd/hurd-trial.sh: the Hurd's libihash, libports and libpager,
# unmodified, built on Linux against the installed libmotrace-mach, with
# a pager of ours on top (hurdpager.c), traced by motrace.
#
#   tests/hurd/hurd-trial.sh build HURD_SRC WORK   builds WORK/hurdpager
#   tests/hurd/hurd-trial.sh run WORK              traces it (see run_trial)
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
	step "make install" make -s -C "$TOP" B="$B" install-mach \
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

case $1 in
build)
	[ $# = 3 ] || die "usage: hurd-trial.sh build HURD_SRC WORK"
	build_trial "$2" "$3"
	;;
*)
	die "usage: hurd-trial.sh build HURD_SRC WORK | run WORK"
	;;
esac
