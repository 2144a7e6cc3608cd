#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# access-control: a LAN listener is not an open resolver.  A "router"
# namespace runs dotstubd on its LAN address (10.77.0.1, fd77::1) with a
# real Unbound over DoT on its loopback as the upstream, and has two veth
# links: the LAN (10.77.0.0/24, fd77::/64) to a client namespace, and a
# second link (10.88.0.0/24, fd88::/64) to an "outside" namespace that
# routes to the listener's address through the router.
#   default (no access-control line): the LAN client is answered, the
#   outside client gets REFUSED (question, RA, EDE 18 with EDNS) over UDP
#   and TCP, IPv4 and IPv6; an address added to the LAN interface is
#   allowed once the daemon saw it, and refused again once removed;
#   explicit lines: allow, refuse and deny over UDP and TCP (deny: no
#   answer, a TCP connection closed before any read), the most specific
#   netmask wins whatever the order, loopback stays allowed; the counters
#   in `dotctl status --json` and in the text view.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
NS_P=ac$$
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"

NS_OUT=${NS_P}_out
R=$NS_GW LAN=$NS_CLI
U=127.0.0.65 NAME=k2m4p6r8t0v1.zz

net_down() {
	ip netns pids "$NS_OUT" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS_OUT" 2>/dev/null
	netns_teardown
}
cleanup() { ds_stop_all; udot_cleanup; net_down; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

mkdir -p "$T_DIR/cert"
udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")

# The router ($NS_GW, 10.77.0.1 on the LAN) and the LAN client ($NS_CLI,
# 10.77.0.2) from netns.sh; the outside namespace on a second link:
# 10.88.0.2-4 and fd88::2-4, routed to the LAN through the router.  The
# router's own addresses on that link are not in the LAN's prefix.
net_up() {
	netns_setup || return 1
	ip netns add "$NS_OUT" || return 1
	ip link add "${NS_P}o" type veth peer name "${NS_P}r" netns "$R" || return 1
	ip link set "${NS_P}o" netns "$NS_OUT"
	ip -n "$NS_OUT" link set lo up
	for a in 2 3 4; do
		ip -n "$NS_OUT" addr add 10.88.0.$a/24 dev "${NS_P}o"
		ip -n "$NS_OUT" -6 addr add fd88::$a/64 dev "${NS_P}o" nodad
	done
	ip -n "$R" addr add 10.88.0.1/24 dev "${NS_P}r"
	ip -n "$R" -6 addr add fd88::1/64 dev "${NS_P}r" nodad
	ip -n "$NS_OUT" link set "${NS_P}o" up
	ip -n "$R" link set "${NS_P}r" up
	ip -n "$NS_OUT" route add 10.77.0.0/24 via 10.88.0.1 dev "${NS_P}o"
	ip -n "$NS_OUT" -6 route add fd77::/64 via fd88::1 dev "${NS_P}o"
	ip -n "$R" neigh replace 10.77.0.2 lladdr 02:00:00:00:00:10 dev "${NS_P}g" nud permanent
	# the link-local addresses the kernel adds still run duplicate address
	# detection: until it is done, neighbour discovery on the link (a
	# new client's first TCP answer) can stall past a query's timeout
	wait_for 10 sh -c "[ -z \"\$(ip -n '$NS_OUT' -6 addr show tentative)\" ] && [ -z \"\$(ip -n '$R' -6 addr show tentative)\" ] && [ -z \"\$(ip -n '$NS_CLI' -6 addr show tentative)\" ]" ||
		echo "# IPv6 addresses still tentative after 10 s"
	UDOT_NETNS=$R UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
}
teardown() { udot_stop_all; net_down; rm -rf "${T_DIR:?}"/d[0-9]; }

# router_ds [dotstubd options...]: the daemon in the router, on the LAN
# addresses and on loopback, with the DoT upstream
router_ds() {
	DS_WRAP="ip netns exec $R" ds_start d1 --listen 10.77.0.1:53 --listen "[fd77::1]:53" \
		--listen 127.0.0.53:53 --upstream $NAME@$U --tlsa "$TLSA311" "$@"
}

# q NS ADDR [dig args...]: a query from namespace NS to the listener ADDR
q() {
	local ns=$1 addr=$2
	shift 2
	ip netns exec "$ns" dig -p 53 "@$addr" +time=2 +tries=1 "$@" 2>&1
}
rcode() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1; }

# expect_answer LABEL OUTPUT: the A record of www.test came back
expect_answer() { expect_contains "$1" "$2" "192.0.2.1"; }
# expect_refused LABEL OUTPUT: REFUSED with the question and RA
expect_refused() {
	expect_eq "$1: REFUSED" "$(printf '%s\n' "$2" | rcode)" REFUSED
	expect_contains "$1: the question is echoed" "$2" "QUERY: 1,"
	expect_contains "$1: RA is set" "$(printf '%s\n' "$2" | grep 'flags:')" " ra"
	expect_not_contains "$1: no answer record" "$2" "192.0.2.1"
}
# expect_silence LABEL OUTPUT: no answer at all
expect_silence() {
	expect_not_contains "$1: no answer at all" "$2" "status:"
}
acl() { ds_json d1 "access_control.$1"; }

