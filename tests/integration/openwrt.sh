#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The OpenWrt package (packaging/openwrt), on Debian: the files run
# unchanged over tests/lib/openwrt.sh, a stand-in for OpenWrt's UCI
# functions, procd and logd, and tests/lib/openwrt-rc.common, one for
# /etc/rc.common; the shell scripts run under dash and under BusyBox ash,
# OpenWrt's /bin/sh.  Runs inside a network namespace.
#   package:    the Makefile's install recipes, through a stand-in
#               buildroot (rules.mk, package.mk, meson.mk), fill a root
#               from "meson install": every file where OpenWrt wants it,
#               with its mode, the same as in packaging/openwrt/files;
#               DEPENDS names the OpenWrt package of every library the
#               binaries link (readelf) or load (libunbound), conffiles
#               holds /etc/config/dotstub
#   translate-SHELL: dotstub-uci.sh on the default /etc/config/dotstub and
#               on tests/openwrt/*.uci: the good ones pass dotstubd -n and
#               mean what their .want says (dotstubd -n -v), the bad ones
#               are refused with the messages of their .err; every key it
#               writes is one dotstubd takes, every key of dotstubd --help
#               has its UCI option; BusyBox's output is dash's, byte for byte
#   init-busybox: /etc/init.d/dotstub under the rc.common and procd stand-ins,
#               running the real dotstubd: start (respawn, logd, the reload
#               trigger; it answers), reload with a new listener (SIGHUP, same
#               process, the listener answers), reloads with a bad value or a
#               value out of dotstubd's range or a file uci cannot read
#               (logged, the file and the process kept, no signal), a new
#               control path and a new port-53 listener (restart), restart
#               with a bad file (the last good one is used), enabled '0'
#               (stopped) and '1' (started), a first start with a bad file
#               (not started, logged), stop
#   hotplug:    /etc/hotplug.d/iface/40-dotstub: ifup of wan and an
#               ifupdate with new addresses reload dotstubd (SIGHUP, and it
#               applies it); ifup of lan, a bare ifupdate, ifdown, a
#               disabled or stopped service do not; wan_interface is followed
#   dnsmasq:    behind dnsmasq as the README sets it up (no-resolv,
#               server=127.0.0.1#5453): the shipped default configuration
#               with a static upstream, a real Unbound serving DoT; a
#               query to dnsmasq is answered through dotstubd over DoT
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/unbound-dot.sh
. "$DOTSTUB_SRC/tests/lib/unbound-dot.sh"
udot_init

P=$DOTSTUB_SRC/packaging/openwrt
LIB=$DOTSTUB_SRC/tests/lib
SAMPLES=$DOTSTUB_SRC/tests/openwrt
ROOT=$T_DIR/root # the OpenWrt root the package's install fills
DNSMASQ_PID=

cleanup() {
	[ -z "$DNSMASQ_PID" ] || pid_stop "$DNSMASQ_PID"
	local p
	p=$(cat "$T_DIR/procd/pid" 2>/dev/null) && pid_stop "$p"
	udot_cleanup
	rm -rf "$T_DIR"
}
trap cleanup EXIT

for b in "$DOTSTUBD" "$DOTCTL"; do
	[ -x "$b" ] || { echo "SKIP: no $b"; exit 77; }
done
SHELLS=(dash busybox)
for s in "${SHELLS[@]}"; do
	command -v "$s" >/dev/null || { echo "FAIL: $s is not installed (scripts/deps.sh installs it)"; exit 1; }
done

# sh_of SHELL: the command line that runs a script with that shell
sh_of() { case $1 in busybox) echo "busybox sh" ;; *) echo "$1" ;; esac; }

# ---------------------------------------------------------------- package

