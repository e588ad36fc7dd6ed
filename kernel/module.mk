# kernel/: the Linux-hosted kernel side (libmo-kernel) and mo-map, the
# workload driver that maps an object with it (kernel/README.md).
#
# The kernel sends memory_object.defs messages with MIG's user stubs,
# built to call mo_kernel_mig_send (which logs, then calls mach_msg);
# the pager's calls on the control ports are read with decode/.

LIBKERNEL    := $(B)/libmo-kernel.a
KERNEL_OBJS  := $(B)/kernel/kernel.o $(B)/kernel/memory_objectUser.o
KERNEL_CFLAGS = $(ALL_CFLAGS) -I$(B)/include -I$(B)/mig/x86_64
# The order matters: decode/ before the Mach library, which carries its
# own copy of the walker.
KERNEL_LIBS   = $(LIBKERNEL) $(LIBDECODE) $(LIBMACH_A) -lpthread

PROGRAMS += $(LIBKERNEL) $(B)/mo-map

$(B)/kernel/%.o: kernel/%.c $(MACH_IFACE_H) $(B)/mig/x86_64/memory_object.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/kernel/memory_objectUser.o: $(B)/mig/x86_64/memory_objectUser.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -Wno-sign-compare -Dmach_msg=mo_kernel_mig_send -c -o $@ $<

$(LIBKERNEL): $(KERNEL_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/mo-map: $(B)/kernel/mo-map.o $(LIBKERNEL) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $(B)/kernel/mo-map.o $(KERNEL_LIBS)

install: install-kernel
install-kernel: $(B)/mo-map
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/mo-map $(DESTDIR)$(BINDIR)/mo-map
	install -m 644 doc/mo-map.1 $(DESTDIR)$(MANDIR)/man1/mo-map.1

.PHONY: install-kernel

# make bench: fault cycles against mo-filepager with an in-process
# userfaultfd baseline of the same run (bench/kernel-bench.sh).
$(B)/bench/kernel-bench: bench/kernel-bench.c $(LIBKERNEL) $(LIBDECODE) $(LIBMACH_A) $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -o $@ $< $(KERNEL_LIBS)

bench: bench-kernel
bench-kernel: $(B)/bench/kernel-bench $(B)/mo-filepager
	sh bench/kernel-bench.sh $(B)

.PHONY: bench-kernel
