#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# discover.sh -- `dotctl discover` (the resolver-name.arpa walk, validated
# by libunbound) against real Unbound servers on 127.0.0.51..59 serving
# zones made by `dotctl provision`: a good resolver (first use and known
# anchor, cross-checked with delv), a wrong known anchor, expired
# signatures, server-type/server-function disagreeing, a forged zone behind
# a genuine KEY, a forwarder listing its upstream, a standby KSK that
# signs nothing, a resolver that publishes nothing, one that refuses
# resolver-name.arpa, one that does not answer; then, one scenario each,
# unique names of other publishers (RFC 4648 base32, a long label, a name
# under the operator's own domain, the longest name that fits) and a
# publication broken in a way that once passed for "not published".
set -u

# shellcheck source=../lib/common.sh
. "${DOTSTUB_SRC:-$(dirname "$0")/../..}/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
prov_require ldns-key2ds ldns-keygen ldns-signzone awk grep sed
prov_tmpdir
trap 'prov_cleanup; rm -rf "$T_DIR"' EXIT

ARPA=resolver-name.arpa
T=$PROV_TMP

ok() { t_ok "$*"; }
bad() { t_fail "$*"; }

# discover OUTFILE ARGS...: run dotctl discover; prints the exit status.
discover() {
	_f=$1
	shift
	"$DOTCTL" discover --confirm-delay 100 --timeout 5000 "$@" >"$T/$_f" 2>&1
	echo $?
}

expect_status() {
	if [ "$2" = "$3" ]; then
		ok "$1: exit $3"
	else
		bad "$1: exit $2, wanted $3"
		sed 's/^/    /' "$T/$4"
	fi
}

expect_line() {
	if grep -qE -- "$3" "$T/$2"; then
		ok "$1"
	else
		bad "$1: no line matching '$3' in:"
		sed 's/^/    /' "$T/$2"
	fi
}

expect_no_line() {
	if grep -qE -- "$3" "$T/$2"; then
		bad "$1: unexpected line matching '$3' in:"
		sed 's/^/    /' "$T/$2"
	else
		ok "$1"
	fi
}

# the key tag of the DNSKEY in a zone-file fragment (as ldns computes it)
key_tag() {
	ldns-key2ds -n -2 "$1" | awk '{ print $5 }'
}

# ---- a good resolver ----
prov_up "$T/good" 127.0.0.51 || exit 1
N=$PROV_NAME
TAG=$(key_tag "$T/good/trust-anchor.key")

st=$(discover good.out 127.0.0.51)
expect_status "good resolver, first use" "$st" 0 good.out
expect_line "result ok" good.out '^result: ok$'
for s in 1 2 3 4 5; do
	expect_line "step $s is there" good.out "^step $s "
done
expect_no_line "every step secure (or a validated denial)" good.out \
	'^step [0-9].* (bogus|insecure|error) '
expect_line "DNSKEY unvalidated, then validated by its KSK" good.out \
	"^step 1 .*DNSKEY +secure +self-signature, KSK tag $TAG alg 13"
expect_line "first use confirmed over TCP" good.out '^step 1 .*confirmation \[tcp\]'
expect_line "first use confirmed after a delay" good.out \
	'^step 1 .*confirmation \[udp, 100 ms later\]'
expect_line "NS gives the unique name" good.out "^step 2 .*NS +secure +NS $N\.\$"
expect_line "KEY under the KSK" good.out "^step 3 +$N\.$ARPA\. +KEY +secure"
expect_line "DNSKEY N under the KEY" good.out "^step 4 +$N\. +DNSKEY +secure"
expect_line "AAAA absent: validated denial" good.out "^step 5 +$N\. +AAAA +nodata"
expect_line "description: name" good.out "^name: $N\$"
expect_line "description: address with port 853" good.out '^address: 127\.0\.0\.51:853$'
expect_line "description: server type" good.out '^server type: resolver$'
expect_line "anchor reported with tag, algorithm, SHA-256" good.out \
	"^anchor \(first use, confirmed\): $ARPA\. DNSKEY 257 3 13: tag $TAG alg 13 sha256 [0-9a-f]{64}\$"
expect_line "nothing pinned" good.out '^dry run: nothing pinned$'
expect_line "sources: resolver-name.arpa first" good.out '^  would use: +resolver-name\.arpa: DoT to '
expect_line "sources: no DNR given" good.out '^  DNR: +none given \(a dry run reads no DHCP or RA option: --dnr\)$'

