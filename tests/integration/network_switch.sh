#!/usr/bin/env bash
# Network awareness end to end: a client namespace with one link to each of
# several "gateway" namespaces, each running a real Unbound provisioned with
# `dotctl provision` as that network's resolver.  The client's resolver
# addresses come from a resolv.conf-style file rewritten on every switch,
# as a DHCP client would.
#   A first use -> discovery; B -> discovery of B; back to A -> DoT to A at
#   once with zero clear-text DNS on the link; an impostor with A's gateway
#   and resolver addresses but another MAC and another anchor -> refused;
#   link down/up and a gateway MAC change handled without a restart;
#   queries in flight during a switch get an answer or SERVFAIL; an
#   IPv6-only network works the same.
set -u
. "$DOTSTUB_SRC/tests/lib/common.sh"
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"

P=n$$
P=${P:0:7}
CLI=${P}_cli
NETS="a b i c"
declare -A GWIP=([a]=10.77.0.1 [b]=10.78.0.1 [i]=10.77.0.1 [c]=fd79::1)
declare -A CLIIP=([a]=10.77.0.2/24 [b]=10.78.0.2/24 [i]=10.77.0.2/24 [c]=fd79::2/64)
declare -A GWMAC=([a]=02:00:00:00:00:0a [b]=02:00:00:00:00:0b [i]=02:00:00:00:00:0e [c]=02:00:00:00:00:0c)

teardown() {
	ds_stop_all
	prov_cleanup
	for ns in $CLI $(for n in $NETS; do echo ${P}_$n; done); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap teardown EXIT
PROV_TMP=$(mktemp -d /tmp/dotstub-prov.XXXXXX)

ip netns add $CLI || exit 1
ip -n $CLI link set lo up
for n in $NETS; do
	gw=${P}_$n
	ip netns add $gw
	ip -n $gw link set lo up
	ip link add ${P}$n type veth peer name ${P}g$n netns $gw
	ip link set ${P}$n netns $CLI
	ip -n $CLI link set ${P}$n address 02:00:00:00:01:0$((${#n}))
	ip -n $gw link set ${P}g$n address ${GWMAC[$n]}
	case ${GWIP[$n]} in
	*:*)
		ip -n $CLI -6 addr add ${CLIIP[$n]} dev ${P}$n nodad
		ip -n $gw -6 addr add ${GWIP[$n]}/64 dev ${P}g$n nodad ;;
	*)
		ip -n $CLI addr add ${CLIIP[$n]} dev ${P}$n
		ip -n $gw addr add ${GWIP[$n]}/24 dev ${P}g$n ;;
	esac
	ip -n $gw link set ${P}g$n up
done

IN="ip netns exec $CLI"
RESOLV=$T_DIR/resolv.conf

# switch_to NET: only that link up, its default route, its resolver
switch_to() {
	local n=$1
	for m in $NETS; do ip -n $CLI link set ${P}$m down; done
	ip -n $CLI link set ${P}$n up
	case ${GWIP[$n]} in
	*:*)
		ip -n $CLI -6 route replace default via ${GWIP[$n]} dev ${P}$n
		ip -n $CLI -6 neigh replace ${GWIP[$n]} lladdr ${GWMAC[$n]} dev ${P}$n nud permanent ;;
	*)
		ip -n $CLI route replace default via ${GWIP[$n]} dev ${P}$n
		ip -n $CLI neigh replace ${GWIP[$n]} lladdr ${GWMAC[$n]} dev ${P}$n nud permanent ;;
	esac
	printf 'nameserver %s\n' "${GWIP[$n]}" >"$RESOLV.tmp" && mv "$RESOLV.tmp" "$RESOLV"
}

# serve NET: provision its resolver and start Unbound in its gateway namespace
serve() {
	local n=$1 d=$PROV_TMP/$1 addr
	shift
	case ${GWIP[$n]} in
	*:*) "$DOTCTL" provision --addr6 ${GWIP[$n]} --out "$d" "$@" >/dev/null ;;
	*) "$DOTCTL" provision --addr ${GWIP[$n]} --out "$d" "$@" >/dev/null ;;
	esac || return 1
	PROV_EXTRA_CONF="	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow" prov_write_conf "$d"
	: >"$d/unbound.log"
	ip netns exec ${P}_$n unbound -d -c "$d/test-unbound.conf" >>"$d/unbound.log" 2>&1 &
	echo $! >"$d/test-unbound.pid"
	PROV_DIRS="$PROV_DIRS $d"
	addr=${GWIP[$n]}
	for _ in $(seq 1 50); do
		ip netns exec ${P}_$n dig @$addr +time=1 +tries=1 +norec SOA resolver-name.arpa 2>/dev/null |
			grep -q NOERROR && return 0
		sleep 0.1
	done
	cat "$d/unbound.log"
	return 1
}

for n in $NETS; do serve $n || { echo "cannot serve $n"; exit 1; }; done
declare -A NAME
for n in $NETS; do NAME[$n]=$(cat "$PROV_TMP/$n/name"); done

L=127.0.0.90
q() { $IN dig @$L +time=3 +tries=1 +short www.example.test A 2>/dev/null; }
answered() { [ "$(q)" = "192.0.2.10" ]; }
upstream_is() { "$DOTCTL" -s "$T_DIR/d/control" status 2>/dev/null | grep -q "upstream:   $1"; }

