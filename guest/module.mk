# guest/: the real GNU Mach kernel under qemu (guest/README.md).
#
# $(B)/guest/gnumach.elf32  the Debian kernel, trap entry fixed, for qemu
# $(B)/guest/mo-agent       the freestanding 32-bit bootstrap task
# $(B)/mo-gnumach           the host side: boots qemu, relays, test pager

GUEST_KERNEL_IMAGE ?= /boot/gnumach-1.8-486.gz
GUEST_KERNEL := $(B)/guest/gnumach.elf32
GUEST_AGENT  := $(B)/guest/mo-agent
MO_GNUMACH   := $(B)/mo-gnumach
PROGRAMS     += $(GUEST_KERNEL) $(GUEST_AGENT)

$(GUEST_KERNEL): guest/prepare-kernel $(GUEST_KERNEL_IMAGE) | deps
	@mkdir -p $(dir $@)
	guest/prepare-kernel --image $(GUEST_KERNEL_IMAGE) $@

# The kernel serves device.defs, mach_host.defs, mach_i386.defs,
# mach_port.defs and gnumach.defs and is the client of exc.defs (exception_raise to the agent); mach.defs comes
# from mig/ (user32, -DKERNEL_SERVER already).
GUEST_MIG := $(B)/guest/mig
GUEST_MIG_SRC := device/device mach/mach_host mach/x86_64/mach_i386 mach/exc mach/mach_port \
	mach/gnumach
guest_mig_side = $(if $(filter mach/exc,$(1)),-DKERNEL_USER,-DKERNEL_SERVER)
define guest_mig_rule
$(GUEST_MIG)/$(notdir $(1))User.c: $(MACHINC)/$(1).defs | deps
	@mkdir -p $$(dir $$@)
	cd $(GUEST_MIG) && $(MIG) -n -DKERNEL -DUSER32 $(call guest_mig_side,$(1)) \
		-I$(MACHINC) -user $(notdir $(1))User.c -header $(notdir $(1)).h $$<
endef
$(foreach d,$(GUEST_MIG_SRC),$(eval $(call guest_mig_rule,$(d))))

# The routines the agent calls and the ones the host sends through it.
GUEST_ROUTINES := thread_create thread_get_state thread_set_state \
	thread_resume device_open device_map device_write_inband \
	i386_io_perm_create i386_io_perm_modify host_reboot \
	memory_object_ready memory_object_data_supply \
	memory_object_data_unavailable memory_object_data_error \
	memory_object_lock_request memory_object_destroy \
	memory_object_init memory_object_data_request memory_object_data_unlock \
	memory_object_lock_completed memory_object_data_return \
	memory_object_terminate memory_object_change_attributes \
	memory_object_supply_completed memory_object_get_attributes \
	exception_raise task_set_special_port thread_info vm_wire \
	mach_port_move_member mach_port_destroy \
	device_set_status device_read_inband vm_allocate_contiguous
GUEST_MSG32 := $(B)/guest/msg32.h
$(GUEST_MSG32): guest/gen-msg32.awk guest/module.mk $(B)/mig/user32/machUser.c \
		$(B)/mig/user32/memory_objectUser.c \
		$(foreach d,$(GUEST_MIG_SRC),$(GUEST_MIG)/$(notdir $(d))User.c)
	$(AWK) -v want="$(GUEST_ROUTINES)" -f guest/gen-msg32.awk \
		$(MACHINC)/mach/message.h $(filter %.c,$^) > $@

# Freestanding: our own runtime, no libc, no 32-bit libgcc (GNUMACH.md);
# i686 for cmpxchg8b (8-byte atomics inline; any x86-64 CPU has it).
AGENT_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-stack-protector \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables $(WARN) -O2 -g \
	-I. -I$(B)/guest
AGENT_SRCS := $(wildcard guest/agent/*.c guest/agent/*.S)
AGENT_OBJS := $(patsubst %,$(B)/%.o,$(AGENT_SRCS))

$(B)/guest/agent/%.c.o: guest/agent/%.c $(GUEST_MSG32) | deps
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/guest/agent/%.S.o: guest/agent/%.S | deps
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c -o $@ $<

# A static ELF32 linked well inside user space (0-0x40000000, GNUMACH.md).
$(GUEST_AGENT): $(AGENT_OBJS)
	$(CC) -m32 -nostdlib -static -no-pie -Wl,-Ttext-segment=0x01000000 \
		-Wl,--build-id=none -o $@ $^

# The host side talks to real pagers over mach/ with MIG's x86_64 stubs
# of memory_object.defs (machpeer.c), built here as kernel/ builds them.
GUEST_HOST_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard guest/host/*.c))
GUEST_MO_USER   := $(B)/guest/host/memory_objectUser.o
ifneq ($(GUEST_HOST_OBJS),)
PROGRAMS += $(MO_GNUMACH)
endif
$(GUEST_HOST_OBJS): $(GUEST_MSG32) $(MACH_IFACE_H) $(B)/mig/x86_64/memory_object.h
$(GUEST_HOST_OBJS): CPPFLAGS += -I$(B)/guest -I$(B)/include -I$(B)/mig/x86_64
$(GUEST_MO_USER): $(B)/mig/x86_64/memory_objectUser.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/include -I$(B)/mig/x86_64 -w -c -o $@ $<
$(MO_GNUMACH): $(GUEST_HOST_OBJS) $(GUEST_MO_USER) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

bench: bench-guest
bench-guest: $(MO_GNUMACH) $(GUEST_KERNEL) $(GUEST_AGENT)
	@echo "== guest: real GNU Mach fault cycles, relay against in-guest pager"
	bench/guest-fault.sh $(B)
.PHONY: bench-guest

GUEST_TEST_RING := $(B)/guest/test-ring
TEST_PROGRAMS += $(GUEST_TEST_RING)
$(GUEST_TEST_RING): guest/test-ring.c guest/host/relay.c guest/host/relay.h guest/ring.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ guest/test-ring.c guest/host/relay.c

# make install: mo-gnumach in BINDIR, the prepared kernel and the agent in
# LIBDIR/motrace/guest, where an installed mo-gnumach looks for them.
GUEST_DIR := $(LIBDIR)/motrace/guest
$(GUEST_HOST_OBJS): CPPFLAGS += -DMO_GUEST_DIR='"$(GUEST_DIR)"'
install: install-guest
install-guest: $(MO_GNUMACH) $(GUEST_KERNEL) $(GUEST_AGENT)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(GUEST_DIR)
	install -m 755 $(MO_GNUMACH) $(DESTDIR)$(BINDIR)/mo-gnumach
	install -m 644 $(GUEST_KERNEL) $(DESTDIR)$(GUEST_DIR)/gnumach.elf32
	install -m 644 $(GUEST_AGENT) $(DESTDIR)$(GUEST_DIR)/mo-agent
.PHONY: install-guest
