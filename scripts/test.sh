#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds dotstub twice
# (normal, and with AddressSanitizer + UndefinedBehaviorSanitizer), runs the
# unit, integration and fuzz-corpus suites on both, runs the demo on the
# normal build, builds the libFuzzer targets with clang and runs each
# briefly, and cross-builds for mipsel (twice: as the OpenWrt packages
# dotstub and dotstub-basic are built) and s390x, running the unit and
# fuzz-corpus suites under qemu-user (scripts/cross.sh).  Any failure or
# sanitizer report fails the run.  Needs root (network namespaces, port
# 53/853 on loopback addresses).
#
# The closing line "N passed, N failed" counts every test of both builds,
# the demo, each fuzz target and both cross builds, and every step that
# failed before its tests could run (installing, meson setup, ninja, the
# fuzz build, a fuzz target that was not built, a cross build): each such
# step counts 1 failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# The suite runs the distribution's programs, the ones scripts/deps.sh
# installs: the system directories come before whatever a user's PATH puts
# ahead of them (a python3 version manager's shim costs most of a second
# a call, and the tests call python3 hundreds of times).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}

# each libFuzzer target runs this long (a smoke run: the targets are
# coverage-guided; run them longer by hand, e.g. FUZZ_SECONDS=600)
FUZZ_SECONDS=${FUZZ_SECONDS:-6}
failed_steps=()
passed=0 failed=0

# step_failed WHAT: a step failed; it is listed and counted.
step_failed() {
	failed_steps+=("$1")
	failed=$((failed + 1))
}

