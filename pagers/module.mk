# pagers/: real managers written against MIG's stubs and libmotrace-mach
# only: mo-filepager, mo-coherent, mo-faulty (doc/pagers.md).
#
# memory_object.defs server stubs: -DMIG_EOPNOTSUPP=MIG_BAD_ID gives weak defaults
# for the routines a pager does not implement.

PAGERS       := mo-filepager mo-coherent mo-faulty
PAGER_CFLAGS  = $(ALL_CFLAGS) -I$(B)/include
PAGER_COMMON := $(B)/pagers/pager.o $(B)/pagers/memory_objectServer.o $(B)/util/parse.o

PROGRAMS += $(patsubst %,$(B)/%,$(PAGERS))

$(B)/pagers/%.o: pagers/%.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(PAGER_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/pagers/memory_objectServer.o: $(B)/mig/x86_64/memory_objectServer.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(PAGER_CFLAGS) -Wno-sign-compare -DMIG_EOPNOTSUPP=MIG_BAD_ID -c -o $@ $<

$(patsubst %,$(B)/%,$(PAGERS)): $(B)/%: $(B)/pagers/%.o $(PAGER_COMMON) $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $< $(PAGER_COMMON) $(LIBMACH_A) -lpthread

install: install-pagers
install-pagers: $(patsubst %,$(B)/%,$(PAGERS))
	install -d $(DESTDIR)$(BINDIR)
	for p in $(PAGERS); do install -m 755 $(B)/$$p $(DESTDIR)$(BINDIR)/$$p; done

.PHONY: install-pagers

# The kernel's rule tests (t2004) drive it with a pager whose answers they
# write: tests/kernel/mo-testpager.c, built on the same common part.
# In PROGRAMS too, so that a plain make builds what tests/t2*.sh need.
TEST_PROGRAMS += $(B)/tests/kernel/mo-testpager
PROGRAMS += $(B)/tests/kernel/mo-testpager

$(B)/tests/kernel/mo-testpager.o: tests/kernel/mo-testpager.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(PAGER_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/kernel/mo-testpager: $(B)/tests/kernel/mo-testpager.o $(PAGER_COMMON) $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $< $(PAGER_COMMON) $(LIBMACH_A) -lpthread
