# tests/mach/: programs for the t1xxx tests, built from MIG's output and
# libmotrace-mach exactly as a user's pager would be (no changes to the
# generated files).

TM      := $(B)/tests/mach
MIGX    := $(B)/mig/x86_64
TM_CFLAGS = $(ALL_CFLAGS) -I$(B)/include -I$(MIGX)

$(TM)/%.o: tests/mach/%.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(TM_CFLAGS) -MMD -MP -c -o $@ $<

# MIG's output, compiled as it comes (its own warnings are not ours).
$(TM)/mig/%.o: $(MIGX)/%.c $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(TM_CFLAGS) -w -c -o $@ $<

# MIG's headers the test programs include, made before they compile.
$(TM)/mo-pager.o: $(MIGX)/mach4.h
$(TM)/mo-kernel.o: $(MIGX)/memory_object.h $(MIGX)/memory_object_default.h

$(TM)/machServer-unimpl.c: $(MIGX)/machServer.h $(MIGX)/mach4Server.h \
		tests/mach/unimpl.awk
	@mkdir -p $(dir $@)
	$(AWK) -v skip="vm_allocate vm_deallocate memory_object_create_proxy" \
		-f tests/mach/unimpl.awk $(MIGX)/machServer.h $(MIGX)/mach4Server.h > $@

$(TM)/machServer-unimpl.o: $(TM)/machServer-unimpl.c
	$(CC) -c -o $@ $<

$(TM)/mo-pager: $(TM)/mo-pager.o $(TM)/mig/memory_objectServer.o \
		$(TM)/mig/memory_object_defaultServer.o $(TM)/mig/machUser.o \
		$(TM)/mig/mach4User.o $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(TM)/mo-kernel: $(TM)/mo-kernel.o $(TM)/mig/memory_objectUser.o \
		$(TM)/mig/memory_object_defaultUser.o $(TM)/mig/machServer.o \
		$(TM)/mig/mach4Server.o $(TM)/machServer-unimpl.o $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

# The same pair against the shared library.
$(TM)/mo-pager-so: $(TM)/mo-pager.o $(TM)/mig/memory_objectServer.o \
		$(TM)/mig/memory_object_defaultServer.o $(TM)/mig/machUser.o \
		$(TM)/mig/mach4User.o $(LIBMACH_SO)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lmotrace-mach -lpthread

$(TM)/mach-%: $(TM)/mach-%.o $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(TM)/intmap-test: $(TM)/intmap-test.o $(B)/util/intmap.o
	$(CC) $(LDFLAGS) -o $@ $^

$(TM)/wire-probe.o: $(MIGX)/memory_object.h
$(TM)/wire-probe: $(TM)/wire-probe.o $(TM)/mig/memory_objectUser.o $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

TEST_PROGRAMS += $(TM)/intmap-test $(TM)/wire-probe
TEST_PROGRAMS += $(TM)/mo-pager $(TM)/mo-kernel $(TM)/mo-pager-so \
                 $(patsubst tests/mach/%.c,$(TM)/%,$(wildcard tests/mach/mach-*.c))

# mach-server: MIG's server side of tests/mach/srvtest.defs, served by
# mach_msg_server_timeout (t1011).
$(TM)/srvtest/srvtestServer.c $(TM)/srvtest/srvtestServer.h: tests/mach/srvtest.defs | deps
	@mkdir -p $(TM)/srvtest
	cd $(TM)/srvtest && $(MIG) -n $(MIG_FLAGS_x86_64) -I$(MACHINC) \
		-server srvtestServer.c -sheader srvtestServer.h \
		-user /dev/null -header /dev/null $(abspath $<)

$(TM)/srvtest/srvtestServer.o: $(TM)/srvtest/srvtestServer.c $(MACH_IFACE_H)
	$(CC) $(TM_CFLAGS) -w -c -o $@ $<

$(TM)/mach-server.o: $(TM)/srvtest/srvtestServer.h
$(TM)/mach-server.o: TM_CFLAGS += -I$(TM)/srvtest
$(TM)/mach-server: $(TM)/mach-server.o $(TM)/srvtest/srvtestServer.o $(LIBMACH_A)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread
