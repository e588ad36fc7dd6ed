# doc/: the manual page and documents; install rules for the program and
# the page. Other modules hook their own install-* targets onto install.
install: install-motrace install-man

install-motrace: $(MOTRACE)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(MOTRACE) $(DESTDIR)$(BINDIR)/motrace

install-man: doc/motrace.1
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 doc/motrace.1 $(DESTDIR)$(MANDIR)/man1/motrace.1

# The main job, for now: decode the bundled samples.
demo: $(MOTRACE) $(B)/tests/golden/x86_64.bin
	@echo "== every memory-object message, as MIG lays it out for a 64-bit process:"
	$(MOTRACE) decode $(B)/tests/golden/x86_64.bin
	@echo "== the same protocol as the x86-64 GNU Mach kernel speaks it to 32-bit tasks:"
	$(MOTRACE) decode --abi user32 --hex tests/golden/user32.hex || true

.PHONY: install-motrace install-man
