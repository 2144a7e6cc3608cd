#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# provision_operator.sh -- the operator's files that `dotctl provision`
# writes, used exactly as written, against real servers:
#   reload     the README's reload commands after `resign` work with the
#              written unbound.conf, and Unbound then serves the new RRSIGs
#   serial     every signing raises the SOA serial, also within one second
#   access     the written unbound.conf answers clients in --allow (or the
#              /24 around --addr) and refuses others; --forward-to forwards
#   forwarder  --forwarder writes a forward-zone over DNS-over-TLS: the
#              forwarder's queries to its upstream go to port 853 only
#   bind       the written named.conf: BIND 9.18 serves both zones signed
#              (NSEC, validated from the anchor) and DNS-over-TLS
# The whole script runs in a network namespace of its own with only a
# loopback interface: the written configurations are full resolvers, and
# whatever they try to reach outside stays there.
set -u

if [ -z "${DS_OPERATOR_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (namespaces, ports 53 and 853)"
		exit 77
	fi
	for t in unbound unbound-control unbound-checkconf named named-checkconf \
	    dig delv kdig tcpdump openssl ip; do
		command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
		command -v "$t" >/dev/null 2>&1 || {
			echo "SKIP: $t not installed"; exit 77; }
	done
	ns=dsop$$
	ip netns add "$ns" || exit 1
	ip -n "$ns" link set lo up
	# BIND listens only on addresses assigned to an interface
	ip -n "$ns" addr add 127.0.0.113/32 dev lo
	DS_OPERATOR_NS=$ns PATH=$PATH ip netns exec "$ns" bash "$0" "$@"
	rc=$?
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns"
	exit $rc
fi

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"

ARPA=resolver-name.arpa
T=$T_DIR
trap 'srv_stop_all; rm -rf "$T_DIR"' EXIT
trap 'exit 1' INT TERM HUP

# srv_start NAME ADDR COMMAND...: a server in the foreground, in the
# background, logging to $T/NAME.log; waits until ADDR answers SOA
# resolver-name.arpa (5 s at most).
srv_start() {
	local name=$1 addr=$2 i
	shift 2
	"$@" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.srvpid"
	for i in $(seq 1 100); do
		if ! pid_alive "$(cat "$T/$name.srvpid")"; then
			echo "# $name died:"; tail -20 "$T/$name.log"
			return 1
		fi
		dig @"$addr" +time=1 +tries=1 +norec SOA $ARPA 2>/dev/null |
		    grep -q 'status: NOERROR' && return 0
		[ "$i" = 100 ] || sleep 0.05 # pacing of this poll loop (an answer is the condition)
	done
	echo "# $name does not answer on $addr:"; tail -20 "$T/$name.log"
	return 1
}

srv_stop() {
	local pid
	pid=$(cat "$T/$1.srvpid" 2>/dev/null) || return 0
	rm -f "$T/$1.srvpid"
	pid_stop "$pid"
}

srv_stop_all() {
	local p
	for p in "$T"/*.srvpid; do
		[ -f "$p" ] || continue
		p=${p##*/}
		srv_stop "${p%.srvpid}"
	done
}

provision() { "$DOTCTL" provision "$@" >/dev/null; }

# rrsig_times ADDR NAME TYPE: "inception expiration" of the RRSIG served
rrsig_times() {
	dig @"$1" +dnssec +norec +noall +answer "$3" "$2" |
	    awk -v t="$3" '$4 == "RRSIG" && $5 == t { print $10, $9; exit }'
}

# signed_rrsig_times DIR ORIGIN TYPE: the same, from the signed zone file
signed_rrsig_times() {
	awk -v o="$2." -v t="$3" '$1 == o && $4 == "RRSIG" && $5 == t {
		print $10, $9; exit }' "$1/zones/$2.zone.signed"
}

soa_serial() {
	awk -v o="$2." '$1 == o && $4 == "SOA" { print $7; exit }' \
	    "$1/zones/$2.zone.signed"
}

