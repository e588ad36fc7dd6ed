# gen-schema.awk: turn MIG-generated user stubs (NAMEUser.c) into the
# decoder's schema table for one ABI profile.
#
# usage: awk -v abi=x86_64 -v sems=decode/ctypes.in -v aliases=decode/argnames.in \
#            -v fields=decode/callfields.in \
#            -f decode/gen-schema.awk build/mig/x86_64/*User.c > schema-x86_64.c
#        awk -v ids=1 -f decode/gen-schema.awk build/mig/x86_64/*User.c > msgid.h
#
# With lp64=NAME it also writes the table of profile NAME: the same
# messages in the x86_64 layout GNU Mach has had since 2023 (8-byte type
# descriptors, 8-byte alignment, inline port rights in 8-byte slots;
# decode/walk.c), which no MIG on this host generates: its arguments are
# this profile's, its port rights 64 bits wide and its sizes computed
# from that layout.
#
# With ids=1 it writes decode/msgid.h instead: the message ids as named
# constants, MO_ID_ and the routine's name in capitals (_REPLY for the
# reply of a routine).
#
# Everything comes from what MIG wrote: the routine's kind and name, the
# prototype (argument names and C types), the Request and Reply structs
# (the order of the typed fields), the type descriptor constants MIG puts in
# each message (msgt_name, msgt_size, msgt_number, inline, longform), the
# header dispositions, the message ids and the sizes MIG asserts.
# Only routines named memory_object_* or mach_notify_* are kept.

function reset_routine() {
	delete ptype; delete pout; delete pcnt; delete ftype
	delete dname; delete dsize; delete dnum; delete dinline; delete dlong
	nreq = 0; nrep = 0; delete reqf; delete repf; delete desc
	id = 0; rid = 0; dest = ""; reply = ""; dbits = ""; rbits = ""
	reqsize = 0; repsize = 0; mode = ""; cur = ""; pending_bits = 0
}

# MIG asserts sizes with the host's 32-byte mach_msg_header_t, whatever
# the profile; the schema keeps the body size, which every profile shares.
function body(size) { return size ? size - 32 : 0 }

function trim(s) { gsub(/^[ \t]+|[ \t,;]+$/, "", s); return s }

