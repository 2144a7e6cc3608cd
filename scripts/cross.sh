#!/usr/bin/env bash
# scripts/cross.sh ARCH...: cross-build dotstub for a router CPU, run its
# unit tests and fuzz corpora under qemu-user, and print its size.
#
# ARCH is a Debian architecture: armhf, arm64, mipsel (little-endian) or
# s390x (big-endian: it is here to catch byte-order bugs); amd64 builds
# natively the same way and also measures the idle memory of a running
# dotstubd; mipsel-basic is mipsel built as the OpenWrt package
# dotstub-basic for a router with little flash (arch_info).  For each ARCH,
# in build-cross-ARCH/:
#
#   1. installs Debian 12's cross compiler (gcc-TRIPLET) and qemu-user, and
#      unpacks the ARCH builds of the libraries dotstub links (libssl-dev,
#      libevent-dev, libunbound-dev, nettle-dev, libnl-3-dev,
#      libnl-route-3-dev, libldns-dev, libcmocka-dev, libsystemd-dev, libseccomp-dev,
#      libc6-dev and what they depend on) into sysroot/ (why not
#      Multi-Arch: below);
#   2. writes the meson cross file cross.ini (gcc --sysroot, pkg-config in
#      the sysroot, exe_wrapper qemu-ARCH -L sysroot) and configures a
#      buildtype=minsize (-Os) build, with the resolve1 D-Bus API; mipsel
#      and mipsel-basic are router builds instead, as the OpenWrt packages
#      are built (ROUTER_CFLAGS, arch_info);
#   3. builds dotstubd, dotctl and what the 'unit' and 'fuzz-corpus' suites
#      need, and runs those suites (the corpora replay through the
#      non-libFuzzer driver) under qemu-user, except call_cycles and the
#      policy mutants (see suite_tests); mipsel-basic, the mipsel build's
#      code without the DoT server, runs only test_config (its refusal of
#      serve-dot and publish yes);
#   4. strips dotstubd and dotctl (dynamic, against the shared libraries:
#      dotstub's own code only) and prints their sizes; mipsel-basic fails
#      when dotstubd is over 300,000 bytes (SMALL_ROUTER_MAX, the size
#      goal of a router with little flash).
# It closes with a table of the sizes of every ARCH it built (and, for
# amd64, the RSS and PSS of dotstubd idle in a private network namespace).
# Needs root (apt-get; the network namespace).  Exits 1 if anything failed.
#
# Why a sysroot, not Multi-Arch co-installation (dpkg --add-architecture
# and apt-get install libssl-dev:ARCH): libevent-dev is not Multi-Arch:
# same (its event2/event-config.h is per architecture), so libevent-dev:ARCH
# would replace the host's libevent-dev; and Multi-Arch: same packages must
# have the same version on every architecture, while bookworm-security
# builds only amd64, arm64, armhf, i386 and ppc64el: on an up-to-date
# Debian 12, libssl3:amd64 is newer than any libssl3:mipsel or :s390x, so
# co-installing would downgrade the host's OpenSSL.  The sysroot holds the
# same Debian 12 packages, resolved by apt (against an empty package
# database) and unpacked with dpkg-deb, and changes nothing on the host but
# the foreign architecture in dpkg's list.
#
# Timing: "cross ARCH: built and tested in N s" excludes step 1.
#
# --build-only: steps 1 to 3 without running the tests, and no sizes: what
# scripts/test.sh runs at low priority while other tests wait, so that the
# run proper (without the option) finds everything built.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)

usage() {
	echo "usage: $0 [--build-only] ARCH...   (ARCH: armhf arm64 mipsel mipsel-basic s390x amd64)" >&2
	exit 2
}
BUILD_ONLY=no
if [ "${1:-}" = --build-only ]; then
	BUILD_ONLY=yes
	shift