# ---- default: loopback and the LAN's prefixes are allowed, the outside
# client is refused over UDP and TCP, IPv4 and IPv6
s_default() {
	local out
	net_up || return 1
	router_ds || return 1
	ds_wait_log d1 "access-control" 0 5
	expect_contains "the log says which prefixes are allowed by default" \
		"$(grep -F access-control "$T_DIR/d1/log")" "10.77.0.0/24"
	expect_contains "... with the LAN's IPv6 prefix" \
		"$(grep -F access-control "$T_DIR/d1/log")" "fd77::/64"
	expect_not_contains "... and not the other link's" \
		"$(grep -F access-control "$T_DIR/d1/log")" "10.88.0.0/24"
	out=$(q "$LAN" 10.77.0.1 www.test A)
	expect_answer "LAN client, UDP: answered" "$out"
	out=$(q "$LAN" 10.77.0.1 +tcp www.test A)
	expect_answer "LAN client, TCP: answered" "$out"
	out=$(q "$LAN" fd77::1 www.test A)
	expect_answer "LAN client, IPv6: answered" "$out"
	out=$(ip netns exec "$R" dig -p 53 @127.0.0.53 +time=2 +tries=1 www.test A)
	expect_answer "the router itself on loopback: answered" "$out"

	out=$(q "$NS_OUT" 10.77.0.1 www.test A)
	expect_refused "outside client, UDP" "$out"
	expect_contains "outside client, UDP: EDE 18 (Prohibited)" "$out" "EDE: 18"
	out=$(q "$NS_OUT" 10.77.0.1 +noedns www.test A)
	expect_refused "outside client, UDP without EDNS" "$out"
	expect_not_contains "... and then no OPT record" "$out" "OPT PSEUDOSECTION"
	out=$(q "$NS_OUT" 10.77.0.1 +tcp www.test A)
	expect_refused "outside client, TCP" "$out"
	expect_contains "outside client, TCP: EDE 18" "$out" "EDE: 18"
	out=$(q "$NS_OUT" fd77::1 www.test A)
	expect_refused "outside client, IPv6" "$out"
	expect_eq "refused counted (4)" "$(acl refused)" 4
	expect_eq "nothing denied" "$(acl denied)" 0
	expect_eq "the default applies" "$(acl source)" default
	grep -F access-control "$T_DIR/d1/log" | sed 's/^/# /'
	out=$(ds_ctl d1 status)
	printf '%s\n' "$out" | sed -n 's/^/# /; /access:/,+1p'
	expect_contains "text view: the counters" "$out" "refused 4, denied 0"
	expect_contains "text view: the allowed prefixes" "$out" "10.77.0.0/24 allow"
}

# ---- default, refreshed: an address added to the LAN interface makes its
# prefix allowed, removing it refuses that prefix again
s_default_refresh() {
	local out n
	net_up || return 1
	ip -n "$LAN" addr add 10.99.0.2/24 dev "${NS_P}c"
	ip -n "$R" route add 10.99.0.0/24 dev "${NS_P}g"
	router_ds || return 1
	ds_wait_log d1 "access-control" 0 5
	out=$(q "$LAN" 10.77.0.1 -b 10.99.0.2 www.test A)
	expect_refused "a LAN client from a prefix the router has no address in" "$out"
	n=$(ds_log_count d1 "access-control")
	ip -n "$R" route del 10.99.0.0/24 dev "${NS_P}g"
	ip -n "$R" addr add 10.99.0.1/24 dev "${NS_P}g"
	check "the daemon saw the new address" ds_wait_log d1 "10.99.0.0/24" 0 5
	out=$(q "$LAN" 10.77.0.1 -b 10.99.0.2 www.test A)
	expect_answer "... and now answers that prefix" "$out"
	expect_contains "... which status shows" "$(ds_ctl d1 status --json)" "10.99.0.0/24 allow"
	n=$(ds_log_count d1 "access-control")
	ip -n "$R" addr del 10.99.0.1/24 dev "${NS_P}g"
	ip -n "$R" route add 10.99.0.0/24 dev "${NS_P}g"
	check "the daemon saw the address go" ds_wait_log d1 "access-control" "$n" 5
	out=$(q "$LAN" 10.77.0.1 -b 10.99.0.2 www.test A)
	expect_refused "... and refuses that prefix again" "$out"
}

