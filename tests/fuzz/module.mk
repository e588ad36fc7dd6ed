# tests/fuzz/: libFuzzer targets (clang): the decoder (fuzz-decode) and
# libmotrace-mach's frames and handshake (fuzz-wire).
#
#   make fuzz                     each target for FUZZ_SECONDS (60)
# A target's corpus grows in $(B)/fuzz/corpus[-wire], seeded from the
# golden inputs (the decoder) and tests/fuzz/wire-seeds (the wire).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN     := $(B)/fuzz/fuzz-decode
FUZZ_WIRE    := $(B)/fuzz/fuzz-wire

$(FUZZ_BIN): tests/fuzz/fuzz-decode.c $$(DECODE_SRCS) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $^

# The library's own sources, built by clang with the fuzzer's flags (MIG's
# user stubs left out: nothing in the library calls them).
FUZZ_WIRE_SRCS = tests/fuzz/fuzz-wire.c $(MACH_SRCS) decode/walk.c \
		 $(foreach abi,$(MIG_ABIS),$(B)/gen/decode/schema-$(abi).c) \
		 util/strbuf.c util/intmap.c

$(FUZZ_WIRE): $$(FUZZ_WIRE_SRCS) $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -I$(B)/include $(FUZZ_FLAGS) -w -o $@ \
		$(FUZZ_WIRE_SRCS) -lpthread

# Seeds: each golden input behind the control byte that selects its form.
$(B)/fuzz/seeds/.stamp: $(B)/tests/golden/x86_64.bin tests/golden/user32.hex tests/golden/i386.hex
	@mkdir -p $(dir $@)
	printf '\000' | cat - $(B)/tests/golden/x86_64.bin > $(B)/fuzz/seeds/x86_64
	printf '\005' | cat - tests/golden/user32.hex > $(B)/fuzz/seeds/user32
	printf '\006' | cat - tests/golden/i386.hex > $(B)/fuzz/seeds/i386
	touch $@

fuzz: $(FUZZ_BIN) $(B)/fuzz/seeds/.stamp $(FUZZ_WIRE)
	@mkdir -p $(B)/fuzz/corpus $(B)/fuzz/corpus-wire
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(B)/fuzz/corpus $(B)/fuzz/seeds
	$(FUZZ_WIRE) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-close_fd_mask=2 $(B)/fuzz/corpus-wire tests/fuzz/wire-seeds

TEST_PROGRAMS += $(FUZZ_BIN) $(B)/fuzz/seeds/.stamp $(FUZZ_WIRE)
