#!/bin/sh
# tests/tools/shellcheck.sh -- ShellCheck over every shell script of the project: the
# files under scripts/, tests/, packaging/ and bench/ that are named *.sh,
# start with a #! line naming sh, bash, dash or ash, or carry a
# "# shellcheck shell=..." directive.  Each is checked in its own dialect
# (its #! line or directive), except the OpenWrt files
# (packaging/openwrt/files), which run under BusyBox ash and are checked
# as dash: POSIX sh with "local", nothing of bash.  Sourced files are
# followed (-x).  Every finding fails the test, warnings and notes too; a
# finding that is intended carries a disable directive saying why.
#
# Run through meson test (DOTSTUB_SRC names the source tree).
set -u

SRC=${DOTSTUB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "FAIL - shellcheck is not installed (scripts/deps.sh installs it)"
	exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dotstub-shellcheck.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

cd "$SRC" || exit 1
# one awk over every file (a fork per file is slow on a busy machine)
find scripts tests packaging bench -type f ! -name '*.md' -print0 |
	xargs -0 awk '
	FNR == 1 && FILENAME ~ /\.sh$/ { print FILENAME }
	FNR == 1 && /^#!/ && /[\/ ](ba|da|a)?sh( |$)/ { print FILENAME }
	/^# shellcheck shell=/ { print FILENAME }' | sort -u >"$T/all"
grep '^packaging/openwrt/files/' "$T/all" >"$T/ash"
grep -v '^packaging/openwrt/files/' "$T/all" >"$T/own"

# The files this test exists for must be among them: a selection that
# lost them would pass for a clean run.
missing=
for f in packaging/openwrt/files/dotstub-uci.sh packaging/openwrt/files/dotstub.init \
	packaging/openwrt/files/dotstub.hotplug packaging/dhclient/dotstub \
	packaging/debian/dotstub.postinst packaging/debian/dotstub.postrm \
	scripts/test.sh tests/lib/common.sh tests/lib/openwrt.sh bench/run.sh; do
	grep -qxF "$f" "$T/ash" "$T/own" || missing="$missing $f"
done
if [ -n "$missing" ]; then
	echo "FAIL - not selected:$missing"
	exit 1
fi

status=0
# shellcheck disable=SC2046 # one file name a line, none with blanks
shellcheck -x -f gcc -s dash $(cat "$T/ash") >"$T/out" 2>&1 || status=1
# shellcheck disable=SC2046
shellcheck -x -f gcc $(cat "$T/own") >>"$T/out" 2>&1 || status=1

pass=0
fail=0
while IFS= read -r f; do
	if grep -q "^$f:" "$T/out"; then
		fail=$((fail + 1))
		echo "FAIL - $f"
		grep "^$f:" "$T/out" | sed 's/^/    /'
	else
		pass=$((pass + 1))
		echo "ok - $f"
	fi
done <"$T/all"
# ShellCheck failed without naming a file of the list (a file it could
# not read, a bad directive in a sourced file)
if [ "$status" != 0 ] && [ "$fail" = 0 ]; then
	fail=1
	echo "FAIL - shellcheck exited non-zero:"
	sed 's/^/    /' "$T/out"
fi
echo "$pass passed, $fail failed ($(wc -l <"$T/ash") files as ash, $(wc -l <"$T/own") in their own dialect)"
[ "$fail" = 0 ]
