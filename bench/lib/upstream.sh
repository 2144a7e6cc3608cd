# shellcheck shell=bash
# bench/lib/upstream.sh -- the benchmark's DoT upstream: a real Unbound on
# a loopback address (DoT on 853, fresh self-signed P-256 certificate),
# started by the tests' helper tests/lib/unbound-dot.sh, which serves
#   www.test.            A  TTL 300   (the cache-hit workload)
#   nI.bench.test.       A  TTL 0     (the forwarded workload, I < N)
# Sourced by bench/run.sh, which runs in its temp dir; the helper's files
# live in its sub-directory udot/.
#
# Needs: BENCH_ROOT, BENCH_TMP, BENCH_UP_ADDR, BENCH_UP_NAME, BENCH_UP_CPU,
# BENCH_FW_NAMES.
# Sets:  BENCH_UP_PID, BENCH_UP_SPKI_HEX, BENCH_UP_SPKI_B64, BENCH_UP_CERT
# (a copy of the certificate in the temp dir, by relative path),
# BENCH_HIT_NAME; writes hit.txt and fw.txt (dnsperf inputs).

BENCH_HIT_NAME=www.test

# shellcheck source-path=SCRIPTDIR source=../../tests/lib/unbound-dot.sh
. "$BENCH_ROOT/tests/lib/unbound-dot.sh"

# bench_up_inputs: the two dnsperf input files.
bench_up_inputs() {
	printf '%s A\n' "$BENCH_HIT_NAME" >hit.txt
	awk -v n="$BENCH_FW_NAMES" 'BEGIN { for (i = 0; i < n; i++) printf "n%d.bench.test A\n", i }' >fw.txt
}

bench_up_start() {
	local tlsa
	bench_up_inputs
	UDOT_DIR=$BENCH_TMP/udot
	mkdir -p "$UDOT_DIR"
	udot_init
	# Keep the stubs' connections up (RFC 7828) for the whole run.
	UDOT_BENCH_NAMES=$BENCH_FW_NAMES \
	UDOT_CONF_EXTRA=$(printf '\tedns-tcp-keepalive: yes\n\tedns-tcp-keepalive-timeout: 30000\n\ttcp-idle-timeout: 30000') \
		udot_start up "$BENCH_UP_ADDR" "$BENCH_UP_NAME" ||
		bench_die "the upstream Unbound did not start on $BENCH_UP_ADDR"
	BENCH_UP_PID=$(cat "$UDOT_DIR/up/pid")
	# By default the upstream shares CPU 0 with dnsperf and CPU 1 is the
	# daemon's alone; --upstream-cpu 1 puts it beside the daemon.
	taskset -p -c "$BENCH_UP_CPU" "$BENCH_UP_PID" >/dev/null || bench_die "taskset failed"
	cp "$(udot_cert_file up)" up-cert.pem
	BENCH_UP_CERT=up-cert.pem
	tlsa=$(udot_tlsa 3 1 1 "$BENCH_UP_CERT") || bench_die "no TLSA for the upstream"
	# shellcheck disable=SC2034 # read by daemons.sh and run.sh, which source this file
	BENCH_UP_SPKI_HEX=${tlsa#3 1 1 }
	# shellcheck disable=SC2034 # read by daemons.sh
	BENCH_UP_SPKI_B64=$(openssl x509 -in "$BENCH_UP_CERT" -noout -pubkey |
		openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | openssl base64 -A)
}

# bench_up_queries: the upstream's cumulative query count.
bench_up_queries() {
	udot_queries up 2>/dev/null || true
}

bench_up_stop() {
	udot_cleanup
}