# the TLSA printed is the one delv validates from the anchor
prov_anchor "$T/good/trust-anchor.key" >"$T/arpa.anchors"
prov_anchor "$T/good/keys/zone-ksk.key" >"$T/zone.anchors"
want=$(prov_delv 127.0.0.51 "$T/zone.anchors" "$N" TLSA "_853._tcp.$N" |
	awk '{ t = ""; for (i = 8; i <= NF; i++) t = t $i; print $5, $6, $7, tolower(t) }')
if [ -n "$want" ]; then
	expect_line "TLSA equals what delv validates" good.out "^tlsa: $want\$"
else
	bad "delv could not validate the TLSA of $N"
fi

st=$(discover good-json.out 127.0.0.51 --json)
expect_status "good resolver, JSON" "$st" 0 good-json.out
expect_line "JSON result" good-json.out '^\{"result":"ok",'
expect_line "JSON upstream" good-json.out "\"upstream\":\\{\"name\":\"$N\",\"type\":\"resolver\",\"addresses\":\\[\"127\\.0\\.0\\.51:853\"\\]"

st=$(discover known.out 127.0.0.51 --anchor "$T/good/trust-anchor.key")
expect_status "good resolver, known anchor" "$st" 0 known.out
expect_line "validated with the known anchor" known.out \
	"^step 1 .*secure +known anchor tag $TAG alg 13"
expect_no_line "no first-use confirmation with a known anchor" known.out 'confirmation'
expect_line "known anchor reported" known.out "^anchor \(known\): .* tag $TAG "

# ---- a known anchor that is not the resolver's ----
prov_provision "$T/other" 127.0.0.52 || exit 1
st=$(discover mismatch.out 127.0.0.51 --anchor "$T/other/trust-anchor.key")
expect_status "wrong known anchor" "$st" 1 mismatch.out
expect_line "anchor mismatch" mismatch.out '^result: anchor-mismatch$'
expect_line "reason names step 1 and both keys" mismatch.out \
	"^reason: step 1: .*known anchor.*$(key_tag "$T/other/trust-anchor.key")/13.*$TAG/13"
expect_no_line "walk stops at step 1" mismatch.out '^step 2 '

# ---- expired signatures ----
prov_up "$T/expired" 127.0.0.53 --sig-expired || exit 1
st=$(discover expired.out 127.0.0.53)
expect_status "expired signatures" "$st" 1 expired.out
expect_line "bogus" expired.out '^result: bogus$'
expect_line "why_bogus shown in the step" expired.out '^step 1 .*bogus .*signature expired'
expect_line "why_bogus shown in the reason" expired.out '^reason: step 1: .*signature expired'
st=$(discover expired-known.out 127.0.0.53 --anchor "$T/expired/trust-anchor.key")
expect_status "expired signatures, known anchor" "$st" 1 expired-known.out
expect_line "bogus with the known anchor too" expired-known.out \
	'^reason: step 1: .*signature expired'

# ---- server-type and server-function disagree ----
prov_up "$T/mism" 127.0.0.54 --server-type-mismatch || exit 1
st=$(discover mism.out 127.0.0.54)
expect_status "server-type/server-function mismatch" "$st" 1 mism.out
expect_line "failed" mism.out '^result: failed$'
expect_line "reason says they disagree" mism.out '^reason: step 5: server-type\..*disagree'

# ---- a genuine KEY, a forged zone N (same name, other keys) ----
prov_provision "$T/forged" 127.0.0.57 --name abcdefghijkl.zz || exit 1
prov_provision "$T/forger" 127.0.0.57 --name abcdefghijkl.zz || exit 1
cp "$T/forger/zones/abcdefghijkl.zz.zone.signed" "$T/forged/zones/"
prov_start "$T/forged" 127.0.0.57 || exit 1
st=$(discover forged.out 127.0.0.57)
expect_status "forged zone N" "$st" 1 forged.out
expect_line "bogus at step 4" forged.out \
	'^reason: step 4: abcdefghijkl\.zz\. DNSKEY: bogus: .*abcdefghijkl\.zz'
expect_no_line "no step 5" forged.out '^step 5 '

