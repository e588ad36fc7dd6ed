# tests/tracer/: programs behind the proxy's tests.
#
# selfmap: a pager that maps its own object; its server side comes from
# MIG's SEQNOS stubs so that the kernel's user stubs can live beside them.
T_TR := $(B)/tests/tracer

$(T_TR)/memory_objectServer.c: $(MACHINC)/mach/memory_object.defs | deps
	@mkdir -p $(dir $@)
	cd $(T_TR) && $(MIG) -n $(MIG_FLAGS_x86_64) -DSEQNOS \
		-server memory_objectServer.c -sheader memory_objectServer.h $<

$(T_TR)/selfmap: tests/tracer/selfmap.c $(T_TR)/memory_objectServer.c \
		$(LIBKERNEL) $(LIBDECODE) $(LIBMACH_A) $(MACH_IFACE_H)
	$(CC) $(ALL_CFLAGS) -I$(B)/include -Wno-sign-compare \
		-DMIG_EOPNOTSUPP=MIG_BAD_ID -o $@ tests/tracer/selfmap.c \
		$(T_TR)/memory_objectServer.c $(KERNEL_LIBS)

TEST_PROGRAMS += $(T_TR)/selfmap

# inject-mig: injected messages against MIG's user stubs (a recording
# mach_msg, as tests/decode/mkgolden.c).
$(T_TR)/inject-mig: tests/tracer/inject-mig.c $(B)/mig/x86_64/machUser.c \
		$(B)/mig/x86_64/memory_objectUser.c $(LIBTRACER) $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) -I$(B)/mig/x86_64 $(ALL_CFLAGS) -Wno-unused-variable -Wno-sign-compare \
		-o $@ $^ -ldw

TEST_PROGRAMS += $(T_TR)/inject-mig

# recfrag: a message larger than a pcap record, recorded and read back.
$(T_TR)/recfrag: tests/tracer/recfrag.c $(B)/mig/x86_64/machUser.c \
		$(LIBTRACER) $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) -I$(B)/mig/x86_64 $(ALL_CFLAGS) -Wno-sign-compare -o $@ $^ -lpcap -ldw

TEST_PROGRAMS += $(T_TR)/recfrag

# subscribers: the trace's event stream as its subscribers see it.
$(T_TR)/subscribers: tests/tracer/subscribers.c $(LIBTRACER) $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -ldw

TEST_PROGRAMS += $(T_TR)/subscribers

# loop: the proxy's loop woken by a message, a descriptor and a timer.
$(T_TR)/loop: tests/tracer/loop.c $(LIBTRACER) $(LIBDECODE) $(LIBMACH_A) $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/include -o $@ tests/tracer/loop.c \
		$(LIBTRACER) $(LIBDECODE) $(LIBMACH_A) -lpcap -ldw -lelf -lpthread

TEST_PROGRAMS += $(T_TR)/loop
