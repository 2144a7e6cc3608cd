#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The header flags dotstubd answers with are its own, and honest:
#   AD only for an answer that came over DANE-authenticated DoT and only to
#   a client that asked for it (AD=1 or DO=1 in its query, RFC 6840 5.7),
#   on the first answer and on a cache hit alike; never for plain DNS
#   (opportunistic mode), whatever the resolver or someone on path set;
#   AA never (a forwarder is not authoritative), RA always (it recurses for
#   its clients), also in answers it makes itself.
#   A query whose EDNS is broken (two OPTs, an OPT outside the additional
#   section, an OPT not owned by the root, a bad option) gets FORMERR with
#   its question and an OPT (RFC 6891 7); one without an OPT gets none;
#   an unknown EDNS version gets BADVERS.
# Servers: a validating Unbound serving DoT (a signed zone sec.test with its
# trust anchor: AD=1; local data www.test: AA=1), and a hostile plain-DNS
# resolver (tests/tools/hostile_plain.py: AA=1, AD=1, RA=0 in every answer)
# on a network that publishes no resolver-name.arpa.  Runs inside a network
# namespace with a fixed gateway, like trust_discovery.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L=127.0.0.120 U=127.0.0.121 H=127.0.0.122 NAME=f1a9s3t5u7v9.zz
HOSTILE=$DOTSTUB_SRC/tests/tools/hostile_plain.py
cleanup() { ds_stop_all; cap_stop_all; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

# Fixtures (files only): the upstream's certificate and TLSA record, and
# the zone sec.test signed with one key, which is the upstream's trust
# anchor for it.
mkdir -p "$T_DIR/cert" "$T_DIR/zone"
udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")
cat >"$T_DIR/zone/sec.test" <<'EOF'
$ORIGIN sec.test.
@	300 IN SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
@	300 IN NS ns.sec.test.
ns	300 IN A 192.0.2.53
www	300 IN A 192.0.2.77
EOF
sign_zone() {
	ZKEY=$(cd "$T_DIR/zone" && ldns-keygen -a ECDSAP256SHA256 -k sec.test) || return 1
	(cd "$T_DIR/zone" && ldns-signzone -f sec.test.signed sec.test "$ZKEY")
}
sign_zone || { echo "cannot sign the test zone"; exit 1; }
ANCHOR=$(sed 's/;.*//' "$T_DIR/zone/$ZKEY.key")

# up_dot: the validating Unbound with DoT (sec.test is resolved from its
# auth-zone through the validator, so its answers carry AD=1)
up_dot() {
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key \
		UDOT_CONF_EXTRA="	module-config: \"validator iterator\"
	trust-anchor: \"$ANCHOR\"
	local-zone: \"sec.test.\" transparent" \
		UDOT_CONF_TAIL="auth-zone:
	name: \"sec.test.\"
	zonefile: \"$T_DIR/zone/sec.test.signed\"
	for-downstream: no
	for-upstream: yes
	fallback-enabled: no" \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
}

# up_hostile: the lying plain-DNS resolver on $H:53
up_hostile() {
	: >"$T_DIR/hostile.log"
	python3 "$HOSTILE" --addr $H --log "$T_DIR/hostile.log" >>"$T_DIR/hostile.out" 2>&1 &
	echo $! >"$T_DIR/hostile.pid"
	wait_for 5 grep -q '^ready' "$T_DIR/hostile.log" ||
		{ echo "the hostile resolver did not start: $(cat "$T_DIR/hostile.out")"; return 1; }
}
hostile_stop() {
	[ -f "$T_DIR/hostile.pid" ] && pid_stop "$(cat "$T_DIR/hostile.pid")"
	rm -f "$T_DIR/hostile.pid"
}
teardown() { udot_stop_all; hostile_stop; rm -rf "${T_DIR:?}"/[a-z]/; }

# hdr SERVER ARGS...: dig ARGS at SERVER (port 53); prints
# "STATUS aa=N ra=N ad=N" from the answer's header
hdr() {
	local server=$1
	shift
	dig -p 53 @"$server" +time=3 +tries=1 "$@" | awk '
		/->>HEADER<<-/ { st = $6; sub(",", "", st) }
		/^;; flags:/ {
			f = $0; sub(/^;; flags:/, "", f); sub(/;.*/, "", f)
			n = split(f, a, " ")
			for (i = 1; i <= n; i++) fl[a[i]] = 1
		}
		END { printf "%s aa=%d ra=%d ad=%d\n", st, fl["aa"], fl["ra"], fl["ad"] }'
}

hits() { ds_json "$1" counters.cache_hits; }

# ---- DoT to a validating upstream: AD kept for who asks, AA cleared
s_dot() {
	local h0
	up_dot || return 1
	# what the upstream itself says, so the checks below can fail
	expect_eq "premise: the upstream validates sec.test (AD=1)" \
		"$(hdr $U www.sec.test A +adflag)" "NOERROR aa=0 ra=1 ad=1"
	expect_eq "premise: the upstream is authoritative for its local data (AA=1)" \
		"$(hdr $U www.test A)" "NOERROR aa=1 ra=1 ad=0"
	ds_start d --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" || return 1

	h0=$(hits d)
	expect_eq "DoT, client sets AD: AD on the first answer" \
		"$(hdr $L www.sec.test A +adflag)" "NOERROR aa=0 ra=1 ad=1"
	expect_eq "DoT, client sets AD: AD on the cache hit" \
		"$(hdr $L www.sec.test A +adflag)" "NOERROR aa=0 ra=1 ad=1"
	expect_eq "DoT, client sets neither AD nor DO: no AD (cache hit)" \
		"$(hdr $L www.sec.test A +noadflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "the last two were cache hits" "$(hits d)" "$((h0 + 2))"

	expect_eq "DoT, client sets DO only: AD on the first answer" \
		"$(hdr $L www.sec.test A +noadflag +dnssec)" "NOERROR aa=0 ra=1 ad=1"
	expect_eq "DoT, client sets DO only: AD on the cache hit" \
		"$(hdr $L www.sec.test A +noadflag +dnssec)" "NOERROR aa=0 ra=1 ad=1"

	# first asked without AD, then with: the cache remembers it was authenticated
	expect_eq "DoT, SOA without AD: no AD on the first answer" \
		"$(hdr $L sec.test SOA +noadflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "DoT, SOA with AD: AD from the cache" \
		"$(hdr $L sec.test SOA +adflag)" "NOERROR aa=0 ra=1 ad=1"

	h0=$(hits d)
	expect_eq "DoT, the upstream's AA=1: AA cleared on the first answer" \
		"$(hdr $L www.test A +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "DoT, the upstream's AA=1: AA cleared on the cache hit" \
		"$(hdr $L www.test A +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "... which was a cache hit" "$(hits d)" "$((h0 + 1))"

	expect_eq "local answer (localhost): no AA, RA" \
		"$(hdr $L localhost A +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "local answer (resolver.arpa): no AA, RA" \
		"$(hdr $L resolver.arpa SVCB)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "local NOTIMP (TKEY): RA" "$(hdr $L www.test TYPE249)" "NOTIMP aa=0 ra=1 ad=0"
}

# ---- opportunistic plain DNS to a resolver that sets AA and AD, clears RA
s_plain() {
	local h0 n0
	up_hostile || return 1
	expect_eq "premise: the hostile resolver sets AA and AD and clears RA" \
		"$(hdr $H www.test A +adflag)" "NOERROR aa=1 ra=0 ad=1"
	ds_start p --listen $L:53 --network-resolver $H --unknown-network opportunistic \
		--discovery-wait 10000 || return 1
	check "the daemon serves plain DNS (the network publishes nothing)" \
		wait_for 15 sh -c "\"$DOTCTL\" -s \"$T_DIR/p/control\" status | grep -q 'PLAIN DNS to $H:53'"

	h0=$(hits p)
	n0=$(grep -c "^query www.test. 1 " "$T_DIR/hostile.log")
	expect_eq "plain, client sets AD: no AD, no AA, RA on the first answer" \
		"$(hdr $L www.test A +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, client sets AD: no AD, no AA, RA on the cache hit" \
		"$(hdr $L www.test A +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, client sets neither: no AD (cache hit)" \
		"$(hdr $L www.test A +noadflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "the last two were cache hits" "$(hits p)" "$((h0 + 2))"
	expect_eq "... and the resolver was asked once" \
		"$(grep -c "^query www.test. 1 " "$T_DIR/hostile.log")" "$((n0 + 1))"

	expect_eq "plain, client sets DO: no AD on the first answer" \
		"$(hdr $L www.test A +dnssec)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, client sets DO: no AD on the cache hit" \
		"$(hdr $L www.test A +dnssec)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, over TCP: no AD, no AA, RA" \
		"$(hdr $L tcp.test A +adflag +tcp)" "NOERROR aa=0 ra=1 ad=0"

	expect_eq "plain, NODATA: no AD, no AA, RA on the first answer" \
		"$(hdr $L www.test TXT +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, NODATA: the same from the cache" \
		"$(hdr $L www.test TXT +adflag)" "NOERROR aa=0 ra=1 ad=0"
	expect_eq "plain, the resolver's REFUSED: no AD, no AA, RA" \
		"$(hdr $L refused.test A +adflag)" "REFUSED aa=0 ra=1 ad=0"
}

# raw CASE: one hand-made query for www.test A (id 0x4242) over UDP; prints
# "rcode R id I qd Q question same|other opt O aa A ra R ad D" (R with the
# OPT's extended rcode; O: 1 if the answer ends with an OPT record)
raw() {
	python3 - "$L" "$1" <<'PY'
import socket, struct, sys
addr, case = sys.argv[1], sys.argv[2]
question = b"\3www\4test\0" + struct.pack(">HH", 1, 1)
def opt(version=0, options=b"", owner=b"\0"):
    return owner + struct.pack(">HHIH", 41, 1232, version << 16, len(options)) + options
a_rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 9])
flags, an, ns, ar, rest = 0x0100, 0, 0, 1, opt()
if case == "two-opts":
    ar, rest = 2, opt() + opt()
