#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# captive_portal.sh -- a network whose resolver answers plain DNS but
# refuses DoT (what a hotel portal looks like), under a policy that allows
# no clear text: the daemon says "captive portal suspected" (once in the
# log), `dotctl hotspot-signon` gives plain DNS to that network's resolver
# for a bounded time and ends by itself, and a capture shows clear text only
# inside that window.  A portal whose resolver makes up answers (dnsmasq
# answering every name with its own address) is named as such, by the
# daemon and by `dotctl discover`.  A known (pinned) network never gets a
# sign-on.
# Runs inside a network namespace with a fixed gateway (tests/lib/netns.sh).
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_require tcpdump
prov_tmpdir
trap 'ds_stop_all; cap_stop_all; prov_cleanup; rm -rf "$T_DIR"' EXIT

L=127.0.0.80
PORTAL=127.0.0.98
DIG="dig @$L +time=4 +tries=1"

teardown() { hijacker_stop; prov_stop_all; rm -rf "${T_DIR:?}"/*/; }
status_of() { ds_ctl "$1" status 2>&1; }
walks() { ds_json "$1" discovery.walks; }

# the portal's resolver: publishes resolver-name.arpa, but nothing on 853
portal_up() {
	prov_provision "$PROV_TMP/portal" $PORTAL || return 1
	sed -i '/@853/d' "$PROV_TMP/portal/unbound.conf"
	prov_start "$PROV_TMP/portal" $PORTAL
}

s_portal() {
	local out st n t0 t1
	portal_up || return 1
	cap_start portal lo "" "host $PORTAL" || return 1
	t0=$(ms_now)
	ds_start h --listen $L:53 --network-resolver $PORTAL --unknown-network strict \
		--discovery-wait 1500 --log-level info || return 1
	out=$($DIG before-signon.example.test A)
	expect_contains "portal, strict: SERVFAIL before a sign-on" "$out" "status: SERVFAIL"
	check "portal: suspected, shown in status" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/h/control' status | grep -q 'captive portal suspected: the network.s resolver answers plain DNS'"
	echo "# timing: daemon start -> captive portal suspected in status: $(($(ms_now) - t0)) ms (discovery-wait 1500 ms)"
	expect_contains "portal: status says how to sign on" "$(status_of h)" "dotctl hotspot-signon"
	n=$(walks h)
	check "portal: discovery retried meanwhile" wait_for 10 sh -c "[ \"\$('$DOTCTL' -s '$T_DIR/h/control' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"discovery\"][\"walks\"])')\" -gt $n ]"
	expect_eq "portal: logged once" "$(ds_log_count h "captive portal suspected")" "1"

	t1=$(ms_now)
	out=$(ds_ctl h hotspot-signon --seconds 4 2>&1)
	expect_contains "sign-on: accepted" "$out" "plain DNS to the network's resolver for 4 s"
	out=$($DIG www.example.test A +short)
	expect_eq "sign-on: answered in plain DNS by the portal's resolver" "$out" "192.0.2.10"
	$DIG inside-window.example.test A >/dev/null
	st=$(status_of h)
	expect_contains "sign-on: status shows it with the time left" "$st" "HOTSPOT:  sign-on in force"
	expect_contains "sign-on: logged loudly" "$(ds_log h)" "HOTSPOT sign-on on network"
	check "sign-on: ends by itself" wait_for 10 grep -q "ended (its time is up)" "$T_DIR/h/log"
	echo "# timing: a 4 s sign-on seen ended $(($(ms_now) - t1)) ms after dotctl hotspot-signon"
	out=$($DIG after-window.example.test A)
	expect_contains "after the sign-on: SERVFAIL again (strict)" "$out" "status: SERVFAIL"
	expect_not_contains "after the sign-on: no HOTSPOT in status" "$(status_of h)" "HOTSPOT"
	cap_stop portal $PORTAL
	cap_expect_seen "capture: saw the discovery queries (port 53)" portal "dst port 53"
	cap_expect_absent "capture: the query inside the window is the only clear text (not before)" portal "before-signon"
	cap_expect_absent "capture: ... and not after" portal "after-window"
	if ! tcpdump -r "$T_DIR/cap.portal.pcap" -n -A 2>/dev/null | grep -q "inside-window"; then
		t_fail "capture: the sign-on's query is in the capture"
	else
		t_ok "capture: the sign-on's query is in the capture"
	fi
}

# A portal's resolver that answers every name with the portal's address
# (dnsmasq, address=/#/): nothing else, no DoT.
HIJACKER=127.0.0.97
hijacker_start() {
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --cache-size=0 \
		--address=/#/10.9.9.9 --listen-address=$HIJACKER --bind-interfaces --port=53 \
		--user=root --pid-file="$PROV_TMP/hijacker.pid" \
		--log-facility="$PROV_TMP/hijacker.log" &
	echo $! >"$PROV_TMP/hijacker.fg.pid"
	wait_for 5 sh -c "dig @$HIJACKER +time=1 +tries=1 anything.example A +short | grep -q 10.9.9.9" ||
		{ echo "dnsmasq does not answer"; cat "$PROV_TMP/hijacker.log"; return 1; }
}
hijacker_stop() {
	[ -f "$PROV_TMP/hijacker.fg.pid" ] || return 0
	pid_stop "$(cat "$PROV_TMP/hijacker.fg.pid")"
	rm -f "$PROV_TMP/hijacker.fg.pid"
}
s_hijack() {
	local out
	hijacker_start || return 1
	out=$("$DOTCTL" discover $HIJACKER --no-ddr 2>&1)
	expect_contains "hijack: discover names it" "$out" "hijacking: it answers names that cannot exist (dotstub-"
	expect_contains "hijack: ... with the made-up address" "$out" ".invalid A 10.9.9.9)"
	ds_start j --listen $L:53 --network-resolver $HIJACKER --unknown-network strict \
		--discovery-wait 1500 --log-level info || return 1
	out=$($DIG www.example.test A)
	expect_contains "hijack, strict: SERVFAIL" "$out" "status: SERVFAIL"
	check "hijack: portal suspected, the made-up answer named" wait_for 10 sh -c "'$DOTCTL' -s '$T_DIR/j/control' status | grep -q 'captive portal suspected: the network.s resolver answers plain DNS and it answers names that cannot exist (dotstub-[0-9a-f]*\.invalid A 10\.9\.9\.9)'"
	expect_eq "hijack: logged once" "$(ds_log_count j "captive portal suspected")" "1"
}

# a known network: never a sign-on, never plain DNS
s_known() {
	local out
	prov_up "$PROV_TMP/home" 127.0.0.81 || return 1
	ds_start k --listen $L:53 --network-resolver 127.0.0.81 --discovery-wait 5000 || return 1
	check "known: pinned first" wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/k/control' trust list | grep -q trusted"
	ds_stop k
	ds_start k --listen $L:53 --network-resolver 127.0.0.81 --discovery-wait 5000 || return 1
	check "known: DoT from the store" wait_for 10 sh -c "$DIG www.example.test A +short | grep -q 192.0.2.10"
	out=$(ds_ctl k hotspot-signon 2>&1)
	expect_contains "known network: sign-on refused" "$out" "is known (pinned): never plain DNS there"
	expect_not_contains "known network: no HOTSPOT" "$(status_of k)" "HOTSPOT"
	out=$(ds_ctl k hotspot-signon 61 2>&1; echo "exit $?")
	expect_contains "sign-on longer than an hour: refused by dotctl" "$out" "exit 2"
}

scenario portal s_portal teardown
scenario hijack s_hijack teardown
scenario known s_known teardown
finish
