#!/bin/sh
# Conformance: the same workload, served by the same pager (mo-filepager
# over mach/), through the Linux-hosted kernel (mo-map) and through the
# real GNU Mach kernel (mo-gnumach) gives the same message sequence up to
# port names and addresses, the same script output and the same file
# (DESIGN.md: the real kernel is the referee). Not compared: add and
# touch ... write, whose locked read-modify-write faults under TCG as a
# read, then a write (qemu loads first), where the Linux-hosted kernel
# sees one write fault (guest/README.md).
. "$(dirname "$0")/lib.sh"

GNUMACH="$B/mo-gnumach"
MAP="$B/mo-map"
FILEPAGER="$B/mo-filepager"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -x "$GNUMACH" ] ||
   [ ! -x "$MAP" ] || [ ! -x "$FILEPAGER" ] || [ ! -r /boot/gnumach-1.8-486.gz ]; then
	test_skip 'conformance' 'qemu, the kernel, mo-gnumach, mo-map or mo-filepager missing'
	test_done
	exit
fi

# What may differ: the kernel id, port names, out-of-line addresses and
# whether the data arrived with its deallocate bit.
cat > "$TRASH/norm.sed" <<-\EOF
	s/^k[0-9]*\([<>]\) /\1 /
	s/obj=[0-9]*, //
	s/ctl=[0-9]*, //
	s/ctl=[0-9]*)/)/
	s/name=[0-9]*\(, \)\{0,1\}//
	s/data=0x[0-9a-f]* \[\([0-9]* bytes\), out-of-line[^]]*\]/data=[\1]/
	s/reply_to=[0-9]*/reply_to=R/
	/^[<>]/!d
	EOF