# ---- a forwarder and its upstream ----
prov_up "$T/fwd" 127.0.0.55 --forwarder --upstream "$T/good" || exit 1
st=$(discover fwd.out 127.0.0.55)
expect_status "forwarder" "$st" 0 fwd.out
expect_line "forwarder type" fwd.out '^server type: forwarder$'
expect_line "upstreams listed" fwd.out "^step 6 +upstreams\.$PROV_NAME\. +PTR +secure +1 upstream\(s\): $N\.\$"
expect_line "upstream reported" fwd.out "^upstream: $N type resolver transport dot\$"
expect_line "upstream address" fwd.out '^  address: 127\.0\.0\.51:853$'
expect_line "upstream TLSA" fwd.out '^  tlsa: 3 1 1 [0-9a-f]{64}$'
expect_line "upstream anchor" fwd.out "^  key: $N\. DNSKEY 257 3 13: tag "
expect_no_line "every step secure (or a validated denial)" fwd.out \
	'^step [0-9].* (bogus|insecure|error) '

# ---- a standby KSK (published, not signing: a rollover under way) ----
prov_provision "$T/standby" 127.0.0.58 || exit 1
S=$T/standby
(cd "$S/keys" && ldns-keygen -a ECDSAP256SHA256 -k $ARPA >"$S/standby.base") || exit 1
grep DNSKEY "$S/keys/$(cat "$S/standby.base").key" | sed 's/;.*//' >"$S/standby.key"
cat "$S/zones/$ARPA.zone" "$S/standby.key" >"$S/arpa.zone"
ldns-signzone -o $ARPA. -f "$S/zones/$ARPA.zone.signed" "$S/arpa.zone" \
	"$S/keys/arpa-ksk" "$S/keys/arpa-zsk" || exit 1
prov_start "$S" 127.0.0.58 || exit 1
STAG=$(key_tag "$S/standby.key")
st=$(discover standby.out 127.0.0.58)
expect_status "standby KSK" "$st" 0 standby.out
expect_line "standby KSK does not validate, and that is no failure" standby.out \
	"^step 1 .*DNSKEY +unvalidated +self-signature, KSK tag $STAG alg 13: does not validate"
expect_line "the signing KSK is the anchor" standby.out \
	"^anchor \(first use, confirmed\): .* tag $(key_tag "$S/trust-anchor.key") "
expect_line "the standby KSK is reported as seen" standby.out "^ksk \(seen\): .* tag $STAG "

# ---- a resolver that publishes nothing ----
mkdir -p "$T/none"
cat >"$T/none/unbound.conf" <<EOF
server:
	chroot: ""
	username: ""
	directory: "$T/none"
	pidfile: "$T/none/unbound.pid"
	interface: 127.0.0.56@53
	local-zone: "$ARPA." static
	local-data: "$ARPA. 300 IN SOA a. b. 1 3600 600 86400 300"
EOF
prov_start "$T/none" 127.0.0.56 || exit 1
st=$(discover none.out 127.0.0.56)
expect_status "nothing published" "$st" 3 none.out
expect_line "not published, not a failure" none.out '^result: not-published$'

# ---- a resolver that refuses resolver-name.arpa to this client ----
# It answers, so it is reachable; it publishes nothing for us.
mkdir -p "$T/refuse"
sed -e "s|$T/none|$T/refuse|g" -e 's/127\.0\.0\.56@53/127.0.0.60@53/' \
	-e 's/static$/refuse/' -e '/local-data/d' "$T/none/unbound.conf" >"$T/refuse/unbound.conf"
PROV_READY_STATUS=REFUSED prov_start "$T/refuse" 127.0.0.60 || exit 1
if dig @127.0.0.60 +time=2 +tries=1 DNSKEY $ARPA | grep -q 'status: REFUSED'; then
	ok "the refusing resolver answers REFUSED"
else
	bad "the refusing resolver does not answer REFUSED"
fi
st=$(discover refused.out 127.0.0.60)
expect_status "REFUSED: not published for this client" "$st" 3 refused.out
expect_line "REFUSED: result not-published" refused.out '^result: not-published$'
expect_line "REFUSED: the reason says it refused" refused.out '^reason: .*REFUSED'

# ---- a resolver that does not answer ----
st=$(discover silent.out 127.0.0.59 --timeout 1500)
expect_status "no resolver" "$st" 1 silent.out
expect_line "unreachable" silent.out '^result: unreachable$'

# ---- usage ----
st=$(discover usage1.out)
expect_status "no address" "$st" 2 usage1.out
st=$(discover usage2.out resolver.example)
expect_status "not an address" "$st" 2 usage2.out
printf 'example. IN DNSKEY 257 3 13 AAAA\n' >"$T/bad.anchor"
st=$(discover usage3.out 127.0.0.51 --anchor "$T/bad.anchor")
expect_status "anchor for another zone" "$st" 2 usage3.out

