#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd with a static upstream against a real Unbound serving DoT on
# loopback: answers over UDP and TCP, DANE variants (3 1 1, 3 0 1, 2 0 1 with
# a private CA chain), a wrong TLSA refused with SERVFAIL + EDE and no clear
# text, the cache proven by the upstream's counter, TC=1 truncation, local
# answers, 2,000 concurrent queries over one connection, recovery after
# the upstream is killed and restarted, and a hostile upstream falling out
# of step (unframed garbage, an answer to an ID never asked) or answering
# late.  Each scenario starts its own
# Unbound and daemon and stops them.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L=127.0.0.60 U=127.0.0.61 NAME=k2m4p6r8t0v1.zz
cleanup() { ds_stop_all; cap_stop_all; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

# Fixtures (files only): the upstream's certificate, its TLSA records, a
# private CA chain, the bench names.
mkdir -p "$T_DIR/cert" "$T_DIR/ca"
udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")
TLSA301=$(udot_tlsa 3 0 1 "$T_DIR/cert/$NAME.pem")
udot_ca_chain $NAME "$T_DIR/ca" inter || { echo "cannot make a CA chain"; exit 1; }
TLSA201=$(udot_tlsa 2 0 1 "$T_DIR/ca/$NAME.ca.pem")
seq 0 1999 | sed 's/^/n/; s/$/.bench.test A/' >"$T_DIR/names"
# a big RRset for truncation: 40 TXT records of ~60 octets
BIG=$(udot_big_txt big.test.)

DIG="dig -p 53 @$L +time=3 +tries=1"

# up_u1: the upstream with the self-signed certificate
up_u1() {
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key UDOT_CONF_EXTRA="$BIG" \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
}
# up_d1: up_u1 and a daemon with its 3 1 1 record
up_d1() {
	up_u1 || return 1
	ds_start d1 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311"
}
teardown() { udot_stop_all; rm -rf "${T_DIR:?}"/d[0-9]; }

# UDP queries up to 1232 octets (EDNS padding makes them that long) are
# taken; longer datagrams are dropped and counted, not answered.
# udp_query SIZE: an A query for www.test padded to SIZE octets; prints the
# answer's size, or "timeout".
udp_query() {
	python3 - "$L" "$1" <<'PY'
import socket, struct, sys
addr, size = sys.argv[1], int(sys.argv[2])
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 1) + b"\3www\4test\0" + struct.pack(">HH", 1, 1)
opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
pad = size - len(q) - len(opt) - 4
opt = opt[:-2] + struct.pack(">H", 4 + pad) + struct.pack(">HH", 12, pad) + bytes(pad)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q + opt, (addr, 53))
try:
    print(len(s.recv(65535)))
except socket.timeout:
    print("timeout")
PY
}

# ---- 3 1 1: answers, status
s_answers() {
	local out st js
	up_d1 || return 1
	out=$($DIG www.test A +short)
	expect_eq "A over UDP through DoT" "$out" "192.0.2.1"
	out=$($DIG www.test AAAA +short +tcp)
	expect_eq "AAAA over TCP through DoT" "$out" "2001:db8::1"
	out=$($DIG www.test TXT +short)
	expect_eq "TXT" "$out" '"hello dotstub"'
	out=$(udp_query 1232)
	check "a 1232-octet query over UDP is answered ($out)" test "$out" != timeout
	out=$(udp_query 1240)
	expect_eq "a 1240-octet query over UDP is not" "$out" "timeout"
	expect_contains "... and counted as dropped" "$(ds_ctl d1 status)" "dropped 1,"

	# a static upstream never walks: libunbound is never mapped (discovery/walk/ub_load.h)
	check "static upstream: libunbound not loaded" sh -c "grep -q libcrypto /proc/$(ds_pid d1)/maps && ! grep -q libunbound /proc/$(ds_pid d1)/maps"
	st=$(ds_ctl d1 status)
	expect_contains "status shows DANE with the matched TLSA" "$st" "auth:     DANE, TLSA 3 1 1"
	expect_contains "status shows TLS 1.3" "$st" "TLSv1.3"
	expect_contains "status shows the upstream name" "$st" "$NAME"
	js=$(ds_ctl d1 status --json)
	check "status --json is valid JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$js"
	expect_contains "log names the handshake" "$(ds_log d1)" "$NAME"
}

