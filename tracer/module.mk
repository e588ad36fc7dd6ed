# tracer/: the proxy engine: page model and checker (more to come: links,
# rules, statistics, recording).
TRACER_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tracer/*.c))
LIBTRACER   := $(B)/libmo-tracer.a

$(LIBTRACER): $(TRACER_OBJS)
	$(AR) rcs $@ $^

# The proxy speaks Mach through libmotrace-mach.
$(B)/tracer/proxy.o: CPPFLAGS += -I$(B)/include
$(B)/tracer/proxy.o: $(MACH_IFACE_H)
