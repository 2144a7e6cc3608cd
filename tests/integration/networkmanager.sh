#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The real NetworkManager (Debian's network-manager package) against
# dotstubd's org.freedesktop.resolve1, in network namespaces
# (tests/lib/netns.sh): a "gateway" namespace where dnsmasq is the DHCP
# server on the veth (an address, DNS server 10.77.0.1, search domain
# lan.example) and a real Unbound at 10.77.0.1 serves a resolver provisioned
# with `dotctl provision` (DoT with DANE) and the lan.example names; and the
# "laptop" namespace with the other end of the veth, a private dbus-daemon
# (tests/lib/dbus.sh, with NetworkManager's own policy file), dotstubd with
# "resolve1 yes", and NetworkManager with dns=systemd-resolved and
# rc-manager=unmanaged, a keyfile connection for the veth (ipv4 auto), run
# in the foreground inside a mount and UTS namespace of its own (unshare -m
# -u) where a tmpfs covers /run and /var/lib/NetworkManager, its
# configuration and a scratch file are bound over /etc/NetworkManager and
# /etc/resolv.conf, and /sys is read-only (then it goes without udev):
# nothing of the machine's network configuration is read or written.
# dbus-monitor records every call NetworkManager makes to resolve1.
#   lease:   NetworkManager gets the lease and hands the link's DNS server
#            and search domain to dotstubd over D-Bus: its calls are
#            printed with their arguments; SetLinkDNS with the lease's
#            server, SetLinkDomains with its search domain and
#            SetLinkDefaultRoute yes asserted, and the six calls in the
#            order resolve1.sh replays; dotctl status (text and --json)
#            shows the link; dotstubd discovers the resolver and goes DoT;
#            a name under the search domain is answered through dotstubd
#            by the gateway's Unbound (its query log), and glibc's getent
#            finds the short name through the written resolv.conf (in a
#            mount namespace of its own); `nmcli connection down` clears
#            the link in dotstubd (the same six calls, empty), `nmcli
#            connection up` brings it back; NetworkManager's resolv.conf
#            stays empty
#   restart: dotstubd restarted under a running NetworkManager: the new
#            daemon takes the name and NetworkManager configures it again
#   dnr:     DNR (RFC 9463) through NetworkManager: the gateway's resolver
#            publishes nothing (a plain Unbound on 10.77.0.1, which also
#            serves DoT on 192.0.2.53 with a certificate for the ADN from
#            a test CA) and dnsmasq also hands out option 162 designating
#            that DoT server; NetworkManager runs with the shipped
#            packaging/networkmanager/dotstub-dhclient.conf (dhcp=dhclient),
#            packaging/dhclient/dhclient-dotstub.conf appended to a scratch
#            /etc/dhcp/dhclient.conf, and nm-dispatcher (started by hand in
#            NetworkManager's mount namespace, on the private bus: no bus
#            activation) runs packaging/networkmanager/90-dotstub-dnr, with
#            the machine's dispatcher directories covered by scratch ones.
#            The option reaches the dispatcher (DHCP4_V4_DNR) and dotstubd:
#            the link ends on DoT to the ADN authenticated by its
#            certificate (PKIX), its key pinned with source dnr; the time
#            from NetworkManager's lease to the first authenticated answer
#            is printed; `nmcli connection down` clears the designation.
#   dnr6:    the same over DHCPv6 on a dual-stack network: dnsmasq's router
#            advertisements for fd77::/64 set the Managed flag, it serves
#            DHCPv6 with option 144 designating the DoT server on fd77::53;
#            NetworkManager (IPv6 automatic) runs dhclient -6 with the
#            shipped lines in a scratch /etc/dhcp/dhclient6.conf; the option
#            reaches the dispatcher (DHCP6_DHCP6_V6_DNR) and dotstubd, the
#            link ends on DoT to the ADN at its IPv6 address (PKIX); `nmcli
#            connection down` clears the designation.
# At the end, the machine's /etc/resolv.conf and NetworkManager
# directories are as they were.
# Needs: network-manager, dnsmasq (dnsmasq-base), dbus-daemon,
# dbus-monitor, unbound, isc-dhcp-client (dnr); root.
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
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
prov_require busctl dbus-daemon unshare
prov_tmpdir
trap 'ds_stop_all; nm_stop; bg_stop monitor; bg_stop dnrgw; bg_stop dnsmasq; dbus_stop_dir "$BUSDIR"; prov_cleanup; rm -rf "$T_DIR" "${BUSDIR:-}"' EXIT
for t in NetworkManager nmcli dnsmasq dbus-monitor; do
	if ! command -v "$t" >/dev/null 2>&1; then
		t_fail "$t: not installed (scripts/deps.sh installs it)"
		finish
		exit 1
	fi
done

IFACE=${NS_P}c
IFX=$(cat "/sys/class/net/$IFACE/ifindex")
GW=10.77.0.1
L=127.0.0.80
R1=org.freedesktop.resolve1
NMNAME=org.freedesktop.NetworkManager
NM_POLICY=/usr/share/dbus-1/system.d/org.freedesktop.NetworkManager.conf
NMD_POLICY=/usr/share/dbus-1/system.d/nm-dispatcher.conf
NMD=/usr/lib/NetworkManager/nm-dispatcher
ADN=dns.example.test  # the DNR scenario's DoT server
DOT=192.0.2.53
DOT6=fd77::53         # ... over IPv6 (dnr6), on the DHCPv6 network fd77::/64
NMDIR=$T_DIR/nm
BUSDIR=$(mktemp -d /tmp/dotstub-bus.XXXXXX)
WAIT=(--discovery-wait 10000)

