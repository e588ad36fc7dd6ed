# bench/tracer.mk: motrace's cost on live traffic (bench/tracer-bench.sh):
# read faults against mo-filepager directly, through a byte relay
# (tracer-relay, the floor of any proxy), through motrace -o FILE and
# through motrace -c, all in the same run.

$(B)/bench/tracer-bench: bench/tracer-bench.c $(LIBKERNEL) $(LIBDECODE) $(LIBMACH_A) $(MACH_IFACE_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -o $@ $< $(KERNEL_LIBS)

$(B)/bench/tracer-relay: bench/tracer-relay.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

bench: bench-tracer
bench-tracer: $(B)/bench/tracer-bench $(B)/bench/tracer-relay $(B)/mo-filepager $(B)/mo-map $(B)/motrace
	sh bench/tracer-bench.sh $(B)

.PHONY: bench-tracer
