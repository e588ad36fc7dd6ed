# tests/lib-tty.sh: a program on a real terminal, driven as a user would
# through tmux (the window is the session t unless told); sourced after
# lib.sh.

# tty_start WHAT: skips the rest of the test (test_skip WHAT) when tmux is
# missing; else $T runs tmux on the test's own server, $S is a private
# folder for sockets, and wait_until shows the window when it times out.
# At exit the tmux server ends, then tty_more runs when the test defines
# it (to end what the window's program left), then $TRASH goes.
# TTY_LINES, when set, is how much scrollback screen shows (long lines
# joined), for line-based programs whose output scrolls away.
tty_start() {
	if ! command -v tmux > /dev/null 2>&1; then
		test_skip "$1" 'tmux is missing (tools/packages lists it)'
		test_done
		exit
	fi
	S=${S:-$TRASH/s}
	[ -d "$S" ] || mkdir -m 700 "$S"
	T="tmux -S $TRASH/tmux.sock"
	WAIT_SHOW=screen
	trap tty_stop EXIT
}

tty_stop() {
	$T kill-server 2> /dev/null
	command -v tty_more > /dev/null 2>&1 && tty_more
	rm -rf "$TRASH"
}

# screen [SESSION]: what the window shows now.
screen() {
	$T capture-pane -p -t "${1:-t}" ${TTY_LINES:+-J -S -$TTY_LINES}
}

# on_screen PATTERN [SESSION]
on_screen() {
	screen "${2:-t}" | grep -q -- "$1"
}

# type_line LINE: LINE typed literally (-l: "end" would be the End key),
# then Enter.
type_line() {
	$T send-keys -t t -l "$1" && $T send-keys -t t Enter
}

# cells [SESSION]: the page view's grid as "kernel page cell" lines.
cells() {
	screen "${1:-t}" | awk -f tests/tui/grid-cells.awk | sort
}

# has_cell "KERNEL PAGE CELL" [SESSION]
has_cell() {
	cells "${2:-t}" | grep -q "^$1\$"
}
