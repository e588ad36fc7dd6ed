# bench/attach.mk: what attaching costs (bench/attach-bench.sh): faults/s
# directly, through today's proxy, attached (-p -o FILE) and observing
# (-p --observe -o FILE), all in the same run.

bench: bench-attach
bench-attach: $(B)/mo-filepager $(B)/mo-map $(B)/motrace
	sh bench/attach-bench.sh $(B)

.PHONY: bench-attach
