# bench/stack.mk: what -k costs (bench/stack-bench.sh): faults/s through
# motrace -c -k against motrace -c, in one run.

bench: bench-stack
bench-stack: $(B)/mo-filepager $(B)/mo-map $(B)/motrace
	sh bench/stack-bench.sh $(B)

.PHONY: bench-stack
