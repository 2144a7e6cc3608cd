# shellcheck shell=bash
# netns.sh -- a client namespace with a veth to a "gateway" namespace, for
# tests whose network fingerprint must be deterministic (see
# doc/TESTING-NETNS.md).  Source it.
#
#	netns_setup           creates $NS_CLI and $NS_GW (prefix from $$)
#	netns_teardown        kills their processes and deletes them
#	netns_reexec "$@"     run this script again inside $NS_CLI and exit
#	                      with its status (the namespaces are torn down)
#
# Client 10.77.0.2/24 + fd77::2/64, MAC 02:00:00:00:00:10, on ${NS_P}c;
# gateway 10.77.0.1 + fd77::1, MAC 02:00:00:00:00:01, on ${NS_P}g; default
# routes via the gateway and a permanent neighbour entry for it.

NS_P=${NS_P:-t$$}
NS_P=${NS_P:0:8}
NS_CLI=${NS_P}_cli
NS_GW=${NS_P}_gw

netns_teardown() {
	local ns i
	for ns in "$NS_CLI" "$NS_GW"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	# give them up to 2 s to exit
	for i in $(seq 1 40); do
		[ -z "$(ip netns pids "$NS_CLI" 2>/dev/null)$(ip netns pids "$NS_GW" 2>/dev/null)" ] && break
		[ "$i" = 40 ] || sleep 0.05 # pacing of this poll loop (no process left is the condition)
	done
	for ns in "$NS_CLI" "$NS_GW"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

netns_setup() {
	ip netns add "$NS_CLI" && ip netns add "$NS_GW" || return 1
	ip link add "${NS_P}c" type veth peer name "${NS_P}g" netns "$NS_GW" || return 1
	ip link set "${NS_P}c" netns "$NS_CLI"
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_GW" link set lo up
	ip -n "$NS_CLI" link set "${NS_P}c" address 02:00:00:00:00:10
	ip -n "$NS_GW" link set "${NS_P}g" address 02:00:00:00:00:01
	ip -n "$NS_CLI" addr add 10.77.0.2/24 dev "${NS_P}c"
	ip -n "$NS_GW" addr add 10.77.0.1/24 dev "${NS_P}g"
	ip -n "$NS_CLI" -6 addr add fd77::2/64 dev "${NS_P}c" nodad
	ip -n "$NS_GW" -6 addr add fd77::1/64 dev "${NS_P}g" nodad
	ip -n "$NS_CLI" link set "${NS_P}c" up
	ip -n "$NS_GW" link set "${NS_P}g" up
	ip -n "$NS_CLI" route add default via 10.77.0.1 dev "${NS_P}c"
	ip -n "$NS_CLI" -6 route add default via fd77::1 dev "${NS_P}c"
	ip -n "$NS_CLI" neigh replace 10.77.0.1 lladdr 02:00:00:00:00:01 dev "${NS_P}c" nud permanent
	ip -n "$NS_CLI" -6 neigh replace fd77::1 lladdr 02:00:00:00:00:01 dev "${NS_P}c" nud permanent
}

netns_reexec() {
	local rc
	if [ -n "${DOTSTUB_IN_NETNS:-}" ]; then
		return 0
	fi
	netns_teardown
	netns_setup || { echo "cannot create network namespaces"; netns_teardown; exit 1; }
	export NS_CLI NS_GW NS_P
	DOTSTUB_IN_NETNS=1 ip netns exec "$NS_CLI" bash "$0" "$@"
	rc=$?
	netns_teardown
	exit $rc
}
