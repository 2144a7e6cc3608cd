# shellcheck shell=dash
# unbound-dot.sh -- start real Unbound servers serving plain DNS and
# DNS-over-TLS for tests.  POSIX sh; source it:
#
#	. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
#	udot_init                        # temp dir $UDOT_DIR
#	trap udot_cleanup EXIT INT TERM  # stops every instance, removes the dir
#	udot_start u1 127.0.0.31 k2m4p6r8t0v1.zz
#	udot_tlsa 3 1 1 "$(udot_cert_file u1)"
#
# Functions (ID names one instance; files live in $UDOT_DIR/ID/):
#   udot_init                   create $UDOT_DIR (mktemp -d) unless already set
#   udot_cleanup                stop every instance, remove $UDOT_DIR if ours
#   udot_cert NAME DIR          fresh self-signed P-256 certificate for NAME:
#                               DIR/NAME.pem, DIR/NAME.key
#   udot_ca_chain NAME DIR [inter]
#                               private CA (and an intermediate if "inter") and
#                               a server certificate for NAME signed by it:
#                               DIR/NAME.key, DIR/NAME.pem (the chain served:
#                               server, [intermediate], CA), DIR/NAME.leaf.pem,
#                               DIR/NAME.ca.pem (and DIR/NAME.inter.pem);
#                               $UDOT_SAN_EXTRA is appended to the server
#                               certificate's subjectAltName (",IP:192.0.2.1")
#   udot_ca_sign NAME CADIR DIR a new key and server certificate for NAME
#                               signed by CADIR's CA (udot_ca_chain, no
#                               intermediate): the same files in DIR, the CA's
#                               copied ($UDOT_SAN_EXTRA as above)
#   udot_sized_txt NAME OCTETS  server: lines: a TXT RRset for NAME whose
#                               answer is exactly OCTETS octets without OPT
#                               (udot_sized_txt_count: how many records)
#   udot_big_txt NAME [COUNT]   server: lines for COUNT (40) TXT records of NAME
#   udot_tlsa U S M CERTFILE    print "U S M HEX" for the first certificate of
#                               CERTFILE (S 0 = certificate, 1 = SPKI; M 0 =
#                               full, 1 = SHA-256, 2 = SHA-512)
#   udot_start ID ADDR NAME     write a config and start Unbound on ADDR: plain
#                               DNS on $UDOT_DNS_PORT (53), DoT on $UDOT_DOT_PORT
#                               (853) with $UDOT_CERT/$UDOT_KEY or else a fresh
#                               self-signed certificate for NAME; returns once
#                               it answers both (non-zero if it does not)
#   udot_gw_start DIR CERTDIR PIDFILE IFACES [EXTRA]
#                               the network's resolver of a gateway namespace
#                               ($NS_GW): a real Unbound with the config in DIR,
#                               on each "ADDR@PORT" of IFACES (plain DNS on
#                               53, DoT on 853 with CERTDIR's certificate for
#                               $ADN), publishing neither resolver-name.arpa
#                               nor (unless EXTRA, more server: lines, says
#                               so) DDR, answering example.test's names from
#                               local-data; its pid in PIDFILE; returns once
#                               the first address answers
#   udot_run ID                 (re)start an instance with its existing config
#   udot_stop ID                stop it (TERM, then KILL after 5 s)
#   udot_kill ID                kill it abruptly (SIGKILL)
#   udot_stop_all               stop every instance (the files stay)
#   udot_stat ID [COUNTER]      print statistics (unbound-control stats_noreset)
#                               or one counter, e.g. total.num.queries
#   udot_queries ID             print total.num.queries
#   udot_cert_file ID           the certificate (chain) file ID serves
#   udot_log ID                 the log file of ID
#
# Settings read by udot_start (environment):
#   UDOT_DNS_PORT, UDOT_DOT_PORT  ports (53, 853)
#   UDOT_CERT, UDOT_KEY           certificate chain and key to serve
#   UDOT_BENCH_NAMES              n0..n(N-1).bench.test (default 2000)
#   UDOT_CONF_EXTRA               more lines for the server: clause
#   UDOT_CONF_TAIL                more clauses (auth-zone:, ...) at the end
#   UDOT_DENY_ROOT                1 (default): local-zone "." refuse, so the
#                                 server never recurses to the internet
#   UDOT_NETNS                    run Unbound and the checks in this netns
#
# Local data served (all under test.):
#   www.test.          A 192.0.2.1, AAAA 2001:db8::1, TXT "hello dotstub"
#   nI.bench.test.     A 10.77.(I/256).(I%256), TTL 0, I < UDOT_BENCH_NAMES
#   *.wild.test.       A 192.0.2.99, TTL 0 (any name below wild.test.)
#   ready.test.        TXT "ready"
# Needs: unbound, unbound-control, openssl, kdig (knot-dnsutils); a shell
# with 'local' (dash, bash, busybox ash).

