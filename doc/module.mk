# doc/: the manual page and documents; install rules for the program and
# the page. Other modules hook their own install-* targets onto install.
install: install-motrace install-man install-doc
DOCDIR ?= $(PREFIX)/share/doc/motrace

install-motrace: $(MOTRACE)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(MOTRACE) $(DESTDIR)$(BINDIR)/motrace

install-man: doc/motrace.1
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 doc/motrace.1 $(DESTDIR)$(MANDIR)/man1/motrace.1

# The main job: motrace over mo-filepager, with mo-map faulting pages in
# through the Linux-hosted kernel (tools/demo).
demo: $(MOTRACE) $(B)/mo-map $(B)/mo-filepager
	B=$(B) tools/demo

# The debugger's prompt on the same pager and kernel (tools/demo-debug).
demo-debug: $(MOTRACE) $(B)/mo-map $(B)/mo-filepager
	B=$(B) tools/demo-debug

# The page view on two kernels of the coherent pager (tools/demo-tui).
demo-tui: $(MOTRACE) $(B)/mo-map $(B)/mo-coherent
	B=$(B) tools/demo-tui

# What a pager author reads: the howto, the protocol facts it cites, the
# bundled pagers, the wire format.
DOCS := doc/pager-howto.md doc/protocol.md doc/pagers.md doc/wire.md doc/workload.md \
        doc/engine.md

install-doc: $(DOCS)
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

.PHONY: install-motrace install-man demo-debug demo-tui install-doc
