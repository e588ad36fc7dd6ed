# tracer/: the proxy engine: page model and checker (more to come: links,
# rules, statistics, recording).
TRACER_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tracer/*.c))
LIBTRACER   := $(B)/libmo-tracer.a

$(LIBTRACER): $(TRACER_OBJS)
	$(AR) rcs $@ $^
