#!/usr/bin/env bash
# Install what dotstub needs to build, test, demo and benchmark, from
# Debian's packages.  Does nothing when everything is there already.
#
# Packages are installed without their recommendations, so everything the
# build, the test suite (scripts/test.sh), the demo and the benchmarks call
# is named here, including what clang only recommends: the compiler-rt
# runtimes (libFuzzer, ASan, UBSan) that -fsanitize=fuzzer links, and
# llvm-symbolizer (llvm), without which a sanitizer report has no function
# names or lines.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-dev llvm
	libssl-dev libevent-dev libunbound-dev nettle-dev libnl-3-dev
	libnl-route-3-dev libldns-dev libcmocka-dev libsystemd-dev libseccomp-dev
	openssl unbound ldnsutils knot-dnsutils bind9 bind9-dnsutils stubby dnsperf
	dbus-daemon dbus-bin libglib2.0-bin network-manager
	dnsmasq-base busybox isc-dhcp-client
	iproute2 tcpdump procps psmisc util-linux python3
	groff-base man-db shellcheck systemd
	debhelper dpkg-dev lintian
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
# resolvectl for the resolve1 test, unpacked, never installed (see there)
fetch_resolvectl() {
	local here out
	here=$(cd "$(dirname "$0")" && pwd)
	if out=$(bash "$here/fetch-resolvectl.sh" 2>&1); then
		echo "deps: resolvectl for the tests: $out"
	else
		echo "deps: no resolvectl for the tests: $out" >&2
	fi
}
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: everything is installed"
	[ "$(id -u)" -ne 0 ] || fetch_resolvectl
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo $0)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Keep Debian's unbound and stubby services from starting: tests and the
# demo start their own instances on loopback addresses.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# NetworkManager is for tests/integration/networkmanager.sh, which runs its
# own in network namespaces: installed here, it must not start at boot and
# take the machine's network over (policy-rc.d kept it from starting now)
case " ${missing[*]} " in
*" network-manager "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable NetworkManager.service NetworkManager-wait-online.service \
			NetworkManager-dispatcher.service >/dev/null 2>&1 || true
	fi
	;;
esac
fetch_resolvectl
echo "deps: done"
