#!/usr/bin/env bash
# What happens after discovery, over the DoT connection itself:
#   the resolver's records are re-validated periodically (refresh-interval)
#   over DoT, with zero clear-text DNS to the resolver;
#   RFC 5011: a new resolver-name.arpa KSK, signed by the pinned one, is
#   add-pending and becomes trusted only after the hold-down;
#   a TLSA rollover (new record published next to the old, then the new
#   certificate served) is followed without a restart.
# Zones are re-signed with ldns-signzone, the provisioned keys and a new
# key from ldns-keygen.  Inside a network namespace (fixed fingerprint).
set -u
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

. "$DOTSTUB_SRC/tests/lib/common.sh"
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_tmpdir
trap 'ds_stop_all; prov_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T_DIR"' EXIT

L=127.0.0.80 R=127.0.0.81
D=$PROV_TMP/r
# short TTLs: refreshes go through the cache, which honours them
prov_up "$D" $R --ttl 2 || { echo "provision failed"; exit 1; }
N=$(prov_name "$D")
HOLD=4

ds_start a --listen $L:53 --network-resolver $R --refresh-interval 1 \
	--rfc5011-hold-down $HOLD --log-level info --discovery-wait 10000 || exit 1
answered() { [ "$(dig @$L +time=2 +tries=1 +short www.example.test A)" = "192.0.2.10" ]; }
ctl() { "$DOTCTL" -s "$T_DIR/a/control" "$@"; }
check "discovered and answered" wait_for 15 answered
check "pinned" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q trusted"

# refresh over DoT: nothing in clear text to the resolver
cap_start refresh "port 53 and host $R"
n0=$(grep -c "refreshing the resolver's records over DoT" "$T_DIR/a/log")
check "refreshes happen" wait_for 10 sh -c "[ \$(grep -c \"refreshing the resolver's records over DoT\" '$T_DIR/a/log') -ge $((n0 + 2)) ]"
expect_contains "refresh succeeds" "$(ctl status)" "refresh:"
expect_not_contains "no failed refresh" "$(ctl status)" "failed; last: bogus"
pkts=$(cap_count refresh)
expect_eq "refresh: zero clear-text DNS packets to the resolver" "$pkts" "0"

# ---- RFC 5011: a second KSK, signed by the pinned one
(cd "$D/keys" && ldns-keygen -a ECDSAP256SHA256 -k resolver-name.arpa. >/dev/null) || exit 1
K2=$(ls "$D"/keys/Kresolver-name.arpa.*.key | head -1)
K2=${K2%.key}
TAG2=$(echo "$K2" | sed 's/.*+0*\([0-9]*\)$/\1/')
ldns-signzone -o resolver-name.arpa. -f "$D/zones/resolver-name.arpa.zone.signed" \
	"$D/zones/resolver-name.arpa.zone" "$D/keys/arpa-zsk" "$D/keys/arpa-ksk" "$K2" || exit 1
prov_stop "$D"
prov_start "$D" $R || exit 1
t_added=$(date +%s)
check "RFC 5011: the new key enters add-pending" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^[^ ]* *$TAG2/13.*add-pending'"
tl=$(ctl trust list)
expect_not_contains "RFC 5011: not trusted before the hold-down" "$(printf '%s\n' "$tl" | grep "$TAG2/13")" "trusted"
check "RFC 5011: trusted after the hold-down" wait_for $((HOLD + 10)) sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$TAG2/13.*trusted'"
t_trusted=$(date +%s)
check "RFC 5011: not before $HOLD s ($((t_trusted - t_added)) s)" test $((t_trusted - t_added)) -ge $HOLD
check "still answering" answered

# ---- RFC 5011: the old KSK is revoked (REVOKE bit, self-signed)
TAG1=$(ctl trust list | awk -v t="$TAG2/13" '$2 ~ /\/13$/ && $2 != t {print $2; exit}' | cut -d/ -f1)
cp "$D/keys/arpa-ksk.key" "$D/keys/arpa-ksk.key.orig"
ldns-revoke "$D/keys/arpa-ksk" >/dev/null 2>&1 || ldns-revoke "$D/keys/arpa-ksk.key" >/dev/null 2>&1
check "the old KSK now carries the REVOKE bit" grep -q "DNSKEY[[:space:]]*385" "$D/keys/arpa-ksk.key"
ldns-signzone -o resolver-name.arpa. -f "$D/zones/resolver-name.arpa.zone.signed" \
	"$D/zones/resolver-name.arpa.zone" "$D/keys/arpa-zsk" "$D/keys/arpa-ksk" "$K2" || exit 1
prov_stop "$D"
prov_start "$D" $R || exit 1
check "RFC 5011: the revoked key is marked revoked" wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$TAG1/13.*revoked'"
check "RFC 5011: the new key stays trusted" sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$TAG2/13.*trusted'"
check "still answering after the revocation" wait_for 10 answered

# ---- TLSA rollover: publish the new TLSA next to the old, then switch
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$N" \
	-addext "subjectAltName=DNS:$N" -keyout "$D/tls/new.key" -out "$D/tls/new.pem" >/dev/null 2>&1
NEWHASH=$(openssl x509 -in "$D/tls/new.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
grep -P '\tTLSA\t' "$D/zones/$N.zone" | head -1 |
	sed "s/3 1 1 .*/3 1 1 $NEWHASH/" >>"$D/zones/$N.zone"
ldns-signzone -o "$N." -f "$D/zones/$N.zone.signed" "$D/zones/$N.zone" \
	"$D/keys/zone-zsk" "$D/keys/zone-ksk" || exit 1
prov_stop "$D"
prov_start "$D" $R || exit 1
check "TLSA rollover: the new record is learned" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust show '$N' | grep -q '$NEWHASH'"
check "TLSA rollover: logged as followed" wait_for 5 grep -q "changed its TLSA" "$T_DIR/a/log"
sed -i "s|tls-service-key:.*|tls-service-key: \"$D/tls/new.key\"|; s|tls-service-pem:.*|tls-service-pem: \"$D/tls/new.pem\"|" \
	"$D/unbound.conf"
prov_stop "$D"
prov_start "$D" $R || exit 1
check "TLSA rollover: the new certificate is accepted" wait_for 10 answered
check "TLSA rollover: the matched TLSA is the new one" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'TLSA 3 1 1 $NEWHASH'"

finish
