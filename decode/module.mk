# decode/: the typed-message walker, the generated protocol tables and the
# text and JSON renderers. Depends on nothing but libc (and util/).

XLAT_IN       := $(wildcard decode/xlat/*.in)
DECODE_GEN    := $(foreach abi,$(MIG_ABIS),$(B)/gen/decode/schema-$(abi).c) \
                 $(patsubst decode/xlat/%.in,$(B)/gen/decode/xlat-%.c,$(XLAT_IN))
DECODE_OBJS   := $(patsubst %.c,$(B)/%.o,$(wildcard decode/*.c)) \
                 $(DECODE_GEN:.c=.o)
LIBDECODE     := $(B)/libmo-decode.a

# The schema of one profile, from the MIG user stubs of every .defs; the
# x86_64 one also holds x86_64_2023's, the same messages in the layout GNU
# Mach has had since 2023, which this host's MIG does not generate.
$(B)/gen/decode/schema-%.c: decode/gen-schema.awk decode/ctypes.in \
		decode/argnames.in decode/callfields.in $$(call MIG_USER,$$*)
	@mkdir -p $(dir $@)
	$(AWK) -v abi=$* -v sems=decode/ctypes.in -v aliases=decode/argnames.in \
		-v fields=decode/callfields.in \
		-v lp64=$(if $(filter x86_64,$*),x86_64_2023) \
		-f decode/gen-schema.awk $(call MIG_USER,$*) > $@

# decode/msgid.h: the message ids by name (the same in every profile).
MO_MSGID_H    := $(B)/gen/decode/msgid.h
$(MO_MSGID_H): decode/gen-schema.awk $$(call MIG_USER,x86_64)
	@mkdir -p $(dir $@)
	$(AWK) -v ids=1 -f decode/gen-schema.awk $(call MIG_USER,x86_64) > $@

# Any object may include decode/msgid.h: it is made before them all.
$(patsubst %.c,$(B)/%.o,$(wildcard */*.c */*/*.c)) \
$(patsubst %.c,$(B)/pic/%.o,$(wildcard mach/*.c decode/*.c)): | $(MO_MSGID_H)

$(B)/gen/decode/xlat-%.c: decode/xlat/%.in decode/gen-xlat.awk
	@mkdir -p $(dir $@)
	$(AWK) -f decode/gen-xlat.awk $< > $@

$(B)/gen/decode/%.o: $(B)/gen/decode/%.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBDECODE): $(DECODE_OBJS) $(UTIL_OBJS)
	$(AR) rcs $@ $^