# ---------------------------------------------- other publishers' unique names
# The name's form carries no security (everything under it validates from
# the pinned key): any host name outside the special-use names is a unique
# name; 12 base32hex characters + .zz is only the recommended form.

# re NAME: NAME as an extended regular expression matching itself
re() { printf '%s' "$1" | sed 's/[.]/\\./g'; }

# name_ok ADDR NAME LABEL: provision NAME, serve it on ADDR, discover it
name_ok() {
	local a=$1 n=$2 label=$3 st
	prov_up "$T/$label" "$a" --name "$n" || return 1
	st=$(discover "$label.out" "$a")
	expect_status "$label: discovered" "$st" 0 "$label.out"
	expect_line "$label: result ok" "$label.out" '^result: ok$'
	expect_line "$label: NS gives the name" "$label.out" "^step 2 .*NS +secure +NS $(re "$n")\\.\$"
	expect_line "$label: KEY under the name" "$label.out" "^step 3 .* +KEY +secure"
	expect_line "$label: TLSA under the name" "$label.out" "^step 5 .* +TLSA +secure"
	expect_line "$label: described by its name" "$label.out" "^name: $(re "$n")\$"
	expect_line "$label: address with port 853" "$label.out" "^address: $(re "$a"):853\$"
	expect_line "$label: the form is noted as not the recommended one" "$label.out" \
		'^note: .*not the recommended form'
}
names_teardown() { prov_stop_all; }

s_name_base32() { name_ok 127.0.0.150 k3xq7mfa2vnw.zz base32; }
s_name_long_label() { name_ok 127.0.0.151 office-resolver-1.zz long-label; }
s_name_own_domain() { name_ok 127.0.0.152 dot.example.com own-domain; }
# the longest N whose KEY owner N.resolver-name.arpa. fits in 255 octets
s_name_longest() {
	local l63 n
	l63=$(printf 'a%.0s' $(seq 1 63))
	n=$l63.$l63.$l63.$(printf 'b%.0s' $(seq 1 39)).zz
	expect_eq "longest name: 234 characters" "${#n}" 234
	name_ok 127.0.0.153 "$n" longest
}
# the recommended form gets no note
s_name_recommended() {
	local st
	prov_up "$T/rec" 127.0.0.154 --name 0123456789uv.zz || return 1
	st=$(discover rec.out 127.0.0.154)
	expect_status "recommended form: discovered" "$st" 0 rec.out
	expect_no_line "recommended form: no note" rec.out '^note: '
}

# --------------------------------- a broken publication is said to be broken
# The operator serves resolver-name.arpa with its NS (the unique name) but
# unsigned: no DNSKEY.  A broken publication, not a resolver that publishes
# nothing.
s_unsigned() {
	local st
	mkdir -p "$T/unsigned"
	cat >"$T/unsigned/unbound.conf" <<EOF
server:
	chroot: ""
	username: ""
	directory: "$T/unsigned"
	pidfile: "$T/unsigned/unbound.pid"
	interface: 127.0.0.155@53
	local-zone: "$ARPA." static
	local-data: "$ARPA. 300 IN SOA a. b. 1 3600 600 86400 300"
	local-data: "$ARPA. 300 IN NS abcd1234efgh.zz."
EOF
	prov_start "$T/unsigned" 127.0.0.155 || return 1
	st=$(discover unsigned.out 127.0.0.155)
	expect_status "unsigned publication: a failure" "$st" 1 unsigned.out
	expect_line "unsigned publication: result failed" unsigned.out '^result: failed$'
	expect_no_line "unsigned publication: not called not published" unsigned.out \
		'not-published|does not publish'
	expect_line "unsigned publication: the reason says what is broken" unsigned.out \
		'^reason: step 1: .*NS abcd1234efgh\.zz\..*no DNSKEY'
}

scenario name-base32 s_name_base32 names_teardown
scenario name-long-label s_name_long_label names_teardown
scenario name-own-domain s_name_own_domain names_teardown
scenario name-longest s_name_longest names_teardown
scenario name-recommended s_name_recommended names_teardown
scenario unsigned-publication s_unsigned names_teardown

