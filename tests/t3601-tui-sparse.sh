#!/bin/sh
# The page view on a sparse object: a 1 TiB file served by mo-filepager,
# ten pages touched, and the grid has a row per run of them (two pages
# side by side fold into one), not a row per page of the object; p goes
# to a page far in, End to the last row; a page whose data_supply is
# stopped shows as requested, with the access asked. A kernel that went
# away leaves the first columns to the live ones. d drops a stopped
# message, and the wait for it is named; a diagnostic names the message
# that caused it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-tty.sh"

tty_start 'the page view'
tty_more() {
	pkill -f "^$B/mo-map --size 1T unix:$S/" 2> /dev/null
	pkill -f "^$B/mo-(filepager|faulty) unix:$S/" 2> /dev/null
}

truncate -s 1T "$TRASH/big"

test_expect_success 'a 1 TiB object, ten pages touched: nine rows' '
	$T new-session -d -s t -x 120 -y 40 "cd $TOP && $MOTRACE --tui --no-time -- $B/mo-filepager unix:$S/fp $TRASH/big; sleep 60" &&
	wait_until 10 test -S "$S/fp" &&
	printf "read 0\nread 0x40000000\nread 0x280000000\nwrite 0x1900000000 5\nread 0xfffffff000\nread 0x7fff000000\nread 0x10000\nread 0x11000\nread 0x13000\nread 0x200000000\nsleep 60000\n" > "$TRASH/sp.map" &&
	{ timeout 60 "$B/mo-map" --size 1T "unix:$S/fp" "$TRASH/sp.map" > "$TRASH/sp.out" 2>&1 & } &&
	wait_until 10 grep -q "^read 0x200000000" "$TRASH/sp.out" &&
	wait_until 5 on_screen "kernels 1  pages 10" &&
	test "$(screen | grep -c "^[ >][0-9]")" = 9 &&
	screen | grep -q "^ 16-17  *res ro$" &&
	has_cell "k0 26214400 res rw  D...." &&
	has_cell "k0 268435455 res ro"
'

test_expect_success 'p goes to a page far in; End to the last row' '
	$T send-keys -t t p 134213632 Enter &&
	wait_until 5 on_screen "^>134213632 " &&
	$T send-keys -t t Home &&
	wait_until 5 on_screen "^>0 " &&
	$T send-keys -t t End &&
	wait_until 5 on_screen "^>268435455 "
'

test_expect_success 'a data_supply stopped: its page shows requested, with the access asked' '
	$T send-keys -t t : "break data_supply" Enter &&
	wait_until 5 on_screen "^ breakpoint 1: data_supply$" &&
	printf "write 0x3000000000 1\nsleep 60000\n" > "$TRASH/w.map" &&
	{ timeout 60 "$B/mo-map" --size 1T "unix:$S/fp" "$TRASH/w.map" > "$TRASH/w.out" 2>&1 & } &&
	wait_until 10 on_screen "^ stopped (1)" &&
	wait_until 5 has_cell "k1 50331648 req rw-" &&
	$T send-keys -t t c &&
	wait_until 5 has_cell "k1 50331648 res rw  D...."
'

test_expect_success 'a kernel that went away: the live kernels first' '
	pkill -KILL -f "^$B/mo-map --size 1T unix:$S/fp $TRASH/sp.map" &&
	wait_until 10 eval "screen | sed -n 2p | grep -q \"k1   ready    k0   gone\""
'

test_expect_success 'd drops the selected stopped message; the diagnostic names its cause' '
	$T send-keys -t t : "delete 1" Enter : "break data_request" Enter &&
	wait_until 5 on_screen "^[ >]breakpoint [0-9]*: data_request$" &&
	printf "read 0x5000000000\nsleep 60000\n" > "$TRASH/d.map" &&
	{ timeout 60 "$B/mo-map" --size 1T "unix:$S/fp" "$TRASH/d.map" > "$TRASH/d.out" 2>&1 & } &&
	wait_until 10 on_screen "^ stopped (1)" &&
	$T send-keys -t t Tab &&
	wait_until 5 on_screen "^>   [0-9]*  k2> memory_object_data_request offset 0x5000000000" &&
	$T send-keys -t t d &&
	wait_until 5 on_screen "^ stopped (0)" &&
	on_screen "k2> memory_object_data_request offset 0x5000000000 length 0x1000 access r-- \[dropped\]" &&
	wait_until 10 on_screen "^ request-timeout: kernel 2 has waited .* for data_request of page 83886080" &&
	$T send-keys -t t q
'

test_expect_success 'a diagnostic in its pane, with the message that caused it' '
	$T new-session -d -s f -x 160 -y 40 "cd $TOP && $MOTRACE --tui --no-time -- $B/mo-faulty unix:$S/faulty --bug=double-supply; sleep 60" &&
	wait_until 10 test -S "$S/faulty" &&
	printf "read 0\nsleep 60000\n" > "$TRASH/f.map" &&
	{ timeout 60 "$B/mo-map" --size 1T "unix:$S/faulty" "$TRASH/f.map" > "$TRASH/f.out" 2>&1 & } &&
	wait_until 10 eval "$T capture-pane -p -t f | grep -q \"^ diagnostics (1)\"" &&
	$T capture-pane -p -t f | grep -q "^ supply-present: #[0-9]* k0< memory_object_data_supply offset 0x0 length 0x1000 lock -w-: " &&
	$T send-keys -t f q
'

test_done
