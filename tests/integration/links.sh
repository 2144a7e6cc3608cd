#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Split DNS: links with resolvers and domains of their own.  A client
# namespace with two links: "wifi" (the default route; its resolver a
# plain Unbound that publishes nothing: plain DNS, opportunistic) and
# "vpn" (no default route; its resolver a real Unbound provisioned with
# `dotctl provision`: resolver-name.arpa, DoT with DANE).  Each resolver
# serves its own data and logs every query it gets.
#   split:     `dotctl link VPN dns ADDR domain ~corp.example`: corp names
#              are answered by the VPN's resolver only (over DoT, DANE),
#              everything else by the wifi's only (plain), the reverse
#              names of the VPN's prefix go to the VPN; dotctl query and
#              status say which link and which transport; after
#              `dotctl link VPN revert` corp names never reach the VPN
#   networkd:  networkd's state file for the VPN link (in a private mount
#              namespace over /run/systemd/netif) configures it; dotctl
#              link wins over it and reverting gives it back; the file
#              removed, the link is gone
#   rewrite:   the resolv.conf source rewritten: the default link's new
#              resolver answers, without a restart
#   glibc:     the written resolv.conf holds both links' search domains;
#              getent (with it bound over /etc/resolv.conf) resolves a
#              short name under the VPN's search domain through dotstubd
#   trust_ad:  "trust-ad" in the written resolv.conf while every link in
#              use is on DANE-authenticated DoT, not while one is plain
#   root_only: the daemon's own user may read the status, not change a link
# The time from a link configured to its first correct answer is printed
# ("# timing").  Runs the daemon in the client namespace.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_require getent unshare

P=k$$
P=${P:0:7}
CLI=${P}_cli
GW=${P}_w
VPN=${P}_v
IN="ip netns exec $CLI"
L=127.0.0.53
RESOLV=$T_DIR/resolv.conf
PROV_TMP=$(mktemp -d /tmp/dotstub-prov.XXXXXX)
WIFI=$PROV_TMP/wifi
WIFI2=$PROV_TMP/wifi2

