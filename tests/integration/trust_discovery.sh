#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd discovering its network's resolver: resolvers provisioned with
# `dotctl provision` and served by real Unbound, the daemon given only the
# resolver's address.  Runs inside a network namespace with a fixed gateway,
# so the network fingerprint is the same on every run.
#   first use: discover, pin (only after DANE succeeded), DoT; restart: the
#   known network gets DoT at once with no clear-text traffic;
#   variants: private CA (2 0 1), Ed25519, a second site sharing the
#   --arpa-key anchor is known, not first use; forwarder;
#   hostile: a different resolver-name.arpa key on a known network, expired
#   signatures, server-type/server-function disagreeing, valid records but
#   another certificate on 853, DoT port closed on a known anchor or on an
#   unknown network; a transparent forwarder (dnsmasq) passing its
#   upstream's publication through, that upstream reachable or not;
#   tofu ask / approve, tofu off with managed anchors; a corrupt store is
#   quarantined and the daemon still serves; unique names in other forms
#   (base32, a long label, under the operator's domain, the longest that
#   fits) are discovered and used over DoT like any other.
# Each scenario starts its own resolvers and daemons and stops them; the
# first resolver (r1) is provisioned once, and a scenario that needs it
# pinned pins it first (pin_r1).
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
prov_tmpdir
udot_init
trap 'ds_stop_all; cap_stop_all; prov_cleanup; udot_cleanup; rm -rf "$T_DIR"' EXIT

L=127.0.0.80
DIG="dig @$L +time=4 +tries=1"
WAIT=(--discovery-wait 10000)
# SIGTERM is immediate; a sanitizer's leak check at exit adds its own time
STOP_MS=500
ldd "$DOTSTUBD" 2>/dev/null | grep -q libasan && STOP_MS=3000

status_of() { ds_ctl "$1" status 2>&1; }
trusted_n1() { ds_ctl "$1" trust list | grep -q "$N1.*trusted"; }