# A buildroot with just what the Makefile includes: install-PKG runs
# Package/PKG/install into $FAKE_ROOT; show prints DEPENDS and conffiles.
make_buildroot() {
	local br=$T_DIR/buildroot
	mkdir -p "$br/include"
	cat >"$br/rules.mk" <<'EOF'
INCLUDE_DIR:=$(TOPDIR)/include
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
TAR:=tar
EOF
	cat >"$br/include/package.mk" <<'EOF'
PKG_BUILD_DIR:=$(TOPDIR)/build_dir/$(PKG_NAME)-$(PKG_VERSION)
define BuildPackage
$(eval $(Package/$(1)))
$(eval FAKE_DEPENDS_$(1):=$(DEPENDS))
$(eval FAKE_USERID_$(1):=$(USERID))
$(eval DEPENDS:=)
$(eval USERID:=)
$(eval FAKE_PACKAGES+=$(1))
install-$(1):
	$(call Package/$(1)/install,$(FAKE_ROOT))
endef
show:
	@$(foreach p,$(FAKE_PACKAGES),echo 'depends $(p) $(strip $(FAKE_DEPENDS_$(p)))';)
	@$(foreach p,$(FAKE_PACKAGES),echo 'userid $(p) $(strip $(FAKE_USERID_$(p)))';)
	@$(foreach p,$(FAKE_PACKAGES),$(foreach f,$(Package/$(p)/conffiles),echo 'conffile $(p) $(f)';))
EOF
	: >"$br/include/meson.mk"
	echo "$br"
}

# lib_package SONAME: the OpenWrt package that ships it ("-" for libc)
lib_package() {
	case $1 in
	libssl.so.* | libcrypto.so.*) echo libopenssl ;;
	libevent-2.1.so.*) echo libevent2 ;;
	libevent_core-2.1.so.*) echo libevent2-core ;;
	libnl-3.so.*) echo libnl-core ;;
	libnl-route-3.so.*) echo libnl-route ;;
	libldns.so.*) echo libldns ;;
	libseccomp.so.*) echo libseccomp ;;
	libunbound.so.*) echo libunbound ;;
	# sd-bus: the OpenWrt build has no resolve1 API (-Dresolve1=disabled,
	# checked below), so its dotstubd does not link it
	libsystemd.so.*) echo - ;;
	libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | ld-linux*) echo - ;;
	# the sanitizer runtimes of the suite's ASan+UBSan build: never in a
	# package
	libasan.so.* | libubsan.so.*) echo - ;;
	*) echo "?" ;;
	esac
}

