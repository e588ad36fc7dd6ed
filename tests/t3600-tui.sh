#!/bin/sh
# The page view (motrace --tui), driven as a user would through tmux (a
# real ncurses on a real pseudo-terminal): two kernels of mo-map through
# mo-coherent, and the grid shows what each holds of each page; the keys
# move, filter, stop, step, release and break; a resize redraws; the
# monochrome screen of a fixed workload is the golden one; the terminal is
# as it was after q, SIGTERM, Ctrl-C, a fatal signal and the pager's
# death; time travel over the session's recording shows at message N what
# motrace -r FILE --pages --stop-after N says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-tty.sh"

tty_start 'the page view'
tty_more() {
	pkill -f "^$B/mo-map (--size 16p )?unix:$S/" 2> /dev/null
	pkill -f "^$B/mo-(filepager|coherent) unix:$S/" 2> /dev/null
}

alternate() {
	$T display -p -t "${1:-t}" '#{alternate_on}'
}

# start SESSION WxH CMD: CMD in a new window, the terminal's settings
# before and after it in $TRASH/SESSION.before and .after.
start() {
	$T new-session -d -s "$1" -x "${2%x*}" -y "${2#*x}" \
		"cd $TOP && stty -a > $TRASH/$1.before; $3; echo EXIT=\$?; stty -a > $TRASH/$1.after; sleep 120"
}

# ended SESSION STATUS: the command ended with STATUS, the terminal as it was.
ended() {
	wait_until 10 on_screen "^EXIT=$2$" "$1" &&
	test "$(alternate "$1")" = 0 &&
	wait_until 5 test -s "$TRASH/$1.after" &&
	sed "s/rows [0-9]*; columns [0-9]*;//" "$TRASH/$1.before" > "$TRASH/$1.b" &&
	sed "s/rows [0-9]*; columns [0-9]*;//" "$TRASH/$1.after" > "$TRASH/$1.a" &&
	test_cmp "$TRASH/$1.b" "$TRASH/$1.a"
}

# map NAME SCRIPT: an mo-map of 16 pages in the background; its output in
# $TRASH/NAME.out. The scripts end asleep, so that their kernels hold
# what they have while the screen is looked at.
map() {
	printf "$2" > "$TRASH/$1.map"
	timeout 60 "$B/mo-map" --size 16p "unix:$S/co" "$TRASH/$1.map" > "$TRASH/$1.out" 2>&1 &
}

test_expect_success 'motrace --tui -- mo-coherent: the screen comes up on the alternate screen' '
	start t 120x40 "$MOTRACE --tui --no-time --color never -w $TRASH/rec.pcap -- $B/mo-coherent unix:$S/co 16p" &&
	wait_until 10 test -S "$S/co" &&
	wait_until 5 on_screen "no object yet" &&
	test "$(alternate)" = 1
'

test_expect_success 'two kernels: the grid shows each page per kernel' '
	map a "read 0\nwrite 1p 7\nread 2p\nread 5p\nsleep 60000\n" &&
	wait_until 10 grep -q "^read 0x5000" "$TRASH/a.out" &&
	map b "read 0\nwrite 3p 5\nread 2p\nwrite 1p 9\nread 1p\nsleep 60000\n" &&
	wait_until 10 grep -q "^read 0x1000 0x9" "$TRASH/b.out" &&
	cat > "$TRASH/expect" <<-\EOF &&
	k0 0 res ro
	k0 1 absent
	k0 2 res ro
	k0 5 res ro
	k1 0 res ro
	k1 1 res rw  D....
	k1 2 res ro
	k1 3 res rw  D....
	EOF
	wait_until 5 eval "cells > \"$TRASH/cells\" && cmp -s \"$TRASH/expect\" \"$TRASH/cells\"" ||
	{ test_cmp "$TRASH/expect" "$TRASH/cells"; false; }
'

test_expect_success 'the monochrome screen is the golden one, without a colour' '
	screen > "$TRASH/mono.screen" &&
	test_cmp tests/tui/mono-120x40.screen "$TRASH/mono.screen" &&
	! $T capture-pane -p -e -t t | grep -q "$(printf "\033")\\[[0-9;]*3[0-7]m"
'

test_expect_success 'Down moves the selection a row down' '
	screen | grep -q "^>0 " &&
	$T send-keys -t t Down Down &&
	wait_until 5 on_screen "^>2 " &&
	! on_screen "^>0 "
