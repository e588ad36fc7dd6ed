#!/bin/sh
# t1000: a pager and a kernel side built from MIG's stubs, in separate
# processes, exchange every message of PROTOCOL.md (memory_object.defs,
# memory_object_default.defs, the control routines of mach.defs and
# memory_object_create_proxy of mach4.defs) over unix: and tcp:
# addresses, each value checked on arrival (tests/mach/mo-*.c).
. "$(dirname "$0")/lib.sh"
TM="$B/tests/mach"

# Starts a pager on $1 (more arguments go to it); sets $pager_pid and $addr.
start_pager() {
	prog=$1; shift
	rm -f "$TRASH/pager.out" "$TRASH/pager.err"
	timeout 30 "$TM/$prog" "$@" >"$TRASH/pager.out" 2>"$TRASH/pager.err" &
	pager_pid=$!
	i=0
	while [ ! -s "$TRASH/pager.out" ] && [ $i -lt 100 ]; do
		kill -0 $pager_pid 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	addr=$(head -n 1 "$TRASH/pager.out")
	test -n "$addr" || { cat "$TRASH/pager.err"; return 1; }
}

# Runs the kernel side against the pager; both must succeed.
run_pair() {
	timeout 30 "$TM/mo-kernel" "$addr" "$@"
	wait $pager_pid
	cat "$TRASH/pager.out"
	grep -q 'done after 7 messages' "$TRASH/pager.out"
}

test_expect_success 'unix: every memory_object message, checked both ways' '
	start_pager mo-pager "unix:$TRASH/sock/pager" &&
	run_pair
'

test_expect_success 'unix: the socket is 0600 in a 0700 directory' '
	start_pager mo-pager "unix:$TRASH/priv/pager" &&
	test "$(stat -c %a "$TRASH/priv")" = 700 &&
	test "$(stat -c %a "$TRASH/priv/pager")" = 600 &&
	run_pair
'

test_expect_success 'unix: a directory others can enter is refused' '
	mkdir -m 755 "$TRASH/open" &&
	! timeout 10 "$TM/mo-pager" "unix:$TRASH/open/pager" 2>"$TRASH/err" &&
	grep "mode 0700" "$TRASH/err"
'

test_expect_success 'unix: a sticky shared directory (as /tmp) will do; the socket is ours, 0600' '
	mkdir -m 1777 "$TRASH/sticky" &&
	start_pager mo-pager "unix:$TRASH/sticky/pager" &&
	test "$(stat -c %a:%u "$TRASH/sticky/pager")" = "600:$(id -u)" &&
	run_pair
'

test_expect_success 'motrace -- PAGER unix:STICKY/fp, as in the README' '
	{ timeout 30 "$MOTRACE" --no-time --exit-when-idle -o "$TRASH/st.log" \
		-- "$TM/mo-pager" "unix:$TRASH/sticky/fp" >"$TRASH/st.out" 2>"$TRASH/st.err" & } &&
	i=0 && while [ ! -S "$TRASH/sticky/fp" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	cat "$TRASH/st.err" &&
	timeout 20 "$TM/mo-kernel" "unix:$TRASH/sticky/fp" &&
	i=0 && while ! grep -q "done after 7 messages" "$TRASH/st.out" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1)); done &&
	grep "done after 7 messages" "$TRASH/st.out"
'

test_expect_success 'a pager under motrace refusing its own address: it says so in words, its status is the session'\''s' '
	mkdir -m 755 "$TRASH/open2" &&
	! timeout 20 "$MOTRACE" --no-time -o "$TRASH/op.log" \
		-- "$TM/mo-pager" "unix:$TRASH/open2/fp" >"$TRASH/op.out" 2>"$TRASH/op.err";
	cat "$TRASH/op.err" &&
	grep "lets others replace the socket" "$TRASH/op.err" &&
	grep -F "mo-pager exited with status 1 +++" "$TRASH/op.log" &&
	! grep "answer 18" "$TRASH/op.err"