package() {
	local br dest f want got deps p lib pkg soname
	br=$(make_buildroot)
	dest=$T_DIR/destdir
	if ! meson install -C "$DOTSTUB_BUILD" --no-rebuild --quiet --destdir "$dest" >"$T_DIR/inst.out" 2>&1 ||
		[ ! -x "$dest/usr/sbin/dotstubd" ]; then
		t_fail "meson install into a destdir (prefix /usr): $(tail -n 3 "$T_DIR/inst.out")"
		return
	fi
	rm -rf "$ROOT"
	for p in dotstub dotstub-basic dotstub-ctl; do
		[ "$p" = dotstub-basic ] && ROOT=$T_DIR/root-basic
		if make -s -C "$P" TOPDIR="$br" PKG_INSTALL_DIR="$dest" FAKE_ROOT="$ROOT" "install-$p" \
			>"$T_DIR/make.$p" 2>&1; then
			t_ok "Makefile: Package/$p/install runs"
		else
			t_fail "Makefile: Package/$p/install: $(tail -n 5 "$T_DIR/make.$p")"
		fi
		ROOT=$T_DIR/root
	done
	# dotstub-basic installs what dotstub does (its own dotstubd aside)
	# shellcheck disable=SC2016 # the inner shell expands them
	check "package: dotstub-basic installs the files of dotstub" \
		bash -c 'cd "$1" && find . ! -path ./usr/bin\* | sort >"$3.a" &&
			cd "$2" && find . | sort >"$3.b" && cmp -s "$3.a" "$3.b"' _ "$ROOT" "$T_DIR/root-basic" "$T_DIR/files"
	while read -r f want; do
		got=$(stat -c %a "$ROOT/$f" 2>/dev/null)
		expect_eq "package: /$f, mode $want" "$got" "$want"
	done <<'EOF'
usr/sbin/dotstubd 755
usr/bin/dotctl 755
usr/lib/dotstub/dotstub-uci.sh 644
etc/init.d/dotstub 755
etc/config/dotstub 600
etc/hotplug.d/iface/40-dotstub 644
lib/upgrade/keep.d/dotstub 644
etc/dotstub/anchors.d 755
EOF
	for f in "dotstub-uci.sh usr/lib/dotstub/dotstub-uci.sh" "dotstub.init etc/init.d/dotstub" \
		"dotstub.config etc/config/dotstub" "dotstub.hotplug etc/hotplug.d/iface/40-dotstub" \
		"dotstub.keep lib/upgrade/keep.d/dotstub"; do
		check "package: /${f#* } is files/${f%% *}" cmp "$P/files/${f%% *}" "$ROOT/${f#* }"
	done
	check "package: /usr/sbin/dotstubd is the one meson built" cmp "$DOTSTUB_BUILD/dotstubd" "$ROOT/usr/sbin/dotstubd"

	if ! make -s -C "$P" TOPDIR="$br" show >"$T_DIR/show" 2>&1; then
		t_fail "Makefile: $(tail -n 3 "$T_DIR/show")"
		return
	fi
	expect_contains "Makefile: /etc/config/dotstub is a conffile" "$(cat "$T_DIR/show")" \
		"conffile dotstub /etc/config/dotstub"
	expect_contains "Makefile: /etc/config/dotstub is a conffile of dotstub-basic" "$(cat "$T_DIR/show")" \
		"conffile dotstub-basic /etc/config/dotstub"
	expect_contains "Makefile: the dotstub user and group" "$(cat "$T_DIR/show")" \
		"userid dotstub dotstub=453:dotstub=453"
	expect_contains "Makefile: built without the resolve1 D-Bus API (no libsystemd on OpenWrt)" \
		"$(cat "$P/Makefile")" "-Dresolve1=disabled"
	# every library linked, and libunbound, loaded with dlopen(3)
	soname=$(sed -n 's/^#define DS_LIBUNBOUND_SONAME "\(.*\)"$/\1/p' "$DOTSTUB_BUILD/dotstub-config.h")
	for p in "dotstub usr/sbin/dotstubd" "dotstub-ctl usr/bin/dotctl"; do
		deps=" $(sed -n "s/^depends ${p%% *} //p" "$T_DIR/show") "
		for lib in $(readelf -d "$ROOT/${p#* }" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') \
			${soname:-libunbound.so.8}; do
			pkg=$(lib_package "$lib")
			case $pkg in
			-) continue ;;
			"?") t_fail "package ${p%% *}: /${p#* } needs $lib, which no OpenWrt package in this test's table ships" ;;
			*) expect_contains "package ${p%% *}: DEPENDS has +$pkg (for $lib)" "$deps" " +$pkg " ;;
			esac
		done
	done
	# dotstub-basic: dotstub built with dot-server=false, whose dotstubd
	# does not link libldns (only the publisher needs it)
	deps=$(sed -n 's/^depends dotstub //p' "$T_DIR/show")
	expect_eq "package dotstub-basic: DEPENDS is dotstub's without +libldns" \
		"$(sed -n 's/^depends dotstub-basic //p' "$T_DIR/show")" "${deps/ +libldns/}"
	# shellcheck disable=SC2016 # make's $(...), not the shell's
	expect_contains "Makefile: the basic variant is built with -Ddot-server=false" \
		"$(sed -n '/^ifeq ($(BUILD_VARIANT),basic)$/,/^endif$/p' "$P/Makefile")" "-Ddot-server=false"
}

# ---------------------------------------------------------------- translation

