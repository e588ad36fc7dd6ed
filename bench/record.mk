# bench/record.mk: what recording and plugins cost (bench/record-bench.sh):
# faults/s through motrace -c -w FILE and -c --plugin timeline against
# motrace -c, and reading a recording with motrace -r FILE -c against
# libpcap alone (tcpdump -r -w), in one run.

$(B)/bench/record-copy: bench/record-copy.c $(LIBTRACER) $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lpcap -ldw

bench: bench-record
bench-record: $(B)/bench/record-copy $(B)/mo-filepager $(B)/mo-map $(B)/motrace $(B)/plugins/timeline.so
	sh bench/record-bench.sh $(B)

.PHONY: bench-record
