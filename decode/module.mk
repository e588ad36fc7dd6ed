# decode/: the typed-message walker, the generated protocol tables and the
# text and JSON renderers. Depends on nothing but libc (and util/).

XLAT_IN       := $(wildcard decode/xlat/*.in)
DECODE_GEN    := $(foreach abi,$(MIG_ABIS),$(B)/gen/decode/schema-$(abi).c) \
                 $(patsubst decode/xlat/%.in,$(B)/gen/decode/xlat-%.c,$(XLAT_IN))
DECODE_OBJS   := $(patsubst %.c,$(B)/%.o,$(wildcard decode/*.c)) \
                 $(DECODE_GEN:.c=.o)
LIBDECODE     := $(B)/libmo-decode.a

# The schema of one profile, from the MIG user stubs of every .defs.
$(B)/gen/decode/schema-%.c: decode/gen-schema.awk decode/ctypes.in \
		decode/argnames.in $$(call MIG_USER,$$*)
	@mkdir -p $(dir $@)
	$(AWK) -v abi=$* -v sems=decode/ctypes.in -v aliases=decode/argnames.in \
		-f decode/gen-schema.awk $(call MIG_USER,$*) > $@

$(B)/gen/decode/xlat-%.c: decode/xlat/%.in decode/gen-xlat.awk
	@mkdir -p $(dir $@)
	$(AWK) -f decode/gen-xlat.awk $< > $@

$(B)/gen/decode/%.o: $(B)/gen/decode/%.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBDECODE): $(DECODE_OBJS) $(UTIL_OBJS)
	$(AR) rcs $@ $^
