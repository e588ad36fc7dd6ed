#!/bin/sh
# A recording's ABI field chooses the profile its messages are read in
# (doc/recording.md: byte 14 of a record's header): x86_64-2023 messages,
# as a current x86_64 Hurd sends them, read back with motrace -r and
# motrace check and by tshark with the bundled dissector.
. "$(dirname "$0")/lib.sh"
H=tests/golden/x86_64-2023.hex

# mkrec ABI DIR:HEX...: a recording (doc/recording.md) of one session
# record and a message event per argument, kernel 1, object 1; DIR is 0
# (kernel to manager) or 1, with "o" after it for one out-of-line region
# whose bytes were not kept.
cat > "$TRASH/mkrec.pl" <<'PERL'
my $abi = shift;
binmode STDOUT;
print pack("VvvVVVV", 0xa1b23c4d, 2, 4, 0, 0, 262144, 147);
sub rec {
	my ($type, $ev, $dir, $msg, $nool, $pl) = @_;
	my $r = "MOTR" . pack("CCvVCCCCVVQ<Q<VVVVQ<", 1, $type, 64, $ev, 0,
		$dir, $abi, 0, 1, 1, 1000 * $ev, 0, length($msg), $nool,
		length($pl), 0, 1000 * $ev) . $pl;
	print pack("VVVV", 1, $ev, length($r), length($r)), $r;
}
rec(0, 0, 0, "", 0, "motrace 1\ncommand mkrec\nrealtime-base 0\n");
my $n = 0;
for (@ARGV) {
	my ($dir, $hex) = split /:/;
	my $m = join "", map { pack "V", hex } split " ", $hex;
	my $nool = $dir =~ s/o$// ? 1 : 0;
	$n++;
	rec(1, $n, $dir, $m, $nool, $m . ($nool ? pack("Q<VV", 4096, 0, 0) : ""));
}
PERL

msg() {
	grep -A1 "^# $1" $H | tail -n 1
}

test_expect_success 'a recording whose ABI field says x86_64-2023 reads back in that layout' '
	perl "$TRASH/mkrec.pl" 3 "0:$(msg memory_object_init:)" \
		"0:$(msg memory_object_data_request:)" \
		"1o:$(msg memory_object_data_supply)" > "$TRASH/2023.pcap" &&
	"$MOTRACE" -r "$TRASH/2023.pcap" > "$TRASH/2023.log" &&
	cat > "$TRASH/want" <<-\WANT &&
	k1> memory_object_init(obj=6, ctl=8, name=9, page_size=0x1000)
	k1> memory_object_data_request(obj=6, ctl=8, offset=0x3000 [page 3], length=0x1000, desired_access=VM_PROT_READ)
	k1< memory_object_data_supply(ctl=8, offset=0x3000 [page 3], data=0x7f0000300000 [4096 bytes, out-of-line, dealloc], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=12)
	WANT
	grep "^k" "$TRASH/2023.log" > "$TRASH/got" &&
	test_cmp "$TRASH/want" "$TRASH/got" &&
	"$MOTRACE" check "$TRASH/2023.pcap" > "$TRASH/2023.check" &&
	grep -F "0 diagnostic(s)" "$TRASH/2023.check"
'
test_expect_success 'tshark with the dissector walks the 2023 layout and a protected payload' '
	LUA="$B/share/motrace/motrace.lua" &&
	perl "$TRASH/mkrec.pl" 3 "0:$(msg memory_object_data_request:)" \
		"0:$(grep "^80001700" $H)" "1o:$(msg memory_object_data_supply)" > "$TRASH/ts.pcap" &&
	tshark -X lua_script:"$LUA" -r "$TRASH/ts.pcap" -Y "motrace.type == 1" \
		-T fields -e motrace.name -e motrace.offset -e motrace.desired_access \
		> "$TRASH/ts.fields" 2> "$TRASH/ts.err" &&
	printf "%s\t%s\t%s\n" memory_object_data_request 12288 1 \
		memory_object_data_request 12288 1 memory_object_data_supply 12288 "" > "$TRASH/ts.want" &&
	test_cmp "$TRASH/ts.want" "$TRASH/ts.fields" &&
	tshark -X lua_script:"$LUA" -r "$TRASH/ts.pcap" > "$TRASH/ts.lines" 2>> "$TRASH/ts.err" &&
	grep -F "k1> memory_object_data_request(obj=0x7f0012345678 [protected payload], ctl=8, offset=0x3000 [page 3], length=0x1000, desired_access=VM_PROT_READ)" "$TRASH/ts.lines" &&
	grep -F "k1< memory_object_data_supply(ctl=8, offset=0x3000 [page 3], data=[4096 bytes], lock_value=VM_PROT_WRITE, precious=FALSE, reply_to=12)" "$TRASH/ts.lines"
'
test_expect_success 'the same bytes under the x86_64 field are read as x86_64 and named malformed' '
	perl "$TRASH/mkrec.pl" 0 "0:$(msg memory_object_init:)" > "$TRASH/as64.pcap" &&
	{ "$MOTRACE" -r "$TRASH/as64.pcap" > "$TRASH/as64.log" 2> "$TRASH/as64.err"; test $? = 1; } &&
	grep -F "record 2 at byte 224: message: message ends at byte 80 (msgh_size): expected 8-byte out-of-line pointer" "$TRASH/as64.err"
'
test_expect_success 'replay, which plays to our own x86_64 processes, refuses an x86_64-2023 recording by name' '
	{ "$MOTRACE" replay "$TRASH/2023.pcap" --to "unix:$TRASH/nosock" 2> "$TRASH/replay.err"; test $? = 2; } &&
	grep -F "record 2: replay plays x86_64 messages, this one is x86_64-2023" "$TRASH/replay.err"
'
test_expect_success 'an ABI field past the known profiles is named' '
	perl "$TRASH/mkrec.pl" 4 "0:$(msg memory_object_init:)" > "$TRASH/abi4.pcap" &&
	{ "$MOTRACE" -r "$TRASH/abi4.pcap" > /dev/null 2> "$TRASH/abi4.err"; test $? != 0; } &&
	grep -F "record 2 at byte 174: unknown ABI profile 4" "$TRASH/abi4.err"
'
test_done