# ------------------------------ DDR: _dns.resolver.arpa SVCB (RFC 9462 4)
# dotctl discover also asks the resolver itself which designated resolvers
# it names, and shows them unverified.  These resolvers publish no
# resolver-name.arpa (a static empty zone), so the walk's exit status 3 is
# what the command returns whatever DDR says.

# ddr_unbound LABEL ADDR [LOCAL-DATA...]: an Unbound on ADDR with a static
# resolver.arpa holding the SVCB records given, and nothing for
# resolver-name.arpa
ddr_unbound() {
	local d=$T/$1 a=$2 rr
	shift 2
	mkdir -p "$d"
	cat >"$d/unbound.conf" <<EOF
server:
	chroot: ""
	username: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	interface: $a@53
	local-zone: "$ARPA." static
	local-data: "$ARPA. 300 IN SOA a. b. 1 3600 600 86400 300"
	local-zone: "resolver.arpa." static
	local-data: "resolver.arpa. 300 IN SOA a. b. 1 3600 600 86400 300"
EOF
	for rr in "$@"; do
		printf '\tlocal-data: '"'"'%s'"'"'\n' "$rr" >>"$d/unbound.conf"
	done
	prov_start "$d" "$a"
}
ddr_teardown() { prov_stop_all; }

# ddr_unbound_dot LABEL ADDR CERTDIR [LOCAL-DATA...]: ddr_unbound that also
# serves DoT on ADDR:853 with CERTDIR's certificate for $DDR_ADN
ddr_unbound_dot() {
	local d=$T/$1 a=$2 c=$3 label=$1
	shift 3
	ddr_unbound "$label" "$a" "$@" || return 1
	prov_stop_all
	cat >>"$d/unbound.conf" <<EOF
	interface: $a@853
	tls-port: 853
	tls-service-key: "$c/$DDR_ADN.key"
	tls-service-pem: "$c/$DDR_ADN.pem"
EOF
	prov_start "$d" "$a"
}

s_ddr_dot() {
	local st
	ddr_unbound ddr-dot 127.0.0.160 \
		'_dns.resolver.arpa. 300 IN SVCB 1 dot.example.net. alpn="dot" port=853 ipv4hint=127.0.0.51' ||
		return 1
	if dig @127.0.0.160 +time=2 +tries=1 _dns.resolver.arpa SVCB |
	    grep -q 'SVCB.*dot\.example\.net\.'; then
		ok "DDR DoT: Unbound serves the SVCB record"
	else
		bad "DDR DoT: Unbound does not serve the SVCB record"
	fi
	st=$(discover ddr-dot.out 127.0.0.160)
	expect_status "DDR DoT: exit status of the walk" "$st" 3 ddr-dot.out
	expect_line "DDR DoT: walk result first" ddr-dot.out '^result: not-published$'
	expect_line "DDR DoT: a ddr block" ddr-dot.out '^ddr: _dns\.resolver\.arpa SVCB from 127\.0\.0\.160 port 53$'
	expect_line "DDR DoT: result ok" ddr-dot.out '^ddr: result ok$'
	expect_line "DDR DoT: the designation shown, qualifying" ddr-dot.out \
		'^ddr: designated resolver 1: priority 1, target dot\.example\.net\., alpn "dot" \(dot: yes\), port 853, hints 127\.0\.0\.51: qualifies for DoT$'
	expect_line "DDR DoT: tried over DoT, not verified (nothing answers DoT there)" ddr-dot.out \
		'^ddr: dot\.example\.net \(priority 1\): not verified: '
	expect_line "DDR DoT: no opportunistic use of another address" ddr-dot.out \
		'^ddr: dot\.example\.net: no opportunistic use \(RFC 9462 4\.3 allows it only for a private resolver.s own address\)$'
	st=$(discover ddr-dot-json.out 127.0.0.160 --json)
	expect_status "DDR DoT, JSON: exit status of the walk" "$st" 3 ddr-dot-json.out
	expect_line "DDR DoT, JSON: ddr member" ddr-dot-json.out \
		'"ddr":\{"result":"ok","reason":"",.*"records":\[\{"priority":1,"target":"dot\.example\.net\.","alpn":\["dot"\],"dot":true,"port":853,"ipv4hint":\["127\.0\.0\.51"\],"ipv6hint":\[\],.*"qualifies_dot":true\}\]\},"ddr_verify":\[\{"adn":"dot\.example\.net","priority":1,"tried":true,"verified":false,.*\}\],"dnr_verify":\[\],"sources":\{"resolver_name_arpa":"not-published","dnr":"none given[^"]*","ddr":"not verified: [^"]*","would_use":"no DoT: [^"]*"\}\}$'
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/ddr-dot-json.out" 2>/dev/null; then
		ok "DDR DoT, JSON: one valid JSON document"
	else
		bad "DDR DoT, JSON: not valid JSON"
		sed 's/^/    /' "$T/ddr-dot-json.out"
	fi
	st=$(discover ddr-skip.out 127.0.0.160 --no-ddr)
	expect_status "--no-ddr: exit status of the walk" "$st" 3 ddr-skip.out
	expect_no_line "--no-ddr: no ddr block" ddr-skip.out '^ddr:'
}

