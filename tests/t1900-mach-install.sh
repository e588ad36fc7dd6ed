#!/bin/sh
# t1900: make install-mach gives a library, headers and a pkg-config file
# with which doc/pager-howto.md's example builds from MIG's output alone
# and runs.
. "$(dirname "$0")/lib.sh"
ROOT="$TRASH/root"
EX="$TRASH/ex"

# Writes each ```c block of the howto that starts with "/* NAME.c" to NAME.c.
extract_examples() {
	awk -v dir="$1" '
		/^```c$/ { inblock = 1; file = ""; next }
		/^```$/ { if (file) close(file); inblock = 0; file = ""; next }
		inblock && file == "" && match($0, /^\/\* [a-z-]+\.c/) {
			file = dir "/" substr($0, 4, RLENGTH - 3)
		}
		inblock && file { print > file }
	' doc/pager-howto.md
}

pc() {
	PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_LIBDIR="$ROOT/usr/lib/pkgconfig" \
		pkg-config "$@" motrace-mach
}

test_expect_success 'make install-mach installs the library, headers and .pc' '
	make -s install-mach B="$B" DESTDIR="$ROOT" PREFIX=/usr LIBDIR=/usr/lib \
		INCDIR=/usr/include >/dev/null &&
	for f in usr/lib/libmotrace-mach.a usr/lib/libmotrace-mach.so.1 \
		usr/lib/libmotrace-mach.so usr/include/mach.h \
		usr/include/mach/mig_support.h usr/include/mach/mach_interface.h \
		usr/include/mach/motrace.h usr/lib/pkgconfig/motrace-mach.pc; do
		test -e "$ROOT/$f" || { echo "missing $f"; false; }
	done &&
	pc --cflags --libs
'

test_expect_success 'the howto example builds from MIG output with pkg-config' '
	mkdir -p "$EX" && extract_examples "$EX" &&
	test -s "$EX/hello-pager.c" && test -s "$EX/hello-kernel.c" &&
	(cd "$EX" &&
	 x86_64-gnu-mig -D__x86_64__ /usr/include/x86_64-linux-gnu/mach/memory_object.defs &&
	 cc -Wall -o hello-pager hello-pager.c memory_objectServer.c $(pc --cflags --libs) &&
	 cc -Wall -o hello-kernel hello-kernel.c memory_objectUser.c $(pc --cflags --libs) &&
	 cc -o hello-pager-static hello-pager.c memory_objectServer.c \
		$(pc --cflags) "$ROOT/usr/lib/libmotrace-mach.a" -lpthread)
'

run_example() {
	LD_LIBRARY_PATH="$ROOT/usr/lib"
	export LD_LIBRARY_PATH
	rm -f "$TRASH/pager.out"
	timeout 20 "$EX/$1" "unix:$TRASH/run/hello" >"$TRASH/pager.out" &
	pid=$!
	i=0 &&
	while [ ! -s "$TRASH/pager.out" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	timeout 20 "$EX/hello-kernel" "unix:$TRASH/run/hello" >"$TRASH/kernel.out" &&
	wait $pid &&
	cat "$TRASH/pager.out" "$TRASH/kernel.out" &&
	grep "page at offset 8192: hello from the pager, offset 8192" "$TRASH/kernel.out"
}

test_expect_success 'the example pager and kernel talk (shared library)' '
	run_example hello-pager
'

test_expect_success 'the statically linked pager too' '
	run_example hello-pager-static
'

test_done
