#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The org.freedesktop.resolve1 D-Bus API: a private dbus-daemon started
# here (Debian's system-bus policy in its minimal form plus the policy file
# dotstub ships), dotstubd with "resolve1 yes" and DBUS_SYSTEM_BUS_ADDRESS
# pointing at it, the real busctl, gdbus and resolvectl (Debian's, unpacked
# by scripts/fetch-resolvectl.sh, never installed) talking to it, and a
# resolver provisioned with `dotctl provision` served by a real Unbound in
# the gateway namespace at 10.77.0.1 (DoT with DANE).  Runs inside a
# network namespace (tests/lib/netns.sh).
#   nm:        the calls NetworkManager 1.42 makes for a link
#              (src/core/dns/nm-dns-systemd-resolved.c, prepare_one_interface
#              and send_updates: GetNameOwner, then to that unique name
#              SetLinkDomains, SetLinkDefaultRoute, SetLinkMulticastDNS,
#              SetLinkLLMNR, SetLinkDNS -- SetLinkDNSEx only when a server
#              has a name -- and SetLinkDNSOverTLS), issued with busctl; the
#              link shows in resolvectl status, dns and domain; the
#              daemon discovers the resolver from them, goes DoT, writes
#              the search domain; resolvectl query (ResolveHostname),
#              query -t TXT (ResolveRecord), a reverse query
#              (ResolveAddress) and NXDOMAIN answer through dotstubd, and
#              the Unbound's query log saw them
#   nonroot:   busctl as nobody is refused with AccessDenied and nothing
#              changes; nobody may still read and resolve
#   revert:    RevertLink (and the Link object's Revert) clear the link
#   malformed: a wrong ifindex, loopback, 9 and 17 addresses, an address of
#              the wrong length, an unknown family, a 300-octet domain, a
#              bad mode, a bad hostname: errors, the daemon keeps running
#              and the link keeps its configuration
#   limit:     dbus-max-calls: the call past the limit gets LimitsExceeded
#   owned:     the name owned by another process: dotstubd logs it and
#              serves DNS without the API
#   route:     two links, each with a real Unbound of its own serving
#              other data for the same names (the second in the gateway
#              namespace, on a second veth): a call with the second
#              link's ifindex (resolvectl query -i) is answered by that
#              link's Unbound only, with ifindex 0 by the default link's;
#              a link without DNS servers gives NoNameServers; a
#              single-label name is qualified with the links' search
#              domains in order (a NXDOMAIN under the first goes on to
#              the next; with an ifindex, that link's only), not with
#              the flag SD_RESOLVED_NO_SEARCH (resolvectl --search=no);
#              ResolveRecord never searches
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
# shellcheck source=../lib/dbus.sh
. "$DOTSTUB_SRC/tests/lib/dbus.sh"
prov_require busctl gdbus dbus-daemon setpriv
prov_tmpdir
trap 'ds_stop_all; dbus_stop; prov_cleanup; rm -rf "$T_DIR" "${BUSDIR:-}"' EXIT
if ! resolvectl_get; then
	t_fail "resolvectl: not available"
	finish
	exit 1
fi

IFACE=${NS_P}c
IFX=$(cat "/sys/class/net/$IFACE/ifindex")
GW=10.77.0.1
L=127.0.0.80
R1=org.freedesktop.resolve1
R1P=/org/freedesktop/resolve1
R1M=org.freedesktop.resolve1.Manager
WAIT=(--discovery-wait 10000)
# the bus's socket where nobody (s_nonroot) reaches it
BUSDIR=$(mktemp -d /tmp/dotstub-bus.XXXXXX)
chmod 755 "$BUSDIR"

# the resolver, in the gateway namespace: what a network's DHCP announces
export PROV_EXTRA_CONF='	log-queries: yes
	local-data-ptr: "192.0.2.10 www.example.test"
	local-zone: "lan.example." static
	local-data: "www.lan.example. 300 IN A 192.0.2.77"'
prov_provision "$PROV_TMP/r1" $GW || { echo "provision failed"; exit 1; }
N1=$(prov_name "$PROV_TMP/r1")

