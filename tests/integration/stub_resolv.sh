#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What a laptop's applications see of dotstubd: the resolv.conf it writes
# for /etc/resolv.conf to link to, and `dotctl query`.  A resolver
# provisioned with `dotctl provision` and served by a real Unbound (DoT
# with DANE), and a plain Unbound that publishes nothing (opportunistic
# and strict); the daemon reads the network's resolver and search domains
# from a resolv-source file.  Runs inside a network namespace.
#   dot:     nameserver = the loopback listener, the source's search
#            domains, "options edns0 trust-ad"; glibc (getent, in a private
#            mount namespace with the file bound over /etc/resolv.conf)
#            resolves through the daemon; the file is not rewritten when
#            nothing changed, and follows the source's search line without
#            a restart; hostile search lines are refused;
#            dotctl query: DoT with the TLSA, then cache, localhost is
#            local, --json parses, a bad type or name exits 2
#   plain:   no trust-ad; dotctl query says plain DNS
#   strict:  SERVFAIL: no trust-ad; dotctl query shows the EDE
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
prov_require getent unshare
prov_tmpdir
udot_init
trap 'ds_stop_all; prov_cleanup; udot_cleanup; rm -rf "$T_DIR"' EXIT

L=127.0.0.80
DIG="dig @$L +time=4 +tries=1"
WAIT=(--discovery-wait 10000)