fi
[ $# -ge 1 ] || usage

# for ARCH: the C library and the -dev packages scripts/deps.sh installs
# for the host
LIBS=(libc6-dev libssl-dev libevent-dev libunbound-dev nettle-dev libnl-3-dev
	libnl-route-3-dev libldns-dev libcmocka-dev libsystemd-dev libseccomp-dev)

# The router build, as packaging/openwrt/Makefile builds dotstub for
# OpenWrt's mipsel_24kc packages (ramips): OpenWrt's compiler flags for that
# target (-Os with CONFIG_TARGET_OPTIMIZATION and CONFIG_EXTRA_OPTIMIZATION,
# MIPS16 with CONFIG_USE_MIPS16), its hardening defaults (format-security,
# the regular stack protector, FORTIFY_SOURCE=1, full RELRO; PIE as
# PKG_ASLR_PIE_REGULAR gives network daemons such as dnsmasq), and what the
# package adds (PKG_BUILD_FLAGS lto; 4 KiB pages, the pages of OpenWrt's
# 32-bit MIPS kernels: ld's 64 KiB default pads the file with up to 64 KiB
# of zeros before the RELRO segment; -fno-ipa-ra, below).  Not OpenWrt's:
# -msoft-float, as Debian's mipsel libraries are hard-float, and glibc for
# musl.
#
# -fno-ipa-ra: gcc 12 miscompiles position-independent MIPS16 code with
# interprocedural register allocation: a MIPS16 function sets up $gp with
# $3 (v1) as scratch after register allocation, so its callers are told
# that it leaves $3 alone and keep a value there across the call (seen in
# test_policy and test_netmgr_timing: a GOT address kept in $3, a call
# through the garbage loaded from it; without LTO, test_netmgr_timing's
# "glibc detected an invalid stdio handle").  Not qemu's doing, not
# dotstub's: the code is wrong.
ROUTER_CFLAGS=(-mips32r2 -mtune=24kc -mno-branch-likely -fno-caller-saves -fno-plt
	-mips16 -minterlink-mips16 -fno-ipa-ra -Wformat -Werror=format-security
	-fstack-protector -D_FORTIFY_SOURCE=1)
ROUTER_LDFLAGS=("-Wl,-z,now" "-Wl,-z,relro" "-Wl,-z,max-page-size=4096")
# The size goal of dotstubd on a router with little flash, in bytes: the
# mipsel-basic build fails above it
SMALL_ROUTER_MAX=300000

# openwrt-basic: the package dotstub-basic (the meson option
# dot-server=false: no DoT server for LAN clients, no publishing) with the
# router flags above, built as OpenWrt builds every package for a target
# with little flash (SMALL_FLASH or LOW_MEMORY_FOOTPRINT): its default
# there is CONFIG_PKG_ASLR_PIE_NONE, no position-independent executables.
# The package asks for PIE only where the build's configuration gives it
# (PKG_ASLR_PIE_REGULAR).
BASIC_CFLAGS=(-fno-pie)
BASIC_LDFLAGS=(-no-pie)

# arch_info ARCH: sets DEB_ARCH (the Debian architecture), TRIPLET QEMU
# CPU_FAMILY CPU ENDIAN, RESOLVE1 and PROFILE: mipsel is the router build
# above, without the resolve1 D-Bus API (no systemd on a router);
# mipsel-basic the OpenWrt package dotstub-basic as a router with little
# flash gets it (openwrt-basic: below); the others are plain -Os builds
# with the resolve1 API, so that its code is built and tested too
arch_info() {
	RESOLVE1=enabled PROFILE=minsize DEB_ARCH=$1
	case $1 in
	armhf) TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm CPU_FAMILY=arm CPU=armv7 ENDIAN=little ;;
	arm64) TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64 CPU_FAMILY=aarch64 CPU=aarch64 ENDIAN=little ;;
	mipsel)
		TRIPLET=mipsel-linux-gnu QEMU=qemu-mipsel CPU_FAMILY=mips CPU=mips32r2 ENDIAN=little
		RESOLVE1=disabled PROFILE=openwrt
		;;
	mipsel-basic)
		TRIPLET=mipsel-linux-gnu QEMU=qemu-mipsel CPU_FAMILY=mips CPU=mips32r2 ENDIAN=little
		RESOLVE1=disabled PROFILE=openwrt-basic DEB_ARCH=mipsel
		;;
	s390x) TRIPLET=s390x-linux-gnu QEMU=qemu-s390x CPU_FAMILY=s390x CPU=s390x ENDIAN=big ;;
	amd64) TRIPLET=x86_64-linux-gnu QEMU='' CPU_FAMILY=x86_64 CPU=x86_64 ENDIAN=little ;;
	*) return 1 ;;
	esac
}