# translate SHELL UCI-FILE OUT: dotstub-uci.sh over UCI-FILE; OUT.conf,
# OUT.err; the translation's exit status
translate() {
	local dir=$T_DIR/uci.$$.$RANDOM
	mkdir -p "$dir"
	cp "$2" "$dir/dotstub"
	# shellcheck disable=SC2016 # expanded by the shell under test
	UCI_CONFIG_DIR=$dir $(sh_of "$1") -c '. "$1"; . "$2"; dotstub_uci_load; dotstub_uci_generate' \
		sh "$LIB/openwrt.sh" "$P/files/dotstub-uci.sh" >"$3.conf" 2>"$3.err"
	local rc=$?
	rm -rf "$dir"
	return $rc
}

# expect_good SHELL NAME UCI WANT
expect_good() {
	local sh=$1 name=$2 out=$T_DIR/tr.$1.$2 missing='' l
	if ! translate "$sh" "$3" "$out"; then
		t_fail "$name: refused: $(cat "$out.err")"
		return
	fi
	if ! "$DOTSTUBD" -n -v -c "$out.conf" >"$out.norm" 2>&1; then
		t_fail "$name: dotstubd -n refuses the translation: $(cat "$out.norm")"
		return
	fi
	while IFS= read -r l; do
		grep -qxF -- "$l" "$out.norm" || missing="$missing '$l'"
	done <"$4"
	if [ -z "$missing" ]; then
		t_ok "$name: translated, accepted by dotstubd -n, means what $(basename "$4") says"
	else
		t_fail "$name: dotstubd -n -v has no$missing"
	fi
}

# expect_bad SHELL NAME UCI ERR
expect_bad() {
	local sh=$1 name=$2 out=$T_DIR/tr.$1.$2 missing='' l
	if translate "$sh" "$3" "$out"; then
		t_fail "$name: translated, not refused"
		return
	fi
	while IFS= read -r l; do
		grep -qF -- "$l" "$out.err" || missing="$missing '$l'"
	done <"$4"
	if [ -z "$missing" ]; then
		t_ok "$name: refused with $(wc -l <"$4") message(s)"
	else
		t_fail "$name: refused, but without$missing (stderr: $(cat "$out.err"))"
	fi
}

translate_in() {
	local sh=$1 f n keys written k missing=''
	expect_good "$sh" default "$P/files/dotstub.config" "$SAMPLES/default.want"
	if grep -q '^upstream' "$T_DIR/tr.$sh.default.norm"; then
		t_fail "default: the disabled static upstream was written"
	fi
	for f in "$SAMPLES"/good-*.uci; do
		n=$(basename "$f" .uci)
		expect_good "$sh" "$n" "$f" "$SAMPLES/$n.want"
	done
	for f in "$SAMPLES"/bad-*.uci; do
		n=$(basename "$f" .uci)
		expect_bad "$sh" "$n" "$f" "$SAMPLES/$n.err"
	done

	# the keys: what it writes is dotstubd's, and it has them all
	keys=" $("$DOTSTUBD" --help | sed -n 's/^  --\([a-z0-9-]*\) .*/\1/p' | tr '\n' ' ') "
	written=$(cat "$T_DIR"/tr."$sh".*.conf | sed -n 's/^\([^# ][^ ]*\) .*/\1/p' | sort -u)
	for k in $written; do
		case $keys in *" $k "*) ;; *) missing="$missing $k" ;; esac
	done
	expect_eq "every key written is one of dotstubd --help" "${missing:-none}" none
	missing=''
	for k in $keys; do
		case $k in rfc5011-hold-down) continue ;; esac # for tests only
		grep -qE "^[a-z]+ [a-z0-9_]+ [a-z:-]+ $k\$" "$P/files/dotstub-uci.sh" || missing="$missing $k"
	done
	expect_eq "every key of dotstubd --help has its UCI option" "${missing:-none}" none
}

translate_dash() { translate_in dash; }

