# tests/kernel/referee.awk: a log of mo-map (kN> / kN<) or of mo-gnumach
# (< from the kernel, > to it) as one comparable form: "K " for kernel to
# pager, "M " for pager to kernel; port arguments, out-of-line addresses
# and the dealloc mark left out (they differ between any two runs).
/^#/ { next }
{
	line = $0
	sub(/^@[0-9.]+ /, "", line)
	if (line ~ /^k[0-9]+> /) { sub(/^k[0-9]+> /, "K ", line) }
	else if (line ~ /^k[0-9]+< /) { sub(/^k[0-9]+< /, "M ", line) }
	else if (line ~ /^< /) { sub(/^< /, "K ", line) }
	else if (line ~ /^> /) { sub(/^> /, "M ", line) }
	else next
	gsub(/(obj|ctl|name|reply_to|reply|notify)=[0-9]+(, )?/, "", line)
	gsub(/data=0x[0-9a-f]+ \[/, "data=[", line)
	gsub(/, dealloc\]/, "]", line)
	sub(/, \)/, ")", line)
	print line
}
