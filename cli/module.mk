# cli/: the motrace program.
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c))
MOTRACE  := $(B)/motrace
PROGRAMS += $(MOTRACE)

$(MOTRACE): $(CLI_OBJS) $(LIBPLUGINS) $(LIBTRACER) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lreadline -lpcap -ldw -lelf -ldl -lpthread

# The prompt wakes the proxy's loop with a Mach message.
$(B)/cli/repl.o: CPPFLAGS += -I$(B)/include
$(B)/cli/repl.o: $(MACH_IFACE_H)