UDOT_OWN_DIR=

udot__ns()
{
	if [ -n "${UDOT_NETNS:-}" ]; then
		ip netns exec "$UDOT_NETNS" "$@"
	else
		"$@"
	fi
}

udot_init()
{
	if [ -z "${UDOT_DIR:-}" ]; then
		UDOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/udot.XXXXXX") || return 1
		UDOT_OWN_DIR=$UDOT_DIR
	fi
	export UDOT_DIR
}

udot_cert()
{
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$2/$1.key" -out "$2/$1.pem" -days 30 -subj "/CN=$1" \
		-addext "subjectAltName=DNS:$1" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
}

# udot__sign CSR CAKEY CACERT OUT EXTFILE
udot__sign()
{
	openssl x509 -req -in "$1" -CAkey "$2" -CA "$3" -CAcreateserial \
		-out "$4" -days 30 -sha256 -extfile "$5" >/dev/null 2>&1
}

udot_ca_chain()
{
	local name=$1 dir=$2 inter=${3:-}
	local ext=$dir/$name.ext signkey signcert
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.ca.key" -out "$dir/$name.ca.pem" -days 30 \
		-subj "/CN=dotstub test CA for $name" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
	signkey=$dir/$name.ca.key
	signcert=$dir/$name.ca.pem
	if [ "$inter" = inter ]; then
		printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$ext"
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$dir/$name.inter.key" -out "$dir/$name.inter.csr" \
			-subj "/CN=dotstub test intermediate for $name" >/dev/null 2>&1 || return 1
		udot__sign "$dir/$name.inter.csr" "$signkey" "$signcert" "$dir/$name.inter.pem" "$ext" || return 1
		signkey=$dir/$name.inter.key
		signcert=$dir/$name.inter.pem
	fi
	printf 'subjectAltName=DNS:%s%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		"$name" "${UDOT_SAN_EXTRA:-}" >"$ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" >/dev/null 2>&1 || return 1
	udot__sign "$dir/$name.csr" "$signkey" "$signcert" "$dir/$name.leaf.pem" "$ext" || return 1
	if [ "$inter" = inter ]; then
		cat "$dir/$name.leaf.pem" "$dir/$name.inter.pem" "$dir/$name.ca.pem" >"$dir/$name.pem"
	else
		cat "$dir/$name.leaf.pem" "$dir/$name.ca.pem" >"$dir/$name.pem"
	fi
}

udot_ca_sign()
{
	local name=$1 ca=$2 dir=$3
	mkdir -p "$dir" &&
		cp "$ca/$name.ca.key" "$ca/$name.ca.pem" "$dir/" || return 1
	printf 'subjectAltName=DNS:%s%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		"$name" "${UDOT_SAN_EXTRA:-}" >"$dir/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" >/dev/null 2>&1 || return 1
	udot__sign "$dir/$name.csr" "$dir/$name.ca.key" "$dir/$name.ca.pem" "$dir/$name.leaf.pem" \
		"$dir/$name.ext" || return 1
	cat "$dir/$name.leaf.pem" "$dir/$name.ca.pem" >"$dir/$name.pem"
}