# the first resolver: provisioned once, started by each scenario using it
prov_provision "$PROV_TMP/r1" 127.0.0.81 || { echo "provision r1 failed"; exit 1; }
N1=$(prov_name "$PROV_TMP/r1")
up_r1() { prov_start "$PROV_TMP/r1" 127.0.0.81 || { echo "cannot start r1"; return 1; }; }
# pin_r1 NAME: up_r1, then daemon NAME discovers and pins r1 and stops
pin_r1() {
	up_r1 || return 1
	ds_start "$1" --listen $L:53 --network-resolver 127.0.0.81 "${WAIT[@]}" || return 1
	if ! wait_for 15 sh -c "$DIG www.example.test A +short | grep -q 192.0.2.10" ||
		! wait_for 5 trusted_n1 "$1"; then
		echo "r1 was not pinned"
		return 1
	fi
	ds_stop "$1"
}
teardown() { dnsmasq_stop; prov_stop_all; udot_stop_all; rm -rf "${T_DIR:?}"/*/; }

# ---------------------------------------------------------------- first use
s_first_use() {
	local out st tl js sh ms
	up_r1 || return 1
	ds_start a --listen $L:53 --network-resolver 127.0.0.81 "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "first use: answer over discovered DoT" "$out" "192.0.2.10"
	st=$(status_of a)
	expect_contains "first use: upstream is the unique name" "$st" "upstream:   $N1 (from discovery)"
	expect_contains "first use: DANE authenticated" "$st" "auth:     DANE, TLSA 3 1 1"
	expect_contains "first use: the network is shown" "$st" "v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01"
	check "first use: pinned after the handshake" wait_for 5 trusted_n1 a
	tl=$(ds_ctl a trust list)
	expect_contains "trust list shows the anchor with one network" "$tl" "trusted     1"
	js=$(ds_ctl a trust list --json)
	check "trust list --json parses" python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a[0]["state"]=="trusted"' "$js"
	sh=$(ds_ctl a trust show "$N1.")
	expect_contains "trust show lists the TLSA learned" "$sh" "tlsa:      3 1 1"
	expect_contains "trust show lists the network" "$sh" "v4gwmac=02:00:00:00:00:01"
	check "the store file is human-readable" grep -q "^anchor resolver-name.arpa. 257 3 13" "$T_DIR/a/state/anchors"
	# libunbound is mapped only while a walk runs (discovery/walk/ub_load.h),
	# in the network process (the store process never maps it)
	check "libunbound unloaded once the walk is done" wait_for 5 sh -c "grep -q libcrypto /proc/$(ds_netpid a)/maps && ! grep -q libunbound /proc/$(ds_netpid a)/maps"
	ms=$(ds_stop_ms a)
	check "SIGTERM with a DoT connection open: gone in $ms ms (under $STOP_MS)" test "$ms" -lt "$STOP_MS"
}

# ------------------- restart: known network, DoT at once, no clear-text DNS
s_restart() {
	local out st
	pin_r1 a || return 1
	cap_start restart lo "" "host 127.0.0.81"
	ds_start a --listen $L:53 --network-resolver 127.0.0.81 "${WAIT[@]}" || return 1
	out=$($DIG www.example.test AAAA +short)
	expect_eq "restart: answer" "$out" "2001:db8::10"
	st=$(status_of a)
	expect_contains "restart: the pin was kept (known network, from the store)" "$st" "known network"
	cap_stop restart 127.0.0.81
	cap_expect_seen "restart: the capture saw DoT to the resolver" restart "tcp dst port 853"
	cap_expect_none "restart: zero clear-text DNS packets to the resolver" restart "port 53"
}

# ---------------------------------------- a changed key on a known network
# Another resolver with its own resolver-name.arpa key behind the same
# gateway (only the resolver address differs): a red flag, refused.
s_changed_key() {
	local out st tl
	pin_r1 a || return 1
	prov_up "$PROV_TMP/evil" 127.0.0.82 || return 1
	cap_start evil lo "" "host 127.0.0.82"
	ds_start a --listen $L:53 --network-resolver 127.0.0.82 --unknown-network opportunistic "${WAIT[@]}" || return 1
	out=$($DIG secret-name.example.test A)
	expect_contains "changed key on a known network: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "changed key: EDE 18 Prohibited" "$out" "EDE: 18"
	st=$(status_of a)
	expect_contains "changed key: refused in status" "$st" "refused"
	expect_contains "changed key: alert in status" "$st" "ALERT"
	expect_contains "changed key: alert in the log" "$(ds_log a)" "ALERT"
	tl=$(ds_ctl a trust list)
	expect_eq "changed key: no pin added" "$(printf '%s\n' "$tl" | grep -c trusted)" "1"
	cap_stop evil 127.0.0.82
	cap_expect_seen "changed key: the capture saw the discovery queries (port 53)" evil "dst port 53"
	cap_expect_absent "changed key: the client's query never went out in clear text" evil "secret-name"
}

# ------------------------ a re-keyed resolver on a known network
# The same network (same fingerprint, same resolver address), but its
# resolver now has a new resolver-name.arpa key and certificate: DoT from
# the store fails DANE, the network is walked again, the new anchor is
# refused with an ALERT and kept pending; `trust approve` adopts it.
s_rekeyed() {
	local out st sha
	pin_r1 a || return 1
	prov_stop "$PROV_TMP/r1"
	prov_up "$PROV_TMP/r1new" 127.0.0.81 || return 1
	ds_start a --listen $L:53 --network-resolver 127.0.0.81 "${WAIT[@]}" || return 1
	check "re-keyed: refused within 10 s" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'discovery:  refused'"
	expect_contains "re-keyed: it walked again after the DANE failures" "$(ds_log a)" "failed DANE authentication"
	st=$(status_of a)
	expect_contains "re-keyed: alert in status" "$st" "ALERT"
	expect_contains "re-keyed: alert in the log" "$(ds_log a)" "ALERT"
	out=$($DIG www.example.test A)
	expect_contains "re-keyed: SERVFAIL until approved" "$out" "status: SERVFAIL"
	check "re-keyed: the new key is kept pending" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q pending"
	sha=$(ds_ctl a trust list | awk '/pending/ {print $3; exit}')
	out=$(ds_ctl a trust approve "$sha" 2>&1)
	expect_contains "re-keyed: approve the new key" "$out" "approved"
	check "re-keyed: DoT to the re-keyed resolver after approval" wait_for 15 sh -c "$DIG www.example.test A +short | grep -q 192.0.2.10"
	prov_stop "$PROV_TMP/r1new"
	rm -rf "$PROV_TMP/r1new"
}

# ------------------------------- a second site sharing the anchor is known
s_shared_anchor() {
	local out n2
	pin_r1 a || return 1
	prov_up "$PROV_TMP/r2" 127.0.0.83 --arpa-key "$PROV_TMP/r1/keys/arpa-ksk.private" || return 1
	n2=$(prov_name "$PROV_TMP/r2")
	ds_start a --listen $L:53 --network-resolver 127.0.0.83 --log-level info "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "shared anchor: answer over DoT" "$out" "192.0.2.10"
	expect_contains "shared anchor: walked with the known anchor, not first use" "$(ds_log a)" "with known anchors"
	expect_not_contains "shared anchor: no TOFU pin" "$(ds_log a)" "first use, $n2"
	check "shared anchor: the second resolver is learned under the same anchor" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust show '$n2' | grep -q '$N1\\|$n2'"
	expect_eq "shared anchor: still one anchor" "$(ds_ctl a trust list | grep -c trusted)" "1"
}

# ------------------------------------------------------------- variants
s_variant() { # ca | ed25519
	local variant=$1 args want out
	case $variant in
	ca)
		mkdir -p "$PROV_TMP/cafiles"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
			-subj "/CN=dotstub test CA" -keyout "$PROV_TMP/cafiles/ca.key" -out "$PROV_TMP/cafiles/ca.pem" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
			>/dev/null 2>&1
		args=(--ca "$PROV_TMP/cafiles/ca.pem" "$PROV_TMP/cafiles/ca.key") want="TLSA 2 0 1" ;;
	ed25519) args=(--alg ed25519) want="alg 15" ;;
	esac
	prov_up "$PROV_TMP/$variant" 127.0.0.84 "${args[@]}" || { t_fail "provision $variant"; return 0; }
	ds_start v --listen $L:53 --network-resolver 127.0.0.84 "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "$variant: answer over DoT" "$out" "192.0.2.10"
	check "$variant: $want" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/v/control' status | grep -q '$want'"
}
s_variant_ca() { s_variant ca; }
s_variant_ed25519() { s_variant ed25519; }

# ------------------------------------------------------------ forwarder
s_forwarder() {
	local out st nup
	prov_provision "$PROV_TMP/up" 127.0.0.85 || return 1
	prov_start "$PROV_TMP/up" 127.0.0.85 || return 1
	prov_up "$PROV_TMP/fwd" 127.0.0.86 --forwarder --upstream "$PROV_TMP/up" || return 1
	nup=$(prov_name "$PROV_TMP/up")
	ds_start f --listen $L:53 --network-resolver 127.0.0.86 "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "forwarder: answer" "$out" "192.0.2.10"
	st=$(status_of f)
	expect_contains "forwarder: its upstream is shown" "$st" "forwarder upstream: $nup"
	expect_contains "forwarder: we talk to the forwarder by default" "$st" "upstream:   $(prov_name "$PROV_TMP/fwd")"
	ds_stop f
	rm -rf "$T_DIR/f"
	ds_start f --listen $L:53 --network-resolver 127.0.0.86 --prefer-upstream-resolver yes "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "forwarder bypassed: answer" "$out" "192.0.2.10"
	expect_contains "forwarder bypassed: DoT straight to its upstream" "$(status_of f)" "upstream:   $nup"
}

# ------------------------------------------------- hostile resolvers (strict)
hostile_check() { # label want-in-status
	local out
	ds_start h --listen $L:53 --network-resolver 127.0.0.87 --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "$1: SERVFAIL" "$out" "status: SERVFAIL"
	check "$1: the reason is shown ($2)" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/h/control' status | grep -q '$2'"
	expect_eq "$1: nothing pinned" "$(ds_ctl h trust list | grep -c 'trusted\|pending')" "0"
}
s_expired() {
	prov_up "$PROV_TMP/exp" 127.0.0.87 --sig-expired || { t_fail "expired signatures: provision"; return 0; }
	hostile_check "expired signatures" "bogus"
}
s_mismatch() {
	prov_up "$PROV_TMP/mism" 127.0.0.87 --server-type-mismatch ||
		{ t_fail "server-type and server-function disagree: provision"; return 0; }
	hostile_check "server-type and server-function disagree" "server-function"
}
# the NS record changed after signing (forged in transit or on the server)
s_ns_changed() {
	prov_provision "$PROV_TMP/ns" 127.0.0.87 || return 1
	sed -i -E "s/^(resolver-name\.arpa\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+NS[[:space:]]+)[a-v0-9]{12}\.zz\./\1aaaaaaaaaaaa.zz./" \
		"$PROV_TMP/ns/zones/resolver-name.arpa.zone.signed"
	check "NS changed after signing: the zone was altered" grep -q "NS.aaaaaaaaaaaa.zz" "$PROV_TMP/ns/zones/resolver-name.arpa.zone.signed"
	prov_start "$PROV_TMP/ns" 127.0.0.87 || return 1
	hostile_check "NS changed after signing" "bogus"
}
# valid records, but the certificate served on 853 is another one
s_other_cert() {
	prov_provision "$PROV_TMP/cert" 127.0.0.87 || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=$(prov_name "$PROV_TMP/cert")" -keyout "$PROV_TMP/cert/other.key" \
		-out "$PROV_TMP/cert/other.pem" >/dev/null 2>&1
	sed -i "s|tls-service-key:.*|tls-service-key: \"$PROV_TMP/cert/other.key\"|; s|tls-service-pem:.*|tls-service-pem: \"$PROV_TMP/cert/other.pem\"|" \
		"$PROV_TMP/cert/unbound.conf"
	prov_start "$PROV_TMP/cert" 127.0.0.87 || return 1
	hostile_check "another certificate on 853" "certificate does not match"
}

# ------------------------------------------- a transparent forwarder (dnsmasq)
# dnsmasq at FWD forwards everything to the resolver at UP, which publishes
# resolver-name.arpa for itself, and answers printer.lan itself: the
# publication the daemon sees describes UP, not the network's resolver.
FWD=127.0.0.95
dnsmasq_start() { # upstream
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --cache-size=0 \
		--proxy-dnssec --server="$1" --address=/printer.lan/192.0.2.77 \
		--listen-address=$FWD --bind-interfaces --port=53 --user=root \
		--pid-file="$PROV_TMP/dnsmasq.pid" --log-facility="$PROV_TMP/dnsmasq.log" &
	echo $! >"$PROV_TMP/dnsmasq.fg.pid"
	wait_for 5 sh -c "dig @$FWD +time=1 +tries=1 printer.lan A +short | grep -q 192.0.2.77" ||
		{ echo "dnsmasq does not answer"; cat "$PROV_TMP/dnsmasq.log"; return 1; }
}
dnsmasq_stop() {
	[ -f "$PROV_TMP/dnsmasq.fg.pid" ] || return 0
	pid_stop "$(cat "$PROV_TMP/dnsmasq.fg.pid")"
	rm -f "$PROV_TMP/dnsmasq.fg.pid"
}
s_transparent() {
	local out st nup js
	prov_up "$PROV_TMP/tu" 127.0.0.94 || return 1
	nup=$(prov_name "$PROV_TMP/tu")
	dnsmasq_start 127.0.0.94 || return 1
	out=$("$DOTCTL" discover $FWD 2>&1)
	expect_contains "transparent: discover validates the pass-through" "$out" "result: ok"
	expect_contains "transparent: discover says so" "$out" "transparent forwarder: publication describes $nup, not $FWD"
	# the default: the network's own resolver, its local names keep working
	ds_start t --listen $L:53 --network-resolver $FWD "${WAIT[@]}" || return 1
	out=$($DIG printer.lan A +short)
	expect_eq "transparent: the forwarder's local name resolves" "$out" "192.0.2.77"
	out=$($DIG www.example.test A +short)
	expect_eq "transparent: other names through the forwarder" "$out" "192.0.2.10"
	st=$(status_of t)
	expect_contains "transparent: status names the publication" "$st" "transparent forwarder: publication describes $nup at 127.0.0.94"
	expect_contains "transparent: treated as publishing nothing (plain, opportunistic)" "$st" "PLAIN DNS to $FWD:53"
	expect_not_contains "transparent: status claims no DoT" "$st" "authenticated by discovery"
	js=$(ds_ctl t status --json)
	check "transparent: in the JSON status too" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert "'"$nup"'" in d["discovery"]["transparent_forwarder"], d["discovery"]' "$js"
	expect_eq "transparent: nothing pinned" "$(ds_ctl t trust list | grep -c 'trusted\|pending')" "0"
	ds_stop t
	rm -rf "$T_DIR/t"
	# strict: no DNS rather than plain
	ds_start t --listen $L:53 --network-resolver $FWD --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "transparent, strict: SERVFAIL" "$out" "status: SERVFAIL"
	ds_stop t
	rm -rf "$T_DIR/t"
	# prefer-upstream-resolver yes, the upstream reachable: DoT to it directly
	ds_start t --listen $L:53 --network-resolver $FWD --prefer-upstream-resolver yes "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "transparent, preferred: answer" "$out" "192.0.2.10"
	check "transparent, preferred: DoT to the upstream, authenticated" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/t/control' status | grep -q 'upstream:   $nup'"
	check "transparent, preferred: pinned once authenticated" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/t/control' trust list | grep -q '$nup.*trusted'"
}
# The publication names an address nothing answers DoT on (the forwarder's
# upstream is elsewhere): never an outage longer than discovery-wait, never
# "authenticated" in status.
s_transparent_unreachable() {
	local out st t0 t1
	prov_provision "$PROV_TMP/tx" 127.0.0.96 || return 1
	sed -i 's/127\.0\.0\.96@/127.0.0.97@/' "$PROV_TMP/tx/unbound.conf"
	prov_start "$PROV_TMP/tx" 127.0.0.97 || return 1
	dnsmasq_start 127.0.0.97 || return 1
	ds_start u --listen $L:53 --network-resolver $FWD --prefer-upstream-resolver yes \
		--discovery-wait 2000 || return 1
	t0=$(date +%s%N)
	check "transparent, unreachable upstream: answered within discovery-wait of the walk" \
		wait_for 8 sh -c "$DIG +time=1 www.example.test A +short | grep -q 192.0.2.10"
	t1=$(date +%s%N)
	check "transparent, unreachable upstream: in $(((t1 - t0) / 1000000)) ms (walk + discovery-wait)" test $(((t1 - t0) / 1000000)) -lt 8000
	st=$(status_of u)
	expect_contains "transparent, unreachable upstream: plain to the network's resolver" "$st" "PLAIN DNS to $FWD:53"
	expect_contains "transparent, unreachable upstream: the reason" "$st" "does not answer DoT"
	expect_not_contains "transparent, unreachable upstream: never claims authenticated" "$st" "authenticated by discovery"
	expect_contains "transparent, unreachable upstream: logged" "$(ds_log u)" "completed no DoT handshake within discovery-wait"
	expect_eq "transparent, unreachable upstream: nothing pinned" "$(ds_ctl u trust list | grep -c 'trusted\|pending')" "0"
}
# An unknown network whose resolver publishes a DoT service that is closed:
# opportunistic users get DNS after discovery-wait, not SERVFAIL for ever.
s_dot_closed_unknown() {
	local out st
	prov_provision "$PROV_TMP/nodot2" 127.0.0.93 || return 1
	sed -i '/@853/d' "$PROV_TMP/nodot2/unbound.conf"
	prov_start "$PROV_TMP/nodot2" 127.0.0.93 || return 1
	ds_start v --listen $L:53 --network-resolver 127.0.0.93 --discovery-wait 2000 || return 1
	check "DoT closed, unknown network: answered (plain) within the walk + discovery-wait" \
		wait_for 8 sh -c "$DIG +time=1 www.example.test A +short | grep -q 192.0.2.10"
	st=$(status_of v)
	expect_contains "DoT closed, unknown network: plain, opportunistic" "$st" "PLAIN DNS to 127.0.0.93:53"
	expect_contains "DoT closed, unknown network: the reason" "$st" "does not answer DoT"
	expect_eq "DoT closed, unknown network: nothing pinned" "$(ds_ctl v trust list | grep -c 'trusted\|pending')" "0"
	ds_stop v
	rm -rf "$T_DIR/v"
	ds_start v --listen $L:53 --network-resolver 127.0.0.93 --discovery-wait 2000 --unknown-network strict || return 1
	check "DoT closed, unknown network, strict: SERVFAIL with EDE 22 once DoT did not answer" \
		wait_for 8 sh -c "$DIG +time=1 www.example.test A | grep -q 'EDE: 22'"
}

# DoT port closed on a known anchor: SERVFAIL, never clear text
s_dot_closed() {
	local out
	pin_r1 a || return 1
	prov_provision "$PROV_TMP/nodot" 127.0.0.88 --arpa-key "$PROV_TMP/r1/keys/arpa-ksk.private" || return 1
	sed -i '/@853/d' "$PROV_TMP/nodot/unbound.conf"
	prov_start "$PROV_TMP/nodot" 127.0.0.88 || return 1
	cap_start nodot lo "" "host 127.0.0.88"
	ds_start a --listen $L:53 --network-resolver 127.0.0.88 "${WAIT[@]}" || return 1
	out=$($DIG private-name.example.test A)
	expect_contains "DoT port closed, known anchor: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "DoT port closed: EDE 23 Network Error" "$out" "EDE: 23"
	check "DoT port closed, known anchor: then EDE 22, the resolver not answering DoT" \
		wait_for 15 sh -c "$DIG +time=1 private-name.example.test A | grep -q 'EDE: 22'"
	expect_contains "DoT port closed, known anchor: status says why" "$(status_of a)" "does not answer DoT"
	cap_stop nodot 127.0.0.88
	cap_expect_seen "DoT port closed: the capture saw the discovery queries (port 53)" nodot "dst port 53"
	cap_expect_absent "DoT port closed: the query never went out in clear text" nodot "private-name"
}

# ------------------------------------------------------------ tofu ask / off
s_tofu_ask() {
	local out
	up_r1 || return 1
	ds_start k --listen $L:53 --network-resolver 127.0.0.81 --tofu ask --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "tofu ask: SERVFAIL while pending (strict)" "$out" "status: SERVFAIL"
	check "tofu ask: the anchor is pending" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/k/control' trust list | grep -q pending"
	out=$(ds_ctl k trust approve "$N1." 2>&1)
	expect_contains "tofu ask: approve" "$out" "approved"
	check "tofu ask: DoT after approval" wait_for 10 sh -c "$DIG www.example.test A +short | grep -q 192.0.2.10"
	expect_contains "tofu ask: now trusted" "$(ds_ctl k trust list)" "trusted"
}

s_tofu_off() {
	local out
	up_r1 || return 1
	ds_start o --listen $L:53 --network-resolver 127.0.0.81 --tofu off --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A)
	expect_contains "tofu off: no managed anchor, SERVFAIL" "$out" "status: SERVFAIL"
	expect_eq "tofu off: nothing pinned" "$(ds_ctl o trust list | grep -c 'trusted\|pending')" "0"
	ds_stop o
	mkdir -p "$T_DIR/o/anchors.d"
	cp "$PROV_TMP/r1/trust-anchor.key" "$T_DIR/o/anchors.d/site.key"
	ds_start o --listen $L:53 --network-resolver 127.0.0.81 --tofu off --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "tofu off: a managed anchor is used" "$out" "192.0.2.10"
	expect_contains "tofu off: listed as managed" "$(ds_ctl o trust list)" "managed"
}

# ------------------------------- a network whose resolver publishes nothing
s_publishes_nothing() {
	local extra out st
	extra='	local-zone: "resolver-name.arpa." static'
	extra="$extra
$(udot_big_txt big.test.)"
	UDOT_CONF_EXTRA="$extra" udot_start plain 127.0.0.89 x.zz ||
		{ echo "cannot start the plain resolver"; return 1; }
	ds_start p --listen $L:53 --network-resolver 127.0.0.89 --unknown-network opportunistic "${WAIT[@]}" || return 1
	out=$($DIG www.test A +short)
	expect_eq "publishes nothing, opportunistic: plain DNS answer" "$out" "192.0.2.1"
	st=$(status_of p)
	expect_contains "opportunistic: shown as plain and unauthenticated" "$st" "PLAIN DNS to 127.0.0.89:53 (opportunistic, unauthenticated)"
	expect_contains "opportunistic: the walk said not published" "$st" "not-published"
	expect_contains "opportunistic: logged as such" "$(ds_log p)" "opportunistic, unauthenticated"
	out=$($DIG big.test TXT +tcp +short | wc -l)
	expect_eq "opportunistic: a truncated plain answer is asked again over TCP" "$out" "40"
	expect_contains "opportunistic: the TCP retry is counted" "$(status_of p)" "1 retried over TCP"
	ds_stop p
	rm -rf "$T_DIR/p"
	ds_start p --listen $L:53 --network-resolver 127.0.0.89 --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.test A)
	expect_contains "publishes nothing, strict: SERVFAIL" "$out" "status: SERVFAIL"
}

# a resolver that silently drops resolver-name.arpa queries: discovery
# hangs; after discovery-wait, opportunistic mode serves plain DNS meanwhile
s_slow_discovery() {
	local t0 t1 out st ms
	UDOT_CONF_EXTRA='	local-zone: "resolver-name.arpa." deny' udot_start slow 127.0.0.79 y.zz ||
		{ echo "cannot start the slow resolver"; return 1; }
	ds_start p --listen $L:53 --network-resolver 127.0.0.79 --unknown-network opportunistic \
		--discovery-wait 1000 || return 1
	t0=$(date +%s%N)
	out=$($DIG www.test A +short)
	t1=$(date +%s%N)
	expect_eq "slow discovery, opportunistic: answered in plain meanwhile" "$out" "192.0.2.1"
	check "slow discovery: after about discovery-wait ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 3000
	st=$(status_of p)
	expect_contains "slow discovery: still discovering" "$st" "discovery:  discovering"
	expect_contains "slow discovery: plain shown" "$st" "PLAIN DNS to 127.0.0.79:53"
	ms=$(ds_stop_ms p)
	check "SIGTERM while a walk hangs: gone in $ms ms (under $STOP_MS)" test "$ms" -lt "$STOP_MS"
	rm -rf "$T_DIR/p"
	ds_start p --listen $L:53 --network-resolver 127.0.0.79 --unknown-network strict \
		--discovery-wait 1000 || return 1
	out=$($DIG www.test A)
	expect_contains "slow discovery, strict: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "slow discovery, strict: EDE 14 Not Ready" "$out" "EDE: 14"
}

# ---------------------- other publishers' unique names: DoT all the same
# A unique name in another form than 12 base32hex + .zz (PROTOCOL.md: any
# host name outside the special-use names) is discovered, authenticated by
# DANE, pinned and used; strict, so no answer could come in plain DNS.  After
# a restart the stored name is used at once (the store keeps any name).
# other_name ADDR NAME DIR
other_name() {
	local a=$1 n=$2 out st
	prov_up "$PROV_TMP/$3" "$a" --name "$n" || return 1
	ds_start a --listen $L:53 --network-resolver "$a" --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "$n: answer over discovered DoT" "$out" "192.0.2.10"
	st=$(status_of a)
	expect_contains "$n: upstream is the unique name" "$st" "upstream:   $n (from discovery)"
	expect_contains "$n: DANE authenticated" "$st" "auth:     DANE, TLSA 3 1 1"
	check "$n: pinned after the handshake" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -qF '$n'"
	ds_stop a
	ds_start a --listen $L:53 --network-resolver "$a" --unknown-network strict "${WAIT[@]}" || return 1
	out=$($DIG www.example.test AAAA +short)
	expect_eq "$n: answer after a restart" "$out" "2001:db8::10"
	st=$(status_of a)
	expect_contains "$n: restart: known network, the stored name" "$st" "upstream:   $n"
	expect_contains "$n: restart: known network" "$st" "known network"
}
s_name_base32() { other_name 127.0.0.160 k3xq7mfa2vnw.zz base32; }
s_name_long_label() { other_name 127.0.0.161 office-resolver-1.zz long-label; }
s_name_own_domain() { other_name 127.0.0.162 dot.example.com own-domain; }
# the longest N whose KEY owner N.resolver-name.arpa. fits in 255 octets
s_name_longest() {
	local l63
	l63=$(printf 'a%.0s' $(seq 1 63))
	other_name 127.0.0.163 "$l63.$l63.$l63.$(printf 'b%.0s' $(seq 1 39)).zz" longest
}

# ------------------------------------------------------------- store safety
s_corrupt_store() {
	local out
	up_r1 || return 1
	mkdir -p "$T_DIR/c/state"
	printf 'dotstub-trust 1\nanchor garbage\n\x01\x02' >"$T_DIR/c/state/anchors"
	ds_start c --listen $L:53 --network-resolver 127.0.0.81 "${WAIT[@]}" || return 1
	out=$($DIG www.example.test A +short)
	expect_eq "corrupt store: the daemon still serves" "$out" "192.0.2.10"
	expect_contains "corrupt store: reported loudly" "$(ds_log c)" "corrupt"
	check "corrupt store: moved aside, not deleted" sh -c "ls '$T_DIR/c/state/' | grep -q 'anchors.corrupt-'"
}

scenario first-use s_first_use teardown
scenario restart s_restart teardown
scenario changed-key s_changed_key teardown
scenario rekeyed s_rekeyed teardown
scenario shared-anchor s_shared_anchor teardown
scenario variant-ca s_variant_ca teardown
scenario variant-ed25519 s_variant_ed25519 teardown
scenario forwarder s_forwarder teardown
scenario expired-signatures s_expired teardown
scenario server-type-mismatch s_mismatch teardown
scenario ns-changed s_ns_changed teardown
scenario other-certificate s_other_cert teardown
scenario dot-closed s_dot_closed teardown
scenario dot-closed-unknown s_dot_closed_unknown teardown
scenario transparent s_transparent teardown
scenario transparent-unreachable s_transparent_unreachable teardown
scenario tofu-ask s_tofu_ask teardown
scenario tofu-off s_tofu_off teardown
scenario publishes-nothing s_publishes_nothing teardown
scenario slow-discovery s_slow_discovery teardown
scenario corrupt-store s_corrupt_store teardown
scenario name-base32 s_name_base32 teardown
scenario name-long-label s_name_long_label teardown
scenario name-own-domain s_name_own_domain teardown
scenario name-longest s_name_longest teardown
finish
