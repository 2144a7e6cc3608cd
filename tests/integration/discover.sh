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

finish
