# doc/: the manual page and documents; install rules for the program and
# the page. Other modules hook their own install-* targets onto install.
install: install-motrace install-man

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

.PHONY: install-motrace install-man
