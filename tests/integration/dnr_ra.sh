#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# DNR (RFC 9463) from IPv6 router advertisements: the "gateway" namespace
# runs Unbound, a plain resolver on 10.77.0.1 that publishes neither
# resolver-name.arpa nor DDR, which also serves DoT on fd77::53 with a
# certificate for the ADN from a test CA; a small Python program there
# plays the router: RAs from its link-local address fe80::1 to ff02::1
# over the veth, with the RA Encrypted DNS option (144).  The laptop (this
# namespace) runs dotstubd, whose store process opened the raw ICMPv6
# socket its network process reads.
#   designate: the RA designates the resolver: the link's resolver is the
#   ADN over DoT, authenticated by its certificate (DNR, PKIX; ca-file), its
#   key pinned with source dnr; a capture on the veth sees the RA, the
#   discovery in plain DNS, then after the decision DoT only.  The time from
#   the RA to the first authenticated answer is printed.  An RA of the
#   same router without the option changes nothing (RFC 9463 6.2: RFC 8106
#   5.3.1, the designation lives until its Lifetime ends); Lifetime 0
#   withdraws it; a designation whose Lifetime ends is dropped.
#   malformed: an option 144 whose ADN Length runs past it, and an RA with
#   an option of length 0, are refused with the reason in the log; both
#   processes live on; nothing is designated.
#   offlink: a valid RA with hop limit 64 (forged from off the link) is
#   ignored: no designation, DoT never tried.
#   linklocal: the RA designates the router's own link-local address
#   (Unbound's DoT on fe80::1 of the gateway's veth): dotstubd reaches it
#   through the link the RA came in on, authenticated by its certificate.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
trap 'ds_stop_all; cap_stop_all; teardown; rm -rf "$T_DIR"' EXIT

for p in unbound tcpdump python3; do
	command -v "$p" >/dev/null || { echo "$p is not installed (scripts/deps.sh)"; exit 1; }
done

L=127.0.0.53
DIG="dig @$L +time=5 +tries=1"
ADN=dns.example.test
GW=10.77.0.1          # the gateway: router, plain resolver
DOT=fd77::53          # the DNR address: the DoT server
RTR=fe80::1           # the router's link-local address, the RAs' source
VETH=${NS_P}c
GVETH=${NS_P}g
WAIT=(--discovery-wait 10000)
ip -n "$NS_GW" -6 addr add $DOT/128 dev "$GVETH" nodad || exit 1
ip -n "$NS_GW" -6 addr add $RTR/64 dev "$GVETH" nodad || exit 1
IFINDEX=$(cat "/sys/class/net/$VETH/ifindex")
GIFINDEX=$(ip netns exec "$NS_GW" cat "/sys/class/net/$GVETH/ifindex") || exit 1

