# tests/fuzz/: the decoder's libFuzzer target (clang).
#
#   make fuzz                     fuzz for FUZZ_SECONDS (60)
# The corpus grows in $(B)/fuzz/corpus, seeded from the golden inputs.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BIN     := $(B)/fuzz/fuzz-decode

$(FUZZ_BIN): tests/fuzz/fuzz-decode.c $$(DECODE_SRCS) | deps $(MO_MSGID_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $^

# Seeds: each golden input behind the control byte that selects its form.
$(B)/fuzz/seeds/.stamp: $(B)/tests/golden/x86_64.bin tests/golden/user32.hex tests/golden/i386.hex \
		tests/golden/x86_64-2023.hex
	@mkdir -p $(dir $@)
	printf '\000' | cat - $(B)/tests/golden/x86_64.bin > $(B)/fuzz/seeds/x86_64
	printf '\005' | cat - tests/golden/user32.hex > $(B)/fuzz/seeds/user32
	printf '\006' | cat - tests/golden/i386.hex > $(B)/fuzz/seeds/i386
	printf '\007' | cat - tests/golden/x86_64-2023.hex > $(B)/fuzz/seeds/x86_64-2023
	touch $@

fuzz: $(FUZZ_BIN) $(B)/fuzz/seeds/.stamp
	@mkdir -p $(B)/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(B)/fuzz/corpus $(B)/fuzz/seeds

TEST_PROGRAMS += $(FUZZ_BIN) $(B)/fuzz/seeds/.stamp
