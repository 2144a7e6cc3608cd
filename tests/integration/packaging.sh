#!/bin/sh
# packaging.sh -- the files in packaging/: the manual pages render without
# warnings and document every command, option and configuration key the
# programs have; the example configuration passes dotstubd -n; the OpenWrt
# UCI translation (packaging/openwrt/files/dotstub-uci.sh, fed UCI files
# through stubbed accessors) and the procd init script (procd stubbed)
# produce configurations that pass dotstubd -n and refuse bad ones; the
# dhclient hook writes a resolv-source file; the systemd unit passes
# systemd-analyze verify (if installed) and keeps its exposure level; the
# sysusers.d and tmpfiles.d files work under a --root (as root); what the
# Debian and OpenWrt packages pick up is what meson installs.
#
# Runs as any user, needs no network, writes only into its temp dir.
# Run it through meson test (DOTSTUB_BUILD names the build directory).
set -u

SRC=${DOTSTUB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DOTSTUB_BUILD:-}
if [ -z "$BUILD" ]; then
	echo "SKIP: DOTSTUB_BUILD is not set (run through meson test)"
	exit 77
fi
DOTSTUBD=$BUILD/dotstubd
DOTCTL=$BUILD/ctl/dotctl
for b in "$DOTSTUBD" "$DOTCTL"; do
	[ -x "$b" ] || { echo "SKIP: no $b"; exit 77; }
done
P=$SRC/packaging
UCI_SH=$P/openwrt/files/dotstub-uci.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/dotstub-packaging.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