# both NAME < SCRIPT: runs SCRIPT with each kernel against its own fresh
# file pager; leaves NAME.{map,gnumach}.{norm,out} and the files.
both() {
	cat > "$TRASH/$1.script"
	for k in map gnumach; do
		perl -e 'print pack("Q<", $_ * 8) for 0 .. 8191' > "$TRASH/$1.$k.file"
		"$FILEPAGER" "unix:$TRASH/$1.$k.sock" "$TRASH/$1.$k.file" > /dev/null 2>&1 &
		pager=$!
		i=0
		while [ ! -S "$TRASH/$1.$k.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if [ $k = map ]; then
			timeout 60 "$MAP" --log "$TRASH/$1.$k.log" "unix:$TRASH/$1.$k.sock" \
				"$TRASH/$1.script" > "$TRASH/$1.$k.out"
		else
			timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/$1.console" \
				--log "$TRASH/$1.$k.log" "unix:$TRASH/$1.$k.sock" \
				"$TRASH/$1.script" > "$TRASH/$1.$k.out"
		fi
		rc=$?
		kill $pager 2>/dev/null
		wait $pager 2>/dev/null
		[ $rc = 0 ] || return 1
		sed -f "$TRASH/norm.sed" "$TRASH/$1.$k.log" > "$TRASH/$1.$k.norm"
	done
	test_cmp "$TRASH/$1.map.norm" "$TRASH/$1.gnumach.norm" &&
	test_cmp "$TRASH/$1.map.out" "$TRASH/$1.gnumach.out" &&
	cmp "$TRASH/$1.map.file" "$TRASH/$1.gnumach.file"
}

test_expect_success 'reads, writes, an unlock and the returns at unmap' '
	both rw <<-\EOF
	read 0
	write 1p 5
	expect 1p 5
	read 2p
	write 2p 7
	unmap
	EOF
'

test_expect_success 'fill, check, touch over ranges' '
	both ranges <<-\EOF
	fill 0 3p 0x11
	check 0 3p 0x11
	read 5p
	touch 8p 4p
	fill 9p 2p 0x22
	unmap
	EOF
'

test_expect_success 'repeats on one page, then the far end of the object' '
	both repeat <<-\EOF
	repeat 3
	read 0
	write 0 1
	end
	read 15p
	unmap
	EOF
'

# memory_object_terminate moves the kernel's send right to the object
# (memory_object.defs: MACH_MSG_TYPE_MOVE_SEND), so the second init needs
# a right of its own, as vm_object_enter takes one per object.
test_expect_success 'map after unmap: a second init to the same pager, the data back' '
	both remap <<-\EOF
	write 0 0x1111
	unmap
	map
	expect 0 0x1111
	EOF
'

# Each message to the object it concerns: obj= names it, a message to the
# kernel its control port, which that object's init gave (P1... then
# names each object's ports in order of appearance).
cat > "$TRASH/split.awk" <<-\EOF
	/^k[0-9]*[<>] / {
		o = ""
		if (match($0, /obj=[0-9]+/))
			o = substr($0, RSTART + 4, RLENGTH - 4)
		if (match($0, /ctl=[0-9]+/)) {
			c = substr($0, RSTART + 4, RLENGTH - 4)
			if (o != "" && /memory_object_init/)
				obj[c] = o
			else if (o == "")
				o = obj[c]
		}
		if (!(o in n))
			n[o] = ++objects
		print > (prefix n[o])
	}
	EOF

# both2 NAME < SCRIPT: as both, with two objects, each served by its own
# mo-filepager; compared one object at a time (the two pagers answer
# init in either order) and the script's output and both files.
both2() {
	cat > "$TRASH/$1.script"
	for k in map gnumach; do
		pagers=
		for o in 0 1; do
			perl -e "print pack(\"Q<\", \$_ * 8 + $o) for 0 .. 8191" > "$TRASH/$1.$k.file$o"
			"$FILEPAGER" "unix:$TRASH/$1.$k.sock$o" "$TRASH/$1.$k.file$o" > /dev/null 2>&1 &
			pagers="$pagers $!"
			i=0
			while [ ! -S "$TRASH/$1.$k.sock$o" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		done
		if [ $k = map ]; then
			timeout 60 "$MAP" --log "$TRASH/$1.$k.log" "unix:$TRASH/$1.$k.sock0" \
				"unix:$TRASH/$1.$k.sock1" "$TRASH/$1.script" > "$TRASH/$1.$k.out"
		else
			timeout 120 "$GNUMACH" --timeout 60 --console "$TRASH/$1.console" \
				--log "$TRASH/$1.$k.log" "unix:$TRASH/$1.$k.sock0" \
				"unix:$TRASH/$1.$k.sock1" "$TRASH/$1.script" > "$TRASH/$1.$k.out"
		fi
		rc=$?
		kill $pagers 2>/dev/null
		wait $pagers 2>/dev/null
		[ $rc = 0 ] || return 1
		awk -v prefix="$TRASH/$1.$k.obj" -f "$TRASH/split.awk" "$TRASH/$1.$k.log" &&
		for o in 1 2; do
			sed -f "$TRASH/norm.sed" "$TRASH/$1.$k.obj$o" > "$TRASH/$1.$k.norm$o" || return 1
		done
	done
	test_cmp "$TRASH/$1.map.norm1" "$TRASH/$1.gnumach.norm1" &&
	test_cmp "$TRASH/$1.map.norm2" "$TRASH/$1.gnumach.norm2" &&
	test_cmp "$TRASH/$1.map.out" "$TRASH/$1.gnumach.out" &&
	cmp "$TRASH/$1.map.file0" "$TRASH/$1.gnumach.file0" &&
	cmp "$TRASH/$1.map.file1" "$TRASH/$1.gnumach.file1"
}

test_expect_success 'two objects: each its own pager, object N chooses, unmap and map one' '
	both2 two <<-\EOF
	read 0
	write 1p 5
	object 1
	read 0
	write 0 9
	expect 0 9
	object 0
	expect 1p 5
	unmap
	map
	read 1p
	object 1
	read 2p
	unmap
	EOF
	test $(grep -c memory_object_init "$TRASH/two.gnumach.log") = 3 &&
	grep -q "^read 0 0x1$" "$TRASH/two.gnumach.out"
'

test_expect_success 'two objects: ranges on both, the second unmapped and mapped first' '
	both2 ranges2 <<-\EOF
	fill 0 2p 0x33
	object 1
	fill 1p 2p 0x44
	check 1p 2p 0x44
	unmap
	object 0
	check 0 2p 0x33
	object 1
	map
	check 2p 1p 0x44
	touch 4p 3p
	EOF
	test $(grep -c memory_object_terminate "$TRASH/ranges2.gnumach.log") = 3
'

test_done
