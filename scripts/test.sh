#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds dotstub twice
# (normal, and with AddressSanitizer + UndefinedBehaviorSanitizer), runs the
# unit, integration and fuzz-corpus suites on both, runs the demo on the
# normal build, builds the libFuzzer targets with clang and runs each
# briefly.  Any failure or sanitizer report fails the run.  Needs root (network namespaces, port 53/853 on
# loopback addresses).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

bash scripts/deps.sh || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-10}
failed_steps=()
passed=0 failed=0

count() { # meson's test log -> totals
	python3 - "$1" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] in ("OK", "EXPECTEDFAIL"):
        ok += 1
    else:
        # a skip is a check that did not run: this script installed
        # everything, so it counts as a failure
        if t["result"] == "SKIP":
            print("skipped (counted as failed):", t["name"], file=sys.stderr)
        bad += 1
print(ok, bad)
PY
}

run_suite() { # build-dir label [meson setup args...]
	local dir=$1 label=$2
	shift 2
	echo "=== $label: configure and build ($dir)"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || { failed_steps+=("$label: setup"); return; }
	fi
	ninja -C "$dir" || { failed_steps+=("$label: build"); return; }
	echo "=== $label: tests"
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 ||
		failed_steps+=("$label: tests")
	if [ -f "$dir/meson-logs/testlog.json" ]; then
		read -r ok bad < <(count "$dir/meson-logs/testlog.json")
		passed=$((passed + ok)) failed=$((failed + bad))
	fi
}

run_suite build "normal build"

# The README's other command, the demo, on the build just made: it must
# discover, pin, resolve over DANE-authenticated DoT and come back known.
echo "=== demo (scripts/demo.sh)"
demo_log=$(mktemp)
if timeout 300 bash scripts/demo.sh >"$demo_log" 2>&1 &&
	grep -q "trusted" "$demo_log" &&
	grep -q "auth: *DANE, TLSA 3 1 1" "$demo_log" &&
	grep -q "is known: DoT to .* no discovery traffic" "$demo_log"; then
	echo "demo: ok"
	passed=$((passed + 1))
else
	echo "demo: FAILED"; tail -40 "$demo_log"
	failed=$((failed + 1)); failed_steps+=("demo")
fi
rm -f "$demo_log"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite build-asan "ASan+UBSan build" -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug

echo "=== fuzzers: build with clang and run each for ${FUZZ_SECONDS}s"
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=true >/dev/null || failed_steps+=("fuzz: setup")
fi
# shellcheck disable=SC2046 # one word per fuzz target
if ninja -C build-fuzz $(cd build-fuzz 2>/dev/null && ninja -t targets all 2>/dev/null |
	sed -n 's/^\(tests\/fuzz_[a-z0-9_]*\): .*/\1/p'); then
	for f in build-fuzz/tests/fuzz_*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
		name=${f##*/fuzz_}
		corpus=$(mktemp -d)
		cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
		if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=5 "$corpus" >"$corpus.log" 2>&1; then
			echo "fuzz $name: ok ($(grep -c . "$corpus.log") log lines)"
			passed=$((passed + 1))
		else
			echo "fuzz $name: FAILED"; tail -40 "$corpus.log"
			failed=$((failed + 1)); failed_steps+=("fuzz $name")
		fi
		rm -rf "$corpus" "$corpus.log"
	done
else
	failed_steps+=("fuzz: build")
fi

echo
if [ ${#failed_steps[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed_steps[@]}"
fi
echo "$passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ]
