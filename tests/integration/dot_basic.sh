#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd with a static upstream against a real Unbound serving DoT on
# loopback: answers over UDP and TCP, DANE variants (3 1 1, 3 0 1, 2 0 1 with
# a private CA chain), a wrong TLSA refused with SERVFAIL + EDE and no clear
# text, the cache proven by the upstream's counter, TC=1 truncation, whole
# answers near 65,535 octets over TCP, local answers, meta-type questions
# answered locally (also under a QTYPE OPT flood), a client whose queries
# keep failing held back, 2,000 concurrent queries over one connection,
# recovery after the upstream is killed and restarted, and a hostile
# upstream falling out of step (unframed garbage, an answer to an ID never
# asked) or answering late.  Each scenario starts its own
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
# and answers near the TCP limit: 65,505 octets, the largest Unbound can
# send with its own OPT (keepalive) inside 65,535, and 65,535 octets,
# which it can send only to a query without EDNS (in a file: too long for
# the environment)
{
	udot_sized_txt huge.test. 65505
	udot_sized_txt edge.test. 65518
	udot_sized_txt max.test. 65535
} >"$T_DIR/huge.conf"
BIG="$BIG
	include: \"$T_DIR/huge.conf\""

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

# flood QTYPE SUFFIX N_ATTACK N_INNOCENT: an attacker (from 127.0.0.70)
# sends N_ATTACK queries of type QTYPE for names under SUFFIX over UDP, as
# fast as about 10,000 a second, while an innocent client (from
# 127.0.0.71) asks N_INNOCENT bench names (TTL 0: each one is forwarded),
# one at a time.  Prints "innocent ok=.. servfail=.. other=.. timeout=..",
# "attacker rcodeN=...", "held back N" (answers saying the attacker is
# held back for failing queries) and "seconds S".
flood() {
	python3 - "$L" "$@" <<'PY'
import random, socket, struct, sys, threading, time
daemon, qtype, suffix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n_atk, n_inn = int(sys.argv[4]), int(sys.argv[5])
def query(qid, name, qtype):
    m = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.split("."):
        if label:
            m += bytes([len(label)]) + label.encode()
    return m + b"\0" + struct.pack(">HH", qtype, 1) + b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
atk = {}
held = 0
def count(r):
    global held
    atk[r[3] & 15] = atk.get(r[3] & 15, 0) + 1
    held += b"too many failing queries" in r
def attacker():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.70", 0))
    s.setblocking(False)
    for i in range(n_atk):
        s.sendto(query(i & 0xffff, "a%d.%s" % (i, suffix), qtype), (daemon, 53))
        if i % 20 == 19:
            time.sleep(0.002)  # pacing: at most about 10,000 queries a second
        try:
            while True:
                count(s.recv(65535))
        except BlockingIOError:
            pass
    s.settimeout(0.5)
    try:
        while True:
            count(s.recv(65535))
    except socket.timeout:
        pass
t0 = time.time()
t = threading.Thread(target=attacker)
t.start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.71", 0))
s.settimeout(2)
res = {"ok": 0, "servfail": 0, "other": 0, "timeout": 0}
for i in range(n_inn):
    qid = random.randrange(65536)
    s.sendto(query(qid, "n%d.bench.test" % (i % 2000), 1), (daemon, 53))
    try:
        while True:
            r = s.recv(65535)
            if struct.unpack(">H", r[:2])[0] == qid:
                break
        rc = r[3] & 15
        res["ok" if rc == 0 else "servfail" if rc == 2 else "other"] += 1
    except socket.timeout:
        res["timeout"] += 1
    time.sleep(0.003)  # pacing of the innocent client
t.join()
print("innocent", " ".join("%s=%d" % kv for kv in res.items()))
print("attacker", " ".join("rcode%d=%d" % kv for kv in sorted(atk.items())))
print("held back %d" % held)
print("seconds %.1f" % (time.time() - t0))
PY
}

# ask QTYPE udp|tcp: one query for www.test of type QTYPE with EDNS;
# prints "rcode R qd Q opt O" (O: 1 if the answer has an OPT record).
ask() {
	python3 - "$L" "$@" <<'PY'
import socket, struct, sys
addr, qtype, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 1) + b"\3www\4test\0" + struct.pack(">HH", qtype, 1)
q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
if proto == "tcp":
    s = socket.create_connection((addr, 53), timeout=3)
    s.sendall(struct.pack(">H", len(q)) + q)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
        d = s.recv(65535)
        if not d:
            break
        buf += d
    r = buf[2:]
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, (addr, 53))
    r = s.recv(65535)
