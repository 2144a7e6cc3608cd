# shellcheck shell=sh
# provisioned.sh -- sourceable test helper: provision a resolver with
# `dotctl provision` into a directory and serve it with a real Unbound on a
# loopback address (plain DNS on 53, DNS-over-TLS on 853).
#
#   . "$DOTSTUB_SRC/tests/lib/provisioned.sh"
#   prov_tmpdir                       # PROV_TMP: a temp dir, removed on exit
#   prov_up DIR ADDR [ARGS...]        # provision + start; sets PROV_NAME
#   prov_provision DIR ADDR [ARGS...] # dotctl provision --addr ADDR --out DIR ARGS
#   prov_start DIR ADDR               # unbound -c DIR/test-unbound.conf; waits
#                                     # for SOA resolver-name.arpa to answer
#                                     # ${PROV_READY_STATUS:-NOERROR}
#   prov_stop DIR                     # stops that unbound
#   prov_name DIR                     # prints N
#   prov_anchor FILE > OUT            # DNSKEY/KEY lines -> delv trust-anchors
#   prov_delv ADDR ANCHORS ROOT TYPE NAME  # validated records, or fails
#   prov_stop_all                     # stop every unbound under PROV_TMP
#   prov_cleanup                      # stop every unbound, remove PROV_TMP
#
# Unbound also serves test data for the daemon's tests (local-zone
# example.test: www A 192.0.2.10, www AAAA 2001:db8::10, txt TXT "dotstub
# test").  Extra server: lines can be passed in PROV_EXTRA_CONF.  It never
# queries anything outside (do-not-query-address 0.0.0.0/0 and ::/0).
# Needs: DOTSTUB_BUILD (or DOTCTL), unbound, dig, delv; root for port 53.
# Cleanup: prov_tmpdir installs an EXIT trap calling prov_cleanup; a test
# with its own trap must call prov_cleanup from it.

DOTCTL=${DOTCTL:-${DOTSTUB_BUILD:-.}/ctl/dotctl}
PROV_DIRS=""

# Skip (exit 77) unless the tools and the privileges are there.
prov_require() {
	for t in unbound dig delv openssl "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "SKIP: $t not installed"; exit 77; }
	done
	[ -x "$DOTCTL" ] || { echo "SKIP: no $DOTCTL"; exit 77; }
	[ "$(id -u)" = 0 ] || { echo "SKIP: port 53 needs root"; exit 77; }
}

# Also those started in a subshell (a scenario), which PROV_DIRS misses.
prov_stop_all() {
	for d in $PROV_DIRS; do
		prov_stop "$d"
	done
	PROV_DIRS=""
	[ -n "${PROV_TMP:-}" ] || return 0
	for _f in "$PROV_TMP"/*/test-unbound.pid; do
		[ -f "$_f" ] || continue
		prov_stop "${_f%/test-unbound.pid}"
	done
}

prov_cleanup() {
	prov_stop_all
	if [ -n "${PROV_TMP:-}" ]; then
		rm -rf "$PROV_TMP"
	fi
	PROV_TMP=""
}

prov_tmpdir() {
	PROV_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dotstub-prov.XXXXXX") || exit 1
	trap prov_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

prov_name() {
	cat "$1/name"
}

prov_provision() {
	_d=$1 _a=$2
	shift 2
	"$DOTCTL" provision --addr "$_a" --out "$_d" "$@" >/dev/null
}

# The wrapper configuration: test settings, then the operator's file.
prov_write_conf() {
	cat >"$1/test-unbound.conf" <<EOF
server:
	verbosity: 1
	use-syslog: no
	logfile: "$1/unbound.log"
	num-threads: 1
	do-not-query-localhost: yes
	do-not-query-address: 0.0.0.0/0
	do-not-query-address: ::/0
	local-zone: "example.test." static
	local-data: "www.example.test. 300 IN A 192.0.2.10"
	local-data: "www.example.test. 300 IN AAAA 2001:db8::10"
	local-data: 'txt.example.test. 300 IN TXT "dotstub test"'
${PROV_EXTRA_CONF:-}
remote-control:
	control-enable: no
include: "$1/unbound.conf"
EOF
}

# Start Unbound for DIR and wait until ADDR answers (5 s at most).
prov_start() {
	_d=$1 _a=$2
	prov_write_conf "$_d"
	: >"$_d/unbound.log"
	unbound -d -c "$_d/test-unbound.conf" >>"$_d/unbound.log" 2>&1 &
	echo $! >"$_d/test-unbound.pid"
	PROV_DIRS="$PROV_DIRS $_d"
	_i=0
	while [ $_i -lt 50 ]; do
		if ! kill -0 "$(cat "$_d/test-unbound.pid")" 2>/dev/null; then
			echo "unbound for $_d died:" >&2
			cat "$_d/unbound.log" >&2
			return 1
		fi
		if dig @"$_a" +time=1 +tries=1 +norec SOA resolver-name.arpa \
		    2>/dev/null | grep -q "status: ${PROV_READY_STATUS:-NOERROR}"; then
			return 0
		fi
		sleep 0.1 # pacing of this poll loop (answering is the condition)
		_i=$((_i + 1))
	done
	echo "unbound for $_d does not answer on $_a" >&2
	cat "$_d/unbound.log" >&2
	return 1
}

# prov__alive PID: running and not a zombie (an Unbound started in a
# scenario's subshell is reaped by init once stopped, not by us)
prov__alive() {
	_s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_s=${_s##*) }
	[ "${_s%% *}" != Z ]
}

prov_stop() {
	[ -f "$1/test-unbound.pid" ] || return 0
	_p=$(cat "$1/test-unbound.pid")
	rm -f "$1/test-unbound.pid"
	kill "$_p" 2>/dev/null || return 0
	_i=0
	while prov__alive "$_p" && [ $_i -lt 30 ]; do
		sleep 0.1 # pacing of this poll loop (the process gone is the condition)
		_i=$((_i + 1))
	done
	kill -9 "$_p" 2>/dev/null || true
	wait "$_p" 2>/dev/null || true
	return 0
}

prov_up() {
	_d=$1 _a=$2
	prov_provision "$@" || return 1
	# shellcheck disable=SC2034 # for the caller
	PROV_NAME=$(prov_name "$_d")
	prov_start "$_d" "$_a"
}

# DNSKEY or KEY records (zone file lines, comments allowed) to a delv
# trust-anchors clause with static keys.
prov_anchor() {
	sed 's/;.*//' "$1" | awk '
	BEGIN { print "trust-anchors {" }
	{
		for (i = 1; i <= NF; i++)
			if ($i == "DNSKEY" || $i == "KEY")
				break
		if (i > NF - 4)
			next
		k = ""
		for (j = i + 4; j <= NF; j++)
			k = k $j
		printf "\t\"%s\" static-key %s %s %s \"%s\";\n", $1, \
		    $(i + 1), $(i + 2), $(i + 3), k
	}
	END { print "};" }'
}

# Print the validated records (no RRSIGs) of NAME TYPE from ADDR, validated
# by delv from the anchors in ANCHORS for ROOT; fail unless fully validated.
prov_delv() {
	_out=$(delv @"$1" -a "$2" +root="$3" "$4" "$5" 2>&1)
	case $_out in
	*"; fully validated"*) ;;
	*) echo "delv $4 $5 @$1: not validated:" >&2
	   echo "$_out" >&2
	   return 1 ;;
	esac
	echo "$_out" | grep -v '^;' | awk '$4 != "RRSIG"' | sed 's/;.*//'
}
