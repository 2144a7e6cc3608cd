#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd's DNS-over-TLS server (serve-dot) in front of a real Unbound
# (DoT upstream on loopback), asked by real clients: kdig +tls (and with
# +tls-ca/+tls-hostname against the generated certificate, whose SPKI and
# TLSA the log and `dotctl status` show), openssl s_client (ALPN, TLS 1.3
# only, session resumption with a ticket), and tests/tools/dot_clients.py
# (50 pipelined queries on one connection, answers out of order, RFC 8467
# padding checked on the bytes, access-control, the limits and hostile
# clients).  A capture shows no clear-text DNS between client and server.
# The limits of dotstub.conf(5) for DoT clients, each hit: dot-clients,
# dot-clients-per-address, dot-client-inflight, dot-client-output,
# dot-output-total, dot-idle-timeout, dot-handshake-timeout (silent and
# slow-loris handshakes), the incomplete-message timeout; hostile clients
# (garbage after the handshake, a 64 KiB length then nothing, HTTP instead
# of TLS) closed with a log line while others are served.  SIGHUP adds
# and removes serve-dot addresses and loads a new certificate.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L=127.0.0.80 U=127.0.0.81 L2=127.0.0.84 NAME=q4r6t8v0a2c4.zz
DC="python3 $DOTSTUB_SRC/tests/tools/dot_clients.py"
TC="python3 $DOTSTUB_SRC/tests/tools/tcp_clients.py"
silent_stop() { [ -s "$T_DIR/silent.pid" ] && pid_stop "$(cat "$T_DIR/silent.pid")"; rm -f "$T_DIR/silent.pid"; }
cleanup() { ds_stop_all; cap_stop_all; silent_stop; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

mkdir -p "$T_DIR/cert" "$T_DIR/own"
udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; exit 1; }
TLSA311=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")
# a certificate of our own for serve-dot-cert, and a second one for a reload
for n in own1.example own2.example; do
	udot_cert $n "$T_DIR/own" || { echo "cannot make a certificate"; exit 1; }
done
# 700 TXT records of ~60 octets: an answer of about 48 KB
BIG=$(udot_big_txt huge.test. 700)
KDIG="kdig -p 853 +tls +time=3 +retry=0"

