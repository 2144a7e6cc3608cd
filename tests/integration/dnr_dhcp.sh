#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# DNR (RFC 9463) from a real DHCP server through a real DHCP client: the
# "gateway" namespace runs dnsmasq as DHCP server, handing out an address,
# a router, its resolver and OPTION_V4_DNR (162), and Unbound, a plain
# resolver on 10.77.0.1 that publishes neither resolver-name.arpa nor DDR,
# which also serves DoT on 192.0.2.53 with a certificate for the ADN from a
# test CA.  The laptop (this namespace) runs dotstubd and dhclient with
# dhclient-script, the dotstub enter hook and the dhclient.conf lines of
# packaging/dhclient/, in a mount namespace of their own where
# /etc/resolv.conf and the hook directories are scratch copies.
#   lease: the hook hands the option to dotstubd (dotctl link IFACE
#   dnr-option dhcp4 $new_v4_dnr): the link's resolver is the ADN over DoT,
#   authenticated by its certificate (DNR, PKIX; ca-file), its key pinned
#   with source dnr; a capture on the laptop's veth sees the DHCP exchange,
#   the discovery in plain DNS, then after the decision DoT only: no DNS to
#   port 53, no query name in clear text.  The time from the lease to the
#   first authenticated answer is printed.  The same option in plain hex
#   changes nothing; an empty one (a lease without it) leaves the link no
#   designation: SERVFAIL, never plain DNS, as the designated resolver's
#   key is pinned for this network.
#   malformed: the option's ADN Length runs past its instance: dotstubd
#   refuses it (dotctl's error, a log line with the reason), both its
#   processes live on, and the link gets what the policy gives a network
#   that designates nothing (unknown-network opportunistic: plain DNS,
#   shown so); no DoT at all on the veth.
#   lease6: the same over DHCPv6: dnsmasq hands out an address, its
#   resolver (fd77::1) and OPTION_V6_DNR (144, asked for in the ORO by the
#   dhclient.conf lines) naming the ADN at fd77::53, where Unbound serves
#   DoT; dhclient -6 runs the hook, which hands the option over (dotctl
#   link IFACE dnr-option dhcp6 $new_dhcp6_v6_dnr): the link goes to DoT
#   authenticated by the certificate (DNR, PKIX), its key pinned with
#   source dnr, and after the decision the capture sees DoT only.  The
#   laptop's IPv6 addresses are added without DAD; its default route, which
#   a router advertisement would give, is set by the test.
#   adn-only: the DHCPv4 option's one instance names only the ADN (RFC 9463
#   3.1.6); dotstubd asks the network's resolver for _dns.ADN SVCB (RFC
#   9462 5), which Unbound answers from local-data (alpn=dot, no hints),
#   then for the TargetName's addresses: the link ends on DoT to that
#   address, authenticated by the ADN's certificate (DNR, PKIX); after the
#   decision, DoT only on the wire.
#   adn-ll: the same, the SVCB record's only address an ipv6hint, the
#   gateway's link-local address: the link ends on DoT to it, scoped to the
#   veth the option came in on.
#   adn-none: the same with an ADN the resolver does not know (NXDOMAIN):
#   the link gets what the policy gives a network that designates nothing
#   (plain DNS, shown so), and the log and dotctl status say why.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
trap 'ds_stop_all; cap_stop_all; teardown; rm -rf "$T_DIR"' EXIT

