#!/bin/sh
# Plugins: built out of tree with pkg-config motrace-plugin against the
# installed files; the loader refuses, by reason, what is not a plugin of
# this ABI (checked with libelf before dlopen); a plugin sees exactly the
# events the log shows; its verdict drops and rewrites live traffic (seen
# in the pager's file and the kernel's log); a failing plugin is unloaded
# and tracing goes on; the bundled timeline and hotpages.
. "$(dirname "$0")/lib.sh"
S="$TRASH/s"
mkdir -m 700 "$S"
P="$TRASH/p"
mkdir -m 755 "$P"
ROOT="$TRASH/root"

cat > "$TRASH/w.map" <<'MAP'
read 0
write 0 0x1122334455667788
read 1p
write 2p 0x0badcafe0badcafe
read 3p
unmap
MAP

# session NAME MOTRACE-OPTIONS...: the workload through motrace in front of
# a fresh mo-filepager; the log in NAME.log, the kernel's in NAME.klog,
# the file in NAME.data.
session() {
	name=$1
	shift
	head -c 65536 /dev/zero > "$TRASH/$name.data"
	rm -f "$S/fp"
	timeout 60 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/$name.log" "$@" \
		-- "$B/mo-filepager" "unix:$S/fp" "$TRASH/$name.data" > "$TRASH/$name.out" 2> "$TRASH/$name.err" &
	mt=$!
	wait_until 10 test -S "$S/fp" &&
	timeout 30 "$B/mo-map" --log "$TRASH/$name.klog" "unix:$S/fp" "$TRASH/w.map" > /dev/null &&
	wait $mt
}

test_expect_success 'a plugin builds out of tree with pkg-config motrace-plugin against the installed files' '
	make -s install B="$B" DESTDIR="$ROOT" PREFIX=/opt/mt > /dev/null &&
	test -f "$ROOT/opt/mt/include/motrace-plugin.h" &&
	test -f "$ROOT/opt/mt/lib/motrace/plugins/timeline.so" &&
	flags=$(PKG_CONFIG_PATH="$ROOT/opt/mt/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT" \
		pkg-config --cflags motrace-plugin) &&
	cc $flags -Wall -Werror -shared -fPIC -o "$P/probe.so" tests/plugins/probe.c &&
	cc $flags -shared -fPIC -DPROBE_ABI=99 -o "$P/abi99.so" tests/plugins/probe.c &&
	cc $flags -shared -fPIC -DPROBE_NO_REGISTER -o "$P/noreg.so" tests/plugins/probe.c &&
	cc $flags -c -fPIC -o "$P/probe.o" tests/plugins/probe.c &&
	cc $flags -o "$P/exe" -x c - <<-\EOF
	int main(void) { return 0; }
	EOF
'

# refused FILE TEXT: loading FILE fails, naming TEXT, with status 2.
refused() {
	rc=0
	"$MOTRACE" check --plugin "$1" /dev/null > /dev/null 2> "$TRASH/refused.err" || rc=$?
	cat "$TRASH/refused.err"
	test $rc = 2 && grep -q -- "$2" "$TRASH/refused.err"
}

test_expect_success 'the loader refuses, by reason: not ELF, 32-bit, another machine, not shared, no register, another ABI' '
	echo "not a plugin" > "$P/text.so" &&
	refused "$P/text.so" "text.so is not an ELF file" &&
	cp "$P/probe.so" "$P/class.so" && printf "\\001" | dd of="$P/class.so" bs=1 seek=4 conv=notrunc 2> /dev/null &&
	refused "$P/class.so" "class.so is a 32-bit object, motrace is 64-bit" &&
	cp "$P/probe.so" "$P/arm.so" && printf "\\267\\000" | dd of="$P/arm.so" bs=1 seek=18 conv=notrunc 2> /dev/null &&
	refused "$P/arm.so" "arm.so is for another machine (e_machine 183" &&
	refused "$P/probe.o" "probe.o is not a shared object" &&
	refused "$P/noreg.so" "noreg.so exports no motrace_plugin_register function" &&
	refused "$P/abi99.so" "abi99.so wants plugin ABI 99, this motrace has 1" &&
	refused "$P/none.so" "none.so: No such file" &&
	refused nosuchplugin "no plugin .nosuchplugin."
'

