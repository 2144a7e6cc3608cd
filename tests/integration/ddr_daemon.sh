#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd and the network's designated resolvers (DDR, RFC 9462): the
# network's resolver, a real Unbound in the "gateway" namespace, publishes
# no resolver-name.arpa but answers _dns.resolver.arpa SVCB with a DoT
# designation of itself, and serves DoT with a certificate from a test CA.
#   verified: the certificate names the ADN and the resolver's (public)
#   address and the CA is given with ca-file: DoT authenticated by PKIX,
#   and after discovery no clear-text DNS on the wire (capture on the veth);
#   no-ip: the certificate lacks the address: not verified, and on a
#   public address no opportunistic use: plain DNS per unknown-network
#   opportunistic, SERVFAIL per strict;
#   opportunistic: a private address whose certificate nobody can verify:
#   DoT, unauthenticated, shown so, where unknown-network allows
#   opportunistic service, SERVFAIL where it is strict;
#   ddr-off: `ddr no` asks nothing and serves plain DNS;
#   pin: the opportunistic designated resolver's key is pinned for the
#   network on first use (trust list shows it, source ddr); after a
#   restart on the same network it authenticates the resolver even with
#   unknown-network strict; a new key there is refused (ALERT, SERVFAIL,
#   no clear text on the veth), its certificate verifying for nothing;
#   repin: the key of a designated resolver verified by its certificate
#   (PKIX) is pinned; the server then renews its certificate with a new
#   key (the same ADN and address, the same CA): it is still DoT,
#   authenticated, with no SERVFAIL, the log says once that the pin was
#   replaced, the trust list shows the new key (first seen kept, the
#   change dated), and the next visit is authenticated by the new pin; a
#   new key whose certificate comes from another CA, or lacks the
#   resolver's address, is refused there (ALERT, SERVFAIL, no clear text);
#   dnr: `dotctl link IFACE dnr` designates a DoT resolver whose
#   certificate is valid for its ADN (test CA, ca-file): it takes over from
#   plain DNS (DDR gave nothing verifiable) with authenticated DoT, before
#   DDR, its key pinned with source dnr; the time from the dotctl command to
#   the first authenticated answer is printed; `dnr no` keeps it unused.
# The time from the daemon's start to its first answer is printed.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
trap 'ds_stop_all; cap_stop_all; gw_stop; rm -rf "$T_DIR"' EXIT

L=127.0.0.53
DIG="dig @$L +time=5 +tries=1"
ADN=dns.example.test
PUB=192.0.2.53      # a public-looking address: no opportunistic use
PRIV=10.77.0.1      # the gateway's own, private address
VETH=${NS_P}c
WAIT=(--discovery-wait 10000)
ip -n "$NS_GW" addr add $PUB/32 dev "${NS_P}g" || exit 1

# gw_unbound LABEL ADDR CERTDIR [noddr]: an Unbound in the gateway
# namespace on ADDR port 53 (plain) and 853 (DoT, CERTDIR's certificate
# for $ADN), with no resolver-name.arpa and a DDR record designating
# itself (none with noddr: an attacker stripped it)
gw_unbound() {
	local d=$T_DIR/$1 a=$2 c=$3 ddr
	ddr="	local-data: '_dns.resolver.arpa. 300 IN SVCB 1 $ADN. alpn=\"dot\" ipv4hint=$a'"
	[ "${4:-}" = noddr ] && ddr=""
	udot_gw_start "$d" "$c" "$T_DIR/gw-unbound.pid" "$a@53 $a@853" "$ddr"
}

gw_stop() {
	local p
	p=$(cat "$T_DIR/gw-unbound.pid" 2>/dev/null) || return 0
	rm -f "$T_DIR/gw-unbound.pid"
	pid_stop "$p"
}
# the daemons are stopped by then: the next scenario starts with empty
# trust stores (a designated resolver's key is pinned per network, and the
# scenarios share the networks)
teardown() {
	gw_stop
	rm -rf "$T_DIR/a" "$T_DIR/b" "$T_DIR/c" "$T_DIR/s" "$T_DIR/r2" "$T_DIR/r3" \
		"$T_DIR/other" "$T_DIR/noip"
}

# certs DIR ADDR: a test CA and a certificate for $ADN (with IP:ADDR if
# ADDR is given) in DIR
certs() {
	mkdir -p "$1"
	UDOT_SAN_EXTRA=${2:+",IP:$2"} udot_ca_chain $ADN "$1"
}