# ---- the cache
s_cache() {
	local before after ttl1 ttl2 out
	up_d1 || return 1
	# cache: once asked, the identical queries must not reach the upstream
	$DIG www.test A +short >/dev/null
	before=$(udot_queries u1)
	$DIG www.test A +short >/dev/null
	$DIG www.test A +short >/dev/null
	after=$(udot_queries u1)
	expect_eq "cache hits do not reach the upstream" "$after" "$before"
	ttl1=$($DIG www.test A +noall +answer | awk '{print $2}')
	sleep 1.2 # the time passing is what is tested: the TTL must count down
	ttl2=$($DIG www.test A +noall +answer | awk '{print $2}')
	check "TTL decreases in the cache ($ttl1 -> $ttl2)" test "$ttl2" -lt "$ttl1"
	# 0x20 case is given back as asked
	out=$($DIG WwW.TeSt A +noall +question)
	expect_contains "question case preserved from the cache" "$out" "WwW.TeSt."
}

# ---- truncation: 40 TXT records do not fit 512 octets without EDNS
s_truncation() {
	local out
	up_d1 || return 1
	out=$($DIG big.test TXT +noedns +ignore +notcp)
	expect_contains "large answer over UDP without EDNS has TC=1" "$out" " tc"
	out=$($DIG big.test TXT +tcp +short | wc -l)
	expect_eq "the same answer over TCP is complete" "$out" "40"
}

# ---- local answers
s_local() {
	local out before after
	up_d1 || return 1
	out=$($DIG localhost A +short)
	expect_eq "localhost is answered locally" "$out" "127.0.0.1"
	out=$($DIG foo.localhost AAAA +short)
	expect_eq "names below localhost too" "$out" "::1"
	before=$(udot_queries u1)
	out=$($DIG resolver.arpa SVCB)
	expect_contains "resolver.arpa answered locally" "$out" "status: NOERROR"
	after=$(udot_queries u1)
	expect_eq "resolver.arpa is not forwarded" "$after" "$before"
}

# ---- malformed input: a short packet and garbage get no crash
s_garbage() {
	local out
	up_d1 || return 1
	printf '\x00\x01\x02' >/dev/udp/$L/53
	head -c 300 /dev/urandom >/dev/udp/$L/53
	out=$($DIG www.test A +short)
	expect_eq "still answering after garbage" "$out" "192.0.2.1"
}

# ---- 2,000 concurrent queries (TTL 0 names: every one goes upstream)
s_concurrent() {
	local conn_before conn_after perf completed noerror out
	up_d1 || return 1
	conn_before=$(ds_json d1 upstream.connects)
	perf=$(dnsperf -s $L -p 53 -d "$T_DIR/names" -n 1 -q 2000 -t 10 2>&1)
	completed=$(printf '%s\n' "$perf" | awk '/Queries completed:/ {print $3}')
	expect_eq "2000 concurrent queries all answered" "$completed" "2000"
	noerror=$(printf '%s\n' "$perf" | grep -o 'NOERROR [0-9]*' | awk '{print $2}')
	expect_eq "all 2000 NOERROR" "$noerror" "2000"
	conn_after=$(ds_json d1 upstream.connects)
	check "over at most two connections ($conn_before -> $conn_after)" test $((conn_after - conn_before)) -le 1
	out=$($DIG n1234.bench.test A +short)
	expect_eq "a bench name resolves correctly" "$out" "10.77.4.210"
}

# ---- the upstream killed under load and restarted: dotstubd recovers
s_upstream_restart() {
	local load before fails
	up_d1 || return 1
	before=$(udot_queries u1)
	dnsperf -s $L -p 53 -d "$T_DIR/names" -l 4 -q 50 >/dev/null 2>&1 &
	load=$!
	# the load reaches the upstream
	wait_for 5 sh -c "[ \"\$(unbound-control -c '$UDOT_DIR/u1/unbound.conf' stats_noreset | sed -n 's/^total.num.queries=//p')\" -gt $before ]" ||
		echo "# the load did not reach the upstream"
	fails=$(ds_json d1 upstream.fail_network)
	udot_kill u1
	# the daemon notices the upstream is gone before it comes back
	wait_for 5 sh -c "[ \"\$('$DOTCTL' -s '$T_DIR/d1/control' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"upstream\"][\"fail_network\"])')\" -gt $fails ]" ||
		echo "# no failed connect seen while the upstream was down"
	udot_run u1
	wait $load
	check "answers again after the upstream came back" wait_for 10 sh -c "$DIG n7.bench.test A +short | grep -q 10.77.0.7"
}