net_down() {
	local ns
	prov_stop_all
	for ns in "$CLI" "$GW" "$VPN"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
cleanup() {
	ds_stop_all
	net_down
	prov_cleanup
	rm -rf "$T_DIR"
}
trap cleanup EXIT

# The VPN's resolver, provisioned once (files only): corp.example and the
# reverse zone of the VPN's prefix, with every query logged.
"$DOTCTL" provision --addr 10.99.0.1 --out "$PROV_TMP/vpn" >/dev/null ||
	{ echo "cannot provision the VPN's resolver"; exit 1; }
PROV_EXTRA_CONF='	log-queries: yes
	access-control: 0.0.0.0/0 allow
	local-zone: "corp.example." static
	local-data: "intranet.corp.example. 300 IN A 10.99.1.1"
	local-data: "probe1.corp.example. 300 IN A 10.99.1.2"
	local-data: "probe2.corp.example. 300 IN A 10.99.1.2"
	local-zone: "0.99.10.in-addr.arpa." static
	local-data: "7.0.99.10.in-addr.arpa. 300 IN PTR host7.corp.example."' \
	prov_write_conf "$PROV_TMP/vpn"
VPN_NAME=$(prov_name "$PROV_TMP/vpn")
# a wifi resolver that publishes resolver-name.arpa too (the trust_ad scenario)
"$DOTCTL" provision --addr 10.81.0.77 --out "$PROV_TMP/wdot" >/dev/null ||
	{ echo "cannot provision the wifi's DoT resolver"; exit 1; }
PROV_EXTRA_CONF='	log-queries: yes
	access-control: 0.0.0.0/0 allow' prov_write_conf "$PROV_TMP/wdot"

# plain_conf DIR ADDR WWW: a plain Unbound on ADDR that publishes no
# resolver-name.arpa, with its own view of the names (www.example.test is
# WWW; corp.example is the outside view)
plain_conf() {
	mkdir -p "$1"
	cat >"$1/test-unbound.conf" <<EOF
server:
	verbosity: 1
	use-syslog: no
	logfile: "$1/unbound.log"
	log-queries: yes
	chroot: ""
	username: ""
	directory: "$1"
	pidfile: "$1/unbound.pid"
	num-threads: 1
	so-reuseport: no
	interface: $2
	access-control: 0.0.0.0/0 allow
	module-config: "iterator"
	local-zone: "resolver-name.arpa." static
	local-zone: "example.test." static
	local-data: "www.example.test. 300 IN A $3"
	local-zone: "home.example." static
	local-data: "printer.home.example. 300 IN A 10.81.0.99"
	local-zone: "corp.example." static
	local-data: "intranet.corp.example. 300 IN A 192.0.2.66"
	local-zone: "." refuse
remote-control:
	control-enable: no
EOF
}
plain_conf "$WIFI" 10.81.0.1 192.0.2.20
plain_conf "$WIFI2" 10.81.0.53 192.0.2.53

# serve NS DIR ADDR: Unbound of DIR in NS, answering on ADDR
serve() {
	: >"$2/unbound.log"
	ip netns exec "$1" unbound -d -c "$2/test-unbound.conf" >>"$2/unbound.log" 2>&1 &
	echo $! >"$2/test-unbound.pid"
	PROV_DIRS="$PROV_DIRS $2"
	if ! wait_for 5 sh -c "ip netns exec '$1' dig @$3 +time=1 +tries=1 +norec SOA example.test | grep -q 'status: NOERROR'"; then
		cat "$2/unbound.log"
		return 1
	fi
}

# veth CLIENTIF PEERNS PEERIF CLIENTADDR PEERADDR
veth() {
	ip link add "$1" type veth peer name "$3" netns "$2" || return 1
	ip link set "$1" netns "$CLI"
	ip -n "$CLI" addr add "$4" dev "$1"
	ip -n "$2" addr add "$5" dev "$3"
	ip -n "$CLI" link set "$1" up
	ip -n "$2" link set "$3" up
}

net_up() {
	net_down
	ip netns add "$CLI" && ip netns add "$GW" && ip netns add "$VPN" || return 1
	for ns in "$CLI" "$GW" "$VPN"; do ip -n "$ns" link set lo up; done
	veth "${P}w" "$GW" "${P}gw" 10.81.0.2/24 10.81.0.1/24 || return 1
	ip -n "$GW" addr add 10.81.0.53/24 dev "${P}gw"
	veth "${P}v" "$VPN" "${P}gv" 10.99.0.2/24 10.99.0.1/24 || return 1
	ip -n "$CLI" route add default via 10.81.0.1 dev "${P}w"
	ip -n "$CLI" neigh replace 10.81.0.1 lladdr "$(ip -n "$GW" -o link show "${P}gw" 2>/dev/null | sed 's/.*link\/ether \([^ ]*\).*/\1/')" dev "${P}w" nud permanent
	serve "$GW" "$WIFI" 10.81.0.1 || return 1
	serve "$GW" "$WIFI2" 10.81.0.53 || return 1
	serve "$VPN" "$PROV_TMP/vpn" 10.99.0.1 || return 1
	if [ -n "${WITH_WDOT:-}" ]; then
		ip -n "$GW" addr add 10.81.0.77/24 dev "${P}gw"
		serve "$GW" "$PROV_TMP/wdot" 10.81.0.77 || return 1
	fi
}

src_write() {
	printf '%s' "$1" >"$RESOLV.new" && mv "$RESOLV.new" "$RESOLV"
}

start_daemon() {
	src_write "$(printf 'nameserver 10.81.0.1\nsearch home.example\n')"
	DS_WRAP=${WRAP:-$IN} ds_start d --listen $L:53 --resolv-source "$RESOLV" \
		--resolv-conf-out "$T_DIR/d.resolv.conf" --discovery-wait 8000 --log-level info "$@"
}

q() { $IN dig @$L +time=3 +tries=1 +short "$@" 2>/dev/null; }
answers() { [ "$(q "$1" "${3:-A}" | head -1)" = "$2" ]; }
# rcode_is NAME RCODE: the daemon's answer has that rcode
rcode_is() { $IN dig @$L +time=3 +tries=1 "$1" A 2>/dev/null | grep -q "status: $2"; }
# seen LOG NAME: how many queries for NAME the resolver logged
seen() { grep -c " $2 " "$1/unbound.log" 2>/dev/null; }
# link_json IFACE KEY: a member of that link in `status --json`
link_json() {
	ds_ctl d status --json | python3 -c 'import json, sys
for l in json.load(sys.stdin)["links"]:
    if l["interface"] == sys.argv[1]:
        v = l[sys.argv[2]]
        print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)' "$1" "$2"
}
link_is() { [ "$(link_json "$1" "$2")" = "$3" ]; }
# ms_until SECONDS CMD...: milliseconds until CMD succeeds, or 99999
ms_until() {
	local t0 s
	t0=$(ms_now)
	s=$1
	shift
	within "$s" "$@" || { echo 99999; return; }
	echo $(($(ms_now) - t0))
}
teardown() { net_down; rm -rf "${T_DIR:?}/d" "$T_DIR"/nd; }

