#!/usr/bin/env bash
# dotstubd with a static upstream against a real Unbound serving DoT on
# loopback: answers over UDP and TCP, DANE variants (3 1 1, 3 0 1, 2 0 1 with
# a private CA chain), a wrong TLSA refused with SERVFAIL + EDE and no clear
# text, the cache proven by the upstream's counter, TC=1 truncation, local
# answers, 2,000 concurrent queries over one connection, and recovery after
# the upstream is killed and restarted.
set -u
. "$DOTSTUB_SRC/tests/lib/common.sh"
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L=127.0.0.60 U=127.0.0.61 NAME=k2m4p6r8t0v1.zz
cleanup() { ds_stop_all; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

# a big RRset for truncation: 40 TXT records of ~60 octets
extra=$(udot_big_txt big.test.)
UDOT_CONF_EXTRA="$extra" udot_start u1 $U $NAME || { echo "unbound did not start"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$(udot_cert_file u1)")
TLSA301=$(udot_tlsa 3 0 1 "$(udot_cert_file u1)")

DIG="dig -p 53 @$L +time=3 +tries=1"

# ---- 3 1 1 ----
ds_start d1 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" || exit 1
out=$($DIG www.test A +short)
expect_eq "A over UDP through DoT" "$out" "192.0.2.1"
out=$($DIG www.test AAAA +short +tcp)
expect_eq "AAAA over TCP through DoT" "$out" "2001:db8::1"
out=$($DIG www.test TXT +short)
expect_eq "TXT" "$out" '"hello dotstub"'
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

# cache: the second identical query must not reach the upstream
before=$(udot_queries u1)
$DIG www.test A +short >/dev/null
$DIG www.test A +short >/dev/null
after=$(udot_queries u1)
expect_eq "cache hits do not reach the upstream" "$after" "$before"
ttl1=$($DIG www.test A +noall +answer | awk '{print $2}')
sleep 1.2
ttl2=$($DIG www.test A +noall +answer | awk '{print $2}')
check "TTL decreases in the cache ($ttl1 -> $ttl2)" test "$ttl2" -lt "$ttl1"
# 0x20 case is given back as asked
out=$($DIG WwW.TeSt A +noall +question)
expect_contains "question case preserved from the cache" "$out" "WwW.TeSt."

# truncation: 40 TXT records do not fit 512 octets without EDNS
out=$($DIG big.test TXT +noedns +ignore +notcp)
expect_contains "large answer over UDP without EDNS has TC=1" "$out" " tc"
out=$($DIG big.test TXT +tcp +short | wc -l)
expect_eq "the same answer over TCP is complete" "$out" "40"

# local answers
out=$($DIG localhost A +short)
expect_eq "localhost is answered locally" "$out" "127.0.0.1"
out=$($DIG foo.localhost AAAA +short)
expect_eq "names below localhost too" "$out" "::1"
before=$(udot_queries u1)
out=$($DIG resolver.arpa SVCB)
expect_contains "resolver.arpa answered locally" "$out" "status: NOERROR"
after=$(udot_queries u1)
expect_eq "resolver.arpa is not forwarded" "$after" "$before"

# malformed input: a short packet and garbage get no crash
printf '\x00\x01\x02' >/dev/udp/$L/53
head -c 300 /dev/urandom >/dev/udp/$L/53
out=$($DIG www.test A +short)
expect_eq "still answering after garbage" "$out" "192.0.2.1"

# 2,000 concurrent queries (TTL 0 names: every one goes upstream)
seq 0 1999 | sed 's/^/n/; s/$/.bench.test A/' >"$T_DIR/names"
conn_before=$(ds_ctl d1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["upstream"]["connects"])')
perf=$(dnsperf -s $L -p 53 -d "$T_DIR/names" -n 1 -q 2000 -t 10 2>&1)
completed=$(printf '%s\n' "$perf" | awk '/Queries completed:/ {print $3}')
expect_eq "2000 concurrent queries all answered" "$completed" "2000"
noerror=$(printf '%s\n' "$perf" | grep -o 'NOERROR [0-9]*' | awk '{print $2}')
expect_eq "all 2000 NOERROR" "$noerror" "2000"
conn_after=$(ds_ctl d1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["upstream"]["connects"])')
check "over at most two connections ($conn_before -> $conn_after)" test $((conn_after - conn_before)) -le 1
out=$($DIG n1234.bench.test A +short)
expect_eq "a bench name resolves correctly" "$out" "10.77.4.210"

# upstream killed under load and restarted: dotstubd recovers by itself
dnsperf -s $L -p 53 -d "$T_DIR/names" -l 4 -q 50 >/dev/null 2>&1 &
load=$!
sleep 1
udot_kill u1
sleep 0.5
udot_run u1
wait $load
check "answers again after the upstream came back" wait_for 10 sh -c "$DIG n7.bench.test A +short | grep -q 10.77.0.7"
ds_stop d1

# ---- 3 0 1 (full certificate digest) ----
ds_start d2 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA301" || exit 1
out=$($DIG www.test A +short)
expect_eq "TLSA 3 0 1 accepted" "$out" "192.0.2.1"
ds_stop d2

# ---- wrong TLSA: SERVFAIL + EDE, nothing in clear text ----
WRONG="3 1 1 0000000000000000000000000000000000000000000000000000000000000000"
cap_start wrong "host $U and port 53"
before=$(udot_queries u1)
ds_start d3 --listen $L:53 --upstream $NAME@$U --tlsa "$WRONG" || exit 1
out=$($DIG www2.test A)
expect_contains "wrong TLSA: SERVFAIL" "$out" "status: SERVFAIL"
expect_contains "wrong TLSA: EDE 23 Network Error" "$out" "EDE: 23"
expect_contains "wrong TLSA: the reason names DANE" "$out" "DANE"
st=$(ds_ctl d3 status)
expect_contains "status names the DANE failure" "$st" "DANE authentication failed"
after=$(udot_queries u1)
expect_eq "wrong TLSA: the upstream saw no query" "$after" "$before"
pkts=$(cap_count wrong)
expect_eq "wrong TLSA: no clear-text DNS packet to the upstream" "$pkts" "0"
ds_stop d3
udot_stop u1

# ---- 2 0 1: private CA, chain served ----
mkdir -p "$T_DIR/ca"
udot_ca_chain $NAME "$T_DIR/ca" inter
TLSA201=$(udot_tlsa 2 0 1 "$T_DIR/ca/$NAME.ca.pem")
UDOT_CERT=$T_DIR/ca/$NAME.pem UDOT_KEY=$T_DIR/ca/$NAME.key udot_start u2 $U $NAME ||
	{ echo "unbound (CA) did not start"; exit 1; }
ds_start d4 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA201" || exit 1
out=$($DIG www.test A +short)
expect_eq "TLSA 2 0 1 with a private CA chain accepted" "$out" "192.0.2.1"
st=$(ds_ctl d4 status)
expect_contains "status shows the matched 2 0 1" "$st" "TLSA 2 0 1"
ds_stop d4

# privileges are dropped after binding port 53
if id nobody >/dev/null 2>&1; then
	ds_start d6 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA201" --user nobody || exit 1
	uid=$(awk '/^Uid:/ {print $2 "," $3 "," $4 "," $5}' /proc/"$(ds_pid d6)"/status)
	nob=$(id -u nobody)
	expect_eq "runs as nobody after binding (real, effective, saved, fs uid)" "$uid" "$nob,$nob,$nob,$nob"
	out=$($DIG www.test A +short)
	expect_eq "answers after dropping privileges" "$out" "192.0.2.1"
	check "root may still use the control socket" ds_ctl d6 status
	ds_stop d6
fi

# control socket: an unprivileged user is refused
if id nobody >/dev/null 2>&1; then
	ds_start d5 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA201" || exit 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DOTCTL" -s "$T_DIR/d5/control" status 2>&1)
	expect_contains "control socket refuses an unprivileged user" "$out" "ermission denied"
	ds_stop d5
fi

finish
