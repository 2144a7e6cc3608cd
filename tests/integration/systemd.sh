#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd under a service manager: SIGHUP reloads the configuration
# (listeners added and removed, cache-size, log-level, the static upstream
# and its TLSA applied with the same process; an invalid configuration or
# a listen address that cannot be bound refused with a log line and the
# old one kept serving; keys that need a restart kept), the sd_notify
# protocol against a small Python program playing systemd's notify socket
# (a path and an abstract name: READY=1 only once queries are answered,
# RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM), and the unit
# file: systemd-analyze security --offline scores it below 2.0 and
# systemd-analyze verify has nothing to say.  Real Unbound upstreams on
# loopback; each scenario starts its own and stops them.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

L1=127.0.0.130 L2=127.0.0.131 L3=127.0.0.132
U1=127.0.0.133 U2=127.0.0.134
N1=r3l0ad1a2b3c.zz N2=r3l0ad4d5e6f.zz
NOTIFY=$DOTSTUB_SRC/tests/tools/notify_socket.py
cleanup() { ds_stop_all; udot_cleanup; rm -rf "$T_DIR"; }
trap cleanup EXIT
udot_init

mkdir -p "$T_DIR/c1" "$T_DIR/c2"
if ! udot_cert $N1 "$T_DIR/c1" || ! udot_cert $N2 "$T_DIR/c2"; then
	echo "cannot make certificates"
	exit 1
fi
T1=$(udot_tlsa 3 1 1 "$T_DIR/c1/$N1.pem")
T2=$(udot_tlsa 3 1 1 "$T_DIR/c2/$N2.pem")