# The servers this script starts in the background keep their process id
# in $T_DIR/NAME.pid: a scenario runs in a subshell, its teardown does not.
bg_pid() { cat "$T_DIR/$1.pid" 2>/dev/null; }
bg_stop() {
	local pid
	pid=$(bg_pid "$1") || return 0
	pid_stop "$pid"
	rm -f "$T_DIR/$1.pid"
}

# NetworkManager acts on the network of the namespace it starts in: never
# the machine's.  This script runs in the namespace netns.sh made.
in_test_netns() {
	local self
	self=$(stat -L -c %i /proc/self/ns/net) || return 1
	[ "$self" = "$(stat -L -c %i "/run/netns/$NS_CLI")" ]
}
if ! in_test_netns; then
	t_fail "not in the test's network namespace: NetworkManager is not started"
	finish
	exit 1
fi
# what the machine has, to show afterwards that it was not touched
host_state() { cat /etc/resolv.conf; ls -la /var/lib/NetworkManager /etc/NetworkManager; }
HOST_BEFORE=$(host_state 2>&1)

# the resolver, in the gateway namespace, with the LAN's own names
export PROV_EXTRA_CONF='	log-queries: yes
	local-zone: "lan.example." static
	local-data: "printer.lan.example. 300 IN A 10.77.0.9"'
prov_provision "$PROV_TMP/r1" $GW || { echo "provision failed"; exit 1; }
N1=$(prov_name "$PROV_TMP/r1")
resolver_start() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$NS_GW" bash -c '. "$DOTSTUB_SRC/tests/lib/provisioned.sh"; prov_start "$1" "$2"' \
		sh "$PROV_TMP/r1" $GW
}
seen() { grep -c " $1 A IN" "$PROV_TMP/r1/unbound.log" 2>/dev/null; }

# ---------------------------------------------------------------- DHCP
# dnsmasq in the gateway namespace: DHCP only (port=0: no DNS), handing out
# an address, the router, DNS server $GW and lan.example as the domain name
# (option 15) and the search list (option 119); and the options given
dhcp_start() {
	ip netns exec "$NS_GW" dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts \
		--interface="${NS_P}g" --bind-interfaces --user=root --group=root \
		--pid-file= --dhcp-leasefile="$T_DIR/dnsmasq.leases" \
		--no-ping --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
		--dhcp-option=option:router,$GW --dhcp-option=option:dns-server,$GW \
		--domain=lan.example --dhcp-option=option:domain-search,lan.example \
		--log-dhcp --log-facility="$T_DIR/dnsmasq.log" "$@" 2>>"$T_DIR/dnsmasq.log" &
	echo $! >"$T_DIR/dnsmasq.pid"
	wait_for 5 grep -q "DHCP, IP range" "$T_DIR/dnsmasq.log" ||
		{ echo "dnsmasq did not start: $(cat "$T_DIR/dnsmasq.log")"; return 1; }
}

# ---------------------------------------------------------------- DNR
# dnrgw_start [v6]: a real Unbound in the gateway namespace, a plain
# resolver on $GW that publishes neither resolver-name.arpa nor DDR, and a
# DoT server on $DOT (and with v6 on $DOT6) with a certificate for $ADN
# from a test CA ($T_DIR/dnrgw/ca.pem)
dnrgw_start() {
	local d=$T_DIR/dnrgw
	mkdir -p "$d"
	ip -n "$NS_GW" addr add $DOT/32 dev "${NS_P}g" || return 1
	if [ "${1:-}" = v6 ]; then
		ip -n "$NS_GW" addr add $DOT6/128 dev "${NS_P}g" nodad || return 1
	fi
	udot_ca_chain $ADN "$d" || return 1
	udot_gw_start "$d" "$d" "$T_DIR/dnrgw.pid" "$GW@53 $DOT@853${1:+ $DOT6@853}"
}
# dnr_hex: the data of an OPTION_V4_DNR (RFC 9463 5.1), colon-separated
# as dnsmasq takes it: one instance, priority 1, $ADN, the address $DOT,
# alpn=dot
dnr_hex() {
	python3 - "$ADN" "$DOT" <<'EOF'
import sys
adn, addr = sys.argv[1:]
name = b"".join(bytes([len(l)]) + l.encode() for l in adn.split(".")) + b"\0"
inst = bytes([0, 1, len(name)]) + name + bytes([4]) + bytes(map(int, addr.split("."))) \
    + bytes([0, 1, 0, 4, 3]) + b"dot"
print(":".join("%02x" % b for b in len(inst).to_bytes(2, "big") + inst))
EOF
}
# dnr6_hex: the data of an OPTION_V6_DNR (RFC 9463 4.1), as dnsmasq takes
# it: priority 1, $ADN, the address $DOT6, alpn=dot
dnr6_hex() {
	python3 - "$ADN" "$DOT6" <<'EOF'
import ipaddress, sys
adn, addr = sys.argv[1:]
name = b"".join(bytes([len(l)]) + l.encode() for l in adn.split(".")) + b"\0"
a6 = ipaddress.IPv6Address(addr).packed
opt = bytes([0, 1]) + len(name).to_bytes(2, "big") + name + len(a6).to_bytes(2, "big") + a6 \
    + bytes([0, 1, 0, 4, 3]) + b"dot"
print(":".join("%02x" % b for b in opt))
EOF
}

