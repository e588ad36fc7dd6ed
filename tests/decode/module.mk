# tests/decode/: programs behind the decoder's tests.
#
# mkgolden calls the MIG user stubs (x86_64) with a recording mach_msg;
# mkgolden-reply runs the MIG server stubs on the routine requests. Their
# output is build/tests/golden/x86_64.bin, the input of the golden tests.
T_DEC        := $(B)/tests/decode
MIG_X86      := $(B)/mig/x86_64
GOLDEN_USER  := $(foreach d,$(MIG_DEFS),$(MIG_X86)/$(d)User.c)
TEST_CFLAGS   = -I$(MIG_X86) $(ALL_CFLAGS) -Wno-unused-variable -Wno-sign-compare

$(T_DEC)/mkgolden: tests/decode/mkgolden.c $(GOLDEN_USER) | deps
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $^

# MIG_EOPNOTSUPP makes MIG give every server routine a weak default, so
# only the routines under test need an implementation here.
$(T_DEC)/mkgolden-reply: tests/decode/mkgolden-reply.c $(MIG_X86)/machServer.c \
		$(MIG_X86)/mach4Server.c $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -DMIG_EOPNOTSUPP=MIG_BAD_ID -o $@ $^

$(B)/tests/golden/x86_64.bin: $(T_DEC)/mkgolden $(T_DEC)/mkgolden-reply
	@mkdir -p $(dir $@)
	$(T_DEC)/mkgolden > $@.req
	$(T_DEC)/mkgolden-reply < $@.req > $@.rep
	cat $@.req $@.rep > $@

TEST_PROGRAMS += $(B)/tests/golden/x86_64.bin

# The decoder built with sanitizers, for the tests that feed it garbage.
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
DECODE_SRCS   = $(wildcard decode/*.c) util/strbuf.c util/error.c $(DECODE_GEN)

$(T_DEC)/malformed: tests/decode/malformed.c $$(DECODE_SRCS) | deps $(MO_MSGID_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 -g $(SAN_FLAGS) -o $@ $^

TEST_PROGRAMS += $(T_DEC)/malformed

$(T_DEC)/roundtrip: tests/decode/roundtrip.c $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

TEST_PROGRAMS += $(T_DEC)/roundtrip

$(T_DEC)/call: tests/decode/call.c $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

TEST_PROGRAMS += $(T_DEC)/call