udot__hex()
{
	od -An -v -tx1 | tr -d ' \n'
}

# udot__der SELECTOR CERTFILE: the DER the selector picks
udot__der()
{
	case $1 in
	0) openssl x509 -in "$2" -outform DER ;;
	1) openssl x509 -in "$2" -noout -pubkey | openssl pkey -pubin -outform DER ;;
	*) return 1 ;;
	esac
}

udot_tlsa()
{
	local hex
	case $2 in
	0 | 1) ;;
	*) return 1 ;;
	esac
	case $3 in
	0) hex=$(udot__der "$2" "$4" | udot__hex) ;;
	1) hex=$(udot__der "$2" "$4" | openssl dgst -sha256 -binary | udot__hex) ;;
	2) hex=$(udot__der "$2" "$4" | openssl dgst -sha512 -binary | udot__hex) ;;
	*) return 1 ;;
	esac
	[ -n "$hex" ] || return 1
	echo "$1 $2 $3 $hex"
}

# udot_big_txt NAME [COUNT]: server: lines giving NAME COUNT (default 40)
# TXT records of ~60 octets (40: about 2.5 KB, larger than 512 and than
# 1232 octets), for truncation and large-answer tests; add them to
# UDOT_CONF_EXTRA.
udot_big_txt()
{
	local i=1 n=${2:-40}
	while [ $i -le "$n" ]; do
		printf '\tlocal-data: "%s 300 IN TXT \\"record %d padding padding padding padding padding pad\\""\n' "$1" $i
		i=$((i + 1))
	done
}

# udot_sized_txt NAME OCTETS: server: lines giving NAME a TXT RRset whose
# answer (header, question, the records with compressed owners, no OPT) is
# exactly OCTETS octets long (a few hundred up to 65535): records of one
# distinct string each, up to 255 octets.  udot_sized_txt_count NAME OCTETS
# prints how many records that is.
udot_sized_txt()
{
	udot__sized_txt "$1" "$2" lines
}

udot_sized_txt_count()
{
	udot__sized_txt "$1" "$2" count
}

udot__sized_txt()
{
	awk -v name="$1" -v total="$2" -v what="$3" 'BEGIN {
		n = split(name, l, ".")
		qlen = 1
		for (i = 1; i <= n; i++)
			if (l[i] != "")
				qlen += length(l[i]) + 1
		rem = total - 12 - qlen - 4
		k = int(rem / 268)
		r = rem - k * 268
		# the last one or two records take the rest (13 + 6..255 octets each)
		if (r > 0 && r < 19) {
			k--
			r += 268
		}
		cnt = k + (r > 268 ? 2 : (r > 0 ? 1 : 0))
		if (what == "count") {
			print cnt
			exit
		}
		for (i = 1; i <= cnt; i++) {
			len = 255
			if (i > k)
				len = (r > 268 ? (i == k + 1 ? int(r / 2) : r - int(r / 2)) : r) - 13
			s = sprintf("r%05d", i)
			while (length(s) < len)
				s = s "x"
			printf "\tlocal-data: \x27%s 300 IN TXT \"%s\"\x27\n", name, s
		}
	}'
}

udot_cert_file()
{
	cat "$UDOT_DIR/$1/certfile"
}

udot_log()
{
	echo "$UDOT_DIR/$1/unbound.log"
}

