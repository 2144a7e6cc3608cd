#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The TCP listener under load and attack, dotstubd against a real Unbound
# serving DoT on loopback, the clients played by tests/tools/tcp_clients.py:
# 300 pipelined forwarded queries on one connection all answered; clients
# that pipeline queries with large answers and never read keep dotstubd's
# memory bounded (per client and in total); 300 slow connections (one byte
# a second) do not keep a new client out; a message must be complete 3 s
# after its first octet; the per-address limit.  Prints
# the figures (answers, MiB per client, seconds to admit a new client).
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L=127.0.0.64 U=127.0.0.65 NAME=k2m4p6r8t0v1.zz
TC="python3 $DOTSTUB_SRC/tests/tools/tcp_clients.py"
cleanup() { ds_stop_all; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

mkdir -p "$T_DIR/cert"
udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")
# 700 TXT records of ~60 octets: an answer of about 53 KB
BIG=$(udot_big_txt huge.test. 700)
DIG="dig -p 53 @$L +time=3 +tries=1"

# up_d1 [dotstubd options...]: the upstream and a daemon using it
up_d1() {
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key UDOT_CONF_EXTRA="$BIG" \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
	ds_start d1 --listen $L:53 --upstream $NAME@$U --tlsa "$TLSA311" "$@"
}
teardown() { udot_stop_all; rm -rf "${T_DIR:?}"/d[0-9]; }

# ---- 300 pipelined queries on one connection, every one forwarded (TTL 0
# names): more than the 128 a client may have in flight, so reading must
# resume on the bytes already received as answers come back
s_pipeline() {
	local n out
	up_d1 || return 1
	n=$($TC pipeline $L 300 n 8)
	echo "# answers: $n of 300"
	expect_eq "300 pipelined forwarded queries on one connection all answered" "$n" 300
	out=$($DIG +tcp www.test A +short)
	expect_eq "answers over TCP afterwards" "$out" "192.0.2.1"
}

# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) before it is reused, so RSS would measure the quarantine, not
# the buffers: keep it small for these daemons.
if ldd "$DOTSTUBD" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
fi

# noread CLIENTS QUERIES SECONDS: sets GROWTH_KIB and OPEN
noread() {
	local r words
	r=$($TC noread $L "$(ds_pid d1)" "$1" "$2" huge.test "$3")
	echo "# noread $1 clients x $2 queries: rss before/after (KiB), still open: $r"
	read -ra words <<<"$r"
	set -- "${words[@]}"
	GROWTH_KIB=$(($2 - $1))
	OPEN=$3
}

# ---- clients that pipeline queries with large answers and never read:
# the output buffered for each is bounded (tcp-client-output)
s_output_client() {
	local out
	up_d1 || return 1
	out=$($DIG +tcp huge.test TXT +short | wc -l)
	expect_eq "the large answer is complete over TCP" "$out" 700
	noread 20 1000 6
	echo "# $((GROWTH_KIB / 20)) KiB per client"
	check "20 clients that do not read: RSS grows by less than 20 MiB ($((GROWTH_KIB / 1024)) MiB)" \
		test "$GROWTH_KIB" -lt $((20 * 1024))
	expect_eq "... with every one of them still connected (the per-client bound holds)" "$OPEN" 20
	out=$($DIG huge.test TXT +tcp +short | wc -l)
	expect_eq "another client is still answered" "$out" 700
}

# ---- the same with a small total: the client with the most output
# buffered is closed until the total is under tcp-output-total
s_output_total() {
	local out
	up_d1 --tcp-output-total 1m || return 1
	out=$($DIG +tcp huge.test TXT +short | wc -l)
	expect_eq "the large answer is complete over TCP" "$out" 700
	noread 20 1000 6
	check "total 1m: RSS grows by less than 8 MiB ($((GROWTH_KIB / 1024)) MiB)" \
		test "$GROWTH_KIB" -lt $((8 * 1024))
	check "total 1m: connections with the most buffered were closed ($OPEN of 20 open)" \
		test "$OPEN" -le 8
	check "... and counted (tcp_evicted $(ds_json d1 tcp_evicted))" test "$(ds_json d1 tcp_evicted)" -ge 12
	out=$($DIG huge.test TXT +tcp +short | wc -l)
	expect_eq "another client is still answered" "$out" 700
}

# ---- slowloris: 300 connections from 10 addresses send a query one byte a
# second (and reconnect when closed) while a normal client asks over TCP
s_slow() {
	local atk t0 t1 out ms res words
	up_d1 || return 1
	$TC slow $L 300 10 7 "$T_DIR/ready" >"$T_DIR/slow.out" &
	atk=$!
	wait_for 5 test -s "$T_DIR/ready" || echo "# the slow clients did not connect"
	echo "# slow clients connected: $(cat "$T_DIR/ready" 2>/dev/null)"
	sleep 1 # the slow clients are in the middle of their messages
	t0=$(date +%s%N)
	out=$(dig -p 53 @$L +tcp +time=5 +tries=1 www.test A +short)
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	echo "# a new TCP client admitted and answered in $ms ms"
	expect_eq "a new TCP client is answered while 300 slow connections are open" "$out" "192.0.2.1"
	check "... within 2 s ($ms ms)" test "$ms" -lt 2000
	wait $atk
	res=$(cat "$T_DIR/slow.out")
	echo "# slow clients: $res"
	read -ra words <<<"$res"
	set -- "${words[@]}"
	check "slow connections are closed to make room or time out ($4 closed)" test "$4" -ge 300
}

# ---- a message must be complete 3 s after its first octet: 5 connections
# sending a query one byte a second (so never idle for the 10 s idle
# timeout) are closed within 5 s
s_slow_message() {
	local res words
	up_d1 || return 1
	res=$($TC slow $L 5 1 5 "$T_DIR/ready")
	echo "# slow clients: $res"
	read -ra words <<<"$res"
	set -- "${words[@]}"
	check "5 slow connections closed within 5 s (incomplete message; $4 closed)" test "$4" -ge 5
	check "... and not reopened more than once each ($2 connects)" test "$2" -le 10
	expect_eq "... counted as tcp_evicted" "$(ds_json d1 tcp_evicted)" "$4"
}

# ---- the per-address limit: idle connections beyond it from one address
# make room by closing that address's oldest idle ones
s_per_address() {
	local closed out
	up_d1 --tcp-clients-per-address 8 || return 1
	closed=$($TC idle $L 20 2)
	expect_eq "20 idle connections from one address, limit 8: 12 closed" "$closed" 12
	expect_eq "... counted as tcp_evicted" "$(ds_json d1 tcp_evicted)" 12
	out=$($DIG +tcp www.test A +short)
	expect_eq "the same address is still answered over TCP" "$out" "192.0.2.1"
}

scenario pipeline s_pipeline teardown
scenario output-client s_output_client teardown
scenario output-total s_output_total teardown
scenario slow-clients s_slow teardown
scenario slow-message s_slow_message teardown
scenario per-address s_per_address teardown
finish
