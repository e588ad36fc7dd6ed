# tests/kernel/normalise.awk: a kernel log (mo-map --log) made
# comparable: port names become P1, P2... in order of appearance, and
# out-of-line addresses become ADDR. Times (@SECONDS) are dropped.
{
	sub(/^@[0-9.]+ /, "")
	line = $0
	out = ""
	while (match(line, /(obj|ctl|name|reply_to|reply|notify)=[0-9]+/)) {
		pre = substr(line, 1, RSTART - 1)
		tok = substr(line, RSTART, RLENGTH)
		line = substr(line, RSTART + RLENGTH)
		eq = index(tok, "=")
		key = substr(tok, 1, eq - 1)
		num = substr(tok, eq + 1)
		if (num != "0") {
			if (!(num in names))
				names[num] = "P" (++n)
			num = names[num]
		}
		out = out pre key "=" num
	}
	line = out line
	gsub(/data=0x[0-9a-f]+ \[/, "data=ADDR [", line)
	print line
}
