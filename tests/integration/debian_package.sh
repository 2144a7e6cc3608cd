#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The Debian package, built and used as a user would, without the network
# and without touching the host's root:
#   build:    a copy of the source with packaging/debian as debian/ builds
#             with dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS nocheck
#             parallel=2); lintian reports no error and no warning, and
#             each override in debian/ says why; the package holds the
#             programs, the unit, sysusers.d and tmpfiles.d files, the
#             configuration (a conffile), the manual pages, the
#             NetworkManager dispatcher script (executable, root's) and a
#             README.Debian that tells how to switch /etc/resolv.conf from
#             systemd-resolved and back.
#   root:     dpkg --root installs it into a scratch root (the maintainer
#             scripts run with DPKG_ROOT): the user dotstub and
#             /var/lib/dotstub (0750, dotstub) are made there, the host's
#             users are untouched; purge removes the state directory.
#   nosystemd: the same where systemd-sysusers and systemd-tmpfiles do not
#             exist (a chroot without systemd): postinst still makes both.
#   run:      the installed dotstubd -n accepts the shipped configuration,
#             dotctl --help works, and the installed dotstubd answers
#             queries over DANE-authenticated DoT from a real Unbound, is
#             seen by the installed dotctl, and stops on SIGTERM.
# The package is built once and kept in the build directory: a second run
# (the ASan pass of scripts/test.sh) reuses the normal build's package if
# it was made from the same source files.  Runs inside a network namespace.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"

for t in dpkg-buildpackage dh lintian dpkg dpkg-deb unbound kdig dig; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg --root, port 53)"; exit 77; }

udot_init
trap 'ds_stop_all; udot_cleanup; rm -rf "$T_DIR"' EXIT