udot__conf()
{
	local addr=$2 d=$UDOT_DIR/$1
	local dns=${UDOT_DNS_PORT:-53} dot=${UDOT_DOT_PORT:-853}
	cat <<EOF
server:
	verbosity: 1
	use-syslog: no
	logfile: "$d/unbound.log"
	log-time-ascii: yes
	chroot: ""
	username: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	num-threads: 1
	so-reuseport: no
	do-ip4: yes
	do-ip6: yes
	do-udp: yes
	do-tcp: yes
	interface: $addr@$dns
	interface: $addr@$dot
	tls-port: $dot
	tls-service-key: "$(cat "$d/keyfile")"
	tls-service-pem: "$(cat "$d/certfile")"
	incoming-num-tcp: 64
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	module-config: "iterator"
	extended-statistics: yes
	statistics-cumulative: yes
	local-zone: "test." static
	local-data: "www.test. 300 IN A 192.0.2.1"
	local-data: "www.test. 300 IN AAAA 2001:db8::1"
	local-data: 'www.test. 300 IN TXT "hello dotstub"'
	local-data: 'ready.test. 300 IN TXT "ready"'
	local-zone: "wild.test." redirect
	local-data: "wild.test. 0 IN A 192.0.2.99"
EOF
	if [ "${UDOT_DENY_ROOT:-1}" = 1 ]; then
		printf '\tlocal-zone: "." refuse\n'
	fi
	awk -v n="${UDOT_BENCH_NAMES:-2000}" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "\tlocal-data: \"n%d.bench.test. 0 IN A 10.77.%d.%d\"\n", i, int(i / 256) % 256, i % 256
	}'
	if [ -n "${UDOT_CONF_EXTRA:-}" ]; then
		printf '%s\n' "$UDOT_CONF_EXTRA"
	fi
	cat <<EOF
remote-control:
	control-enable: yes
	control-interface: "$d/control.sock"
	control-use-cert: no
EOF
	if [ -n "${UDOT_CONF_TAIL:-}" ]; then
		printf '%s\n' "$UDOT_CONF_TAIL"
	fi
}

# udot_gw_start DIR CERTDIR PIDFILE IFACES [EXTRA]: see the header.  The
# gateway's resolver of the DDR and DNR tests, bash only (ip netns).
udot_gw_start() {
	local d=$1 c=$2 pidfile=$3 ifaces=$4 extra=${5:-} first=${4%%@*} i=
	mkdir -p "$d"
	{
		cat <<EOF
server:
	chroot: ""
	username: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	verbosity: 1
	use-syslog: no
	logfile: "$d/unbound.log"
	num-threads: 1
	do-ip6: yes
	tls-port: 853
	tls-service-key: "$c/$ADN.key"
	tls-service-pem: "$c/$ADN.pem"
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	do-not-query-address: 0.0.0.0/0
	do-not-query-address: ::/0
	local-zone: "resolver-name.arpa." static
	local-data: "resolver-name.arpa. 300 IN SOA a. b. 1 3600 600 86400 300"
	local-zone: "resolver.arpa." static
	local-data: "resolver.arpa. 300 IN SOA a. b. 1 3600 600 86400 300"
	local-zone: "example.test." static
	local-data: "www.example.test. 300 IN A 192.0.2.80"
	local-data: "secret-name.example.test. 300 IN A 192.0.2.81"
	local-data: "asked.example.test. 300 IN A 192.0.2.82"
	local-data: "dual.example.test. 300 IN A 192.0.2.83"
EOF
		for i in $ifaces; do
			printf '\tinterface: %s\n' "$i"
		done
		[ -n "$extra" ] && printf '%s\n' "$extra"
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} >"$d/unbound.conf"
	ip netns exec "$NS_GW" unbound -d -c "$d/unbound.conf" >>"$d/unbound.stderr" 2>&1 &
	echo $! >"$pidfile"
	if ! wait_for 5 ip netns exec "$NS_GW" sh -c \
		"dig @$first +time=1 +tries=1 www.example.test A | grep -q 192.0.2.80"; then
		echo "unbound on $first does not answer:"
		cat "$d/unbound.stderr" "$d/unbound.log" 2>/dev/null
		return 1
	fi
}

udot_start()
{
	local id=$1 addr=$2 name=$3 d
	[ -n "${UDOT_DIR:-}" ] || udot_init || return 1
	d=$UDOT_DIR/$id
	mkdir -p "$d" || return 1
	if [ -n "${UDOT_CERT:-}" ]; then
		cp "$UDOT_CERT" "$d/server.pem" && cp "$UDOT_KEY" "$d/server.key" || return 1
	else
		udot_cert "$name" "$d" || return 1
		mv "$d/$name.pem" "$d/server.pem" && mv "$d/$name.key" "$d/server.key" || return 1
	fi
	echo "$d/server.pem" >"$d/certfile"
	echo "$d/server.key" >"$d/keyfile"
	echo "$addr" >"$d/addr"
	echo "${UDOT_DNS_PORT:-53}" >"$d/dnsport"
	echo "${UDOT_DOT_PORT:-853}" >"$d/dotport"
	udot__conf "$id" "$addr" "$name" >"$d/unbound.conf" || return 1
	udot_run "$id"
}