# ---- explicit lines, IPv4: allow, refuse, deny; the most specific wins
# (a /24 allow inside a /16 deny, hosts refused or denied inside the /24),
# whatever the order of the lines; no default LAN prefix any more
s_explicit_v4() {
	local out d0
	net_up || return 1
	router_ds --access-control "10.88.0.3 refuse" --access-control "10.88.0.0/16 deny" \
		--access-control "10.88.0.0/24 allow" --access-control "10.88.0.4/32 deny" || return 1
	expect_eq "the configured lines apply" "$(acl source)" config
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.2 www.test A)
	expect_answer "10.88.0.2 (/24 allow inside /16 deny), UDP: answered" "$out"
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.2 +tcp www.test A)
	expect_answer "10.88.0.2, TCP: answered" "$out"
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.3 www.test A)
	expect_refused "10.88.0.3 (host refuse), UDP" "$out"
	expect_contains "10.88.0.3, UDP: EDE 18" "$out" "EDE: 18"
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.3 +tcp www.test A)
	expect_refused "10.88.0.3, TCP" "$out"
	d0=$(acl denied)
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.4 www.test A)
	expect_silence "10.88.0.4 (/32 deny), UDP" "$out"
	expect_contains "... it timed out" "$out" "timed out"
	expect_eq "... counted as denied" "$(acl denied)" $((d0 + 1))
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.4 +tcp www.test A)
	expect_silence "10.88.0.4, TCP" "$out"
	expect_eq "... counted as denied" "$(acl denied)" $((d0 + 2))
	out=$(ip netns exec "$NS_OUT" python3 -c '
import socket, sys
s = socket.socket()
s.bind(("10.88.0.4", 0))
s.settimeout(2)
s.connect(("10.77.0.1", 53))
try:
    print("closed" if s.recv(1) == b"" else "data")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("open")' 2>&1)
	expect_eq "10.88.0.4, TCP: closed at accept, before sending anything" "$out" closed
	expect_eq "... counted as denied" "$(acl denied)" $((d0 + 3))
	out=$(q "$NS_OUT" 10.77.0.1 -b 10.88.0.2 +tcp www.test A)
	expect_answer "10.88.0.2 still answered over TCP" "$out"
	out=$(q "$LAN" 10.77.0.1 www.test A)
	expect_refused "the LAN (no line covers it) is refused once lines are given" "$out"
	out=$(ip netns exec "$R" dig -p 53 @127.0.0.53 +time=2 +tries=1 www.test A)
	expect_answer "loopback stays allowed (implicit 127.0.0.0/8 allow)" "$out"
	expect_eq "refused counted (3)" "$(acl refused)" 3
	out=$(ds_ctl d1 status)
	expect_contains "text view: the configured lines" "$out" "10.88.0.4/32 deny"
	expect_contains "text view: the counters" "$out" "refused 3, denied 3"
}

# ---- explicit lines, IPv6
s_explicit_v6() {
	local out
	net_up || return 1
	router_ds --access-control "fd88::/64 allow" --access-control "fd88::3 refuse" \
		--access-control "fd88::4/128 deny" --access-control "fd88::/16 deny" || return 1
	out=$(q "$NS_OUT" fd77::1 -b fd88::2 www.test A)
	expect_answer "fd88::2 (/64 allow inside /16 deny): answered" "$out"
	out=$(q "$NS_OUT" fd77::1 -b fd88::3 +tcp www.test A)
	expect_refused "fd88::3 (host refuse), TCP" "$out"
	out=$(q "$NS_OUT" fd77::1 -b fd88::3 www.test A)
	expect_refused "fd88::3, UDP" "$out"
	out=$(q "$NS_OUT" fd77::1 -b fd88::4 www.test A)
	expect_silence "fd88::4 (/128 deny), UDP" "$out"
	out=$(q "$NS_OUT" fd77::1 -b fd88::4 +tcp www.test A)
	expect_silence "fd88::4, TCP" "$out"
	expect_eq "denied counted (2)" "$(acl denied)" 2
	expect_eq "refused counted (2)" "$(acl refused)" 2
	out=$(q "$LAN" fd77::1 www.test A)
	expect_refused "the LAN (no line covers it) is refused" "$out"
}

# ---- a refusing line for loopback overrides the implicit allow; a wrong
# line is refused at start with a clear message
s_config() {
	local out
	out=$("$DOTSTUBD" -n --access-control "10.0.0.0/33 allow" 2>&1)
	expect_contains "a bad netmask is refused" "$out" "access-control"
	out=$("$DOTSTUBD" -n --access-control "10.0.0.0/8 permit" 2>&1)
	expect_contains "a bad action is refused" "$out" "allow, refuse or deny"
	out=$("$DOTSTUBD" -n -v --access-control "10.1.2.3/8 refuse" --access-control "::1 deny" 2>&1)
	expect_contains "-n -v prints the lines normalised" "$out" "access-control 10.0.0.0/8 refuse"
	expect_contains "... a host as /128" "$out" "access-control ::1/128 deny"
	net_up || return 1
	router_ds --access-control "127.0.0.1 refuse" || return 1
	out=$(ip netns exec "$R" dig -p 53 @127.0.0.53 -b 127.0.0.1 +time=2 +tries=1 www.test A)
	expect_refused "a line for a loopback host overrides the implicit allow" "$out"
}

scenario default s_default teardown
scenario default-refresh s_default_refresh teardown
scenario explicit-v4 s_explicit_v4 teardown
scenario explicit-v6 s_explicit_v6 teardown
scenario config s_config teardown
finish