# ---------------------------------------------------------------- split
s_split() {
	local ms n out
	net_up || return 1
	start_daemon || return 1
	check "wifi: the default link serves plain DNS" within 15 link_is "${P}w" transport plain
	check "wifi: www.example.test from the wifi's resolver" within 5 answers www.example.test 192.0.2.20
	# (the poll's own name: before the link is configured it goes to the
	# wifi, which must never see intranet.corp.example)
	ms=$(ms_until 20 answers probe1.corp.example 10.99.1.2 &
		sleep 0.05 # let the poll start first: the timing counts from the command
		ds_ctl d link "${P}v" dns 10.99.0.1 domain '~corp.example' >/dev/null; wait)
	check "vpn: corp names answered by the VPN's resolver after dotctl link ($ms ms)" test "$ms" -lt 99999
	echo "# timing: dotctl link -> first corp answer from the VPN: $ms ms"
	check "vpn: its own transport is DoT" within 10 link_is "${P}v" transport dot
	check "vpn: DANE-authenticated" within 10 link_is "${P}v" authenticated true
	expect_eq "vpn: its upstream is the discovered resolver" "$(link_json "${P}v" upstream)" "$VPN_NAME"
	expect_eq "vpn: the TLSA that matched" "$(link_json "${P}v" tlsa)" "3 1 1"
	expect_eq "wifi: still plain" "$(link_json "${P}w" transport)" "plain"
	expect_eq "vpn: source dotctl" "$(link_json "${P}v" source)" "dotctl"
	expect_eq "vpn: routing domain" "$(link_json "${P}v" routing_domains)" '["corp.example"]'
	# every name to its own resolver, and only there
	check "split: intranet.corp.example -> the VPN's answer" answers intranet.corp.example 10.99.1.1
	check "split: www.example.test -> the wifi's answer" answers www.example.test 192.0.2.20
	check "split: reverse of the VPN's prefix -> the VPN" answers 7.0.99.10.in-addr.arpa host7.corp.example. PTR
	check "vpn log: saw intranet.corp.example" test "$(seen "$PROV_TMP/vpn" intranet.corp.example.)" -gt 0
	expect_eq "wifi log: never saw intranet.corp.example" "$(seen "$WIFI" intranet.corp.example.)" 0
	check "wifi log: saw www.example.test" test "$(seen "$WIFI" www.example.test.)" -gt 0
	expect_eq "vpn log: never saw www.example.test" "$(seen "$PROV_TMP/vpn" www.example.test.)" 0
	check "vpn log: saw the reverse name" test "$(seen "$PROV_TMP/vpn" 7.0.99.10.in-addr.arpa.)" -gt 0
	expect_eq "wifi log: never saw the reverse name" "$(seen "$WIFI" 7.0.99.10.in-addr.arpa.)" 0
	# dotctl query and status say which link and which transport
	out=$(ds_ctl d query txt.corp.example TXT 2>&1)
	expect_contains "query: routed to the VPN link" "$out" "link:        ${P}v ("
	expect_contains "query: by its domain" "$out" "by its domain"
	out=$(ds_ctl d query intranet.corp.example 2>&1)
	expect_contains "query: a cached corp answer still says the VPN link" "$out" "link:        ${P}v ("
	out=$(ds_ctl d query nothere.example.test 2>&1)
	expect_contains "query: other names: the default link" "$out" "the default link"
	expect_contains "query: over plain DNS" "$out" "plain DNS to 10.81.0.1"
	out=$(ds_ctl d status 2>&1)
	expect_contains "status: the VPN link" "$out" "${P}v ("
	expect_contains "status: its DoT, DANE" "$out" "authenticated by DANE TLSA 3 1 1"
	expect_contains "status: the wifi's plain DNS" "$out" "PLAIN DNS to 10.81.0.1"
	expect_contains "status: its routing domain" "$out" "~corp.example"
	check "log: the VPN link's transport change" grep -q "link ${P}v ([0-9]*): DoT authenticated to $VPN_NAME (DANE TLSA 3 1 1)" "$T_DIR/d/log"
	check "log: the wifi link's transport" grep -q "link ${P}w ([0-9]*, default): plain DNS" "$T_DIR/d/log"
	expect_eq "resolv.conf: no trust-ad while the wifi is plain" "$(grep ^options "$T_DIR/d.resolv.conf")" "options edns0"
	expect_not_contains "resolv.conf: a routing domain is not searched" "$(grep ^search "$T_DIR/d.resolv.conf")" "corp.example"
	# revert: corp names never reach the VPN's resolver again
	n=$(seen "$PROV_TMP/vpn" intranet.corp.example.)
	ds_ctl d link "${P}v" revert >/dev/null
	check "revert: corp names answered by the wifi's resolver" within 5 answers intranet.corp.example 192.0.2.66
	check "revert: a fresh corp name too (the wifi's NXDOMAIN)" rcode_is other.corp.example NXDOMAIN
	expect_eq "revert: the VPN's resolver saw no corp query since" "$(seen "$PROV_TMP/vpn" intranet.corp.example.)" "$n"
	expect_eq "revert: nor other.corp.example" "$(seen "$PROV_TMP/vpn" other.corp.example.)" 0
	check "revert: the wifi's resolver got it" test "$(seen "$WIFI" intranet.corp.example.)" -gt 0
	out=$(ds_ctl d link "${P}v" revert 2>&1)
	expect_contains "revert again: nothing to revert" "$out" "dotctl configures nothing there"
	out=$(ds_ctl d link "${P}v" dns not-an-address 2>&1)
	expect_contains "a bad address is refused" "$out" "not a resolver address"
	out=$(ds_ctl d link nosuchif0 dns 10.99.0.1 2>&1)
	expect_contains "a missing interface is refused" "$out" "no such interface"
}

