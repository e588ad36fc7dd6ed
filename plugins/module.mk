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

# The loader, linked into motrace; plugins find their folder by PLUGINDIR.
PLUGINDIR    ?= $(LIBDIR)/motrace/plugins
LIBPLUGINS   := $(B)/libmo-plugins.a
$(B)/plugins/loader.o: CPPFLAGS += -DMOTRACE_PLUGIN_DIR='"$(PLUGINDIR)"'
$(LIBPLUGINS): $(B)/plugins/loader.o
	$(AR) rcs $@ $^

# The bundled plugins, each a shared object as any plugin is.
PLUGIN_NAMES := timeline hotpages rewrite
PLUGIN_SOS   := $(patsubst %,$(B)/plugins/%.so,$(PLUGIN_NAMES))
PROGRAMS     += $(PLUGIN_SOS)
$(B)/plugins/%.so: plugins/%.c plugins/motrace-plugin.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -Iplugins -shared -fPIC -o $@ $<

install: install-plugins
# The .pc is written at install time, for the PREFIX of the install.
install-plugins: $(PLUGIN_SOS) plugins/motrace-plugin.pc.in
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(PLUGIN_SOS) $(DESTDIR)$(PLUGINDIR)
	install -m 644 plugins/motrace-plugin.h $(DESTDIR)$(INCDIR)/motrace-plugin.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	    -e 's|@PLUGINDIR@|$(PLUGINDIR)|g' plugins/motrace-plugin.pc.in \
	    > $(DESTDIR)$(LIBDIR)/pkgconfig/motrace-plugin.pc
.PHONY: install-plugins