PASS=0
FAILED=0
SKIPPED=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $*"; }
show() { sed 's/^/    /' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- manuals

MANS="dotstubd.8 dotctl.8 dotstub.conf.5"
if have groff; then
	for m in $MANS; do
		if groff -man -ww -z "$P/man/$m" >"$T/groff.out" 2>&1 && [ ! -s "$T/groff.out" ]; then
			ok "groff -ww: $m"
		else
			bad "groff -ww: $m"
			show "$T/groff.out"
		fi
	done
else
	skip "groff is not installed"
fi
if have man; then
	for m in $MANS; do
		if LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$P/man/$m" \
		    >"$T/man.out" 2>"$T/man.err" && [ ! -s "$T/man.err" ] && [ -s "$T/man.out" ]; then
			ok "man --warnings: $m"
		else
			bad "man --warnings: $m"
			show "$T/man.err"
		fi
	done
else
	skip "man is not installed"
fi

# The page sources with \- and \(dq undone, for grepping.
for m in $MANS; do
	sed -e 's/\\-/-/g' -e 's/\\(dq/"/g' "$P/man/$m" >"$T/$m.src"
done

# dotctl(8): every command, every option of every --help, exit statuses.
missing=
for c in status network "trust list" "trust show" "trust approve" "trust forget" \
    "trust import" "trust export" discover provision "provision resign"; do
	grep -qF -- "$c" "$T/dotctl.8.src" || missing="$missing '$c'"
done
{
	"$DOTCTL" --help
	"$DOTCTL" discover --help
	"$DOTCTL" provision --help
} 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$T/ctl-opts"
[ -s "$T/ctl-opts" ] || missing="$missing (no options found in --help)"
while read -r o; do
	[ "$o" = --help ] && continue
	grep -qF -- "$o" "$T/dotctl.8.src" || missing="$missing $o"
done <"$T/ctl-opts"
for s in "EXIT STATUS" FILES EXAMPLES "THE CONTROL SOCKET"; do
	grep -q "^\.SH $s" "$T/dotctl.8.src" || missing="$missing (section $s)"
done
if [ -z "$missing" ]; then
	ok "dotctl.8 documents every command and option ($(wc -l <"$T/ctl-opts") options)"
else
	bad "dotctl.8 does not document:$missing"
fi

# dotstub.conf(5): every key dotstubd --help lists.
"$DOTSTUBD" --help | sed -n 's/^  --\([a-z0-9-]*\) .*/\1/p' >"$T/keys"
missing=
[ -s "$T/keys" ] || missing=" (no keys found in dotstubd --help)"
while read -r k; do
	grep -qE "^\.B[IR]? $k( |\$)" "$T/dotstub.conf.5.src" || missing="$missing $k"
done <"$T/keys"
if [ -z "$missing" ]; then
	ok "dotstub.conf.5 documents every key ($(wc -l <"$T/keys") keys)"
else
	bad "dotstub.conf.5 does not document:$missing"
fi

# ---------------------------------------------------------------- example config

EX=$P/dotstub.conf.example
if "$DOTSTUBD" -n -c "$EX" >"$T/ex.out" 2>&1; then
	ok "dotstubd -n accepts dotstub.conf.example"
else
	bad "dotstubd -n refuses dotstub.conf.example"
	show "$T/ex.out"
fi
"$DOTSTUBD" -n -v -c "$EX" >"$T/ex.norm" 2>&1
for l in "listen 127.0.0.53:53" "user dotstub" \
    "resolv-source /run/NetworkManager/no-stub-resolv.conf" "tofu auto"; do
	if grep -qxF "$l" "$T/ex.norm"; then
		ok "example config: $l"
	else
		bad "example config: no '$l' in dotstubd -n -v"
		show "$T/ex.norm"
	fi
done

# ---------------------------------------------------------------- OpenWrt UCI

# A UCI file as records: KIND<TAB>SECTION<TAB>OPTION<TAB>VALUE.
cat >"$T/uci.awk" <<'EOF'
function unquote(s) {
	if (s ~ /^'.*'$/ || s ~ /^".*"$/)
		return substr(s, 2, length(s) - 2)
	return s
}
/^[ \t]*(#|$)/ { next }
{ sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
$1 == "config" { section = NF >= 3 ? unquote($3) : "@" $2; next }
$1 == "option" || $1 == "list" {
	value = $0
	sub(/^[a-z]+[ \t]+[^ \t]+[ \t]*/, "", value)
	printf "%s\t%s\t%s\t%s\n", $1, section, $2, unquote(value)
}
EOF
uci_records() { awk -f "$T/uci.awk" "$1" >"$2"; }

# The accessors dotstub-uci.sh reads UCI through, over such records, and
# the procd and logger functions the init script calls.
cat >"$T/stubs.sh" <<'EOF'
dotstub_uci_get() {
	awk -F '\t' -v s="$1" -v o="$2" \
	    '$1 == "option" && $2 == s && $3 == o { v = $4 } END { printf "%s", v }' \
	    "$DOTSTUB_UCI_DATA"
}
dotstub_uci_list() {
	awk -F '\t' -v s="$1" -v o="$2" '$2 == s && $3 == o { print $4 }' "$DOTSTUB_UCI_DATA"
}
config_load() { echo "config_load $*" >>"$STUB_LOG"; }
procd_open_instance() { echo "procd_open_instance $*" >>"$STUB_LOG"; }
procd_set_param() { echo "procd_set_param $*" >>"$STUB_LOG"; }
procd_close_instance() { echo "procd_close_instance" >>"$STUB_LOG"; }
procd_add_reload_trigger() { echo "procd_add_reload_trigger $*" >>"$STUB_LOG"; }
logger() { echo "logger $*" >>"$STUB_LOG"; }
EOF

# gen NAME: translate $T/NAME.uci into $T/NAME.conf; prints the exit status.
gen() {
	uci_records "$T/$1.uci" "$T/$1.rec"
	DOTSTUB_UCI_DATA=$T/$1.rec STUB_LOG=$T/$1.log \
	    sh -c '. "$1"; . "$2"; dotstub_uci_generate' sh "$UCI_SH" "$T/stubs.sh" \
	    >"$T/$1.conf" 2>"$T/$1.err"
	echo $?
}

# Every key of dotstubd --help has its UCI option (rfc5011-hold-down is
# for tests; upstream and tlsa are the section static).
missing=
while read -r k; do
	case $k in rfc5011-hold-down|upstream|tlsa) continue ;; esac
	grep -qE "^[[:space:]]*dotstub_uci_[a-z]+ main [a-z0-9_]+ $k( |\$)" "$UCI_SH" ||
	    missing="$missing $k"
done <"$T/keys"
if [ -z "$missing" ]; then
	ok "dotstub-uci.sh translates every key of dotstubd --help"
else
	bad "dotstub-uci.sh has no UCI option for:$missing"
fi

# the default /etc/config/dotstub
cp "$P/openwrt/files/dotstub.config" "$T/default.uci"
st=$(gen default)
if [ "$st" = 0 ] && "$DOTSTUBD" -n -c "$T/default.conf" >"$T/default.chk" 2>&1; then
	ok "UCI default config: translated, dotstubd -n accepts it"
else
	bad "UCI default config: translation exit $st"
	show "$T/default.err"
	show "$T/default.conf"
	show "$T/default.chk"
fi
"$DOTSTUBD" -n -v -c "$T/default.conf" >"$T/default.norm" 2>&1
for l in "listen 127.0.0.1:5453" "resolv-source /tmp/resolv.conf.d/resolv.conf.auto" \
    "state-dir /etc/dotstub/state" "control /var/run/dotstub/control" "user dotstub"; do
	grep -qxF "$l" "$T/default.norm" || bad "UCI default config: no '$l' in dotstubd -n -v"
done
if grep -q '^upstream' "$T/default.norm"; then
	bad "UCI default config: the disabled static upstream was written"
else
	ok "UCI default config: discovery, no static upstream"
fi

# every option, a static upstream, UCI booleans in several spellings
cat >"$T/full.uci" <<EOF
config dotstub 'main'
	option enabled 'yes'
	list listen '127.0.0.1:5453'
	list listen '[::1]:5453'
	list access_control '192.168.1.0/24 allow'
	list access_control 'fd00::5 deny'
	list network_resolver '192.168.100.1'
	list network_resolver "fd00::1"
	option resolv_source /tmp/resolv.conf.d/resolv.conf.auto
	option tofu 'ask'
	option unknown_network 'strict'
	option prefer_upstream_resolver 'on'
	option allow_tls12 'false'
	option anchors_dir '$T/anchors.d'
	option state_dir '$T/state/dotstub'
	option control '$T/run/control'
	option user 'dotstub'
	option log_level 'info'
	option cache_size '10000 entries'
	option tcp_clients '64'
	option tcp_clients_per_address '8'
	option tcp_client_output '131072'
	option tcp_output_total '8388608'
	option max_pending '100'
	option query_timeout '2000'
	option discovery_wait '500'
	option refresh_interval '3600'
	list serve_dot '192.168.1.1'
	list serve_dot '[fd00::1]:8853'
	option serve_dot_name 'router.lan'
	option dot_clients '64'
	option dot_clients_per_address '8'
	option dot_client_output '131072'
	option dot_output_total '8388608'
	option dot_client_inflight '32'
	option dot_idle_timeout '20000'
	option dot_handshake_timeout '3000'

config upstream 'static'
	option enabled '1'
	option name 'abcd1234efgh.zz'
	list address '192.0.2.53'
	list address '[2001:db8::53]:8853'
	list tlsa '3 1 1 9cab2d0bd35a1f46c8a8b0eb5c9e3a5c1a1b5b0cb3f47a4d3c1c6f2b7e8d9a01'
	list tlsa '2 0 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
EOF
cat >"$T/full.want" <<EOF
listen 127.0.0.1:5453
listen [::1]:5453
access-control 192.168.1.0/24 allow
access-control fd00::5/128 deny
upstream abcd1234efgh.zz@192.0.2.53:853
upstream abcd1234efgh.zz@[2001:db8::53]:8853
tlsa "3 1 1 9cab2d0bd35a1f46c8a8b0eb5c9e3a5c1a1b5b0cb3f47a4d3c1c6f2b7e8d9a01"
tlsa "2 0 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
allow-tls12 no
control $T/run/control
state-dir $T/state/dotstub
user dotstub
log-level info
tcp-clients 64
tcp-clients-per-address 8
tcp-client-output 131072
tcp-output-total 8388608
max-pending 100
query-timeout 2000
network-resolver 192.168.100.1:53
network-resolver [fd00::1]:53
resolv-source /tmp/resolv.conf.d/resolv.conf.auto
anchors-dir $T/anchors.d
tofu ask
unknown-network strict
prefer-upstream-resolver yes
discovery-wait 500
refresh-interval 3600
serve-dot 192.168.1.1:853
serve-dot [fd00::1]:8853
serve-dot-name router.lan
dot-clients 64
dot-clients-per-address 8
dot-client-output 131072
dot-output-total 8388608
dot-client-inflight 32
dot-idle-timeout 20000
dot-handshake-timeout 3000
EOF
st=$(gen full)
# Compare the keys the sample sets (cache-size aside: printed in bytes).
awk '{ print $1 }' "$T/full.want" | sort -u >"$T/full.keys"
"$DOTSTUBD" -n -v -c "$T/full.conf" 2>&1 | awk 'NR == FNR { k[$1] = 1; next } ($1 in k)' \
    "$T/full.keys" - >"$T/full.norm"
if [ "$st" = 0 ] && diff -u "$T/full.want" "$T/full.norm" >"$T/full.diff"; then
	ok "UCI with every option and a static upstream: dotstubd -n -v prints what was meant"
else
	bad "UCI with every option: translation exit $st, dotstubd -n -v differs"
	show "$T/full.err"
	show "$T/full.diff"
fi

# what the translation must refuse
expect_refused() { # NAME WHAT PATTERN-IN-STDERR
	st=$(gen "$1")
	if [ "$st" != 0 ] && grep -q -- "$3" "$T/$1.err"; then
		ok "UCI refused: $2"
	else
		bad "UCI not refused: $2 (exit $st)"
		show "$T/$1.err"
		show "$T/$1.conf"
	fi
}
printf "config dotstub 'main'\n\toption resolv_source '/tmp/a\"b'\n" >"$T/quote.uci"
expect_refused quote "a double quote in a value" "resolv-source: a double quote"
printf "config dotstub 'main'\n\toption allow_tls12 'maybe'\n" >"$T/bool.uci"
expect_refused bool "a boolean that is none" "allow_tls12: 'maybe' is not a boolean"
printf "config upstream 'static'\n\toption enabled '1'\n\toption name 'x.zz'\n\tlist address '192.0.2.1'\n" \
    >"$T/notlsa.uci"
expect_refused notlsa "a static upstream without tlsa" "needs an address and a tlsa"
printf "config upstream 'static'\n\toption enabled '1'\n\tlist address '192.0.2.1'\n" >"$T/noname.uci"
expect_refused noname "a static upstream without a name" "needs a name"

# what the translation passes on and dotstubd -n refuses
printf "config dotstub 'main'\n\toption tofu 'sometimes'\n" >"$T/tofu.uci"
st=$(gen tofu)
if [ "$st" = 0 ] && ! "$DOTSTUBD" -n -c "$T/tofu.conf" >"$T/tofu.chk" 2>&1 &&
    grep -q "tofu" "$T/tofu.chk"; then
	ok "UCI tofu 'sometimes': translated, refused by dotstubd -n"
else
	bad "UCI tofu 'sometimes': translation exit $st, dotstubd -n did not refuse it"
	show "$T/tofu.chk"
fi

# enabled '0' stops the service from starting
printf "config dotstub 'main'\n\toption enabled '0'\n" >"$T/off.uci"
uci_records "$T/off.uci" "$T/off.rec"
if DOTSTUB_UCI_DATA=$T/off.rec sh -c '. "$1"; . "$2"; ! dotstub_uci_enabled' sh "$UCI_SH" \
    "$T/stubs.sh" && DOTSTUB_UCI_DATA=$T/full.rec sh -c '. "$1"; . "$2"; dotstub_uci_enabled' sh \
    "$UCI_SH" "$T/stubs.sh"; then
	ok "UCI enabled '0' / 'yes'"
else
	bad "UCI enabled: not told apart"
fi

# The init script itself, with procd stubbed: start_service NAME.
init_start() {
	rm -rf "$T/var-etc" "$T/$1.log"
	DOTSTUB_UCI_DATA=$T/$1.rec STUB_LOG=$T/$1.log DOTSTUB_PROG=$DOTSTUBD \
	    DOTSTUB_CONF_DIR=$T/var-etc DOTSTUB_UCI_SH=$UCI_SH \
	    sh -c '. "$1"; . "$2"; start_service && service_triggers' sh \
	    "$P/openwrt/files/dotstub.init" "$T/stubs.sh" >"$T/$1.init" 2>&1
	echo $?
}
st=$(init_start full)
CONF=$T/var-etc/dotstub.conf
if [ "$st" = 0 ] && "$DOTSTUBD" -n -c "$CONF" >/dev/null 2>&1 &&
    grep -qxF "procd_set_param command $DOTSTUBD -f -c $CONF" "$T/full.log" &&
    grep -qxF "procd_set_param respawn" "$T/full.log" &&
    grep -qxF "procd_close_instance" "$T/full.log" &&
    grep -qxF "procd_add_reload_trigger dotstub" "$T/full.log" &&
    [ -d "$T/state" ] && [ ! -e "$CONF.new" ]; then
	ok "init script: writes a checked config, runs dotstubd -f -c under procd with respawn"
else
	bad "init script: start_service exit $st"
	show "$T/full.init"
	show "$T/full.log"
fi
st=$(init_start bool)
if [ "$st" != 0 ] && [ ! -e "$CONF" ] && ! grep -q procd_open_instance "$T/bool.log" &&
    grep -q "^logger" "$T/bool.log"; then
	ok "init script: a bad UCI config is logged and not started"
else
	bad "init script: bad UCI config, start_service exit $st"
	show "$T/bool.log"
fi
st=$(init_start tofu)
if [ "$st" != 0 ] && [ ! -e "$CONF" ] && grep -q "^logger.*tofu" "$T/tofu.log"; then
	ok "init script: a config dotstubd -n refuses is logged with its reason and not started"
else
	bad "init script: refused config, start_service exit $st"
	show "$T/tofu.log"
fi

# ---------------------------------------------------------------- dhclient hook

DHC=$T/dhclient
# shellcheck disable=SC2034,SC1091 # the variables dhclient-script sets
( DOTSTUB_DHCLIENT_DIR=$DHC interface=eth9 new_domain_name_servers="192.0.2.1 192.0.2.2" \
    new_dhcp6_name_servers="fe80::1 2001:db8::53"
  . "$P/dhclient/dotstub"
  make_resolv_conf
  new_domain_name_servers='' new_dhcp6_name_servers=''
  make_resolv_conf ) >"$T/dhc.out" 2>&1
printf 'nameserver %s\n' 192.0.2.1 192.0.2.2 fe80::1%eth9 2001:db8::53 >"$T/dhc.want"
if grep -v '^#' "$DHC/resolv.conf" 2>/dev/null | diff -u "$T/dhc.want" - >"$T/dhc.diff" &&
    [ ! -e "$DHC/resolv.conf.new" ]; then
	ok "dhclient hook: the lease's resolvers in the resolv-source file, kept without a new list"
else
	bad "dhclient hook"
	show "$T/dhc.out"
	show "$T/dhc.diff"
fi

# ---------------------------------------------------------------- systemd

UNIT=$P/systemd/dotstubd.service
if have systemd-analyze; then
	# verify wants ExecStart's program to exist: use the one just built.
	mkdir -p "$T/unit"
	sed "s|/usr/sbin/dotstubd |$DOTSTUBD |" "$UNIT" >"$T/unit/dotstubd.service"
	grep -q "^ExecStart=$DOTSTUBD -f" "$T/unit/dotstubd.service" ||
	    bad "dotstubd.service: ExecStart is not /usr/sbin/dotstubd -f ..."
	systemd-analyze verify --man=no "$T/unit/dotstubd.service" >"$T/verify.out" 2>&1
	st=$?
	if [ "$st" = 0 ] && ! grep -q "dotstubd.service" "$T/verify.out"; then
		ok "systemd-analyze verify dotstubd.service"
	else
		bad "systemd-analyze verify dotstubd.service: exit $st"
		show "$T/verify.out"
	fi
	if systemd-analyze security --offline=true "$T/unit/dotstubd.service" >"$T/sec.out" 2>&1; then
		lvl=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec.out")
		if [ -n "$lvl" ] && awk -v l="$lvl" 'BEGIN { exit !(l <= 3.0) }'; then
			ok "dotstubd.service: exposure level $lvl (at most 3.0)"
		else
			bad "dotstubd.service: exposure level '$lvl', more than 3.0"
			grep "✗" "$T/sec.out" | sed 's/^/    /'
		fi
	else
		skip "systemd-analyze security --offline is not supported here"
	fi
else
	skip "systemd-analyze is not installed: the unit is not verified"
fi
# (tests/integration/systemd.sh holds the unit to an exposure level
# below 2.0 and checks its directives one by one)
for d in "Type=notify" "Restart=on-failure" "ProtectSystem=strict" "ProtectHome=yes" \
    "PrivateTmp=yes" "NoNewPrivileges=yes" "User=dotstub" "RuntimeDirectory=dotstub" \
    "StateDirectory=dotstub" "ConfigurationDirectory=dotstub" \
    "SystemCallFilter=@system-service" \
    "AmbientCapabilities=CAP_NET_BIND_SERVICE" "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"; do
	grep -qxF "$d" "$UNIT" || bad "dotstubd.service: no '$d'"
done
if grep -q '^ExecStart=.*--user' "$UNIT"; then
	bad "dotstubd.service: ExecStart passes --user (the unit's User= runs it as dotstub)"
else
	ok "dotstubd.service: the hardening directives are there"
fi

if [ "$(id -u)" = 0 ] && have systemd-sysusers && have systemd-tmpfiles; then
	R=$T/root
	mkdir -p "$R/etc" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d"
	cp "$P/systemd/dotstub.sysusers" "$R/usr/lib/sysusers.d/dotstub.conf"
	cp "$P/systemd/dotstub.tmpfiles" "$R/usr/lib/tmpfiles.d/dotstub.conf"
	if systemd-sysusers --root="$R" >"$T/sysusers.out" 2>&1 &&
	    systemd-tmpfiles --root="$R" --create >>"$T/sysusers.out" 2>&1; then
		uid=$(awk -F: '$1 == "dotstub" { print $3 }' "$R/etc/passwd")
		got=$(stat -c '%a %u' "$R/var/lib/dotstub" 2>/dev/null)
		if [ -n "$uid" ] && [ "$got" = "750 $uid" ]; then
			ok "sysusers.d makes dotstub, tmpfiles.d gives it /var/lib/dotstub (0750)"
		else
			bad "sysusers.d/tmpfiles.d: uid '$uid', /var/lib/dotstub '$got'"
		fi
	else
		bad "systemd-sysusers / systemd-tmpfiles --root failed"
		show "$T/sysusers.out"
	fi
else
	skip "sysusers.d/tmpfiles.d: needs root and systemd-sysusers/systemd-tmpfiles"
fi

# ---------------------------------------------------------------- Debian, OpenWrt

# What the packages take from "meson install" must be what it installs.
if have meson && meson install -C "$BUILD" --no-rebuild --quiet --destdir "$T/inst" \
    >"$T/inst.out" 2>&1; then
	if [ -x "$T/inst/usr/sbin/dotstubd" ]; then
		missing=
		while read -r f _; do
			case $f in
			packaging/*) [ -f "$SRC/$f" ] || missing="$missing $f" ;;
			*) [ -e "$T/inst/$f" ] || missing="$missing $f" ;;
			esac
		done <"$P/debian/dotstub.install"
		for f in usr/sbin/dotstubd usr/bin/dotctl; do
			grep -qF "(PKG_INSTALL_DIR)/$f " "$P/openwrt/Makefile" || missing="$missing openwrt:$f"
		done
		if [ -z "$missing" ]; then
			ok "debian/dotstub.install and the OpenWrt Makefile name what meson installs"
		else
			bad "not installed by meson (or not packaged):$missing"
		fi
	else
		skip "the build's prefix is not /usr: package paths not compared"
	fi
else
	skip "meson install into a temp dir did not work: $(tail -n 1 "$T/inst.out" 2>/dev/null)"
fi

# ---------------------------------------------------------------- shell

for f in "$UCI_SH" "$P/openwrt/files/dotstub.init" "$P/dhclient/dotstub" \
    "$P/debian/dotstub.postinst" "$P/debian/dotstub.postrm"; do
	sh -n "$f" || bad "sh -n: $f"
done
if have shellcheck; then
	if (cd "$P/openwrt/files" && shellcheck -x dotstub-uci.sh dotstub.init) >"$T/sc.out" 2>&1 &&
	    shellcheck "$P/dhclient/dotstub" "$P/debian/dotstub.postinst" "$SRC/tests/integration/packaging.sh" \
	    "$P/debian/dotstub.postrm" >>"$T/sc.out" 2>&1; then
		ok "shellcheck: the UCI translation, the init script, the dhclient hook, maintainer scripts"
	else
		bad "shellcheck"
		show "$T/sc.out"
	fi
	if shellcheck -x "$SRC"/tests/integration/*.sh "$SRC"/tests/lib/*.sh >"$T/sc-tests.out" 2>&1; then
		ok "shellcheck: the test scripts and their helpers"
	else
		bad "shellcheck: the test scripts and their helpers"
		show "$T/sc-tests.out"
	fi
else
	skip "shellcheck is not installed"
fi

echo "$PASS passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