# ms_until CMD...: milliseconds until CMD succeeds (polling), max 15 s
ms_until() {
	local t0 t1
	t0=$(date +%s%N)
	wait_for 15 "$@" || { echo 99999; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

switch_to a
DS_WRAP=$IN ds_start d --listen $L:53 --resolv-source "$RESOLV" --discovery-wait 8000 \
	--log-level info || exit 1

# ---- A: first use
check "A: first use, discovered and answered" wait_for 15 answered
check "A: upstream is A's resolver" wait_for 5 upstream_is "${NAME[a]}"
check "A: pinned" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/d/control' trust list | grep -q '${NAME[a]}.*trusted'"

# ---- B: another network, discovered
switch_to b
check "B: discovered after the switch" wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'upstream:   ${NAME[b]}'"
check "B: answered" wait_for 10 answered
check "B: two anchors now" wait_for 5 sh -c "[ \$('$DOTCTL' -s '$T_DIR/d/control' trust list | grep -c trusted) = 2 ]"

# ---- back to A: known, DoT at once, no clear text on A's link
$IN tcpdump -i ${P}a -n -U -w "$T_DIR/a.pcap" "port 53" >/dev/null 2>&1 &
tcpd=$!
sleep 0.5
switch_to a
ms=$(ms_until sh -c "$IN dig @$L +time=1 +tries=1 +short www.example.test A | grep -q 192.0.2.10 && '$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'upstream:   ${NAME[a]}'")
echo "# switch back to A: first DoT answer after ${ms} ms (link change to answer, incl. debounce)"
check "back to A: answered within 3 s ($ms ms)" test "$ms" -lt 3000
expect_contains "back to A: known network, from the store" "$(ds_ctl d status)" "known network"
sleep 0.5
kill $tcpd; wait $tcpd 2>/dev/null
pkts=$(tcpdump -r "$T_DIR/a.pcap" 2>/dev/null | wc -l)
expect_eq "back to A: zero clear-text DNS packets on the link" "$pkts" "0"
grep "first answer over the new upstream" "$T_DIR/d/log" | tail -1 | sed 's/^/# daemon: /'

# ---- impostor: A's gateway and resolver addresses, another MAC, another anchor
$IN tcpdump -i ${P}i -n -A "port 53" >"$T_DIR/i.txt" 2>/dev/null &
tcpd=$!
sleep 0.5
switch_to i
check "impostor: refused" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'discovery:  refused'"
out=$($IN dig @$L +time=3 +tries=1 impostor-secret.example.test A)
expect_contains "impostor: SERVFAIL" "$out" "status: SERVFAIL"
expect_contains "impostor: alert logged" "$(ds_log d)" "ALERT"
expect_eq "impostor: no pin added or changed" "$(ds_ctl d trust list | grep -c trusted)" "2"
sleep 0.3
kill $tcpd; wait $tcpd 2>/dev/null
expect_not_contains "impostor: the client's query never went out in clear text" "$(cat "$T_DIR/i.txt")" "impostor-secret"

# ---- back to A; then link down/up: same network, handled without restart
switch_to a
check "A again: answered" wait_for 10 answered
pid=$(ds_pid d)
ip -n $CLI link set ${P}a down
sleep 0.5
t0=$(date +%s%N)
switch_to a
ms=$(ms_until answered)
echo "# link down/up on A: answered ${ms} ms after the link came back"
check "link bounce: answered within 2 s ($ms ms)" test "$ms" -lt 2000
expect_eq "link bounce: same daemon process" "$(ds_pid d)" "$pid"

# ---- gateway MAC change on A: detected within 1 s
before=$(grep -c "network changed" "$T_DIR/d/log")
ip -n ${P}_a link set ${P}ga address 02:00:00:00:00:aa
ip -n $CLI neigh replace 10.77.0.1 lladdr 02:00:00:00:00:aa dev ${P}a nud permanent
check "gateway MAC change detected within 1 s" wait_for 1 sh -c "[ \$(grep -c 'network changed' '$T_DIR/d/log') -gt $before ]"
check "gateway MAC change: the same resolver and anchor are used" wait_for 10 answered
ip -n ${P}_a link set ${P}ga address ${GWMAC[a]}
ip -n $CLI neigh replace 10.77.0.1 lladdr ${GWMAC[a]} dev ${P}a nud permanent
check "MAC restored: answered" wait_for 10 answered

# ---- queries in flight during a switch: answer or SERVFAIL, never a hang
seq 0 299 | sed 's/^/q/; s/$/.example.test A/' >"$T_DIR/names"
$IN dnsperf -s $L -d "$T_DIR/names" -l 4 -Q 200 -t 5 >"$T_DIR/perf.txt" 2>&1 &
perf=$!
sleep 1
switch_to b
sleep 1
switch_to a
wait $perf
lost=$(awk '/Queries lost:/ {print $3}' "$T_DIR/perf.txt")
expect_eq "in-flight queries during switches: none lost (answer or SERVFAIL)" "$lost" "0"

# ---- IPv6-only network
switch_to c
check "IPv6-only: discovered and answered" wait_for 15 answered
check "IPv6-only: upstream is C's resolver over IPv6" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'ready to \\[fd79::1\\]:853'"

check "the daemon never restarted" test "$(ds_pid d)" = "$pid"
finish