# ---------------------------------------------------------------- the package
# pkg_key: a digest of the source files the package is built from (the
# tracked and new files of the checkout, as they are on disk)
pkg_files() {
	if git -C "$DOTSTUB_SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$DOTSTUB_SRC" ls-files -z --cached --others --exclude-standard |
			(cd "$DOTSTUB_SRC" && while IFS= read -r -d '' f; do
				[ -f "$f" ] && printf '%s\0' "$f"
			done)
	else
		(cd "$DOTSTUB_SRC" && find . -path './build*' -prune -o -path ./.git -prune -o \
			-type f -printf '%P\0')
	fi | sort -z
}
pkg_key() {
	pkg_files | (cd "$DOTSTUB_SRC" && xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# Where the package is kept: this build directory, and the one the ASan
# pass reuses, the normal build's (scripts/test.sh: build/ next to
# build-asan/; DOTSTUB_DEB_DIR names another).
DEB_DIR=$DOTSTUB_BUILD/debian-package
REUSE_DIRS=("$DEB_DIR")
if [ -n "${DOTSTUB_DEB_DIR:-}" ]; then
	REUSE_DIRS+=("$DOTSTUB_DEB_DIR")
fi
if ldd "$DOTSTUBD" 2>/dev/null | grep -q libasan; then
	REUSE_DIRS+=("$(dirname "$DOTSTUB_BUILD")/build/debian-package")
fi
KEY=$(pkg_key)

# pkg_reuse: a package built from these very files, if one is kept
pkg_reuse() {
	local d
	for d in "${REUSE_DIRS[@]}"; do
		if [ "$(cat "$d/source.sha256" 2>/dev/null)" = "$KEY" ] &&
			[ -f "$d/lintian.out" ] && ls "$d"/dotstub_*.deb >/dev/null 2>&1; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# pkg_build: dpkg-buildpackage in a copy of the source, the results into
# $DEB_DIR with the source digest
pkg_build() {
	local w=$T_DIR/pkg
	rm -rf "$DEB_DIR" "$w"
	mkdir -p "$w/src" "$DEB_DIR"
	pkg_files | (cd "$DOTSTUB_SRC" && tar -c --null -T -) | tar -x -C "$w/src" || return 1
	cp -r "$w/src/packaging/debian" "$w/src/debian"
	(cd "$w/src" && env -u MAKEFLAGS -u MESON_TESTTHREADS DEB_BUILD_OPTIONS="nocheck parallel=2" \
		dpkg-buildpackage -us -uc -b) >"$DEB_DIR/build.log" 2>&1 || return 1
	lintian --tag-display-limit 0 "$w"/dotstub_*.changes >"$DEB_DIR/lintian.out" 2>&1
	echo $? >"$DEB_DIR/lintian.rc"
	cp "$w"/*.deb "$w"/*.changes "$w"/*.buildinfo "$DEB_DIR"/ || return 1
	echo "$KEY" >"$DEB_DIR/source.sha256"
}

t0=$(date +%s)
if D=$(pkg_reuse); then
	t_ok "package built from these sources already: $D ($(basename "$D"/dotstub_*.deb))"
elif pkg_build; then
	D=$DEB_DIR
	t_ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
else
	t_fail "dpkg-buildpackage -us -uc -b"
	tail -n 30 "$DEB_DIR/build.log"
	finish
	exit 1
fi
DEB=$(ls "$D"/dotstub_*_*.deb)

# ---------------------------------------------------------------- static checks
s_build() {
	local tags contents f readme
	# lintian: errors and warnings (overridden tags are not shown)
	tags=$(grep -E '^[EW]: ' "$D/lintian.out")
	expect_eq "lintian: no error, no warning" "$tags" ""
	sed 's/^/    /' "$D/lintian.out"
	# every override says why: a comment right above it
	f=$DOTSTUB_SRC/packaging/debian/dotstub.lintian-overrides
	if [ -f "$f" ]; then
		expect_eq "lintian overrides: each has a comment giving the reason" \
			"$(awk '/^[^#[:space:]]/ && prev !~ /^#/ { print } { prev = $0 }' "$f")" ""
	fi
	# hardening=+all reached the compiler and the linker
	expect_contains "build flags: _FORTIFY_SOURCE" "$(cat "$D/build.log")" "-D_FORTIFY_SOURCE=2"
	expect_contains "build flags: -z now" "$(cat "$D/build.log")" "-Wl,-z,now"
	contents=$(dpkg-deb -c "$DEB" | awk '{ print $6 }')
	for f in ./usr/sbin/dotstubd ./usr/bin/dotctl ./lib/systemd/system/dotstubd.service \
		./usr/lib/sysusers.d/dotstub.conf ./usr/lib/tmpfiles.d/dotstub.conf \
		./etc/dotstub/dotstub.conf ./usr/share/man/man8/dotstubd.8.gz \
		./usr/share/man/man8/dotctl.8.gz ./usr/share/man/man5/dotstub.conf.5.gz \
		./usr/share/dbus-1/system.d/dotstub-resolve1.conf \
		./usr/lib/NetworkManager/dispatcher.d/90-dotstub-dnr \
		./usr/share/doc/dotstub/examples/dotstub-dhclient.conf; do
		expect_contains "package holds $f" "$contents" "$f"
	done
	# NetworkManager runs a dispatcher script only if root owns it and it
	# is executable, writable by root alone
	expect_eq "the dispatcher script: mode and owner" \
		"$(dpkg-deb -c "$DEB" | awk '$6 == "./usr/lib/NetworkManager/dispatcher.d/90-dotstub-dnr" { print $1, $2 }')" \
		"-rwxr-xr-x root/root"
	expect_eq "conffiles" "$(dpkg-deb -I "$DEB" conffiles)" "/etc/dotstub/dotstub.conf"
	# dh_compress gzips a README.Debian of more than 4 KiB: either is right
	readme=$(grep -xE '\./usr/share/doc/dotstub/README\.Debian(\.gz)?' <<<"$contents")
	expect_contains "package holds README.Debian" "$readme" "README.Debian"
	dpkg-deb --fsys-tarfile "$DEB" | tar -xO "${readme:-README.Debian}" >"$T_DIR/README.Debian"
	case $readme in
	*.gz) f=$(gzip -dc "$T_DIR/README.Debian") ;;
	*) f=$(cat "$T_DIR/README.Debian") ;;
	esac
	expect_contains "README.Debian: switch to dotstubd" "$f" "ln -sf /run/dotstub/resolv.conf /etc/resolv.conf"
	expect_contains "README.Debian: back to systemd-resolved" "$f" \
		"ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf"
	expect_contains "README.Debian: disables systemd-resolved" "$f" "systemctl disable --now systemd-resolved"
	expect_contains "README.Debian: enables systemd-resolved again" "$f" "systemctl enable --now systemd-resolved"
}

# ---------------------------------------------------------------- scratch roots
# root_new DIR: an empty root with an empty dpkg database and the users of
# a minimal system
root_new() {
	local r=$1
	mkdir -p "$r/etc" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/log"
	: >"$r/var/lib/dpkg/status"
	: >"$r/var/lib/dpkg/available"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	printf 'root:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
	printf 'root:*::\n' >"$r/etc/gshadow"
	chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
}

# root_dpkg DIR ARGS...: dpkg on that root; the maintainer scripts run
# outside it with DPKG_ROOT set (the dependencies are the host's)
root_dpkg() {
	local r=$1
	shift
	dpkg --root="$r" --log="$r/var/log/dpkg.log" --force-script-chrootless \
		--force-depends --force-not-root "$@"
}

# host_state: what the package must never change on the host
host_state() {
	sha256sum /etc/passwd /etc/group /etc/shadow 2>/dev/null
	ls -d /var/lib/dotstub 2>/dev/null
	find /var/lib/systemd/deb-systemd-helper-enabled -name 'dotstub*' 2>/dev/null
}

# root_check NAME DIR: installed, configured, user and state directory
root_check() {
	local r=$2 uid gid got
	expect_contains "$1: dpkg says installed" \
		"$(dpkg --root="$r" -s dotstub 2>&1)" "Status: install ok installed"
	uid=$(awk -F: '$1 == "dotstub" { print $3 }' "$r/etc/passwd")
	gid=$(awk -F: '$1 == "dotstub" { print $3 }' "$r/etc/group")
	if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ -n "$gid" ]; then
		t_ok "$1: system user dotstub ($uid:$gid) in the root's passwd and group"
	else
		t_fail "$1: no system user dotstub in the root (uid '$uid', gid '$gid')"
	fi
	got=$(stat -c '%a %u %g' "$r/var/lib/dotstub" 2>&1)
	expect_eq "$1: /var/lib/dotstub 0750 dotstub:dotstub" "$got" "750 $uid $gid"
	check "$1: the configuration is in place" test -f "$r/etc/dotstub/dotstub.conf"
}

# root_purge NAME DIR: purge removes the state and the conffile
root_purge() {
	local r=$2
	if root_dpkg "$r" --purge dotstub >"$T_DIR/$1-purge.log" 2>&1; then
		t_ok "$1: dpkg --purge"
	else
		t_fail "$1: dpkg --purge"
		sed 's/^/    /' "$T_DIR/$1-purge.log"
	fi
	check "$1: purge removed /var/lib/dotstub" test ! -e "$r/var/lib/dotstub"
	check "$1: purge removed the configuration" test ! -e "$r/etc/dotstub/dotstub.conf"
}

# root_install NAME DIR [PATH]: dpkg -i into the root, PATH for the scripts
root_install() {
	local r=$2 before
	before=$(host_state)
	# the scripts must honour DPKG_ROOT before they are run outside the root
	if ! dpkg-deb -I "$DEB" postinst | grep -q DPKG_ROOT ||
		! dpkg-deb -I "$DEB" postrm | grep -q 'DPKG_ROOT.*/var/lib/dotstub'; then
		t_fail "$1: postinst/postrm do not honour DPKG_ROOT (not run: they would change the host)"
		return 1
	fi
	if PATH=${3:-$PATH} root_dpkg "$r" -i "$DEB" >"$T_DIR/$1-install.log" 2>&1; then
		t_ok "$1: dpkg --root -i"
	else
		t_fail "$1: dpkg --root -i"
		sed 's/^/    /' "$T_DIR/$1-install.log"
	fi
	expect_eq "$1: the host's users and state are untouched" "$(host_state)" "$before"
}

s_root() {
	local r=$T_DIR/root
	root_new "$r"
	root_install root "$r" || return 0
	root_check root "$r"
	# a second configure (an upgrade, a reinstall) keeps the same user
	root_dpkg "$r" -i "$DEB" >/dev/null 2>&1
	expect_eq "root: reinstalled, one user dotstub" "$(grep -c '^dotstub:' "$r/etc/passwd")" 1
	root_purge root "$r"
}

# A PATH of every program of the host but systemd-sysusers and
# systemd-tmpfiles: a system where systemd is not installed.
s_nosystemd() {
	local r=$T_DIR/root-nosd p=$T_DIR/path-nosd d f
	mkdir -p "$p"
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		for f in "$d"/*; do
			case ${f##*/} in systemd-sysusers | systemd-tmpfiles) continue ;; esac
			[ -e "$p/${f##*/}" ] || ln -s "$f" "$p/${f##*/}"
		done
	done
	if PATH=$p command -v systemd-tmpfiles >/dev/null; then
		t_fail "nosystemd: systemd-tmpfiles still on the PATH"
		return 0
	fi
	root_new "$r"
	root_install nosystemd "$r" "$p" || return 0
	root_check nosystemd "$r"
	root_purge nosystemd "$r"
}

# ---------------------------------------------------------------- the programs
L=127.0.0.90 U=127.0.0.91 NAME=k2m4p6r8t0v1.zz

s_run() {
	local r=$T_DIR/run tlsa out pid
	mkdir -p "$r"
	dpkg-deb -x "$DEB" "$r"
	DOTSTUBD=$r/usr/sbin/dotstubd
	DOTCTL=$r/usr/bin/dotctl
	expect_eq "installed binaries: every library found" \
		"$(ldd "$DOTSTUBD" "$DOTCTL" 2>&1 | grep 'not found')" ""
	if out=$("$DOTSTUBD" -n -c "$r/etc/dotstub/dotstub.conf" 2>&1); then
		t_ok "installed dotstubd -n accepts the shipped /etc/dotstub/dotstub.conf"
	else
		t_fail "installed dotstubd -n: $out"
	fi
	out=$("$DOTCTL" --help 2>&1)
	check "installed dotctl --help exits 0" "$DOTCTL" --help
	expect_contains "installed dotctl --help" "$out" "usage: dotctl"

	mkdir -p "$T_DIR/cert"
	udot_cert $NAME "$T_DIR/cert" || { echo "cannot make a certificate"; return 1; }
	tlsa=$(udot_tlsa 3 1 1 "$T_DIR/cert/$NAME.pem")
	UDOT_CERT=$T_DIR/cert/$NAME.pem UDOT_KEY=$T_DIR/cert/$NAME.key \
		udot_start u1 $U $NAME || { echo "unbound did not start"; return 1; }
	: >"$T_DIR/empty.conf"
	ds_start d1 -c "$T_DIR/empty.conf" --listen $L:53 --upstream $NAME@$U --tlsa "$tlsa" \
		--resolv-conf-out none || return 1
	out=$(dig @$L +time=3 +tries=1 +short www.test A)
	expect_eq "installed dotstubd: www.test A over DoT" "$out" "192.0.2.1"
	expect_contains "installed dotctl status: DANE-authenticated upstream" \
		"$(ds_ctl d1 status)" "TLSA 3 1 1"
	check "Unbound answered over TLS" test "$(udot_stat u1 num.query.tls)" -gt 0
	pid=$(ds_pid d1)
	kill "$pid"
	if wait_for 5 pid_gone "$pid"; then
		t_ok "installed dotstubd stops on SIGTERM"
	else
		t_fail "installed dotstubd did not stop on SIGTERM"
	fi
}
pid_gone() { ! pid_alive "$1"; }
run_teardown() { udot_stop_all; }

scenario build s_build
scenario root s_root
scenario nosystemd s_nosystemd
scenario run s_run run_teardown
echo "# whole test: $(($(date +%s) - t0)) s"
finish