# ---- 1: the README's reload commands after resign
s_reload() {
	local d=$T/reload n before after cmds rc
	provision --addr 127.0.0.101 --out "$d" || exit 1
	n=$(prov_name "$d")
	srv_start reload 127.0.0.101 unbound -d -c "$d/unbound.conf" || exit 1
	before="$(rrsig_times 127.0.0.101 $ARPA SOA) $(rrsig_times 127.0.0.101 "$n" SOA)"
	expect_eq "Unbound serves the signatures of the files" "$before" \
	    "$(signed_rrsig_times "$d" $ARPA SOA) $(signed_rrsig_times "$d" "$n" SOA)"
	check "resign" "$DOTCTL" provision resign --sig-validity 20 \
	    --sig-inception "$(($(date +%s) - 7200))" "$d"
	cmds=$(sed -n 's/^ *\(unbound-control .*\)$/\1/p' "$d/README")
	expect_contains "the README gives unbound-control reload commands" \
	    "$cmds" "auth_zone_reload"
	rc=0
	while IFS= read -r c; do
		echo "# README: $c"
		sh -c "$c" >"$T/reload.out" 2>&1 || rc=$?
		cat "$T/reload.out"
	done <<<"$cmds"
	expect_eq "the README's reload commands succeed as written" "$rc" 0
	after="$(rrsig_times 127.0.0.101 $ARPA SOA) $(rrsig_times 127.0.0.101 "$n" SOA)"
	expect_eq "after the reload Unbound serves the new signatures" "$after" \
	    "$(signed_rrsig_times "$d" $ARPA SOA) $(signed_rrsig_times "$d" "$n" SOA)"
	expect_not_contains "the inception and expiration changed" "$after" \
	    "$before"
	echo "# before: $before"
	echo "# after:  $after"
	prov_anchor "$d/trust-anchor.key" >"$d/a.anchors"
	check "DNSKEY $ARPA validates after the reload" \
	    prov_delv 127.0.0.101 "$d/a.anchors" $ARPA DNSKEY $ARPA
	srv_stop reload
}

# ---- 2: serials strictly increase, also twice in one second
s_serial() {
	local d=$T/serial s0 s1 s2 s3
	provision --addr 127.0.0.102 --out "$d" || exit 1
	n=$(prov_name "$d")
	for z in $ARPA "$n"; do
		s0=$(soa_serial "$d" "$z")
		"$DOTCTL" provision resign "$d" >/dev/null
		s1=$(soa_serial "$d" "$z")
		"$DOTCTL" provision resign "$d" >/dev/null
		s2=$(soa_serial "$d" "$z")
		"$DOTCTL" provision resign "$d" >/dev/null
		s3=$(soa_serial "$d" "$z")
		echo "# $z serials: $s0 $s1 $s2 $s3"
		check "$z: serial increases on each resign ($s0 < $s1 < $s2 < $s3)" \
		    test "$s0" -lt "$s1" -a "$s1" -lt "$s2" -a "$s2" -lt "$s3"
	done
}

