#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What happens after discovery, over the DoT connection itself:
#   the resolver's records are re-validated periodically (refresh-interval)
#   over DoT, with zero clear-text DNS to the resolver;
#   RFC 5011: a new resolver-name.arpa KSK, signed by the pinned one, is
#   add-pending and becomes trusted only after the hold-down;
#   a TLSA rollover (new record published next to the old, then the new
#   certificate served) is followed without a restart.
# Zones are re-signed with ldns-signzone, the provisioned keys and a new
# key from ldns-keygen.  Inside a network namespace (fixed fingerprint).
# Each scenario provisions its own resolver and starts its own daemon.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_tmpdir
trap 'ds_stop_all; cap_stop_all; prov_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T_DIR"' EXIT

L=127.0.0.80 R=127.0.0.81
HOLD=4

answered() { [ "$(dig @$L +time=2 +tries=1 +short www.example.test A)" = "192.0.2.10" ]; }
ctl() { "$DOTCTL" -s "$T_DIR/a/control" "$@"; }
trust_has() { ctl trust list | grep -q "$1"; }

# up DIR: provision a resolver with short TTLs (refreshes go through the
# cache, which honours them) into DIR, serve it on R, start daemon a
up() {
	D=$PROV_TMP/$1
	prov_up "$D" $R --ttl 2 || { echo "provision failed"; return 1; }
	N=$(prov_name "$D")
	ds_start a --listen $L:53 --network-resolver $R --refresh-interval 1 \
		--rfc5011-hold-down $HOLD --log-level info --discovery-wait 10000
}
# up_pinned DIR: up, and wait until discovered and pinned
up_pinned() {
	up "$1" || return 1
	if ! wait_for 15 answered || ! wait_for 5 trust_has trusted; then
		echo "not discovered and pinned"
		return 1
	fi
}
teardown() { prov_stop_all; rm -rf "${T_DIR:?}/a"; }

# ---- refresh over DoT: nothing in clear text to the resolver
s_refresh() {
	local n0
	up refresh || return 1
	check "discovered and answered" wait_for 15 answered
	check "pinned" wait_for 5 trust_has trusted
	cap_start refresh lo "" "host $R"
	n0=$(ds_log_count a "refreshing the resolver's records over DoT")
	check "refreshes happen" ds_wait_log a "refreshing the resolver's records over DoT" $((n0 + 1)) 10
	expect_contains "refresh succeeds" "$(ctl status)" "refresh:"
	expect_not_contains "no failed refresh" "$(ctl status)" "failed; last: bogus"
	cap_stop refresh $R
	cap_expect_seen "refresh: the capture saw DoT to the resolver" refresh "tcp dst port 853"
	cap_expect_none "refresh: zero clear-text DNS packets to the resolver" refresh "port 53"
}

# ---- RFC 5011: a second KSK, signed by the pinned one, then the old KSK
# revoked
s_rfc5011() {
	local k2 tag2 tag1 t_added t_trusted tl
	up_pinned rfc5011 || return 1
	(cd "$D/keys" && ldns-keygen -a ECDSAP256SHA256 -k resolver-name.arpa. >/dev/null) || return 1
	k2=$(find "$D/keys" -name 'Kresolver-name.arpa.*.key' | head -1)
	k2=${k2%.key}
	tag2=${k2##*+}
	tag2=$((10#$tag2))
	ldns-signzone -o resolver-name.arpa. -f "$D/zones/resolver-name.arpa.zone.signed" \
		"$D/zones/resolver-name.arpa.zone" "$D/keys/arpa-zsk" "$D/keys/arpa-ksk" "$k2" || return 1
	prov_stop "$D"
	prov_start "$D" $R || return 1
	t_added=$(date +%s)
	check "RFC 5011: the new key enters add-pending" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^[^ ]* *$tag2/13.*add-pending'"
	tl=$(ctl trust list)
	expect_not_contains "RFC 5011: not trusted before the hold-down" "$(printf '%s\n' "$tl" | grep "$tag2/13")" "trusted"
	check "RFC 5011: trusted after the hold-down" wait_for $((HOLD + 10)) sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$tag2/13.*trusted'"
	t_trusted=$(date +%s)
	check "RFC 5011: not before $HOLD s ($((t_trusted - t_added)) s)" test $((t_trusted - t_added)) -ge $HOLD
	check "still answering" answered

	# the old KSK is revoked (REVOKE bit, self-signed)
	tag1=$(ctl trust list | awk -v t="$tag2/13" '$2 ~ /\/13$/ && $2 != t {print $2; exit}' | cut -d/ -f1)
	cp "$D/keys/arpa-ksk.key" "$D/keys/arpa-ksk.key.orig"
	ldns-revoke "$D/keys/arpa-ksk" >/dev/null 2>&1 || ldns-revoke "$D/keys/arpa-ksk.key" >/dev/null 2>&1
	check "the old KSK now carries the REVOKE bit" grep -q "DNSKEY[[:space:]]*385" "$D/keys/arpa-ksk.key"
	ldns-signzone -o resolver-name.arpa. -f "$D/zones/resolver-name.arpa.zone.signed" \
		"$D/zones/resolver-name.arpa.zone" "$D/keys/arpa-zsk" "$D/keys/arpa-ksk" "$k2" || return 1
	prov_stop "$D"
	prov_start "$D" $R || return 1
	check "RFC 5011: the revoked key is marked revoked" wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$tag1/13.*revoked'"
	check "RFC 5011: the new key stays trusted" sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '$tag2/13.*trusted'"
	check "still answering after the revocation" wait_for 10 answered
}

# ---- TLSA rollover: publish the new TLSA next to the old, then switch
s_tlsa_rollover() {
	local newhash tlsa
	up_pinned tlsa || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$N" \
		-addext "subjectAltName=DNS:$N" -keyout "$D/tls/new.key" -out "$D/tls/new.pem" >/dev/null 2>&1
	newhash=$(openssl x509 -in "$D/tls/new.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1)
	tlsa=$(grep -P '\tTLSA\t' "$D/zones/$N.zone" | head -1 | sed "s/3 1 1 .*/3 1 1 $newhash/")
	printf '%s\n' "$tlsa" >>"$D/zones/$N.zone"
	ldns-signzone -o "$N." -f "$D/zones/$N.zone.signed" "$D/zones/$N.zone" \
		"$D/keys/zone-zsk" "$D/keys/zone-ksk" || return 1
	prov_stop "$D"
	prov_start "$D" $R || return 1
	check "TLSA rollover: the new record is learned" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust show '$N' | grep -q '$newhash'"
	check "TLSA rollover: logged as followed" wait_for 5 grep -q "changed its TLSA" "$T_DIR/a/log"
	sed -i "s|tls-service-key:.*|tls-service-key: \"$D/tls/new.key\"|; s|tls-service-pem:.*|tls-service-pem: \"$D/tls/new.pem\"|" \
		"$D/unbound.conf"
	prov_stop "$D"
	prov_start "$D" $R || return 1
	check "TLSA rollover: the new certificate is accepted" wait_for 10 answered
	check "TLSA rollover: the matched TLSA is the new one" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'TLSA 3 1 1 $newhash'"
}

scenario refresh s_refresh teardown
scenario rfc5011 s_rfc5011 teardown
scenario tlsa-rollover s_tlsa_rollover teardown
finish