# ---- 3 0 1 (full certificate digest)
s_tlsa301() {
	local out
	up_u1 || return 1
	ds_start d2 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA301" || return 1
	out=$($DIG www.test A +short)
	expect_eq "TLSA 3 0 1 accepted" "$out" "192.0.2.1"
}

# ---- wrong TLSA: SERVFAIL + EDE, nothing in clear text
s_wrong_tlsa() {
	local wrong="3 1 1 0000000000000000000000000000000000000000000000000000000000000000"
	local out st before after
	up_u1 || return 1
	cap_start wrong lo "" "host $U"
	before=$(udot_queries u1)
	ds_start d3 --listen $L:53 --upstream $NAME@$U --tlsa "$wrong" || return 1
	out=$($DIG www2.test A)
	expect_contains "wrong TLSA: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "wrong TLSA: EDE 23 Network Error" "$out" "EDE: 23"
	expect_contains "wrong TLSA: the reason names DANE" "$out" "DANE"
	st=$(ds_ctl d3 status)
	expect_contains "status names the DANE failure" "$st" "DANE authentication failed"
	after=$(udot_queries u1)
	expect_eq "wrong TLSA: the upstream saw no query" "$after" "$before"
	cap_stop wrong $U
	cap_expect_seen "wrong TLSA: the capture saw the TLS attempt to the upstream" wrong "tcp dst port 853"
	cap_expect_none "wrong TLSA: no clear-text DNS packet to the upstream" wrong "port 53"
}

# ---- 2 0 1: private CA, chain served
s_tlsa201() {
	local out st
	UDOT_CERT=$T_DIR/ca/$NAME.pem UDOT_KEY=$T_DIR/ca/$NAME.key udot_start u2 $U $NAME ||
		{ echo "unbound (CA) did not start"; return 1; }
	ds_start d4 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA201" || return 1
	out=$($DIG www.test A +short)
	expect_eq "TLSA 2 0 1 with a private CA chain accepted" "$out" "192.0.2.1"
	st=$(ds_ctl d4 status)
	expect_contains "status shows the matched 2 0 1" "$st" "TLSA 2 0 1"
}

# ---- privileges are dropped after binding port 53
s_privileges() {
	local uid nob out
	up_u1 || return 1
	ds_start d6 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" --user nobody || return 1
	uid=$(awk '/^Uid:/ {print $2 "," $3 "," $4 "," $5}' /proc/"$(ds_pid d6)"/status)
	nob=$(id -u nobody)
	expect_eq "runs as nobody after binding (real, effective, saved, fs uid)" "$uid" "$nob,$nob,$nob,$nob"
	out=$($DIG www.test A +short)
	expect_eq "answers after dropping privileges" "$out" "192.0.2.1"
	check "root may still use the control socket" ds_ctl d6 status
}

# ---- control socket: an unprivileged user is refused
s_control_socket() {
	local out
	up_u1 || return 1
	ds_start d5 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" || return 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DOTCTL" -s "$T_DIR/d5/control" status 2>&1)
	expect_contains "control socket refuses an unprivileged user" "$out" "ermission denied"
}