elif case == "opt-in-authority":
    ns, ar = 1, 0
elif case == "opt-in-answer":
    an, ar = 1, 0
elif case == "opt-owner":
    rest = opt(owner=b"\3www\4test\0")
elif case == "opt-bad-option":
    rest = opt(options=struct.pack(">HH", 10, 9) + bytes(8))
elif case == "answer-record":
    an, rest = 1, a_rr + opt()
elif case == "trailing":
    rest = opt() + b"\0"
elif case == "no-opt-other-record":
    rest = a_rr
elif case == "badvers":
    rest = opt(version=1)
elif case == "notimp":
    flags = 0x0100 | (2 << 11)
q = struct.pack(">HHHHHH", 0x4242, flags, 1, an, ns, ar) + question + rest
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (addr, 53))
r = s.recv(65535)
rid, rflags, qd, ran, rns, rar = struct.unpack(">HHHHHH", r[:12])
same = "same" if qd == 1 and r[12:12 + len(question)] == question else "other"
end = 12 + (len(question) if qd == 1 else 0)
rcode, has_opt = rflags & 15, 0
if ran == 0 and rns == 0 and rar == 1 and r[end:end + 3] == b"\0\0\x29":
    has_opt = 1
    rcode |= r[end + 5] << 4
print("rcode %d id %x qd %d question %s opt %d aa %d ra %d ad %d" % (
    rcode, rid, qd, same, has_opt, rflags >> 10 & 1, rflags >> 7 & 1, rflags >> 5 & 1))
