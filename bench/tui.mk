# bench/tui.mk: what the page view costs (bench/tui-bench.sh): faults/s
# through motrace --tui -c with its screen live in tmux against motrace -c
# in the same run, how fast 100,000 rows move, and jumps over a recording
# of a million messages.

bench: bench-tui
bench-tui: $(B)/bench/record-copy $(B)/mo-filepager $(B)/mo-map $(B)/motrace
	sh bench/tui-bench.sh $(B)

.PHONY: bench-tui