test_expect_success 'the loader refuses a plugin, or its folder, that others may write' '
	cp "$P/probe.so" "$P/open.so" && chmod o+w "$P/open.so" &&
	refused "$P/open.so" "file $P/open.so is writable by others (mode 0757)" &&
	mkdir -m 777 "$TRASH/open" && chmod 777 "$TRASH/open" && cp "$P/probe.so" "$TRASH/open/p.so" &&
	refused "$TRASH/open/p.so" "folder $TRASH/open is writable by others (mode 0777)"
'

test_expect_success 'a plugin sees exactly the events the log shows, in order' '
	session see --plugin "$P/probe.so=$TRASH/see.events" &&
	grep "^k[0-9]*[<>] " "$TRASH/see.log" | sed "s/data=0x[0-9a-f]* \\[/data=* [/" > "$TRASH/see.want" &&
	test_cmp "$TRASH/see.want" "$TRASH/see.events"
'

test_expect_success 'its verdict drops live traffic: no data_return reaches the pager, whose file stays empty' '
	session keep &&
	od -A n -t x1 -N 8 "$TRASH/keep.data" | grep -q "88 77 66 55 44 33 22 11" &&
	session drop --plugin "$P/probe.so=$TRASH/drop.events,drop=data_return" &&
	grep -q "^k0> memory_object_data_return(.*\\[dropped\\]$" "$TRASH/drop.log" &&
	cmp "$TRASH/drop.data" /dev/zero 2>&1 | grep -q "EOF on /dev/zero\\|EOF on $TRASH/drop.data"
'

test_expect_success 'the rewrite plugin changes what the kernel gets: a write fault supplied read-only needs an unlock' '
	test "$(grep -c "^k0> memory_object_data_unlock(" "$TRASH/keep.log")" = 1 &&
	session rw --plugin "$B/plugins/rewrite.so=read" &&
	grep -q "^k0< memory_object_data_supply(.*offset=0x2000 .*lock_value=VM_PROT_WRITE" "$TRASH/rw.klog" &&
	grep -q "^  !! rewritten: data_supply of offset 0x2000: lock_value 0x0 made 0x2$" "$TRASH/rw.log" &&
	test "$(grep -c "^k0> memory_object_data_unlock(" "$TRASH/rw.log")" = 2 &&
	grep -q "^rewrite: [0-9]* data_supply rewritten$" "$TRASH/rw.log" &&
	od -A n -t x1 -j 8192 -N 8 "$TRASH/rw.data" | grep -q "fe ca ad 0b fe ca ad 0b"
'

test_expect_success 'a failing plugin is said and unloaded; tracing goes on to the end' '
	session fail --plugin "$P/probe.so=$TRASH/fail.events,fail=3" &&
	grep -q "^+++ plugin probe: event: failing at event 3, as asked; unloaded +++$" "$TRASH/fail.log" &&
	test "$(wc -l < "$TRASH/fail.events")" = 2 &&
	grep -q "^k0> memory_object_terminate(" "$TRASH/fail.log" &&
	grep -q "^0 diagnostic(s)$" "$TRASH/fail.log"
'

test_expect_success 'timeline: valid trace-event JSON, one slice per answered request' '
	session tl -c --plugin "$B/plugins/timeline.so=$TRASH/tl.json" &&
	jq -e ".traceEvents | length > 0" "$TRASH/tl.json" > /dev/null &&
	slices=$(jq "[.traceEvents[] | select(.ph == \"X\")] | length" "$TRASH/tl.json") &&
	answered=$(awk "\$3 ~ /^[0-9]+\$/ && NF == 8 { n += \$3 } END { print n }" "$TRASH/tl.log") &&
	echo "slices $slices, answered $answered" &&
	test "$slices" = "$answered" && test "$slices" -gt 0 &&
	jq -e "[.traceEvents[] | select(.ph == \"M\" and .name == \"thread_name\") | .args.name] | index(\"kernel 0\") != null" "$TRASH/tl.json" > /dev/null
'

test_expect_success 'hotpages at the end, on its command, and plugins by name from MOTRACE_PLUGIN_PATH' '
	MOTRACE_PLUGIN_PATH="$ROOT/opt/mt/lib/motrace/plugins" session hp --plugin hotpages=2 \
		-ex "expect terminate" -ex "hotpages 1" -ex "plugin list" &&
	cat "$TRASH/hp.log" "$TRASH/hp.out" > "$TRASH/hp.all" &&
	grep -q "^hotpages *.*the pages with the most faults" "$TRASH/hp.all" &&
	test "$(grep -c "^hot pages (per kernel" "$TRASH/hp.all")" = 2 &&
	test "$(grep -c "^k0 *0 *0 *1 *1 " "$TRASH/hp.all")" = 2
'
test_done
