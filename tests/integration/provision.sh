#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# provision.sh -- `dotctl provision` end to end: provision resolvers, serve
# each with a real Unbound on 127.0.0.41..46 (and ::1), and check what they
# publish with independent tools: delv validates the resolver-name.arpa
# chain from the trust anchor down to the TLSA, openssl s_client checks the
# TLSA against the certificate served on port 853.  --name takes any unique
# name discovery accepts and refuses, with the reason, what it refuses.
set -u

# shellcheck source=../lib/provisioned.sh
. "${DOTSTUB_SRC:-$(dirname "$0")/../..}/tests/lib/provisioned.sh"
prov_require awk sed sha256sum

ARPA=resolver-name.arpa

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok - $*"
}

# DNSKEY/KEY record lines -> "flags proto alg key" with the key unbroken.
key_rdata() {
	awk '{ k = ""; for (i = 8; i <= NF; i++) k = k $i; print $5, $6, $7, k }'
}

# TLSA record lines -> "usage selector type hex" (lower case, unbroken).
tlsa_rdata() {
	awk '{ t = ""; for (i = 8; i <= NF; i++) t = t $i
		print $5, $6, $7, tolower(t) }'
}

# DANE-check the certificate chain served on ADDR:853 for NAME with TLSA.
tls_dane() {
	_o=$(openssl s_client -connect "$1:853" -servername "$2" \
	    -dane_tlsa_domain "$2" -dane_tlsa_rrdata "$3" \
	    -verify_return_error </dev/null 2>&1)
	echo "$_o" | grep -q "Verification: OK" &&
	    echo "$_o" | grep -q "DANE TLSA .* matched"
}

# SHA-256 of the SPKI of the certificate served on ADDR:853.
served_spki() {
	openssl s_client -connect "$1:853" -servername "$2" </dev/null \
	    2>/dev/null | openssl x509 -pubkey -noout |
	    openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1
}

# Walk the chain as a client does (PROTOCOL.md steps 1-6) against the
# resolver provisioned in DIR and served on ADDR, with role ROLE.
check_resolver() {
	d=$1 a=$2 role=$3
	n=$(prov_name "$d")
	prov_anchor "$d/trust-anchor.key" >"$d/arpa.anchors"

	prov_delv "$a" "$d/arpa.anchors" $ARPA DNSKEY $ARPA >"$d/v.raw" ||
	    fail "$n: DNSKEY $ARPA"
	key_rdata <"$d/v.raw" >"$d/v.arpa-dnskey"
	grep -qxF "$(sed 's/;.*//' "$d/trust-anchor.key" | grep DNSKEY |
	    key_rdata)" "$d/v.arpa-dnskey" || fail "$n: anchor not in DNSKEY"
	ns=$(prov_delv "$a" "$d/arpa.anchors" $ARPA NS $ARPA) ||
	    fail "$n: NS $ARPA"
	[ "$(echo "$ns" | awk '{ print $5 }')" = "$n." ] ||
	    fail "$n: NS $ARPA is $ns"
	prov_delv "$a" "$d/arpa.anchors" $ARPA KEY "$n.$ARPA" \
	    >"$d/v.key" || fail "$n: KEY"
	[ "$(wc -l <"$d/v.key")" -eq 1 ] || fail "$n: not one KEY"

	# the KEY is the anchor of N; DNSKEY N holds it and is signed by it
	sed "s/^$n\\.$ARPA\\./$n./" "$d/v.key" >"$d/n.key"
	prov_anchor "$d/n.key" >"$d/n.anchors"
	prov_delv "$a" "$d/n.anchors" "$n" DNSKEY "$n" >"$d/v.raw" ||
	    fail "$n: DNSKEY $n"
	key_rdata <"$d/v.raw" >"$d/v.n-dnskey"
	grep -qxF "$(key_rdata <"$d/v.key")" "$d/v.n-dnskey" ||
	    fail "$n: KEY not in DNSKEY $n"

	addr=$(prov_delv "$a" "$d/n.anchors" "$n" A "$n") || fail "$n: A"
	[ "$(echo "$addr" | awk '{ print $5 }')" = "$a" ] ||
	    fail "$n: A is $addr"
	for rr in server-type server-function; do
		txt=$(prov_delv "$a" "$d/n.anchors" "$n" TXT "$rr.$n") ||
		    fail "$n: TXT $rr"
		[ "$(echo "$txt" | awk '{ print $5 }')" = "\"$role\"" ] ||
		    fail "$n: $rr is $txt"
	done
	prov_delv "$a" "$d/n.anchors" "$n" TLSA "_853._tcp.$n" >"$d/v.raw" ||
	    fail "$n: TLSA"
	tlsa_rdata <"$d/v.raw" >"$d/v.tlsa"
	[ "$(wc -l <"$d/v.tlsa")" -eq 1 ] || fail "$n: not one TLSA"
	tls_dane "$a" "$n" "$(cat "$d/v.tlsa")" ||
	    fail "$n: the TLSA does not match the certificate on $a:853"

	neg=$(delv @"$a" -a "$d/n.anchors" +root="$n" TXT "nothing.$n" 2>&1)
	echo "$neg" | grep -q "negative response, fully validated" ||
	    fail "$n: NXDOMAIN does not validate: $neg"
	ok "$n ($role) on $a validates from the anchor down to the TLSA"
}

