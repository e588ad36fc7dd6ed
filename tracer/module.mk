# tracer/: the proxy engine: page model and checker (more to come: links,
# rules, statistics, recording).
TRACER_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tracer/*.c)) \
               $(B)/tracer/memory_objectUser.o
LIBTRACER   := $(B)/libmo-tracer.a

$(LIBTRACER): $(TRACER_OBJS)
	$(AR) rcs $@ $^

# The proxy speaks Mach through libmotrace-mach.
$(B)/tracer/proxy.o: CPPFLAGS += -I$(B)/include
$(B)/tracer/proxy.o: $(MACH_IFACE_H)
$(B)/tracer/attach.o: CPPFLAGS += -I$(B)/include
$(B)/tracer/attach.o: $(MACH_IFACE_H)

# The replayer plays kernels with MIG's memory_object.defs user stubs.
$(B)/tracer/replay.o: CPPFLAGS += -I$(B)/include -I$(B)/mig/x86_64
$(B)/tracer/replay.o: $(MACH_IFACE_H) $(B)/mig/x86_64/memory_object.h
$(B)/tracer/memory_objectUser.o: $(B)/mig/x86_64/memory_objectUser.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/include -I$(B)/mig/x86_64 -Wno-sign-compare -c -o $@ $<
