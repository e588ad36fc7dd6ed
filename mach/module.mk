# mach/: Mach IPC for Linux processes (libmotrace-mach), its headers, the
# pkg-config file and the install rules; tests/mach/ and the benchmark.
#
# Everything in the library is compiled position-independent, so the same
# objects make the static and the shared library. It carries its own
# copy of decode/'s walker and schema (the message layouts), and MIG's
# user stubs for mach.defs (memory_object_data_supply and the rest), as
# glibc's libmachuser does on the Hurd; vm_allocate and vm_deallocate are
# renamed there, as the library has its own (mach/task.c).

MACH_SRCS    := $(wildcard mach/*.c)
MACH_PIC     := $(patsubst %.c,$(B)/pic/%.o,$(MACH_SRCS)) \
                $(B)/pic/mach/machUser.o \
                $(B)/pic/decode/walk.o \
                $(patsubst %,$(B)/pic/gen/decode/schema-%.o,$(MIG_ABIS))
LIBMACH_A    := $(B)/libmotrace-mach.a
LIBMACH_SO   := $(B)/libmotrace-mach.so
LIBMACH_SO1  := $(B)/libmotrace-mach.so.1
MACH_IFACE_H := $(B)/include/mach/mach_interface.h
MACH_CFLAGS   = $(ALL_CFLAGS) -fPIC -I$(B)/include
MACH_LIBS    := -lpthread

PROGRAMS += $(LIBMACH_A) $(LIBMACH_SO)

# MIG's header for mach.defs, under the name glibc gives it on the Hurd.
$(MACH_IFACE_H): $(B)/mig/x86_64/mach.h
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/pic/mach/%.o: mach/%.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(MACH_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/pic/mach/machUser.o: $(B)/mig/x86_64/machUser.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(MACH_CFLAGS) -w -Dvm_allocate=mo_rpc_vm_allocate \
		-Dvm_deallocate=mo_rpc_vm_deallocate -c -o $@ $<

$(B)/pic/decode/%.o: decode/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(MACH_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/pic/gen/decode/%.o: $(B)/gen/decode/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(MACH_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBMACH_A): $(MACH_PIC) $(B)/pic/util/strbuf.o $(B)/pic/util/intmap.o
	rm -f $@
	$(AR) rcs $@ $^

$(B)/pic/util/%.o: util/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(MACH_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBMACH_SO1): $(MACH_PIC) $(B)/pic/util/strbuf.o $(B)/pic/util/intmap.o \
		mach/libmotrace-mach.map
	$(CC) -shared -Wl,-soname,libmotrace-mach.so.1 \
		-Wl,--version-script=mach/libmotrace-mach.map $(LDFLAGS) \
		-o $@ $(filter %.o,$^) $(MACH_LIBS)

$(LIBMACH_SO): $(LIBMACH_SO1)
	ln -sf libmotrace-mach.so.1 $@

# Remade whenever PREFIX, LIBDIR or INCDIR differ from the last time.
$(B)/motrace-mach.pc: mach/motrace-mach.pc.in mach-force
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

mach-force:
.PHONY: mach-force

# make install: the library (shared and static), the headers MIG output
# and pagers include, and the pkg-config file (doc/pager-howto.md).
install: install-mach
LDCONFIG ?= ldconfig


install-mach: $(LIBMACH_A) $(LIBMACH_SO) $(MACH_IFACE_H) $(B)/motrace-mach.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/mach
	install -m 644 $(LIBMACH_A) $(DESTDIR)$(LIBDIR)/libmotrace-mach.a
	install -m 755 $(LIBMACH_SO1) $(DESTDIR)$(LIBDIR)/libmotrace-mach.so.1
	ln -sf libmotrace-mach.so.1 $(DESTDIR)$(LIBDIR)/libmotrace-mach.so
	install -m 644 mach/include/mach.h mach/include/mach_init.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(wildcard mach/include/mach/*.h) $(MACH_IFACE_H) \
		$(DESTDIR)$(INCDIR)/mach/
	install -m 644 $(B)/motrace-mach.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	@# A real install (no DESTDIR) refreshes the loader's cache, so that
	@# programs find libmotrace-mach.so.1 (doc/pager-howto.md, "Install").
	@if [ -z "$(DESTDIR)" ]; then echo $(LDCONFIG); $(LDCONFIG) || \
	  echo "note: $(LDCONFIG) failed: run it as root, or point LD_LIBRARY_PATH at $(LIBDIR)"; fi

.PHONY: install-mach

-include tests/mach/module.mk

# make bench: round trips against a same-run Unix-socket baseline.
$(B)/bench/mach-bench: bench/mach-bench.c $(LIBMACH_A) $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/include -o $@ $< $(LIBMACH_A) -lpthread

bench: bench-mach
bench-mach: $(B)/bench/mach-bench
	@echo "== mach: round trips between two processes (pinned by the program)"
	$(B)/bench/mach-bench -c $(BENCH_CPU),$(if $(filter 0,$(BENCH_CPU)),1,0)

.PHONY: bench-mach