# router_start: the router, a Python program in the gateway namespace
# (started once: an interpreter takes a while to start on a busy machine)
# that sends one RA for each line "KIND LIFETIME HOPLIMIT" written to
# $T_DIR/ra.fifo, from $RTR to ff02::1 on the gateway's veth (a raw ICMPv6
# socket; the kernel sums it), and then appends the time it was sent (ns)
# to $T_DIR/ra.sent.  KIND: valid (option 144: priority 1, the ADN, $DOT,
# alpn=dot), none (no option 144), truncated (its ADN Length says 18
# octets where it holds 10), zero (an option of length 0 before a valid
# option 144), linklocal (valid, with the router's own link-local address)
router_start() {
	rm -f "$T_DIR/ra.fifo" "$T_DIR/ra.sent"
	mkfifo "$T_DIR/ra.fifo" || return 1
	: >"$T_DIR/ra.sent"
	ip netns exec "$NS_GW" python3 - "$T_DIR/ra.fifo" "$T_DIR/ra.sent" "$GVETH" "$RTR" "$ADN" "$DOT" \
		>>"$T_DIR/ra.log" 2>&1 <<'EOF' &
import socket, struct, sys, time
fifo, sent, ifname, src, adn, dot = sys.argv[1:]
idx = socket.if_nametoindex(ifname)
name = b"".join(bytes([len(l)]) + l.encode() for l in adn.split(".")) + b"\0"
def opt144(body):
    body += b"\0" * ((-(len(body) + 2)) % 8)
    return bytes([144, (len(body) + 2) // 8]) + body
def ra(kind, life):
    if kind == "truncated":
        body = struct.pack("!HIH", 1, life, 18) + name[:10]
    else:
        addr = socket.inet_pton(socket.AF_INET6, src if kind == "linklocal" else dot)
        alpn = struct.pack("!HHB", 1, 4, 3) + b"dot"
        body = (struct.pack("!HIH", 1, life, len(name)) + name + struct.pack("!H", 16) + addr
                + struct.pack("!H", len(alpn)) + alpn)
    opts = b"" if kind == "none" else opt144(body)
    if kind == "zero":
        opts = bytes([3, 0]) + b"\0" * 6 + opts
    # type 134, code 0, checksum (the kernel's), cur hop limit 64, flags 0,
    # router lifetime 0 (not a default router), reachable 0, retrans 0
    return struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0) + opts
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.bind((src, 0, 0, idx))
while True:
    with open(fifo) as f:
        for line in f:
            kind, life, hops = line.split()
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, int(hops))
            s.sendto(ra(kind, int(life)), ("ff02::1", 0, 0, idx))
            with open(sent, "a") as o:
                o.write("%d\n" % time.time_ns())
EOF
	echo $! >"$T_DIR/router.pid"
}

# ra KIND [LIFETIME [HOPLIMIT]]: the router sends one RA; prints the time
# it was sent (ns) once it was
ra() {
	local n
	n=$(wc -l <"$T_DIR/ra.sent")
	echo "$1 ${2:-300} ${3:-255}" >"$T_DIR/ra.fifo" || return 1
	if ! within 10 sh -c "[ \$(wc -l <'$T_DIR/ra.sent') -gt $n ]"; then
		echo "the router did not send: $(cat "$T_DIR/ra.log" 2>/dev/null)" >&2
		return 1
	fi
	tail -1 "$T_DIR/ra.sent"
}

# gw_start LABEL [ADDR]: Unbound in the gateway namespace, plain DNS on
# $GW, DoT on ADDR ($DOT unless given) with a certificate for $ADN from a
# test CA
gw_start() {
	local d=$T_DIR/gw-$1 c=$T_DIR/gw-$1/certs
	mkdir -p "$c"
	udot_ca_chain $ADN "$c" || return 1
	udot_gw_start "$d" "$c" "$T_DIR/gw-unbound.pid" "$GW@53 ${2:-$DOT}@853" || return 1
	printf 'nameserver %s\n' $GW >"$d/resolv.conf"
	router_start
}

# ds_up LABEL: dotstubd on the laptop, the gateway's resolver its network's
# resolver, the test CA its CA store; returns once the network decided
ds_up() {
	ds_start a --listen $L:53 --resolv-source "$T_DIR/gw-$1/resolv.conf" \
		--ca-file "$T_DIR/gw-$1/certs/$ADN.ca.pem" --unknown-network opportunistic \
		"${WAIT[@]}" || return 1
	check "$1: the network decided (plain DNS, nothing designated yet)" within 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'PLAIN DNS to $GW'"
}

# ra_count KEY: a counter of status --json's router_advertisements
ra_count() {
	ds_ctl a status --json | grep -o '"router_advertisements": {[^}]*}' |
		sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"
}
ra_is() { [ "$(ra_count "$1")" = "$2" ]; }
ra_wait() { within 5 ra_is "$1" "$2"; } # ra_wait KEY N: until the counter KEY is N

stop_pidfile() {
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	pid_stop "$p"
}

teardown() {
	stop_pidfile "$T_DIR/router.pid"
	stop_pidfile "$T_DIR/gw-unbound.pid"
	rm -rf "$T_DIR/a" "$T_DIR"/gw-* "$T_DIR"/ra.*
}