APT=(apt-get -o DPkg::Lock::Timeout=600 -q)
export DEBIAN_FRONTEND=noninteractive

# install_host ARCH: the cross compiler, qemu-user, ARCH in dpkg's list
install_host() {
	local arch=$1 p missing=() LISTS=
	if [ "$arch" = amd64 ]; then
		bash scripts/deps.sh
		return
	fi
	for p in "gcc-$TRIPLET" qemu-user; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		dpkg --add-architecture "$arch" || return 1
	fi
	eval "$(apt-config shell LISTS Dir::State::lists/d)"
	LISTS=${LISTS:-/var/lib/apt/lists/}
	if [ ${#missing[@]} -eq 0 ] && compgen -G "$LISTS*_binary-${arch}_Packages*" >/dev/null; then
		return 0
	fi
	echo "cross $arch: installing ${missing[*]:-nothing}, updating the package lists"
	"${APT[@]}" update -qq || return 1
	compgen -G "$LISTS*_binary-${arch}_Packages*" >/dev/null || {
		echo "cross $arch: apt has no package list for $arch" >&2
		return 1
	}
	[ ${#missing[@]} -eq 0 ] ||
		"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# make_sysroot ARCH DIR: the ARCH packages of LIBS and their dependencies,
# unpacked into DIR/sysroot; done again only when LIBS or the archive's
# versions change (DIR/sysroot/.packages: LIBS and apt's plan it was made
# from, the plan looked at again once apt has written newer package lists
# for ARCH)
make_sysroot() {
	local arch=$1 dir=$2 sys=$2/sysroot apt_dir=$2/apt plan deb a l LISTS=
	eval "$(apt-config shell LISTS Dir::State::lists/d)"
	if [ -f "$sys/.packages" ] && [ "$(head -1 "$sys/.packages")" = "LIBS ${LIBS[*]}" ] &&
		[ -z "$(find "$LISTS" -maxdepth 1 -name "*_binary-${arch}_Packages*" -cnewer "$sys/.packages")" ]; then
		return 0
	fi
	mkdir -p "$apt_dir/archives/partial"
	: >"$apt_dir/status"
	# an empty package database: apt resolves everything LIBS need; it
	# downloads into this directory (as root: the unprivileged _apt user
	# may not be able to write here) and takes none of the host's locks
	local apt_sys=("${APT[@]}" -o Dir::State::status="$apt_dir/status"
		-o Dir::Cache::archives="$apt_dir/archives" -o Debug::NoLocking=1
		-o APT::Sandbox::User=root)
	plan=$("${apt_sys[@]}" -s install --no-install-recommends "${LIBS[@]/%/:$arch}" |
		grep '^Inst ') || { echo "cross $arch: apt cannot resolve ${LIBS[*]} for $arch" >&2; return 1; }
	plan="LIBS ${LIBS[*]}
$plan"
	if [ -f "$sys/.packages" ] && [ "$plan" = "$(cat "$sys/.packages")" ]; then
		touch "$sys/.packages"
		return 0
	fi
	echo "cross $arch: unpacking $(grep -c '^Inst ' <<<"$plan") packages into $sys"
	rm -rf "$sys" "$apt_dir/archives"
	mkdir -p "$sys" "$apt_dir/archives/partial"
	"${apt_sys[@]}" install -y -qq --download-only --no-install-recommends \
		"${LIBS[@]/%/:$arch}" >/dev/null || return 1
	for deb in "$apt_dir"/archives/*.deb; do
		a=$(dpkg-deb -f "$deb" Architecture) || return 1
		[ "$a" = "$arch" ] || [ "$a" = all ] || continue
		dpkg-deb -x "$deb" "$sys" || return 1
	done
	# links to an absolute path point into the sysroot, not at the host
	while IFS= read -r l; do
		ln -sfn "$sys$(readlink "$l")" "$l"
	done < <(find "$sys" -type l -lname '/*')
	[ -e "$sys/usr/include/$TRIPLET/bits/types.h" ] || [ -e "$sys/usr/include/bits/types.h" ] || {
		echo "cross $arch: no libc headers in $sys" >&2
		return 1
	}
	rm -rf "$apt_dir/archives"
	printf '%s\n' "$plan" >"$sys/.packages"
}

# write_cross_file ARCH DIR SYSROOT: DIR/cross.ini
write_cross_file() {
	local dir=$2 sys=$3
	cat >"$dir/cross.ini.new" <<EOF
# generated by scripts/cross.sh $1
[constants]
sys = '$sys'

[binaries]
c = ['$TRIPLET-gcc', '--sysroot=' + sys]
ar = '$TRIPLET-ar'
strip = '$TRIPLET-strip'
pkgconfig = 'pkg-config'
exe_wrapper = ['$QEMU', '-L', sys]

[properties]
sys_root = sys
pkg_config_libdir = [sys + '/usr/lib/$TRIPLET/pkgconfig', sys + '/usr/share/pkgconfig']

[host_machine]
system = 'linux'
cpu_family = '$CPU_FAMILY'
cpu = '$CPU'
endian = '$ENDIAN'
EOF
	if cmp -s "$dir/cross.ini.new" "$dir/cross.ini"; then
		rm -f "$dir/cross.ini.new"
	else
		mv "$dir/cross.ini.new" "$dir/cross.ini"
	fi
}

# idle_memory DOTSTUBD: "RSS PSS" in kB of DOTSTUBD up and idle: a static
# upstream at an address where nothing listens (no query is asked),
# listening on 127.0.0.1 in a private network namespace; up means it said
# READY=1 on its notify socket
idle_memory() {
	local tmp rc
	tmp=$(mktemp -d) || return 1
	unshare --net bash -c 'ip link set lo up && exec python3 - "$@"' _ "$1" "$tmp" <<'PY'
import os, socket, subprocess, sys, time
dotstubd, tmp = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(os.path.join(tmp, "notify"))
sock.settimeout(0.5)  # a bound on each wait, to notice a daemon that exited
open(os.path.join(tmp, "conf"), "w").close()
env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"))
d = subprocess.Popen([dotstubd, "-f", "-c", os.path.join(tmp, "conf"), "--listen", "127.0.0.1:53",
                      "--upstream", "memory.test@127.0.0.2", "--tlsa", "3 1 1 " + "ab" * 32,
                      "--control", os.path.join(tmp, "control"),
                      "--state-dir", os.path.join(tmp, "state"),
                      "--resolv-conf-out", "none"],
                     env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
try:
    ready = False
    deadline = time.monotonic() + 10
    while not ready and d.poll() is None and time.monotonic() < deadline:
        try:
            ready = b"READY=1" in sock.recv(4096)
        except socket.timeout:
            pass
    if not ready:
        sys.stderr.write("dotstubd did not say READY=1:\n" + open(os.path.join(tmp, "log")).read())
        sys.exit(1)
    rollup = {}
    for line in open("/proc/%d/smaps_rollup" % d.pid):
        f = line.split()
        if f[0] in ("Rss:", "Pss:"):
            rollup[f[0]] = f[1]
    print(rollup["Rss:"], rollup["Pss:"])
finally:
    d.terminate()
    try:
        d.wait(10)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()
PY
	rc=$?
	rm -rf "$tmp"
	return $rc
}

# suite_tests DIR: "NAME<tab>TARGET" of each test of the 'unit' and
# 'fuzz-corpus' suites but two, which check the sources and the tests
# rather than the code, the same on every architecture, and are run by the
# native builds: call_cycles (the object files' call graph) and the
# policy mutants (the policy test must fail on a broken trust/policy.c)
suite_tests() {
	meson introspect --tests "$1" | python3 -c '
import json, os, sys
build = os.path.abspath(sys.argv[1])
for t in json.load(sys.stdin):
    if not {"dotstub:unit", "dotstub:fuzz-corpus"} & set(t["suite"]):
        continue
    if t["name"] == "call_cycles" or t["name"].startswith("policy-mutant-"):
        continue
    print(t["name"], os.path.relpath(t["cmd"][0], build), sep="\t")
' "$1"
}

declare -A SIZE_D SIZE_C MEM R1 PROF
failed=0

# cross_one ARCH: steps 1 to 4; returns 1 if one failed
cross_one() {
	local arch=$1 dir=build-cross-$1 t0 setup_args=() options strip=strip f name target tests targets
	arch_info "$arch" || { echo "cross: unknown ARCH $arch" >&2; return 1; }
	echo "=== cross $arch ($TRIPLET): install"
	install_host "$DEB_ARCH" || { echo "cross $arch: installing failed" >&2; return 1; }
	mkdir -p "$dir"
	if [ "$arch" != amd64 ]; then
		# one sysroot per Debian architecture (mipsel-basic uses mipsel's)
		mkdir -p "build-cross-$DEB_ARCH"
		make_sysroot "$DEB_ARCH" "$SRC/build-cross-$DEB_ARCH" ||
			{ echo "cross $arch: the sysroot failed" >&2; return 1; }
		write_cross_file "$arch" "$SRC/$dir" "$SRC/build-cross-$DEB_ARCH/sysroot"
		setup_args=(--cross-file "$SRC/$dir/cross.ini")
		strip=$TRIPLET-strip
	fi
	t0=$(date +%s)
	options=(-Dbuildtype=minsize -Dresolve1="$RESOLVE1")
	case $PROFILE in
	openwrt)
		options+=(-Db_lto=true -Dc_args="${ROUTER_CFLAGS[*]}" -Dc_link_args="${ROUTER_LDFLAGS[*]}")
		;;
	openwrt-basic)
		options+=(-Db_lto=true -Ddot-server=false -Dc_args="${ROUTER_CFLAGS[*]} ${BASIC_CFLAGS[*]}"
			-Dc_link_args="${ROUTER_LDFLAGS[*]} ${BASIC_LDFLAGS[*]}")
		;;
	esac
	echo "=== cross $arch: configure and build ($dir, buildtype=minsize, resolve1 $RESOLVE1, $PROFILE)"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "${setup_args[@]}" "${options[@]}" >/dev/null ||
			{ echo "cross $arch: meson setup failed" >&2; return 1; }
	elif [ "$(cat "$dir/cross-options" 2>/dev/null)" != "${options[*]}" ]; then
		# a build directory of an earlier cross.sh: its options follow
		meson configure "$dir" "${options[@]}" >/dev/null ||
			{ echo "cross $arch: meson configure failed" >&2; return 1; }
	fi
	printf '%s\n' "${options[*]}" >"$dir/cross-options"
	# meson.build changed since: the test list is read after meson has
	# read it again
	ninja -C "$dir" build.ninja >/dev/null || { echo "cross $arch: meson failed" >&2; return 1; }
	tests=() targets=(dotstubd ctl/dotctl)
	while IFS=$'\t' read -r name target; do
		# dotstub-basic is the mipsel build's code but the DoT server:
		# what is its own is the configuration refusing serve-dot and
		# publish yes (test_config), and its size
		[ "$PROFILE" = openwrt-basic ] && [ "$name" != config ] && continue
		tests+=("$name") targets+=("$target")
	done < <(suite_tests "$dir")
	if { [ "$PROFILE" = openwrt-basic ] && [ ${#tests[@]} -ne 1 ]; } ||
		{ [ "$PROFILE" != openwrt-basic ] && [ ${#tests[@]} -lt 20 ]; }; then
		echo "cross $arch: found ${#tests[@]} unit and fuzz-corpus tests in $dir" >&2
		return 1
	fi
	ninja -C "$dir" "${targets[@]}" || { echo "cross $arch: build failed" >&2; return 1; }
	if [ $BUILD_ONLY = yes ]; then
		echo "cross $arch: built in $(($(date +%s) - t0)) s (--build-only: no tests run)"
		return 0
	fi
	echo "=== cross $arch: ${#tests[@]} tests of the unit and fuzz-corpus suites${QEMU:+ under $QEMU}"
	# no log of an earlier run may stand in for this one
	rm -f "$dir/meson-logs/testlog.json"
	# qemu-user runs the tests some ten times slower than the host
	# the names among those suites only: an integration test may have the
	# name of a unit test
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
		--timeout-multiplier 5 --suite unit --suite fuzz-corpus "${tests[@]}" || f=1
	mkdir -p "$dir/stripped"
	if ! "$strip" -o "$dir/stripped/dotstubd" "$dir/dotstubd" ||
		! "$strip" -o "$dir/stripped/dotctl" "$dir/ctl/dotctl"; then
		echo "cross $arch: strip failed" >&2
		return 1
	fi
	R1[$arch]=$(meson introspect --buildoptions "$dir" |
		python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "resolve1"][0])')
	PROF[$arch]=$PROFILE
	SIZE_D[$arch]=$(stat -c %s "$dir/stripped/dotstubd")
	SIZE_C[$arch]=$(stat -c %s "$dir/stripped/dotctl")
	echo "cross $arch: stripped dotstubd ${SIZE_D[$arch]} bytes, dotctl ${SIZE_C[$arch]} bytes (-Os, $PROFILE)"
	# the size goal of a router with little flash: a budget, failed above it
	if [ "$PROFILE" = openwrt-basic ] && [ "${SIZE_D[$arch]}" -gt $SMALL_ROUTER_MAX ]; then
		echo "cross $arch: FAILED: dotstubd is ${SIZE_D[$arch]} bytes, over the $SMALL_ROUTER_MAX of a router with little flash" >&2
		f=1
	fi
	if [ "$arch" = amd64 ]; then
		MEM[$arch]=$(idle_memory "$SRC/$dir/dotstubd") ||
			{ echo "cross $arch: measuring the idle memory failed" >&2; f=1; }
	fi
	echo "cross $arch: built and tested in $(($(date +%s) - t0)) s"
	return ${f:-0}
}

archs=()
for a in "$@"; do
	archs+=("$a")
	cross_one "$a" || failed=1
done

[ $BUILD_ONLY = yes ] && exit $failed
echo
echo "stripped sizes at -Os (buildtype=minsize; openwrt: the router build, packaging/openwrt),"
echo "dynamic against the shared libraries:"
printf '%-8s %-8s %10s %10s %-9s %s\n' arch build dotstubd dotctl resolve1 "idle dotstubd"
for a in "${archs[@]}"; do
	[ -n "${SIZE_D[$a]:-}" ] || continue
	mem=
	if [ -n "${MEM[$a]:-}" ]; then
		read -r rss pss <<<"${MEM[$a]}"
		mem="RSS $rss kB, PSS $pss kB"
	fi
	printf '%-8s %-8s %10s %10s %-9s %s\n' "$a" "${PROF[$a]}" "${SIZE_D[$a]}" "${SIZE_C[$a]}" "${R1[$a]}" "$mem"
done
exit $failed