# ---------------------------------------------------------------- networkd
# the daemon in a private mount namespace: $T_DIR/nd over /run/systemd/netif
nd_wrap() {
	mkdir -p "$T_DIR/nd/links"
	touch "$T_DIR/nd/state"
	cat >"$T_DIR/ndwrap.sh" <<'EOF'
#!/bin/sh
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || mount -t tmpfs tmpfs /run || exit 1
mkdir -p /run/systemd/netif
mount --bind "$ND_DIR" /run/systemd/netif || exit 1
exec "$@"
EOF
	WRAP="$IN unshare -m --propagation private env ND_DIR=$T_DIR/nd sh $T_DIR/ndwrap.sh"
}
# nd_write IFINDEX TEXT: the state file, written as networkd does (rename)
nd_write() {
	printf '%s' "$2" >"$T_DIR/nd/links/.#$1tmp" && mv "$T_DIR/nd/links/.#$1tmp" "$T_DIR/nd/links/$1"
}
s_networkd() {
	local idx ms out
	net_up || return 1
	nd_wrap
	idx=$($IN cat "/sys/class/net/${P}v/ifindex")
	WRAP=$WRAP start_daemon --networkd yes || return 1
	check "networkd: the default link serves" within 15 answers www.example.test 192.0.2.20
	ms=$(ms_until 20 answers probe2.corp.example 10.99.1.2 &
		sleep 0.05 # let the poll start first
		nd_write "$idx" "$(printf '# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\nNETWORK_FILE=/etc/systemd/network/vpn.network\nDNS=10.99.0.1\nNTP=\nDOMAINS=\nROUTE_DOMAINS=corp.example\nLLMNR=no\nMDNS=no\nDNS_DEFAULT_ROUTE=no\n')"; wait)
	check "networkd: its state file routes corp names to the VPN ($ms ms)" test "$ms" -lt 99999
	echo "# timing: networkd state file -> first corp answer from the VPN: $ms ms"
	expect_eq "networkd: the source" "$(link_json "${P}v" source)" networkd
	expect_eq "networkd: default route no" "$(link_json "${P}v" default_route)" false
	check "networkd: intranet.corp.example -> the VPN's answer" answers intranet.corp.example 10.99.1.1
	check "networkd: the VPN's resolver answered" test "$(seen "$PROV_TMP/vpn" intranet.corp.example.)" -gt 0
	expect_eq "networkd: the wifi's resolver never saw it" "$(seen "$WIFI" intranet.corp.example.)" 0
	# dotctl is the higher source: its domains replace networkd's
	ds_ctl d link "${P}v" dns 10.99.0.1 domain '~lab.example' >/dev/null
	check "dotctl over networkd: corp names back to the wifi" within 5 answers intranet.corp.example 192.0.2.66
	expect_eq "dotctl over networkd: the source" "$(link_json "${P}v" source)" dotctl
	ds_ctl d link "${P}v" revert >/dev/null
	check "revert: networkd's configuration again" within 5 link_is "${P}v" source networkd
	check "revert: corp names to the VPN again" within 10 answers intranet.corp.example 10.99.1.1
	check "revert: a fresh corp name too (the VPN's NXDOMAIN)" rcode_is other2.corp.example NXDOMAIN
	expect_eq "revert: the wifi never saw other2" "$(seen "$WIFI" other2.corp.example.)" 0
	# a value networkd would never write is left out, the rest used
	nd_write "$idx" "$(printf 'DNS=10.99.0.1 bogus%%x 10.99.0.1#vpn-dns.corp.example\nROUTE_DOMAINS=corp.example bad..name\nDNS_DEFAULT_ROUTE=maybe\n')"
	check "networkd: a bad value is logged and left out" within 5 grep -q "could not be read" "$T_DIR/d/log"
	expect_eq "networkd: the good values stay" "$(link_json "${P}v" routing_domains)" '["corp.example"]'
	rm -f "$T_DIR/nd/links/$idx"
	check "networkd: the file gone, corp names to the wifi" within 5 answers intranet.corp.example 192.0.2.66
	check "networkd: a fresh corp name (the wifi's NXDOMAIN)" rcode_is other3.corp.example NXDOMAIN
	check "networkd: the wifi's resolver got it" within 2 test "$(seen "$WIFI" other3.corp.example.)" -gt 0
	expect_eq "networkd: the VPN's never did" "$(seen "$PROV_TMP/vpn" other3.corp.example.)" 0
	out=$(ds_ctl d status --json)
	expect_not_contains "networkd: the link is gone from status" "$out" "\"interface\":\"${P}v\""
}

