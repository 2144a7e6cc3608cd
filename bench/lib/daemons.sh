# shellcheck shell=bash
# bench/lib/daemons.sh -- the three stubs under test, each on its own
# loopback address, port 53 (UDP+TCP), forwarding over DoT to the upstream
# of upstream.sh, pinned to CPU 1.  dotstubd and Unbound also serve DoT on
# port 853 of their address (serve-dot; tls-port with a P-256 certificate
# of its own), for the DoT server workloads.  Sourced by bench/run.sh; files live in
# the current directory (the temp dir), named by relative paths only.
#
# bench_start_NAME ADDR: start the daemon, wait until it answers, set
# BENCH_PID.  bench_version_NAME: one line naming the version.
# bench_counters_NAME: optional one-line summary of the daemon's own counters.

# --- dotstubd ---------------------------------------------------------------
bench_version_dotstubd() {
	"$BENCH_DOTSTUBD" --version 2>&1 | head -n 1
}

bench_start_dotstubd() {
	mkdir -p dotstubd-state dotstubd-anchors
	: >dotstubd.conf # an empty file: no system-wide config is read
	bench_spawn BENCH_PID dotstubd taskset -c 1 "$BENCH_DOTSTUBD" -f \
		-c dotstubd.conf \
		--listen "$1:53" \
		--upstream "$BENCH_UP_NAME@$BENCH_UP_ADDR" \
		--tlsa "3 1 1 $BENCH_UP_SPKI_HEX" \
		--control dotstubd.ctl \
		--state-dir dotstubd-state \
		--anchors-dir dotstubd-anchors \
		--serve-dot "$1" --dot-clients-per-address 0 \
		--log-level warning
	bench_wait_udp "$1" && bench_wait_dot "$1"
}

bench_counters_dotstubd() {
	local ctl dir
	dir=$(dirname "$BENCH_DOTSTUBD")
	ctl=$dir/ctl/dotctl
	[ -x "$ctl" ] || ctl=$dir/../ctl/dotctl
	[ -x "$ctl" ] || ctl=$(command -v dotctl) || return 0
	"$ctl" -s dotstubd.ctl status 2>/dev/null | sed -n 's/^ *//; /quer\|cache\|handshake\|conn/p' | tr -s ' ' | tr '\n' ';'
}

# --- Stubby -----------------------------------------------------------------
bench_version_stubby() {
	echo "Stubby $(stubby -V 2>&1 | awk '{print $2; exit}') (getdns $(dpkg-query -W -f '${Version}' 'libgetdns10*' 2>/dev/null | sed 's/-.*//' | head -n 1))"
}

bench_start_stubby() {
	cat >stubby.yml <<EOF
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list:
  - GETDNS_TRANSPORT_TLS
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
edns_client_subnet_private: 1
round_robin_upstreams: 0
idle_timeout: 10000
tls_min_version: GETDNS_TLS1_3
tls_ca_file: "$BENCH_UP_CERT"
listen_addresses:
  - $1@53
upstream_recursive_servers:
  - address_data: $BENCH_UP_ADDR
    tls_port: 853
    tls_auth_name: "$BENCH_UP_NAME"
    tls_pubkey_pinset:
      - digest: "sha256"
        value: $BENCH_UP_SPKI_B64
EOF
	stubby -C stubby.yml -i >/dev/null 2>&1 || bench_die "stubby rejected its config"
	bench_spawn BENCH_PID stubby taskset -c 1 stubby -C stubby.yml -v 3
	bench_wait_udp "$1"
}

# --- Unbound as a forwarder -------------------------------------------------
bench_version_unbound() {
	unbound -V 2>&1 | awk 'NR == 1 { print "Unbound " $2; exit }'
}

bench_start_unbound() {
	# its DoT server's certificate: P-256, self-signed, as dotstubd makes
	udot_cert fwd.bench.example . || bench_die "cannot make the forwarder's certificate"
	cat >fwd.conf <<EOF
server:
	directory: "."
	chroot: ""
	username: ""
	pidfile: "fwd.pid"
	use-syslog: no
	logfile: "fwd.log"
	verbosity: 0
	num-threads: 1
	interface: $1@53
	interface: $1@853
	tls-port: 853
	tls-service-key: "fwd.bench.example.key"
	tls-service-pem: "fwd.bench.example.pem"
	incoming-num-tcp: 100
	do-ip6: no
	do-not-query-localhost: no
	module-config: "iterator"
	prefetch: no
	local-zone: "test." nodefault
	tls-cert-bundle: "$BENCH_UP_CERT"
	statistics-cumulative: yes
forward-zone:
	name: "."
	forward-tls-upstream: yes
	forward-addr: $BENCH_UP_ADDR@853#$BENCH_UP_NAME
remote-control:
	control-enable: yes
	control-interface: $1
	control-port: 8953
	control-use-cert: no
EOF
	unbound-checkconf fwd.conf >/dev/null || bench_die "forwarder unbound.conf rejected"
	bench_spawn BENCH_PID unbound taskset -c 1 unbound -d -c fwd.conf
	bench_wait_udp "$1" && bench_wait_dot "$1"
}

bench_counters_unbound() {
	{ unbound-control -c fwd.conf stats_noreset 2>/dev/null || true; } |
		awk -F= '$1 ~ /^total\.num\.(queries|cachehits|cachemiss)$/ { sub("total.num.", "", $1); printf "%s=%s;", $1, $2 }'
}

# --- the floor (bench/floor.c): the reference row, not a stub ---------------
bench_version_floor() {
	echo "floor (bench/floor.c): recvmmsg/sendmmsg, one fixed answer, one OpenSSL $(openssl version | awk '{ print $2 }') handshake"
}

bench_start_floor() {
	# shellcheck disable=SC2046 # pkg-config prints several words
	cc -O2 -o floor "$BENCH_DIR/floor.c" $(pkg-config --cflags --libs libssl libcrypto) >floor-cc.out 2>&1 || {
		bench_note "floor: does not build (cc, libssl-dev): $(head -n 1 floor-cc.out)"
		return 1
	}
	bench_spawn BENCH_PID floor taskset -c 1 ./floor "$1" "$BENCH_UP_ADDR"
	bench_wait_udp "$1"
}

# bench_wait_dot ADDR: wait (at most 10 s) until ADDR:853 answers the hit
# name over DoT.
bench_wait_dot() {
	local _
	for _ in $(seq 1 50); do
		if kdig @"$1" -p 853 +tls +timeout=1 +retry=0 +short "$BENCH_HIT_NAME" A 2>/dev/null |
			grep -q '^192\.0\.2\.1$'; then
			return 0
		fi
		kill -0 "$BENCH_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# bench_wait_udp ADDR: wait (at most 10 s) until ADDR:53 answers the hit
# name over UDP, through the daemon's upstream.
bench_wait_udp() {
	local _
	for _ in $(seq 1 50); do
		if kdig @"$1" +notcp +timeout=1 +retry=0 +short "$BENCH_HIT_NAME" A 2>/dev/null |
			grep -q '^192\.0\.2\.1$'; then
			return 0
		fi
		kill -0 "$BENCH_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
