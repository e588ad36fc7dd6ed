# cli/: the motrace program.
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c))
# cli/ui/: the curses page view (motrace --tui).
CLI_OBJS += $(patsubst %.c,$(B)/%.o,$(wildcard cli/ui/*.c))
MOTRACE  := $(B)/motrace
PROGRAMS += $(MOTRACE)

$(MOTRACE): $(CLI_OBJS) $(LIBPLUGINS) $(LIBTRACER) $(LIBDECODE) $(LIBMACH_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lreadline -lncurses -lpcap -ldw -lelf -ldl -lpthread

# The prompt and the page view are descriptors of the proxy's loop.
$(B)/cli/repl.o: CPPFLAGS += -I$(B)/include
$(B)/cli/repl.o: $(MACH_IFACE_H)

$(B)/cli/ui/tui.o: CPPFLAGS += -I$(B)/include
$(B)/cli/ui/tui.o: $(MACH_IFACE_H)