# ---------------------------------------------------------------- the bus
# mon_start: dbus-monitor on the private bus, every method call to the
# resolve1 interfaces (NetworkManager sends them to the unique name)
mon_start() {
	dbus-monitor --address "$DBUS_SYSTEM_BUS_ADDRESS" \
		"type='method_call',interface='org.freedesktop.resolve1.Manager'" \
		"type='method_call',interface='org.freedesktop.resolve1.Link'" \
		>"$T_DIR/monitor.log" 2>&1 &
	echo $! >"$T_DIR/monitor.pid"
	# a monitor loses its unique name once it is one: then it listens
	wait_for 5 grep -q "member=NameLost" "$T_DIR/monitor.log" ||
		{ echo "dbus-monitor did not start: $(cat "$T_DIR/monitor.log")"; return 1; }
}
# mon_calls SENDER: the resolve1 calls SENDER made, in order, one a line:
# the method and its arguments as dbus-monitor shows them, flattened
# ("SetLinkDNS 2 [ 2 [ 0a 4d 00 01 ] ]", "SetLinkLLMNR 2 \"\"")
mon_calls() {
	awk -v s="sender=$1 " '
	function flush() { if (m != "") print m; m = "" }
	/^[a-z]/ {
		flush()
		if (/^method call / && index($0, s) &&
		    /interface=org\.freedesktop\.resolve1\./ && match($0, /member=[A-Za-z]+$/))
			m = substr($0, RSTART + 7)
		next
	}
	m == "" { next }
	{ sub(/^ +/, "") }
	/^(int32|uint32|int16|uint16|int64|uint64|byte|boolean) / { m = m " " $2; next }
	/^string / { m = m " " substr($0, 8); next }
	/^array of bytes "/ { m = m " " substr($0, 16); next }
	/\[$/ { m = m " ["; next }
	/^\]$/ { m = m " ]"; next }
	/^[0-9a-f][0-9a-f]( [0-9a-f][0-9a-f])*$/ { m = m " " $0 }
	END { flush() }' "$T_DIR/monitor.log"
}
# mon_names SENDER: only the methods, on one line
mon_names() { mon_calls "$1" | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 } END { print "" }'; }
owner_of() {
	bctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s "$1" 2>/dev/null |
		sed -n 's/^s "\(.*\)"$/\1/p'
}

# ---------------------------------------------------------------- NetworkManager
nm_write_config() {
	mkdir -p "$NMDIR/etc/system-connections" "$NMDIR/etc/conf.d" "$NMDIR/empty"
	cat >"$NMDIR/etc/NetworkManager.conf" <<EOF
[main]
plugins=keyfile
dns=systemd-resolved
rc-manager=unmanaged
hostname-mode=none
auth-polkit=false
no-auto-default=*

[logging]
level=INFO
domains=ALL,DNS:DEBUG,DHCP4:DEBUG

[keyfile]
unmanaged-devices=none

[connectivity]
enabled=false

[device-test]
match-device=interface-name:$IFACE
managed=1
EOF
	cat >"$NMDIR/etc/system-connections/lan.nmconnection" <<EOF
[connection]
id=lan
uuid=6e1d2f80-4b1c-4a43-9d0e-5c0f6a7b8c9d
type=ethernet
interface-name=$IFACE
autoconnect=true

[ethernet]

[ipv4]
method=auto

[ipv6]
method=${NM_IPV6:-ignore}
EOF
	chmod 600 "$NMDIR/etc/system-connections/lan.nmconnection"
	: >"$NMDIR/resolv.conf"
	# the machine's dispatcher scripts and dhclient configuration are
	# covered by these (empty unless nm_dnr_config fills them)
	mkdir -p "$NMDIR/etc/dispatcher.d" "$NMDIR/lib-dispatcher.d" "$NMDIR/dhcp"
}
# nm_dnr_config NAME: what a user adds for DNR through NetworkManager, as
# shipped: the dhclient backend (conf.d), the dhclient.conf lines appended
# to /etc/dhcp/dhclient.conf (here a request list like Debian's default
# one), the dispatcher script; and the test's own dispatcher script,
# 00-test, which records each action with DHCP4_V4_DNR and the time.
# dotctl, on nm-dispatcher's PATH, is the build's for daemon NAME.
nm_dnr_config() {
	local pkg=$DOTSTUB_SRC/packaging/networkmanager
	cp "$pkg/dotstub-dhclient.conf" "$NMDIR/etc/conf.d/" || return 1
	{
		printf 'request subnet-mask, broadcast-address, time-offset, routers,\n'
		printf '\tdomain-name, domain-name-servers, domain-search, host-name;\n'
		cat "$DOTSTUB_SRC/packaging/dhclient/dhclient-dotstub.conf"
	} >"$NMDIR/dhcp/dhclient.conf" || return 1
	# NetworkManager's dhclient -6 merges /etc/dhcp/dhclient6.conf instead
	cp "$DOTSTUB_SRC/packaging/dhclient/dhclient-dotstub.conf" "$NMDIR/dhcp/dhclient6.conf" || return 1
	check "dnr: packaging ships the dispatcher script" test -f "$pkg/90-dotstub-dnr"
	if [ -f "$pkg/90-dotstub-dnr" ]; then
		install -m 755 "$pkg/90-dotstub-dnr" "$NMDIR/etc/dispatcher.d/" || return 1
	fi
	cat >"$NMDIR/etc/dispatcher.d/00-test" <<EOF
#!/bin/sh
echo "\$2 \$(date +%s%N) \${DEVICE_IFACE:-} DHCP4_V4_DNR=\${DHCP4_V4_DNR:-} DHCP6_DHCP6_V6_DNR=\${DHCP6_DHCP6_V6_DNR:-}" >>"$T_DIR/dispatched"
EOF
	chmod 755 "$NMDIR/etc/dispatcher.d/00-test"
	mkdir -p "$NMDIR/bin"
	printf '#!/bin/sh\nexec "%s" -s "%s" "$@"\n' "$DOTCTL" "$T_DIR/$1/control" >"$NMDIR/bin/dotctl"
	chmod 755 "$NMDIR/bin/dotctl"
	NM_DISPATCHER=1
}
NM_DISPATCHER=