status_of() { ds_ctl "$1" status 2>&1; }

# first_answer NAME: the daemon's own measure of its first answer after
# the network change, in ms ("" if not logged)
first_answer() {
	sed -n 's/.*first answer over the new upstream \([0-9.]*\) ms after the network change.*/\1/p' \
		"$T_DIR/$1/log" | head -1
}

# ------------------------------------------------------------- verified
s_verified() {
	local out st ms t0 t1
	certs "$T_DIR/ca-ip" $PUB || return 1
	gw_unbound verified $PUB "$T_DIR/ca-ip" || return 1
	cap_start verified "$VETH" "" "host $PUB" || return 1
	t0=$(date +%s%N)
	ds_start a --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-ip/$ADN.ca.pem" \
		"${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	t1=$(date +%s%N)
	expect_eq "verified: the first answer, over DoT" "$out" "192.0.2.80"
	out=$($DIG secret-name.example.test A +short)
	expect_eq "verified: a second name" "$out" "192.0.2.81"
	st=$(status_of a)
	expect_contains "verified: status: upstream is the ADN" "$st" "upstream:   $ADN"
	expect_contains "verified: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "verified: status: why (DDR, PKIX)" "$st" "DDR, verified by its certificate (PKIX)"
	expect_contains "verified: status: the link's transport" "$st" \
		"DoT to $ADN ($PUB:853), authenticated by its certificate (PKIX)"
	expect_not_contains "verified: status: not shown as unauthenticated" "$st" "unauthenticated"
	out=$(ds_ctl a query asked.example.test)
	expect_contains "verified: dotctl query says PKIX" "$out" \
		"answered by: DoT to $ADN ($PUB:853, certificate verified (PKIX))"
	expect_contains "verified: the log says DDR verified it" "$(ds_log a)" \
		"DDR: $ADN verified: its certificate is valid for $ADN and names the network's resolver"
	expect_contains "verified: the log says the transport" "$(ds_log a)" \
		"DoT authenticated to $ADN (certificate verified, PKIX)"
	cap_stop verified $PUB
	cap_expect_seen "verified: the capture saw the discovery in plain DNS (port 53)" verified "dst port 53"
	cap_expect_seen "verified: the capture saw DoT to the resolver (port 853)" verified "tcp dst port 853"
	cap_expect_absent "verified: the first query never went out in clear text" verified "www"
	cap_expect_absent "verified: the second query never went out in clear text" verified "secret-name"
	ms=$(first_answer a)
	check "verified: the daemon logged its first answer's delay" test -n "$ms"
	echo "# timing: DDR verified: first authenticated answer $ms ms after the network change" \
		"(daemon start to dig's answer: $(((t1 - t0) / 1000000)) ms)"
}

# ---------------------------------------------- a certificate without the IP
s_no_ip() {
	local out st
	certs "$T_DIR/ca-noip" || return 1
	gw_unbound noip $PUB "$T_DIR/ca-noip" || return 1
	ds_start a --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-noip/$ADN.ca.pem" \
		--unknown-network opportunistic "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "no IP: answered (plain DNS, opportunistic)" "$out" "192.0.2.80"
	st=$(status_of a)
	expect_contains "no IP: status says plain DNS" "$st" "PLAIN DNS to $PUB"
	expect_contains "no IP: the log says why it is not verified" "$(ds_log a)" \
		"DDR: $ADN not verified: $PUB:853: certificate verification failed: IP address mismatch"
	expect_not_contains "no IP: no opportunistic DoT to a public address" "$(ds_log a)" \
		"DDR opportunistic"
	ds_stop a
	ds_start b --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-noip/$ADN.ca.pem" \
		--unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "no IP, strict: SERVFAIL" "$out" "status: SERVFAIL"
}

# ------------------------------------- a private address, nothing verifiable
s_opportunistic() {
	local out st
	certs "$T_DIR/ca-priv" || return 1
	gw_unbound priv $PRIV "$T_DIR/ca-priv" || return 1
	cap_start opp "$VETH" "" "host $PRIV" || return 1
	ds_start a --listen $L:53 --network-resolver $PRIV --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "opportunistic: answered" "$out" "192.0.2.80"
	out=$($DIG +adflag secret-name.example.test A)
	expect_contains "opportunistic: a second name" "$out" "192.0.2.81"
	expect_not_contains "opportunistic: never AD (unauthenticated)" "$out" " ad;"
	st=$(status_of a)
	expect_contains "opportunistic: status says unauthenticated DoT" "$st" \
		"DoT, unauthenticated (DDR opportunistic)"
	expect_contains "opportunistic: status: the link's transport" "$st" \
		"DoT to $ADN ($PRIV:853), unauthenticated (DDR opportunistic)"
	expect_contains "opportunistic: status: auth none" "$st" \
		"auth:     none: DoT, unauthenticated (opportunistic)"
	expect_not_contains "opportunistic: status: never PKIX" "$st" "certificate verified (PKIX)"
	expect_contains "opportunistic: the log says so" "$(ds_log a)" \
		"DoT, unauthenticated (DDR opportunistic) to $ADN"
	cap_stop opp $PRIV
	cap_expect_seen "opportunistic: the capture saw DoT (port 853)" opp "tcp dst port 853"
	cap_expect_absent "opportunistic: the queries never went out in clear text" opp "secret-name"
	out=$(ds_ctl a query asked.example.test)
	expect_contains "opportunistic: dotctl query says unauthenticated DoT" "$out" \
		"answered by: DoT to $ADN ($PRIV:853), unauthenticated (opportunistic)"
	ds_stop a
	ds_start b --listen $L:53 --network-resolver $PRIV --unknown-network strict \
		"${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "opportunistic, strict: SERVFAIL" "$out" "status: SERVFAIL"
	expect_not_contains "opportunistic, strict: no unauthenticated DoT" "$(ds_log b)" \
		"DoT, unauthenticated (DDR opportunistic) to"
}

# --------------------------------------------------------------- ddr no
s_ddr_off() {
	local out
	certs "$T_DIR/ca-off" $PUB || return 1
	gw_unbound off $PUB "$T_DIR/ca-off" || return 1
	cap_start off "$VETH" "" "host $PUB" || return 1
	ds_start a --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-off/$ADN.ca.pem" \
		--ddr no "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "ddr no: answered in plain DNS" "$out" "192.0.2.80"
	expect_contains "ddr no: status says plain DNS" "$(status_of a)" "PLAIN DNS to $PUB"
	cap_stop off $PUB
	cap_expect_seen "ddr no: the capture saw plain DNS" off "dst port 53"
	cap_expect_absent "ddr no: no _dns.resolver.arpa query" off "_dns"
	cap_expect_none "ddr no: no DoT" off "tcp dst port 853"
}

# ----------------------------- a designated resolver's key pinned per network
# copy_state FROM TO: start TO with FROM's trust store (same network)
copy_state() { mkdir -p "$T_DIR/$2" && cp -a "$T_DIR/$1/state" "$T_DIR/$2/state"; }
# decided NAME: its network's decision is taken (queries no longer wait)
decided() { [ "$(ds_json "$1" discovery.state)" != discovering ]; }

s_pin() {
	local out st list json line
	certs "$T_DIR/ca-pin" || return 1
	gw_unbound pin $PRIV "$T_DIR/ca-pin" || return 1
	ds_start a --listen $L:53 --network-resolver $PRIV --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "pin: first visit answered (DDR opportunistic)" "$out" "192.0.2.80"
	check "pin: the store lists the pin" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*ddr'"
	list=$(ds_ctl a trust list)
	expect_contains "pin: trust list shows the designated resolver, source ddr" "$list" "DESIGNATED"
	while IFS= read -r line; do echo "#   $line"; done <<<"$list"
	json=$(ds_ctl a trust list --json)
	expect_contains "pin: trust list --json: source ddr" "$json" '"source": "ddr"'
	expect_contains "pin: trust list --json: the ADN" "$json" "\"designated\": \"$ADN.\""
	expect_contains "pin: the log says it pinned" "$(ds_log a)" \
		"DDR: pinned the key of the designated resolver $ADN for this network"
	ds_stop a

	# the same network again, strict: authenticated by the pin
	copy_state a b || return 1
	ds_start b --listen $L:53 --network-resolver $PRIV --unknown-network strict \
		"${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "pin: known network, strict: answered over DoT" "$out" "192.0.2.80"
	st=$(status_of b)
	expect_contains "pin: status: authenticated by its pinned key (DDR)" "$st" \
		"authenticated by its pinned key (DDR)"
	expect_not_contains "pin: status: not opportunistic" "$st" "DDR opportunistic"
	expect_contains "pin: the log says the pin authenticated it" "$(ds_log b)" \
		"DDR: $ADN authenticated by its pinned key (DDR)"
	ds_stop b

	# the designation stripped on the known network: as strict as a known
	# network, never plain DNS
	gw_stop
	gw_unbound strip $PRIV "$T_DIR/ca-pin" noddr || return 1
	copy_state a s || return 1
	cap_start strip "$VETH" "" "host $PRIV" || return 1
	ds_start s --listen $L:53 --network-resolver $PRIV --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	check "strip: the daemon decided" wait_for 15 decided s
	out=$($DIG secret-name.example.test A)
	expect_contains "strip: SERVFAIL, not plain DNS" "$out" "status: SERVFAIL"
	expect_not_contains "strip: status: no plain DNS" "$(status_of s)" "PLAIN DNS"
	cap_stop strip $PRIV
	cap_expect_seen "strip: the capture saw the discovery in plain DNS (port 53)" strip "dst port 53"
	cap_expect_absent "strip: the query never went out in clear text" strip "secret-name"
	ds_stop s

	# the DoT server's key changed on the known network: refused
	gw_stop
	certs "$T_DIR/ca-pin2" || return 1
	gw_unbound pin2 $PRIV "$T_DIR/ca-pin2" || return 1
	copy_state a c || return 1
	cap_start pinchg "$VETH" "" "host $PRIV" || return 1
	ds_start c --listen $L:53 --network-resolver $PRIV --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	check "pin: the changed key raised an ALERT" ds_wait_log c "ALERT" 0 15
	out=$($DIG secret-name.example.test A)
	expect_contains "pin: changed key: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "pin: the ALERT names the designated resolver" "$(ds_log c)" \
		"ALERT network"
	expect_contains "pin: the ALERT says another key" "$(ds_log c)" \
		"presented another key than the one pinned for this network"
	expect_not_contains "pin: the changed key's pin is not replaced" "$(ds_log c)" \
		"pin replaced"
	st=$(status_of c)
	expect_eq "pin: status: refused" "$(ds_json c discovery.state)" "refused"
	expect_contains "pin: status says why" "$st" \
		"another key than the one pinned for this network: refused"
	expect_not_contains "pin: no plain DNS" "$st" "PLAIN DNS"
	expect_not_contains "pin: no DoT answer from the changed server" "$(ds_log c)" \
		"first answer over the new upstream"
	list=$(ds_ctl c trust list)
	expect_contains "pin: trust list still shows the pin" "$list" "$ADN."
	cap_stop pinchg $PRIV
	cap_expect_seen "pin: the capture saw the discovery in plain DNS (port 53)" pinchg "dst port 53"
	cap_expect_absent "pin: the query never went out in clear text" pinchg "secret-name"

	# a legitimate change: the operator forgets the pin, the next use pins
	# the new key
	local old
	old=$(ds_ctl c trust list --json | python3 -c 'import json, sys
print([e["spki_sha256"] for e in json.load(sys.stdin) if "designated" in e][0])')
	out=$(ds_ctl c trust forget "${old:0:16}")
	expect_contains "pin: trust forget removes the pin" "$out" \
		"forgot the key of designated resolver $ADN."
	check "pin: after forget, answered again (first use)" wait_for 15 sh -c \
		"dig @$L +time=2 +tries=1 +short www.example.test A | grep -qx 192.0.2.80"
	check "pin: the new key is pinned" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/c/control' trust list --json | grep -q '\"designated\"' &&
		 ! '$DOTCTL' -s '$T_DIR/c/control' trust list --json | grep -q '$old'"
}

# ----------------- a PKIX-verified designated resolver renews its certificate
# spki_of DIR: the SPKI SHA-256 of DIR's server certificate (TLSA 3 1 1 data)
spki_of() { udot_tlsa 3 1 1 "$1/$ADN.leaf.pem" | cut -d' ' -f4; }
# pin_field NAME FIELD: FIELD of the designated pin in NAME's trust list
pin_field() {
	ds_ctl "$1" trust list --json | python3 -c 'import json, sys
print([e.get(sys.argv[1], "") for e in json.load(sys.stdin) if "designated" in e][0])' "$2"
}

# repin_refused LABEL DIR: NAME LABEL starts with a's store on a gateway
# serving DIR's certificate, which must not replace the pin
repin_refused() {
	local n=$1 out
	gw_stop
	gw_unbound "$n" $PUB "$2" || return 1
	copy_state r2 "$n" || return 1
	cap_start "$n" "$VETH" "" "host $PUB" || return 1
	ds_start "$n" --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-re/$ADN.ca.pem" \
		--unknown-network opportunistic "${WAIT[@]}" || return 1
	check "repin, $n: the new key raised an ALERT" ds_wait_log "$n" "ALERT" 0 15
	out=$($DIG secret-name.example.test A)
	expect_contains "repin, $n: SERVFAIL" "$out" "status: SERVFAIL"
	expect_eq "repin, $n: status: refused" "$(ds_json "$n" discovery.state)" "refused"
	expect_contains "repin, $n: the log says its certificate does not verify" "$(ds_log "$n")" \
		"nor does its certificate verify (PKIX)"
	grep -F "ALERT" "$T_DIR/$n/log" | sed 's/^/#   /'
	expect_not_contains "repin, $n: the pin is not replaced" "$(ds_log "$n")" "pin replaced"
	expect_eq "repin, $n: the renewed key stays pinned" "$(pin_field "$n" spki_sha256)" \
		"$(spki_of "$T_DIR/ca-re2")"
	cap_stop "$n" $PUB
	cap_expect_absent "repin, $n: the query never went out in clear text" "$n" "secret-name"
	ds_stop "$n"
}

s_repin() {
	local out st old new first
	certs "$T_DIR/ca-re" $PUB || return 1
	gw_unbound re $PUB "$T_DIR/ca-re" || return 1
	ds_start a --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-re/$ADN.ca.pem" \
		--unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "repin: first visit answered (DDR, PKIX)" "$out" "192.0.2.80"
	check "repin: the verified resolver's key is pinned" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*ddr'"
	old=$(spki_of "$T_DIR/ca-re")
	expect_eq "repin: the pin is the certificate's key" "$(pin_field a spki_sha256)" "$old"
	first=$(pin_field a first_seen)
	ds_stop a

	# the server renews its certificate: a new key, the same ADN and
	# address, the same CA
	gw_stop
	UDOT_SAN_EXTRA=",IP:$PUB" udot_ca_sign $ADN "$T_DIR/ca-re" "$T_DIR/ca-re2" || return 1
	new=$(spki_of "$T_DIR/ca-re2")
	check "repin: the renewed certificate has another key" test "$new" != "$old"
	gw_unbound re2 $PUB "$T_DIR/ca-re2" || return 1
	copy_state a r2 || return 1
	cap_start repin "$VETH" "" "host $PUB" || return 1
	ds_start r2 --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-re/$ADN.ca.pem" \
		--unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG secret-name.example.test A)
	expect_contains "repin: renewed: answered, no SERVFAIL" "$out" "status: NOERROR"
	expect_contains "repin: renewed: the answer" "$out" "192.0.2.81"
	st=$(status_of r2)
	expect_contains "repin: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "repin: status: the pin replaced" "$st" "a new key: the pin replaced"
	check "repin: status: not refused" test "$(ds_json r2 discovery.state)" != refused
	expect_not_contains "repin: status: not the changed-key refusal" "$st" \
		"another key than the one pinned"
	expect_not_contains "repin: no ALERT" "$(ds_log r2)" "ALERT"
	check "repin: the store holds the new key" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/r2/control' trust list --json | grep -q '$new'"
	expect_eq "repin: the log says once that the pin was replaced" \
		"$(ds_log_count r2 "designated resolver $ADN on network")" 1
	expect_contains "repin: the log line" "$(ds_log r2)" \
		"new key, verified by its certificate (PKIX): pin replaced"
	grep -F "pin replaced" "$T_DIR/r2/log" | sed 's/^/#   /'
	expect_contains "repin: the store process replaced it" "$(ds_log r2)" \
		"has a new key sha256 ${new:0:16}... (verified by its certificate), replacing ${old:0:16}..."
	expect_eq "repin: trust list: the new key" "$(pin_field r2 spki_sha256)" "$new"
	expect_eq "repin: trust list: first seen kept" "$(pin_field r2 first_seen)" "$first"
	check "repin: trust list: the change dated" test -n "$(pin_field r2 key_changed)"
	expect_contains "repin: trust list (text): key-changed" "$(ds_ctl r2 trust list)" \
		"key-changed"
	expect_eq "repin: the store file says version 3" "$(head -1 "$T_DIR/r2/state/anchors")" \
		"dotstub-trust 3"
	cap_stop repin $PUB
	cap_expect_seen "repin: the capture saw DoT (port 853)" repin "tcp dst port 853"
	cap_expect_absent "repin: the query never went out in clear text" repin "secret-name"
	ds_stop r2

	# the next visit: the new pin authenticates it
	copy_state r2 r3 || return 1
	ds_start r3 --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-re/$ADN.ca.pem" \
		--unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG asked.example.test A +short)
	expect_eq "repin: next visit answered" "$out" "192.0.2.82"
	expect_contains "repin: next visit: authenticated by the new pin" "$(ds_log r3)" \
		"DDR: $ADN authenticated by its pinned key (DDR), key sha256 $new"
	ds_stop r3

	# a new key from another CA, or without the resolver's address: refused
	certs "$T_DIR/ca-other" $PUB || return 1
	repin_refused other "$T_DIR/ca-other" || return 1
	udot_ca_sign $ADN "$T_DIR/ca-re" "$T_DIR/ca-noip2" || return 1
	repin_refused noip "$T_DIR/ca-noip2" || return 1
}

# ------------------------------------------------ DNR through dotctl link
s_dnr() {
	local out st t0 t1
	certs "$T_DIR/ca-dnr" || return 1
	gw_unbound dnr $PUB "$T_DIR/ca-dnr" || return 1
	ds_start a --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-dnr/$ADN.ca.pem" \
		--unknown-network opportunistic "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "dnr: before: answered in plain DNS (DDR not verifiable)" "$out" "192.0.2.80"
	expect_contains "dnr: before: status says plain DNS" "$(status_of a)" "PLAIN DNS to $PUB"
	cap_start dnr "$VETH" "" "host $PUB" || return 1
	t0=$(date +%s%N)
	out=$(ds_ctl a link "$VETH" dnr 1 $ADN $PUB alpn dot 2>&1)
	expect_contains "dnr: dotctl link dnr accepted" "$out" "DNR designation priority 1 $ADN"
	check "dnr: the network decides again and uses the DNR designation" wait_for 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'DNR, verified by its certificate (PKIX)'"
	out=$($DIG secret-name.example.test A +short)
	t1=$(date +%s%N)
	expect_eq "dnr: the first authenticated answer" "$out" "192.0.2.81"
	st=$(status_of a)
	expect_contains "dnr: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "dnr: status: the ADN is the upstream" "$st" "upstream:   $ADN"
	expect_contains "dnr: the log says DNR verified it" "$(ds_log a)" \
		"DDR: $ADN verified (DNR): its certificate is valid for $ADN"
	expect_contains "dnr: DNR came before DDR" "$(ds_log a)" "designation(s) (1 from DNR, tried first), trying $ADN first"
	check "dnr: its key is pinned with source dnr" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*dnr'"
	cap_stop dnr $PUB
	cap_expect_seen "dnr: the capture saw DoT (port 853)" dnr "tcp dst port 853"
	cap_expect_absent "dnr: the query never went out in clear text" dnr "secret-name"
	echo "# timing: DNR: first authenticated answer $(((t1 - t0) / 1000000)) ms after" \
		"\`dotctl link $VETH dnr\`"
	ds_stop a

	# dnr no: kept, not used
	ds_start b --listen $L:53 --network-resolver $PUB --ca-file "$T_DIR/ca-dnr/$ADN.ca.pem" \
		--unknown-network opportunistic --dnr no "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "dnr no: answered in plain DNS" "$out" "192.0.2.80"
	out=$(ds_ctl b link "$VETH" dnr 1 $ADN $PUB 2>&1)
	expect_contains "dnr no: dotctl says it is not used" "$out" "dnr no: kept, not used"
	out=$($DIG asked.example.test A +short)
	expect_eq "dnr no: still answered" "$out" "192.0.2.82"
	expect_contains "dnr no: status still plain DNS" "$(status_of b)" "PLAIN DNS to $PUB"
	expect_not_contains "dnr no: never verified by DNR" "$(ds_log b)" "verified (DNR)"
}

scenario verified s_verified teardown
scenario no-ip s_no_ip teardown
scenario opportunistic s_opportunistic teardown
scenario ddr-off s_ddr_off teardown
scenario pin s_pin teardown
scenario repin s_repin teardown
scenario dnr s_dnr teardown
finish
