#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
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
# The resolvers are provisioned once; each scenario builds the namespaces
# and links it needs, starts their Unbound and a fresh daemon, brings the
# daemon to the state it starts from (e.g. A and B already known) and
# removes it all afterwards.  Captures run on the gateway's end of a link:
# what the network sees.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"

P=n$$
P=${P:0:7}
CLI=${P}_cli
NETS="a b i c"
declare -A GWIP=([a]=10.77.0.1 [b]=10.78.0.1 [i]=10.77.0.1 [c]=fd79::1)
declare -A CLIIP=([a]=10.77.0.2/24 [b]=10.78.0.2/24 [i]=10.77.0.2/24 [c]=fd79::2/64)
declare -A GWMAC=([a]=02:00:00:00:00:0a [b]=02:00:00:00:00:0b [i]=02:00:00:00:00:0e [c]=02:00:00:00:00:0c)
UP_NETS=

net_down() {
	local ns
	prov_stop_all
	for ns in $CLI $(for n in $NETS; do echo "${P}_$n"; done); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	UP_NETS=
	return 0
}
cleanup() {
	ds_stop_all
	cap_stop_all
	net_down
	prov_cleanup
	rm -rf "$T_DIR"
}
trap cleanup EXIT
PROV_TMP=$(mktemp -d /tmp/dotstub-prov.XXXXXX)

IN="ip netns exec $CLI"
RESOLV=$T_DIR/resolv.conf
L=127.0.0.90

# The resolvers of every network, provisioned once (files only).
declare -A NAME
for n in $NETS; do
	d=$PROV_TMP/$n
	case ${GWIP[$n]} in
	*:*) "$DOTCTL" provision --addr6 "${GWIP[$n]}" --out "$d" >/dev/null ;;
	*) "$DOTCTL" provision --addr "${GWIP[$n]}" --out "$d" >/dev/null ;;
	esac || { echo "cannot provision $n"; exit 1; }
	PROV_EXTRA_CONF="	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow" prov_write_conf "$d"
	NAME[$n]=$(cat "$d/name")
done

# serve NET: start Unbound in its gateway namespace, wait until it answers
serve() {
	local n=$1 d=$PROV_TMP/$1
	: >"$d/unbound.log"
	ip netns exec "${P}_$n" unbound -d -c "$d/test-unbound.conf" >>"$d/unbound.log" 2>&1 &
	echo $! >"$d/test-unbound.pid"
	if ! wait_for 5 sh -c "ip netns exec '${P}_$n' dig @${GWIP[$n]} +time=1 +tries=1 +norec SOA resolver-name.arpa | grep -q NOERROR"; then
		cat "$d/unbound.log"
		return 1
	fi
}

# net_up NET...: the client namespace with a link to each NET's gateway
# namespace (links down), each gateway's Unbound serving
net_up() {
	local n gw
	net_down
	ip netns add "$CLI" || return 1
	ip -n "$CLI" link set lo up
	for n in "$@"; do
		gw=${P}_$n
		ip netns add "$gw" || return 1
		ip -n "$gw" link set lo up
		ip link add "${P}$n" type veth peer name "${P}g$n" netns "$gw" || return 1
		ip link set "${P}$n" netns "$CLI"
		ip -n "$CLI" link set "${P}$n" address "02:00:00:00:01:0${#n}"
		ip -n "$gw" link set "${P}g$n" address "${GWMAC[$n]}"
		case ${GWIP[$n]} in
		*:*)
			ip -n "$CLI" -6 addr add "${CLIIP[$n]}" dev "${P}$n" nodad
			ip -n "$gw" -6 addr add "${GWIP[$n]}/64" dev "${P}g$n" nodad ;;
		*)
			ip -n "$CLI" addr add "${CLIIP[$n]}" dev "${P}$n"
			ip -n "$gw" addr add "${GWIP[$n]}/24" dev "${P}g$n" ;;
		esac
		ip -n "$gw" link set "${P}g$n" up
		serve "$n" || { echo "cannot serve $n"; return 1; }
	done
	UP_NETS="$*"
}

# switch_to NET: only that link up, its default route, its resolver
switch_to() {
	local n=$1 m
	for m in $UP_NETS; do ip -n "$CLI" link set "${P}$m" down; done
	ip -n "$CLI" link set "${P}$n" up
	case ${GWIP[$n]} in
	*:*)
		ip -n "$CLI" -6 route replace default via "${GWIP[$n]}" dev "${P}$n"
		ip -n "$CLI" -6 neigh replace "${GWIP[$n]}" lladdr "${GWMAC[$n]}" dev "${P}$n" nud permanent ;;
	*)
		ip -n "$CLI" route replace default via "${GWIP[$n]}" dev "${P}$n"
		ip -n "$CLI" neigh replace "${GWIP[$n]}" lladdr "${GWMAC[$n]}" dev "${P}$n" nud permanent ;;
	esac
	printf 'nameserver %s\n' "${GWIP[$n]}" >"$RESOLV.tmp" && mv "$RESOLV.tmp" "$RESOLV"
}

