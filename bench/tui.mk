# bench/tui.mk: what the page view costs (bench/tui-bench.sh): faults/s
# through motrace --tui -c with its screen live in tmux against motrace -c
# in the same run, and how fast 100,000 rows move.

bench: bench-tui
bench-tui: $(B)/mo-filepager $(B)/mo-map $(B)/motrace
	sh bench/tui-bench.sh $(B)

.PHONY: bench-tui