check_modes() {
	for f in "$1"/keys/*.private "$1"/tls/server.key; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not mode 0600"
	done
	[ "$(stat -c %a "$1/keys")" = 700 ] || fail "$1/keys is not 0700"
	ok "private keys are 0600"
}

prov_tmpdir
T=$PROV_TMP

# 1. default: P-256, self-signed, IPv4 and IPv6
prov_up "$T/a" 127.0.0.41 --addr6 ::1 || fail "provision/serve default"
A=$PROV_NAME
echo "$A" | grep -qE '^[0-9a-v]{12}\.zz$' || fail "name $A"
check_modes "$T/a"
grep -q "DNSKEY	257 3 13 " "$T/a/trust-anchor.key" || fail "not algorithm 13"
check_resolver "$T/a" 127.0.0.41 resolver
aaaa=$(prov_delv 127.0.0.41 "$T/a/n.anchors" "$A" AAAA "$A") || fail "AAAA"
[ "$(echo "$aaaa" | awk '{ print $5 }')" = "::1" ] || fail "AAAA $aaaa"
spki=$(served_spki 127.0.0.41 "$A")
grep -qx "3 1 1 $spki" "$T/a/v.tlsa" || fail "TLSA is not 3 1 1 of the SPKI"
tls_dane 127.0.0.41 "$A" "3 1 1 $(printf '%064d' 0)" &&
    fail "a wrong TLSA matched"
ok "TLSA 3 1 1 is the served SPKI; a wrong one is refused"

# 2. Ed25519
prov_up "$T/b" 127.0.0.42 --alg ed25519 || fail "provision/serve ed25519"
B=$PROV_NAME
grep -q "DNSKEY	257 3 15 " "$T/b/trust-anchor.key" || fail "not algorithm 15"
check_resolver "$T/b" 127.0.0.42 resolver

# 3. private CA: TLSA 2 0 1 of the CA certificate, chain served
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.pem" -days 30 -subj /CN=dotstub-test-ca \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
    fail "make a CA"
prov_up "$T/c" 127.0.0.43 --ca "$T/ca.pem" "$T/ca.key" ||
    fail "provision/serve --ca"
check_resolver "$T/c" 127.0.0.43 resolver
ca=$(openssl x509 -in "$T/ca.pem" -outform der | sha256sum | cut -d' ' -f1)
grep -qx "2 0 1 $ca" "$T/c/v.tlsa" || fail "TLSA is not 2 0 1 of the CA"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/c/tls/server.pem")" -eq 2 ] ||
    fail "chain file is not server + CA"
ok "--ca: TLSA 2 0 1 of the CA, chain served"

# 4. --arpa-key: a second site under the same anchor
prov_up "$T/d" 127.0.0.44 --arpa-key "$T/a/keys/arpa-ksk.private" ||
    fail "provision/serve --arpa-key"
cmp -s "$T/a/trust-anchor.key" "$T/d/trust-anchor.key" ||
    fail "--arpa-key: different anchors"
check_resolver "$T/d" 127.0.0.44 resolver
prov_delv 127.0.0.44 "$T/a/arpa.anchors" $ARPA DNSKEY $ARPA >/dev/null ||
    fail "site 1's anchor does not validate site 2"
ok "--arpa-key: two resolvers, one resolver-name.arpa anchor"

# 5. a forwarder publishing its upstreams a and b
prov_up "$T/e" 127.0.0.45 --forwarder --upstream "$T/a" --upstream "$T/b" ||
    fail "provision/serve --forwarder"
E=$PROV_NAME
check_resolver "$T/e" 127.0.0.45 forwarder
ptr=$(prov_delv 127.0.0.45 "$T/e/n.anchors" "$E" PTR "upstreams.$E") ||
    fail "PTR upstreams.$E"
ptr=$(echo "$ptr" | awk '{ print $5 }' | sort | tr '\n' ' ')
[ "$ptr" = "$(printf '%s.\n%s.\n' "$A" "$B" | sort | tr '\n' ' ')" ] ||
    fail "upstreams.$E PTR is $ptr"
for up in a b; do
	u=$(prov_name "$T/$up")
	k=$(prov_delv 127.0.0.45 "$T/e/n.anchors" "$E" KEY "$u.$E") ||
	    fail "KEY $u.$E"
	[ "$(echo "$k" | key_rdata)" = "$(key_rdata <"$T/$up/v.key")" ] ||
	    fail "KEY $u.$E differs"
	t=$(prov_delv 127.0.0.45 "$T/e/n.anchors" "$E" TLSA \
	    "_853._tcp.$u.$E") || fail "TLSA of $u"
	[ "$(echo "$t" | tlsa_rdata)" = "$(cat "$T/$up/v.tlsa")" ] ||
	    fail "TLSA of $u differs"
	# shellcheck disable=SC2089,SC2090 # the quotes are part of the expected value
	for q in "A $u.$E 127.0.0.4" "TXT server-type.$u.$E \"resolver\"" \
	    "TXT transport.$u.$E \"dot\""; do
		# shellcheck disable=SC2086 # type, name and value: split on purpose
		set -- $q
		v=$(prov_delv 127.0.0.45 "$T/e/n.anchors" "$E" "$1" "$2") ||
		    fail "$1 $2"
		case $(echo "$v" | awk '{ print $5 }') in
		"$3"*) ;;
		*) fail "$1 $2 is $v" ;;
		esac
	done
done
ok "--forwarder: upstreams, their KEY, TLSA, server-type and transport"

# 6. expired signatures are bogus; resign makes them valid again
prov_up "$T/f" 127.0.0.46 --sig-expired || fail "provision/serve expired"
prov_anchor "$T/f/trust-anchor.key" >"$T/f/arpa.anchors"
out=$(delv @127.0.0.46 -a "$T/f/arpa.anchors" +root=$ARPA DNSKEY $ARPA 2>&1)
case $out in
*"fully validated"*) fail "expired signatures validate" ;;
*"resolution failed"*) ;;
*) fail "expired: unexpected delv output: $out" ;;
esac
ok "--sig-expired: DNSKEY $ARPA is bogus"
"$DOTCTL" provision resign "$T/f" >/dev/null || fail "resign"
prov_stop "$T/f"
prov_start "$T/f" 127.0.0.46 || fail "restart after resign"
F=$(prov_name "$T/f")
prov_delv 127.0.0.46 "$T/f/arpa.anchors" $ARPA DNSKEY $ARPA >/dev/null ||
    fail "resigned DNSKEY $ARPA"
prov_delv 127.0.0.46 "$T/f/arpa.anchors" $ARPA KEY "$F.$ARPA" \
    >"$T/f/v.key" || fail "resigned KEY"
sed "s/^$F\.$ARPA\./$F./" "$T/f/v.key" >"$T/f/n.key"
prov_anchor "$T/f/n.key" >"$T/f/n.anchors"
prov_delv 127.0.0.46 "$T/f/n.anchors" "$F" A "$F" >/dev/null ||
    fail "resigned A"
ok "resign: valid signatures again"

# 7. overwriting, role mismatch (files only), bad input
before=$(prov_name "$T/a")
"$DOTCTL" provision --addr 127.0.0.41 --out "$T/a" >/dev/null 2>&1 &&
    fail "overwrote an output dir without --force"
[ "$(prov_name "$T/a")" = "$before" ] || fail "refused, yet changed"
"$DOTCTL" provision --addr 127.0.0.47 --out "$T/g" >/dev/null ||
    fail "provision g"
"$DOTCTL" provision --addr 127.0.0.47 --out "$T/g" --force \
    --server-type-mismatch >/dev/null || fail "--force"
g=$(prov_name "$T/g")
if ! grep -q "^server-type\\.$g\\..*\"resolver\"" "$T/g/zones/$g.zone" ||
    ! grep -q "^server-function\\.$g\\..*\"forwarder\"" "$T/g/zones/$g.zone"; then
	fail "--server-type-mismatch"
fi
ok "no overwrite without --force; --force; --server-type-mismatch"

for args in "" "--addr 300.1.1.1" "--addr 127.0.0.1 --addr6 127.0.0.2" \
    "--addr 127.0.0.1 --upstream $T/a" "--addr 127.0.0.1 --ttl 0" \
    "--addr 127.0.0.1 --name a..zz" "--addr 127.0.0.1 --alg rsa" \
    "--addr 127.0.0.1 --ca $T/ca.pem"; do
	# shellcheck disable=SC2086 # the options: split on purpose
	"$DOTCTL" provision $args --out "$T/bad" >/dev/null 2>&1
	[ $? -eq 2 ] || fail "usage error not reported: $args"
done
"$DOTCTL" provision --addr 127.0.0.1 --arpa-key "$T/ca.pem" --out "$T/bad" \
    >/dev/null 2>&1 && fail "a PEM file taken as a DNSSEC key"
"$DOTCTL" provision --addr 127.0.0.1 --ca "$T/ca.pem" "$T/a/tls/server.key" \
    --out "$T/bad" >/dev/null 2>&1 && fail "a CA with the wrong key"
[ -e "$T/bad" ] && fail "a failed run left $T/bad"
find "$T" -mindepth 1 -maxdepth 1 -name '*.new-*' | grep -q . && fail "a staging directory was left"
ok "bad input refused, nothing left behind"

# 8. --name: any host name is a unique name, except what discovery refuses;
# that is refused here too, with the reason, exit status 2, nothing written
l63=$(printf 'a%.0s' $(seq 1 63))
l64=$(printf 'a%.0s' $(seq 1 64))
long="$l63.$l63.$l63.$(printf 'b%.0s' $(seq 1 40)).zz"
while IFS='|' read -r n why; do
	out=$("$DOTCTL" provision --addr 127.0.0.1 --name "$n" --out "$T/bad" 2>&1)
	st=$?
	[ $st -eq 2 ] || fail "--name $n: exit $st, wanted 2"
	case $out in
	*"--name $n: $why"*) ;;
	*) fail "--name $n: no reason '$why' in: $out" ;;
	esac
	[ -e "$T/bad" ] && fail "--name $n: refused, yet $T/bad was written"
done <<EOF
x.resolver-name.arpa|a special-use name
resolver-name.arpa|a special-use name
ns.resolver.arpa|a special-use name
localhost|a special-use name
dot.localhost|a special-use name
foo.invalid|a special-use name
arpa|a special-use name
$l64.zz|not a host name
_dot.example.com|not a host name
dot_1.zz|not a host name
-dot.zz|not a host name
dot-.zz|not a host name
a..zz|not a host name
192.0.2.53|its last label is all digits
$long|too long
EOF
ok "--name: special-use names, bad labels, numeric, too long: refused with the reason"
for n in k3xq7mfa2vnw.zz office-resolver-1.zz dot.example.com x.home.arpa \
    "$l63.$l63.$l63.$(printf 'b%.0s' $(seq 1 39)).zz"; do
	"$DOTCTL" provision --addr 127.0.0.1 --name "$n" --out "$T/n" --force \
	    >/dev/null || fail "--name $n refused"
	[ "$(prov_name "$T/n")" = "$n" ] || fail "--name $n: name file"
	[ -f "$T/n/zones/$n.zone.signed" ] || fail "--name $n: zone not signed"
done
ok "--name: base32, a long label, an own domain, the longest name: provisioned"