# Verified discovery (RFC 9462 4.2): the designation's certificate, from
# a private CA given with --ca-file, is valid for the ADN and names the
# resolver's address; "noip" names only the ADN.
DDR_ADN=dns.example.test
DDR_SVCB="_dns.resolver.arpa. 300 IN SVCB 1 $DDR_ADN. alpn=\"dot\" ipv4hint=127.0.0.164"
# ADN-only DNR (RFC 9463 3.1.6): --dnr "PRIORITY ADN" is resolved through
# the resolver, _dns.ADN SVCB, then verified by its ADN; one the resolver
# knows nothing of (NXDOMAIN in its static resolver.arpa) is not tried,
# saying why.  A loopback address is no resolver's in a DNR answer (RFC
# 9463 5.2), so this resolver has 10.98.0.164 (on this namespace's lo).
DNR_ADN_ADDR=10.98.0.164
s_dnr_adn_only() {
	local st key ca=$T/dnr-adn/$DDR_ADN.ca.pem
	ip addr add $DNR_ADN_ADDR/32 dev lo || return 1
	mkdir -p "$T/dnr-adn"
	udot_ca_chain $DDR_ADN "$T/dnr-adn" || return 1
	key=$(udot_tlsa 3 1 1 "$T/dnr-adn/$DDR_ADN.leaf.pem" | cut -d' ' -f4)
	PROV_EXTRA_CONF="	access-control: $DNR_ADN_ADDR/32 allow" ddr_unbound_dot dnr-adn $DNR_ADN_ADDR "$T/dnr-adn" \
		"_dns.$DDR_ADN. 300 IN SVCB 1 $DDR_ADN. alpn=\"dot\" ipv4hint=$DNR_ADN_ADDR" || return 1
	st=$(discover ddr-dnr-adn.out $DNR_ADN_ADDR --ca-file "$ca" --no-ddr --dnr "1 $DDR_ADN" \
		--dnr "2 none.resolver.arpa")
	expect_status "DNR, ADN only: exit status of the walk" "$st" 3 ddr-dnr-adn.out
	expect_line "DNR, ADN only: resolved through the resolver" ddr-dnr-adn.out \
		"^dnr: $DDR_ADN \\(priority 1\\): ADN only, resolved through 10\\.98\\.0\\.164: _dns\\.$DDR_ADN\\. SVCB 1 .*10\\.98\\.0\\.164:853"
	expect_line "DNR, ADN only: verified by its ADN" ddr-dnr-adn.out \
		"^dnr: $DDR_ADN \\(priority 1\\): verified: DoT answered, the certificate is valid for $DDR_ADN \\(RFC 9463\\), key sha256 $key\$"
	expect_line "DNR, ADN only: not resolved, and why" ddr-dnr-adn.out \
		"^dnr: none\\.resolver\\.arpa \\(priority 2\\): not verified: ADN only, not resolved: no SVCB record for _dns\\.none\\.resolver\\.arpa\\. \\(NXDOMAIN\\)\$"
	expect_line "DNR, ADN only: sources: DNR verified" ddr-dnr-adn.out "^  DNR: +verified: $DDR_ADN\$"
	st=$(discover ddr-dnr-adn-json.out $DNR_ADN_ADDR --ca-file "$ca" --no-ddr --dnr "2 none.resolver.arpa" --json)
	expect_line "DNR, ADN only, JSON: why it was not tried" ddr-dnr-adn-json.out \
		"\"dnr_verify\":\\[\\{\"adn\":\"none\\.resolver\\.arpa\",\"priority\":2,\"tried\":false,\"verified\":false,\"reason\":\"ADN only, not resolved: no SVCB record"
}
dnr_adn_teardown() {
	prov_stop_all
	ip addr del $DNR_ADN_ADDR/32 dev lo 2>/dev/null
	return 0
}

