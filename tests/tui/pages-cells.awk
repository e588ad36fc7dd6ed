# tests/tui/pages-cells.awk: motrace --pages as the page view's cells,
# one "kernel page cell" line per page object OBJ's kernels know (the cell
# as cli/ui/state.c writes it: absent, req ACC, res rw|ro|--, then the
# flags DPULF when any is set). An object's last state before its
# terminate (kept for --pages) is not what the view shows: left out.
function flush_block(   p, f, i, n, a, b) {
	if (!inblock)
		return
	for (i = 1; i <= nlr; i++) {
		a = lr_off[i] / psize
		n = int((lr_size[i] + psize - 1) / psize)
		for (p in st)
			if (p + 0 >= a && p + 0 < a + n) {
				lk[p] = 1
				if (lr_flush[i])
					fl[p] = 1
			}
	}
	for (p in st) {
		f = fd[p] fp[p] fu[p] (lk[p] ? "L" : ".") (fl[p] ? "F" : ".")
		if (f == ".....")
			print kern, p, st[p]
		else
			printf "%s %s %-7s %s\n", kern, p, st[p], f
	}
	delete st; delete fd; delete fp; delete fu; delete lk; delete fl
	nlr = 0
	inblock = 0
}
/^object [0-9]+ kernel [0-9]+:/ {
	flush_block()
	split($2, o, ":")
	k = $4
	sub(":", "", k)
	if ($0 ~ /terminated; before that:$/) {
		skip = 1
		next
	}
	if (skip) {
		skip = 0
		next
	}
	if (o[1] != OBJ)
		next
	kern = "k" k
	psize = strtonum_hex($0)
	inblock = 1
	next
}
function strtonum_hex(line,   s, i, v, c) {
	s = line
	sub(/.*page size 0x/, "", s)
	sub(/,.*/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1)) - 1
		v = v * 16 + c
	}
	return v
}
function hex(s,   i, v) {
	sub(/^0x/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
!inblock { next }
/^  page +state/ { next }
/^  pending lock_request/ {
	nlr++
	lr_off[nlr] = hex($4)
	lr_size[nlr] = hex($6)
	lr_flush[nlr] = 0
	next
}
/^  [0-9]+ / {
	p = $1
	if ($2 == "absent")
		c = "absent"
	else if ($2 == "requested")
		c = "req " $3
	else if ($4 ~ /r/)
		c = "res --"
	else if ($4 ~ /w/)
		c = "res ro"
	else
		c = "res rw"
	st[p] = c
	rest = $0
	fd[p] = rest ~ /may-be-dirty/ ? "D" : "."
	fp[p] = rest ~ /precious/ ? "P" : "."
	fu[p] = rest ~ /unlock-pending/ ? "U" : "."
	next
}
END { flush_block() }