prov_provision "$PROV_TMP/r1" 127.0.0.81 || { echo "provision r1 failed"; exit 1; }
N1=$(prov_name "$PROV_TMP/r1")
teardown() { prov_stop_all; udot_stop_all; rm -rf "${T_DIR:?}"/*/; }

# src_write NAME TEXT: the resolv-source file of daemon NAME, replaced by
# a rename as network managers do
src_write() {
	mkdir -p "$T_DIR/src-$1"
	printf '%s' "$2" >"$T_DIR/src-$1/resolv.conf.new"
	mv "$T_DIR/src-$1/resolv.conf.new" "$T_DIR/src-$1/resolv.conf"
}
out_of() { cat "$T_DIR/$1/resolv.conf" 2>/dev/null; }
out_has() { grep -qxF -- "$2" "$T_DIR/$1/resolv.conf"; }
stamp_of() { stat -c '%i %y' "$T_DIR/$1/resolv.conf"; }
state_is() { [ "$(ds_json "$1" discovery.state)" = "$2" ]; }

# ---------------------------------------------------------------- DoT
s_dot() {
	local out st1 st2 q0 q1 js
	prov_start "$PROV_TMP/r1" 127.0.0.81 || return 1
	src_write a "$(printf 'nameserver 127.0.0.81\nsearch corp.example.test lan\n')"
	ds_start a --listen $L:53 --resolv-source "$T_DIR/src-a/resolv.conf" "${WAIT[@]}" || return 1
	check "dot: discovered and authenticated" wait_for 15 state_is a dot
	check "dot: resolv.conf says trust-ad" wait_for 5 out_has a "options edns0 trust-ad"
	out=$(out_of a)
	expect_contains "dot: nameserver is the loopback listener" "$out" "nameserver $L"
	expect_contains "dot: the source's search domains" "$out" "search corp.example.test lan"
	expect_contains "dot: a header says who wrote it" "$out" "written by dotstubd"
	expect_eq "dot: mode 0644 (glibc reads it as any user)" "$(stat -c %a "$T_DIR/a/resolv.conf")" 644

	# glibc through the written file
	q0=$(ds_json a counters.queries_udp)
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh
	out=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && getent ahosts www.example.test' \
		sh "$T_DIR/a/resolv.conf" 2>&1)
	expect_contains "glibc: getent resolves through dotstubd" "$out" "192.0.2.10"
	q1=$(ds_json a counters.queries_udp)
	check "glibc: the daemon counted its queries ($q0 -> $q1)" test "$q1" -gt "$q0"

	# dotctl query: DoT, then the cache, then local
	out=$(ds_ctl a query txt.example.test TXT 2>&1)
	expect_contains "query: the record" "$out" '"dotstub test"'
	expect_contains "query: rcode" "$out" "NOERROR"
	expect_contains "query: first answer over DoT with its TLSA" "$out" "DoT to $N1 (127.0.0.81"
	expect_contains "query: the TLSA" "$out" "DANE TLSA 3 1 1"
	expect_contains "query: the network" "$out" "network:"
	out=$(ds_ctl a query txt.example.test TXT 2>&1)
	expect_contains "query: second answer from the cache" "$out" "answered by: cache"
	out=$(ds_ctl a query localhost 2>&1)
	expect_contains "query: localhost is local" "$out" "local (localhost / resolver.arpa)"
	expect_contains "query: localhost is 127.0.0.1" "$out" "127.0.0.1"
	js=$(ds_ctl a --json query www.example.test AAAA 2>&1)
	check "query --json parses and holds the answer" python3 -c 'import json, sys
v = json.loads(sys.argv[1])
assert v["rcode"] == "NOERROR", v
assert any("2001:db8::10" in r for r in v["answer"]), v
assert v["path"] in ("dot", "cache"), v' "$js"
	ds_ctl a query www.example.test BOGUSTYPE >/dev/null 2>"$T_DIR/err"
	expect_eq "query: a bad type exits 2" "$?" 2
	expect_contains "query: a bad type says so" "$(cat "$T_DIR/err")" "BOGUSTYPE"
	ds_ctl a query 'a..b' >/dev/null 2>"$T_DIR/err"
	expect_eq "query: a bad name exits 2" "$?" 2
	expect_contains "query: a bad name says so" "$(cat "$T_DIR/err")" "a..b"

	# nothing changed: not rewritten (a SIGHUP decides again)
	st1=$(stamp_of a)
	check "dot: the file is there before the SIGHUP" test -n "$st1"
	kill -HUP "$(ds_pid a)"
	check "dot: decided again after SIGHUP" wait_for 15 sh -c "[ \"\$(grep -c 'SIGHUP' '$T_DIR/a/log')\" -ge 1 ] && $DIG +short www.example.test A | grep -q 192.0.2.10"
	check "dot: back on DoT" wait_for 15 state_is a dot
	st2=$(stamp_of a)
	expect_eq "dot: the same content is not written again (inode, mtime)" "$st2" "$st1"

	# the search line changes: followed without a restart
	src_write a "$(printf 'nameserver 127.0.0.81\ndomain home.example\n')"
	check "dot: the new search domain is written" wait_for 5 out_has a "search home.example"
	expect_not_contains "dot: the old search domains are gone" "$(out_of a)" "corp.example.test"
	expect_contains "dot: still trust-ad" "$(out_of a)" "options edns0 trust-ad"

	# hostile search lines: refused, the valid one stays
	src_write a "$(printf 'nameserver 127.0.0.81\nsearch good.example\nsearch evil_name.example\nsearch a..b\nsearch x.example\001\noptions ndots:15\nsearch %s\n' "$(printf 'y%.0s' $(seq 1 70)).example")"
	check "dot: a valid search line is used" wait_for 5 out_has a "search good.example"
	out=$(out_of a)
	expect_not_contains "hostile: no underscore name" "$out" "evil_name"
	expect_not_contains "hostile: no empty label" "$out" "a..b"
	expect_not_contains "hostile: no control character" "$out" $'\001'
	expect_not_contains "hostile: no over-long label" "$out" "yyyyyyyyyy"
	expect_not_contains "hostile: the source's options are not copied" "$out" "ndots"
}

# ---------------------------------------------------------------- plain and strict
s_plain() {
	local out
	UDOT_CONF_EXTRA='	local-zone: "resolver-name.arpa." static' udot_start plain 127.0.0.89 x.zz ||
		{ echo "cannot start the plain resolver"; return 1; }
	src_write p "$(printf 'nameserver 127.0.0.89\nsearch office.example\n')"
	ds_start p --listen $L:53 --resolv-source "$T_DIR/src-p/resolv.conf" \
		--unknown-network opportunistic "${WAIT[@]}" || return 1
	check "plain: serving plain DNS" wait_for 15 state_is p "plain (opportunistic, unauthenticated)"
	check "plain: resolv.conf written" wait_for 5 out_has p "options edns0"
	out=$(out_of p)
	expect_eq "plain: no trust-ad" "$(grep '^options' "$T_DIR/p/resolv.conf")" "options edns0"
	expect_contains "plain: search domain" "$out" "search office.example"
	out=$(ds_ctl p query www.test A 2>&1)
	expect_contains "plain: the answer" "$out" "192.0.2.1"
	expect_contains "plain: query says plain DNS" "$out" "plain DNS to 127.0.0.89:53 (opportunistic, unauthenticated)"
	ds_stop p
	rm -rf "$T_DIR/p"
	ds_start p --listen $L:53 --resolv-source "$T_DIR/src-p/resolv.conf" \
		--unknown-network strict "${WAIT[@]}" || return 1
	check "strict: SERVFAIL" wait_for 15 sh -c "$DIG www.test A | grep -q 'status: SERVFAIL'"
	check "strict: resolv.conf written" wait_for 5 out_has p "options edns0"
	out=$(out_of p)
	expect_eq "strict: options edns0, no trust-ad" "$(grep '^options' "$T_DIR/p/resolv.conf")" "options edns0"
	expect_contains "strict: says why" "$out" "SERVFAIL"
	out=$(ds_ctl p query www.test A 2>&1)
	expect_contains "strict: query shows SERVFAIL and its EDE" "$out" "no answer: SERVFAIL (EDE "
}

scenario dot s_dot teardown
scenario plain s_plain teardown
finish