# up_d1 [dotstubd options...]: the upstream and a daemon serving DoT on L
up_d1() {
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key UDOT_CONF_EXTRA="$BIG" \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
	ds_start d1 --listen $L:53 --serve-dot $L --upstream $NAME@$U --tlsa "$TLSA311" "$@" &&
		wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d1/log"
}
teardown() {
	udot_stop_all
	silent_stop
	rm -rf "${T_DIR:?}"/d[0-9] "$T_DIR"/ready "$T_DIR"/*.pem "$T_DIR"/*.conf
}

# the generated certificate of daemon $1
cert_of() { echo "$T_DIR/$1/state/dot-server.pem"; }
cert_name() { openssl x509 -in "$1" -noout -ext subjectAltName | sed -n 's/.*DNS://p'; }
# mode and owner of a file
mode_of() { stat -c '%a %u' "$1"; }
pid_gone() { ! pid_alive "$1"; }

# ---- kdig over TLS; the generated certificate validates with its name;
# SPKI and TLSA logged and in dotctl status; files 0600; the key kept
# across a restart, a new one for another install
s_basic() {
	local out cert name tlsa spki
	up_d1 || return 1
	out=$($KDIG @$L www.test A +short)
	expect_eq "kdig +tls: www.test A" "$out" "192.0.2.1"
	cert=$(cert_of d1)
	name=$(cert_name "$cert")
	check "the generated certificate names a unique name in the recommended form ($name)" \
		sh -c "echo '$name' | grep -Eq '^[0-9a-v]{12}\.zz$'"
	out=$(kdig -p 853 +tls-ca="$cert" +tls-hostname="$name" +time=3 +retry=0 @$L www.test AAAA +short)
	expect_eq "kdig +tls-ca=CERT +tls-hostname=NAME validates it" "$out" "2001:db8::1"
	out=$(kdig -p 853 +tls-ca="$cert" +tls-hostname=other.zz +time=3 +retry=0 @$L www.test A +short 2>&1)
	expect_not_contains "... and a wrong name does not validate" "$out" "192.0.2.1"
	tlsa=$(udot_tlsa 3 1 1 "$cert")
	spki=${tlsa#3 1 1 }
	expect_contains "the log shows the TLSA 3 1 1 of the certificate" "$(ds_log d1)" "TLSA $tlsa"
	expect_contains "... and its SPKI SHA-256" "$(ds_log d1)" "SPKI SHA-256 $spki"
	expect_eq "dotctl status --json: dot_server.tlsa" "$(ds_json d1 dot_server.tlsa)" "$tlsa"
	expect_eq "... dot_server.name" "$(ds_json d1 dot_server.name)" "$name"
	expect_contains "dotctl status (text) shows the TLSA" "$(ds_ctl d1 status)" "$tlsa"
	expect_eq "the key file is 0600, the daemon's user's" \
		"$(mode_of "$T_DIR/d1/state/dot-server.key")" "600 $(id -u)"
	expect_eq "the certificate file is 0600 too" "$(mode_of "$cert")" "600 $(id -u)"
	ds_stop d1
	ds_start d1 --listen $L:53 --serve-dot $L --upstream $NAME@$U --tlsa "$TLSA311" || return 1
	wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d1/log"
	expect_eq "a restart keeps the key (same TLSA)" "$(ds_json d1 dot_server.tlsa)" "$tlsa"
	ds_start d2 --listen $L2:53 --serve-dot $L2 --upstream $NAME@$U --tlsa "$TLSA311" || return 1
	wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d2/log"
	check "another install has a key of its own" \
		test "$(ds_json d2 dot_server.spki_sha256)" != "$spki"
	check "... and a name of its own" test "$(ds_json d2 dot_server.name)" != "$name"
}

# ---- serve-dot-name: the generated certificate carries it; changed, the
# certificate is made again for the same key
s_name() {
	local tlsa
	up_d1 --serve-dot-name router.home.arpa || return 1
	expect_eq "serve-dot-name is the certificate's name" "$(cert_name "$(cert_of d1)")" "router.home.arpa"
	expect_eq "kdig +tls-hostname=router.home.arpa validates" \
		"$(kdig -p 853 +tls-ca="$(cert_of d1)" +tls-hostname=router.home.arpa +time=3 +retry=0 @$L www.test A +short)" \
		"192.0.2.1"
	tlsa=$(ds_json d1 dot_server.tlsa)
	ds_stop d1
	ds_start d1 --listen $L:53 --serve-dot $L --upstream $NAME@$U --tlsa "$TLSA311" \
		--serve-dot-name gw.home.arpa || return 1
	wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d1/log"
	expect_eq "a new name: a new certificate" "$(cert_name "$(cert_of d1)")" "gw.home.arpa"
	expect_eq "... for the same key" "$(ds_json d1 dot_server.tlsa)" "$tlsa"
	expect_contains "... and it says why" "$(ds_log d1)" "serve-dot-name changed"
}

# ---- serve-dot-cert and serve-dot-key: that certificate is served
s_own_cert() {
	local out
	up_d1 --serve-dot-cert "$T_DIR/own/own1.example.pem" --serve-dot-key "$T_DIR/own/own1.example.key" || return 1
	out=$(kdig -p 853 +tls-ca="$T_DIR/own/own1.example.pem" +tls-hostname=own1.example +time=3 +retry=0 @$L www.test A +short)
	expect_eq "the configured certificate validates" "$out" "192.0.2.1"
	expect_eq "status names its file" "$(ds_json d1 dot_server.certificate)" "$T_DIR/own/own1.example.pem"
	check "nothing is generated in state-dir" test ! -e "$T_DIR/d1/state/dot-server.key"
	ds_stop d1
	ds_start d1 --listen $L:53 --serve-dot $L --upstream $NAME@$U --tlsa "$TLSA311" \
		--serve-dot-cert "$T_DIR/own/own1.example.pem" --serve-dot-key "$T_DIR/own/own2.example.key"
	check "a key that does not match the certificate: the daemon does not start" \
		wait_for 5 pid_gone "$(ds_pid d1)"
	expect_contains "... and says why" "$(ds_log d1)" "does not match"
}

# ---- pipelining: 50 forwarded queries at once on one connection, all
# answered; answers come as they complete (a local answer overtakes a
# forwarded one asked before it); kdig +keepopen reuses one connection
s_pipeline() {
	local n out
	up_d1 || return 1
	n=$($DC pipeline $L 50 p 10)
	expect_eq "50 pipelined forwarded queries on one connection all answered" "$n" 50
	n=$($DC pipeline $L 300 q 10)
	expect_eq "300 (more than dot-client-inflight) all answered" "$n" 300
	out=$($DC order $L)
	expect_eq "answers out of order: the local answer (2) before the forwarded one (1)" "$out" "2 1"
	out=$(kdig -p 853 +tls +time=3 +retry=0 +short +keepopen @$L www.test A www.test AAAA www.test TXT)
	expect_eq "kdig +keepopen: three answers" "$(echo "$out" | tr '\n' ' ')" '192.0.2.1 2001:db8::1 "hello dotstub" '
	expect_eq "... over one connection" "$(ds_json d1 dot_server.handshakes)" 4
}

# ---- RFC 8467 padding, on the bytes: answers to queries with EDNS are a
# multiple of 468 octets with a PADDING option; without EDNS there is no
# OPT to pad
s_padding() {
	local out
	up_d1 || return 1
	out=$($DC padding $L)
	printf '# %s\n' "${out//$'\n'/$'\n'# }"
	expect_contains "a padded query: a 468-octet answer with PADDING" "$out" "edns-padded 468 padding=1 rcode=0"
	expect_contains "an EDNS query without padding: padded all the same" "$out" "edns 468 padding=1 rcode=0"
	check "no EDNS: no OPT, no padding" sh -c "echo '$out' | grep -Eq '^no-edns [0-9]+ padding=0 rcode=0$'"
	check "a 48 KB answer: a multiple of 468 with PADDING" \
		sh -c "echo '$out' | awk '\$1 == \"huge\" { exit !(\$2 % 468 == 0 && \$2 > 40000 && \$3 == \"padding=1\") }'"
	out=$($KDIG +padding @$L www.test A)
	expect_contains "kdig sees the PADDING option" "$out" "PADDING"
	expect_contains "... in a 468-octet answer" "$out" "Received 468 B"
}

# ---- session resumption: openssl s_client saves the ticket (a full
# handshake), and resumes with it; ALPN dot; TLS 1.2 and other ALPNs
# refused; a second address, IPv6
s_tls() {
	local out pid
	up_d1 --serve-dot "[::1]:8853" || return 1
	expect_eq "IPv6: kdig +tls @::1 -p 8853" "$(kdig -p 8853 +tls +time=3 +retry=0 @::1 www.test A +short)" \
		"192.0.2.1"
	mkfifo "$T_DIR/in"
	openssl s_client -connect $L:853 -alpn dot -sess_out "$T_DIR/sess.pem" <"$T_DIR/in" >"$T_DIR/s1.out" 2>&1 &
	pid=$!
	exec 3>"$T_DIR/in"
	check "s_client: the server's ticket is saved" wait_for 5 test -s "$T_DIR/sess.pem"
	exec 3>&-
	wait $pid
	out=$(cat "$T_DIR/s1.out")
	expect_contains "s_client: a full TLS 1.3 handshake" "$out" "New, TLSv1.3"
	expect_contains "s_client: ALPN dot" "$out" "ALPN protocol: dot"
	out=$(openssl s_client -connect $L:853 -alpn dot -sess_in "$T_DIR/sess.pem" </dev/null 2>&1)
	expect_contains "s_client -sess_in: the session is resumed" "$out" "Reused, TLSv1.3"
	check "status counts the resumption" test "$(ds_json d1 dot_server.resumed)" -ge 1
	out=$(openssl s_client -connect $L:853 -tls1_2 </dev/null 2>&1)
	expect_contains "TLS 1.2 is refused" "$out" "alert protocol version"
	out=$(openssl s_client -connect $L:853 -alpn h2 </dev/null 2>&1)
	expect_contains "a client offering only h2 is refused (RFC 7301)" "$out" "no application protocol"
	out=$(openssl s_client -connect $L:853 </dev/null 2>&1)
	expect_contains "a client without ALPN is served" "$out" "New, TLSv1.3"
	expect_eq "kdig +tls still answered" "$($KDIG @$L www.test A +short)" "192.0.2.1"
}

# ---- no clear text between client and server: the capture sees the TLS
# traffic to port 853 and never the name asked
s_capture() {
	local out
	up_d1 || return 1
	cap_start c lo "" "host $L" || return 1
	out=$($KDIG @$L cleartext-probe.wild.test A +short)
	cap_stop c $L
	expect_eq "kdig +tls: a forwarded name is answered" "$out" "192.0.2.99"
	cap_expect_seen "the capture saw the DoT connection" c "tcp port 853"
	cap_expect_absent "... and never the name in clear text" c "cleartext-probe"
	cap_expect_none "... nor any DNS on port 53 of the server" c "port 53"
}

# ---- access-control applies to DoT clients too: refuse -> REFUSED with
# EDE 18 over TLS; deny -> closed before the handshake; others served
s_access() {
	local out
	up_d1 --access-control "127.0.0.82/32 refuse" --access-control "127.0.0.83/32 deny" || return 1
	out=$($DC query $L www.test A 127.0.0.82)
	expect_eq "refused address: REFUSED with EDE 18 (Prohibited)" "$out" "rcode 5 ede 18"
	out=$($DC query $L www.test A 127.0.0.83)
	expect_eq "denied address: the connection closed, no answer" "$out" "closed"
	out=$($DC query $L www.test A 127.0.0.85)
	expect_eq "another address: answered" "$out" "rcode 0 ede -1"
	expect_eq "counted as refused" "$(ds_json d1 access_control.refused)" 1
	expect_eq "counted as denied" "$(ds_json d1 access_control.denied)" 1
}

# ---- dot-clients: idle connections beyond it close the least recently
# active; counted; a new client is answered
s_clients() {
	local out
	up_d1 --dot-clients 8 || return 1
	out=$($DC idle $L 20 2)
	expect_eq "20 idle connections, dot-clients 8: 12 closed" "${out% after*}" "open 8 closed 12"
	expect_eq "... counted (dot_server.evicted)" "$(ds_json d1 dot_server.evicted)" 12
	check "... logged" ds_wait_log d1 "dot: dot-clients reached" 0 2
	expect_eq "a new client is answered" "$($KDIG @$L www.test A +short)" "192.0.2.1"
}

# ---- dot-clients-per-address: the same from one address; another
# address is not affected
s_per_address() {
	local out
	up_d1 --dot-clients-per-address 4 || return 1
	out=$($DC idle $L 10 2 127.0.0.86)
	expect_eq "10 idle connections from one address, limit 4: 6 closed" "${out% after*}" "open 4 closed 6"
	expect_eq "... counted" "$(ds_json d1 dot_server.evicted)" 6
	check "... logged" ds_wait_log d1 "dot: dot-clients-per-address reached" 0 2
	expect_eq "another address is answered" "$($DC query $L www.test A 127.0.0.87)" "rcode 0 ede -1"
}

# ---- dot-client-inflight against an upstream that never answers: 16
# taken of 100, no more read from that client; counted; another client
# is answered
s_inflight() {
	local pid
	$TC silent $U 853 60 &
	echo $! >"$T_DIR/silent.pid"
	wait_for 5 sh -c "ss -Hltn 'sport = :853' | grep -qF '$U:853'" ||
		{ echo "the silent upstream did not listen"; return 1; }
	ds_start d1 --listen $L:53 --serve-dot $L --upstream $NAME@$U --tlsa "$TLSA311" \
		--query-timeout 10000 --dot-client-inflight 16 || return 1
	wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d1/log"
	$DC inflight $L 100 q 4 "$T_DIR/ready" &
	pid=$!
	wait_for 5 test -s "$T_DIR/ready"
	check "16 of 100 pipelined queries are pending at the upstream" \
		wait_for 3 sh -c "[ \"\$($DOTCTL -s $T_DIR/d1/control status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"upstream\"][\"waiting\"])')\" = 16 ]"
	expect_eq "... and no more are taken while they are" "$(ds_json d1 upstream.waiting)" 16
	check "the held client is counted (dot_server.held)" test "$(ds_json d1 dot_server.held)" -ge 1
	check "... and logged" ds_wait_log d1 "dot: a client has 16 queries in flight" 0 2
	expect_eq "another DoT client is answered meanwhile" "$($DC query $L localhost A)" "rcode 0 ede -1"
	wait $pid
}

# Under AddressSanitizer freed memory waits in a quarantine before reuse:
# keep it small, so RSS measures the buffers.
if ldd "$DOTSTUBD" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
fi

# noread_settled CLIENTS: the connections the daemon holds (established on
# its side, OPEN) and those it closed (EVICTED) add up to CLIENTS, and have
# for the last 10 calls (half a second of wait_for)
noread_settled() {
	local was="${OPEN:-}/${EVICTED:-}"
	OPEN=$(ss -Htn state established "( sport = :853 )" | grep -cF "$L:853")
	EVICTED=$(ds_json d1 dot_server.evicted)
	if [ $((OPEN + EVICTED)) -eq "$1" ] && [ "$was" = "$OPEN/$EVICTED" ]; then
		STABLE=$((STABLE + 1))
	else
		STABLE=0
	fi
	[ "$STABLE" -ge 10 ]
}

# noread CLIENTS QUERIES SECONDS: clients that pipeline huge.test TXT
# and never read; once the daemon's memory settles, while they are still
# connected, sets GROWTH_KIB, OPEN (connections the daemon still holds,
# established on its side),
# OUTPUT (dot_server.output) and EVICTED (dot_server.evicted)
noread() {
	local r words pid
	OPEN='' EVICTED='' STABLE=0
	rm -f "$T_DIR/ready"
	$DC noread $L "$(ds_pid d1)" "$1" "$2" huge.test "$3" "$T_DIR/ready" 60 >/dev/null &
	pid=$!
	wait_for $(($3 + 10)) test -s "$T_DIR/ready"
	r=$(cat "$T_DIR/ready")
	# the daemon's side: established connections are the ones it holds,
	# once that agrees with what it says it closed and stays so
	wait_for 10 noread_settled "$1" || echo "# the connections did not settle"
	OUTPUT=$(ds_json d1 dot_server.output)
	pid_stop $pid
	echo "# noread $1 clients x $2 queries: rss before/after (KiB) $r; still open $OPEN," \
		"output $OUTPUT, evicted $EVICTED"
	read -ra words <<<"$r"
	set -- "${words[@]}"
	GROWTH_KIB=$(($2 - $1))
}

# ---- dot-client-output: clients that pipeline large answers and never
# read hold a bounded output each, and stay connected
s_output_client() {
	local out
	up_d1 || return 1
	out=$($KDIG @$L huge.test TXT +short | wc -l)
	expect_eq "the large answer is complete over DoT" "$out" 700
	noread 10 100 6
	check "10 clients that do not read: RSS grows by less than 16 MiB ($((GROWTH_KIB / 1024)) MiB)" \
		test "$GROWTH_KIB" -lt $((16 * 1024))
	expect_eq "... every one of them still connected (the per-client bound holds)" "$OPEN" 10
	check "... their output buffered, within 10 x (dot-client-output + an answer) ($OUTPUT)" \
		test "$OUTPUT" -gt 0 -a "$OUTPUT" -le $((10 * (256 * 1024 + 65537)))
	expect_eq "... none closed" "$EVICTED" 0
	expect_eq "another client is still answered" "$($KDIG @$L huge.test TXT +short | wc -l)" 700
}

# ---- dot-output-total: the clients holding most are closed until the
# total is under it
s_output_total() {
	up_d1 --dot-output-total 1m || return 1
	$KDIG @$L huge.test TXT +short >/dev/null
	noread 10 100 6
	check "total 1m: connections with the most buffered were closed ($OPEN of 10 open)" \
		test "$OPEN" -le 6
	check "... counted ($EVICTED)" test "$EVICTED" -ge 4 -a "$EVICTED" -eq $((10 - OPEN))
	check "... the total within 1m ($OUTPUT)" test "$OUTPUT" -le $((1024 * 1024))
	check "... logged" ds_wait_log d1 "dot: dot-output-total reached" 0 2
	expect_eq "another client is still answered" "$($KDIG @$L huge.test TXT +short | wc -l)" 700
}

# ---- dot-idle-timeout: an idle connection is closed after it; one with
# queries kept going is not
s_idle() {
	local out
	up_d1 --dot-idle-timeout 1000 || return 1
	out=$($DC idle $L 3 5)
	expect_eq "3 idle connections closed by dot-idle-timeout 1000" "${out% after*}" "open 0 closed 3"
	check "... about 1 s after their handshake, not at once and not late ($out)" \
		sh -c "echo '$out' | awk '{ exit !(\$6 >= 0.9 && \$6 < 2.0) }'"
	expect_eq "... counted (dot_server.idle_closed)" "$(ds_json d1 dot_server.idle_closed)" 3
	out=$($DC pipeline $L 20 i 5)
	expect_eq "a busy connection is served" "$out" 20
}

# ---- dot-handshake-timeout: a client that connects and sends nothing,
# and one that sends its ClientHello an octet every 0.2 s, are closed
# after it, with a log line; meanwhile others are served
s_handshake_timeout() {
	local out pid
	up_d1 --dot-handshake-timeout 1000 || return 1
	$DC hostile $L slowhello 8 >"$T_DIR/slow.out" &
	pid=$!
	out=$($DC hostile $L silent 5)
	echo "# silent: $out"
	check "a silent client is closed after about 1 s ($out)" \
		sh -c "echo '$out' | awk '\$1 == \"closed_after\" { exit !(\$2 >= 0.8 && \$2 < 2.5) } \$1 != \"closed_after\" { exit 1 }'"
	expect_eq "another client is answered meanwhile" "$($KDIG @$L www.test A +short)" "192.0.2.1"
	wait $pid
	out=$(cat "$T_DIR/slow.out")
	echo "# slowhello: $out"
	check "a slow-loris handshake is closed after about 1 s, its hello unfinished ($out)" \
		sh -c "echo '$out' | awk '\$1 == \"closed_after\" { exit !(\$2 >= 0.8 && \$2 < 2.5 && \$4 < \$6) } \$1 != \"closed_after\" { exit 1 }'"
	expect_eq "both counted (dot_server.handshake_timeouts)" "$(ds_json d1 dot_server.handshake_timeouts)" 2
	check "... with a log line" ds_wait_log d1 "TLS handshake not done within dot-handshake-timeout" 0 2
}

# ---- hostile clients: garbage after the handshake (a message shorter
# than a header; bytes outside TLS), a 64 KiB length prefix then nothing,
# HTTP instead of TLS: each closed, with a log line; others served
s_hostile() {
	local out
	up_d1 || return 1
	out=$($DC hostile $L notdns 5)
	check "a 5-octet message after the handshake: closed at once ($out)" \
		sh -c "echo '$out' | grep -Eq '^closed_after 0\.[0-9]$'"
	check "... logged" ds_wait_log d1 "closed a client's connection: not DNS" 0 2
	out=$($DC hostile $L raw 5)
	check "garbage outside TLS after the handshake: closed at once ($out)" \
		sh -c "echo '$out' | grep -Eq '^closed_after 0\.[0-9]$'"
	check "... logged" ds_wait_log d1 "closed a client's connection: TLS error" 0 2
	out=$($DC hostile $L prefix64k 8)
	check "a 65535 length then nothing: closed by the 3 s message timeout ($out)" \
		sh -c "echo '$out' | awk '\$1 == \"closed_after\" { exit !(\$2 >= 2.8 && \$2 < 4.5) } \$1 != \"closed_after\" { exit 1 }'"
	check "... logged" ds_wait_log d1 "closed a client's connection: incomplete message timed out" 0 2
	out=$($DC hostile $L http 5)
	check "HTTP instead of a ClientHello: closed at once ($out)" \
		sh -c "echo '$out' | grep -Eq '^closed_after 0\.[0-9]$'"
	check "... logged" ds_wait_log d1 "closed a client's connection: TLS handshake failed" 0 2
	expect_eq "counted as protocol errors" "$(ds_json d1 dot_server.protocol_errors)" 3
	expect_eq "... and a failed handshake" "$(ds_json d1 dot_server.handshake_failures)" 1
	expect_eq "kdig +tls is still answered" "$($KDIG @$L www.test A +short)" "192.0.2.1"
	check "the daemon is still running" kill -0 "$(ds_pid d1)"
}

# hup NAME: SIGHUP, and wait until the reload is logged (applied or refused)
hup() {
	local n
	n=$(grep -cE "reload: applied|reload refused" "$T_DIR/$1/log")
	kill -HUP "$(ds_pid "$1")"
	wait_for 10 sh -c "[ \"\$(grep -cE 'reload: applied|reload refused' \"\$1\")\" -gt $n ]" \
		sh "$T_DIR/$1/log"
}

# ---- SIGHUP: serve-dot addresses added and removed, a new certificate
# loaded; an address that cannot be bound refuses the reload as a whole
s_reload() {
	local conf=$T_DIR/d1.conf out
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key \
		udot_start u1 $U $NAME || return 1
	printf 'listen %s:53\nserve-dot %s\nupstream %s@%s\ntlsa "%s"\nserve-dot-cert %s\nserve-dot-key %s\n' \
		$L $L $NAME $U "$TLSA311" "$T_DIR/own/own1.example.pem" "$T_DIR/own/own1.example.key" >"$conf"
	ds_start d1 -c "$conf" || return 1
	wait_for 5 grep -q "dot: using the certificate" "$T_DIR/d1/log"
	expect_eq "serving on L" "$($KDIG @$L www.test A +short)" "192.0.2.1"
	printf 'listen %s:53\nserve-dot %s\nupstream %s@%s\ntlsa "%s"\nserve-dot-cert %s\nserve-dot-key %s\n' \
		$L $L2 $NAME $U "$TLSA311" "$T_DIR/own/own2.example.pem" "$T_DIR/own/own2.example.key" >"$conf"
	check "SIGHUP (serve-dot L2 instead of L, another certificate)" hup d1
	expect_contains "reload applied" "$(ds_log d1)" "reload: applied"
	out=$(kdig -p 853 +tls-ca="$T_DIR/own/own2.example.pem" +tls-hostname=own2.example +time=3 +retry=0 @$L2 www.test A +short)
	expect_eq "L2 serves, with the new certificate" "$out" "192.0.2.1"
	out=$($KDIG @$L www.test A +short 2>&1)
	expect_not_contains "L no longer serves DoT" "$out" "192.0.2.1"
	expect_eq "plain DNS on L is kept" "$(dig -p 53 @$L +time=3 +tries=1 www.test A +short)" "192.0.2.1"
	# a serve-dot address that is not ours cannot be bound: refused, all kept
	printf 'listen %s:53\nserve-dot %s\nserve-dot 192.0.2.77\nupstream %s@%s\ntlsa "%s"\n' \
		$L $L2 $NAME $U "$TLSA311" >"$conf"
	check "SIGHUP (an address that cannot be bound)" hup d1
	expect_contains "refused as a whole" "$(grep 'reload refused' "$T_DIR/d1/log")" "cannot serve DoT on 192.0.2.77:853"
	expect_eq "... L2 still serves" "$($KDIG @$L2 www.test A +short)" "192.0.2.1"
	expect_eq "... with the certificate in force" "$(ds_json d1 dot_server.certificate)" "$T_DIR/own/own2.example.pem"
	# serve-dot removed altogether
	printf 'listen %s:53\nupstream %s@%s\ntlsa "%s"\n' $L $NAME $U "$TLSA311" >"$conf"
	check "SIGHUP (no serve-dot)" hup d1
	expect_eq "status: no DoT server" "$(ds_json d1 dot_server)" "None"
	out=$($KDIG @$L2 www.test A +short 2>&1)
	expect_not_contains "... L2 no longer serves DoT" "$out" "192.0.2.1"
}

scenario basic s_basic teardown
scenario name s_name teardown
scenario own-cert s_own_cert teardown
scenario pipeline s_pipeline teardown
scenario padding s_padding teardown
scenario tls s_tls teardown
scenario capture s_capture teardown
scenario access s_access teardown
scenario clients s_clients teardown
scenario per-address s_per_address teardown
scenario inflight s_inflight teardown
scenario output-client s_output_client teardown
scenario output-total s_output_total teardown
scenario idle s_idle teardown
scenario handshake-timeout s_handshake_timeout teardown
scenario hostile s_hostile teardown
scenario reload s_reload teardown
finish