# udot__ask ID TLS(0/1): does ready.test TXT come back?
udot__ask()
{
	local d=$UDOT_DIR/$1 port tls
	if [ "$2" = 1 ]; then
		port=$(cat "$d/dotport") tls=+tls
	else
		port=$(cat "$d/dnsport") tls=+notls
	fi
	udot__ns kdig @"$(cat "$d/addr")" -p "$port" $tls +time=1 +retry=0 +short \
		ready.test TXT 2>/dev/null | grep -q ready
}

udot_run()
{
	local d=$UDOT_DIR/$1 i=0
	: >"$d/unbound.log"
	# a simple command, so that $! is Unbound itself
	if [ -n "${UDOT_NETNS:-}" ]; then
		ip netns exec "$UDOT_NETNS" unbound -d -c "$d/unbound.conf" >>"$d/unbound.log" 2>&1 &
	else
		unbound -d -c "$d/unbound.conf" >>"$d/unbound.log" 2>&1 &
	fi
	echo $! >"$d/pid"
	while [ $i -lt 100 ]; do
		if ! kill -0 "$(cat "$d/pid")" 2>/dev/null; then
			echo "udot: unbound $1 exited:" >&2
			tail -n 20 "$d/unbound.log" >&2
			return 1
		fi
		if udot__ask "$1" 0 && udot__ask "$1" 1; then
			return 0
		fi
		sleep 0.1 # pacing of this poll loop (answering is the condition)
		i=$((i + 1))
	done
	echo "udot: unbound $1 does not answer" >&2
	tail -n 20 "$d/unbound.log" >&2
	return 1
}

# udot__alive PID: running and not a zombie (an instance started in a
# subshell that has exited is reaped by init, not by us)
udot__alive()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

udot__wait_gone()
{
	local i=0
	while udot__alive "$1" && [ $i -lt 50 ]; do
		sleep 0.1 # pacing of this poll loop (the process gone is the condition)
		i=$((i + 1))
	done
	! udot__alive "$1"
}

udot_stop()
{
	local d=$UDOT_DIR/$1 pid
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	if kill -TERM "$pid" 2>/dev/null && ! udot__wait_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		udot__wait_gone "$pid"
	fi
	wait "$pid" 2>/dev/null
	rm -f "$d/pid"
	return 0
}

udot_kill()
{
	local d=$UDOT_DIR/$1 pid
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	kill -KILL "$pid" 2>/dev/null
	udot__wait_gone "$pid"
	wait "$pid" 2>/dev/null
	rm -f "$d/pid"
	return 0
}

udot_stat()
{
	local d=$UDOT_DIR/$1
	if [ -n "${2:-}" ]; then
		udot__ns unbound-control -c "$d/unbound.conf" stats_noreset | sed -n "s/^$2=//p"
	else
		udot__ns unbound-control -c "$d/unbound.conf" stats_noreset
	fi
}

udot_queries()
{
	udot_stat "$1" total.num.queries
}

udot_stop_all()
{
	local p
	[ -n "${UDOT_DIR:-}" ] || return 0
	for p in "$UDOT_DIR"/*/pid; do
		[ -f "$p" ] || continue
		udot_stop "$(basename "$(dirname "$p")")"
	done
}

udot_cleanup()
{
	[ -n "${UDOT_DIR:-}" ] || return 0
	udot_stop_all
	if [ -n "$UDOT_OWN_DIR" ] && [ "$UDOT_OWN_DIR" = "$UDOT_DIR" ]; then
		rm -rf "$UDOT_DIR"
		UDOT_DIR=
	fi
}