# status of QTYPE NAME asked at ADDR from source SRC
status_from() {
	dig -b "$1" @"$2" +time=2 +tries=1 "$3" "$4" 2>&1 |
	    sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

# ---- 3: access control and the choice of recursion or forwarding
s_access() {
	local d=$T/acl e=$T/acl2 f=$T/fwdto
	provision --addr 127.0.0.104 --allow 127.0.0.104/30 --out "$d" ||
	    { t_fail "provision --allow 127.0.0.104/30"; exit 1; }
	check "unbound-checkconf accepts it" unbound-checkconf "$d/unbound.conf"
	grep -n 'access-control\|forward' "$d/unbound.conf" | sed 's/^/# /'
	srv_start acl 127.0.0.104 unbound -d -c "$d/unbound.conf" || exit 1
	expect_eq "a client inside --allow (127.0.0.104) gets answers" \
	    "$(status_from 127.0.0.104 127.0.0.104 SOA $ARPA)" NOERROR
	expect_eq "a client inside --allow (127.0.0.107) gets answers" \
	    "$(status_from 127.0.0.107 127.0.0.104 SOA $ARPA)" NOERROR
	expect_eq "a client outside --allow (127.0.0.110) is refused" \
	    "$(status_from 127.0.0.110 127.0.0.104 SOA $ARPA)" REFUSED
	expect_eq "a client outside --allow (127.0.0.108) is refused" \
	    "$(status_from 127.0.0.108 127.0.0.104 SOA $ARPA)" REFUSED
	expect_eq "this host (127.0.0.1) gets answers" \
	    "$(status_from 127.0.0.1 127.0.0.104 SOA $ARPA)" NOERROR
	expect_eq "recursion is the default: no forward-zone" \
	    "$(grep -c '^forward-zone:' "$d/unbound.conf")" 0
	srv_stop acl

	provision --addr 127.0.0.105 --addr6 ::1 --out "$e" || exit 1
	expect_contains "default access: the /24 around --addr" \
	    "$(cat "$e/unbound.conf")" "access-control: 127.0.0.0/24 allow"
	expect_contains "default access: the /64 around --addr6" \
	    "$(cat "$e/unbound.conf")" "access-control: ::/64 allow"

	# a plain upstream for --forward-to: an Unbound with test data
	cat >"$T/plain-up.conf" <<EOF
server:
	interface: 127.0.0.106
	access-control: 127.0.0.0/8 allow
	chroot: ""
	username: ""
	pidfile: ""
	use-syslog: no
	local-zone: "example.net." static
	local-data: "www.example.net. 300 IN A 192.0.2.10"
	local-zone: "$ARPA." static
	local-data: "$ARPA. 300 IN SOA a. b. 1 2 3 4 5"
remote-control:
	control-enable: no
EOF
	provision --addr 127.0.0.103 --forward-to 127.0.0.106 --out "$f" ||
	    { t_fail "provision --forward-to 127.0.0.106"; exit 1; }
	check "unbound-checkconf accepts --forward-to" \
	    unbound-checkconf "$f/unbound.conf"
	srv_start plain-up 127.0.0.106 unbound -d -c "$T/plain-up.conf" || exit 1
	srv_start fwdto 127.0.0.103 unbound -d -c "$f/unbound.conf" || exit 1
	expect_eq "--forward-to: names are answered through the upstream" \
	    "$(dig @127.0.0.103 +short www.example.net A)" 192.0.2.10
	srv_stop fwdto
	srv_stop plain-up

	for args in "--allow 300.1.1.1/24" "--allow 10.0.0.0/33" \
	    "--allow 2001:db8::/129" "--forward-to 192.0.2.1@0" \
	    "--forward-to example.net" "--forward-to 192.0.2.1 --forwarder \
	    --upstream $f"; do
		# shellcheck disable=SC2086 # words of the arguments
		"$DOTCTL" provision --addr 127.0.0.1 $args --out "$T/bad" \
		    >/dev/null 2>&1
		expect_eq "usage error: $args" "$?" 2
	done
}

# ---- 4: a forwarder forwards over DNS-over-TLS
s_forwarder() {
	local u=$T/up f=$T/fwd un
	provision --addr 127.0.0.111 --out "$u" || exit 1
	un=$(prov_name "$u")
	provision --addr 127.0.0.112 --forwarder --upstream "$u" --out "$f" ||
	    exit 1
	check "unbound-checkconf accepts the forwarder's unbound.conf" \
	    unbound-checkconf "$f/unbound.conf"
	expect_contains "forward-tls-upstream" "$(cat "$f/unbound.conf")" \
	    "forward-tls-upstream: yes"
	expect_contains "forward-addr to the upstream's 853 with its name" \
	    "$(cat "$f/unbound.conf")" "forward-addr: 127.0.0.111@853#$un"
	# the upstream: its written unbound.conf and test data to answer
	cat >"$u/test-unbound.conf" <<EOF
server:
	local-zone: "example.net." static
	local-data: "www.example.net. 300 IN A 192.0.2.10"
include: "$u/unbound.conf"
EOF
	srv_start up 127.0.0.111 unbound -d -c "$u/test-unbound.conf" || exit 1
	srv_start fwd 127.0.0.112 unbound -d -c "$f/unbound.conf" || exit 1
	cap_start fwd lo "" "host 127.0.0.111 or udp port 9" || exit 1
	expect_eq "the forwarder answers through its upstream" \
	    "$(dig @127.0.0.112 +time=5 +tries=1 +short www.example.net A)" \
	    192.0.2.10
	cap_stop fwd 127.0.0.9
	cap_expect_seen "the forwarder's queries go to the upstream's port 853" \
	    fwd "tcp and dst host 127.0.0.111 and dst port 853"
	cap_expect_none "no clear-text DNS to the upstream" \
	    fwd "dst host 127.0.0.111 and port 53"
	srv_stop fwd
	# the upstream is authenticated: with another certificate in
	# tls/upstreams.pem the forwarder gets no answer from it
	provision --addr 127.0.0.114 --out "$T/other" || exit 1
	cp "$T/other/tls/server.pem" "$f/tls/upstreams.pem"
	srv_start fwd 127.0.0.112 unbound -d -c "$f/unbound.conf" || exit 1
	expect_eq "an upstream whose certificate is not the pinned one: no answer" \
	    "$(status_from 127.0.0.1 127.0.0.112 A www.example.net)" SERVFAIL
	srv_stop fwd
	srv_stop up
}

# ---- 5: BIND 9.18 with the written named.conf
s_bind() {
	local d=$T/bind n neg nsec3 out before after
	provision --addr 127.0.0.113 --out "$d" || exit 1
	n=$(prov_name "$d")
	check "a named.conf is written" test -s "$d/named.conf"
	check "named-checkconf accepts it" named-checkconf "$d/named.conf"
	check "named-checkzone accepts $ARPA" named-checkzone -q $ARPA \
	    "$d/zones/$ARPA.zone.signed"
	srv_start named 127.0.0.113 named -g -c "$d/named.conf" || exit 1
	out=$(dig @127.0.0.113 +dnssec +norec SOA $ARPA)
	expect_contains "BIND answers authoritatively" "$out" " aa"
	expect_contains "BIND serves RRSIGs" "$out" "RRSIG	SOA"
	prov_anchor "$d/trust-anchor.key" >"$d/a.anchors"
	check "delv validates DNSKEY $ARPA from the anchor" \
	    prov_delv 127.0.0.113 "$d/a.anchors" $ARPA DNSKEY $ARPA
	prov_delv 127.0.0.113 "$d/a.anchors" $ARPA KEY "$n.$ARPA" >"$d/v.key"
	sed "s/^$n\\.$ARPA\\./$n./" "$d/v.key" >"$d/n.key"
	prov_anchor "$d/n.key" >"$d/n.anchors"
	check "delv validates the TLSA of $n from its KEY" \
	    prov_delv 127.0.0.113 "$d/n.anchors" "$n" TLSA "_853._tcp.$n"
	neg=$(delv @127.0.0.113 -a "$d/n.anchors" +root="$n" TXT "nothing.$n" 2>&1)
	expect_contains "an NXDOMAIN validates" "$neg" \
	    "negative response, fully validated"
	expect_contains "denial by NSEC" \
	    "$(dig @127.0.0.113 +dnssec +norec TXT "nothing.$n")" "	NSEC	"
	nsec3=$(grep -c 'NSEC3' "$d/zones/$ARPA.zone.signed" "$d/zones/$n.zone.signed" |
	    awk -F: '{ s += $2 } END { print s }')
	expect_eq "the signed zones have no NSEC3" "$nsec3" 0
	out=$(kdig @127.0.0.113 +tls +norec SOA "$n" 2>&1)
	expect_contains "BIND answers DNS-over-TLS (kdig +tls)" "$out" \
	    "status: NOERROR"
	expect_contains "over TLS" "$out" "TLS session"
	check "the certificate on 853 matches the TLSA" sh -c \
	    "openssl s_client -connect 127.0.0.113:853 -servername '$n' \
	    -dane_tlsa_domain '$n' -dane_tlsa_rrdata '$(awk '$4 == "TLSA" {
	    print $5, $6, $7, $8 }' "$d/zones/$n.zone")' -verify_return_error \
	    </dev/null 2>&1 | grep -q 'Verification: OK'"

	# resign, and the reload the named.conf header gives
	before=$(rrsig_times 127.0.0.113 "$n" SOA)
	"$DOTCTL" provision resign --sig-inception "$(($(date +%s) - 7200))" \
	    "$d" >/dev/null
	kill -HUP "$(cat "$d/named.pid")"
	for _ in $(seq 1 100); do
		after=$(rrsig_times 127.0.0.113 "$n" SOA)
		[ "$after" != "$before" ] && break
		sleep 0.05 # pacing of this poll loop (the new RRSIG is the condition)
	done
	expect_eq "after resign and SIGHUP, BIND serves the new signatures" \
	    "$after" "$(signed_rrsig_times "$d" "$n" SOA)"
	srv_stop named
}

scenario reload s_reload srv_stop_all
scenario serial s_serial srv_stop_all
scenario access s_access srv_stop_all
scenario forwarder s_forwarder srv_stop_all
scenario bind s_bind srv_stop_all
finish
