#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# upstream_dot.sh -- the upstream DNS-over-TLS client (stub/dot/upstream.c,
# stub/dot/tls.c) against real Unbound servers on 127.0.0.31-36, driven by
# tests/tools/dotq: answers, DANE (3 x x, 2 0 1 with a private CA, wrong
# key, unusable TLSA), PKIX (a DDR/DNR designation: name and address under
# a private CA) and opportunistic TLS, 2000 pipelined queries on one connection, failover,
# server killed and restarted, session resumption and its key, keepalive,
# hostile bytes from a TLS peer, bursts without delayed-ACK stalls.  Prints
# the pipelining latency with and without the ACK policy.  The
# certificates are made once; each scenario starts the servers it uses and
# stops them.
set -u

SRC=${DOTSTUB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DOTSTUB_BUILD:-}
DOTQ=$BUILD/tests/dotq
if [ -z "$BUILD" ] || [ ! -x "$DOTQ" ]; then
	echo "SKIP: DOTSTUB_BUILD/tests/dotq not built"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (ports 53 and 853)"
	exit 77
fi
for p in unbound unbound-control openssl kdig ss; do
	command -v $p >/dev/null 2>&1 || { echo "SKIP: $p missing"; exit 77; }
done

# shellcheck source=../lib/common.sh
. "$SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$SRC/tests/lib/unbound-dot.sh"
udot_init || exit 1
# stop_pidfile FILE: kill the process whose pid FILE holds
stop_pidfile() {
	if [ -f "$1" ]; then
		kill "$(cat "$1")" 2>/dev/null
		rm -f "$1"
	fi
	return 0
}
cleanup() {
	stop_pidfile "$UDOT_DIR/ssrv.pid"
	stop_pidfile "$UDOT_DIR/dotq.pid"
	udot_cleanup
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
teardown() {
	stop_pidfile "$UDOT_DIR/ssrv.pid"
	stop_pidfile "$UDOT_DIR/dotq.pid"
	udot_stop_all
}

OUT=$UDOT_DIR/out
ok() { t_ok "$1"; }
not_ok() { t_fail "$1"; sed 's/^/#   /' "$OUT"; }
# expect DESCRIPTION EXTENDED-REGEX: the last dotq output has a matching line
expect() { if grep -Eq -- "$2" "$OUT"; then ok "$1"; else not_ok "$1 (want /$2/)"; fi; }
expect_not() { if grep -Eq -- "$2" "$OUT"; then not_ok "$1 (unwanted /$2/)"; else ok "$1"; fi; }
expect_rc() { if [ "$RC" = "$2" ]; then ok "$1"; else not_ok "$1 (exit $RC, want $2)"; fi; }
dotq() { "$DOTQ" "$@" >"$OUT" 2>&1; RC=$?; }
# field NAME: value of NAME= on the status line
field() { sed -n "s/^status .* $1=\([^ ]*\).*/\1/p" "$OUT"; }

N1=k2m4p6r8t0v1.zz
N2=q1w2e3r4t5y6.zz
N3=a9s8d7f6g5h4.zz
A1=127.0.0.31 A2=127.0.0.32 A3=127.0.0.33 A4=127.0.0.34 A5=127.0.0.35

# The certificates (files only).  U1: self-signed.  U2: private CA.
# U3: CA + intermediate.  "other": another key for N1.  "hostile": the
# TLS peer that is no DNS server.
mkdir -p "$UDOT_DIR/c1" "$UDOT_DIR/ca2" "$UDOT_DIR/ca3" "$UDOT_DIR/other" "$UDOT_DIR/hostile"
udot_cert $N1 "$UDOT_DIR/c1" || exit 1
udot_ca_chain $N2 "$UDOT_DIR/ca2" || exit 1
udot_ca_chain $N3 "$UDOT_DIR/ca3" inter || exit 1
udot_cert $N1 "$UDOT_DIR/other" || exit 1
# DDR/DNR designations (PKIX): the ADN DNAME, a private CA; "ip" carries
# the resolver's address A4 too (RFC 9462 4.2), "noip" only the name.
DNAME=dns.example.test
mkdir -p "$UDOT_DIR/ip" "$UDOT_DIR/noip"
UDOT_SAN_EXTRA=",IP:$A4" udot_ca_chain $DNAME "$UDOT_DIR/ip" || exit 1
udot_ca_chain $DNAME "$UDOT_DIR/noip" || exit 1
SRVDIR=$UDOT_DIR/hostile
udot_cert $N1 "$SRVDIR" || exit 1

C1=$UDOT_DIR/c1/$N1.pem
T311=$(udot_tlsa 3 1 1 "$C1")
T301=$(udot_tlsa 3 0 1 "$C1")
T312=$(udot_tlsa 3 1 2 "$C1")
T300=$(udot_tlsa 3 0 0 "$C1")
T310=$(udot_tlsa 3 1 0 "$C1")
TOTHER=$(udot_tlsa 3 1 1 "$UDOT_DIR/other/$N1.pem")
TCA2=$(udot_tlsa 2 0 1 "$UDOT_DIR/ca2/$N2.ca.pem")
TCA3=$(udot_tlsa 2 0 1 "$UDOT_DIR/ca3/$N3.ca.pem")
TCA3I=$(udot_tlsa 2 1 1 "$UDOT_DIR/ca3/$N3.inter.pem")
TH=$(udot_tlsa 3 1 1 "$SRVDIR/$N1.pem")
HASH=$(echo "$T311" | cut -d' ' -f4)

# U1: keepalive 4 s
up_u1() {
	UDOT_CERT=$C1 UDOT_KEY=$UDOT_DIR/c1/$N1.key UDOT_CONF_EXTRA='	edns-tcp-keepalive: yes
	edns-tcp-keepalive-timeout: 4000' udot_start u1 $A1 $N1
}
up_u2() { UDOT_CERT=$UDOT_DIR/ca2/$N2.pem UDOT_KEY=$UDOT_DIR/ca2/$N2.key udot_start u2 $A2 $N2; }
up_u3() { UDOT_CERT=$UDOT_DIR/ca3/$N3.pem UDOT_KEY=$UDOT_DIR/ca3/$N3.key udot_start u3 $A3 $N3; }

up_u4() { UDOT_CERT=$UDOT_DIR/$1/$DNAME.pem UDOT_KEY=$UDOT_DIR/$1/$DNAME.key udot_start u4 $A4 $DNAME; }

# The TLS peer that is no DNS server: openssl s_server on A5:853 for one
# connection, sending what it reads on its stdin.  Run it as the end of a
# pipeline in the background, then peer_listening $! to record its pid
# and wait until it listens.
PEER=(openssl s_server -quiet -naccept 1 -accept "$A5:853" -key "$SRVDIR/$N1.key" -cert "$SRVDIR/$N1.pem")
peer_listening() {
	echo "$1" >"$UDOT_DIR/ssrv.pid"
	wait_for 5 sh -c "ss -Hltn 'src $A5 and sport = :853' | grep -q ." ||
		{ echo "# the TLS peer does not listen"; return 1; }
}
peer_stop() {
	local pid
	pid=$(cat "$UDOT_DIR/ssrv.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$UDOT_DIR/ssrv.pid"
}

s_answers() {
	up_u1 || return 1
	dotq -t "$T311" $N1@$A1
	expect "A www.test" '^answer result=ok rcode=0 ancount=1 A=192\.0\.2\.1$'
	expect "matched TLSA reported" "^status state=ready .*version=TLSv1\.3 .*matched=3 1 1 ${HASH%"${HASH#??????????????}"}"
	dotq -t "$T311" -y AAAA $N1@$A1
	expect "AAAA www.test" '^answer result=ok rcode=0 ancount=1 AAAA=2001:db8::1$'
	dotq -t "$T311" -y TXT $N1@$A1
	expect "TXT www.test" '^answer result=ok rcode=0 ancount=1 TXT=hello dotstub$'
	dotq -t "$T311" -q nope.test $N1@$A1
	expect "NXDOMAIN passed on" '^answer result=ok rcode=3 ancount=0$'
	expect "keepalive timeout of the server read" '^status .* keepalive_ms=4000 '
}

s_dane_ee() {
	local t sel
	up_u1 || return 1
	for t in "$T301" "$T312" "$T300" "$T310"; do
		sel=$(echo "$t" | cut -d' ' -f1-3)
		dotq -t "$t" $N1@$A1
		expect "TLSA $sel accepted" "^status .* matched=$sel "
	done
	dotq -t "$TOTHER" -t "$T301" $N1@$A1
	expect "a set with one wrong and one right record" '^answer result=ok .*A=192\.0\.2\.1$'
}

s_dane_ta() {
	up_u2 && up_u3 || return 1
	dotq -t "$TCA2" $N2@$A2
	expect "2 0 1 (CA cert) accepted" '^answer result=ok .*A=192\.0\.2\.1$'
	expect "2 0 1 reported" '^status .* matched=2 0 1 '
	dotq -t "$TCA3" $N3@$A3
	expect "2 0 1 with an intermediate accepted" '^answer result=ok .*A=192\.0\.2\.1$'
	dotq -t "$TCA3I" $N3@$A3
	expect "2 1 1 of the intermediate accepted" '^status .* matched=2 1 1 '
	dotq -t "$TCA2" wrong-name.zz@$A2
	expect "DANE-TA checks the name" '^answer result=auth$'
}

s_auth_failures() {
	local before after
	up_u1 || return 1
	before=$(udot_queries u1)
	dotq -t "$TOTHER" $N1@$A1
	expect_rc "wrong key: exit 1" 1
	expect "wrong key: DS_UP_ERR_AUTH" '^answer result=auth$'
	expect_not "wrong key: no answer" '^answer result=ok'
	expect "wrong key: counted" '^status .* fail_auth=1 '
	expect "wrong key: backing off" '^status state=backoff .* backoff_ms=250 '
	dotq -t "$TCA2" $N1@$A1
	expect "TA record against a self-signed cert fails" '^answer result=auth$'
	after=$(udot_queries u1)
	if [ "$before" = "$after" ]; then ok "no query reached the server ($after)"; else
		echo "before=$before after=$after" >"$OUT"; not_ok "no query reached the server"; fi
	dotq -t "1 1 1 $HASH" $N1@$A1
	expect_rc "usage 1 only: refused" 3
	expect "usage 1 only: -ENOKEY" '^new error=ENOKEY$'
	dotq -t "0 0 1 $HASH" -t "1 1 1 $HASH" -t "3 1 1 ${HASH%??}" $N1@$A1
	expect "PKIX usages and a short digest: -ENOKEY" '^new error=ENOKEY$'
}

# PKIX (a DDR or DNR designation, RFC 9462 4.2 / RFC 9463): the name and
# the resolver's address checked against a CA store, no TLSA at all.
s_pkix() {
	local ca=$UDOT_DIR/ip/$DNAME.ca.pem spki
	spki=$(udot_tlsa 3 1 1 "$UDOT_DIR/ip/$DNAME.leaf.pem" | cut -d' ' -f4)
	up_u4 ip || return 1
	dotq -A pkix -C "$ca" -p $A4 $DNAME@$A4
	expect "name and address in the certificate: answered" '^answer result=ok .*A=192\.0\.2\.1$'
	expect "status: pkix, the key's SHA-256 (a pin's value)" "^status state=ready auth=pkix spki=$spki "
	dotq -A pkix -C "$ca" $DNAME@$A4
	expect "the name alone (DNR: no address to check): answered" '^answer result=ok .*A=192\.0\.2\.1$'
	dotq -A pkix -C "$ca" -p 127.0.0.99 $DNAME@$A4
	expect "another resolver's address: refused" '^answer result=auth$'
	expect "another resolver's address: the reason" '^status .*last_error=".*IP address mismatch'
	dotq -A pkix -C "$ca" -p $A4 other.example.test@$A4
	expect "another name: refused" '^answer result=auth$'
	expect "another name: the reason" '^status .*last_error=".*[Hh]ostname mismatch'
	dotq -A pkix -p $A4 $DNAME@$A4
	expect "a private CA is not in the system's store: refused" '^answer result=auth$'
	dotq -A pkix -C "$UDOT_DIR/noip/$DNAME.ca.pem" -p $A4 $DNAME@$A4
	expect "another CA's file: refused" '^answer result=auth$'
	dotq -A pkix -C "$UDOT_DIR/nonexistent.pem" $DNAME@$A4
	expect "CA file missing: refused before the handshake" '^status .*last_error=".*cannot load the CA certificates'
	udot_stop u4
	up_u4 noip || return 1
	dotq -A pkix -C "$UDOT_DIR/noip/$DNAME.ca.pem" -p $A4 $DNAME@$A4
	expect "DDR: a certificate without the resolver's address: refused" '^answer result=auth$'
	dotq -A pkix -C "$UDOT_DIR/noip/$DNAME.ca.pem" $DNAME@$A4
	expect "the same certificate, name only: answered" '^answer result=ok .*A=192\.0\.2\.1$'
}

# Opportunistic (RFC 9462 4.3): encrypted, nothing checked, said so.
s_opportunistic() {
	up_u1 || return 1
	dotq -A opportunistic $N1@$A1
	expect "self-signed, no TLSA: answered" '^answer result=ok .*A=192\.0\.2\.1$'
	expect "status: opportunistic, the key's SHA-256" "^status state=ready auth=opportunistic spki=$HASH "
	expect "no TLSA matched (none checked)" '^status .* matched=- '
	dotq -A opportunistic -y TXT $N1@$A1
	expect "over TLS 1.3 still" '^status .*version=TLSv1\.3 '
}

s_pipelined() {
	local before after
	up_u1 || return 1
	before=$(udot_queries u1)
	dotq -n 2000 -c 2000 -t "$T311" $N1@$A1
	expect_rc "all answered" 0
	expect "2000 answers, each checked" '^round=1 sent=2000 ok=2000 bad=0 err=0 '
	expect "one connection" '^status .* conns=1 connects=1 handshakes=1 '
	after=$(udot_queries u1)
	if [ $((after - before)) -eq 2000 ]; then ok "server saw exactly 2000 queries"; else
		echo "server saw $((after - before))" >"$OUT"; not_ok "server saw exactly 2000 queries"; fi
}

s_bounded_queue() {
	up_u1 || return 1
	dotq -n 3000 -c 3000 -P 1000 -t "$T311" $N1@$A1
	expect "1000 queued and answered, 2000 refused (EBUSY)" '^round=1 sent=3000 ok=1000 bad=0 err=2000 err_overload=2000 '
}

# callbacks that cancel, submit, reset and finally free the client
s_torture() {
	local seed
	up_u1 || return 1
	for seed in 1 2 3; do
		dotq -X $seed -n 5000 -c 300 -t "$T311" $N1@$A1
		expect "torture seed $seed: one callback per query, none after cancel" \
			'^torture submitted=5000 answered=[1-9][0-9]* .* outstanding=0 violations=0$'
	done
}

# failover: the first address refuses
s_failover() {
	up_u1 || return 1
	dotq -t "$T311" $N1@$A4 $N1@$A1
	expect "answered from the second address" '^answer result=ok .*A=192\.0\.2\.1$'
	expect "status shows the working address" "^status .* addr=$A1:853 "
	expect "the refused connect was counted" '^status .* fail_network=1 '
}

# session resumption, keyed by the TLSA set
s_resumption() {
	up_u1 || return 1
	dotq -n 10 -c 10 -r 4 -w 600 -I 300 -u 3 -t "$T311" -T "$T301" $N1@$A1
	expect "round 1: full handshake" '^round=1 .* ok=10 .*resumed=0 matched=3 1 1 .*connects=1$'
	expect "round 2 (new connection after idle close): resumed" '^round=2 .* ok=10 .*resumed=1 matched=3 1 1 .*connects=2$'
	expect "round 3 (TLSA set changed): NOT resumed" '^round=3 .* ok=10 .*resumed=0 matched=3 0 1 .*connects=3$'
	expect "round 4: resumed under the new set" '^round=4 .* ok=10 .*resumed=1 matched=3 0 1 .*connects=4$'
	expect "two resumptions in all" '^status .* resumptions=2 '

	dotq -n 10 -c 10 -r 2 -R 2 -t "$T311" $N1@$A1
	expect "reset closes the connection and drops the tickets" '^round=2 .* ok=10 .*resumed=0 .*connects=2$'
}

# server killed and restarted while queries flow
s_server_restart() {
	local before pid
	up_u1 || return 1
	before=$(udot_queries u1)
	"$DOTQ" -i 100 -d 9000 -o 500 -t "$T311" $N1@$A1 >"$UDOT_DIR/recover" 2>&1 &
	pid=$!
	echo $pid >"$UDOT_DIR/dotq.pid"
	# answers are flowing before the kill
	wait_for 5 sh -c "[ \"\$(unbound-control -c '$UDOT_DIR/u1/unbound.conf' stats_noreset | sed -n 's/^total.num.queries=//p')\" -ge $((before + 5)) ]" ||
		echo "# no queries reached the server before the kill"
	udot_kill u1
	sleep 1.5 # the outage itself: queries sent while the server is down must fail
	udot_run u1 || return 1
	wait $pid
	RC=$?
	rm -f "$UDOT_DIR/dotq.pid"
	cp "$UDOT_DIR/recover" "$OUT"
	expect_rc "recovered: last query answered" 0
	expect "queries failed while it was down, then recovered" \
		'^interval sent=[0-9]+ ok=[0-9]+ fail=[1-9][0-9]* .* last_ok=1 ok_after_last_fail=([5-9]|[1-9][0-9]+)$'
	expect "reconnected" '^status .* connects=([2-9]|[1-9][0-9]+) '
	if [ "$(field backoff_ms)" = 0 ]; then ok "backoff reset on success"; else not_ok "backoff reset on success"; fi
}

# a peer that completes the handshake and then says nothing: the query
# times out there and is retried, on the next address
s_silent_server() {
	up_u1 || return 1
	# the peer's stdin stays open (and it silent) for as long as the test needs
	(sleep 6) | "${PEER[@]}" >/dev/null 2>&1 &
	peer_listening $! || return 1
	dotq -o 500 -t "$TH" -t "$T311" $N1@$A5 $N1@$A1
	peer_stop
	expect "silent server: answered after a retry elsewhere" '^answer result=ok .*A=192\.0\.2\.1$'
	expect "silent server: one timeout, one retry, now on the next address" \
		"^status .* addr=$A1:853 .* timeouts=1 retries=1 "
}

# TLS 1.3 only unless allowed
tls12() {
	# the peer's stdin stays open for its lifetime
	(sleep 3) | "${PEER[@]}" -tls1_2 >/dev/null 2>&1 &
	peer_listening $! || return 1
	dotq -o 300 -t "$TH" "$@" $N1@$A5
	peer_stop
}
s_tls12() {
	tls12 || return 1
	expect "TLS 1.2-only server refused by default" '^answer result=tls$'
	expect "... before any handshake completed" '^status .* handshakes=0 .* fail_tls=1 '
	tls12 -2 || return 1
	expect "TLS 1.2 accepted when allowed (DANE still checked)" '^status .* version=TLSv1\.2 .*matched=3 1 1 .* handshakes=1 '
}

# hostile TLS peer (not a DNS server): bad framing, garbage
hostile() {
	# $1: printf format of what the peer sends after the handshake; the
	# pauses are the peer's behaviour: speak after the handshake, then
	# stay connected a while
	# shellcheck disable=SC2059 # $1 is a format: octal escapes
	(sleep 0.5; printf "$1"; sleep 1) | "${PEER[@]}" >/dev/null 2>&1 &
	peer_listening $! || return 1
	dotq -o 700 -t "$TH" $N1@$A5
	peer_stop
}
s_hostile() {
	hostile '\000\000' || return 1
	if [ "$RC" = 1 ]; then ok "zero length prefix: no crash, query failed"; else not_ok "zero length prefix (exit $RC)"; fi
	expect "zero length prefix: dropped after a good handshake, no answer" \
		'^status .* handshakes=1 .* answers=0 '
	expect "zero length prefix: query failed" '^answer result=(network|timeout|tls)$'
	hostile '\377\377\001\002\003' || return 1
	if [ "$RC" = 1 ]; then ok "truncated 65535-octet message: no crash"; else not_ok "truncated message (exit $RC)"; fi
	hostile '\000\014\000\000\200\000\000\001\000\000\000\000\000\000\000\003abc' || return 1
	if [ "$RC" = 1 ]; then ok "unknown ID and garbage: connection dropped, no crash"; else not_ok "garbage (exit $RC)"; fi
}

# Bursts against stock Unbound, which leaves Nagle on: it holds each answer
# until the previous one is acknowledged, so a burst whose answers are not
# acknowledged promptly ends in a ~40 ms delayed-ACK stall.  Below and above
# the in-flight count where the client stops acknowledging every read.
# max_stall ARGS...: the slowest answer of 20 bursts, 30 ms apart, in us;
# STALLS: how many of the bursts took 30 ms or more.
max_stall() {
	dotq -N 2000 -r 20 -w 30 -t "$T311" "$@" $N1@$A1
	STALLS=$(awk '/^round=/ { for (i = 1; i <= NF; i++) if ($i ~ /^max_us=/) { sub(/^max_us=/, "", $i); if ($i + 0 >= 30000) n++ } } END { print n + 0 }' "$OUT")
	MAX_US=$(awk '/^round=/ { for (i = 1; i <= NF; i++) if ($i ~ /^max_us=/) { sub(/^max_us=/, "", $i); if ($i + 0 > m) m = $i + 0 } } END { print m + 0 }' "$OUT")
}
s_bursts() {
	local burst
	up_u1 || return 1
	for burst in 2 30 100; do
		max_stall -n $burst -c $burst
		if [ "$RC" = 0 ] && [ "$STALLS" = 0 ]; then
			ok "bursts of $burst: no delayed-ACK stall (slowest answer $MAX_US us)"
		else
			not_ok "bursts of $burst: $STALLS of 20 took >= 30 ms (exit $RC)"
		fi
	done
	max_stall -Q -n 30 -c 30
	if [ "$STALLS" -gt 0 ]; then
		ok "control: without the ACK policy the same bursts stall ($STALLS of 20, slowest $MAX_US us)"
	else
		not_ok "control: no stall without the ACK policy (the server has Nagle off?)"
	fi
}

# pipelining latency against stock Unbound (Nagle on its side): 2000
# queries, 100 in flight; printed, not checked
s_latency() {
	local i
	up_u1 || return 1
	for i in 1 2 3; do
		dotq -n 2000 -c 100 -t "$T311" $N1@$A1
		printf '#   quickack:    %s\n' "$(sed -n 's/^round=1 .*\(p50_us=[0-9]* p99_us=[0-9]*\).*/\1/p' "$OUT")"
		dotq -Q -n 2000 -c 100 -t "$T311" $N1@$A1
		printf '#   no quickack: %s\n' "$(sed -n 's/^round=1 .*\(p50_us=[0-9]* p99_us=[0-9]*\).*/\1/p' "$OUT")"
	done
}

scenario answers s_answers teardown
scenario dane-ee-forms s_dane_ee teardown
scenario dane-ta s_dane_ta teardown
scenario auth-failures s_auth_failures teardown
scenario pkix s_pkix teardown
scenario opportunistic s_opportunistic teardown
scenario pipelined-2000 s_pipelined teardown
scenario bounded-queue s_bounded_queue teardown
scenario torture s_torture teardown
scenario failover s_failover teardown
scenario resumption s_resumption teardown
scenario server-restart s_server_restart teardown
scenario silent-server s_silent_server teardown
scenario tls12 s_tls12 teardown
scenario hostile-peer s_hostile teardown
scenario bursts s_bursts teardown
scenario latency s_latency teardown
finish
