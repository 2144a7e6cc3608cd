#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# netinfo_netns.sh -- the network fingerprint and its watcher, in network
# namespaces this test creates (doc/TESTING-NETNS.md).
#
# One client namespace with one veth; its other end lives in gateway
# namespace A (gateway MAC ..:01) and is later moved to gateway namespace B
# (same addressing, MAC ..:02): the cable moves to another network.
# netinfo_dump --watch runs in the client namespace with the default
# debounce (500 ms); every step measures the time from the change to the
# report line.  Each scenario builds the namespaces afresh, starts its own
# watcher and removes both.  Needs root (ip netns); skipped (77) otherwise.
set -u

BUILD=${DOTSTUB_BUILD:-}
DUMP=$BUILD/tests/netinfo_dump
if [ -z "$BUILD" ] || [ ! -x "$DUMP" ]; then
	echo "SKIP: netinfo_dump not built (DOTSTUB_BUILD unset?)"
	exit 77
fi
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "SKIP: needs root and iproute2"
	exit 77
fi
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"

P=ni$$                      # short: interface names are at most 15 characters
CLI=${P}_cli A=${P}_a B=${P}_b
C=${P}c G=${P}g             # the client's interface, the gateway's end
MAC_C=02:00:00:00:00:10 MAC_A=02:00:00:00:00:01 MAC_B=02:00:00:00:00:02 MAC_A2=02:00:00:00:00:03
TMP=$T_DIR
MAX_MS=1000                 # a change must be reported within this
EXPECT_A="res=10.77.0.1 ssid=- v4gw=10.77.0.1 v4gwmac=$MAC_A v4if=$C v4ifmac=$MAC_C v4vlan=- v6gw=fd77::1 v6gwmac=$MAC_A v6if=$C v6ifmac=$MAC_C v6vlan=-"
EXPECT_B=${EXPECT_A//$MAC_A/$MAC_B}

net_down() {
	local ns
	for ns in $CLI $A $B; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
trap 'net_down; rm -rf "$T_DIR"' EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
ms_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# net_up: the client namespace, its link to gateway A, addresses, routes
net_up() {
	local ns
	net_down
	if ! ip netns add "$CLI" 2>/dev/null; then
		echo "cannot create network namespaces"
		return 1
	fi
	ip netns add "$A" && ip netns add "$B" || return 1
	for ns in $CLI $A $B; do
		ip -n "$ns" link set lo up
		# keep manually configured IPv6 addresses across link down, as a
		# static configuration would
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
		# announce a MAC change (gratuitous ARP, unsolicited NA)
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_notify=1 net.ipv6.conf.all.ndisc_notify=1
	done
	ip link add "$C" type veth peer name "$G" netns "$A" || return 1
	ip link set "$C" netns "$CLI"
	ip -n "$CLI" link set "$C" address $MAC_C
	ip -n "$A" link set "$G" address $MAC_A
	ip -n "$CLI" addr add 10.77.0.2/24 dev "$C"
	ip -n "$CLI" -6 addr add fd77::2/64 dev "$C" nodad
	ip -n "$A" addr add 10.77.0.1/24 dev "$G"
	ip -n "$A" -6 addr add fd77::1/64 dev "$G" nodad
	ip -n "$CLI" link set "$C" up
	ip -n "$A" link set "$G" up
	ip -n "$CLI" route add default via 10.77.0.1 dev "$C"
	ip -n "$CLI" -6 route add default via fd77::1 dev "$C"
	# no static neighbour entries: the fingerprint code must provoke resolution
	echo "nameserver 10.77.0.1" >"$TMP/resolv.conf"
}

# The watcher's output: wait for a report line after the mark.
OUT=$TMP/watch.out
MARK=0
mark() { MARK=$(wc -l <"$OUT"); }
# wait_report REGEX SECONDS: print the first matching line after the mark
wait_report() {
	local end=$(($(date +%s%N) / 1000000 + $2 * 1000)) line
	while :; do
		line=$(tail -n +$((MARK + 1)) "$OUT" | grep -E -- "$1" | head -n 1)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		[ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
		sleep 0.02 # pacing of this poll loop (the report line is the condition)
	done
}
# step NAME T0 REGEX [SECONDS]: wait for the report, check and print latency.
# The report is also the condition the next step waits for: the watcher
# has read the network again and its debounce window is closed.
LAST=
step() {
	local line ms
	if ! line=$(wait_report "$3" "${4:-3}"); then
		t_fail "$1: no report matching /$3/"
		echo "--- watcher output since the step:"
		tail -n +$((MARK + 1)) "$OUT" | cut -c1-300
		return 1
	fi
	ms=$(ms_since "$2" "${line%% *}")
	echo "latency $1: ${ms} ms"
	echo "  ${line#* }" | cut -c1-400
	LAST=$line
	check "$1: reported within $MAX_MS ms ($ms ms)" test "$ms" -le "$MAX_MS"
	return 0
}

# watch: start the watcher, wait for its initial report
watch() {
	local t0
	MARK=0
	ip netns exec "$CLI" "$DUMP" --watch --resolv "$TMP/resolv.conf" >"$OUT" 2>"$TMP/watch.err" &
	echo $! >"$TMP/watch.pid"
	t0=$(now)
	step initial "$t0" " initial .*v4gwmac=$MAC_A .*v6gwmac=$MAC_A " || return 1
	expect_eq "initial: the one-shot fingerprint" "${LAST#* * * * * * * }" "$EXPECT_A"
}
teardown() {
	if [ -f "$TMP/watch.pid" ]; then
		kill "$(cat "$TMP/watch.pid")" 2>/dev/null
		rm -f "$TMP/watch.pid"
		echo "watcher: $(cat "$TMP/watch.err")"
	fi
	net_down
}

# 1. One-shot read: both gateway MACs resolved by provoking ARP/ND
s_oneshot() {
	local t0 one parsed
	net_up || return 1
	t0=$(now)
	one=$(ip netns exec "$CLI" "$DUMP" --resolv "$TMP/resolv.conf" --wait 2000)
	echo "one-shot ($(ms_since "$t0" "$(now)") ms, neighbours provoked): $one"
	expect_eq "one-shot: the fingerprint" "${one#* }" "$EXPECT_A"
	parsed=$("$DUMP" --parse "${one#* }")
	expect_eq "parse round trip" "$parsed" "$one"
}

# 2. The gateway's MAC changes (it announces it): the impostor case
s_mac_change() {
	local t0
	net_up && watch || return 1
	mark; t0=$(now)
	ip -n "$A" link set "$G" address $MAC_A2
	step gateway-mac-change "$t0" " changed .*match=partial .*differ=v4gwmac,v6gwmac impostor=y .*v4gwmac=$MAC_A2 .*v6gwmac=$MAC_A2 "
}

# 3. Link down: the IPv4 default route vanishes without RTM_DELROUTE;
# 4. link up, routes restored (as a DHCP client would): neighbours were
#    flushed, so the MACs are resolved again
s_link_down_up() {
	local t0
	net_up && watch || return 1
	mark; t0=$(now)
	ip -n "$CLI" link set "$C" down
	step link-down "$t0" " changed,bounced .* v4gw=- .* v6gw=- "
	check "link-down: the IPv4 default route is gone" sh -c "! ip -n '$CLI' route show default | grep -q ."
	mark; t0=$(now)
	ip -n "$CLI" link set "$C" up
	ip -n "$CLI" route add default via 10.77.0.1 dev "$C"
	ip -n "$CLI" -6 route add default via fd77::1 dev "$C"
	step link-up "$t0" " changed .*v4gwmac=$MAC_A .*v6gwmac=$MAC_A "
}

# 5. A quick bounce inside one debounce window: same network, link bounced
s_bounce() {
	local t0
	net_up && watch || return 1
	mark; t0=$(now)
	ip -n "$CLI" link set "$C" down
	ip -n "$CLI" link set "$C" up
	ip -n "$CLI" route add default via 10.77.0.1 dev "$C"
	ip -n "$CLI" -6 route add default via fd77::1 dev "$C"
	step bounce "$t0" " bounced [0-9a-f]{16} match=exact "
}

# 6. The cable moves from A to B: carrier lost, then network B with the
#    same addressing but another gateway MAC; then the network's resolver
#    becomes the IPv6 one (DHCP rewrites resolv.conf atomically), then the
#    network goes IPv6-only: the IPv4 address and default route go away
s_cable_move() {
	local t0 one
	net_up && watch || return 1
	mark; t0=$(now)
	ip -n "$A" link set "$G" netns "$B"
	step carrier-lost "$t0" " changed,bounced .* v4gw=- .* v6gw=- "
	mark; t0=$(now)
	ip -n "$B" link set "$G" address $MAC_B
	ip -n "$B" addr add 10.77.0.1/24 dev "$G"
	ip -n "$B" -6 addr add fd77::1/64 dev "$G" nodad
	ip -n "$B" link set "$G" up
	step move-to-B "$t0" " changed .*v4gwmac=$MAC_B .*v6gwmac=$MAC_B "
	expect_eq "move-to-B: the fingerprint of B" "${LAST#* * * * * * * }" "$EXPECT_B"

	mark; t0=$(now)
	echo "nameserver fd77::1" >"$TMP/resolv.conf.new"
	mv "$TMP/resolv.conf.new" "$TMP/resolv.conf"
	step resolv-conf "$t0" " changed .*differ=res .*res=fd77::1 .* v4gwmac=$MAC_B .* v6gwmac=$MAC_B "
	mark; t0=$(now)
	ip -n "$CLI" -4 addr flush dev "$C"
	step ipv6-only "$t0" " changed .* v4gw=- v4gwmac=- v4if=- .* v6gw=fd77::1 v6gwmac=$MAC_B v6if=$C "
	ip -n "$CLI" neigh flush dev "$C"
	one=$(ip netns exec "$CLI" "$DUMP" --res fd77::1 --wait 2000)
	echo "one-shot IPv6 only (ND provoked): $one"
	expect_contains "one-shot IPv6 only" "$one" "v6gw=fd77::1 v6gwmac=$MAC_B v6if=$C "
	check "one-shot IPv6 only: no IPv4" sh -c "echo '$one' | grep -q 'v4if=- .* v6gw=fd77::1 v6gwmac=$MAC_B v6if=$C '"
}

# 7. Overrun: a watcher with a tiny receive buffer, stopped (SIGSTOP)
#    during a burst of 300 address events, overruns; once continued it must
#    resynchronise and report the (unchanged) network with RESYNC
s_overrun() {
	local small i
	net_up || return 1
	ip netns exec "$CLI" "$DUMP" --watch --rcvbuf 1 >"$TMP/small.out" 2>"$TMP/small.err" &
	small=$!
	echo $small >"$TMP/small.pid"
	# it has read the network once
	wait_for 5 grep -q " initial " "$TMP/small.out" || echo "# no initial report from the small watcher"
	for i in $(seq 1 300); do echo "addr add 10.99.$((i / 250)).$((i % 250 + 1))/32 dev lo"; done >"$TMP/batch"
	kill -STOP $small
	ip -n "$CLI" -batch "$TMP/batch"
	kill -CONT $small
	check "overrun: resync report" wait_for 5 grep -q " bounced,resync [0-9a-f]* match=exact " "$TMP/small.out"
	kill $small
	wait $small 2>/dev/null
	rm -f "$TMP/small.pid"
	echo "overrun watcher: $(cat "$TMP/small.err")"
	check "overrun: provoked" grep -q "overruns=[1-9]" "$TMP/small.err"
}
teardown_overrun() {
	if [ -f "$TMP/small.pid" ]; then kill -CONT "$(cat "$TMP/small.pid")"; kill "$(cat "$TMP/small.pid")"; fi 2>/dev/null
	rm -f "$TMP/small.pid"
	net_down
}

scenario oneshot s_oneshot teardown
scenario mac-change s_mac_change teardown
scenario link-down-up s_link_down_up teardown
scenario bounce s_bounce teardown
scenario cable-move s_cable_move teardown
scenario overrun s_overrun teardown_overrun
finish