# nm_start: NetworkManager in the foreground, in a mount and UTS namespace
# of its own: a tmpfs over /run (its runtime directory; the machine's bus
# socket out of reach too) and /var/lib/NetworkManager (its state), its
# configuration over /etc/NetworkManager and a scratch file over
# /etc/resolv.conf; /sys read-only, for NetworkManager uses udev whenever
# /sys is writable and then waits for udevd, which does not run, to
# announce the veth.  The system bus is the private one
# (DBUS_SYSTEM_BUS_ADDRESS).  Any mount failing, it does not start.
nm_start() {
	in_test_netns || { echo "refusing to start NetworkManager outside $NS_CLI"; return 1; }
	[ -d "$NMDIR/etc" ] || nm_write_config
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m -u --propagation private -- sh -c '
		set -e
		mount -o remount,bind,ro /sys
		mount -t tmpfs -o mode=755 tmpfs /run
		mount -t tmpfs -o mode=700 tmpfs /var/lib/NetworkManager
		mount --bind "$1/etc" /etc/NetworkManager
		mount --bind "$1/resolv.conf" /etc/resolv.conf
		mount --bind "$1/lib-dispatcher.d" /usr/lib/NetworkManager/dispatcher.d
		[ ! -d /etc/dhcp ] || mount --bind "$1/dhcp" /etc/dhcp
		if [ -n "$2" ]; then
			PATH=$1/bin:$PATH "$3" --debug --persist >"$1/dispatcher.log" 2>&1 &
			echo $! >"$1/dispatcher.pid"
			n=0
			until grep -q "org.freedesktop.nm_dispatcher" "$1/dispatcher.owned" 2>/dev/null; do
				[ $n -lt 100 ] || { echo "nm-dispatcher did not take its name"; exit 1; }
				busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" list --acquired --no-legend \
					>"$1/dispatcher.owned" 2>/dev/null || :
				n=$((n + 1))
				sleep 0.05 # pacing of this poll loop (the name owned is the condition)
			done
		fi
		exec NetworkManager --no-daemon --debug --config=/etc/NetworkManager/NetworkManager.conf \
			--config-dir=/etc/NetworkManager/conf.d --system-config-dir="$1/empty"' \
		sh "$NMDIR" "$NM_DISPATCHER" "$NMD" >"$NMDIR/log" 2>&1 &
	echo $! >"$T_DIR/nm.pid"
	if ! within 10 nm_owns_name; then
		echo "NetworkManager did not start:"
		tail -30 "$NMDIR/log"
		return 1
	fi
	nm_namespaces
}
# nm_stop: NetworkManager, nm-dispatcher, and the dhclient NetworkManager
# ran (in a process group of its own, it may outlive NetworkManager)
nm_stop() {
	local pid kids=
	if pid=$(bg_pid nm); then
		kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
	fi
	bg_stop nm
	for pid in $kids $(cat "$NMDIR/dispatcher.pid" 2>/dev/null); do
		pid_stop "$pid"
	done
	rm -f "$NMDIR/dispatcher.pid"
}
# nm_namespaces: NetworkManager runs in this network namespace, and in a
# mount and UTS namespace that are not this script's
nm_namespaces() {
	local pid
	pid=$(bg_pid nm) || return 1
	check "NetworkManager runs in the test's network namespace" \
		test "$(ns_of "$pid" net)" = "$(stat -L -c %i "/run/netns/$NS_CLI")"
	check "NetworkManager has a mount namespace of its own" test "$(ns_of "$pid" mnt)" != "$(ns_of self mnt)"
	check "NetworkManager has a UTS namespace of its own" test "$(ns_of "$pid" uts)" != "$(ns_of self uts)"
}
ns_of() { stat -L -c %i "/proc/$1/ns/$2"; }
# nm_log: what NetworkManager said about the device, DHCP and DNS
nm_log() {
	grep -E "device \($IFACE\)|dhcp4|dns-|<warn>|<error>" "$NMDIR/log" | tail -30 | sed 's/^/# NetworkManager: /'
}
nm_owns_name() { [ -n "$(owner_of "$NMNAME")" ]; }
r1_owned() { [ -n "$(owner_of "$R1")" ]; }
r1_gone() { [ -z "$(owner_of "$R1")" ]; }
nmc() { nmcli "$@" 2>&1; }
nm_activated() { [ "$(nmcli -g GENERAL.STATE connection show lan 2>/dev/null)" = activated ]; }