for p in dhclient dnsmasq unbound tcpdump; do
	command -v "$p" >/dev/null || { echo "$p is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x /sbin/dhclient-script ] || { echo "no /sbin/dhclient-script (isc-dhcp-client)"; exit 1; }

L=127.0.0.53
DIG="dig @$L +time=5 +tries=1"
ADN=dns.example.test
GW=10.77.0.1          # the gateway: DHCP server, router, plain resolver
DOT=192.0.2.53        # the DNR address: the DoT server
GW6=fd77::1           # the gateway's resolver over IPv6
DOT6=fd77::53         # the DNR address over DHCPv6
LL6=fe80::1           # the gateway's link-local address (its router)
VETH=${NS_P}c
GVETH=${NS_P}g
WAIT=(--discovery-wait 10000)
ip -n "$NS_GW" addr add $DOT/32 dev "$GVETH" || exit 1
# the laptop has only what the lease gives it
ip addr flush dev "$VETH"
ip route flush dev "$VETH"
ip -6 route flush dev "$VETH"

# dnr_hex VALID|TRUNCATED|V6|ADN-ONLY=NAME: the data of an OPTION_V4_DNR (RFC 9463 5.1)
# with one instance, colon-separated as dnsmasq takes it: priority 1, the
# ADN, the address $DOT, alpn=dot; TRUNCATED's ADN Length says 18 octets
# where its instance holds 10.  V6: the option-data of an OPTION_V6_DNR
# (RFC 9463 4.1): priority 1, the ADN, the address $DOT6, alpn=dot.
# ADN-ONLY=NAME: an OPTION_V4_DNR whose one instance is priority 1 and the
# ADN NAME, nothing else (ADN-only mode, RFC 9463 3.1.6).
dnr_hex() {
	python3 - "$1" "$ADN" "$DOT" "$DOT6" <<'EOF'
import ipaddress, sys
kind, adn, addr, addr6 = sys.argv[1:]
name = b"".join(bytes([len(l)]) + l.encode() for l in adn.split(".")) + b"\0"
if kind == "v6":
    alpn = bytes([0, 1, 0, 4, 3]) + b"dot"
    a6 = ipaddress.IPv6Address(addr6).packed
    opt = bytes([0, 1]) + len(name).to_bytes(2, "big") + name + \
        len(a6).to_bytes(2, "big") + a6 + alpn
    print(":".join("%02x" % b for b in opt))
    sys.exit(0)
if kind.startswith("adn-only="):
    name = b"".join(bytes([len(l)]) + l.encode() for l in kind[9:].split(".")) + b"\0"
    inst = bytes([0, 1, len(name)]) + name
    opt = len(inst).to_bytes(2, "big") + inst
    print(":".join("%02x" % b for b in opt))
    sys.exit(0)
if kind == "valid":
    alpn = bytes([0, 1, 0, 4, 3]) + b"dot"
    inst = bytes([0, 1, len(name)]) + name + bytes([4]) + bytes(map(int, addr.split("."))) + alpn
else:
    inst = bytes([0, 1, len(name)]) + name[:10]
opt = len(inst).to_bytes(2, "big") + inst
print(":".join("%02x" % b for b in opt))
EOF
}

# gw_start LABEL HEX [HEX6]: Unbound (plain DNS on $GW, DoT on $DOT) and
# dnsmasq (DHCP only, option 162 = HEX) in the gateway namespace; with
# HEX6, Unbound on $GW6 and $DOT6 too and dnsmasq a DHCPv6 server as well,
# handing out option 144 = HEX6 to the clients that ask for it.  Unbound's
# _dns.$ADN SVCB has the SvcParams $GW_SVCB (alpn=dot unless set), and
# serves DoT on $GW_DOT_MORE too if set (an Unbound interface: ADDR@PORT).
gw_start() {
	local d=$T_DIR/gw-$1 c=$T_DIR/gw-$1/certs v6=${3:-} ready="DHCP, IP range"
	mkdir -p "$c"
	udot_ca_chain $ADN "$c" || return 1
	udot_gw_start "$d" "$c" "$T_DIR/gw-unbound.pid" \
		"$GW@53 $DOT@853${v6:+ $GW6@53 $DOT6@853}${GW_DOT_MORE:+ $GW_DOT_MORE}" \
		"	local-data: \"_dns.$ADN. 300 IN SVCB 1 $ADN. ${GW_SVCB:-alpn=dot}\"
	local-data: \"$ADN. 300 IN A $DOT\"" || return 1
	cat >"$d/dnsmasq.conf" <<EOF
port=0
interface=$GVETH
bind-interfaces
dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h
dhcp-option=option:router,$GW
dhcp-option=option:dns-server,$GW
${2:+dhcp-option-force=162,$2}
dhcp-leasefile=$d/dnsmasq.leases
no-ping
EOF
	if [ -n "$v6" ]; then
		ready="DHCPv6, IP range"
		cat >>"$d/dnsmasq.conf" <<EOF
dhcp-range=fd77::100,fd77::1ff,64,1h
dhcp-option=option6:dns-server,[$GW6]
dhcp-option=option6:144,$v6
EOF
	fi
	ip netns exec "$NS_GW" dnsmasq --keep-in-foreground --conf-file="$d/dnsmasq.conf" \
		--user=root --pid-file="$d/dnsmasq.pid" --log-dhcp \
		--log-facility="$d/dnsmasq.log" &
	echo $! >"$T_DIR/gw-dnsmasq.pid"
	if ! wait_for 5 grep -q "$ready" "$d/dnsmasq.log"; then
		echo "dnsmasq did not start:"
		cat "$d/dnsmasq.log" 2>/dev/null
		return 1
	fi
}

# dhc_start NAME [-4|-6]: dhclient (DHCPv4 unless -6) on the veth for daemon NAME, with
# /sbin/dhclient-script, packaging/dhclient/dhclient-dotstub.conf and the
# hook, in a mount (and UTS) namespace of its own: /etc/resolv.conf, the
# enter and exit hook directories (and /etc/dhcp/dhclient-enter-hooks and
# -exit-hooks if the machine has them) are covered there by scratch copies,
# so neither dhclient-script nor another hook touches the machine's.  The
# enter hooks: 00-test (dotctl for daemon NAME on PATH, the resolv-source
# directory, the time of the lease) and dotstub, the hook itself.
dhc_start() {
	local d=$T_DIR/dhc h=$T_DIR/dhc/enter af=${2:--4}
	mkdir -p "$h" "$d/exit" "$d/bin" "$d/out"
	printf 'nameserver 10.255.255.1\n' >"$d/resolv.conf"
	printf '#!/bin/sh\nexec "%s" -s "%s" "$@"\n' "$DOTCTL" "$T_DIR/$1/control" >"$d/bin/dotctl"
	chmod +x "$d/bin/dotctl"
	cat >"$h/00-test" <<EOF
PATH=$d/bin:\$PATH
DOTSTUB_DHCLIENT_DIR=$d/out
echo "\$reason new_v4_dnr=\${new_v4_dnr:-} new_dhcp6_v6_dnr=\${new_dhcp6_v6_dnr:-}" >>"$d/reasons"
case \$reason in BOUND|BOUND6) date +%s%N >"$d/bound" ;; esac
EOF
	ln -sf "$DOTSTUB_SRC/packaging/dhclient/dotstub" "$h/dotstub"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m -u -- sh -c '
		d=$1; shift
		mount --bind "$d/resolv.conf" /etc/resolv.conf &&
		mount --bind "$d/enter" /etc/dhcp/dhclient-enter-hooks.d &&
		mount --bind "$d/exit" /etc/dhcp/dhclient-exit-hooks.d || exit 1
		for f in /etc/dhcp/dhclient-enter-hooks /etc/dhcp/dhclient-exit-hooks; do
			[ ! -e "$f" ] || mount --bind /dev/null "$f" || exit 1
		done
		exec dhclient "$@"' sh "$d" \
		"$af" -d -v -sf /sbin/dhclient-script -cf "$DOTSTUB_SRC/packaging/dhclient/dhclient-dotstub.conf" \
		-lf "$d/leases" -pf "$d/dhclient.pid" "$VETH" >>"$d/log" 2>&1 &
	echo $! >"$T_DIR/dhclient.pid"
}