'

test_expect_success 'g goes to a page: the row that holds it is selected' '
	$T send-keys -t t g 5 Enter &&
	wait_until 5 on_screen "^>5 "
'

test_expect_success '/ filters the log: only matching lines are shown' '
	$T send-keys -t t / "k0<" Enter &&
	wait_until 5 on_screen "^ log (filter: k0<)" &&
	screen | sed -n "/^ log (filter/,/^ diagnostics/p" | sed "1d;\$d" | grep -v "^\$" > "$TRASH/log" &&
	test -s "$TRASH/log" &&
	! grep -v "k0<" "$TRASH/log" &&
	$T send-keys -t t / BSpace BSpace BSpace Enter &&
	wait_until 5 on_screen "^ log$"
'

test_expect_success ': runs a debugger command; a data_request stops at its breakpoint' '
	$T send-keys -t t : "break data_request" Enter &&
	wait_until 5 on_screen "^[ >]breakpoint 1: data_request$" &&
	map c "read 7p\nread 8p\nsleep 60000\n" &&
	wait_until 10 on_screen "^ stopped (1)" &&
	wait_until 5 on_screen "^    [0-9]*  k2> memory_object_data_request offset 0x7000" &&
	! grep -q "^read 0x7000" "$TRASH/c.out"
'

test_expect_success 'r releases the selected stopped message; the next stops' '
	$T send-keys -t t Tab &&
	wait_until 5 on_screen "^>   [0-9]*  k2> memory_object_data_request offset 0x7000" &&
	$T send-keys -t t r &&
	wait_until 10 grep -q "^read 0x7000" "$TRASH/c.out" &&
	wait_until 10 on_screen "k2> memory_object_data_request offset 0x8000" &&
	wait_until 5 has_cell "k2 7 res ro"
'

test_expect_success 's steps: the stopped message goes, the next message stops' '
	$T send-keys -t t s &&
	wait_until 5 on_screen "k2< memory_object_data_supply offset 0x8000.*\\[held\\]" &&
	! grep -q "^read 0x8000" "$TRASH/c.out" &&
	$T send-keys -t t c &&
	wait_until 10 grep -q "^read 0x8000" "$TRASH/c.out" &&
	wait_until 5 on_screen "^ stopped (0)"
'

test_expect_success 'b breaks on the name of the message selected in the log' '
	$T send-keys -t t Tab / "k2< memory_object_data_supply offset 0x8000" Enter &&
	wait_until 5 on_screen "^>k2< memory_object_data_supply offset 0x8000" &&
	$T send-keys -t t b / C-u Enter &&
	wait_until 5 on_screen "^ log$" &&
	wait_until 5 on_screen "^[ >]breakpoint 2: memory_object_data_supply$" &&
	$T send-keys -t t : "delete 2" Enter : "delete 1" Enter
'

test_expect_success '? shows the keys; any key closes it' '
	$T send-keys -t t "?" &&
	wait_until 5 on_screen "keys (any key closes this)" &&
	on_screen "b  *break on the selected message" &&
	$T send-keys -t t x &&
	wait_until 5 eval "! on_screen \"keys (any key closes this)\""
'

test_expect_success 'a resize redraws for the new size; 80x24 holds every pane' '
	$T resize-window -t t -x 80 -y 24 &&
	{ wait_until 5 on_screen "^D may be dirty" || { screen; false; }; } &&
	screen > "$TRASH/small" &&
	test "$(wc -l < "$TRASH/small")" = 24 &&
	test "$(awk "{ if (length > m) m = length } END { print m }" "$TRASH/small")" -le 80 &&
	grep -q "^ stopped (0)" "$TRASH/small" && grep -q "^ log" "$TRASH/small" &&
	grep -q "^ diagnostics ([0-9]*)" "$TRASH/small" &&
	has_cell "k1 3 res rw  D...."
'

test_expect_success 'q quits: the terminal is as it was' '
	$T send-keys -t t q &&
	ended t 0
'

test_expect_success 'the recording of the session read in the page view' '
	start r 120x40 "$MOTRACE -r $TRASH/rec.pcap --tui" &&
	wait_until 10 on_screen "recording: message 0 of [1-9]" r &&
	n=$(screen r | sed -n "1s/.*recording: message 0 of \\([0-9]*\\).*/\\1/p") &&
	echo "total $n" && test "$n" -gt 30 &&
	echo "$n" > "$TRASH/total"
