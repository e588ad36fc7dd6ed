-- plugins/motrace.lua: a Wireshark/tshark dissector for motrace recordings
-- (motrace -w FILE): pcap files of link type USER0 whose records start with
-- motrace's header (doc/recording.md).
--
--   tshark -X lua_script:/usr/local/share/motrace/motrace.lua -r FILE
--   tshark -X lua_script:... -r FILE -Y 'motrace.name == "memory_object_data_unlock"'
--
-- The tables above this code (motrace_abis, motrace_schema, motrace_xlat)
-- are generated from motrace's decoder at build time.

local bitlib = bit32 or bit
local band, rshift = bitlib.band, bitlib.rshift

local proto = Proto("motrace", "motrace recording")

local record_types = { [0] = "session", [1] = "message", [2] = "note" }
local kinds = { [0] = "forwarded", [1] = "injected", [2] = "dropped",
		[3] = "delayed", [4] = "held", [5] = "released",
		[6] = "consumed" }
local dirs = { [0] = "kernel to manager", [1] = "manager to kernel" }
local abi_names = {}
for i, a in pairs(motrace_abis) do abi_names[i] = a.name end

local f = {
	rtype = ProtoField.uint8("motrace.type", "Record type", base.DEC, record_types),
	seq = ProtoField.uint32("motrace.seq", "Event number"),
	event = ProtoField.uint8("motrace.event", "Event", base.DEC, kinds),
	dir = ProtoField.uint8("motrace.dir", "Direction", base.DEC, dirs),
	abi = ProtoField.uint8("motrace.abi", "ABI profile", base.DEC, abi_names),
	kernel = ProtoField.uint32("motrace.kernel", "Kernel"),
	object = ProtoField.uint32("motrace.object", "Object"),
	time = ProtoField.uint64("motrace.time_ns", "Monotonic time (ns)"),
	delay = ProtoField.uint64("motrace.delay_ns", "Delay (ns)"),
	arrived = ProtoField.uint64("motrace.arrived_ns", "Arrived (monotonic ns)"),
	msg_len = ProtoField.uint32("motrace.msg_len", "Message length"),
	nool = ProtoField.uint32("motrace.nool", "Out-of-line regions"),
	payload = ProtoField.uint32("motrace.payload_len", "Payload length"),
	frag = ProtoField.uint32("motrace.frag_offset", "Fragment offset"),
	id = ProtoField.int32("motrace.id", "Message id"),
	name = ProtoField.string("motrace.name", "Message"),
	text = ProtoField.string("motrace.text", "Text"),
	page = ProtoField.uint64("motrace.page", "Page"),
	ool_size = ProtoField.uint64("motrace.ool_size", "Out-of-line bytes"),
	sender_pid = ProtoField.uint32("motrace.sender_pid", "Sender's process"),
	sender_tid = ProtoField.uint32("motrace.sender_tid", "Sender's thread"),
	frame = ProtoField.string("motrace.frame", "Frame"),
}
-- One field per argument name of the .defs (by motrace's short names).
local arg_fields = {}
for _, s in pairs(motrace_schema) do
	for _, a in ipairs(s.args) do
		if not arg_fields[a.alias] then
			local key = f[a.alias] and ("arg_" .. a.alias) or a.alias
			arg_fields[a.alias] = ProtoField.uint64("motrace." .. key, a.alias)
		end
	end
end
local all = {}
for _, v in pairs(f) do all[#all + 1] = v end
for _, v in pairs(arg_fields) do all[#all + 1] = v end
proto.fields = all

local page_size = 4096

-- VALUE (a UInt64) as motrace's text form shows an argument of SEM.
local function render(sem, value)
	local n = value:tonumber()
	if sem == "offset" then
		return "0x" .. value:tohex():gsub("^0+(.)", "%1") ..
		       " [page " .. tostring((value / page_size):tonumber()) .. "]"
	elseif sem == "size" or sem == "address" then
		return "0x" .. value:tohex():gsub("^0+(.)", "%1")
	elseif sem == "bool" then
		return n == 0 and "FALSE" or "TRUE"
	elseif sem == "vm_prot" then
		if n == 0 then return motrace_xlat.vm_prot[0] or "0" end
		local names = {}
		for bitv = 0, 31 do
			local v = 2 ^ bitv
			if band(n, v) ~= 0 then
				names[#names + 1] = motrace_xlat.vm_prot[v] or string.format("0x%x", v)
			end
		end
		return table.concat(names, "|")
	elseif motrace_xlat[sem] then
		return motrace_xlat[sem][n] or tostring(n)
	end
	return tostring(n)
end

local function dissect_message(tvb, tree, abi, prefix, pinfo)
	local a = motrace_abis[abi]
	if not a or tvb:len() < a.header then
		tree:add(f.text, tvb(), "[truncated message]")
		return prefix .. " [truncated]"
	end
	local size = tvb(4, 4):le_uint()
	local id = tvb(a.header - 4, 4):le_int()
	local s = motrace_schema[id]
	local name = s and s.name or ("message " .. id)
	local mt = tree:add(proto, tvb(), name)
	mt:add_le(f.id, tvb(a.header - 4, 4))
	mt:add(f.name, tvb(a.header - 4, 4), name)
	local limit = math.min(size, tvb:len())
	local pos, i, shown = a.header, 1, {}
	-- The destination: msgh_remote_port as a sender writes it (a send
	-- disposition in the remote bits, or no local one), else
	-- msgh_local_port as the kernel delivers it, where a port with a
	-- protected payload has the payload, the whole slot, instead
	-- (decode/message.c, decode/walk.c).
	local bits = tvb(0, 4):le_uint()
	local rb, lb = band(bits, 0xff), band(rshift(bits, 8), 0xff)
	local sent = (rb >= 19 and rb <= 21) or (lb >= 19 and lb <= 21) or
		     (rb ~= 0 and lb == 0)
	local dname = s and s.dest or "dest"
	local dest
	if sent then
		dest = tostring(tvb(8, 4):le_uint())
		mt:add(tvb(8, 4), dname .. ": " .. dest)
	elseif lb == 23 then
		local w = a.header == 32 and 8 or 4
		local v = w == 8 and tvb(a.local_off, 8):le_uint64() or UInt64(tvb(a.local_off, 4):le_uint())
		dest = "0x" .. v:tohex():gsub("^0+(.)", "%1") .. " [protected payload]"
		mt:add(tvb(a.local_off, w), dname .. ": " .. dest)
	else
		dest = tostring(tvb(a.local_off, 4):le_uint())
		mt:add(tvb(a.local_off, 4), dname .. ": " .. dest)
	end
	shown[1] = dname .. "=" .. dest
	while pos + 4 <= limit do
		local t = tvb(pos, 4):le_uint()
		local tname, tsize = band(t, 0xff), band(rshift(t, 8), 0xff)
		local num = band(rshift(t, 16), 0xfff)
		local inline = band(rshift(t, 28), 1) == 1
		if a.desc == 8 then
			-- The 2023 layout: name 0-7, size 8-23, inline 29, then
			-- a 32-bit msgt_number; long or not (doc/abi.md).
			if pos + 8 > limit then break end
			tsize = band(rshift(t, 8), 0xffff)
			inline = band(rshift(t, 29), 1) == 1
			num = tvb(pos + 4, 4):le_uint()
			pos = pos + 8
		elseif band(rshift(t, 29), 1) == 1 then
			if pos + 12 > limit then break end
			tname, tsize = tvb(pos + 4, 2):le_uint(), tvb(pos + 6, 2):le_uint()
			num = tvb(pos + 8, 4):le_uint()
			pos = pos + 12
		else
			pos = pos + 4
		end
		local arg = s and s.args[i]
		local alias = arg and arg.alias or ("item" .. i)
		local bytes = math.floor((num * tsize + 7) / 8)
		if not inline then
			if pos + a.ool_slot > limit then break end
			local it = mt:add(f.ool_size, tvb(pos, a.ool_slot), UInt64(bytes))
			it:set_text(alias .. ": [" .. bytes .. " bytes, out-of-line]")
			shown[#shown + 1] = alias .. "=[" .. bytes .. " bytes]"
			pos = pos + a.ool_slot
		else
			local padded = bytes + (a.align - bytes % a.align) % a.align
			if pos + padded > limit then break end
			if num == 1 and (tsize == 8 or tsize == 16 or tsize == 32 or tsize == 64) then
				local w = tsize / 8
				local v = w == 8 and tvb(pos, 8):le_uint64() or UInt64(tvb(pos, w):le_uint())
				local text = render(arg and arg.sem or "plain", v)
				local fld = arg_fields[alias]
				local it = fld and mt:add(fld, tvb(pos, w), v) or mt:add(tvb(pos, w), "")
				it:set_text(alias .. ": " .. text)
				if arg and arg.sem == "offset" then
					mt:add(f.page, tvb(pos, w), v / page_size)
				end
				shown[#shown + 1] = alias .. "=" .. text
			else
				mt:add(tvb(pos, padded), alias .. ": [" .. bytes .. " bytes]")
				shown[#shown + 1] = alias .. "=[" .. bytes .. " bytes]"
			end
			pos = pos + padded
		end
		i = i + 1
	end
	return prefix .. name .. "(" .. table.concat(shown, ", ") .. ")"
end

-- The sender's stack (header flag bit 1, motrace -k) after the message, its
-- region table and the regions kept (doc/recording.md, "The sender's stack").
-- Records written before it have no such flag and end with their regions.
local function dissect_stack(body, msg_len, nool, tree)
	local at = msg_len + 16 * nool
	if body:len() < at then return end
	for i = 0, nool - 1 do
		local e = msg_len + 16 * i
		if band(body(e + 8, 4):le_uint(), 1) == 1 then
			at = at + body(e, 8):le_uint64():tonumber()
		end
	end
	if body:len() < at + 16 then return end
	local n, total = body(at + 8, 4):le_uint(), body(at + 12, 4):le_uint()
	if body:len() < at + total then return end
	local st = tree:add(proto, body(at, total), "Sender's stack (" .. n .. " frames)")
	st:add_le(f.sender_pid, body(at, 4))
	st:add_le(f.sender_tid, body(at + 4, 4))
	local pos = at + 16
	for _ = 1, n do
		if pos + 32 > at + total then return end
		local line = body(pos + 16, 4):le_uint()
		local lens = { body(pos + 20, 2):le_uint(), body(pos + 22, 2):le_uint(),
			       body(pos + 24, 2):le_uint() }
		local names, q = {}, pos + 32
		for k = 1, 3 do
			names[k] = lens[k] > 0 and body(q, lens[k]):string() or nil
			q = q + lens[k]
		end
		local text = (names[1] or "?") .. "(" .. (names[2] or "?") .. ")"
		if names[3] then text = text .. " " .. names[3] .. ":" .. line end
		st:add(f.frame, body(pos, q - pos), text)
		pos = q + (8 - (q - at) % 8) % 8
	end
end

function proto.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "motrace"
	if tvb:len() < 64 or tvb(0, 4):string() ~= "MOTR" then
		pinfo.cols.info = "not a motrace record"
		return
	end
	local hlen = tvb(6, 2):le_uint()
	local t = tree:add(proto, tvb(0, hlen), "motrace record")
	local rtype = tvb(5, 1):uint()
	t:add(f.rtype, tvb(5, 1))
	t:add_le(f.seq, tvb(8, 4))
	local kind, dir = tvb(12, 1):uint(), tvb(13, 1):uint()
	local abi, kernel = tvb(14, 1):uint(), tvb(16, 4):le_uint()
	local frag, msg_len = tvb(52, 4):le_uint(), tvb(40, 4):le_uint()
	if rtype == 1 then
		t:add(f.event, tvb(12, 1))
		t:add(f.dir, tvb(13, 1))
		t:add(f.abi, tvb(14, 1))
		t:add_le(f.kernel, tvb(16, 4))
		t:add_le(f.object, tvb(20, 4))
		t:add_le(f.delay, tvb(32, 8))
		t:add_le(f.arrived, tvb(56, 8))
		t:add_le(f.msg_len, tvb(40, 4))
		t:add_le(f.nool, tvb(44, 4))
	end
	t:add_le(f.time, tvb(24, 8))
	t:add_le(f.payload, tvb(48, 4))
	t:add_le(f.frag, tvb(52, 4))
	local body = tvb(hlen)
	if rtype ~= 1 then
		local text = body:len() > 0 and body:string() or ""
		t:add(f.text, body, text)
		pinfo.cols.info = (record_types[rtype] or "record") .. ": " .. text:gsub("\n", "; ")
		return
	end
	if frag ~= 0 then
		pinfo.cols.info = "continuation of event " .. tvb(8, 4):le_uint()
		return
	end
	local who = (kernel == 0xffffffff and "k?" or ("k" .. kernel)) ..
		    (dir == 0 and "> " or "< ")
	local info
	if body:len() >= msg_len then
		info = dissect_message(tvb(hlen, msg_len):tvb(), tree, abi, who, pinfo)
		if band(tvb(15, 1):uint(), 3) == 2 then
			dissect_stack(body, msg_len, tvb(44, 4):le_uint(), tree)
		end
	else
		info = who .. "[message goes on in the next record]"
	end
	if kind ~= 0 then info = info .. " [" .. (kinds[kind] or kind) .. "]" end
	pinfo.cols.info = info
end

local encap = (wtap_encaps and wtap_encaps.USER0) or wtap.USER0
DissectorTable.get("wtap_encap"):add(encap, proto)