s_ddr_verified() {
	local st key ca=$T/ddr-ca-ip/$DDR_ADN.ca.pem
	mkdir -p "$T/ddr-ca-ip"
	UDOT_SAN_EXTRA=",IP:127.0.0.164" udot_ca_chain $DDR_ADN "$T/ddr-ca-ip" || return 1
	key=$(udot_tlsa 3 1 1 "$T/ddr-ca-ip/$DDR_ADN.leaf.pem" | cut -d' ' -f4)
	ddr_unbound_dot ddr-verified 127.0.0.164 "$T/ddr-ca-ip" "$DDR_SVCB" || return 1
	st=$(discover ddr-verified.out 127.0.0.164 --ca-file "$ca")
	expect_status "DDR verified: exit status of the walk" "$st" 3 ddr-verified.out
	expect_line "DDR verified: DoT answered, name and address in the certificate" ddr-verified.out \
		"^ddr: $DDR_ADN \\(priority 1\\): verified: DoT answered, the certificate is valid for $DDR_ADN and names 127\\.0\\.0\\.164 \\(RFC 9462 4\\.2\\), key sha256 $key\$"
	st=$(discover ddr-verified-json.out 127.0.0.164 --ca-file "$ca" --json)
	expect_line "DDR verified, JSON" ddr-verified-json.out \
		"\"ddr_verify\":\\[\\{\"adn\":\"$DDR_ADN\",\"priority\":1,\"tried\":true,\"verified\":true,"
	expect_line "DDR verified: sources: DDR verified" ddr-verified.out \
		"^  DDR: +verified: $DDR_ADN\$"
	expect_line "DDR verified: sources: would use DDR" ddr-verified.out \
		"^  would use: +DDR: DoT to $DDR_ADN \\(PKIX\\)\$"
	# a DNR designation given: tried, verified by its ADN, and first
	st=$(discover ddr-dnr.out 127.0.0.164 --ca-file "$ca" --dnr "1 $DDR_ADN 127.0.0.164")
	expect_status "DNR: exit status of the walk" "$st" 3 ddr-dnr.out
	expect_line "DNR: verified by its ADN" ddr-dnr.out \
		"^dnr: $DDR_ADN \\(priority 1\\): verified: DoT answered, the certificate is valid for $DDR_ADN \\(RFC 9463\\), key sha256 $key\$"
	expect_line "DNR: sources: resolver-name.arpa not published" ddr-dnr.out \
		"^  resolver-name.arpa: not-published\$"
	expect_line "DNR: sources: DNR verified" ddr-dnr.out "^  DNR: +verified: $DDR_ADN\$"
	expect_line "DNR: sources: DDR verified too" ddr-dnr.out "^  DDR: +verified: $DDR_ADN\$"
	expect_line "DNR: sources: DNR comes before DDR" ddr-dnr.out \
		"^  would use: +DNR: DoT to $DDR_ADN \\(PKIX\\)\$"
	st=$(discover ddr-dnr-json.out 127.0.0.164 --ca-file "$ca" --dnr "1 $DDR_ADN 127.0.0.164" --json)
	expect_line "DNR, JSON: dnr_verify and sources" ddr-dnr-json.out \
		"\"dnr_verify\":\\[\\{\"adn\":\"$DDR_ADN\",\"priority\":1,\"tried\":true,\"verified\":true,.*\"would_use\":\"DNR: DoT to $DDR_ADN \\(PKIX\\)\""
	st=$(discover ddr-dnr-bad.out 127.0.0.164 --dnr "x $DDR_ADN")
	expect_status "DNR: a bad --dnr is a usage error" "$st" 2 ddr-dnr-bad.out
	st=$(discover ddr-dnr-adn-port.out 127.0.0.164 --dnr "1 $DDR_ADN port 8853")
	expect_status "DNR, ADN only: a port without an address is a usage error" "$st" 2 ddr-dnr-adn-port.out
	# the system's store does not know the test CA; the loopback resolver
	# is private and designates its own address: opportunistic
	st=$(discover ddr-unverified.out 127.0.0.164)
	expect_line "DDR, CA unknown: not verified, the reason" ddr-unverified.out \
		"^ddr: $DDR_ADN \\(priority 1\\): not verified: 127\\.0\\.0\\.164:853: certificate verification failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)\$"
	expect_line "DDR, CA unknown: opportunistic (own private address)" ddr-unverified.out \
		"^ddr: $DDR_ADN: opportunistic: DoT, unauthenticated, answered at 127\\.0\\.0\\.164 "
}