'

# at N [SESSION]: the view moved to message N shows what --pages says after N.
at() {
	ses=${2:-r}
	wait_until 5 on_screen "recording: message $1 of" $ses &&
	"$MOTRACE" -r "$TRASH/rec.pcap" --no-time --quiet --pages --stop-after "$1" > "$TRASH/pages.$1" &&
	awk -v OBJ=0 -f tests/tui/pages-cells.awk "$TRASH/pages.$1" | sort > "$TRASH/want.$1" &&
	wait_until 5 eval "cells $ses | sed \"s/LF\\\$/L./\" > \"$TRASH/got.$1\" && cmp -s \"$TRASH/want.$1\" \"$TRASH/got.$1\"" ||
	{ test_cmp "$TRASH/want.$1" "$TRASH/got.$1"; return 1; }
}

test_expect_success 'time travel: g N shows the state after message N, as --pages --stop-after N' '
	total=$(cat "$TRASH/total") &&
	for n in 12 25 $((total - 1)) $total; do
		$T send-keys -t r g "$n" Enter && at $n || return 1
	done
'

test_expect_success 'time travel: ] [ one message, } { a hundred (at the end at most)' '
	$T send-keys -t r g 20 Enter && at 20 &&
	$T send-keys -t r "]" && at 21 &&
	$T send-keys -t r "]" && at 22 &&
	$T send-keys -t r "[" && at 21 &&
	total=$(cat "$TRASH/total") &&
	$T send-keys -t r "}" && at $((total < 121 ? total : 121)) &&
	$T send-keys -t r g 30 Enter && at 30 &&
	$T send-keys -t r "{" && at 0
'

test_expect_success 'time travel: right after the lock_request that flushes, its page shows L and F' '
	"$MOTRACE" -r "$TRASH/rec.pcap" --no-time -o "$TRASH/rec.log" &&
	n=$(grep "^k[0-9]" "$TRASH/rec.log" | grep -n "memory_object_lock_request(.*should_flush=TRUE" | sed -n "1s/:.*//p") &&
	test -n "$n" &&
	$T send-keys -t r g "$n" Enter &&
	wait_until 5 on_screen "recording: message $n of" r &&
	wait_until 5 has_cell "k0 1 absent  ...LF" r
'

test_expect_success 'time travel: q quits, the terminal as it was' '
	$T send-keys -t r q &&
	ended r 0
'

test_expect_success 'time travel with a checkpoint every 4 messages, thinned out: the same states' '
	start r2 120x40 "MOTRACE_CHECKPOINT_EVERY=4 MOTRACE_CHECKPOINT_PAGES=40 $MOTRACE -r $TRASH/rec.pcap --tui" &&
	wait_until 10 on_screen "recording: message 0 of [1-9]" r2 &&
	total=$(cat "$TRASH/total") &&
	for n in 30 13 $((total - 2)) 9 22 3; do
		$T send-keys -t r2 g "$n" Enter && at $n r2 || return 1
	done &&
	$T send-keys -t r2 "[" && at 2 r2 &&
	$T send-keys -t r2 "}" && at $((total < 102 ? total : 102)) r2 &&
	$T send-keys -t r2 q &&
	ended r2 0
'

head -c 65536 /dev/zero > "$TRASH/data"

test_expect_success 'SIGTERM: the terminal as it was' '
	start term 100x30 "sh -c '\''echo \$\$ > $TRASH/term.pid; exec $MOTRACE --tui -- $B/mo-filepager unix:$S/fp1 $TRASH/data'\''" &&
	wait_until 10 on_screen "no object yet" term &&
	kill -TERM "$(cat "$TRASH/term.pid")" &&
	ended term 0
'

test_expect_success 'the terminal hangs up (tmux kill-session): motrace stops its pager' '
	start hup 100x30 "$MOTRACE --tui -- $B/mo-filepager unix:$S/fp8 $TRASH/data" &&
	wait_until 10 on_screen "no object yet" hup &&
	pgrep -f "^$B/mo-filepager unix:$S/fp8" > /dev/null &&
	$T kill-session -t hup &&
	wait_until 10 eval "! pgrep -f \"^$B/mo-filepager unix:$S/fp8\" > /dev/null"
'