up1() { UDOT_CERT=$T_DIR/c1/$N1.pem UDOT_KEY=$T_DIR/c1/$N1.key udot_start u1 $U1 $N1; }
up2() { UDOT_CERT=$T_DIR/c2/$N2.pem UDOT_KEY=$T_DIR/c2/$N2.key udot_start u2 $U2 $N2; }
teardown() { udot_stop_all; rm -rf "${T_DIR:?}"/d[0-9] "$T_DIR"/*.conf "$T_DIR"/notify.*; }

# dig_a ADDR [+tcp]: the A record of www.test through dotstubd at ADDR:53
dig_a() { dig -p 53 "@$1" ${2:+"$2"} +time=2 +tries=1 +short www.test A 2>&1; }

# conf FILE LISTEN... : a configuration with the upstream $UP_NAME@$UP_ADDR
# and its $UP_TLSA, $CACHE and $LEVEL
conf() {
	local f=$1 l
	shift
	{
		for l in "$@"; do echo "listen $l"; done
		echo "upstream $UP_NAME@$UP_ADDR"
		echo "tlsa \"$UP_TLSA\""
		echo "cache-size $CACHE"
		echo "log-level $LEVEL"
	} >"$f"
}

# hup NAME: SIGHUP, and wait until the reload is logged (applied or refused)
hup() {
	local n
	n=$(grep -cE "reload: applied|reload refused" "$T_DIR/$1/log")
	kill -HUP "$(ds_pid "$1")"
	wait_for 10 sh -c "[ \"\$(grep -cE 'reload: applied|reload refused' \"\$1\")\" -gt $n ]" \
		sh "$T_DIR/$1/log"
}

# ---------------------------------------------------------------- reload

# Listen on L1, upstream u1, 1m cache, notice; then L2 only, u2, 2m,
# info: the same process serves on L2 only, from u2.
s_reload_applies() {
	up1 && up2 || return 1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d1.conf" $L1:53
	ds_start d1 -c "$T_DIR/d1.conf" || return 1
	expect_eq "before: L1 answers" "$(dig_a $L1)" 192.0.2.1
	pid=$(ds_pid d1)
	expect_eq "before: status pid" "$(ds_json d1 pid)" "$pid"
	expect_eq "before: log level" "$(ds_json d1 log_level)" notice

	UP_NAME=$N2 UP_ADDR=$U2 UP_TLSA=$T2 CACHE=2m LEVEL=info conf "$T_DIR/d1.conf" $L2:53
	check "SIGHUP: the reload is logged" hup d1
	expect_contains "reload applied" "$(ds_log d1)" "reload: applied"
	expect_eq "the new listener answers (UDP)" "$(dig_a $L2)" 192.0.2.1
	expect_eq "the new listener answers (TCP)" "$(dig_a $L2 +tcp)" 192.0.2.1
	expect_not_contains "the old listener no longer answers (UDP)" "$(dig_a $L1)" 192.0.2.1
	expect_not_contains "the old listener no longer answers (TCP)" "$(dig_a $L1 +tcp)" 192.0.2.1
	expect_eq "status: listen" "$(ds_json d1 listen)" "['$L2:53']"
	expect_eq "status: cache max_bytes" "$(ds_json d1 cache.max_bytes)" 2097152
	expect_eq "status: log level" "$(ds_json d1 log_level)" info
	expect_eq "status: upstream" "$(ds_json d1 upstream.name)" $N2
	expect_eq "status: reloads applied" "$(ds_json d1 reload.applied)" 1
	expect_eq "same process (status)" "$(ds_json d1 pid)" "$pid"
	check "same process (alive)" pid_alive "$pid"
	# the answers now come from u2: u1 is gone and the cache was new
	udot_stop u1
	expect_eq "answered by the new upstream" "$(dig_a $L2)" 192.0.2.1
	expect_contains "info lines are logged now" "$(ds_log d1)" " info: "
	# the command line still goes over the file: its control socket
	expect_eq "status: the configuration file" \
		"$(ds_json d1 config_file)" "$T_DIR/d1.conf"
}

# add a second address, then remove the first
s_reload_add_remove() {
	up1 || return 1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d2.conf" $L1:53
	# an option of the command line goes over the file, at start and on reload
	ds_start d2 -c "$T_DIR/d2.conf" --log-level debug || return 1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d2.conf" $L1:53 $L2:53
	check "SIGHUP (add L2)" hup d2
	expect_eq "L1 answers" "$(dig_a $L1)" 192.0.2.1
	expect_eq "L2 answers" "$(dig_a $L2)" 192.0.2.1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d2.conf" $L2:53
	check "SIGHUP (remove L1)" hup d2
	expect_eq "L2 answers" "$(dig_a $L2)" 192.0.2.1
	expect_not_contains "L1 no longer answers" "$(dig_a $L1)" 192.0.2.1
	expect_eq "status: reloads applied" "$(ds_json d2 reload.applied)" 2
	expect_eq "the command line's log-level still goes over the file's" \
		"$(ds_json d2 log_level)" debug
}

# Invalid configurations are refused with the reason; the old one serves.
s_reload_refuses() {
	up1 || return 1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d3.conf" $L1:53
	cp "$T_DIR/d3.conf" "$T_DIR/good.conf"
	ds_start d3 -c "$T_DIR/d3.conf" || return 1
	pid=$(ds_pid d3)
	n=0
	for bad in "bogus-key 1|unknown key 'bogus-key'" \
	    'tlsa "3 1 1 zz"|is not "USAGE SELECTOR MTYPE HEX"' \
	    "listen 300.1.2.3:53|listen: '300.1.2.3:53' is not ADDR[:PORT]" \
	    "listen $L3:99999|listen: '$L3:99999' is not ADDR[:PORT]"; do
		{ cat "$T_DIR/good.conf"; echo "${bad%%|*}"; } | sed "s/^listen $L1:53/listen $L2:53/" >"$T_DIR/d3.conf"
		check "SIGHUP with '${bad%%|*}'" hup d3
		n=$((n + 1))
		expect_contains "refused: ${bad%%|*}" "$(grep 'reload refused' "$T_DIR/d3/log" | tail -1)" "${bad#*|}"
		expect_eq "still served on the old listener" "$(dig_a $L1)" 192.0.2.1
		expect_not_contains "the refused listener is not bound" "$(dig_a $L2)" 192.0.2.1
	done
	expect_eq "status: reloads refused" "$(ds_json d3 reload.refused)" $n
	expect_eq "status: reloads applied" "$(ds_json d3 reload.applied)" 0
	expect_contains "status: why the last one was refused" "$(ds_json d3 reload.last)" "refused:"
	expect_eq "status: listen unchanged" "$(ds_json d3 listen)" "['$L1:53']"
	expect_eq "same process" "$(ds_json d3 pid)" "$pid"
}

# A new listen address that cannot be bound refuses the whole reload.
s_reload_bind_fails() {
	up1 || return 1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d4.conf" $L1:53
	ds_start d4 -c "$T_DIR/d4.conf" || return 1
	# L3:53 taken by another program
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
print("bound", flush=True); time.sleep(60)' $L3 >"$T_DIR/squat.out" 2>&1 &
	squat=$!
	wait_for 5 grep -q bound "$T_DIR/squat.out" || { kill $squat; return 1; }
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=2m LEVEL=notice conf "$T_DIR/d4.conf" $L2:53 $L3:53
	check "SIGHUP" hup d4
	kill $squat
	wait $squat 2>/dev/null
	expect_contains "refused, the address named" "$(ds_log d4)" "cannot listen on $L3:53"
	expect_contains "refused as a whole" "$(grep 'reload refused' "$T_DIR/d4/log")" "cannot bind a new listen address"
	expect_eq "still served on L1" "$(dig_a $L1)" 192.0.2.1
	expect_not_contains "L2 was not kept bound" "$(dig_a $L2)" 192.0.2.1
	expect_eq "cache-size unchanged" "$(ds_json d4 cache.max_bytes)" 1048576
	# state-dir, control, user: need a restart, kept
	{ cat "$T_DIR/d4.conf"; echo "user nobody"; } | sed "/^listen $L3/d" >"$T_DIR/d4.new"
	mv "$T_DIR/d4.new" "$T_DIR/d4.conf"
	check "SIGHUP with user nobody" hup d4
	expect_contains "user needs a restart" "$(ds_log d4)" "reload: user nobody needs a restart"
	expect_eq "L2 answers now" "$(dig_a $L2)" 192.0.2.1
	expect_eq "the control socket still answers" "$(ds_json d4 reload.applied)" 1
}

# Started as root with a user to drop to: the store process kept
# CAP_NET_BIND_SERVICE (and nothing else), so a reload binds a port below
# 1024 too; an unprivileged one as well.
s_reload_dropped() {
	up1 || return 1
	chmod 711 "$T_DIR"
	mkdir -p "$T_DIR/d5"
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d5/d5.conf" $L1:53
	chmod 755 "$T_DIR/d5"
	chmod 644 "$T_DIR/d5/d5.conf"
	ds_start d5 -c "$T_DIR/d5/d5.conf" --user nobody || return 1
	expect_eq "L1 answers" "$(dig_a $L1)" 192.0.2.1
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d5/d5.conf" $L1:53 $L2:53
	check "SIGHUP (add L2:53)" hup d5
	expect_contains "port 53 after dropping: applied (the store process binds it)" \
		"$(grep -E 'reload: applied|reload refused' "$T_DIR/d5/log" | tail -1)" "reload: applied"
	expect_eq "L2:53 answers" "$(dig_a $L2)" 192.0.2.1
	expect_eq "the store process runs as nobody with CAP_NET_BIND_SERVICE only" \
		"$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/"$(ds_pid d5)"/status)" 0000000000000400
	UP_NAME=$N1 UP_ADDR=$U1 UP_TLSA=$T1 CACHE=1m LEVEL=notice conf "$T_DIR/d5/d5.conf" $L1:53 $L2:5353
	check "SIGHUP (L2:53 for L2:5353)" hup d5
	expect_eq "L2:5353 answers" "$(dig -p 5353 @$L2 +time=2 +tries=1 +short www.test A 2>&1)" 192.0.2.1
	expect_not_contains "L2:53 no longer answers" "$(dig_a $L2)" 192.0.2.1
	expect_eq "L1:53 still answers (kept, not rebound)" "$(dig_a $L1)" 192.0.2.1
}

scenario reload_applies s_reload_applies teardown
scenario reload_add_remove s_reload_add_remove teardown
scenario reload_refuses s_reload_refuses teardown
scenario reload_bind_fails s_reload_bind_fails teardown
scenario reload_dropped s_reload_dropped teardown

# ---------------------------------------------------------------- sd_notify

# notify_run SOCKET: the notify socket, dotstubd started with
# NOTIFY_SOCKET=SOCKET; READY=1, RELOADING=1/READY=1 on SIGHUP, STOPPING=1
notify_run() {
	local sock=$1 rec=$T_DIR/notify.rec
	up1 || return 1
	rm -f "$rec"
	python3 "$NOTIFY" "$sock" "$rec" $L1 www.test &
	echo $! >"$T_DIR/notify.pid"
	wait_for 5 grep -q LISTENING "$rec" || return 1
	NOTIFY_SOCKET=$sock ds_start d6 --listen $L1:53 --upstream $N1@$U1 --tlsa "$T1" || return 1
	check "READY=1 arrives" wait_for 10 grep -q "^READY=1" "$rec"
	expect_contains "READY=1 has a STATUS= summary" "$(grep "^READY=1" "$rec")" \
		"STATUS=listening on $L1:53; upstream $N1 (config)"
	expect_eq "a query sent at once after READY=1 is answered" \
		"$(grep -m1 '^ANSWER' "$rec")" "ANSWER rcode=0 a=192.0.2.1"
	kill -HUP "$(ds_pid d6)"
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh
	check "SIGHUP: READY=1 again" wait_for 10 sh -c '[ "$(grep -c "^READY=1" "$1")" -ge 2 ]' sh "$rec"
	expect_eq "SIGHUP: RELOADING=1, then READY=1" \
		"$(grep -oE '^(READY|RELOADING|STOPPING)=1' "$rec" | tr '\n' ' ')" "READY=1 RELOADING=1 READY=1 "
	expect_eq "after the reload, answered" "$(grep '^ANSWER' "$rec" | tail -1)" "ANSWER rcode=0 a=192.0.2.1"
	kill -TERM "$(ds_pid d6)"
	check "SIGTERM: STOPPING=1" wait_for 10 grep -q "^STOPPING=1" "$rec"
	pid_stop "$(cat "$T_DIR/notify.pid")"
}
s_notify_path() { notify_run "$T_DIR/notify.sock"; }
s_notify_abstract() { notify_run "@dotstub-test-notify-$$"; }
notify_teardown() {
	[ -f "$T_DIR/notify.pid" ] && pid_stop "$(cat "$T_DIR/notify.pid")"
	teardown
}
scenario notify_path s_notify_path notify_teardown
scenario notify_abstract s_notify_abstract notify_teardown

# ---------------------------------------------------------------- the unit

# The unit as installed, with the programs this build made.
unit_copy() {
	mkdir -p "$T_DIR/unit"
	sed "s|/usr/sbin/dotstubd|$DOTSTUBD|g" "$DOTSTUB_SRC/packaging/systemd/dotstubd.service" \
		>"$T_DIR/unit/dotstubd.service"
}

s_unit_security() {
	unit_copy
	if ! systemd-analyze security --offline=yes "$T_DIR/unit/dotstubd.service" \
	    >"$T_DIR/sec.out" 2>&1; then
		t_fail "systemd-analyze security --offline=yes: $(tail -3 "$T_DIR/sec.out")"
		return
	fi
	lvl=$(sed -n 's/.*Overall exposure level for dotstubd.service: \([0-9.]*\).*/\1/p' "$T_DIR/sec.out")
	if [ -n "$lvl" ] && awk -v l="$lvl" 'BEGIN { exit !(l < 2.0) }'; then
		t_ok "exposure level $lvl, below 2.0"
	else
		t_fail "exposure level '$lvl', not below 2.0: $(grep "✗" "$T_DIR/sec.out")"
	fi
}

