#!/bin/sh
# t1900: make install-mach gives a library, headers and a pkg-config file
# with which doc/pager-howto.md's example builds from MIG's output alone
# and runs: the howto's own Install (staged), Build and Run commands, as
# written there. A real install (no DESTDIR) runs ldconfig.
. "$(dirname "$0")/lib.sh"
ROOT="$TRASH/home/stage"
EX="$TRASH/ex"
HOWTO=doc/pager-howto.md

# Writes each ```c block of the howto that starts with "/* NAME.c" to NAME.c.
extract_examples() {
	awk -v dir="$1" '
		/^```c$/ { inblock = 1; file = ""; next }
		/^```$/ { if (file) close(file); inblock = 0; file = ""; next }
		inblock && file == "" && match($0, /^\/\* [a-z-]+\.c/) {
			file = dir "/" substr($0, 4, RLENGTH - 3)
		}
		inblock && file { print > file }
	' "$HOWTO"
}

# The first ```sh block after the line matching START.
sh_block() {
	awk -v start="$1" '
		$0 ~ start { found = 1 }
		found && /^```sh$/ { inblock = 1; next }
		inblock && /^```$/ { exit }
		inblock { print }
	' "$HOWTO"
}

# The block after "Run": its "$ " lines as a script ($TRASH/run.sh; a
# line ending in & is followed by a wait for the first output, as a
# reader waits for "pager at"), the other lines as the output expected
# ($TRASH/run.want, /home/me being $HOME).
run_block() {
	awk -v out="$TRASH/run.out" -v want="$TRASH/run.want" -v home="$HOME" '
		/^Run/ { found = 1 }
		found && /^```$/ { if (inblock) exit; inblock = 1; next }
		inblock && /^\$ / {
			cmd = substr($0, 3)
			print cmd
			if (cmd ~ /&$/)
				print "n=0; until [ -s \"" out "\" ] || [ $n -ge 200 ]; do sleep 0.05; n=$((n + 1)); done"
			next
		}
		inblock { gsub("/home/me", home); print > want }
	' "$HOWTO" > "$TRASH/run.sh"
}

printf '#!/bin/sh\necho "$@" >> "%s/ldconfig.calls"\n' "$TRASH" > "$TRASH/ldconfig" &&
chmod +x "$TRASH/ldconfig"

test_expect_success 'make install-mach with DESTDIR: library, headers, .pc; no ldconfig' '
	make -s install-mach B="$B" DESTDIR="$ROOT" PREFIX=/usr LIBDIR=/usr/lib \
		INCDIR=/usr/include LDCONFIG="$TRASH/ldconfig" >/dev/null &&
	for f in usr/lib/libmotrace-mach.a usr/lib/libmotrace-mach.so.1 \
		usr/lib/libmotrace-mach.so usr/include/mach.h \
		usr/include/mach/mig_support.h usr/include/mach/mach_interface.h \
		usr/include/mach/motrace.h usr/lib/pkgconfig/motrace-mach.pc; do
		test -e "$ROOT/$f" || { echo "missing $f"; false; }
	done &&
	test ! -e "$TRASH/ldconfig.calls"
'

test_expect_success 'make install-mach without DESTDIR runs ldconfig' '
	make -s install-mach B="$B" PREFIX="$TRASH/pfx" LDCONFIG="$TRASH/ldconfig" >/dev/null &&
	test -e "$TRASH/pfx/lib/libmotrace-mach.so.1" &&
	test -e "$TRASH/ldconfig.calls" &&
	test "$(wc -l < "$TRASH/ldconfig.calls")" = 1
'

test_expect_success 'the howto: staged Install, Build and Run, as written' '
	mkdir -p "$EX" && extract_examples "$EX" &&
	test -s "$EX/hello-pager.c" && test -s "$EX/hello-kernel.c" &&
	sh_block "^## Install" > "$TRASH/install.sh" &&
	grep -q "make install DESTDIR=" "$TRASH/install.sh" &&
	sh_block "^## Build" > "$TRASH/build.sh" &&
	grep -q MIG_EOPNOTSUPP=MIG_BAD_ID "$TRASH/build.sh" &&
	HOME="$TRASH/home" run_block &&
	test -s "$TRASH/run.sh" && test -s "$TRASH/run.want" &&
	(export HOME="$TRASH/home" B="$B" &&
	 . "$TRASH/install.sh" > "$TRASH/install.out" &&
	 cd "$EX" && sh -e "$TRASH/build.sh" &&
	 timeout 30 bash "$TRASH/run.sh" > "$TRASH/run.out" 2>&1) &&
	cat "$TRASH/run.out" &&
	test_cmp "$TRASH/run.want" "$TRASH/run.out" &&
	test ! -e "$TRASH/home/.motrace/hello"
'

test_expect_success 'the statically linked pager too (no libmotrace-mach.so in it)' '
	(cd "$EX" &&
	 PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_LIBDIR="$ROOT/usr/lib/pkgconfig" &&
	 export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR &&
	 cc -o hello-pager-static hello-pager.c memory_objectServer.o \
		$(pkg-config --cflags motrace-mach) "$ROOT/usr/lib/libmotrace-mach.a" -lpthread) &&
	sed "s|hello-pager |hello-pager-static |" "$TRASH/run.sh" > "$TRASH/run-static.sh" &&
	rm -f "$TRASH/run.out" &&
	(export HOME="$TRASH/home" LD_LIBRARY_PATH="$ROOT/usr/lib" &&
	 cd "$EX" && timeout 30 bash "$TRASH/run-static.sh" > "$TRASH/run.out" 2>&1) &&
	grep -q "status 0" "$TRASH/run.out" &&
	! ldd "$EX/hello-pager-static" | grep motrace
'

test_done