resolver_start() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$NS_GW" bash -c '. "$DOTSTUB_SRC/tests/lib/provisioned.sh"; prov_start "$1" "$2"' \
		sh "$PROV_TMP/r1" $GW
}
resolver_stop() { prov_stop "$PROV_TMP/r1"; }
teardown() { ds_stop_all; dbus_stop_dir "$BUSDIR"; resolver_stop; rm -rf "${T_DIR:?}"/*/; }

# the daemon with the API, on the private bus
r1_daemon() { ds_start "$1" --listen "$2:53" --resolve1 yes "${WAIT[@]}" "${@:3}"; }
owns_name() { [ "$(bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$R1" 2>&1)" = "b true" ]; }
owner_pid() { bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetConnectionUnixProcessID s "$R1" | sed -n 's/^u //p'; }
state_is() { [ "$(ds_json "$1" discovery.state)" = "$2" ]; }
# m METHOD SIG ARGS...: a Manager call with busctl
m() { bctl call "$R1" "$R1P" "$R1M" "$@"; }
link_prop() { bctl get-property "$R1" "$(link_path "$1")" org.freedesktop.resolve1.Link "$2"; }
link_path() { bctl call "$R1" "$R1P" "$R1M" GetLink i "$1" | sed 's/^o "\(.*\)"$/\1/'; }
# gm METHOD ARGS...: a Manager call with gdbus, which prints the error's name
gm() { gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$R1" --object-path "$R1P" --method "$R1M.$1" "${@:2}" 2>&1; }
rctl() { "$RESOLVECTL" "$@" 2>&1; }

# What NetworkManager 1.42 sends for a link with an IPv4 DHCP lease giving
# DNS $GW and the search domain lan.example, DNS over TLS, LLMNR and mDNS
# left at their defaults (""), and the default route: in this order, to
# the unique name that owns org.freedesktop.resolve1.
nm_configure() {
	local owner
	owner=$(bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s "$R1" | sed 's/^s "\(.*\)"$/\1/')
	[ -n "$owner" ] || return 1
	bctl call "$owner" "$R1P" "$R1M" SetLinkDomains 'ia(sb)' "$IFX" 1 lan.example false &&
		bctl call "$owner" "$R1P" "$R1M" SetLinkDefaultRoute ib "$IFX" true &&
		bctl call "$owner" "$R1P" "$R1M" SetLinkMulticastDNS is "$IFX" "" &&
		bctl call "$owner" "$R1P" "$R1M" SetLinkLLMNR is "$IFX" "" &&
		bctl call "$owner" "$R1P" "$R1M" SetLinkDNS 'ia(iay)' "$IFX" 1 2 4 10 77 0 1 &&
		bctl call "$owner" "$R1P" "$R1M" SetLinkDNSOverTLS is "$IFX" ""
}

common_setup() {
	dbus_start "$BUSDIR" || return 1
	resolver_start || return 1
}

# ---------------------------------------------------------------- NetworkManager's calls
s_nm() {
	local out q0 n
	common_setup || return 1
	r1_daemon a $L || return 1
	check "nm: dotstubd owns $R1" wait_for 5 owns_name
	check "nm: the log says it serves the name" ds_wait_log a "serving $R1 on the system bus" 0 5
	check "nm: NetworkManager's six calls succeed" nm_configure
	check "nm: the change is logged with the link, DNS, domains and who" \
		ds_wait_log a "resolve1: link $IFACE ($IFX): DNS $GW, domains lan.example, default-route yes" 0 5
	expect_contains "nm: ... set by root" "$(grep "resolve1: link $IFACE" "$T_DIR/a/log" | tail -1)" "set by uid 0"
	check "nm: discovered and authenticated from the link's DNS server" wait_for 20 state_is a dot
	check "nm: resolv-conf-out has the link's search domain" \
		wait_for 5 grep -qx "search lan.example" "$T_DIR/a/resolv.conf"

	out=$(rctl status)
	printf '# resolvectl status: %s\n' "${out//$'\n'/$'\n# resolvectl status: '}"
	expect_contains "resolvectl status: the link" "$out" "Link $IFX ($IFACE)"
	expect_contains "resolvectl status: its DNS server" "$out" "DNS Servers: $GW"
	expect_contains "resolvectl status: its domain" "$out" "DNS Domain: lan.example"
	expect_contains "resolvectl status: the current server is the DoT upstream" "$out" \
		"Current DNS Server: $GW:853#$N1"
	expect_contains "resolvectl status: default route" "$out" "+DefaultRoute"
	expect_contains "resolvectl status: DNS scope" "$out" "Current Scopes: DNS"
	out=$(rctl dns)
	expect_contains "resolvectl dns" "$out" "Link $IFX ($IFACE): $GW"
	out=$(rctl dns "$IFACE")
	expect_contains "resolvectl dns IFACE" "$out" "Link $IFX ($IFACE): $GW"
	out=$(rctl domain)
	expect_contains "resolvectl domain" "$out" "Link $IFX ($IFACE): lan.example"

	q0=$(grep -c "www.example.test. A IN" "$PROV_TMP/r1/unbound.log")
	out=$(rctl query www.example.test)
	printf '# resolvectl query: %s\n' "${out//$'\n'/$'\n# resolvectl query: '}"
	expect_contains "resolvectl query: the A record" "$out" "192.0.2.10"
	expect_contains "resolvectl query: the AAAA record" "$out" "2001:db8::10"
	expect_contains "resolvectl query: over an encrypted transport" "$out" \
		"acquired via local or encrypted transport: yes"
	expect_contains "resolvectl query: from the network" "$out" "Data from: network"
	check "resolvectl query: the resolver's Unbound saw the query" \
		test "$(grep -c "www.example.test. A IN" "$PROV_TMP/r1/unbound.log")" -gt "$q0"
	out=$(rctl query www.example.test)
	expect_contains "resolvectl query again: from the cache" "$out" "Data from: cache"
	out=$(rctl query -t TXT txt.example.test)
	expect_contains "resolvectl query -t TXT (ResolveRecord)" "$out" '"dotstub test"'
	out=$(rctl query 192.0.2.10)
	expect_contains "resolvectl query ADDRESS (ResolveAddress)" "$out" "www.example.test"
	out=$(rctl query nosuch.example.test)
	expect_contains "resolvectl query: NXDOMAIN" "$out" "not found"
	out=$(gm ResolveHostname 0 nosuch.example.test 0 0)
	expect_contains "ResolveHostname: NXDOMAIN's error name" "$out" "$R1.DnsError.NXDOMAIN"
	out=$(gm ResolveRecord 0 www.example.test 1 15 0)
	expect_contains "ResolveRecord: no MX is NoSuchRR" "$out" "$R1.NoSuchRR"

	# the properties read back what was set
	expect_eq "Link DefaultRoute" "$(link_prop "$IFX" DefaultRoute)" "b true"
	expect_eq "Link Domains" "$(link_prop "$IFX" Domains)" 'a(sb) 1 "lan.example" false'
	expect_eq "Link DNS" "$(link_prop "$IFX" DNS)" "a(iay) 1 2 4 10 77 0 1"
	expect_eq "Link DNSOverTLS unset: the daemon's mode" "$(link_prop "$IFX" DNSOverTLS)" 's "opportunistic"'
	# what NetworkManager sends when a server has a name: SetLinkDNSEx
	check "SetLinkDNSEx with a port and a server name" \
		m SetLinkDNSEx 'ia(iayqs)' "$IFX" 1 2 4 10 77 0 1 853 "$N1"
	expect_eq "Link DNSEx reads it back" "$(link_prop "$IFX" DNSEx)" "a(iayqs) 1 2 4 10 77 0 1 853 \"$N1\""
	check "SetLinkDNSOverTLS yes" m SetLinkDNSOverTLS is "$IFX" yes
	check "SetLinkDNSSEC allow-downgrade" m SetLinkDNSSEC is "$IFX" allow-downgrade
	expect_eq "Link DNSOverTLS reads back" "$(link_prop "$IFX" DNSOverTLS)" 's "yes"'
	expect_eq "Link DNSSEC reads back" "$(link_prop "$IFX" DNSSEC)" 's "allow-downgrade"'
	out=$(rctl status "$IFACE")
	expect_contains "resolvectl status IFACE: DNSOverTLS" "$out" "+DNSOverTLS"
	expect_contains "resolvectl status IFACE: the server name" "$out" "$GW:853#$N1"
	check "FlushCaches by root" m FlushCaches
	check "ResetServerFeatures by root" m ResetServerFeatures
	out=$(rctl query www.example.test)
	expect_contains "after FlushCaches: from the network again" "$out" "Data from: network"
	# a reload keeps the link table: the link and its DoT stay
	n=$(ds_log_count a "reload: applied")
	kill -HUP "$(ds_pid a)"
	check "nm: SIGHUP reloads" ds_wait_log a "reload: applied" "$n" 10
	check "nm: and DoT again" wait_for 20 state_is a dot
	expect_eq "nm: the link kept its DNS over the reload" "$(link_prop "$IFX" DNSEx)" \
		"a(iayqs) 1 2 4 10 77 0 1 853 \"$N1\""
	check "nm: the daemon still runs" pid_alive "$(ds_pid a)"
}

# ---------------------------------------------------------------- not root
nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
s_nonroot() {
	local out before
	common_setup || return 1
	r1_daemon b $L || return 1
	check "nonroot: dotstubd owns $R1" wait_for 5 owns_name
	check "nonroot: root sets the link" nm_configure
	before=$(link_prop "$IFX" DNS)
	out=$(nobody gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$R1" --object-path "$R1P" \
		--method "$R1M.SetLinkDNS" "$IFX" "[(2, [byte 192, 0, 2, 66])]" 2>&1)
	expect_contains "nonroot: SetLinkDNS refused with AccessDenied" "$out" "org.freedesktop.DBus.Error.AccessDenied"
	nobody busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$R1" "$R1P" "$R1M" SetLinkDNS 'ia(iay)' "$IFX" 1 2 4 192 0 2 66 >"$T_DIR/out" 2>&1
	expect_eq "nonroot: busctl SetLinkDNS fails" "$?" 1
	expect_contains "nonroot: busctl says why" "$(cat "$T_DIR/out")" "Access denied"
	for call in "RevertLink i $IFX" "SetLinkDomains ia(sb) $IFX 1 evil.example false" \
		"SetLinkDefaultRoute ib $IFX false" "SetLinkDNSOverTLS is $IFX no" "FlushCaches"; do
		# shellcheck disable=SC2086 # the words are the call
		nobody busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$R1" "$R1P" "$R1M" $call >"$T_DIR/out" 2>&1
		expect_contains "nonroot: $call refused" "$(cat "$T_DIR/out")" "Access denied"
	done
	expect_eq "nonroot: the link's DNS did not change" "$(link_prop "$IFX" DNS)" "$before"
	expect_eq "nonroot: nor its domains" "$(link_prop "$IFX" Domains)" 'a(sb) 1 "lan.example" false'
	expect_eq "nonroot: nor its default route" "$(link_prop "$IFX" DefaultRoute)" "b true"
	check "nonroot: the refusal is logged" ds_wait_log b "resolve1: refused SetLinkDNS" 0 5
	out=$(nobody busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property "$R1" "$R1P" "$R1M" DNS 2>&1)
	expect_contains "nonroot: nobody may read the properties" "$out" "$IFX 2 4 10 77 0 1"
	out=$(nobody busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$R1" "$R1P" "$R1M" ResolveHostname isit 0 localhost 2 0 2>&1)
	expect_contains "nonroot: nobody may resolve" "$out" "127 0 0 1"
}

# ---------------------------------------------------------------- RevertLink
s_revert() {
	local out path
	common_setup || return 1
	r1_daemon c $L || return 1
	check "revert: dotstubd owns $R1" wait_for 5 owns_name
	check "revert: the link is configured" nm_configure
	expect_contains "revert: resolvectl dns shows it" "$(rctl dns "$IFACE")" "$GW"
	check "revert: RevertLink" m RevertLink i "$IFX"
	expect_eq "revert: no DNS left" "$(link_prop "$IFX" DNS)" "a(iay) 0"
	expect_eq "revert: no domain left" "$(link_prop "$IFX" Domains)" "a(sb) 0"
	out=$(rctl dns)
	expect_contains "revert: resolvectl dns shows the link empty" "$out" "Link $IFX ($IFACE):"
	expect_not_contains "revert: resolvectl dns has no server left" "$out" "$GW"
	check "revert: logged" ds_wait_log c "link $IFX: reverted to no DNS configuration by uid 0" 0 5
	check "revert: the link table forgets what resolve1 said" \
		ds_wait_log c "($IFX): resolve1 configuration reverted" 0 5
	# the Link object's own methods
	path=$(link_path "$IFX")
	expect_eq "revert: the link's object path is escaped" "$path" "$R1P/link/_3$IFX"
	check "revert: Link.SetDNS" bctl call "$R1" "$path" org.freedesktop.resolve1.Link SetDNS 'a(iay)' 1 2 4 10 77 0 1
	expect_eq "revert: Link.SetDNS is read back" "$(link_prop "$IFX" DNS)" "a(iay) 1 2 4 10 77 0 1"
	check "revert: Link.Revert" bctl call "$R1" "$path" org.freedesktop.resolve1.Link Revert
	expect_eq "revert: Link.Revert cleared it" "$(link_prop "$IFX" DNS)" "a(iay) 0"
}

# ---------------------------------------------------------------- hostile calls
s_malformed() {
	local out many=() big
	common_setup || return 1
	r1_daemon d $L || return 1
	check "malformed: dotstubd owns $R1" wait_for 5 owns_name
	check "malformed: the link is configured" nm_configure
	out=$(gm SetLinkDNS 0 "[(2, [byte 1, 2, 3, 4])]")
	expect_contains "malformed: ifindex 0" "$out" "org.freedesktop.DBus.Error.InvalidArgs"
	out=$(gm SetLinkDNS 999999 "[(2, [byte 1, 2, 3, 4])]")
	expect_contains "malformed: no such link" "$out" "$R1.NoSuchLink"
	out=$(gm SetLinkDNS 1 "[(2, [byte 1, 2, 3, 4])]")
	expect_contains "malformed: loopback" "$out" "$R1.LinkBusy"
	for i in $(seq 1 17); do many+=(2 4 10 77 1 "$i"); done
	bctl call "$R1" "$R1P" "$R1M" SetLinkDNS 'ia(iay)' "$IFX" 17 "${many[@]}" >"$T_DIR/out" 2>&1
	expect_contains "malformed: 17 addresses" "$(cat "$T_DIR/out")" "too many DNS servers: at most 8"
	bctl call "$R1" "$R1P" "$R1M" SetLinkDNS 'ia(iay)' "$IFX" 9 "${many[@]:0:54}" >"$T_DIR/out" 2>&1
	expect_contains "malformed: 9 addresses" "$(cat "$T_DIR/out")" "too many DNS servers"
	out=$(gm SetLinkDNS "$IFX" "[(2, [byte 10, 77, 0, 1, 5])]")
	expect_contains "malformed: an IPv4 address of 5 octets" "$out" "org.freedesktop.DBus.Error.InvalidArgs"
	out=$(gm SetLinkDNS "$IFX" "[(10, [byte 10, 77, 0, 1])]")
	expect_contains "malformed: an IPv6 address of 4 octets" "$out" "IPv6 address of 4 octets"
	out=$(gm SetLinkDNS "$IFX" "[(7, [byte 10, 77, 0, 1])]")
	expect_contains "malformed: family 7" "$out" "unknown address family 7"
	out=$(gm SetLinkDNS "$IFX" "[(2, [byte 0, 0, 0, 0])]")
	expect_contains "malformed: the unspecified address" "$out" "unspecified or multicast"
	big=$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 60)).$(printf 'c%.0s' $(seq 1 60)).$(printf 'd%.0s' $(seq 1 60)).$(printf 'e%.0s' $(seq 1 55))
	out=$(gm SetLinkDomains "$IFX" "[('$big', false)]")
	expect_contains "malformed: a 300-octet domain" "$out" "not a domain name of at most 253"
	out=$(gm SetLinkDomains "$IFX" "[('a..b', false)]")
	expect_contains "malformed: an empty label" "$out" "org.freedesktop.DBus.Error.InvalidArgs"
	out=$(gm SetLinkDNSSEC "$IFX" maybe)
	expect_contains "malformed: a bad DNSSEC mode" "$out" "invalid DNSSEC mode"
	out=$(gm SetLinkDNSOverTLS "$IFX" strict)
	expect_contains "malformed: a bad DNSOverTLS mode" "$out" "invalid DNSOverTLS mode"
	out=$(gm ResolveHostname 0 www.example.test 99 0)
	expect_contains "malformed: ResolveHostname family 99" "$out" "unknown address family 99"
	out=$(gm ResolveHostname 0 "$big" 0 0)
	expect_contains "malformed: ResolveHostname, 300 octets" "$out" "not a valid DNS name"
	out=$(gm ResolveHostname 0 "bücher.example" 0 0)
	expect_contains "malformed: ResolveHostname, not ASCII" "$out" "IDNA is not supported"
	out=$(gm ResolveAddress 0 2 "[byte 1, 2, 3]" 0)
	expect_contains "malformed: ResolveAddress, 3 octets" "$out" "IPv4 address of 3 octets"
	out=$(gm ResolveRecord 0 www.example.test 1 252 0)
	expect_contains "malformed: ResolveRecord AXFR" "$out" "type 252 cannot be asked for"
	out=$(gm ResolveHostname 0 www.example.test 0 "$((1 << 40))")
	expect_contains "malformed: unknown flags" "$out" "unexpected flags"
	check "malformed: the daemon still runs" pid_alive "$(ds_pid d)"
	check "malformed: and still owns the name" owns_name
	expect_eq "malformed: the link kept its DNS" "$(link_prop "$IFX" DNS)" "a(iay) 1 2 4 10 77 0 1"
	expect_eq "malformed: and its domains" "$(link_prop "$IFX" Domains)" 'a(sb) 1 "lan.example" false'
}

# ---------------------------------------------------------------- dbus-max-calls
current_transactions() {
	bctl get-property "$R1" "$R1P" "$R1M" TransactionStatistics | awk '{print $2}'
}
s_limit() {
	local out p1 p2
	dbus_start "$BUSDIR" || return 1 # no resolver: queries wait for discovery
	r1_daemon e $L --dbus-max-calls 2 --network-resolver 10.77.0.99 || return 1
	check "limit: dotstubd owns $R1" wait_for 5 owns_name
	bctl --timeout=30 call "$R1" "$R1P" "$R1M" ResolveHostname isit 0 one.example.test 2 0 >/dev/null 2>&1 &
	p1=$!
	bctl --timeout=30 call "$R1" "$R1P" "$R1M" ResolveHostname isit 0 two.example.test 2 0 >/dev/null 2>&1 &
	p2=$!
	check "limit: two calls in flight" wait_for 5 sh -c "[ \"\$(busctl --address=$DBUS_SYSTEM_BUS_ADDRESS get-property $R1 $R1P $R1M TransactionStatistics | awk '{print \$2}')\" -ge 2 ]"
	out=$(gm ResolveHostname 0 three.example.test 2 0)
	expect_contains "limit: the third gets LimitsExceeded" "$out" "org.freedesktop.DBus.Error.LimitsExceeded"
	check "limit: logged" ds_wait_log e "dbus-max-calls reached" 0 5
	kill "$p1" "$p2" 2>/dev/null
	wait "$p1" "$p2" 2>/dev/null
	check "limit: the daemon still runs" pid_alive "$(ds_pid e)"
}

# ---------------------------------------------------------------- the name is taken
s_owned() {
	common_setup || return 1
	r1_daemon f $L || return 1
	check "owned: the first dotstubd owns $R1" wait_for 5 owns_name
	r1_daemon g 127.0.0.82 || return 1
	check "owned: the second logs that the name is taken" \
		ds_wait_log g "$R1 is owned by another process" 0 5
	expect_eq "owned: the first keeps it" "$(owner_pid)" "$(ds_netpid f)"
	check "owned: the second serves DNS without the API" \
		sh -c "dig @127.0.0.82 +time=2 +tries=1 localhost A | grep -q 127.0.0.1"
	check "owned: the second still runs" pid_alive "$(ds_pid g)"
}

# ---------------------------------------------------------------- per-link routing, search domains
# A second link, ${NS_P}d (10.78.0.2), to the gateway namespace, whose
# plain Unbound at 10.78.0.1 (it publishes no resolver-name.arpa: plain
# DNS) has other data for the same names and the search domain
# lan2.example; and a third, ${NS_P}x, with no DNS server at all.
IF2=${NS_P}d
IF3=${NS_P}x
GW2=10.78.0.1
U2=$T_DIR/u2
u2_conf() {
	mkdir -p "$U2"
	cat >"$U2/unbound.conf" <<EOF
server:
	verbosity: 1
	use-syslog: no
	logfile: "$U2/unbound.log"
	log-queries: yes
	chroot: ""
	username: ""
	directory: "$U2"
	pidfile: "$U2/unbound.pid"
	num-threads: 1
	so-reuseport: no
	interface: $GW2
	access-control: 0.0.0.0/0 allow
	module-config: "iterator"
	local-zone: "resolver-name.arpa." static
	local-zone: "example.test." static
	local-data: "www.example.test. 300 IN A 198.51.100.20"
	local-zone: "lan.example." static
	local-data: "www.lan.example. 300 IN A 198.51.100.66"
	local-zone: "lan2.example." static
	local-data: "www.lan2.example. 300 IN A 198.51.100.21"
	local-data: "printer.lan2.example. 300 IN A 198.51.100.9"
	local-zone: "." refuse
remote-control:
	control-enable: no
EOF
}
route_net_up() {
	ip link add "$IF2" type veth peer name "${NS_P}e" netns "$NS_GW" || return 1
	ip addr add 10.78.0.2/24 dev "$IF2"
	ip -n "$NS_GW" addr add $GW2/24 dev "${NS_P}e"
	ip link set "$IF2" up
	ip -n "$NS_GW" link set "${NS_P}e" up
	ip link add "$IF3" type veth peer name "${NS_P}y" || return 1
	ip link set "$IF3" up
	u2_conf
	: >"$U2/unbound.log"
	ip netns exec "$NS_GW" unbound -d -c "$U2/unbound.conf" >>"$U2/unbound.log" 2>&1 &
	echo $! >"$U2/pid"
	wait_for 5 sh -c "dig @$GW2 +time=1 +tries=1 +norec SOA example.test | grep -q 'status: NOERROR'"
}
route_teardown() {
	teardown
	[ -f "$U2/pid" ] && pid_stop "$(cat "$U2/pid")"
	ip link del "$IF2" 2>/dev/null
	ip link del "$IF3" 2>/dev/null
	rm -rf "$U2"
	return 0
}
# seen LOG NAME: how many queries for NAME that Unbound logged
seen() { grep -c " $2 " "$1" 2>/dev/null; }
# rh IFINDEX NAME FLAGS: ResolveHostname, IPv4, with busctl
rh() { bctl call "$R1" "$R1P" "$R1M" ResolveHostname isit "$1" "$2" 2 "$3" 2>&1; }
s_route() {
	local out ifx2 ifx3 u1=$PROV_TMP/r1/unbound.log n1 n2
	common_setup || return 1
	route_net_up || { echo "the second link's Unbound did not start"; return 1; }
	ifx2=$(cat "/sys/class/net/$IF2/ifindex")
	ifx3=$(cat "/sys/class/net/$IF3/ifindex")
	r1_daemon r $L || return 1
	check "route: dotstubd owns $R1" wait_for 5 owns_name
	check "route: link 1: default route, search domain lan.example" nm_configure
	check "route: link 2: search domain lan2.example" \
		m SetLinkDomains 'ia(sb)' "$ifx2" 1 lan2.example false
	check "route: link 2: no default route" m SetLinkDefaultRoute ib "$ifx2" false
	check "route: link 2: its DNS server" m SetLinkDNS 'ia(iay)' "$ifx2" 1 2 4 10 78 0 1
	check "route: link 1 on DoT" wait_for 20 state_is r dot
	check "route: link 2 decided: plain DNS" ds_wait_log r "link $IF2 ($ifx2): plain DNS" 0 15

	# the same name, by ifindex
	n2=$(seen "$U2/unbound.log" www.example.test.)
	out=$(rh 0 www.example.test 0)
	expect_contains "route: ifindex 0: the default link's answer" "$out" "192 0 2 10"
	expect_eq "route: ifindex 0: link 2's Unbound was not asked" "$(seen "$U2/unbound.log" www.example.test.)" "$n2"
	n1=$(seen "$u1" www.example.test.)
	out=$(rh "$ifx2" www.example.test 0)
	expect_contains "route: link 2's ifindex: link 2's answer, with its ifindex" \
		"$out" "a(iiay)st 1 $ifx2 2 4 198 51 100 20 \"www.example.test\""
	check "route: link 2's ifindex: its Unbound was asked" \
		test "$(seen "$U2/unbound.log" www.example.test.)" -gt "$n2"
	expect_eq "route: link 2's ifindex: link 1's Unbound was not" "$(seen "$u1" www.example.test.)" "$n1"
	out=$(rctl query -4 -i "$IF2" www.example.test)
	expect_contains "route: resolvectl query -i LINK2" "$out" "www.example.test: 198.51.100.20"
	expect_contains "route: ... link 2 answered" "$out" "link: $IF2"
	out=$(rctl query -4 -i "$IFACE" www.example.test)
	expect_contains "route: resolvectl query -i LINK1" "$out" "www.example.test: 192.0.2.10"
	expect_contains "route: ... link 1 answered" "$out" "link: $IFACE"
	out=$(gm ResolveRecord "$ifx2" txt.example.test 1 16 0)
	expect_contains "route: ResolveRecord, link 2's ifindex: link 2's NXDOMAIN" "$out" "$R1.DnsError.NXDOMAIN"
	out=$(rctl query -t TXT -i "$IFACE" txt.example.test)
	expect_contains "route: ResolveRecord, link 1's ifindex: link 1's TXT" "$out" '"dotstub test"'
	out=$(gm ResolveAddress "$ifx2" 2 "[byte 192, 0, 2, 10]" 0)
	expect_not_contains "route: ResolveAddress, link 2's ifindex: not link 1's PTR" "$out" "www.example.test"
	expect_contains "route: ... link 2's NXDOMAIN (Unbound's own TEST-NET zone)" "$out" "$R1.DnsError.NXDOMAIN"
	check "route: ... from link 2's Unbound" test "$(seen "$U2/unbound.log" 10.2.0.192.in-addr.arpa.)" -gt 0
	# a link with no DNS server of its own
	out=$(gm ResolveHostname "$ifx3" www.example.test 2 0)
	expect_contains "route: a link without DNS servers: NoNameServers" "$out" "$R1.NoNameServers"
	out=$(rctl query -i "$IF3" www.example.test)
	expect_contains "route: resolvectl query -i on that link fails" "$out" "resolve call failed"

	# single-label names: the search domains, in order
	out=$(rh 0 www 0)
	expect_contains "search: www is www.lan.example (link 1's search domain)" "$out" "192 0 2 77"
	expect_contains "search: the canonical name is the qualified one" "$out" '"www.lan.example"'
	check "search: link 1's Unbound got www.lan.example" test "$(seen "$u1" www.lan.example.)" -gt 0
	expect_eq "search: link 2's Unbound did not" "$(seen "$U2/unbound.log" www.lan.example.)" 0
	out=$(rh 0 printer 0)
	expect_contains "search: printer: NXDOMAIN under lan.example, found under lan2.example" "$out" "198 51 100 9"
	expect_contains "search: ... its canonical name" "$out" '"printer.lan2.example"'
	check "search: link 1's Unbound was asked printer.lan.example" test "$(seen "$u1" printer.lan.example.)" -gt 0
	check "search: link 2's Unbound got printer.lan2.example" \
		test "$(seen "$U2/unbound.log" printer.lan2.example.)" -gt 0
	out=$(rh "$ifx2" www 0)
	expect_contains "search: link 2's ifindex: its own search domain only" "$out" '"www.lan2.example"'
	expect_contains "search: ... and its own answer" "$out" "198 51 100 21"
	out=$(rctl query -4 www)
	expect_contains "search: resolvectl query www" "$out" "www: 192.0.2.77"
	expect_contains "search: ... shows the qualified name" "$out" "www.lan.example"
	out=$(gm ResolveHostname 0 nosuch 2 0)
	expect_contains "search: under no search domain: NXDOMAIN" "$out" "$R1.DnsError.NXDOMAIN"
	n1=$(seen "$u1" www.)
	out=$(gm ResolveHostname 0 www 2 256)
	expect_contains "search: SD_RESOLVED_NO_SEARCH: not qualified, NoNameServers" "$out" "$R1.NoNameServers"
	out=$(rctl query --search=no www)
	expect_contains "search: resolvectl query --search=no www fails" "$out" "resolve call failed"
	out=$(gm ResolveRecord 0 www 1 1 0)
	expect_contains "search: ResolveRecord does not search: NoNameServers for A" "$out" "$R1.NoNameServers"
	expect_eq "search: a single-label name never went out as it is" "$(seen "$u1" www.)" "$n1"
	out=$(rh 0 localhost 0)
	expect_contains "search: localhost is answered locally" "$out" "127 0 0 1"
	check "route: the daemon still runs" pid_alive "$(ds_pid r)"
}

scenario nm s_nm teardown
scenario nonroot s_nonroot teardown
scenario revert s_revert teardown
scenario malformed s_malformed teardown
scenario limit s_limit teardown
scenario owned s_owned teardown
scenario route s_route route_teardown
finish
