#!/bin/sh
# store_crash.sh STORE_WRITER -- kill -9 a process that keeps saving the
# anchor store, at varying moments, again and again.  After every kill the
# store must parse, hold every pin the writer reported saved, not have been
# quarantined, and not collect temporary files.
set -eu

writer=${1:?usage: store_crash.sh STORE_WRITER}
rounds=${STORE_CRASH_ROUNDS:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/store_crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dir=$tmp/state
mkdir "$dir"

fail() {
	echo "store_crash: $*" >&2
	exit 1
}

saved=0
i=0
while [ "$i" -lt "$rounds" ]; do
	"$writer" write "$dir" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	# 10..190 ms: early rounds die while the file is small, later ones
	# while it is large, at every phase of a save
	sleep "0.$(( (i * 7) % 19 + 1 ))" # the moment of the kill is what is tested
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -s "$tmp/err" ]; then
		cat "$tmp/err" >&2
		fail "round $i: the writer failed"
	fi
	last=$(sed -n 's/^saved //p' "$tmp/out" | tail -n 1)
	if [ -n "$last" ]; then
		[ "$last" -ge "$saved" ] || fail "round $i: saved count went back ($last < $saved)"
		saved=$last
	fi
	"$writer" verify "$dir" "$saved" >"$tmp/verify" 2>&1 ||
		{ cat "$tmp/verify" >&2; fail "round $i: store broken after kill -9"; }
	if find "$dir" -mindepth 1 -maxdepth 1 -name '*corrupt*' | grep -q .; then
		fail "round $i: the store was quarantined"
	fi
	temps=$(find "$dir" -mindepth 1 -maxdepth 1 -name '.anchors.tmp-*' | grep -c . || true)
	[ "$temps" -le 1 ] || fail "round $i: $temps temporary files left"
	i=$((i + 1))
done
[ "$saved" -gt 0 ] || fail "the writer never saved"
echo "store_crash: $rounds kills, $(cat "$tmp/verify")"