PY
}

# ---- what the daemon answers itself: malformed EDNS, BADVERS, SERVFAIL
s_local_errors() {
	local c
	up_dot || return 1
	# a wrong TLSA: every forwarded query fails here, with a local SERVFAIL
	ds_start e --listen $L:53 --upstream $NAME@$U \
		--tlsa "3 1 1 0000000000000000000000000000000000000000000000000000000000000000" || return 1
	expect_eq "local SERVFAIL: RA, no AA, no AD" \
		"$(hdr $L www.sec.test A +adflag)" "SERVFAIL aa=0 ra=1 ad=0"

	for c in two-opts opt-in-authority opt-in-answer opt-owner opt-bad-option answer-record trailing; do
		expect_eq "malformed EDNS ($c): FORMERR with the question and an OPT" \
			"$(raw $c)" "rcode 1 id 4242 qd 1 question same opt 1 aa 0 ra 1 ad 0"
	done
	expect_eq "no OPT, another additional record: FORMERR with the question, no OPT" \
		"$(raw no-opt-other-record)" "rcode 1 id 4242 qd 1 question same opt 0 aa 0 ra 1 ad 0"
	expect_eq "EDNS version 1: BADVERS with the question and an OPT" \
		"$(raw badvers)" "rcode 16 id 4242 qd 1 question same opt 1 aa 0 ra 1 ad 0"
	expect_eq "opcode STATUS with an OPT: NOTIMP with the question and an OPT" \
		"$(raw notimp)" "rcode 4 id 4242 qd 1 question same opt 1 aa 0 ra 1 ad 0"
	expect_eq "a well-formed query still works (SERVFAIL: wrong TLSA)" \
		"$(raw ok)" "rcode 2 id 4242 qd 1 question same opt 1 aa 0 ra 1 ad 0"
}

scenario dot s_dot teardown
scenario plain s_plain teardown
scenario local-errors s_local_errors teardown
finish
