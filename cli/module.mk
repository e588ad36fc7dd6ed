# cli/: the motrace program.
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c))
MOTRACE  := $(B)/motrace
PROGRAMS += $(MOTRACE)

$(MOTRACE): $(CLI_OBJS) $(LIBPLUGINS) $(LIBTRACER) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpcap -lelf -ldl -lpthread
