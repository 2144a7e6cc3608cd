#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# publish yes: a router publishes resolver-name.arpa as a forwarder.
# Three namespaces: the ISP ($ISP, 10.66.0.1: a real Unbound provisioned
# with `dotctl provision`, serving resolver-name.arpa and DoT), the router
# ($RT, 10.66.0.2 on the WAN, 10.77.0.1 on the LAN: dotstubd with
# serve-dot and publish yes, discovering the ISP's resolver) and a LAN
# client ($CL, 10.77.0.2: dotstubd with the router's anchor as a managed
# anchor, tofu off).
#   via_router: the client discovers the router as a forwarder with a DoT
#   upstream and resolves over DoT to it, which forwards over DoT to the
#   ISP; captures on the LAN and WAN veths see the two discoveries in
#   plain DNS (proving they capture), then, for the queries after them,
#   DoT on both and no DNS on port 53; the router's zones validate with
#   delv under its anchor (`dotctl publish show`), down to its upstream's
#   KEY, TLSA and transport; kdig +tls asks the router's DoT server.
#   prefer_upstream: with prefer-upstream-resolver yes the client goes
#   over DoT straight to the ISP's resolver the router publishes.
#   own_queries: the router's own queries (loopback) still get the ISP's
#   resolver-name.arpa, and the keys stay the same across a restart.
#   wan_change: the WAN hands the router another resolver (its resolv.conf
#   source rewritten, as a DHCP client does): a second ISP resolver under
#   the same anchor (10.66.0.3); the router publishes it at once, signed
#   again: the upstreams PTR names it (validated with delv under the
#   router's anchor), the first one's records are gone, and the router's
#   queries go to the new resolver over DoT.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_require kdig tcpdump

P=pb$$
P=${P:0:7}
ISP=${P}_isp RT=${P}_rt CL=${P}_cl
ISP_IP=10.66.0.1 WAN_IP=10.66.0.2 LAN_IP=10.77.0.1 CL_IP=10.77.0.2 ISP2_IP=10.66.0.3