# ---------------------------------------------------------------- rewrite
s_rewrite() {
	local ms
	net_up || return 1
	start_daemon || return 1
	check "rewrite: the first resolver answers" within 15 answers www.example.test 192.0.2.20
	ms=$(ms_until 20 answers www.example.test 192.0.2.53 &
		sleep 0.05 # let the poll start first
		src_write "$(printf 'nameserver 10.81.0.53\nsearch home.example\n')"; wait)
	check "rewrite: the new resolver answers, no restart ($ms ms)" test "$ms" -lt 99999
	echo "# timing: resolv.conf source rewritten -> first answer from the new resolver: $ms ms"
	check "rewrite: the new resolver logged it" test "$(seen "$WIFI2" www.example.test.)" -gt 0
	expect_eq "rewrite: the default link's resolvers" "$(link_json "${P}w" resolvers)" '["10.81.0.53:53"]'
	expect_eq "rewrite: its source" "$(link_json "${P}w" source)" "resolv.conf"
}

# ---------------------------------------------------------------- glibc
# glibc_getent NAME: `getent ahosts NAME` in the client namespace, with the
# written resolv.conf bind-mounted as /etc/resolv.conf in a private mount
# namespace.  Where the machine's /etc/resolv.conf is a symbolic link to
# nowhere (nothing can be mounted on it), a copy of the files of /etc that
# glibc reads is mounted over /etc first.
glibc_getent() {
	# shellcheck disable=SC2016 # $1..$3 are expanded by the inner sh
	$IN unshare -m sh -c '
		if [ ! -e /etc/resolv.conf ]; then
			mkdir -p "$2" || exit 1
			for f in nsswitch.conf hosts host.conf gai.conf ld.so.cache ld.so.conf passwd group; do
				[ -e "/etc/$f" ] && cp -a "/etc/$f" "$2/"
			done
			: >"$2/resolv.conf"
			mount --bind "$2" /etc || exit 1
		fi
		mount --bind "$1" /etc/resolv.conf && getent ahosts "$3"' \
		sh "$T_DIR/d.resolv.conf" "$T_DIR/etc" "$1" 2>&1
}

