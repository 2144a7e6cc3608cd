#!/bin/bash
# netinfo_netns.sh -- the network fingerprint and its watcher, in network
# namespaces this test creates (TESTING-NETNS.md).
#
# One client namespace with one veth; its other end lives in gateway
# namespace A (gateway MAC ..:01) and is later moved to gateway namespace B
# (same addressing, MAC ..:02): the cable moves to another network.
# netinfo_dump --watch runs in the client namespace with the default
# debounce (500 ms); every step measures the time from the change to the
# report line.  Needs root (ip netns); skipped (77) otherwise.
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

P=ni$$                      # short: interface names are at most 15 characters
CLI=${P}_cli A=${P}_a B=${P}_b
C=${P}c G=${P}g             # the client's interface, the gateway's end
MAC_C=02:00:00:00:00:10 MAC_A=02:00:00:00:00:01 MAC_B=02:00:00:00:00:02 MAC_A2=02:00:00:00:00:03
TMP=$(mktemp -d)
WATCH_PID=
MAX_MS=1000                 # a change must be reported within this
FAILED=0

cleanup() {
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	for ns in $CLI $A $B; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; FAILED=1; }
now() { date +%s.%N; }
ms_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# The watcher's output: wait for a report line after the mark.
OUT=$TMP/watch.out
MARK=0
mark() { MARK=$(wc -l < "$OUT"); }
# wait_report REGEX SECONDS: print the first matching line after the mark
wait_report() {
	local end=$(( $(date +%s%N) / 1000000 + $2 * 1000 )) line
	while :; do
		line=$(tail -n +$((MARK + 1)) "$OUT" | grep -E -- "$1" | head -n 1)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.02
	done
}
# step NAME T0 REGEX [SECONDS]: wait for the report, check and print latency
LAST=
step() {
	local line ms
	if ! line=$(wait_report "$3" "${4:-3}"); then
		fail "$1: no report matching /$3/"
		echo "--- watcher output since the step:"
		tail -n +$((MARK + 1)) "$OUT" | cut -c1-300
		return 1
	fi
	ms=$(ms_since "$2" "${line%% *}")
	echo "latency $1: ${ms} ms"
	echo "  ${line#* }" | cut -c1-400
	LAST=$line
	if [ "$ms" -gt "$MAX_MS" ]; then
		fail "$1: reported after $ms ms (> $MAX_MS)"
	fi
	return 0
}

# ------------------------------------------------------------------
# Set up
if ! ip netns add $CLI 2>/dev/null; then
	echo "SKIP: cannot create network namespaces"
	exit 77
fi
ip netns add $A && ip netns add $B || exit 1
for ns in $CLI $A $B; do
	ip -n $ns link set lo up
	# keep manually configured IPv6 addresses across link down, as a
	# static configuration would
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
	# announce a MAC change (gratuitous ARP, unsolicited NA)
	ip netns exec $ns sysctl -qw net.ipv4.conf.all.arp_notify=1 net.ipv6.conf.all.ndisc_notify=1
done
ip link add $C type veth peer name $G netns $A || exit 1
ip link set $C netns $CLI
ip -n $CLI link set $C address $MAC_C
ip -n $A link set $G address $MAC_A
ip -n $CLI addr add 10.77.0.2/24 dev $C
ip -n $CLI -6 addr add fd77::2/64 dev $C nodad
ip -n $A addr add 10.77.0.1/24 dev $G
ip -n $A -6 addr add fd77::1/64 dev $G nodad
ip -n $CLI link set $C up
ip -n $A link set $G up
ip -n $CLI route add default via 10.77.0.1 dev $C
ip -n $CLI -6 route add default via fd77::1 dev $C
# no static neighbour entries: the fingerprint code must provoke resolution
echo "nameserver 10.77.0.1" > $TMP/resolv.conf

# ------------------------------------------------------------------
# 1. One-shot read: both gateway MACs resolved by provoking ARP/ND
t0=$(now)
ONE=$(ip netns exec $CLI "$DUMP" --resolv $TMP/resolv.conf --wait 2000)
echo "one-shot ($(ms_since $t0 $(now)) ms, neighbours provoked): $ONE"
EXPECT_A="res=10.77.0.1 ssid=- v4gw=10.77.0.1 v4gwmac=$MAC_A v4if=$C v4ifmac=$MAC_C v4vlan=- v6gw=fd77::1 v6gwmac=$MAC_A v6if=$C v6ifmac=$MAC_C v6vlan=-"
[ "${ONE#* }" = "$EXPECT_A" ] || fail "one-shot: expected '$EXPECT_A'"
PARSED=$("$DUMP" --parse "${ONE#* }")
[ "$PARSED" = "$ONE" ] || fail "parse round trip: '$PARSED'"

# ------------------------------------------------------------------
# 2. The watcher
ip netns exec $CLI "$DUMP" --watch --resolv $TMP/resolv.conf > "$OUT" 2> $TMP/watch.err &
WATCH_PID=$!
t0=$(now)
step initial "$t0" " initial .*v4gwmac=$MAC_A .*v6gwmac=$MAC_A " || exit 1
[ "${LAST#* * * * * * * }" = "$EXPECT_A" ] || fail "initial: not the one-shot fingerprint"