s_ddr_no_ip() {
	local st ca=$T/ddr-ca-noip/$DDR_ADN.ca.pem
	mkdir -p "$T/ddr-ca-noip"
	udot_ca_chain $DDR_ADN "$T/ddr-ca-noip" || return 1
	ddr_unbound_dot ddr-noip 127.0.0.164 "$T/ddr-ca-noip" "$DDR_SVCB" || return 1
	st=$(discover ddr-noip.out 127.0.0.164 --ca-file "$ca")
	expect_line "DDR, certificate without the resolver's address: not verified" ddr-noip.out \
		"^ddr: $DDR_ADN \\(priority 1\\): not verified: 127\\.0\\.0\\.164:853: certificate verification failed: IP address mismatch\$"
}

s_ddr_h2() {
	local st
	ddr_unbound ddr-h2 127.0.0.161 \
		'_dns.resolver.arpa. 300 IN SVCB 1 doh.example.net. alpn="h2" port=443 ipv6hint=2001:db8::53' ||
		return 1
	st=$(discover ddr-h2.out 127.0.0.161)
	expect_status "DDR h2 only: exit status of the walk" "$st" 3 ddr-h2.out
	expect_line "DDR h2 only: result ok" ddr-h2.out '^ddr: result ok$'
	expect_line "DDR h2 only: shown, not qualifying" ddr-h2.out \
		'^ddr: designated resolver 1: priority 1, target doh\.example\.net\., alpn "h2" \(dot: no\), port 443, hints 2001:db8::53: does not qualify for DoT'
	expect_no_line "DDR h2 only: nothing qualifies" ddr-h2.out ': qualifies for DoT$'
}

s_ddr_none() {
	local st
	ddr_unbound ddr-none 127.0.0.162 || return 1
	st=$(discover ddr-none.out 127.0.0.162)
	expect_status "DDR none: exit status of the walk" "$st" 3 ddr-none.out
	expect_line "DDR none: result none" ddr-none.out '^ddr: result none$'
	expect_line "DDR none: the reason" ddr-none.out '^ddr: reason .*no SVCB'
	expect_no_line "DDR none: no designated resolver" ddr-none.out '^ddr: designated resolver'
}

s_ddr_hostile() {
	local st
	mkdir -p "$T/ddr-hostile"
	python3 "$DOTSTUB_SRC/tests/tools/hostile_ddr.py" --addr 127.0.0.163 \
		--log "$T/ddr-hostile/log" &
	echo $! >"$T/ddr-hostile/pid"
	if ! wait_for 5 grep -q '^ready ' "$T/ddr-hostile/log"; then
		bad "DDR hostile: the hostile resolver did not start"
		return 1
	fi
	st=$(discover ddr-hostile.out 127.0.0.163)
	expect_status "DDR hostile: exit status of the walk" "$st" 3 ddr-hostile.out
	expect_line "DDR hostile: TC=1 over UDP, asked again over TCP" ddr-hostile/log \
		'^query _dns\.resolver\.arpa\. 64 tcp '
	expect_line "DDR hostile: result malformed" ddr-hostile.out '^ddr: result malformed$'
	expect_line "DDR hostile: the reason names the ipv4hint" ddr-hostile.out \
		'^ddr: reason record 2: .*ipv4hint.*5'
	expect_line "DDR hostile: the valid record still shown" ddr-hostile.out \
		'^ddr: designated resolver 1: priority 1, target dot\.hostile\.test\., .*: qualifies for DoT$'
	expect_no_line "DDR hostile: the malformed record not shown" ddr-hostile.out 'bad\.hostile\.test'
}
ddr_hostile_teardown() {
	[ -f "$T/ddr-hostile/pid" ] && pid_stop "$(cat "$T/ddr-hostile/pid")"
	rm -f "$T/ddr-hostile/pid"
}

scenario ddr-dot s_ddr_dot ddr_teardown
scenario ddr-verified s_ddr_verified ddr_teardown
scenario dnr-adn-only s_dnr_adn_only dnr_adn_teardown
scenario ddr-no-ip s_ddr_no_ip ddr_teardown
scenario ddr-h2-only s_ddr_h2 ddr_teardown
scenario ddr-none s_ddr_none ddr_teardown
scenario ddr-hostile s_ddr_hostile ddr_hostile_teardown

finish
