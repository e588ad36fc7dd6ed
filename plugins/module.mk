# plugins/: what other programs load to read motrace's output; for now the
# Lua dissector of recordings, whose tables come from the decoder's.
DISSECTOR_GEN := $(B)/plugins/gen-dissector
DISSECTOR     := $(B)/share/motrace/motrace.lua
PROGRAMS      += $(DISSECTOR)

$(DISSECTOR_GEN): $(B)/plugins/gen-dissector.o $(LIBDECODE)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(DISSECTOR): $(DISSECTOR_GEN) plugins/motrace.lua
	@mkdir -p $(dir $@)
	{ $(DISSECTOR_GEN) && cat plugins/motrace.lua; } > $@

install: install-dissector
install-dissector: $(DISSECTOR)
	install -d $(DESTDIR)$(PREFIX)/share/motrace
	install -m 644 $(DISSECTOR) $(DESTDIR)$(PREFIX)/share/motrace/motrace.lua
.PHONY: install-dissector
