# tests/tui/grid-cells.awk: a captured page view (tmux capture-pane -p)
# as "kernel page cell" lines, one per page of each row's run, for the
# kernels whose column the screen shows ("-": not known, left out).
# Columns as cli/ui/draw.c lays them: the page range in 2-23, then a
# cell of 14 columns per kernel.
NR == 2 {
	for (k = 0; ; k++) {
		h = substr($0, 24 + 14 * k, 4)
		if (h !~ /^k[0-9]/)
			break
		sub(/ +$/, "", h)
		kern[k] = h
	}
	nk = k
	next
}
NR > 2 && /^[ >][0-9]/ {
	r = substr($0, 2, 22)
	sub(/ +$/, "", r)
	n = split(r, ab, "-")
	a = ab[1]
	b = n > 1 ? ab[2] : ab[1]
	for (k = 0; k < nk; k++) {
		c = substr($0, 24 + 14 * k, 13)
		sub(/ +$/, "", c)
		if (c == "-" || c == "")
			continue
		for (p = a; p <= b; p++)
			print kern[k], p, c
	}
	next
}
NR > 2 { exit }