function load_table(file, arr,    line, n, f) {
	if (file == "") return
	while ((getline line < file) > 0) {
		sub(/#.*/, "", line)
		n = split(line, f, /[ \t]+/)
		if (n >= 2 && f[1] != "") arr[f[1]] = f[2]
		else if (n >= 3 && f[1] == "") arr[f[2]] = f[3]
	}
	close(file)
}

# S as a C string literal (S holds no backslash, only quotes).
function cstr(s) { gsub(/"/, "\\\"", s); return "\"" s "\"" }

# The same, padded with NULs to a multiple of 16 bytes: decode/render.c
# copies these in 16-byte pieces.
function cstr16(s,    n, pad) {
	n = length(s); pad = ""
	while ((n + length(pad) / 2) % 16) pad = pad "\\0"
	return cstr(s) (pad == "" ? "" : " \"" pad "\"")
}

# What the JSON form (decode/render.c) writes of an argument before its
# type and between its type and its offset (for an item of the shape the
# schema gives), and of a message after its id, made here once: the names
# are identifiers and need no escaping.
function json_arg(f, ct) { return "{\"name\":\"" f "\",\"ctype\":\"" ct "\",\"type\":" }
function json_shape(size, num, inl, lng) {
	return ",\"size\":" size ",\"number\":" num ",\"inline\":" (inl ? "true" : "false") \
		",\"longform\":" (lng ? "true" : "false") ",\"offset\":"
}
function json_msg(n, r, mod, kind) {
	return "\"name\":\"" n "\",\"routine\":\"" r "\",\"subsystem\":\"" mod "\",\"kind\":\"" kind "\",\"known\":true,\"msgh_bits\":"
}

function cval(v) {
	v = trim(v)
	sub(/^\((unsigned char|unsigned short)\) */, "", v)
	if (v == "TRUE") return 1
	if (v == "FALSE") return 0
	if (v == "MACH_MSG_TYPE_POLYMORPHIC") return "MO_POLY"
	return v
}

# A port right: its msgt_size is the profile's (GNU Mach's
# MACH_MSG_TYPE_PORT_ANY: MOVE_RECEIVE .. MAKE_SEND_ONCE, and the rights a
# receiver sees).
function is_port(t) {
	return t == "MO_POLY" || t ~ /^MACH_MSG_TYPE_(MOVE|COPY|MAKE|PORT)_(RECEIVE|SEND|SEND_ONCE)$/
}

# The bits per element of F in variant V: in the 2023 layout an inline
# port right takes an 8-byte slot (mach_port_name_inlined_t).
function elem_size(f, v) {
	return (v && dinline[f] && is_port(dname[f])) ? 64 : dsize[f]
}

# The body of a fixed message in the 2023 layout, or 0 when an inline
# array makes its size vary: each item an 8-byte descriptor, then its data
# (or an 8-byte out-of-line pointer) padded to 8 bytes
# (MACH_MSG_USER_ALIGNMENT; see decode/walk.c).
function body_2023(n, fields,    i, f, b, bytes) {
	b = 0
	for (i = 1; i <= n; i++) {
		f = fields[i]
		if (!dinline[f]) { b += 16; continue }
		if (f in pcnt) return 0
		bytes = int((dnum[f] * elem_size(f, 1) + 7) / 8)
		b += 8 + int((bytes + 7) / 8) * 8
	}
	return b
}

# Emit one argument array of variant V; fields[] holds the typed fields in
# wire order.
function emit_args(tag, n, fields, v,    i, f, d, ct, sem, al, out, j, js, fl, sz) {
	if (n == 0 || ids) return
	printf "static const struct mo_arg_schema %s[] = {\n", tag
	for (i = 1; i <= n; i++) {
		f = fields[i]
		ct = (f in ptype) ? ptype[f] : ftype[f]
		sem = (ct in semtab) ? semtab[ct] : "PLAIN"
		al = (f in alias) ? "\"" alias[f] "\"" : "NULL"
		out = (f in pout) ? 1 : 0
		fl = (f in fieldtab) ? fieldtab[f] : "NONE"
		sz = elem_size(f, v)
		j = json_arg(f, ct)
		js = json_shape(sz, dnum[f], dinline[f], dlong[f])
		printf "\t{ \"%s\", %s, \"%s\", MO_SEM_%s, %s, %s, %s, %s, %s, %d, %d, %s, %d, %s, %d, MO_FIELD_%s },\n", \
			f, al, ct, sem, dname[f], sz, dnum[f], dinline[f], \
			dlong[f], (f in pcnt) ? 1 : 0, out, cstr16(j), length(j), \
			cstr16(js), length(js), fl
	}
	printf "};\n\n"
}

# One routine's entries (request, and reply for a routine) in each
# variant's table: the profile's own, and with lp64 set the 2023 layout's.
function finish_routine(    tag, j, v, b) {
	if (name !~ /^(memory_object|mach_notify)_/ || id == 0) return
	nent++
	ent_id[nent] = id
	ent_const[nent] = "MO_ID_" toupper(name)
	j = json_msg(name, name, module, simple ? "simpleroutine" : "routine")
	for (v = 0; v < nvar; v++) {
		tag = vname[v] "_" name
		emit_args(tag "_req", nreq, reqf, v)
		b = v ? body_2023(nreq, reqf) : body(reqsize)
		ent[v, nent] = sprintf("\t{ %d, \"%s\", \"%s\", MO_KIND_%s, \"%s\", %s, %s, %s, %s, %d, %d, %s, %s, %d, MO_FIELD_%s },", \
			id, name, module, simple ? "SIMPLE" : "ROUTINE", dest, \
			(dest in alias) ? "\"" alias[dest] "\"" : "NULL", \
			dbits, rbits == "" ? "0" : rbits, \
			reply == "" ? "NULL" : "\"" reply "\"", b, nreq, \
			nreq ? tag "_req" : "NULL", cstr16(j), length(j), \
			(dest in fieldtab) ? fieldtab[dest] : "NONE")
	}
	if (!simple && rid) {
		nent++
		ent_id[nent] = rid
		ent_const[nent] = "MO_ID_" toupper(name) "_REPLY"
		j = json_msg(name "_reply", name, module, "reply")
		for (v = 0; v < nvar; v++) {
			tag = vname[v] "_" name
			emit_args(tag "_rep", nrep, repf, v)
			b = v ? body_2023(nrep, repf) : body(repsize)
			ent[v, nent] = sprintf("\t{ %d, \"%s\", \"%s\", MO_KIND_REPLY, \"%s\", %s, %s, 0, NULL, %d, %d, %s, %s, %d, MO_FIELD_NONE },", \
				rid, name, module, "reply", "NULL", \
				"MACH_MSG_TYPE_PORT_SEND_ONCE", b, nrep, \
				nrep ? tag "_rep" : "NULL", cstr16(j), length(j))
		}
	}
}

BEGIN {
	load_table(sems, semtab)
	load_table(aliases, alias)
	load_table(fields, fieldtab)
	nvar = 1
	vname[0] = abi
	if (lp64 != "") vname[nvar++] = lp64
	print "/* Generated by decode/gen-schema.awk from MIG output: do not edit. */"
	if (!ids) {
		print "#include <stddef.h>"
		print "#include <mach/message.h>"
		print "#include \"decode/schema.h\""
		print ""
	}
	nent = 0
	name = ""
}

FNR == 1 {
	if (name != "") finish_routine()
	name = ""
	module = FILENAME
	sub(/.*\//, "", module)
	sub(/User\.c$/, "", module)
}

/^\/\* (Simple)?Routine [A-Za-z_0-9]+ \*\/$/ {
	if (name != "") finish_routine()
	reset_routine()
	simple = ($2 == "SimpleRoutine")
	name = $3
	mode = "wantproto"
	next
}

mode == "wantproto" && /^\($/ { mode = "proto"; next }
mode == "proto" && /^\)$/ { mode = "body"; next }
mode == "proto" {
	line = trim($0)
	sub(/^const /, "", line)
	n = split(line, w, /[ \t]+/)
	an = w[n]; t = w[1]
	for (i = 2; i < n; i++) t = t " " w[i]
	isout = 0
	if (an ~ /^\*/) { isout = 1; sub(/^\*/, "", an) }
	if (an ~ /Cnt$/ && t == "mach_msg_type_number_t") {
		base = an; sub(/Cnt$/, "", base); pcnt[base] = 1
	} else if (an ~ /(Dealloc|Poly)$/) {
		# msgt_deallocate and polymorphic names travel in the descriptor
	} else {
		ptype[an] = t
		if (isout) pout[an] = 1
	}
	next
}

mode == "body" && /^\ttypedef struct \{$/ { mode = "struct"; ns = 0; delete sf; next }
mode == "struct" && /^\t\} (Request|Reply);$/ {
	if ($2 == "Request;") { for (i = 1; i <= ns; i++) reqf[i] = sf[i]; nreq = ns }
	else { for (i = 1; i <= ns; i++) repf[i] = sf[i]; nrep = ns }
	mode = "body"; inunion = 0
	next
}
mode == "struct" && /^\t\tunion \{$/ { inunion = 1; unionfirst = 1; next }
mode == "struct" && /^\t\t\};$/ { inunion = 0; next }
mode == "struct" {
	line = trim($0)
	sub(/^const /, "", line)
	n = split(line, w, /[ \t]+/)
	fn = w[n]; t = w[1]
	for (i = 2; i < n; i++) t = t " " w[i]
	sub(/\[.*/, "", fn)
	if (inunion && !unionfirst) next
	if (inunion) unionfirst = 0
	if (fn == "Head") next
	if (t == "mach_msg_type_t" || t == "mach_msg_type_long_t") next
	ns++; sf[ns] = fn; ftype[fn] = t
	next
}

mode == "body" && /^\tconst mach_msg_type(_long)?_t [A-Za-z_0-9]+(Type|Check) = \{$/ {
	cur = $3
	sub(/(Type|Check)$/, "", cur)
	dlong[cur] = 0
	mode = "desc"
	next
}
mode == "desc" && /\/\* msgt_name = \*\// { v = $0; sub(/.*\*\//, "", v); dname[cur] = cval(v); next }
mode == "desc" && /\/\* msgt_size = \*\// { v = $0; sub(/.*\*\//, "", v); dsize[cur] = cval(v); next }
mode == "desc" && /\/\* msgt_number = \*\// { v = $0; sub(/.*\*\//, "", v); dnum[cur] = cval(v); next }
mode == "desc" && /\/\* msgt_inline = \*\// { v = $0; sub(/.*\*\//, "", v); dinline[cur] = cval(v); next }
mode == "desc" && /\/\* msgt_longform = \*\// { v = $0; sub(/.*\*\//, "", v); dlong[cur] = cval(v); next }
mode == "desc" && /\/\* msgtl_name = \*\// { v = $0; sub(/.*\*\//, "", v); dname[cur] = cval(v); next }
mode == "desc" && /\/\* msgtl_size = \*\// { v = $0; sub(/.*\*\//, "", v); dsize[cur] = cval(v); next }
mode == "desc" && /\/\* msgtl_number = \*\// { v = $0; sub(/.*\*\//, "", v); dnum[cur] = cval(v); next }
mode == "desc" && /^\t\};$/ { mode = "body"; next }

mode == "body" && /InP->Head\.msgh_bits =/ { pending_bits = 1 }
mode == "body" && pending_bits && /MACH_MSGH_BITS\(/ {
	v = $0
	sub(/.*MACH_MSGH_BITS\(/, "", v)
	sub(/\).*/, "", v)
	split(v, w, /, */)
	# a disposition chosen by the caller (polymorphic) is an argument name
	dbits = (w[1] ~ /^MACH_MSG_TYPE_/) ? w[1] : "MO_POLY"
	rbits = (w[2] == "0") ? "" : (w[2] ~ /^MACH_MSG_TYPE_/) ? w[2] : "MO_POLY"
	pending_bits = 0
	next
}
mode == "body" && /InP->Head\.msgh_request_port = / { v = $0; sub(/.*= (\([a-z_]+\) *)?/, "", v); dest = trim(v); next }
mode == "body" && /InP->Head\.msgh_reply_port = / {
	v = $0; sub(/.*= /, "", v); v = trim(v)
	reply = (v == "MACH_PORT_NULL") ? "" : (v ~ /mig_get_reply_port/) ? "reply" : v
	next
}
mode == "body" && /InP->Head\.msgh_id = [0-9]+;/ { v = $0; sub(/.*= /, "", v); id = trim(v) + 0; next }
mode == "body" && /OutP->Head\.msgh_id != [0-9]+\)/ { v = $0; sub(/.*!= /, "", v); sub(/\).*/, "", v); rid = v + 0; next }
mode == "body" && /sizeof\(Request\) == [0-9]+/ { v = $0; sub(/.*== /, "", v); sub(/,.*/, "", v); reqsize = v + 0; next }
mode == "body" && /\(msgh_size != [0-9]+\)/ && repsize == 0 { v = $0; sub(/.*msgh_size != /, "", v); sub(/\).*/, "", v); repsize = v + 0; next }

END {
	if (name != "") finish_routine()
	# insertion sort by message id, so the decoder can search
	for (i = 1; i <= nent; i++) ord[i] = i
	for (i = 2; i <= nent; i++) {
		k = ord[i]
		for (j = i - 1; j >= 1 && ent_id[ord[j]] > ent_id[k]; j--) ord[j + 1] = ord[j]
		ord[j + 1] = k
	}
	if (ids) {
		print "#ifndef MO_MSGID_H"
		print "#define MO_MSGID_H"
		print ""
		print "/* msgh_id of each message the decoder knows, as MIG numbers them. */"
		print "enum mo_msg_id {"
		for (i = 1; i <= nent; i++) printf "\t%s = %d,\n", ent_const[ord[i]], ent_id[ord[i]]
		print "};"
		print ""
		print "#endif"
		exit
	}
	for (v = 0; v < nvar; v++) {
		printf "const struct mo_msg_schema mo_schema_%s[] = {\n", vname[v]
		for (i = 1; i <= nent; i++) print ent[v, ord[i]]
		printf "};\n\nconst unsigned mo_schema_%s_count = %d;\n\n", vname[v], nent
	}
}
