#!/bin/sh
# packaging.sh -- the files in packaging/: the manual pages render without
# warnings and document every command, option and configuration key the
# programs have; the example configuration passes dotstubd -n; the
# dhclient hook writes a resolv-source file; the systemd unit passes
# systemd-analyze verify (if installed) and keeps its exposure level; the
# sysusers.d and tmpfiles.d files work under a --root (as root); what the
# Debian package picks up is what meson installs.  The OpenWrt package has
# its own test (openwrt.sh), and every shell script is checked by
# tests/tools/shellcheck.sh.
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
		# systemd-resolved's own unit in Debian 12 scores 2.2
		if [ -n "$lvl" ] && awk -v l="$lvl" 'BEGIN { exit !(l < 2.0) }'; then
			ok "dotstubd.service: exposure level $lvl (below 2.0)"
		else
			bad "dotstubd.service: exposure level '$lvl', not below 2.0"
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
    "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW" \
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW" \
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

# ---------------------------------------------------------------- Debian

# What the package takes from "meson install" must be what it installs.
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
		if [ -z "$missing" ]; then
			ok "debian/dotstub.install names what meson installs"
		else
			bad "not installed by meson (or not packaged):$missing"
		fi
	else
		skip "the build's prefix is not /usr: package paths not compared"
	fi
else
	skip "meson install into a temp dir did not work: $(tail -n 1 "$T/inst.out" 2>/dev/null)"
fi

echo "$PASS passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
