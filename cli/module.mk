# cli/: the motrace program.
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c))
MOTRACE  := $(B)/motrace
PROGRAMS += $(MOTRACE)

$(MOTRACE): $(CLI_OBJS) $(LIBTRACER) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpcap -lpthread