# ---------------------------------------------------------------- dotstubd
r1_daemon() { ds_start "$1" --listen "$L:53" --resolve1 yes "${WAIT[@]}" "${@:2}"; }
# link_json NAME KEY...: KEY=VALUE lines of this link's members in
# `status --json` (one python3 for them all: it is slow to start)
link_json() {
	ds_ctl "$1" status --json | python3 -c 'import json, sys
for l in json.load(sys.stdin).get("links", []):
    if l.get("interface") == sys.argv[1]:
        for k in sys.argv[2:]:
            v = l.get(k)
            print("%s=%s" % (k, json.dumps(v) if isinstance(v, (list, dict, bool)) else v))' "$IFACE" "${@:2}"
}
# link_line NAME KEY: the "KEY:" line of this link in `dotctl status`,
# without the key (fast enough to poll)
link_line() {
	ds_ctl "$1" status | awk -v h="  $IFACE ($IFX)" -v k="$2:" '
		index($0, h) == 1 { f = 1; next }
		f && substr($0, 1, 4) != "    " { f = 0 }
		f && $1 == k { sub(/^ *[^ ]+ +/, ""); print; exit }'
}
link_has() { [ "$(link_line "$1" "$2")" = "$3" ]; }
# link_transport NAME TEXT: the link's transport begins with TEXT
link_transport() {
	case $(link_line "$1" transport) in
	"$2"*) return 0 ;;
	esac
	return 1
}
# link_dot NAME: the link's transport is DoT authenticated by DANE
link_dot() { link_transport "$1" "DoT to $N1 ($GW:853), authenticated by DANE"; }
# iface_flush: the laptop's end of the veth without addresses, routes or
# neighbours
iface_flush() {
	ip addr flush dev "$IFACE"
	ip route flush dev "$IFACE"
	ip neigh flush dev "$IFACE"
}