translate_busybox() {
	local f n
	translate_in busybox
	for f in "$T_DIR"/tr.dash.*.conf; do
		n=${f#"$T_DIR"/tr.dash.}
		n=${n%.conf}
		check "BusyBox ash writes what dash writes: $n" cmp "$f" "$T_DIR/tr.busybox.$n.conf"
		check "BusyBox ash says what dash says: $n" cmp "$T_DIR/tr.dash.$n.err" "$T_DIR/tr.busybox.$n.err"
	done
}

# ---------------------------------------------------------------- init script

L1=127.13.0.1
PROCD=$T_DIR/procd
OWRT_LOG=$T_DIR/logd
DIG=(dig +time=2 +tries=1 +short)

# The environment of the stand-ins and the init script's DOTSTUB_* paths.
owrt_env() { # SHELL
	export UCI_CONFIG_DIR=$ROOT/etc/config OWRT_PROCD=$PROCD OWRT_LOG OWRT_ROOT=$ROOT
	export DOTSTUB_PROG=$ROOT/usr/sbin/dotstubd DOTSTUB_CONF_DIR=$ROOT/var/etc
	export DOTSTUB_UCI_SH=$ROOT/usr/lib/dotstub/dotstub-uci.sh
	export DOTSTUB_INIT=$T_DIR/bin/dotstub-init
	mkdir -p "$T_DIR/bin" "$PROCD" "$ROOT/tmp/resolv.conf.d"
	# /etc/init.d/dotstub as "#!/bin/sh /etc/rc.common" runs it
	printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$(sh_of "$1")" "$LIB/openwrt-rc.common" \
		"$ROOT/etc/init.d/dotstub" >"$DOTSTUB_INIT"
	chmod +x "$DOTSTUB_INIT"
	# the WAN's resolver, as netifd writes it: nobody answers there
	echo "nameserver 127.13.0.53" >"$ROOT/tmp/resolv.conf.d/resolv.conf.auto"
}

init() { "$DOTSTUB_INIT" "$@"; }

# live_uci [OPTION-LINE...]: /etc/config/dotstub for a daemon in $ROOT
live_uci() {
	{
		echo "config dotstub 'main'"
		printf '\t%s\n' "list listen '$L1:5453'" \
			"option resolv_source '$ROOT/tmp/resolv.conf.d/resolv.conf.auto'" \
			"option state_dir '$ROOT/etc/dotstub/state'" \
			"option anchors_dir '$ROOT/etc/dotstub/anchors.d'" \
			"option control '$ROOT/var/run/dotstub/control'" \
			"option resolv_conf_out 'none'" "option log_level 'info'" "$@"
	} >"$ROOT/etc/config/dotstub"
}

procd_pid() { cat "$PROCD/pid" 2>/dev/null; }
calls_count() { grep -c -- "$1" "$PROCD/calls" 2>/dev/null; }
log_count() { grep -c -- "$1" "$PROCD/instance.log" 2>/dev/null; }
logd_has() { grep -F -- "$1" "$OWRT_LOG" >/dev/null 2>&1; }
answers() { [ "$("${DIG[@]}" @"$1" -p "$2" localhost A 2>/dev/null)" = 127.0.0.1 ]; }
# wait_applied N: the daemon logs its (N+1)th applied reload
applied_more() { [ "$(log_count "reload: applied")" -gt "$1" ]; }
wait_applied() { wait_for 10 applied_more "$1"; }
not() { ! "$@"; }

init_in() {
	local sh=$1 pid pid2 n s conf
	owrt_env "$sh"
	[ -x "$ROOT/usr/sbin/dotstubd" ] || { t_fail "no root from the package scenario"; return 1; }
	conf=$DOTSTUB_CONF_DIR/dotstub.conf
	rm -rf "$PROCD" "$OWRT_LOG" "$DOTSTUB_CONF_DIR" "$ROOT/etc/dotstub/state"
	mkdir -p "$PROCD"
	init enable
	check "enable: enabled" init enabled

	# start
	live_uci
	init start
	pid=$(procd_pid)
	check "start: procd runs dotstubd" owrt_pid_alive_ "$pid"
	check "start: command dotstubd -f -c /var/etc/dotstub.conf" \
		grep -qxF "command $DOTSTUB_PROG -f -c $conf" "$PROCD/spec"
	for s in "param respawn" "param stdout 1" "param stderr 1" "file $conf "; do
		check "start: procd_set_param ${s#param }" grep -q "^$s" "$PROCD/spec"
	done
	check "start: a reload trigger on /etc/config/dotstub" grep -qx "reload_trigger dotstub" "$PROCD/calls"
	check "start: the file passes dotstubd -n" "$DOTSTUB_PROG" -n -c "$conf"
	check "start: no temporary file left" test ! -e "$conf.new"
	check "start: $L1:5453 answers" wait_for 10 answers "$L1" 5453
	check "start: dotstubd's output goes to logd" grep -q "started, listening on $L1:5453" "$PROCD/instance.log"

	# reload: a new listener on a high port, by SIGHUP
	n=$(log_count "reload: applied")
	live_uci "list listen '127.13.0.2:5454'"
	init reload
	check "reload: SIGHUP sent" grep -qx "signal dotstub \* HUP" "$PROCD/calls"
	check "reload: dotstubd applies it" wait_applied "$n"
	expect_eq "reload: the same process" "$(procd_pid)" "$pid"
	check "reload: the new listener answers" answers 127.13.0.2 5454
	check "reload: the old one too" answers "$L1" 5453

	# reloads that must change nothing
	cp "$conf" "$T_DIR/conf.good"
	for s in "option tofu 'sometimes'|dotstub.main.tofu: 'sometimes' is not one of: auto, ask, off" \
		"option tcp_clients '0'|dotstubd -n refuses it: tcp-clients: '0' is not a number in 1..65536" \
		"option unknown_networks 'strict'|dotstub.main.unknown_networks: unknown option" \
		"option log_level 'info|uci: Parse error"; do
		n=$(calls_count "^signal")
		: >"$OWRT_LOG"
		live_uci "list listen '127.13.0.2:5454'" "${s%%|*}"
		init reload
		check "bad reload (${s%%|*}): logged: ${s#*|}" logd_has "${s#*|}"
		check "bad reload (${s%%|*}): logged as kept" logd_has "the running configuration is kept"
		check "bad reload (${s%%|*}): the file is kept" cmp "$conf" "$T_DIR/conf.good"
		expect_eq "bad reload (${s%%|*}): no signal" "$(calls_count "^signal")" "$n"
		expect_eq "bad reload (${s%%|*}): the same process" "$(procd_pid)" "$pid"
	done
	check "bad reloads: the listeners still answer" answers 127.13.0.2 5454
	check "bad reload: logd got it with tag and priority" \
		grep -q "^logger -t dotstub -p daemon.err " "$OWRT_LOG"

	# reloads that need a restart
	live_uci "list listen '127.13.0.2:5454'" "option control '$ROOT/var/run/dotstub2/control'"
	init reload
	pid2=$(procd_pid)
	check "new control path: restarted" test -n "$pid2" -a "$pid2" != "$pid"
	check "new control path: the socket is there" wait_for 10 test -S "$ROOT/var/run/dotstub2/control"
	check "new control path: the old process is gone" pid_gone "$pid"
	pid=$pid2
	live_uci "list listen '127.13.0.2:5454'" "option control '$ROOT/var/run/dotstub2/control'" \
		"list listen '127.13.0.3:53'"
	init reload
	pid2=$(procd_pid)
	check "new listener on port 53: restarted" test -n "$pid2" -a "$pid2" != "$pid"
	check "new listener on port 53: answers" wait_for 10 answers 127.13.0.3 53
	pid=$pid2

	# restart with a bad file: the last good one
	: >"$OWRT_LOG"
	cp "$conf" "$T_DIR/conf.good"
	live_uci "option tofu 'sometimes'"
	init restart
	pid2=$(procd_pid)
	check "restart with a bad file: running" owrt_pid_alive_ "$pid2"
	check "restart with a bad file: on the last good file" cmp "$conf" "$T_DIR/conf.good"
	check "restart with a bad file: logged" logd_has "running with the last good"
	check "restart with a bad file: it answers" wait_for 10 answers 127.13.0.3 53

	# enabled '0' and back
	live_uci "option enabled '0'"
	init reload
	check "enabled '0': stopped" test -z "$(procd_pid)"
	check "enabled '0': the process is gone" pid_gone "$pid2"
	live_uci "option enabled '1'"
	init reload
	pid=$(procd_pid)
	check "enabled '1': started again" owrt_pid_alive_ "$pid"
	check "enabled '1': it answers" wait_for 10 answers "$L1" 5453
	check "running: yes" init running

	init stop
	check "stop: stopped" test -z "$(procd_pid)"
	check "stop: the process is gone" pid_gone "$pid"
	check "running: no" not init running

	# a first start (nothing in /var/etc) with a bad file
	rm -f "$conf"
	: >"$OWRT_LOG"
	live_uci "option tofu 'sometimes'"
	init start
	check "first start with a bad file: not started" test -z "$(procd_pid)"
	check "first start with a bad file: logged" logd_has "dotstubd not started"
	check "first start with a bad file: the reason logged" logd_has "dotstub.main.tofu"
}

owrt_pid_alive_() { [ -n "$1" ] && pid_alive "$1"; }
pid_gone() { ! pid_alive "$1"; }

init_busybox() { init_in busybox; }

# ---------------------------------------------------------------- hotplug

# hotplug VAR=VALUE...: netifd's hotplug-call, sourcing the hook in a
# subshell after /lib/functions.sh, with VAR=VALUE in the environment
hotplug() {
	# shellcheck disable=SC2016 # expanded by the shell under test
	env "$@" busybox sh -c '. "$1"; ( . "$2" )' sh "$LIB/openwrt.sh" \
		"$ROOT/etc/hotplug.d/iface/40-dotstub"
}

hotplug_scenario() {
	local pid n a
	owrt_env busybox
	rm -rf "$PROCD" "$OWRT_LOG" "$DOTSTUB_CONF_DIR"
	mkdir -p "$PROCD"
	init enable
	live_uci
	init start
	pid=$(procd_pid)
	check "hotplug: dotstubd runs" wait_for 10 answers "$L1" 5453

	for a in "ACTION=ifup INTERFACE=wan DEVICE=eth1" \
		"ACTION=ifupdate INTERFACE=wan6 DEVICE=eth1 IFUPDATE_ADDRESSES=1"; do
		n=$(log_count "reload: applied")
		# shellcheck disable=SC2086 # the words of $a
		hotplug $a
		check "hotplug $a: dotstubd reloads" wait_applied "$n"
		expect_eq "hotplug $a: the same process" "$(procd_pid)" "$pid"
	done
	check "hotplug: logged" logd_has "ifup of wan (eth1): reloading"
	for a in "ACTION=ifup INTERFACE=lan DEVICE=br-lan" "ACTION=ifupdate INTERFACE=wan DEVICE=eth1" \
		"ACTION=ifupdate INTERFACE=wan DEVICE=eth1 IFUPDATE_DATA=1" "ACTION=ifdown INTERFACE=wan" \
		"ACTION=ifup-failed INTERFACE=wan"; do
		n=$(calls_count "^signal")
		# shellcheck disable=SC2086 # the words of $a
		hotplug $a
		expect_eq "hotplug $a: no reload" "$(calls_count "^signal")" "$n"
	done

	live_uci "list wan_interface 'wwan'"
	init reload
	n=$(calls_count "^signal")
	hotplug ACTION=ifup INTERFACE=wan
	expect_eq "wan_interface 'wwan': ifup of wan does not reload" "$(calls_count "^signal")" "$n"
	hotplug ACTION=ifup INTERFACE=wwan
	expect_eq "wan_interface 'wwan': ifup of wwan reloads" "$(calls_count "^signal")" "$((n + 1))"

	init disable
	n=$(calls_count "^signal")
	hotplug ACTION=ifup INTERFACE=wwan
	expect_eq "disabled: no reload" "$(calls_count "^signal")" "$n"
	init enable
	init stop
	n=$(calls_count "^set ")
	hotplug ACTION=ifup INTERFACE=wwan
	expect_eq "stopped: not started by the hook" "$(calls_count "^set ")" "$n"
	check "stopped: still stopped" test -z "$(procd_pid)"
}

# ---------------------------------------------------------------- dnsmasq

dnsmasq_scenario() {
	local name=abcd1234efgh.zz up=127.13.0.31 front=127.13.0.2 tlsa before after
	command -v dnsmasq >/dev/null || { t_fail "dnsmasq is not installed (dnsmasq-base)"; return; }
	owrt_env busybox
	init stop
	rm -rf "$PROCD" "$OWRT_LOG" "$DOTSTUB_CONF_DIR"
	mkdir -p "$PROCD"
	udot_start u1 "$up" "$name" || { t_fail "unbound did not start"; return 1; }
	tlsa=$(udot_tlsa 3 1 1 "$(udot_cert_file u1)")

	# the shipped /etc/config/dotstub, its paths in $ROOT, no user to drop
	# to (none here), and a static upstream
	sed -e "s|'/etc/dotstub|'$ROOT/etc/dotstub|" -e "s|'/var/run|'$ROOT/var/run|" \
		-e "s|'/tmp/resolv.conf.d|'$ROOT/tmp/resolv.conf.d|" -e "/option user /d" \
		-e "/^config upstream 'static'/,\$d" "$P/files/dotstub.config" >"$ROOT/etc/config/dotstub"
	printf "config upstream 'static'\n\toption enabled '1'\n\toption name '%s'\n" "$name" \
		>>"$ROOT/etc/config/dotstub"
	printf "\tlist address '%s'\n\tlist tlsa '%s'\n" "$up" "$tlsa" >>"$ROOT/etc/config/dotstub"
	init start
	check "dnsmasq: dotstubd runs on 127.0.0.1:5453" wait_for 10 answers 127.0.0.1 5453

	# OpenWrt's dnsmasq init script turns dhcp.@dnsmasq[0].noresolv='1'
	# and server='127.0.0.1#5453' into these
	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--server='127.0.0.1#5453' --listen-address="$front" --bind-interfaces --port=53 \
		--user=root --pid-file= --log-facility=- >"$T_DIR/dnsmasq.log" 2>&1 &
	DNSMASQ_PID=$!
	check "dnsmasq: it answers (localhost, through dotstubd)" wait_for 10 answers "$front" 53
	before=$(udot_queries u1)
	expect_eq "dnsmasq: www.test through dnsmasq and dotstubd" \
		"$("${DIG[@]}" @"$front" www.test A 2>/dev/null)" 192.0.2.1
	after=$(udot_queries u1)
	check "dnsmasq: the upstream was asked over DoT" test "$after" -gt "$before"
	expect_contains "dnsmasq: dotctl query says DoT to the static upstream" \
		"$("$DOTCTL" -s "$ROOT/var/run/dotstub/control" query www.test AAAA 2>&1)" "DoT to $name"
	pid_stop "$DNSMASQ_PID"
	DNSMASQ_PID=
	init stop
	udot_stop u1
}

scenario package package
scenario translate-dash translate_dash
scenario translate-busybox translate_busybox
scenario init-busybox init_busybox
scenario hotplug hotplug_scenario
scenario dnsmasq dnsmasq_scenario
finish