# ---- a hostile upstream that falls out of step: a Python DoT server (the
# self-signed certificate, so the same 3 1 1 record) answers the first query,
# then misbehaves once on that connection and answers properly afterwards.
# Any framing or protocol error must drop the connection at once: later
# queries are answered on a new one within a second of the misbehaviour.
H=127.0.0.62
hostile_start() { # MODE [options]: the server on $H:853, its log in $T_DIR/hostile.log
	rm -f "$T_DIR/hostile.log"
	python3 "$DOTSTUB_SRC/tests/tools/hostile_dot.py" --addr $H --cert "$T_DIR/cert/$NAME.pem" \
		--key "$T_DIR/cert/$NAME.key" --log "$T_DIR/hostile.log" --mode "$@" \
		2>"$T_DIR/hostile.err" &
	echo $! >"$T_DIR/hostile.pid"
	wait_for 5 grep -q listening "$T_DIR/hostile.log" || { echo "hostile server did not start"; cat "$T_DIR/hostile.err"; return 1; }
}
hostile_stop() {
	[ -f "$T_DIR/hostile.pid" ] && kill "$(cat "$T_DIR/hostile.pid")" 2>/dev/null
	rm -f "$T_DIR/hostile.pid"
	teardown
}
hostile_conns() { grep -c '^conn ' "$T_DIR/hostile.log"; }
# recover_after: first query answered after the misbehaviour; queries q2..
# one after another, 1 s each, for at most 10 s.  Prints the seconds from
# the misbehaviour to that answer, or "none".
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.2f\n", a - b }'; }
recover_after() {
	local tg i out
	tg=$(awk '$1 == "garbage" { print $3 }' "$T_DIR/hostile.log")
	for i in $(seq 2 40); do
		out=$(dig -p 53 @$L +time=1 +tries=1 "q$i.hostile.test" A +short 2>/dev/null)
		if [ "$out" = 192.0.2.1 ]; then
			since "$tg"
			return
		fi
		[ "$(since "$tg" | cut -d. -f1)" -ge 10 ] && break
	done
	echo none
}
s_hostile_desync() {
	local mode=$1 why=$2 out rec
	hostile_start "$mode" || return 1
	ds_start d7 --listen $L:53 --upstream $NAME@$H --tlsa "$TLSA311" --log-level info || return 1
	out=$($DIG q1.hostile.test A +short)
	expect_eq "$mode: the first query is answered" "$out" "192.0.2.1"
	check "$mode: the server misbehaved" wait_for 2 grep -q '^garbage' "$T_DIR/hostile.log"
	rec=$(recover_after)
	echo "# $mode: answered again $rec s after the misbehaviour"
	check "$mode: answered again within 1 s of it ($rec s)" \
		awk -v r="${rec/none/99}" 'BEGIN { exit !(r < 1.0) }'
	check "$mode: on a new connection ($(hostile_conns) in all)" test "$(hostile_conns)" -ge 2
	expect_contains "$mode: the connection was dropped as out of step" "$(ds_log d7)" "$why"
}
s_hostile_garbage() { s_hostile_desync garbage "protocol error"; }
s_hostile_bogus_frame() { s_hostile_desync bogus-frame "an ID not asked on this connection"; }
# A late answer to a query given up is legitimate: it must not cost the
# connection.  The first "slow" query is answered after 800 ms; each try
# waits 500 ms (query-timeout 1500), so the second try is answered first.
s_hostile_late() {
	local out
	hostile_start late --delay 800 || return 1
	ds_start d7 --listen $L:53 --upstream $NAME@$H --tlsa "$TLSA311" --query-timeout 1500 \
		--log-level info || return 1
	out=$($DIG q1.hostile.test A +short)
	expect_eq "late: the first query is answered" "$out" "192.0.2.1"
	local slow
	$DIG slow.hostile.test A +short >"$T_DIR/slow.out" &
	slow=$!
	sleep 0.1 # the other query goes out after the slow one, so answers are heard meanwhile
	out=$($DIG q2.hostile.test A +short)
	expect_eq "late: a query behind the slow one is answered" "$out" "192.0.2.1"
	wait "$slow"
	expect_eq "late: the slow query is answered by its retry" "$(cat "$T_DIR/slow.out")" "192.0.2.1"
	check "late: the late answer was sent" wait_for 2 grep -q '^garbage' "$T_DIR/hostile.log"
	sleep 0.2 # let the late answer arrive
	out=$($DIG q3.hostile.test A +short)
	expect_eq "late: answered after the late answer" "$out" "192.0.2.1"
	expect_eq "late: still the first connection" "$(hostile_conns)" 1
	expect_not_contains "late: no protocol error" "$(ds_log d7)" "protocol error"
}

scenario answers s_answers teardown
scenario cache s_cache teardown
scenario truncation s_truncation teardown
scenario local-answers s_local teardown
scenario garbage s_garbage teardown
scenario concurrent s_concurrent teardown
scenario upstream-restart s_upstream_restart teardown
scenario tlsa-3-0-1 s_tlsa301 teardown
scenario wrong-tlsa s_wrong_tlsa teardown
scenario tlsa-2-0-1 s_tlsa201 teardown
scenario hostile-garbage s_hostile_garbage hostile_stop
scenario hostile-bogus-frame s_hostile_bogus_frame hostile_stop
scenario hostile-late-answer s_hostile_late hostile_stop
if id nobody >/dev/null 2>&1; then
	scenario privileges s_privileges teardown
	scenario control-socket s_control_socket teardown
fi
finish