# the laptop's end of the veth starts without an address: DHCP gives it
setup() {
	iface_flush
	dbus_start "$BUSDIR" "$NM_POLICY" || return 1
	resolver_start || return 1
	dhcp_start || return 1
	mon_start || return 1
}
teardown() {
	ds_stop_all
	nm_stop
	bg_stop monitor
	bg_stop dnsmasq
	bg_stop dnrgw
	ip -n "$NS_GW" addr del $DOT/32 dev "${NS_P}g" 2>/dev/null
	ip -n "$NS_GW" addr del $DOT6/128 dev "${NS_P}g" 2>/dev/null
	NM_IPV6=
	NM_DISPATCHER=
	dbus_stop_dir "$BUSDIR"
	prov_stop "$PROV_TMP/r1"
	rm -rf "${T_DIR:?}"/*/ "$T_DIR"/*.log "$T_DIR"/*.leases
}

# ---------------------------------------------------------------- the lease
s_lease() {
	local out calls nm q0 addr t0
	setup || return 1
	r1_daemon a || return 1
	check "lease: dotstubd owns $R1" within 5 r1_owned
	t0=$(ms_now)
	nm_start || return 1
	nm=$(owner_of "$NMNAME")
	check "lease: NetworkManager activates the connection" within 15 nm_activated
	nm_activated || nm_log
	check "lease: dnsmasq handed out a lease" grep -q "DHCPACK(${NS_P}g)" "$T_DIR/dnsmasq.log"
	addr=$(awk '{ print $3 }' "$T_DIR/dnsmasq.leases")
	out=$(ip -4 -o addr show dev "$IFACE")
	expect_contains "lease: the link has the leased address ($addr)" "$out" "inet $addr/24"
	check "lease: dotstubd has the link's DNS server" within 10 link_has a resolvers "$GW:53"
	echo "# NetworkManager started to the link's DNS server in dotstubd: $(($(ms_now) - t0)) ms"
	out=$(link_json a resolvers search_domains routing_domains source default_route)
	expect_contains "lease: status --json: the resolver" "$out" "resolvers=[\"$GW:53\"]"
	expect_contains "lease: status --json: the search domain" "$out" 'search_domains=["lan.example"]'
	expect_contains "lease: status --json: no routing domain" "$out" 'routing_domains=[]'
	expect_contains "lease: status --json: from resolve1" "$out" "source=resolve1"
	expect_contains "lease: status --json: default route" "$out" "default_route=true"
	check "lease: the change is logged, set by root" \
		ds_wait_log a "resolve1: link $IFACE ($IFX): DNS $GW, domains lan.example, default-route yes" 0 5
	expect_contains "lease: ... by root" "$(grep "resolve1: link $IFACE" "$T_DIR/a/log" | tail -1)" "set by uid 0"

	calls=$(mon_calls "$nm")
	printf '# NetworkManager called: %s\n' "${calls//$'\n'/$'\n# NetworkManager called: '}"
	expect_contains "lease: NetworkManager called SetLinkDNS with the lease's DNS server" "$calls" \
		"SetLinkDNS $IFX [ 2 [ 0a 4d 00 01 ] ]"
	expect_contains "lease: NetworkManager called SetLinkDomains with its search domain" "$calls" \
		"SetLinkDomains $IFX [ \"lan.example\" false ]"
	expect_contains "lease: NetworkManager called SetLinkDefaultRoute" "$calls" \
		"SetLinkDefaultRoute $IFX true"
	# the sequence resolve1.sh replays with busctl is this one
	expect_eq "lease: the calls and their order are those resolve1.sh replays" "$(mon_names "$nm")" \
		"SetLinkDomains SetLinkDefaultRoute SetLinkMulticastDNS SetLinkLLMNR SetLinkDNS SetLinkDNSOverTLS"

	check "lease: discovered and authenticated from the lease's DNS server" within 20 link_dot a
	out=$(ds_ctl a status)
	printf '# dotctl status: %s\n' "${out//$'\n'/$'\n# dotctl status: '}"
	check "lease: resolv-conf-out has the lease's search domain" \
		wait_for 5 grep -qx "search lan.example" "$T_DIR/a/resolv.conf"
	q0=$(seen printer.lan.example.)
	out=$(ds_ctl a query printer.lan.example A)
	printf '# dotctl query: %s\n' "${out//$'\n'/$'\n# dotctl query: '}"
	expect_contains "lease: a name under the search domain answers" "$out" "10.77.0.9"
	expect_contains "lease: over DoT to the discovered resolver" "$out" "DoT to $N1"
	expect_contains "lease: through the link" "$out" "link:        $IFACE ($IFX)"
	check "lease: the gateway's Unbound answered it" test "$(seen printer.lan.example.)" -gt "$q0"
	# glibc through the written resolv.conf, in a mount namespace of its own
	# shellcheck disable=SC2016 # expanded by the inner sh
	out=$(unshare -m --propagation private -- sh -c \
		'mount --bind "$1" /etc/resolv.conf && getent hosts printer' sh "$T_DIR/a/resolv.conf" 2>&1)
	expect_contains "lease: getent finds the short name under the search domain" "$out" "10.77.0.9"

	# the connection down: NetworkManager clears the link
	out=$(nmc connection down lan)
	expect_contains "lease: nmcli connection down" "$out" "successfully deactivated"
	check "lease: the link's resolvers are cleared in dotstubd" within 10 link_has a resolvers "-"
	out=$(link_json a resolvers search_domains)
	expect_contains "lease: status --json: no resolver" "$out" "resolvers=[]"
	expect_contains "lease: status --json: no search domain" "$out" "search_domains=[]"
	check "lease: resolv-conf-out has no search line left" \
		wait_for 5 sh -c "! grep -q '^search' '$T_DIR/a/resolv.conf'"
	# NetworkManager 1.42 clears the link with the same six calls, empty
	calls=$(mon_calls "$nm" | tail -n +7)
	printf '# then, down: %s\n' "${calls//$'\n'/$'\n# then, down: '}"
	expect_contains "lease: down: SetLinkDNS with no server" "$calls" "SetLinkDNS $IFX [ ]"
	expect_contains "lease: down: SetLinkDomains with no domain" "$calls" "SetLinkDomains $IFX [ ]"
	expect_contains "lease: down: SetLinkDefaultRoute false" "$calls" "SetLinkDefaultRoute $IFX false"

	out=$(nmc connection up lan)
	expect_contains "lease: nmcli connection up" "$out" "successfully activated"
	check "lease: the link has its DNS server again" within 10 link_has a resolvers "$GW:53"
	check "lease: NetworkManager still runs" pid_alive "$(bg_pid nm)"
	check "lease: dotstubd still runs" pid_alive "$(ds_pid a)"
	check "lease: NetworkManager left its resolv.conf alone (rc-manager=unmanaged)" test ! -s "$NMDIR/resolv.conf"
}

# ---------------------------------------------------------------- dotstubd restarted
s_restart() {
	local nm n
	setup || return 1
	r1_daemon b || return 1
	nm_start || return 1
	nm=$(owner_of "$NMNAME")
	check "restart: the link is configured" within 15 link_has b resolvers "$GW:53"
	ds_stop b
	check "restart: the name is gone with the daemon" within 5 r1_gone
	n=$(mon_calls "$nm" | grep -c "^SetLinkDNS $IFX \[ 2")
	r1_daemon b || return 1
	check "restart: the new daemon owns $R1" within 5 r1_owned
	check "restart: NetworkManager configures it again" within 10 link_has b resolvers "$GW:53"
	check "restart: with a new SetLinkDNS call" test "$(mon_calls "$nm" | grep -c "^SetLinkDNS $IFX \[ 2")" -gt "$n"
	expect_eq "restart: and the search domain" "$(link_line b domains)" lan.example
	check "restart: NetworkManager still runs" pid_alive "$(bg_pid nm)"
}

# ---------------------------------------------------------------- DNR through NetworkManager
# link_dnr NAME: the link's transport is DoT to the DNR designation,
# authenticated by its certificate
link_dnr() { link_transport "$1" "DoT to $ADN ($DOT:853), authenticated by its certificate (PKIX)"; }
no_link_dnr() { ! link_dnr "$1"; }
# dispatched ACTION: the test's dispatcher script ran for ACTION on the veth
dispatched() { grep -q "^$1 [0-9]* $IFACE " "$T_DIR/dispatched" 2>/dev/null; }
# nm_lease_ms: when NetworkManager took the lease (its log's timestamp)
nm_lease_ms() {
	sed -n "s/^.*<info> *\[\([0-9]*\)\.\([0-9]\{3\}\)[0-9]*\] dhcp4 ($IFACE): state changed new lease.*/\1\2/p" \
		"$NMDIR/log" | head -1
}
s_dnr() {
	local out hex t1 lease ms nm up
	iface_flush
	hex=$(dnr_hex) || return 1
	dbus_start "$BUSDIR" "$NM_POLICY" "$NMD_POLICY" || return 1
	dnrgw_start || return 1
	dhcp_start --dhcp-option-force=162,"$hex" || return 1
	r1_daemon d --ca-file "$T_DIR/dnrgw/$ADN.ca.pem" --unknown-network opportunistic || return 1
	check "dnr: dotstubd owns $R1" within 5 r1_owned
	nm_write_config
	nm_dnr_config d || return 1
	nm_start || return 1
	nm=$(bg_pid nm)
	check "dnr: NetworkManager activates the connection" within 20 nm_activated
	nm_activated || nm_log
	check "dnr: NetworkManager ran dhclient" grep -q "dhclient started with pid" "$NMDIR/log"
	# the configuration NetworkManager made for dhclient, in its mount namespace
	out=$(cat "/proc/$nm/root/var/lib/NetworkManager/dhclient-$IFACE.conf" 2>&1)
	printf '# dhclient.conf by NetworkManager: %s\n' "${out//$'\n'/$'\n# dhclient.conf by NetworkManager: '}"
	expect_contains "dnr: NetworkManager's dhclient.conf declares option 162" "$out" \
		"option v4-dnr code 162 = string;"
	expect_contains "dnr: ... and asks for it" "$out" "also request v4-dnr;"
	check "dnr: dnsmasq handed out a lease" grep -q "DHCPACK(${NS_P}g)" "$T_DIR/dnsmasq.log"
	check "dnr: the dispatcher ran for up" wait_for 10 dispatched up
	out=$(grep "^up [0-9]* $IFACE " "$T_DIR/dispatched")
	echo "# dispatched: $out"
	expect_contains "dnr: the dispatcher scripts get the option (DHCP4_V4_DNR)" "$out" \
		"$IFACE DHCP4_V4_DNR=0:22:0:1:12:"
	check "dnr: dotstubd got the option from the dispatcher script" ds_wait_log d \
		"link $IFACE ($IFX): DHCPv4 DNR option: 1 DNR designation(s)" 0 10
	check "dnr: the link goes DoT to the ADN, authenticated by PKIX" within 20 link_dnr d
	out=$(ds_ctl d query www.example.test A)
	t1=$(ms_now)
	printf '# dotctl query: %s\n' "${out//$'\n'/$'\n# dotctl query: '}"
	expect_contains "dnr: the first authenticated answer" "$out" "192.0.2.80"
	expect_contains "dnr: ... over DoT to the ADN, PKIX" "$out" \
		"answered by: DoT to $ADN ($DOT:853, certificate verified (PKIX))"
	lease=$(nm_lease_ms)
	up=$(awk -v i="$IFACE" '$1 == "up" && $3 == i { print substr($2, 1, length($2) - 6); exit }' \
		"$T_DIR/dispatched")
	ms=$(sed -n 's/.*first answer over the new upstream \([0-9.]*\) ms after the network change.*/\1/p' \
		"$T_DIR/d/log" | tail -1)
	echo "# timing: DNR through NetworkManager: first authenticated answer $((t1 - ${lease:-t1})) ms" \
		"after NetworkManager's lease (after the dispatcher's up: $((t1 - ${up:-t1})) ms; the daemon's" \
		"own measure: ${ms:-?} ms after the network change)"
	check "dnr: NetworkManager's lease time is logged" test -n "$lease"
	[ -n "$lease" ] || nm_log
	out=$(ds_ctl d status)
	printf '# dotctl status: %s\n' "${out//$'\n'/$'\n# dotctl status: '}"
	expect_contains "dnr: status: why (DNR)" "$out" "DNR, verified by its certificate (PKIX)"
	check "dnr: its key is pinned with source dnr" within 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/d/control' trust list | grep -q '^$ADN. .*dnr'"

	# the connection down: the dispatcher's down clears the designation
	out=$(nmc connection down lan)
	expect_contains "dnr: nmcli connection down" "$out" "successfully deactivated"
	check "dnr: the dispatcher ran for down" wait_for 10 dispatched down
	check "dnr: dotstubd: the link has no DNR designation left" ds_wait_log d \
		"link $IFACE ($IFX): DHCPv4 DNR option: 0 DNR designation(s)" 0 10
	check "dnr: the link is no longer DoT to the ADN" within 10 no_link_dnr d
	expect_not_contains "dnr: the dispatcher script said nothing" "$(cat "$NMDIR/dispatcher.log")" "90-dotstub-dnr:"
	check "dnr: NetworkManager still runs" pid_alive "$nm"
	check "dnr: dotstubd still runs" pid_alive "$(ds_pid d)"
}

