#!/usr/bin/env bash
# Put the real resolvectl of Debian's systemd-resolved package where the
# resolve1 test finds it, without installing the package: installing it
# would take /etc/resolv.conf over and enable systemd-resolved.  The .deb of
# exactly the installed systemd's version (its resolvectl links that
# version's private libsystemd-shared) is fetched with `apt-get download`
# and unpacked with `dpkg-deb -x` into
#   /var/cache/dotstub-test/systemd-resolved/VERSION/
# Nothing else of the system changes.  Needs the network (the test itself
# runs inside a network namespace and cannot fetch it): scripts/deps.sh
# runs this.  Prints the path of resolvectl.
set -euo pipefail

ver=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null) || {
	echo "fetch-resolvectl: the systemd package is not installed" >&2
	exit 1
}
dir=${DOTSTUB_RESOLVECTL_CACHE:-/var/cache/dotstub-test/systemd-resolved}/$ver
bin=$dir/root/usr/bin/resolvectl
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's download user writes here
if ! (cd "$tmp" && apt-get download -q "systemd-resolved=$ver" >"$tmp/apt.log" 2>&1); then
	echo "fetch-resolvectl: cannot download systemd-resolved $ver:" >&2
	tail -3 "$tmp/apt.log" >&2
	exit 1
fi
mkdir -p "$dir"
rm -rf "$dir/root"
dpkg-deb -x "$tmp"/systemd-resolved_*.deb "$dir/root"
[ -x "$bin" ]
echo "$bin"