# 3. The gateway's MAC changes (it announces it): the impostor case
sleep 0.7
mark; t0=$(now)
ip -n $A link set $G address $MAC_A2
step gateway-mac-change "$t0" " changed .*match=partial .*differ=v4gwmac,v6gwmac impostor=y .*v4gwmac=$MAC_A2 .*v6gwmac=$MAC_A2 "

# 4. Link down: the IPv4 default route vanishes without RTM_DELROUTE
sleep 0.7
mark; t0=$(now)
ip -n $CLI link set $C down
step link-down "$t0" " changed,bounced .* v4gw=- .* v6gw=- "
ip -n $CLI route show default | grep -q . && fail "link-down: IPv4 default route still there?"

# 5. Link up, routes restored (as a DHCP client would): neighbours were
#    flushed, so the MACs are resolved again
sleep 0.7
mark; t0=$(now)
ip -n $CLI link set $C up
ip -n $CLI route add default via 10.77.0.1 dev $C
ip -n $CLI -6 route add default via fd77::1 dev $C
step link-up "$t0" " changed .*v4gwmac=$MAC_A2 .*v6gwmac=$MAC_A2 "

# 6. A quick bounce inside one debounce window: same network, link bounced
sleep 0.7
mark; t0=$(now)
ip -n $CLI link set $C down
ip -n $CLI link set $C up
ip -n $CLI route add default via 10.77.0.1 dev $C
ip -n $CLI -6 route add default via fd77::1 dev $C
step bounce "$t0" " bounced [0-9a-f]{16} match=exact "

# 7. The cable moves from A to B: carrier lost, then network B with the
#    same addressing but another gateway MAC
sleep 0.7
mark; t0=$(now)
ip -n $A link set $G netns $B
step carrier-lost "$t0" " changed,bounced .* v4gw=- .* v6gw=- "
mark; t0=$(now)
ip -n $B link set $G address $MAC_B
ip -n $B addr add 10.77.0.1/24 dev $G
ip -n $B -6 addr add fd77::1/64 dev $G nodad
ip -n $B link set $G up
step move-to-B "$t0" " changed .*v4gwmac=$MAC_B .*v6gwmac=$MAC_B "
EXPECT_B=${EXPECT_A//$MAC_A/$MAC_B}
[ "${LAST#* * * * * * * }" = "$EXPECT_B" ] || fail "move-to-B: expected '$EXPECT_B'"

# 8. The network's resolver becomes the IPv6 one (DHCP rewrites
#    resolv.conf atomically), then the network goes IPv6-only: the IPv4
#    address and default route go away
sleep 0.7
mark; t0=$(now)
echo "nameserver fd77::1" > $TMP/resolv.conf.new
mv $TMP/resolv.conf.new $TMP/resolv.conf
step resolv-conf "$t0" " changed .*differ=res .*res=fd77::1 .* v4gwmac=$MAC_B .* v6gwmac=$MAC_B "
sleep 0.7
mark; t0=$(now)
ip -n $CLI -4 addr flush dev $C
step ipv6-only "$t0" " changed .* v4gw=- v4gwmac=- v4if=- .* v6gw=fd77::1 v6gwmac=$MAC_B v6if=$C "
ip -n $CLI neigh flush dev $C
ONE=$(ip netns exec $CLI "$DUMP" --res fd77::1 --wait 2000)
echo "one-shot IPv6 only (ND provoked): $ONE"
echo "$ONE" | grep -q "v4if=- .* v6gw=fd77::1 v6gwmac=$MAC_B v6if=$C " || fail "one-shot IPv6 only"

# 9. Overrun: a watcher with a tiny receive buffer, stopped (SIGSTOP)
#    during a burst of 300 address events, overruns; once continued it must
#    resynchronise and report the (unchanged) network with RESYNC
ip netns exec $CLI "$DUMP" --watch --rcvbuf 1 > $TMP/small.out 2> $TMP/small.err &
SMALL_PID=$!
sleep 0.7
for i in $(seq 1 300); do echo "addr add 10.99.$((i / 250)).$((i % 250 + 1))/32 dev lo"; done > $TMP/batch
kill -STOP $SMALL_PID
ip -n $CLI -batch $TMP/batch
kill -CONT $SMALL_PID
sleep 1
kill $SMALL_PID; wait $SMALL_PID 2>/dev/null
echo "overrun watcher: $(cat $TMP/small.err)"
grep -q "overruns=[1-9]" $TMP/small.err || fail "overrun: none provoked"
grep -q " bounced,resync [0-9a-f]* match=exact " $TMP/small.out || fail "overrun: no resync report"

kill $WATCH_PID; wait $WATCH_PID 2>/dev/null; WATCH_PID=
echo "watcher: $(cat $TMP/watch.err)"
if [ $FAILED != 0 ]; then
	echo "--- watcher output:"
	cut -c1-300 "$OUT"
	exit 1
fi
echo "PASS"
exit 0