qd, an, ns, ar = struct.unpack(">HHHH", r[4:12])
# an error answer: the question (26 octets with the header), then the OPT
opt = 1 if an == 0 and ns == 0 and ar == 1 and r[26:29] == b"\0\0\x29" else 0
print("rcode %d qd %d opt %d" % (r[3] & 15, qd, opt))
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

# ---- meta-types (RFC 6895 3.1) are answered here and never forwarded;
# a flood of QTYPE OPT leaves an innocent client untouched
s_meta_types() {
	local before after out p t
	up_d1 || return 1
	before=$(udot_queries u1)
	for p in udp tcp; do
		expect_eq "QTYPE OPT over $p: FORMERR, question and OPT kept" "$(ask 41 $p)" "rcode 1 qd 1 opt 1"
		expect_eq "QTYPE 0 over $p: FORMERR" "$(ask 0 $p)" "rcode 1 qd 1 opt 1"
		for t in 249 250 251 252 253 254 128 248; do
			expect_eq "QTYPE $t over $p: NOTIMP, question and OPT kept" "$(ask $t $p)" "rcode 4 qd 1 opt 1"
		done
	done
	out=$($DIG www.test AXFR +tcp)
	expect_contains "dig AXFR: refused as a transfer" "$out" "Transfer failed"
	after=$(udot_queries u1)
	expect_eq "no meta-type question reached the upstream" "$after" "$before"
	out=$($DIG www.test TYPE249)
	expect_contains "TKEY: NOTIMP with EDE 21 (Not Supported)" "$out" "EDE: 21"
	$DIG www.test ANY >/dev/null
	check "ANY is still forwarded" test "$(udot_queries u1)" -gt "$after"

	before=$(udot_queries u1)
	out=$(flood 41 test 3000 500)
	echo "# QTYPE OPT flood: $(echo "$out" | tr '\n' ';')"
	expect_contains "QTYPE OPT flood: the innocent client gets every answer, no SERVFAIL" "$out" \
		"innocent ok=500 servfail=0 other=0 timeout=0"
	expect_contains "QTYPE OPT flood: the attacker gets FORMERR" "$out" "attacker rcode1=3000"
	after=$(udot_queries u1)
	check "QTYPE OPT flood: the upstream saw only the innocent queries ($((after - before)))" \
		test $((after - before)) -le 500
	expect_eq "the upstream never saw QTYPE OPT" "$(udot_stat u1 num.query.type.OPT)" ""
	expect_eq "counted as meta-type questions" "$(ds_json d1 counters.meta_qtype)" "3022"
}

# ---- a client whose queries keep failing upstream is held back: a few
# dozen go through, then REFUSED locally with EDE 18; others are served
s_failing_clients() {
	local before after out atk limit
	up_d1 || return 1
	before=$(udot_queries u1)
	out=$(flood 1 nx.example 1500 300)
	echo "# failing-name flood: $(echo "$out" | tr '\n' ';')"
	expect_contains "failing flood: the innocent client gets every answer" "$out" \
		"innocent ok=300 servfail=0 other=0 timeout=0"
	expect_contains "failing flood: the attacker gets REFUSED, upstream or local" "$out" "attacker rcode5=1500"
	after=$(udot_queries u1)
	atk=$((after - before - 300))
	# the bucket (32, then 8 a second) plus what was already in flight
	# when it ran dry (failures are counted as their answers come back)
	limit=300
	check "failing flood: at most $limit of its 1500 queries reached the upstream ($atk)" \
		test "$atk" -le "$limit"
	check "counted as refused_failing" test "$(ds_json d1 counters.refused_failing)" -ge $((1500 - limit))
	check "failing flood: the rest were held back with EDE 18 and the reason" \
		test "$(echo "$out" | awk '/^held back/ {print $3}')" -ge $((1500 - limit))
	out=$($DIG -b 127.0.0.71 x2.nx.example A)
	expect_contains "another client's failing name still goes upstream" "$out" "status: REFUSED"
	expect_not_contains "... and is not held back" "$out" "too many failing queries"
	expect_eq "the held-back client's good names are served from the cache" \
		"$($DIG -b 127.0.0.71 www.test A +short; $DIG -b 127.0.0.70 www.test A +short)" "192.0.2.1
192.0.2.1"
}