summary() {
	echo
	if [ ${#failed_steps[@]} -gt 0 ]; then
		printf 'FAILED: %s\n' "${failed_steps[@]}"
	fi
	echo "$passed passed, $failed failed"
}

if ! bash scripts/deps.sh; then
	step_failed "deps: installing the packages"
	summary
	exit 1
fi

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
	local dir=$1 label=$2 rc ok bad
	shift 2
	echo "=== $label: configure and build ($dir)"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || { step_failed "$label: meson setup"; return; }
	fi
	ninja -C "$dir" || { step_failed "$label: build"; return; }
	echo "=== $label: tests"
	# No log of an earlier run may stand in for this one.
	rm -f "$dir/meson-logs/testlog.json"
	# Three at a time on two cores: an integration test spends most of
	# its time waiting on timers, sockets and the servers it started, and
	# each runs in network namespaces of its own (tests/lib/isolated.sh).
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 3 "${test_args[@]}"
	rc=$?
	if [ ! -f "$dir/meson-logs/testlog.json" ]; then
		step_failed "$label: meson test (no test log)"
		return
	fi
	if ! read -r ok bad < <(count "$dir/meson-logs/testlog.json"); then
		step_failed "$label: meson test (test log unreadable)"
		return
	fi
	passed=$((passed + ok)) failed=$((failed + bad))
	if [ "$bad" -gt 0 ]; then
		failed_steps+=("$label: $bad tests")
	elif [ "$rc" -ne 0 ]; then
		step_failed "$label: meson test (exit $rc, no failed test)"
	fi
}

# The sanitizer and fuzzer trees are compiled at the lowest CPU priority
# while the normal build's tests run: those mostly wait on timers and
# sockets, so the compile fills idle time instead of adding to the run
# (about 3 minutes on 2 cores).  Each step below still runs its own ninja
# (a no-op once the prebuild finished; a failure is reported there).
asan_setup=('-Db_sanitize=address,undefined' -Db_lundef=false -Dbuildtype=debug)
fuzz_setup=(-Dfuzz=true '-Db_sanitize=address,undefined' -Db_lundef=false -Dtests=true)
fuzz_names=()
for src in tests/fuzz/fuzz_*.c; do
	n=${src##*/fuzz_}
	fuzz_names+=("${n%.c}")
done
prebuild_log=$(mktemp)
(
	{ [ -f build-asan/build.ninja ] || meson setup build-asan "${asan_setup[@]}"; } &&
		nice -n 19 ninja -C build-asan
	{ [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz "${fuzz_setup[@]}"; } &&
		nice -n 19 ninja -C build-fuzz "${fuzz_names[@]/#/tests/fuzz_}"
) >"$prebuild_log" 2>&1 &
prebuild_pid=$!

test_args=()
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
	step_failed "demo"
fi
rm -f "$demo_log"

# The cross builds (installing, sysroots, compiling) likewise fill the
# ASan pass's idle time, at the lowest priority; the cross step at the end
# runs their tests and builds again whatever this did not finish.
cross_groups=("mipsel mipsel-basic" s390x)
read -ra cross_archs <<<"${cross_groups[*]}"
cross_prebuild_log=$(mktemp)
nice -n 19 bash scripts/cross.sh --build-only "${cross_archs[@]}" >"$cross_prebuild_log" 2>&1 &
cross_prebuild_pid=$!

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# ShellCheck, the call graph, the policy mutants and the packages read the
# sources, not this build: the normal pass ran them (tests/meson.build,
# suite 'once')
test_args=(--no-suite lint --no-suite once)
wait "$prebuild_pid" # its result does not count: the steps build again
rm -f "$prebuild_log"
run_suite build-asan "ASan+UBSan build" "${asan_setup[@]}"

echo "=== fuzzers: build with clang and run each for ${FUZZ_SECONDS}s"
# One target per tests/fuzz/fuzz_NAME.c; each must be built and must run.
fuzz_built=no
if [ ! -f build-fuzz/build.ninja ] &&
	! CC=clang meson setup build-fuzz "${fuzz_setup[@]}" >/dev/null; then
	step_failed "fuzz: meson setup"
elif ninja -C build-fuzz "${fuzz_names[@]/#/tests/fuzz_}"; then
	fuzz_built=yes
else
	step_failed "fuzz: build"
fi
# fuzz_one NAME: one target's smoke run from a copy of its corpus; its
# output in build-fuzz/fuzz-NAME.log, its status the run's
fuzz_one() {
	local f=build-fuzz/tests/fuzz_$1 corpus rc
	corpus=$(mktemp -d)
	cp tests/fuzz/corpus/"$1"/* "$corpus"/ 2>/dev/null
	"$f" -max_total_time="$FUZZ_SECONDS" -timeout=5 "$corpus" >"build-fuzz/fuzz-$1.log" 2>&1
	rc=$?
	rm -rf "$corpus"
	return $rc
}
# fuzz_result NAME PID: wait for a smoke run and count it
fuzz_result() {
	if wait "$2"; then
		echo "fuzz $1: ok ($(grep -c . "build-fuzz/fuzz-$1.log") log lines)"
		passed=$((passed + 1))
	else
		echo "fuzz $1: FAILED"; tail -40 "build-fuzz/fuzz-$1.log"
		step_failed "fuzz $1"
	fi
}
if [ $fuzz_built = yes ]; then
	# two at a time: one per core, as each runs on one
	fuzz_pending=()
	for name in "${fuzz_names[@]}"; do
		f=build-fuzz/tests/fuzz_$name
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then
			step_failed "fuzz $name: not built"
			continue
		fi
		fuzz_one "$name" &
		fuzz_pending+=("$name:$!")
		if [ ${#fuzz_pending[@]} -eq 2 ]; then
			for p in "${fuzz_pending[@]}"; do
				fuzz_result "${p%%:*}" "${p##*:}"
			done
			fuzz_pending=()
		fi
	done
	for p in "${fuzz_pending[@]}"; do
		fuzz_result "${p%%:*}" "${p##*:}"
	done
fi

# Portability (scripts/cross.sh): cross-built at -Os for mipsel (a router
# CPU: 32-bit, little-endian, traps unaligned loads) as the OpenWrt
# packages dotstub and dotstub-basic are built, and s390x (64-bit,
# big-endian), each running its unit tests and fuzz corpora under
# qemu-user; every test counts, and a step that failed before its tests
# could run (installing, the sysroot, meson setup, the build) or after
# them (dotstub-basic over its size budget) counts 1 failed.
#
# Each cross suite's wall time is its policy test under qemu, on one core:
# the groups run side by side, the archs of a group one after the other
# (mipsel-basic uses mipsel's sysroot).  Each arch's output is shown when
# all are done, in order.
wait "$cross_prebuild_pid" # its result does not count: cross.sh builds again
rm -f "$cross_prebuild_log"
cross_out=$(mktemp -d)
cross_pids=()
for group in "${cross_groups[@]}"; do
	(
		# shellcheck disable=SC2086 # a group is a list of archs
		for arch in $group; do
			# no log of an earlier run may stand in for this one
			rm -f "build-cross-$arch/meson-logs/testlog.json"
			bash scripts/cross.sh "$arch" >"$cross_out/$arch.log" 2>&1
			echo $? >"$cross_out/$arch.rc"
		done
	) &
	cross_pids+=($!)
done
wait "${cross_pids[@]}"
for arch in "${cross_archs[@]}"; do
	dir=build-cross-$arch
	cat "$cross_out/$arch.log"
	rc=$(cat "$cross_out/$arch.rc" 2>/dev/null || echo 1)
	if [ ! -f "$dir/meson-logs/testlog.json" ]; then
		step_failed "cross $arch: install, configure or build"
		continue
	fi
	if ! read -r ok bad < <(count "$dir/meson-logs/testlog.json"); then
		step_failed "cross $arch: meson test (test log unreadable)"
		continue
	fi
	passed=$((passed + ok)) failed=$((failed + bad))
	if [ "$bad" -gt 0 ]; then
		failed_steps+=("cross $arch: $bad tests")
	elif [ "$rc" -ne 0 ]; then
		step_failed "cross $arch: exit $rc, no failed test"
	fi
done
rm -rf "$cross_out"

summary
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ]