s_glibc() {
	local out
	net_up || return 1
	start_daemon || return 1
	check "glibc: the default link serves" within 15 answers www.example.test 192.0.2.20
	ds_ctl d link "${P}v" dns 10.99.0.1 domain corp.example >/dev/null
	check "glibc: both links' search domains written" within 15 grep -qx "search home.example corp.example" "$T_DIR/d.resolv.conf"
	check "glibc: the VPN served" within 15 link_is "${P}v" authenticated true
	out=$(glibc_getent intranet)
	expect_contains "glibc: a short name found under the VPN's search domain" "$out" "10.99.1.1"
	out=$(glibc_getent printer)
	expect_contains "glibc: one under the wifi's" "$out" "10.81.0.99"
	check "glibc: the VPN's resolver got the VPN's name" test "$(seen "$PROV_TMP/vpn" intranet.corp.example.)" -gt 0
	expect_eq "glibc: the wifi's never did" "$(seen "$WIFI" intranet.corp.example.)" 0
	expect_eq "glibc: the VPN's never saw the wifi's name" "$(seen "$PROV_TMP/vpn" printer.home.example.)" 0
}

# ---------------------------------------------------------------- trust-ad
# "options edns0 trust-ad" only while every link in use is on
# DANE-authenticated DoT
options_are() { [ "$(grep ^options "$T_DIR/d.resolv.conf")" = "$1" ]; }
s_trust_ad() {
	WITH_WDOT=1 net_up || return 1
	src_write "$(printf 'nameserver 10.81.0.77\n')"
	DS_WRAP=$IN ds_start d --listen $L:53 --resolv-source "$RESOLV" \
		--resolv-conf-out "$T_DIR/d.resolv.conf" --discovery-wait 8000 --log-level info || return 1
	check "trust-ad: the wifi link on DoT" within 15 link_is "${P}w" authenticated true
	check "trust-ad: written while the only link is on DoT" within 5 options_are "options edns0 trust-ad"
	ds_ctl d link "${P}v" dns 10.99.0.1 domain '~corp.example' >/dev/null
	check "trust-ad: the VPN on DoT too" within 15 link_is "${P}v" authenticated true
	check "trust-ad: still written with both on DoT" within 5 options_are "options edns0 trust-ad"
	check "trust-ad: corp names answered" within 5 answers intranet.corp.example 10.99.1.1
	# the VPN's names now to a resolver that publishes nothing: plain
	ds_ctl d link "${P}v" dns 10.81.0.53 domain '~corp.example' >/dev/null
	check "trust-ad: the VPN link now plain" within 15 link_is "${P}v" transport plain
	check "trust-ad: gone while one link in use is plain" within 5 options_are "options edns0"
	ds_ctl d link "${P}v" revert >/dev/null
	check "trust-ad: back once that link is gone" within 5 options_are "options edns0 trust-ad"
}

# ---------------------------------------------------------------- root only
# The control socket admits the daemon's own user (and group) too; changing
# a link is root's only.
s_root_only() {
	local out
	ds_start d --listen $L:53 --network-resolver 127.0.0.9 --resolv-conf-out none \
		--user nobody || return 1
	chmod o+x "$T_DIR" "$T_DIR/d"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DOTCTL" -s "$T_DIR/d/control" \
		link lo dns 127.0.0.10 2>&1)
	expect_contains "the daemon's user may not change a link" "$out" "only root may change a link"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DOTCTL" -s "$T_DIR/d/control" \
		status 2>&1)
	expect_contains "it may read the status" "$out" "links:"
	check "root may" ds_ctl d link lo dns 127.0.0.10 domain '~root.example'
	check "root's configuration is in force" within 5 link_is lo source dotctl
	check "and root may revert it" ds_ctl d link lo revert
}

scenario split s_split teardown
scenario networkd s_networkd teardown
scenario rewrite s_rewrite teardown
scenario glibc s_glibc teardown
scenario trust_ad s_trust_ad teardown
scenario root_only s_root_only teardown
finish