net_down() {
	local ns
	prov_stop_all
	for ns in "$CL" "$RT" "$ISP"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
cleanup() { ds_stop_all; cap_stop_all; net_down; prov_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
PROV_TMP=$(mktemp -d /tmp/dotstub-prov.XXXXXX)

# The ISP's resolver, provisioned once (files only); it answers the LAN
# too (the client reaches it through the router with
# prefer-upstream-resolver).
ISPD=$PROV_TMP/isp
"$DOTCTL" provision --addr $ISP_IP --out "$ISPD" >/dev/null || { echo "cannot provision"; exit 1; }
PROV_EXTRA_CONF="	access-control: 10.77.0.0/24 allow" prov_write_conf "$ISPD"
ISP_NAME=$(prov_name "$ISPD")
# a second resolver of the same ISP, under the same resolver-name.arpa KSK
ISPD2=$PROV_TMP/isp2
"$DOTCTL" provision --addr $ISP2_IP --out "$ISPD2" --arpa-key "$ISPD/keys/arpa-ksk.private" \
	>/dev/null || { echo "cannot provision the second resolver"; exit 1; }
PROV_EXTRA_CONF="	access-control: 10.77.0.0/24 allow" prov_write_conf "$ISPD2"
ISP2_NAME=$(prov_name "$ISPD2")

# veth NAME_A NS_A ADDR_A NAME_B NS_B ADDR_B (/24 each, up)
veth() {
	ip link add "$1" type veth peer name "$4" || return 1
	ip link set "$1" netns "$2" && ip link set "$4" netns "$5" || return 1
	ip -n "$2" addr add "$3/24" dev "$1" && ip -n "$5" addr add "$6/24" dev "$4" || return 1
	ip -n "$2" link set "$1" up && ip -n "$5" link set "$4" up
}

# The three namespaces, routed (the router forwards), the ISP's Unbound.
net_up() {
	local ns
	net_down
	for ns in "$ISP" "$RT" "$CL"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	veth "${P}i" "$ISP" $ISP_IP "${P}w" "$RT" $WAN_IP || return 1
	veth "${P}l" "$RT" $LAN_IP "${P}c" "$CL" $CL_IP || return 1
	ip -n "$ISP" link set "${P}i" address 02:00:00:00:66:01
	ip -n "$RT" link set "${P}l" address 02:00:00:00:77:01
	ip -n "$RT" route add default via $ISP_IP dev "${P}w"
	ip -n "$RT" neigh replace $ISP_IP lladdr 02:00:00:00:66:01 dev "${P}w" nud permanent
	ip -n "$CL" route add default via $LAN_IP dev "${P}c"
	ip -n "$CL" neigh replace $LAN_IP lladdr 02:00:00:00:77:01 dev "${P}c" nud permanent
	ip -n "$ISP" route add 10.77.0.0/24 via $WAN_IP dev "${P}i"
	ip netns exec "$RT" sysctl -qw net.ipv4.ip_forward=1
	: >"$ISPD/unbound.log"
	ip netns exec "$ISP" unbound -d -c "$ISPD/test-unbound.conf" >>"$ISPD/unbound.log" 2>&1 &
	echo $! >"$ISPD/test-unbound.pid"
	if ! wait_for 5 sh -c "ip netns exec '$ISP' dig @$ISP_IP +time=1 +tries=1 +norec SOA resolver-name.arpa | grep -q NOERROR"; then
		cat "$ISPD/unbound.log"
		return 1
	fi
}
teardown() { net_down; rm -rf "${T_DIR:?}/rt" "${T_DIR:?}/cl" "${T_DIR:?}"/rtz.*; }

# router_up [how the router learns its WAN resolver]: the router's daemon
# (default: --network-resolver, the ISP's first resolver); waits until it
# published the ISP's resolver as its upstream
router_up() {
	[ $# -gt 0 ] || set -- --network-resolver $ISP_IP
	DS_WRAP="ip netns exec $RT" ds_start rt --listen 127.0.0.53:53 --listen $LAN_IP:53 \
		--serve-dot $LAN_IP:853 --publish yes "$@" || return 1
	if ! ds_wait_log rt "publish: upstream $ISP_NAME (dot, with its KEY) published" 0 20; then
		echo "the router did not publish its upstream:"
		tail -20 "$T_DIR/rt/log"
		return 1
	fi
	RT_NAME=$(grep -o 'publish: serving resolver-name.arpa and [^ ]*' "$T_DIR/rt/log" | tail -1)
	RT_NAME=${RT_NAME##* }
}

# client_up [options]: the LAN client with the router's anchor (managed,
# tofu off: only it is trusted); waits for DoT authenticated
client_up() {
	mkdir -p "$T_DIR/cl/anchors.d"
	ds_ctl rt publish show >"$T_DIR/cl/anchors.d/router.key" || return 1
	DS_WRAP="ip netns exec $CL" ds_start cl --listen 127.0.0.53:53 --network-resolver $LAN_IP \
		--tofu off "$@" || return 1
	if ! ds_wait_log cl "DoT authenticated to" 0 20; then
		echo "the client did not reach DoT:"
		tail -20 "$T_DIR/cl/log"
		return 1
	fi
}

# q NS NAME TYPE: dig through the daemon on NS's loopback
q() { ip netns exec "$1" dig @127.0.0.53 +time=3 +tries=1 "$2" "$3" 2>&1; }

s_via_router() {
	local out anchor
	net_up || return 1
	cap_start wan1 "${P}w" "$RT" || return 1
	cap_start lan1 "${P}l" "$RT" || return 1
	router_up || return 1
	anchor=$(ds_ctl rt publish show)
	expect_contains "dotctl publish show prints the resolver-name.arpa KSK" "$anchor" \
		"resolver-name.arpa. 900 IN DNSKEY 257 3 13 "
	expect_contains "... and what is published" "$anchor" "upstream $ISP_NAME"
	client_up || return 1
	cap_stop wan1 $ISP_IP "$RT"
	cap_stop lan1 $CL_IP "$RT"
	# the captures work: they saw both discoveries in plain DNS
	cap_expect_seen "WAN capture: the router's discovery of the ISP in plain DNS" wan1 "udp port 53"
	cap_expect_seen "LAN capture: the client's discovery of the router in plain DNS" lan1 "udp port 53"

	expect_contains "the client sees the router as a forwarder over DoT" \
		"$(ds_log cl)" "resolver $RT_NAME (forwarder) authenticated by resolver-name.arpa"
	expect_contains "... with a DoT upstream, the ISP's resolver" \
		"$(ds_json cl discovery.forwarder_upstreams)" "$ISP_NAME (resolver, dot)"
	expect_contains "... and uses the router's DoT" "$(ds_json cl discovery.upstream)" "$RT_NAME"

	# after the two discoveries: DoT only, on both links
	cap_start wan2 "${P}w" "$RT" || return 1
	cap_start lan2 "${P}l" "$RT" || return 1
	out=$(q "$CL" www.example.test A)
	expect_contains "the client resolves through the router" "$out" "192.0.2.10"
	out=$(q "$CL" txt.example.test TXT)
	expect_contains "... a second name" "$out" "dotstub test"
	cap_stop wan2 $ISP_IP "$RT"
	cap_stop lan2 $CL_IP "$RT"
	cap_expect_seen "LAN: the client's queries over DoT to the router" lan2 "dst host $LAN_IP and tcp dst port 853"
	cap_expect_seen "WAN: the router forwards over DoT to the ISP" wan2 "dst host $ISP_IP and tcp dst port 853"
	cap_expect_none "LAN: no DNS on port 53 after the discoveries" lan2 "port 53"
	cap_expect_none "WAN: no DNS on port 53 after the discoveries" wan2 "port 53"

	# the router's zones validate under its anchor, with delv
	printf '%s\n' "$anchor" >"$T_DIR/rt.anchor"
	prov_anchor "$T_DIR/rt.anchor" >"$T_DIR/rt.delv"
	out=$(ip netns exec "$CL" sh -c ". '$DOTSTUB_SRC/tests/lib/provisioned.sh'; prov_delv $LAN_IP '$T_DIR/rt.delv' resolver-name.arpa NS resolver-name.arpa")
	expect_contains "delv: NS resolver-name.arpa validates under the router's anchor" "$out" "NS	$RT_NAME."
	out=$(ip netns exec "$CL" sh -c ". '$DOTSTUB_SRC/tests/lib/provisioned.sh'; prov_delv $LAN_IP '$T_DIR/rt.delv' resolver-name.arpa KEY $RT_NAME.resolver-name.arpa")
	expect_contains "delv: KEY $RT_NAME.resolver-name.arpa validates" "$out" "KEY	257 3 13"
	printf '%s\n' "$out" | sed "s/^$RT_NAME.resolver-name.arpa./$RT_NAME./" >"$T_DIR/rt-zone.anchor"
	prov_anchor "$T_DIR/rt-zone.anchor" >"$T_DIR/rt-zone.delv"
	zd() { ip netns exec "$CL" sh -c ". '$DOTSTUB_SRC/tests/lib/provisioned.sh'; prov_delv $LAN_IP '$T_DIR/rt-zone.delv' $RT_NAME $1 $2"; }
	expect_contains "delv: server-type is forwarder" "$(zd TXT "server-type.$RT_NAME")" '"forwarder"'
	expect_contains "delv: the upstreams list names the ISP's resolver" "$(zd PTR "upstreams.$RT_NAME")" "PTR	$ISP_NAME."
	expect_contains "delv: the upstream's transport is dot" "$(zd TXT "transport.$ISP_NAME.$RT_NAME")" '"dot"'
	expect_contains "delv: the upstream's TLSA" "$(zd TLSA "_853._tcp.$ISP_NAME.$RT_NAME")" "TLSA 3 1 1"
	expect_contains "delv: the upstream's KEY" "$(zd KEY "$ISP_NAME.$RT_NAME")" "KEY	257 3 13"
	expect_contains "delv: the upstream's address" "$(zd A "$ISP_NAME.$RT_NAME")" "$ISP_IP"
	out=$(ip netns exec "$CL" delv @$LAN_IP -a "$T_DIR/rt-zone.delv" +root="$RT_NAME" TXT "nothing.$RT_NAME" 2>&1)
	expect_contains "delv: a name that does not exist is a validated NXDOMAIN" "$out" "resolution failed: ncache nxdomain"
	expect_not_contains "... not a bogus one" "$out" "broken trust chain"

	# an external DoT client against the router's DoT server
	out=$(ip netns exec "$CL" kdig @$LAN_IP +tls-ca="$T_DIR/rt/state/dot-server.pem" +tls-hostname="$RT_NAME" +time=3 +retry=0 www.example.test A 2>&1)
	expect_contains "kdig +tls: the router's DoT server answers" "$out" "192.0.2.10"
	expect_contains "kdig +tls: TLS 1.3" "$out" "TLS1.3"
}

s_prefer_upstream() {
	local out
	net_up || return 1
	router_up || return 1
	cap_start lan "${P}l" "$RT" || return 1
	client_up --prefer-upstream-resolver yes || return 1
	expect_contains "the client goes straight to the router's upstream" "$(ds_log cl)" \
		"directly to its upstream $ISP_NAME"
	expect_contains "... its DoT is to the ISP's resolver" "$(ds_json cl discovery.upstream)" "$ISP_NAME"
	out=$(q "$CL" www.example.test A)
	expect_contains "the client resolves" "$out" "192.0.2.10"
	cap_stop lan $CL_IP "$RT"
	cap_expect_seen "LAN: DoT to the ISP's address, through the router" lan "dst host $ISP_IP and tcp dst port 853"
	cap_expect_none "LAN: no DoT to the router itself" lan "dst host $LAN_IP and tcp dst port 853"
}

s_own_queries() {
	local out before
	net_up || return 1
	router_up || return 1
	out=$(ip netns exec "$RT" dig @127.0.0.53 +time=3 +tries=1 NS resolver-name.arpa)
	expect_contains "the router's own query gets its upstream's resolver-name.arpa" "$out" "$ISP_NAME."
	out=$(ip netns exec "$RT" dig @$LAN_IP +time=3 +tries=1 -b $LAN_IP NS resolver-name.arpa)
	expect_contains "... also from its own LAN address" "$out" "$ISP_NAME."
	before=$(ds_ctl rt publish show | grep DNSKEY)
	ds_stop rt
	router_up || return 1
	expect_eq "the keys are kept across a restart" "$(ds_ctl rt publish show | grep DNSKEY)" "$before"
	expect_eq "the keys are made once" "$(grep -c 'publish: generated new keys' "$T_DIR/rt/log")" 1
}

# isp2_up: the second resolver on the ISP's link
isp2_up() {
	ip -n "$ISP" addr add $ISP2_IP/24 dev "${P}i" || return 1
	ip -n "$RT" neigh replace $ISP2_IP lladdr 02:00:00:00:66:01 dev "${P}w" nud permanent
	: >"$ISPD2/unbound.log"
	ip netns exec "$ISP" unbound -d -c "$ISPD2/test-unbound.conf" >>"$ISPD2/unbound.log" 2>&1 &
	echo $! >"$ISPD2/test-unbound.pid"
	wait_for 5 sh -c "ip netns exec '$ISP' dig @$ISP2_IP +time=1 +tries=1 +norec SOA resolver-name.arpa | grep -q NOERROR" || {
		cat "$ISPD2/unbound.log"
		return 1
	}
}

s_wan_change() {
	local wan=$T_DIR/wan-resolv.conf out
	net_up || return 1
	isp2_up || return 1
	printf 'nameserver %s\n' $ISP_IP >"$wan"
	router_up --resolv-source "$wan" || return 1
	expect_contains "wan change: first the ISP's first resolver is published" \
		"$(rt_zone PTR "upstreams.$RT_NAME")" "PTR	$ISP_NAME."
	# the WAN's DHCP client writes the new resolver, with a rename
	printf 'nameserver %s\n' $ISP2_IP >"$wan.new" && mv "$wan.new" "$wan"
	check "wan change: the router publishes the new resolver" \
		ds_wait_log rt "publish: upstream $ISP2_NAME (dot, with its KEY) published" 0 20
	expect_contains "wan change: the upstreams PTR names it, validated under the router's anchor" \
		"$(rt_zone PTR "upstreams.$RT_NAME")" "PTR	$ISP2_NAME."
	expect_contains "wan change: its KEY, validated" "$(rt_zone KEY "$ISP2_NAME.$RT_NAME")" "KEY	257 3 13"
	expect_contains "wan change: its address, validated" "$(rt_zone A "$ISP2_NAME.$RT_NAME")" "$ISP2_IP"
	out=$(ip netns exec "$CL" dig @$LAN_IP +time=3 +tries=1 KEY "$ISP_NAME.$RT_NAME" 2>&1)
	expect_contains "wan change: the first resolver's records are gone" "$out" "status: NXDOMAIN"
	out=$(q "$RT" www.example.test A)
	expect_contains "wan change: the router resolves" "$out" "192.0.2.10"
	expect_contains "wan change: ... over DoT to the new resolver" "$(ds_json rt discovery.upstream)" "$ISP2_NAME"
}

# rt_zone TYPE NAME: delv at the router's LAN address, under the anchors of
# the router's two zones (taken from `dotctl publish show` and its KEY)
rt_zone() {
	local d=$T_DIR/rtz out
	if [ ! -f "$d.delv" ]; then
		ds_ctl rt publish show >"$d.arpa.anchor" || return 1
		prov_anchor "$d.arpa.anchor" >"$d.arpa.delv"
		out=$(ip netns exec "$CL" sh -c ". '$DOTSTUB_SRC/tests/lib/provisioned.sh'; prov_delv $LAN_IP '$d.arpa.delv' resolver-name.arpa KEY $RT_NAME.resolver-name.arpa")
		printf '%s\n' "$out" | sed "s/^$RT_NAME.resolver-name.arpa./$RT_NAME./" >"$d.anchor"
		prov_anchor "$d.anchor" >"$d.delv"
	fi
	ip netns exec "$CL" sh -c ". '$DOTSTUB_SRC/tests/lib/provisioned.sh'; prov_delv $LAN_IP '$d.delv' $RT_NAME $1 $2"
}

scenario via_router s_via_router teardown
scenario prefer_upstream s_prefer_upstream teardown
scenario own_queries s_own_queries teardown
scenario wan_change s_wan_change teardown
finish