dhc_bound() { [ -s "$T_DIR/dhc/bound" ]; }

stop_pidfile() {
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	pid_stop "$p"
}

# the daemons are stopped by then; the next scenario starts from scratch
teardown() {
	stop_pidfile "$T_DIR/dhclient.pid"
	stop_pidfile "$T_DIR/gw-dnsmasq.pid"
	stop_pidfile "$T_DIR/gw-unbound.pid"
	ip addr flush dev "$VETH" 2>/dev/null
	ip route flush dev "$VETH" 2>/dev/null
	ip -6 route flush dev "$VETH" 2>/dev/null
	ip -n "$NS_GW" addr del $DOT6/128 dev "$GVETH" 2>/dev/null
	ip -n "$NS_GW" addr del $LL6/64 dev "$GVETH" 2>/dev/null
	rm -rf "$T_DIR/a" "$T_DIR/dhc" "$T_DIR"/gw-*
}

status_of() { ds_ctl "$1" status 2>&1; }

# dnr_first_answer LABEL: the network decides with the DNR designation and
# the first query is answered over it; T_ANSWER: when (ns)
dnr_first_answer() {
	local out
	check "$1: the network decides with the DNR designation" wait_for 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'DNR, verified by its certificate (PKIX)'"
	out=$($DIG www.example.test A +short)
	T_ANSWER=$(date +%s%N)
	expect_eq "$1: the first authenticated answer" "$out" "192.0.2.80"
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# ------------------------------------------------------------- a valid lease
s_lease() {
	local out st t0 t1 hex ifindex ms
	ifindex=$(cat "/sys/class/net/$VETH/ifindex")
	hex=$(dnr_hex valid) || return 1
	gw_start lease "$hex" || return 1
	mkdir -p "$T_DIR/dhc/out"
	ds_start a --listen $L:53 --resolv-source "$T_DIR/dhc/out/resolv.conf" \
		--ca-file "$T_DIR/gw-lease/certs/$ADN.ca.pem" --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	cap_start lease "$VETH" || return 1
	t0=$(date +%s%N)
	dhc_start a
	check "lease: dhclient got a lease (the hook ran for BOUND)" wait_for 20 dhc_bound
	check "lease: the lease carried the option (new_v4_dnr)" \
		grep -q "^BOUND new_v4_dnr=0:22:0:1:12:" "$T_DIR/dhc/reasons"
	dnr_first_answer lease
	t1=$T_ANSWER
	cap_stop lease $GW
	cap_expect_seen "lease: the capture saw the DHCP exchange" lease "udp port 67"
	cap_expect_seen "lease: the capture saw the discovery in plain DNS (port 53)" lease \
		"dst host $GW and dst port 53"
	cap_expect_seen "lease: the capture saw DoT to the DNR address" lease \
		"dst host $DOT and tcp dst port 853"

	st=$(status_of a)
	expect_contains "lease: status: the ADN is the upstream" "$st" "upstream:   $ADN"
	expect_contains "lease: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "lease: status: the link's transport" "$st" \
		"DoT to $ADN ($DOT:853), authenticated by its certificate (PKIX)"
	expect_contains "lease: status: why (DNR)" "$st" "DNR, verified by its certificate (PKIX)"
	expect_contains "lease: the log says the option came from DHCP" "$(ds_log a)" \
		"link $VETH ($ifindex): DHCPv4 DNR option: 1 DNR designation(s)"
	expect_contains "lease: the log says DNR verified it" "$(ds_log a)" \
		"DDR: $ADN verified (DNR): its certificate is valid for $ADN"
	check "lease: its key is pinned with source dnr" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*dnr'"

	# after the decision: DoT only on the wire
	cap_start after "$VETH" || return 1
	out=$($DIG secret-name.example.test A +short)
	expect_eq "lease: after: a second name" "$out" "192.0.2.81"
	out=$(ds_ctl a query asked.example.test)
	expect_contains "lease: after: dotctl query says DoT to the ADN, PKIX" "$out" \
		"answered by: DoT to $ADN ($DOT:853, certificate verified (PKIX))"
	cap_stop after $GW
	cap_expect_seen "lease: after: the capture saw DoT (port 853)" after "tcp dst port 853"
	cap_expect_none "lease: after: no DNS to port 53" after "port 53"
	cap_expect_absent "lease: after: no query name in clear text" after "secret-name"
	cap_expect_absent "lease: after: ... nor the other" after "asked"
	ms=$(sed -n 's/.*first answer over the new upstream \([0-9.]*\) ms after the network change.*/\1/p' \
		"$T_DIR/a/log" | head -1)
	echo "# timing: DNR from DHCP: first authenticated answer $(((t1 - $(cat "$T_DIR/dhc/bound")) / 1000000)) ms" \
		"after the lease (dhclient start to the answer: $(((t1 - t0) / 1000000)) ms; the daemon's" \
		"own measure: ${ms:-?} ms after the network change)"

	# the same option in plain hex is the same designation: nothing to do
	out=$(ds_ctl a link "$VETH" dnr-option dhcp4 "$(printf '%s' "$hex" | tr -d :)" 2>&1)
	expect_contains "lease: the option in plain hex: the same designation" "$out" \
		"DHCPv4 DNR option: 1 DNR designation(s) (no change)"
	# dual stack: a DHCPv6 lease without the option takes nothing away
	# from what DHCPv4 designated (each source keeps its own)
	out=$(ds_ctl a link "$VETH" dnr-option dhcp6 "" 2>&1)
	expect_contains "lease: DHCPv6 without the option: nothing of its own, no change" "$out" \
		"DHCPv6 DNR option: 0 DNR designation(s) (no change)"
	out=$(ds_ctl a query dual.example.test)
	expect_contains "lease: ... DHCPv4's designation is still in force" "$out" \
		"answered by: DoT to $ADN ($DOT:853, certificate verified (PKIX))"
	# a lease without the option: the link has no DNR designation left
	out=$(ds_ctl a link "$VETH" dnr-option dhcp4 "" 2>&1)
	expect_contains "lease: an empty option leaves the link none" "$out" \
		"DHCPv4 DNR option: 0 DNR designation(s)"
	# its designated resolver's key is pinned for this network: without a
	# designation it gets no DNS, never plain DNS (as a known network)
	check "lease: without it, the network decides again" ds_wait_log a \
		"link $VETH ($ifindex, default): no DNS (" 0 15
	expect_contains "lease: the log says the pin is why, not the mode" "$(ds_log a)" \
		"whose key is pinned for this network is no longer designated"
	out=$($DIG www.example.test A)
	expect_contains "lease: without it: SERVFAIL" "$out" "status: SERVFAIL"
	expect_not_contains "lease: without it: never plain DNS" "$(status_of a)" "PLAIN DNS"
}

# ------------------------------------------------------------- a malformed option
s_malformed() {
	local out st hex pid netpid
	hex=$(dnr_hex truncated) || return 1
	gw_start bad "$hex" || return 1
	mkdir -p "$T_DIR/dhc/out"
	ds_start a --listen $L:53 --resolv-source "$T_DIR/dhc/out/resolv.conf" \
		--ca-file "$T_DIR/gw-bad/certs/$ADN.ca.pem" --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	pid=$(ds_pid a)
	netpid=$(ds_netpid a)
	cap_start bad "$VETH" || return 1
	dhc_start a
	check "malformed: dhclient got a lease (the hook ran for BOUND)" wait_for 20 dhc_bound
	check "malformed: the lease carried the option" \
		grep -q "^BOUND new_v4_dnr=0:d:0:1:12:" "$T_DIR/dhc/reasons"
	check "malformed: dotstubd refused it, saying why" ds_wait_log a \
		"DHCPv4 DNR option rejected: instance 1: ADN Length 18 runs past the end (10 octets left)" 0 10
	check "malformed: the hook's dotctl got the error" \
		grep -q "dotctl: error: DHCPv4 DNR option: instance 1: ADN Length 18 runs past the end" \
		"$T_DIR/dhc/log"
	check "malformed: the network decided" wait_for 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'PLAIN DNS to $GW'"
	out=$($DIG www.example.test A +short)
	expect_eq "malformed: answered in plain DNS (unknown-network opportunistic)" "$out" "192.0.2.80"
	st=$(status_of a)
	expect_contains "malformed: status says plain DNS" "$st" "PLAIN DNS to $GW"
	expect_not_contains "malformed: status: no DNR" "$st" "DNR, verified"
	check "malformed: the store process lives on" pid_alive "$pid"
	check "malformed: the network process lives on" pid_alive "$netpid"
	cap_stop bad $GW
	cap_expect_seen "malformed: the capture saw the plain DNS" bad "dst host $GW and dst port 53"
	cap_expect_none "malformed: no DoT to anything" bad "tcp port 853"
	expect_not_contains "malformed: the log never tries a DoT designation" "$(ds_log a)" \
		"DoT designation(s)"
}

# ------------------------------------------------------------- over DHCPv6
# v6_setup: what the laptop has before dhclient -6 runs: a link-local
# address, and the default route via the gateway's link-local address
# (what a router advertisement would give); no DAD on either side
v6_setup() {
	sysctl -qw "net.ipv6.conf.$VETH.accept_dad=0" || return 1
	ip netns exec "$NS_GW" sysctl -qw "net.ipv6.conf.$GVETH.accept_dad=0" || return 1
	ip -n "$NS_GW" addr add $LL6/64 dev "$GVETH" nodad || return 1
	ip -n "$NS_GW" addr add $DOT6/128 dev "$GVETH" nodad || return 1
	ip addr add fe80::10/64 dev "$VETH" nodad || return 1
	ip -6 route add default via $LL6 dev "$VETH" || return 1
}

s_lease6() {
	local out st t0 t1 hex ifindex
	ifindex=$(cat "/sys/class/net/$VETH/ifindex")
	hex=$(dnr_hex v6) || return 1
	v6_setup || return 1
	gw_start lease6 "" "$hex" || return 1
	mkdir -p "$T_DIR/dhc/out"
	ds_start a --listen $L:53 --resolv-source "$T_DIR/dhc/out/resolv.conf" \
		--ca-file "$T_DIR/gw-lease6/certs/$ADN.ca.pem" --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	cap_start lease6 "$VETH" || return 1
	t0=$(date +%s%N)
	dhc_start a -6
	check "lease6: dhclient -6 got a lease (the hook ran for BOUND6)" wait_for 20 dhc_bound
	check "lease6: the lease carried the option (new_dhcp6_v6_dnr)" \
		grep -q "^BOUND6 .*new_dhcp6_v6_dnr=0:1:0:12:" "$T_DIR/dhc/reasons"
	check "lease6: the hook wrote the DHCPv6 resolver for dotstubd" wait_for 10 \
		grep -q "^nameserver $GW6\$" "$T_DIR/dhc/out/resolv.conf"
	dnr_first_answer lease6
	t1=$T_ANSWER
	cap_stop lease6 $GW6
	cap_expect_seen "lease6: the capture saw the DHCPv6 exchange" lease6 "udp port 547"
	cap_expect_seen "lease6: the capture saw DoT to the DNR address" lease6 \
		"dst host $DOT6 and tcp dst port 853"

	st=$(status_of a)
	expect_contains "lease6: status: the ADN is the upstream" "$st" "upstream:   $ADN"
	expect_contains "lease6: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "lease6: status: the link's transport, to the DNR address" "$st" \
		"DoT to $ADN ([$DOT6]:853), authenticated by its certificate (PKIX)"
	expect_contains "lease6: the log says the option came from DHCPv6" "$(ds_log a)" \
		"link $VETH ($ifindex): DHCPv6 DNR option: 1 DNR designation(s)"
	expect_contains "lease6: the log says DNR verified it" "$(ds_log a)" \
		"DDR: $ADN verified (DNR): its certificate is valid for $ADN"
	check "lease6: its key is pinned with source dnr" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*dnr'"

	# after the decision: DoT only on the wire
	cap_start after6 "$VETH" || return 1
	out=$($DIG secret-name.example.test A +short)
	expect_eq "lease6: after: a second name" "$out" "192.0.2.81"
	cap_stop after6 $GW6
	cap_expect_seen "lease6: after: the capture saw DoT (port 853)" after6 \
		"dst host $DOT6 and tcp dst port 853"
	cap_expect_none "lease6: after: no DNS to port 53" after6 "port 53"
	cap_expect_absent "lease6: after: no query name in clear text" after6 "secret-name"
	echo "# timing: DNR from DHCPv6: first authenticated answer $(((t1 - $(cat "$T_DIR/dhc/bound")) / 1000000)) ms" \
		"after the lease (dhclient -6 start to the answer: $(((t1 - t0) / 1000000)) ms)"
}

# ------------------------------------------------------------- ADN-only
# adn_run LABEL NAME: a DHCPv4 lease whose option names only NAME; the
# daemon "a" runs, the hook has handed the option over
adn_run() {
	local hex
	hex=$(dnr_hex "adn-only=$2") || return 1
	gw_start "$1" "$hex" || return 1
	mkdir -p "$T_DIR/dhc/out"
	ds_start a --listen $L:53 --resolv-source "$T_DIR/dhc/out/resolv.conf" \
		--ca-file "$T_DIR/gw-$1/certs/$ADN.ca.pem" --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	cap_start "$1" "$VETH" || return 1
	dhc_start a
	check "$1: dhclient got a lease (the hook ran for BOUND)" wait_for 20 dhc_bound
	check "$1: the lease carried the ADN-only option" \
		grep -q "^BOUND new_v4_dnr=0:$(printf '%x' $((${#2} + 5))):0:1:" "$T_DIR/dhc/reasons"
}

s_adn_only() {
	local out st ifindex
	ifindex=$(cat "/sys/class/net/$VETH/ifindex")
	adn_run adn-only $ADN || return 1
	check "adn-only: dotstubd kept the ADN-only designation" ds_wait_log a \
		"link $VETH ($ifindex): DHCPv4 DNR option: 1 DNR designation(s)" 0 10
	dnr_first_answer adn-only
	cap_stop adn-only $GW
	cap_expect_seen "adn-only: the capture saw _dns.ADN SVCB asked in plain DNS" adn-only \
		"dst host $GW and dst port 53"
	cap_expect_seen "adn-only: the capture saw DoT to the resolved address" adn-only \
		"dst host $DOT and tcp dst port 853"
	expect_contains "adn-only: the log says the ADN was resolved" "$(ds_log a)" \
		"DNR: $ADN (ADN only) resolved through $GW: _dns.$ADN. SVCB 1 $ADN. alpn=\"dot\": $DOT:853"
	expect_contains "adn-only: the log says DNR verified it" "$(ds_log a)" \
		"DDR: $ADN verified (DNR): its certificate is valid for $ADN"
	st=$(status_of a)
	expect_contains "adn-only: status: the link's transport" "$st" \
		"DoT to $ADN ($DOT:853), authenticated by its certificate (PKIX)"
	check "adn-only: its key is pinned with source dnr" wait_for 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*dnr'"
	cap_start adn-after "$VETH" || return 1
	out=$($DIG secret-name.example.test A +short)
	expect_eq "adn-only: after: a second name" "$out" "192.0.2.81"
	cap_stop adn-after $GW
	cap_expect_seen "adn-only: after: DoT (port 853)" adn-after "tcp dst port 853"
	cap_expect_none "adn-only: after: no DNS to port 53" adn-after "port 53"
	cap_expect_absent "adn-only: after: no query name in clear text" adn-after "secret-name"
}

# ADN-only resolved to the gateway's link-local address: _dns.ADN SVCB
# carries only ipv6hint=fe80::1, where Unbound serves DoT; the address is
# reachable through the link the designation came from, and gets it as its
# scope
s_adn_ll() {
	local gifindex
	v6_setup || return 1
	gifindex=$(ip netns exec "$NS_GW" cat "/sys/class/net/$GVETH/ifindex") || return 1
	# Unbound takes an interface index as the scope
	GW_SVCB="alpn=dot ipv6hint=$LL6" GW_DOT_MORE="$LL6%$gifindex@853" adn_run adn-ll $ADN ||
		return 1
	dnr_first_answer adn-ll
	cap_stop adn-ll $GW
	cap_expect_seen "adn-ll: the capture saw DoT to the link-local address" adn-ll \
		"dst host $LL6 and tcp dst port 853"
	expect_contains "adn-ll: the log says the ADN was resolved to the hint" "$(ds_log a)" \
		"DNR: $ADN (ADN only) resolved through $GW: _dns.$ADN. SVCB 1 $ADN. alpn=\"dot\" ipv6hint=$LL6: [$LL6]:853"
	expect_contains "adn-ll: status: the address with the link as its scope" "$(status_of a)" \
		"DoT to $ADN ([$LL6%$VETH]:853), authenticated by its certificate (PKIX)"
}

s_adn_none() {
	local out st
	adn_run adn-none nowhere.example.test || return 1
	check "adn-none: the network decided" wait_for 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'PLAIN DNS to $GW'"
	out=$($DIG www.example.test A +short)
	expect_eq "adn-none: answered in plain DNS (unknown-network opportunistic)" "$out" \
		"192.0.2.80"
	cap_stop adn-none $GW
	cap_expect_seen "adn-none: the capture saw the plain DNS" adn-none \
		"dst host $GW and dst port 53"
	cap_expect_none "adn-none: no DoT to anything" adn-none "tcp port 853"
	expect_contains "adn-none: the log says why" "$(ds_log a)" \
		"DNR: nowhere.example.test (ADN only) not resolved through $GW: no SVCB record for _dns.nowhere.example.test. (NXDOMAIN)"
	st=$(status_of a)
	expect_contains "adn-none: status says plain DNS" "$st" "PLAIN DNS to $GW"
	expect_contains "adn-none: status says why" "$st" \
		"nowhere.example.test (ADN only) not resolved"
}

scenario lease s_lease teardown
scenario lease6 s_lease6 teardown
scenario adn-only s_adn_only teardown
scenario adn-ll s_adn_ll teardown
scenario adn-none s_adn_none teardown
scenario malformed s_malformed teardown
finish
