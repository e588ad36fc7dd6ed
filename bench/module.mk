# bench/: benchmarks, each reporting ratios against a baseline measured in
# the same run. Modules add their own targets as prerequisites of bench.
# Figures are pinned to one core (taskset -c $(BENCH_CPU)).
BENCH_CPU ?= 0

$(B)/bench/decode-bench: bench/decode-bench.c $(LIBDECODE) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

bench: bench-decode
bench-decode: $(B)/bench/decode-bench $(B)/tests/golden/x86_64.bin
	@echo "== decode: pinned to CPU $(BENCH_CPU)"
	taskset -c $(BENCH_CPU) $(B)/bench/decode-bench $(B)/tests/golden/x86_64.bin

.PHONY: bench-decode
include bench/tracer.mk
include bench/record.mk
include bench/stack.mk
include bench/tui.mk
include bench/attach.mk