s_unit_verify() {
	unit_copy
	systemd-analyze verify --man=no "$T_DIR/unit/dotstubd.service" >"$T_DIR/verify.out" 2>&1
	expect_eq "systemd-analyze verify: exit status" "$?" 0
	expect_eq "systemd-analyze verify: nothing to say" "$(cat "$T_DIR/verify.out")" ""
	u=$(cat "$T_DIR/unit/dotstubd.service")
	# shellcheck disable=SC2016 # $MAINPID is systemd's, not the shell's
	for l in "Type=notify" "NotifyAccess=main" "ExecReload=$DOTSTUBD -n" \
	    'ExecReload=/bin/kill -HUP $MAINPID' "Before=network.target nss-lookup.target" \
	    "Wants=nss-lookup.target" "Conflicts=systemd-resolved.service" "User=dotstub" \
	    "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW" \
	    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW" \
	    "StateDirectory=dotstub" "RuntimeDirectory=dotstub" \
	    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"; do
		expect_contains "the unit has $l" "$u" "$l"
	done
}

if command -v systemd-analyze >/dev/null 2>&1; then
	scenario unit_security s_unit_security
	scenario unit_verify s_unit_verify
else
	echo "# systemd-analyze is not installed: the unit is not analysed"
	t_fail "systemd-analyze is not installed"
fi

finish
