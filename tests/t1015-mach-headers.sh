#!/bin/sh
# The installed headers declare what glibc's do on the Hurd, and the
# shared library exports every function and variable they declare:
# gcc -aux-info lists each prototype of the installed headers, nm the
# library's dynamic symbols. A Hurd-style source (libpager's own static
# mig_reply_setup, the glibc and GNU Mach calls libports and libpager
# make) compiles with -Werror and links against the staged install.
. "$(dirname "$0")/lib.sh"
ST="$TRASH/stage"
INC="$ST/usr/include"
SO="$ST/usr/lib/libmotrace-mach.so.1"

test_expect_success 'staged install' '
	make -s install-mach B="$B" DESTDIR="$ST" PREFIX=/usr LIBDIR=/usr/lib \
		INCDIR=/usr/include LDCONFIG=true >/dev/null &&
	test -e "$INC/mach_init.h" && test -e "$INC/mach/mach_host.h"
'

test_expect_success 'every function and variable the headers declare is exported' '
	for h in $(cd "$INC" && ls *.h mach/*.h); do echo "#include <$h>"; done > "$TRASH/all.c" &&
	cc -D_GNU_SOURCE -I"$INC" -aux-info "$TRASH/aux" -fsyntax-only "$TRASH/all.c" &&
	grep -F "/* $INC/" "$TRASH/aux" | grep -v "static" |
		sed -e "s/ *(.*//" -e "s/.* \\**//" | sort -u > "$TRASH/declared" &&
	cat "$INC"/*.h "$INC"/mach/*.h | sed -n "s/^extern [^(]* \\**\\([A-Za-z_][A-Za-z0-9_]*\\);.*/\\1/p" \
		>> "$TRASH/declared" &&
	test "$(wc -l < "$TRASH/declared")" -gt 50 &&
	nm -D --defined-only "$SO" | awk "{ print \$3 }" | sort -u > "$TRASH/exported" &&
	sort -u "$TRASH/declared" | comm -23 - "$TRASH/exported" > "$TRASH/missing" &&
	{ test ! -s "$TRASH/missing" || { echo "declared, not exported:"; cat "$TRASH/missing"; false; }; }
'

test_expect_success 'the calls libports and libpager make are declared and exported' '
	for f in vm_page_size __vm_page_size mach_msg_server mach_msg_server_timeout \
		mach_msg_destroy mach_port_get_receive_status mach_port_set_protected_payload \
		mach_port_clear_protected_payload mach_thread_self thread_switch \
		thread_get_assignment host_processor_set_priv thread_priority thread_max_priority; do
		grep -qx "$f" "$TRASH/declared" || { echo "$f not declared"; exit 1; }
		grep -qx "$f" "$TRASH/exported" || { echo "$f not exported"; exit 1; }
	done
'

test_expect_success '<mach/mig_support.h> declares no mig_reply_setup, as glibc' '
	! grep -q "mig_reply_setup *(" "$INC/mach/mig_support.h" &&
	! grep -qx mig_reply_setup "$TRASH/declared"
'

cat > "$TRASH/hurdish.c" <<'EOF2'
/* As libpager's demuxer.c and libports' manage-multithread.c use them. */
#include <mach.h>
#include <mach/mig_support.h>
#include <mach/mig_errors.h>
#include <mach/thread_switch.h>

static void mig_reply_setup(const mach_msg_header_t *in, mach_msg_header_t *out)
{
	out->msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(in->msgh_bits), 0);
	out->msgh_remote_port = in->msgh_remote_port;
	out->msgh_id = in->msgh_id + 100;
}

static boolean_t demux(mach_msg_header_t *in, mach_msg_header_t *out)
{
	mig_reply_setup(in, out);
	((mig_reply_header_t *)out)->RetCode = MIG_BAD_ID;
	return FALSE;
}

int main(void)
{
	mach_port_t port, self, pset, priv;
	mach_port_status_t st;

	if (vm_page_size != __vm_page_size || round_page(1) != vm_page_size)
		return 1;
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port) ||
	    mach_port_get_receive_status(mach_task_self(), port, &st) ||
	    mach_port_set_protected_payload(mach_task_self(), port, 1) ||
	    mach_port_clear_protected_payload(mach_task_self(), port))
		return 1;
	self = mach_thread_self();
	thread_switch(MACH_PORT_NULL, SWITCH_OPTION_DEPRESS, 10);
	if (thread_get_assignment(self, &pset) ||
	    host_processor_set_priv(self, pset, &priv) != KERN_INVALID_ARGUMENT ||
	    thread_max_priority(self, pset, 0) != KERN_INVALID_ARGUMENT ||
	    thread_priority(self, 2, 0) != KERN_FAILURE)
		return 1;
	if (mach_msg_server_timeout(demux, 0, port, MACH_RCV_TIMEOUT, 0) != MACH_RCV_TIMED_OUT)
		return 1;
	mach_msg_return_t (*server)(boolean_t (*)(mach_msg_header_t *, mach_msg_header_t *),
				    mach_msg_size_t, mach_port_t) = mach_msg_server;

	mach_msg_destroy(&(mach_msg_header_t){ 0 });
	return server == 0;
}
EOF2

test_expect_success 'a Hurd-style source compiles with -Werror, links and runs' '
	PKG_CONFIG_PATH="$ST/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ST" \
		pkg-config --cflags --libs motrace-mach > "$TRASH/flags" &&
	cc -Wall -Wextra -Werror -Wno-unused-parameter -o "$TRASH/hurdish" "$TRASH/hurdish.c" \
		$(cat "$TRASH/flags") -Wl,-rpath,"$ST/usr/lib" &&
	timeout 10 "$TRASH/hurdish"
'

test_done
