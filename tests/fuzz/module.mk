# tests/fuzz/: libFuzzer targets (clang): the decoder (fuzz-decode),
# libmotrace-mach's frames and handshake (fuzz-wire), a message's way
# through the proxy's engine with a fake transport (fuzz-engine), motrace
# check's reader (fuzz-check) and the reader of recordings (fuzz-recording).
#
#   make fuzz                     fuzz each for FUZZ_SECONDS (60)
# Each corpus grows in $(B)/fuzz/corpus-NAME, seeded from the golden
# inputs, tests/fuzz/wire-seeds, tests/fuzz/corpus-check and
# tests/fuzz/recordings.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN     := $(B)/fuzz/fuzz-decode
FUZZ_ENGINE  := $(B)/fuzz/fuzz-engine
FUZZ_CHECK   := $(B)/fuzz/fuzz-check
TRACER_SRCS   = tracer/attrib.c tracer/engine.c tracer/loop.c tracer/model.c tracer/rules.c \
                tracer/sched.c tracer/trace.c tracer/stack.c util/intmap.c
FUZZ_WIRE    := $(B)/fuzz/fuzz-wire

$(FUZZ_BIN): tests/fuzz/fuzz-decode.c $$(DECODE_SRCS) | deps $(MO_MSGID_H)
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

$(FUZZ_ENGINE): tests/fuzz/fuzz-engine.c $(TRACER_SRCS) $$(DECODE_SRCS) | deps $(MO_MSGID_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $^ -ldw

# fuzz-check.c takes in cli/cmd-check.c whole (its reader is static), and
# with it what the command reaches besides the reader (recordings, plugins,
# the batch commands over a recording), linked but not fuzzed.
CHECK_LINKED := cli/recording.c cli/batch.c cli/dbg.c cli/dbg-attach.c cli/bp.c \
                plugins/loader.c tracer/record.c tracer/playback.c util/parse.c
$(FUZZ_CHECK): tests/fuzz/fuzz-check.c cli/cmd-check.c cli/common.c \
		cli/trace-opts.c $(CHECK_LINKED) $(TRACER_SRCS) $$(DECODE_SRCS) \
		$(LIBTRACER) $(LIBMACH_A) | deps $(MO_MSGID_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ \
		$(filter-out cli/cmd-check.c $(LIBTRACER) $(LIBMACH_A),$^) \
		$(LIBTRACER) $(LIBMACH_A) -lpcap -ldw -lelf -ldl -lpthread

# Seeds: each golden input behind the control byte that selects its form;
# the engine's behind 0x8f (all four rules, bare messages).
$(B)/fuzz/seeds/.stamp: $(B)/tests/golden/x86_64.bin tests/golden/user32.hex tests/golden/i386.hex \
		tests/golden/x86_64-2023.hex tests/fuzz/module.mk
	@mkdir -p $(dir $@) $(B)/fuzz/seeds-engine
	printf '\000' | cat - $(B)/tests/golden/x86_64.bin > $(B)/fuzz/seeds/x86_64
	printf '\005' | cat - tests/golden/user32.hex > $(B)/fuzz/seeds/user32
	printf '\006' | cat - tests/golden/i386.hex > $(B)/fuzz/seeds/i386
	printf '\007' | cat - tests/golden/x86_64-2023.hex > $(B)/fuzz/seeds/x86_64-2023
	printf '\217' | cat - $(B)/tests/golden/x86_64.bin > $(B)/fuzz/seeds-engine/x86_64
	printf '\200' | cat - $(B)/tests/golden/x86_64.bin > $(B)/fuzz/seeds-engine/norules
	touch $@

fuzz: $(FUZZ_BIN) $(FUZZ_ENGINE) $(FUZZ_CHECK) $(B)/fuzz/seeds/.stamp $(FUZZ_WIRE)
	@mkdir -p $(B)/fuzz/corpus $(B)/fuzz/corpus-engine $(B)/fuzz/corpus-check \
		$(B)/fuzz/corpus-wire
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(B)/fuzz/corpus $(B)/fuzz/seeds
	$(FUZZ_ENGINE) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(B)/fuzz/corpus-engine $(B)/fuzz/seeds-engine
	$(FUZZ_CHECK) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-dict=tests/fuzz/check.dict $(B)/fuzz/corpus-check tests/fuzz/corpus-check
	$(FUZZ_WIRE) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-close_fd_mask=2 $(B)/fuzz/corpus-wire tests/fuzz/wire-seeds

TEST_PROGRAMS += $(FUZZ_BIN) $(FUZZ_ENGINE) $(FUZZ_CHECK) $(B)/fuzz/seeds/.stamp $(FUZZ_WIRE)

# The reader of recordings: the corpus starts from tests/fuzz/recordings/.
FUZZ_REC_BIN := $(B)/fuzz/fuzz-recording
$(FUZZ_REC_BIN): tests/fuzz/fuzz-recording.c tracer/playback.c tracer/stack.c $$(DECODE_SRCS) | deps $(MO_MSGID_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $^ -lpcap -ldw

fuzz: fuzz-recording
fuzz-recording: $(FUZZ_REC_BIN)
	@mkdir -p $(B)/fuzz/corpus-recording
	$(FUZZ_REC_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-print_final_stats=1 $(B)/fuzz/corpus-recording tests/fuzz/recordings
.PHONY: fuzz-recording

TEST_PROGRAMS += $(FUZZ_REC_BIN)