test_expect_success 'Ctrl-C: the terminal as it was' '
	start int 100x30 "$MOTRACE --tui -- $B/mo-filepager unix:$S/fp2 $TRASH/data" &&
	wait_until 10 on_screen "no object yet" int &&
	$T send-keys -t int C-c &&
	ended int 0
'

test_expect_success 'the pager dies: motrace ends with its status, the terminal as it was' '
	start pk 100x30 "$MOTRACE --tui -- $B/mo-filepager unix:$S/fp3 $TRASH/data" &&
	wait_until 10 on_screen "no object yet" pk &&
	pkill -KILL -f "^$B/mo-filepager unix:$S/fp3" &&
	ended pk 137
'

test_expect_success 'a fatal signal (SIGSEGV), with --listen and --to: the terminal as it was' '
	"$B/mo-filepager" "unix:$S/fp6" "$TRASH/data" 2> /dev/null &
	echo $! > "$TRASH/fp6.pid" &&
	wait_until 10 test -S "$S/fp6" &&
	start segv 100x30 "sh -c '\''echo \$\$ > $TRASH/segv.pid; exec $MOTRACE --tui --listen unix:$S/m6 --to unix:$S/fp6'\''" &&
	wait_until 10 on_screen "no object yet" segv &&
	kill -SEGV "$(cat "$TRASH/segv.pid")" &&
	ended segv 139 &&
	kill "$(cat "$TRASH/fp6.pid")"
'

test_expect_success 'a kernel that dies is shown gone; its pages with it' '
	start kd 120x40 "$MOTRACE --tui --no-time -- $B/mo-filepager unix:$S/fp4 $TRASH/data" &&
	wait_until 10 test -S "$S/fp4" &&
	printf "read 0\nread 1p\nsleep 60000\n" > "$TRASH/kd.map" &&
	{ timeout 60 "$B/mo-map" "unix:$S/fp4" "$TRASH/kd.map" > "$TRASH/kd.out" 2>&1 & } &&
	wait_until 10 on_screen "kernels 1  pages 2" kd &&
	pkill -KILL -f "mo-map unix:$S/fp4" &&
	{ wait_until 10 on_screen "k0   gone" kd || { screen kd; false; }; } &&
	on_screen "pages 0" kd &&
	$T send-keys -t kd q &&
	ended kd 0
'

test_expect_success 'view at the prompt: the page view until q, then the prompt again' '
	export MOTRACE_HISTORY="$TRASH/history" &&
	start pv 120x40 "$MOTRACE --no-time -nx -- $B/mo-filepager unix:$S/fp7 $TRASH/data" &&
	wait_until 10 test -S "$S/fp7" &&
	wait_until 10 on_screen "^(motrace)" pv &&
	printf "read 0\nwrite 1p 3\nsleep 60000\n" > "$TRASH/pv.map" &&
	{ timeout 60 "$B/mo-map" "unix:$S/fp7" "$TRASH/pv.map" > "$TRASH/pv.out" 2>&1 & } &&
	wait_until 10 on_screen "offset=0x1000.*\\[page 1\\]" pv &&
	$T send-keys -t pv view Enter &&
	wait_until 5 on_screen "^ page  *k0   ready" pv &&
	test "$(alternate pv)" = 1 &&
	wait_until 5 has_cell "k0 1 res rw  D...." pv &&
	$T send-keys -t pv : "info kernels" Enter &&
	wait_until 5 on_screen "^ kernel 0" pv &&
	$T send-keys -t pv q &&
	wait_until 5 eval "test \"\$(alternate pv)\" = 0" &&
	wait_until 5 on_screen "^(motrace)" pv &&
	$T send-keys -t pv view Enter &&
	wait_until 5 on_screen "^ page  *k0   ready" pv &&
	$T send-keys -t pv q &&
	wait_until 5 on_screen "^(motrace)" pv &&
	$T send-keys -t pv quit Enter &&
	ended pv 0
'

test_expect_success 'no terminal: --tui says so and fails' '
	test_expect_code=0 &&
	{ "$MOTRACE" --tui -- "$B/mo-filepager" "unix:$S/fp5" "$TRASH/data" < /dev/null > "$TRASH/nt.out" 2> "$TRASH/nt.err" || test_expect_code=$?; } &&
	test "$test_expect_code" = 1 &&
	grep -q "^motrace: --tui wants a terminal on standard input and output$" "$TRASH/nt.err"
'

test_done