# ---- large answers over TCP: everything that fits in 65,535 octets
# arrives whole, never TC=1; UDP still gets TC=1
s_tcp_large() {
	local out n name size round
	up_d1 || return 1
	for name in huge edge max; do
		case $name in huge) size=65505 ;; edge) size=65518 ;; *) size=65535 ;; esac
		n=$(udot_sized_txt_count $name.test. $size)
		for round in upstream cache; do
			out=$($DIG $name.test TXT +tcp)
			expect_contains "$size-octet answer over TCP ($round): NOERROR" "$out" "status: NOERROR"
			expect_not_contains "... TC=0" "$(echo "$out" | grep 'flags:')" " tc"
			expect_contains "... all $n records" "$out" "ANSWER: $n,"
		done
		out=$($DIG $name.test TXT +tcp +noedns +short | wc -l)
		expect_eq "$size-octet answer over TCP without EDNS: all $n records" "$out" "$n"
		out=$($DIG $name.test TXT +notcp +ignore)
		expect_contains "$size-octet answer over UDP: TC=1" "$(echo "$out" | grep 'flags:')" " tc"
		expect_contains "... with no records" "$out" "ANSWER: 0,"
	done
	check "the upstream's TC=1 (65,535 octets do not fit next to its OPT) was asked again" \
		test "$(ds_json d1 upstream.retries)" -ge 1
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

# UDP datagrams this namespace dropped because a socket's buffer was full
udp_rcvbuf_errors() {
	awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# ---- 2,000 concurrent queries (TTL 0 names: every one goes upstream)
s_concurrent() {
	local conn_before conn_after perf completed noerror out drops
	up_d1 || return 1
	conn_before=$(ds_json d1 upstream.connects)
	drops=$(udp_rcvbuf_errors)
	# The answers come back in bursts: dnsperf's socket gets a buffer
	# that holds all 2,000 (-b, KiB), or a busy machine that keeps
	# dnsperf off the CPU for a moment drops them in its kernel buffer
	# before dnsperf reads them; the daemon would be blamed for the loss.
	perf=$(dnsperf -s $L -p 53 -d "$T_DIR/names" -n 1 -q 2000 -t 10 -b 4096 2>&1)
	drops=$(($(udp_rcvbuf_errors) - drops))
	[ "$drops" -eq 0 ] || echo "# $drops datagrams dropped by a full socket buffer (RcvbufErrors)"
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

# ---- control socket: an unprivileged user is refused; dotctl gives up on
# a peer that does not answer, answers too slowly or accepts nothing
s_control_socket() {
	local out
	up_u1 || return 1
	ds_start d5 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" || return 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DOTCTL" -s "$T_DIR/d5/control" status 2>&1)
	expect_contains "control socket refuses an unprivileged user" "$out" "ermission denied"
	check "dotctl --timeout 1 against the daemon: answered" "$DOTCTL" -s "$T_DIR/d5/control" -t 1 status
	for mode in silent trickle full; do
		ctl_peer_check "$mode"
	done
}

# ctl_peer_check MODE: dotctl -t 1 against a control socket whose peer
# never answers (silent), sends one octet every 0.3 s and never ends
# (trickle), or accepts nothing and has its queue full (full): dotctl gives
# up after about a second, exit 2, saying why.
ctl_peer_check() {
	local sock=$T_DIR/peer-$1.sock out rc t0 ms pid
	python3 - "$sock" "$1" <<'PY' &
import os, socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp")
s.listen(0)
held = []
if mode == "full":
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path + ".tmp")   # fills the queue: backlog 0 holds one
    held.append(c)
os.rename(path + ".tmp", path)
deadline = time.time() + 10
while time.time() < deadline:
    if mode == "full":
        time.sleep(0.1)
        continue
    s.settimeout(0.2)
    try:
        c, _ = s.accept()
        held.append(c)
    except socket.timeout:
        pass
    for c in held:
        if mode == "trickle":
            try:
                c.send(b"o")
            except OSError:
                pass
    time.sleep(0.1 if mode == "silent" else 0.3)
PY
	pid=$!
	wait_for 50 test -S "$sock" || { t_fail "control peer $1: did not start"; kill $pid; return; }
	t0=$(ms_now)
	out=$("$DOTCTL" -s "$sock" -t 1 status 2>&1)
	rc=$?
	ms=$(($(ms_now) - t0))
	echo "# dotctl against a $1 peer: exit $rc after $ms ms: $out"
	expect_eq "control peer $1: dotctl exits 2" "$rc" "2"
	check "control peer $1: gives up after 1 s, within 3 s ($ms ms)" test "$ms" -ge 950 -a "$ms" -le 3000
	case $1 in
	full) expect_contains "control peer $1: says so" "$out" "accepts no connection" ;;
	*) expect_contains "control peer $1: says so" "$out" "did not answer within 1 s" ;;
	esac
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	return 0
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
scenario tcp-large s_tcp_large teardown
scenario local-answers s_local teardown
scenario meta-types s_meta_types teardown
scenario failing-clients s_failing_clients teardown
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
