#!/usr/bin/env bash
# The demo: install what is needed, build, then show dotstub discover a
# resolver, pin its key and resolve over DANE-authenticated DoT.
#
# A local resolver is provisioned with `dotctl provision` (unique name,
# keys, certificate, the two signed zones) and served by a real Unbound on
# 127.0.0.153 (plain DNS on 53, DoT on 853).  dotstubd is given nothing but
# that address, as a network would hand it out.  Everything runs on loopback
# addresses and stops at the end.  Needs root (port 53).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
echo "built: build/dotstubd, build/ctl/dotctl"

RES=127.0.0.153 STUB=127.0.0.154
run=$(mktemp -d /tmp/dotstub-demo.XXXXXX)
export DOTSTUB_SRC=$top DOTSTUB_BUILD=$top/build
. tests/lib/provisioned.sh
cleanup() {
	if [ -f "$run/dotstubd.pid" ]; then
		kill "$(cat "$run/dotstubd.pid")" 2>/dev/null || true
	fi
	prov_cleanup || true
	rm -rf "$run"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. The resolver operator provisions resolver-name.arpa (dotctl provision)"
build/ctl/dotctl provision --addr $RES --out "$run/resolver"
NAME=$(cat "$run/resolver/name")
ls "$run/resolver"

say "2. A real Unbound serves the signed zones and DoT on $RES (plus example.test)"
prov_start "$run/resolver" $RES
dig @$RES +dnssec +norec resolver-name.arpa NS +noall +answer | head -3

say "3. dotstubd starts with only the network's resolver address: $RES"
build/dotstubd -f --listen $STUB:53 --network-resolver $RES \
	--state-dir "$run/state" --control "$run/control" --anchors-dir "$run/anchors.d" \
	--log-level info >"$run/dotstubd.log" 2>&1 &
echo $! >"$run/dotstubd.pid"
for _ in $(seq 1 100); do [ -S "$run/control" ] && break; sleep 0.05; done

say "4. Resolving through dotstubd ($STUB)"
for q in "www.example.test A" "www.example.test AAAA" "txt.example.test TXT"; do
	# shellcheck disable=SC2086
	printf '%-24s -> %s\n' "$q" "$(dig @$STUB +time=10 +tries=1 +short $q | tr '\n' ' ')"
done
printf '%-24s -> %s\n' "localhost A" "$(dig @$STUB +short localhost A)"

say "5. What dotstubd did (its log)"
sed 's/^/  /' "$run/dotstubd.log"

say "6. dotctl trust list"
sleep 0.3
build/ctl/dotctl -s "$run/control" trust list

say "7. dotctl status"
build/ctl/dotctl -s "$run/control" status

say "8. A restart: the network is known, DoT at once, no discovery traffic"
kill "$(cat "$run/dotstubd.pid")"
sleep 0.3
build/dotstubd -f --listen $STUB:53 --network-resolver $RES \
	--state-dir "$run/state" --control "$run/control" --anchors-dir "$run/anchors.d" \
	>"$run/dotstubd2.log" 2>&1 &
echo $! >"$run/dotstubd.pid"
for _ in $(seq 1 100); do [ -S "$run/control" ] && break; sleep 0.05; done
printf '%-24s -> %s\n' "www.example.test A" "$(dig @$STUB +time=10 +tries=1 +short www.example.test A)"
sed 's/^/  /' "$run/dotstubd2.log"
echo
echo "The resolver's unique name was $NAME; every query above went over TLS 1.3,"
echo "authenticated with DANE against the TLSA record discovered under the pinned key."