status_of() { ds_ctl "$1" status 2>&1; }

# ------------------------------------------------------------- the RA designates
s_designate() {
	local out st t0 t1 ms
	gw_start ra || return 1
	ds_up ra || return 1
	cap_start ra "$VETH" || return 1
	t0=$(ra valid 300) || return 1
	check "designate: the network decides with the DNR designation" within 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'DNR, verified by its certificate (PKIX)'"
	out=$($DIG www.example.test A +short)
	t1=$(date +%s%N)
	expect_eq "designate: the first authenticated answer" "$out" "192.0.2.80"
	cap_stop ra $GW
	cap_expect_seen "designate: the capture saw the RA" ra "icmp6 and ip6[40] == 134 and src host $RTR"
	cap_expect_seen "designate: the capture saw DoT to the DNR address" ra \
		"dst host $DOT and tcp dst port 853"
	st=$(status_of a)
	expect_contains "designate: status: the ADN is the upstream" "$st" "upstream:   $ADN"
	expect_contains "designate: status: the link's transport" "$st" \
		"DoT to $ADN ([$DOT]:853), authenticated by its certificate (PKIX)"
	expect_contains "designate: status: authenticated by the certificate (PKIX)" "$st" \
		"auth:     certificate verified (PKIX)"
	expect_contains "designate: the log says the RA designated it" "$(ds_log a)" \
		"link $VETH ($IFINDEX): RA DNR option from $RTR: 1 DNR designation(s)"
	check "designate: its key is pinned with source dnr" within 10 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q '^$ADN. .*dnr'"
	expect_eq "designate: status counts the RA" "$(ra_count received)" 1
	expect_eq "designate: status: one designation from RAs" "$(ra_count designations)" 1
	ms=$(sed -n 's/.*first answer over the new upstream \([0-9.]*\) ms after the network change.*/\1/p' \
		"$T_DIR/a/log" | head -1)
	echo "# timing: DNR from an RA: first authenticated answer $(((t1 - t0) / 1000000)) ms after the RA" \
		"was sent (the daemon's own measure: ${ms:-?} ms after the network change)"

	# after the decision: DoT only on the wire
	cap_start after "$VETH" || return 1
	out=$($DIG secret-name.example.test A +short)
	expect_eq "designate: after: a second name" "$out" "192.0.2.81"
	cap_stop after $GW
	cap_expect_seen "designate: after: the capture saw DoT (port 853)" after "tcp dst port 853"
	cap_expect_none "designate: after: no DNS to port 53" after "port 53"
	cap_expect_absent "designate: after: no query name in clear text" after "secret-name"

	# the same router without the option: the designation stays (RFC 9463
	# 6.2, RFC 8106 5.3.1: only its Lifetime ends it)
	ra none >/dev/null || return 1
	check "designate: an RA without the option is read" ra_wait received 2
	expect_eq "designate: ... and the designation stays" "$(ra_count designations)" 1
	out=$($DIG asked.example.test A +short)
	expect_eq "designate: ... answered over DoT still" "$out" "192.0.2.82"
	expect_contains "designate: ... status still DNR" "$(status_of a)" \
		"DNR, verified by its certificate (PKIX)"

	# Lifetime 0: withdrawn
	ra valid 0 >/dev/null || return 1
	check "designate: Lifetime 0 withdraws it" ds_wait_log a \
		"link $VETH ($IFINDEX): RA DNR option from $RTR: 0 DNR designation(s)" 0 5
	expect_eq "designate: status: no designation from RAs" "$(ra_count designations)" 0
	check "designate: without it, the network decides again" ds_wait_log a \
		"link $VETH ($IFINDEX, default): no DNS (" 0 15

	# a short Lifetime: the designation is dropped when it ends
	ra valid 1 >/dev/null || return 1
	check "designate: a Lifetime of 1 s designates it" within 5 sh -c \
		"[ \"\$(grep -cF 'RA DNR option from $RTR: 1 DNR designation(s)' '$T_DIR/a/log')\" -ge 2 ]"
	check "designate: ... and it is dropped when its Lifetime ends" ds_wait_log a \
		"link $VETH ($IFINDEX): RA DNR designation expired: 0 DNR designation(s)" 0 5
}