'

test_expect_success 'tcp: the same exchange on loopback' '
	start_pager mo-pager tcp:127.0.0.1:0 &&
	case "$addr" in tcp:127.0.0.1:[1-9]*) ;; *) false ;; esac &&
	run_pair
'

test_expect_success 'the shared library serves the same pager' '
	LD_LIBRARY_PATH="$B" && export LD_LIBRARY_PATH &&
	start_pager mo-pager-so "unix:$TRASH/so/pager" &&
	run_pair
'

test_expect_success 'tcp: a shared secret from a file is checked' '
	printf "s3cret-words\n" >"$TRASH/secret" && chmod 600 "$TRASH/secret" &&
	start_pager mo-pager tcp:127.0.0.1:0 "$TRASH/secret" &&
	run_pair "$TRASH/secret"
'

test_expect_success 'tcp: a wrong secret is refused, the pager goes on' '
	printf "s3cret-words\n" >"$TRASH/secret" && chmod 600 "$TRASH/secret" &&
	printf "guess\n" >"$TRASH/wrong" && chmod 600 "$TRASH/wrong" &&
	start_pager mo-pager tcp:127.0.0.1:0 "$TRASH/secret" &&
	! timeout 10 "$TM/mo-kernel" "$addr" "$TRASH/wrong" 2>"$TRASH/err" &&
	cat "$TRASH/err" &&
	grep "wrong or missing shared secret" "$TRASH/err" &&
	! timeout 10 "$TM/mo-kernel" "$addr" 2>"$TRASH/err2" &&
	grep "wrong or missing shared secret" "$TRASH/err2" &&
	run_pair "$TRASH/secret"
'

test_expect_success 'tcp beyond loopback with a secret: the exchange, by the secret' '
	printf "another-secret-line\n" >"$TRASH/secret2" && chmod 600 "$TRASH/secret2" &&
	start_pager mo-pager tcp:0.0.0.0:0 "$TRASH/secret2" &&
	addr=$(echo "$addr" | sed "s/^tcp:0\.0\.0\.0:/tcp:127.0.0.1:/") &&
	run_pair "$TRASH/secret2"
'

test_expect_success 'a secret file others can read is refused' '
	printf "x\n" >"$TRASH/loose" && chmod 644 "$TRASH/loose" &&
	! timeout 10 "$TM/mo-pager" tcp:127.0.0.1:0 "$TRASH/loose" 2>"$TRASH/err" &&
	grep "can be read by others" "$TRASH/err"
'

test_expect_success 'a secret belongs to tcp: a unix: lookup with one reaches a pager without' '
	printf "tcp-words\n" >"$TRASH/tsecret" && chmod 600 "$TRASH/tsecret" &&
	start_pager mo-pager "unix:$TRASH/sock/plain" &&
	run_pair "$TRASH/tsecret"
'

test_expect_success 'motrace --secret with a unix: --to (and --listen): the pair talks through it' '
	start_pager mo-pager "unix:$TRASH/sock/behind" &&
	{ timeout 30 "$MOTRACE" --no-time --exit-when-idle --secret "$TRASH/tsecret" \
		-o "$TRASH/mt.log" --listen "unix:$TRASH/sock/mt" --to "$addr" \
		>"$TRASH/mt.out" 2>"$TRASH/mt.err" & } &&
	i=0 && while [ ! -S "$TRASH/sock/mt" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	cat "$TRASH/mt.err" &&
	timeout 20 "$TM/mo-kernel" "unix:$TRASH/sock/mt" &&
	wait $pager_pid &&
	grep -q "done after 7 messages" "$TRASH/pager.out" &&
	! grep "secret" "$TRASH/mt.err"
'

test_expect_success 'tcp beyond loopback needs a secret' '
	! timeout 10 "$TM/mo-pager" tcp:0.0.0.0:0 2>"$TRASH/err" &&
	grep "needs a secret file" "$TRASH/err"
'

test_done
