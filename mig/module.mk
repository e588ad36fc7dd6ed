# mig/: run MIG on GNU Mach's .defs, once per ABI profile.
#
# $(B)/mig/ABI/NAMEUser.c and NAME.h for every profile; for x86_64 also the
# server side (NAMEServer.c, NAMEServer.h), which pagers and tests link.

MIG_DEFS := memory_object memory_object_default mach mach4 notify
MIG_ABIS := x86_64 user32 i386

# x86_64: what a 64-bit Linux process sends and receives; MIG's cpp run
# defines no target macro, so name the target (doc: PROTOCOL.md).
MIG_FLAGS_x86_64 = -D__x86_64__
# i386: classic 32-bit GNU Mach.
MIG_FLAGS_i386   =
# user32: the layouts the x86-64 GNU Mach kernel uses with 32-bit tasks.
# The kernel is the sender of memory_object.defs, memory_object_default.defs
# and notify.defs, and the server of mach.defs and mach4.defs.
MIG_FLAGS_user32 = -DKERNEL -DUSER32 $(if $(filter mach mach4,$(1)),-DKERNEL_SERVER,-DKERNEL_USER)

define mig_rules
$(B)/mig/$(1)/%User.c $(B)/mig/$(1)/%.h: $(MACHINC)/mach/%.defs | deps
	@mkdir -p $$(dir $$@)
	cd $(B)/mig/$(1) && $(MIG) -n $$(call MIG_FLAGS_$(1),$$*) \
		-user $$*User.c -header $$*.h $$<
endef
$(foreach abi,$(MIG_ABIS),$(eval $(call mig_rules,$(abi))))

$(B)/mig/x86_64/%Server.c $(B)/mig/x86_64/%Server.h: $(MACHINC)/mach/%.defs | deps
	@mkdir -p $(dir $@)
	cd $(B)/mig/x86_64 && $(MIG) -n $(MIG_FLAGS_x86_64) \
		-server $*Server.c -sheader $*Server.h $<

MIG_USER = $(foreach d,$(MIG_DEFS),$(B)/mig/$(1)/$(d)User.c)