# ------------------------------------------------------------- malformed options
s_malformed() {
	local pid netpid
	gw_start bad || return 1
	ds_up bad || return 1
	pid=$(ds_pid a)
	netpid=$(ds_netpid a)
	cap_start bad "$VETH" || return 1
	ra truncated 300 >/dev/null || return 1
	check "malformed: dotstubd refused the option, saying why" ds_wait_log a \
		"link $VETH ($IFINDEX): RA DNR option from $RTR rejected: instance 1: ADN Length 18 runs past the end" 0 5
	ra zero 300 >/dev/null || return 1
	check "malformed: an option of length 0 is counted" ra_wait malformed 2
	check "malformed: the store process lives on" pid_alive "$pid"
	check "malformed: the network process lives on" pid_alive "$netpid"
	expect_eq "malformed: status: both RAs were read" "$(ra_count received)" 2
	expect_eq "malformed: status: no designation" "$(ra_count designations)" 0
	expect_contains "malformed: status still plain DNS" "$(status_of a)" "PLAIN DNS to $GW"
	out=$($DIG www.example.test A +short)
	expect_eq "malformed: answered in plain DNS" "$out" "192.0.2.80"
	cap_stop bad $GW
	cap_expect_seen "malformed: the capture saw the RAs" bad "icmp6 and ip6[40] == 134"
	cap_expect_none "malformed: no DoT to anything" bad "tcp port 853"
	# the second RA of the same link comes within the rate limit: no line
	expect_eq "malformed: one log line for the two malformed RAs of the link" \
		"$(grep -cE "link $VETH \($IFINDEX\): RA (DNR option )?from $RTR (rejected|refused)" "$T_DIR/a/log")" 1
}

# ------------------------------------------------------------- forged from off the link
s_offlink() {
	gw_start off || return 1
	ds_up off || return 1
	cap_start off "$VETH" || return 1
	ra valid 300 64 >/dev/null || return 1
	check "offlink: the RA with hop limit 64 is ignored" ra_wait ignored 1
	expect_eq "offlink: status: not taken as read" "$(ra_count received)" 0
	expect_eq "offlink: status: no designation" "$(ra_count designations)" 0
	expect_contains "offlink: status still plain DNS" "$(status_of a)" "PLAIN DNS to $GW"
	out=$($DIG www.example.test A +short)
	expect_eq "offlink: answered in plain DNS" "$out" "192.0.2.80"
	cap_stop off $GW
	cap_expect_seen "offlink: the capture saw the forged RA" off "icmp6 and ip6[40] == 134"
	cap_expect_none "offlink: no DoT to anything" off "tcp port 853"
	expect_not_contains "offlink: the log never took it" "$(ds_log a)" "RA DNR option"
}

# ------------------------------------------------------------- a link-local DoT server
s_linklocal() {
	local out
	# Unbound takes an interface index as the scope
	gw_start ll "$RTR%$GIFINDEX" || return 1
	ds_up ll || return 1
	cap_start ll "$VETH" || return 1
	ra linklocal 300 >/dev/null || return 1
	check "linklocal: the network decides with the DNR designation" within 15 sh -c \
		"'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'DNR, verified by its certificate (PKIX)'"
	out=$($DIG www.example.test A +short)
	expect_eq "linklocal: answered" "$out" "192.0.2.80"
	cap_stop ll $GW
	cap_expect_seen "linklocal: the capture saw DoT to $RTR" ll "dst host $RTR and tcp dst port 853"
	expect_contains "linklocal: status: the address with the link as its scope" "$(status_of a)" \
		"DoT to $ADN ([$RTR%$VETH]:853), authenticated by its certificate (PKIX)"
}

scenario designate s_designate teardown
scenario malformed s_malformed teardown
scenario offlink s_offlink teardown
scenario linklocal s_linklocal teardown
finish