q() { $IN dig @$L +time=3 +tries=1 +short www.example.test A 2>/dev/null; }
answered() { [ "$(q)" = "192.0.2.10" ]; }
upstream_is() { "$DOTCTL" -s "$T_DIR/d/control" status 2>/dev/null | grep -q "upstream:   $1"; }
pinned() { "$DOTCTL" -s "$T_DIR/d/control" trust list 2>/dev/null | grep -q "$1.*trusted"; }

# ms_until CMD...: milliseconds until CMD succeeds (polling), max 15 s
ms_until() {
	local t0 t1
	t0=$(date +%s%N)
	wait_for 15 "$@" || { echo 99999; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# start_on NET: switch to NET and start the daemon there
start_on() {
	switch_to "$1"
	DS_WRAP=$IN ds_start d --listen $L:53 --resolv-source "$RESOLV" --discovery-wait 8000 \
		--log-level info || return 1
	PID0=$(ds_pid d)
}
# learn NET: switch to NET, wait until it is discovered, answered and pinned
learn() {
	switch_to "$1"
	if ! wait_for 15 upstream_is "${NAME[$1]}" || ! wait_for 15 answered || ! wait_for 5 pinned "${NAME[$1]}"; then
		echo "network $1 was not learned"
		return 1
	fi
}
# cache_hit_once: a query is answered from the cache (the positive control
# before a stop), once the last switch has settled: until then queries are
# held and not counted as hits
cache_hit_once() {
	local hits
	hits=$(ds_json d counters.cache_hits)
	for _ in $(seq 1 50); do
		q >/dev/null
		[ "$(ds_json d counters.cache_hits)" -gt "$hits" ] && return 0
		sleep 0.1 # pacing of this poll loop (a cache hit is the condition)
	done
	return 1
}
same_daemon() { check "the daemon never restarted" test "$(ds_pid d)" = "$PID0"; }
teardown() { net_down; rm -rf "$T_DIR/d"; }

# ---- A: first use
s_first_use() {
	net_up a || return 1
	start_on a || return 1
	check "A: first use, discovered and answered" wait_for 15 answered
	check "A: upstream is A's resolver" wait_for 5 upstream_is "${NAME[a]}"
	check "A: pinned" wait_for 5 pinned "${NAME[a]}"
}

# ---- B: another network, discovered
s_discover_b() {
	net_up a b || return 1
	start_on a && learn a || return 1
	switch_to b
	check "B: discovered after the switch" wait_for 15 upstream_is "${NAME[b]}"
	check "B: answered" wait_for 10 answered
	check "B: two anchors now" wait_for 5 sh -c "[ \$('$DOTCTL' -s '$T_DIR/d/control' trust list | grep -c trusted) = 2 ]"
	same_daemon
}

# ---- back to A: known, DoT at once, no clear text on A's link
s_back_to_a() {
	local ms
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	cap_start back "${P}ga" "${P}_a"
	switch_to a
	ms=$(ms_until sh -c "$IN dig @$L +time=1 +tries=1 +short www.example.test A | grep -q 192.0.2.10 && '$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'upstream:   ${NAME[a]}'")
	echo "# switch back to A: first DoT answer after ${ms} ms (link change to answer, incl. debounce)"
	check "back to A: answered within 3 s ($ms ms)" test "$ms" -lt 3000
	expect_contains "back to A: known network, from the store" "$(ds_ctl d status)" "known network"
	cap_stop back "${GWIP[a]}" "$CLI"
	cap_expect_seen "back to A: the capture saw DoT on the link" back "tcp port 853"
	cap_expect_none "back to A: zero clear-text DNS packets on the link" back "port 53"
	grep "first answer over the new upstream" "$T_DIR/d/log" | tail -1 | sed 's/^/# daemon: /'
	same_daemon
}

# ---- impostor: A's gateway and resolver addresses, another MAC, another anchor
s_impostor() {
	local out
	net_up a b i || return 1
	start_on a && learn a && learn b || return 1
	cap_start imp "${P}gi" "${P}_i"
	switch_to i
	check "impostor: refused" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'discovery:  refused'"
	out=$($IN dig @$L +time=3 +tries=1 impostor-secret.example.test A)
	expect_contains "impostor: SERVFAIL" "$out" "status: SERVFAIL"
	expect_contains "impostor: alert logged" "$(ds_log d)" "ALERT"
	expect_eq "impostor: no pin added or changed" "$(ds_ctl d trust list | grep -c trusted)" "2"
	cap_stop imp "${GWIP[i]}" "$CLI"
	cap_expect_seen "impostor: the capture saw the discovery queries on the link" imp "dst port 53"
	cap_expect_absent "impostor: the client's query never went out in clear text" imp "impostor-secret"
	same_daemon
}

# ---- back to A; then link down/up: same network, handled without restart
s_link_bounce() {
	local pid changes ms
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	switch_to a
	check "A again: answered" wait_for 10 answered
	pid=$(ds_pid d)
	changes=$(ds_log_count d "network changed")
	ip -n "$CLI" link set "${P}a" down
	# the daemon has seen the link go down
	ds_wait_log d "network changed" "$changes" 3 || echo "# the link going down was not reported"
	switch_to a
	ms=$(ms_until answered)
	echo "# link down/up on A: answered ${ms} ms after the link came back"
	check "link bounce: answered within 2 s ($ms ms)" test "$ms" -lt 2000
	expect_eq "link bounce: same daemon process" "$(ds_pid d)" "$pid"
}

# ---- gateway MAC change on A: detected within 1 s
s_gateway_mac() {
	local before
	net_up a || return 1
	start_on a && learn a || return 1
	before=$(ds_log_count d "network changed")
	ip -n "${P}_a" link set "${P}ga" address 02:00:00:00:00:aa
	ip -n "$CLI" neigh replace 10.77.0.1 lladdr 02:00:00:00:00:aa dev "${P}a" nud permanent
	check "gateway MAC change detected within 1 s" ds_wait_log d "network changed" "$before" 1
	check "gateway MAC change: the same resolver and anchor are used" wait_for 10 answered
	ip -n "${P}_a" link set "${P}ga" address "${GWMAC[a]}"
	ip -n "$CLI" neigh replace 10.77.0.1 lladdr "${GWMAC[a]}" dev "${P}a" nud permanent
	check "MAC restored: answered" wait_for 10 answered
	same_daemon
}

# ---- queries in flight during a switch: answer or SERVFAIL, never a hang
s_in_flight() {
	local perf before lost
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	switch_to a
	wait_for 10 answered || { echo "A not answering"; return 1; }
	seq 0 299 | sed 's/^/q/; s/$/.example.test A/' >"$T_DIR/names"
	before=$(ds_json d counters.queries)
	$IN dnsperf -s $L -d "$T_DIR/names" -l 4 -Q 200 -t 5 >"$T_DIR/perf.txt" 2>&1 &
	perf=$!
	# the queries are flowing
	wait_for 3 sh -c "[ \$('$DOTCTL' -s '$T_DIR/d/control' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"queries\"])') -gt $((before + 50)) ]" ||
		echo "# the queries did not reach the daemon"
	switch_to b
	# the daemon is on B before the switch back
	wait_for 3 upstream_is "${NAME[b]}" || echo "# B was not reached before switching back"
	switch_to a
	wait $perf
	lost=$(awk '/Queries lost:/ {print $3}' "$T_DIR/perf.txt")
	expect_eq "in-flight queries during switches: none lost (answer or SERVFAIL)" "$lost" "0"
	same_daemon
}

# ---- IPv6-only network
s_ipv6_only() {
	net_up a c || return 1
	start_on a && learn a || return 1
	switch_to c
	check "IPv6-only: discovered and answered" wait_for 15 answered
	check "IPv6-only: upstream is C's resolver over IPv6" wait_for 5 sh -c "'$DOTCTL' -s '$T_DIR/d/control' status | grep -q 'ready to \\[fd79::1\\]:853'"
	same_daemon
}

# ---- a look-alike of A: another gateway address and MAC, but a resolver at
# A's pinned resolver address (10.77.0.1).  The daemon tries DoT to it with
# A's pinned name and TLSA before anything else.
#   lookalike_up pinned: A's own resolver is there (a new router in front of
#     it): DANE authenticates it, DoT at once, strict, no discovery;
#   lookalike_up plain: an attacker's plain resolver that strips
#     resolver-name.arpa: an ALERT, and the reason in status.
lookalike_up() {
	local gw=${P}_l d=$PROV_TMP/l
	ip netns add "$gw" || return 1
	ip -n "$gw" link set lo up
	ip link add "${P}l" type veth peer name "${P}gl" netns "$gw" || return 1
	ip link set "${P}l" netns "$CLI"
	ip -n "$CLI" link set "${P}l" address 02:00:00:00:01:0f
	ip -n "$gw" link set "${P}gl" address 02:00:00:00:00:0f
	ip -n "$CLI" addr add 10.77.0.2/24 dev "${P}l"
	ip -n "$gw" addr add 10.77.0.254/24 dev "${P}gl"
	ip -n "$gw" addr add 10.77.0.1/24 dev "${P}gl"
	ip -n "$gw" link set "${P}gl" up
	mkdir -p "$d"
	if [ "$1" = pinned ]; then
		cp "$PROV_TMP/a/test-unbound.conf" "$d/unbound.conf"
	else
		cat >"$d/unbound.conf" <<-EOF
		server:
		 	interface: 10.77.0.1
		 	port: 53
		 	access-control: 0.0.0.0/0 allow
		 	chroot: ""
		 	username: ""
		 	pidfile: ""
		 	use-syslog: no
		 	local-zone: "resolver-name.arpa." static
		 	local-zone: "resolver.arpa." static
		 	local-zone: "example.test." static
		 	local-data: "www.example.test. 60 IN A 192.0.2.66"
		EOF
	fi
	ip netns exec "$gw" unbound -d -c "$d/unbound.conf" >"$d/unbound.log" 2>&1 &
	echo $! >"$d/test-unbound.pid"
	wait_for 5 sh -c "ip netns exec '$gw' dig @10.77.0.1 +time=1 +tries=1 www.example.test A | grep -q NOERROR" ||
		{ cat "$d/unbound.log"; return 1; }
}
switch_to_lookalike() {
	local m
	for m in $UP_NETS; do ip -n "$CLI" link set "${P}$m" down; done
	ip -n "$CLI" link set "${P}l" up
	ip -n "$CLI" route replace default via 10.77.0.254 dev "${P}l"
	ip -n "$CLI" neigh replace 10.77.0.254 lladdr 02:00:00:00:00:0f dev "${P}l" nud permanent
	printf 'nameserver 10.77.0.1\n' >"$RESOLV.tmp" && mv "$RESOLV.tmp" "$RESOLV"
}
lookalike_down() {
	[ -f "$PROV_TMP/l/test-unbound.pid" ] && kill "$(cat "$PROV_TMP/l/test-unbound.pid")" 2>/dev/null
	ip netns pids "${P}_l" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "${P}_l" 2>/dev/null
	rm -rf "$PROV_TMP/l"
	teardown
}

s_lookalike_pinned() {
	local ms
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	lookalike_up pinned || return 1
	cap_start look "${P}gl" "${P}_l"
	switch_to_lookalike
	ms=$(ms_until sh -c "grep -q 'its resolver is the pinned ${NAME[a]}' '$T_DIR/d/log' && $IN dig @$L +time=1 +tries=1 +short www.example.test A | grep -q 192.0.2.10")
	echo "# look-alike with A's resolver: recognised and answered over DoT after ${ms} ms"
	check "look-alike, A's resolver: recognised as the pinned resolver and answered within 3 s ($ms ms)" test "$ms" -lt 3000
	check "look-alike, A's resolver: DoT to A's pinned resolver" upstream_is "${NAME[a]}"
	expect_not_contains "look-alike, A's resolver: no alert" "$(ds_log d)" "ALERT"
	cap_stop look 10.77.0.1 "$CLI"
	cap_expect_seen "look-alike, A's resolver: the capture saw DoT on the link" look "tcp port 853"
	cap_expect_none "look-alike, A's resolver: no clear-text DNS (no discovery)" look "port 53"
	same_daemon
}

s_lookalike_attack() {
	local out st
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	lookalike_up plain || return 1
	switch_to_lookalike
	check "look-alike attack: ALERT logged" wait_for 15 sh -c "grep -q 'ALERT.*resolver address of pinned ${NAME[a]}, DoT failed' '$T_DIR/d/log'"
	st=$(ds_ctl d status)
	expect_contains "look-alike attack: status says so" "$st" "resolver address of pinned ${NAME[a]}, DoT failed"
	expect_contains "look-alike attack: status says it looks new" "$st" "looks like a new network"
	out=$(q)
	expect_eq "look-alike attack: opportunistic mode answers in plain DNS (the documented cost)" "$out" "192.0.2.66"
	expect_eq "look-alike attack: nothing pinned or changed" "$(ds_ctl d trust list | grep -c trusted)" "2"
	same_daemon
}

s_lookalike_strict() {
	local out
	net_up a b || return 1
	switch_to a
	DS_WRAP=$IN ds_start d --listen $L:53 --resolv-source "$RESOLV" --discovery-wait 8000 \
		--log-level info --unknown-network strict || return 1
	PID0=$(ds_pid d)
	learn a && learn b || return 1
	lookalike_up plain || return 1
	switch_to_lookalike
	check "look-alike, strict: ALERT logged" wait_for 15 sh -c "grep -q 'ALERT.*resolver address of pinned' '$T_DIR/d/log'"
	out=$($IN dig @$L +time=3 +tries=1 www.example.test A)
	expect_contains "look-alike, strict: SERVFAIL, never the attacker's answer" "$out" "status: SERVFAIL"
	expect_not_contains "look-alike, strict: no plain answer" "$out" "192.0.2.66"
	same_daemon
}

# ---- stopped (as in a suspend), switched, resumed: the first query after
# the resume must not be answered from the old network's cache
s_resume() {
	local hits out
	net_up a b || return 1
	start_on a && learn a && learn b || return 1
	switch_to a
	wait_for 10 answered || { echo "A not answering"; return 1; }
	check "resume: A's answer is cached (a hit before the stop)" cache_hit_once
	hits=$(ds_json d counters.cache_hits)
	# shellcheck disable=SC2046 # one word per process
	kill -STOP $(ds_pids d)
	switch_to b
	# shellcheck disable=SC2046 # one word per process
	kill -CONT $(ds_pids d)
	out=$($IN dig @$L +time=3 +tries=1 www.example.test A 2>&1)
	expect_contains "resume: answered after the switch" "$out" "192.0.2.10"
	expect_eq "resume: not from the old network's cache" "$(ds_json d counters.cache_hits)" "$hits"
	grep -E "network changed|known|hold|first answer" "$T_DIR/d/log" | tail -5 | sed 's/^/# daemon: /' 
	check "resume: B's resolver serves" wait_for 5 upstream_is "${NAME[b]}"
	same_daemon
}

# ---- a pause with no news of the network (a suspend on the same network):
# the network is read again before the first query after it is answered,
# and, the network being the same, its cache is kept
s_pause() {
	local hits n c out t0 t1
	net_up a || return 1
	start_on a && learn a || return 1
	wait_for 10 answered || { echo "A not answering"; return 1; }
	check "pause: A's answer is cached (a hit before the pause)" cache_hit_once
	hits=$(ds_json d counters.cache_hits)
	n=$(ds_log_count d "resumed after a pause")
	c=$(ds_log_count d "network changed")
	# shellcheck disable=SC2046 # one word per process
	kill -STOP $(ds_pids d)
	sleep 6 # the pause under test (three periods of the pause detector)
	# shellcheck disable=SC2046 # one word per process
	kill -CONT $(ds_pids d)
	out=$(q)
	expect_eq "pause: answered after it" "$out" "192.0.2.10"
	# the detector runs before the queries that woke the daemon with it
	check "pause: the network was read again before that answer" test "$(ds_log_count d "resumed after a pause")" -gt "$n"
	check "pause: same network, its cache is kept" test "$(ds_json d counters.cache_hits)" -gt "$hits"
	expect_eq "pause: no network change" "$(ds_log_count d "network changed")" "$c"
	# connections that lived through the pause may be dead: new ones, and
	# a query the cache cannot answer is answered within 1 s
	check "pause: connections renewed" wait_for 3 grep -q "resumed after a pause, same network: reconnecting" "$T_DIR/d/log"
	t0=$(date +%s%N)
	out=$($IN dig @$L +time=2 +tries=1 +short txt.example.test TXT 2>/dev/null)
	t1=$(date +%s%N)
	expect_eq "pause: a new query answered over the new connection" "$out" '"dotstub test"'
	check "pause: ... within 1 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 1000
	same_daemon
}

scenario first-use-a s_first_use teardown
scenario discover-b s_discover_b teardown
scenario back-to-a s_back_to_a teardown
scenario impostor s_impostor teardown
scenario link-bounce s_link_bounce teardown
scenario gateway-mac s_gateway_mac teardown
scenario in-flight s_in_flight teardown
scenario ipv6-only s_ipv6_only teardown
scenario resume s_resume teardown
scenario pause s_pause teardown
scenario lookalike-pinned s_lookalike_pinned lookalike_down
scenario lookalike-attack s_lookalike_attack lookalike_down
scenario lookalike-strict s_lookalike_strict lookalike_down
finish