# ---------------------------------------------------------------- DNR over DHCPv6
# link_dnr6 NAME: the link goes DoT to the ADN at $DOT6, PKIX
link_dnr6() { link_transport "$1" "DoT to $ADN ([$DOT6]:853), authenticated by its certificate (PKIX)"; }
# A dual-stack network: dnsmasq sends router advertisements for fd77::/64
# with the Managed flag and serves DHCPv6 there, with option 144; the
# connection's IPv6 is automatic, so NetworkManager runs dhclient -6 (its
# dhclient backend) and hands the option to the dispatcher scripts as
# DHCP6_DHCP6_V6_DNR.
s_dnr6() {
	local out hex6 nm t1 disp
	iface_flush
	hex6=$(dnr6_hex) || return 1
	sysctl -qw "net.ipv6.conf.$IFACE.accept_dad=0" || return 1
	ip netns exec "$NS_GW" sysctl -qw "net.ipv6.conf.${NS_P}g.accept_dad=0" || return 1
	dbus_start "$BUSDIR" "$NM_POLICY" "$NMD_POLICY" || return 1
	dnrgw_start v6 || return 1
	dhcp_start --enable-ra --dhcp-range=fd77::100,fd77::1ff,64,1h \
		--dhcp-option=option6:144,"$hex6" || return 1
	r1_daemon d --ca-file "$T_DIR/dnrgw/$ADN.ca.pem" --unknown-network opportunistic || return 1
	check "dnr6: dotstubd owns $R1" within 5 r1_owned
	NM_IPV6=auto nm_write_config
	nm_dnr_config d || return 1
	nm_start || return 1
	nm=$(bg_pid nm)
	check "dnr6: NetworkManager activates the connection" within 20 nm_activated
	nm_activated || nm_log
	check "dnr6: dnsmasq handed out a DHCPv6 lease" wait_for 20 grep -q "DHCPREPLY(${NS_P}g)" \
		"$T_DIR/dnsmasq.log"
	check "dnr6: the dispatcher scripts get the option (DHCP6_DHCP6_V6_DNR)" wait_for 20 sh -c \
		"grep -q ' $IFACE .*DHCP6_DHCP6_V6_DNR=0:1:' '$T_DIR/dispatched'"
	out=$(grep " $IFACE .*DHCP6_DHCP6_V6_DNR=0:1:" "$T_DIR/dispatched" | head -1)
	echo "# dispatched: $out"
	check "dnr6: dotstubd got the option from the dispatcher script" ds_wait_log d \
		"link $IFACE ($IFX): DHCPv6 DNR option: 1 DNR designation(s)" 0 10
	check "dnr6: the link goes DoT to the ADN over IPv6, authenticated by PKIX" within 20 link_dnr6 d
	out=$(ds_ctl d query www.example.test A)
	t1=$(ms_now)
	printf '# dotctl query: %s\n' "${out//$'\n'/$'\n# dotctl query: '}"
	expect_contains "dnr6: the first authenticated answer" "$out" "192.0.2.80"
	disp=$(awk -v i="$IFACE" '$3 == i && /DHCP6_DHCP6_V6_DNR=0:1:/ { print substr($2, 1, length($2) - 6); exit }' \
		"$T_DIR/dispatched")
	echo "# timing: DNR over DHCPv6 through NetworkManager: first authenticated answer" \
		"$((t1 - ${disp:-t1})) ms after the dispatcher had the option ($(awk -v i="$IFACE" \
		'$3 == i && /DHCP6_DHCP6_V6_DNR=0:1:/ { print $1; exit }' "$T_DIR/dispatched"))"
	expect_contains "dnr6: ... over DoT to the ADN at its IPv6 address, PKIX" "$out" \
		"answered by: DoT to $ADN ([$DOT6]:853, certificate verified (PKIX))"

	out=$(nmc connection down lan)
	expect_contains "dnr6: nmcli connection down" "$out" "successfully deactivated"
	check "dnr6: dotstubd: the link has no DHCPv6 designation left" ds_wait_log d \
		"link $IFACE ($IFX): DHCPv6 DNR option: 0 DNR designation(s)" 0 10
	expect_not_contains "dnr6: the dispatcher script said nothing" "$(cat "$NMDIR/dispatcher.log")" "90-dotstub-dnr:"
	check "dnr6: NetworkManager still runs" pid_alive "$nm"
}

scenario lease s_lease teardown
scenario restart s_restart teardown
scenario dnr s_dnr teardown
scenario dnr6 s_dnr6 teardown

# the machine's own files, as they were
expect_eq "the machine's /etc/resolv.conf and NetworkManager directories untouched" \
	"$(host_state 2>&1)" "$HOST_BEFORE"
finish
