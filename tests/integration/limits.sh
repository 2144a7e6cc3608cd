#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The limits of dotstub.conf(5) LIMITS that tcp_listener.sh does not hit,
# against an upstream that is not ready (a TCP server that never accepts,
# played by tests/tools/tcp_clients.py: the TLS handshake never completes,
# so forwarded queries stay pending): control connections beyond 16 are
# closed and counted while the daemon keeps serving; a TCP client that
# pipelines more than 128 queries without reading has 128 taken, no more,
# and others are still served; queries beyond max-pending get SERVFAIL at
# once, counted, with one log line for a burst.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"

L=127.0.0.66 U=127.0.0.67 NAME=s3n5q7w9x1y2.zz
TLSA="3 1 1 0000000000000000000000000000000000000000000000000000000000000000"
TC="python3 $DOTSTUB_SRC/tests/tools/tcp_clients.py"
silent_stop() { [ -s "$T_DIR/silent.pid" ] && pid_stop "$(cat "$T_DIR/silent.pid")"; rm -f "$T_DIR/silent.pid"; }
cleanup() { ds_stop_all; silent_stop; rm -rf "$T_DIR"; }
trap cleanup EXIT

# d1_silent [dotstubd options...]: the upstream that never accepts, and a
# daemon forwarding to it
d1_silent() {
	$TC silent $U 853 60 &
	echo $! >"$T_DIR/silent.pid"
	wait_for 5 sh -c "ss -Hltn 'sport = :853' | grep -qF '$U:853'" ||
		{ echo "the silent upstream did not listen"; return 1; }
	ds_start d1 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA" --query-timeout 10000 "$@"
}
teardown() {
	silent_stop
	rm -rf "${T_DIR:?}"/d[0-9] "$T_DIR"/ready
}

# ---- 17 idle connections to the control socket (CTL_MAX_CLIENTS 16):
# the 17th is closed at once and counted; DNS is still served; dotctl
# works again once they are gone
s_control() {
	local pid out
	ds_start d1 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA" || return 1
	$TC ctlidle "$T_DIR/d1/control" 17 3 "$T_DIR/ready" >"$T_DIR/ctlidle.out" &
	pid=$!
	wait_for 5 test -s "$T_DIR/ready"
	echo "# control connections while 17 are held: $(cat "$T_DIR/ready" 2>/dev/null)"
	expect_eq "17 idle control connections: the one over the limit is closed" \
		"$(cat "$T_DIR/ready" 2>/dev/null)" "closed 1"
	out=$(dig -p 53 @$L +time=2 +tries=1 localhost A +short)
	expect_eq "... DNS is still answered meanwhile" "$out" "127.0.0.1"
	wait $pid
	expect_eq "... only that one was closed before they left" "$(cat "$T_DIR/ctlidle.out")" 1
	out=$(ds_json d1 counters.control_refused)
	expect_eq "dotctl status works once they are gone, and counts it (control_refused)" "$out" 1
	expect_contains "... in the text view too" "$(ds_ctl d1 status)" "control connections refused 1"
	check "... and logs it" ds_wait_log d1 "control: connection refused" 0 2
}

# ---- one TCP client pipelines 300 forwarded queries and never reads:
# 128 are taken (TCP_MAX_INFLIGHT), not one more; reading from it stopped
# (counted); another client is still answered
s_inflight() {
	local pid out
	d1_silent || return 1
	$TC inflight $L 300 q 4 "$T_DIR/ready" &
	pid=$!
	wait_for 5 test -s "$T_DIR/ready"
	check "128 of 300 pipelined queries are pending at the upstream" \
		wait_for 3 sh -c "[ \"\$($DOTCTL -s $T_DIR/d1/control status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"upstream\"][\"waiting\"])')\" = 128 ]"
	out=$(ds_json d1 upstream.waiting)
	expect_eq "... and no more are taken while it does not read" "$out" 128
	out=$(dig -p 53 @$L +tcp +time=2 +tries=1 localhost A +short)
	expect_eq "another TCP client is answered meanwhile" "$out" "127.0.0.1"
	check "the held-back client is counted (tcp_held $(ds_json d1 tcp_held 2>/dev/null))" \
		test "$(ds_json d1 tcp_held 2>/dev/null || echo 0)" -ge 1
	wait $pid
}

# ---- 50 queries at once with max-pending 20 while the upstream is not
# ready: 30 get SERVFAIL at once ("too many queries pending"), counted as
# overload, one log line for the burst
s_max_pending() {
	local res words out
	d1_silent --max-pending 20 || return 1
	res=$($TC udpburst $L 50 p 1)
	echo "# udp burst: $res"
	read -ra words <<<"$res"
	set -- "${words[@]}"
	expect_eq "50 queries, max-pending 20: 30 answered SERVFAIL at once" "$4" 30
	expect_eq "... counted as overload" "$(ds_json d1 counters.overload)" 30
	# the other 20 wait for the upstream: no answer to them within the
	# burst's second (the queue's length in status would be read too late
	# on a loaded machine: the handshake gives up after 3 s)
	expect_eq "... the other 20 still pending (only 30 answered)" "$2" 30
	check "... logged" ds_wait_log d1 "max-pending" 0 2
	expect_eq "... once for the burst (rate-limited)" "$(ds_log_count d1 "max-pending")" 1
	out=$(dig -p 53 @$L +time=2 +tries=1 localhost A +short)
	expect_eq "local answers are still served" "$out" "127.0.0.1"
}

scenario control s_control teardown
scenario inflight s_inflight teardown
scenario max-pending s_max_pending teardown
finish
