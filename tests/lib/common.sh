# shellcheck shell=bash
# common.sh -- small helpers for dotstub's shell tests.  Source it.
#
#	. "$DOTSTUB_SRC/tests/lib/common.sh"
#	check "what is being asserted" command args...
#	expect_contains "what" "$haystack" "needle"
#	ds_start NAME [dotstubd options...]   start dotstubd in the background
#	ds_stop NAME
#	ds_netpid NAME                         its network process (privsep.h)
#	ds_pids NAME                           both its processes
#	ds_ctl NAME [dotctl args...]           dotctl against that daemon
#	scenario NAME FUNC [TEARDOWN]          run one scenario (see below)
#	cap_start / cap_stop / cap_expect_*    packet captures (see below)
#	finish                                 print the summary, exit 0/1
#
# Results are kept in a file, so that checks made inside a scenario (a
# subshell) count, and finish lists every failure at the end.

: "${DOTSTUB_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DOTSTUB_BUILD:=$DOTSTUB_SRC/build}"
DOTSTUBD=$DOTSTUB_BUILD/dotstubd
DOTCTL=$DOTSTUB_BUILD/ctl/dotctl

# A scratch directory for the daemons of this test.
: "${T_DIR:=$(mktemp -d /tmp/dotstub-test.XXXXXX)}"
T_RESULTS=$T_DIR/.results
T_SCENARIO=

t_record() { # ok|FAIL what: one line per result, whatever the label holds
	printf '%s %s%s\n' "$1" "${T_SCENARIO:+[$T_SCENARIO] }" "$(printf '%s' "$2" | tr '\n' ' ')" >>"$T_RESULTS"
}
t_ok() { t_record ok "$1"; echo "ok - $1"; }
t_fail() { t_record FAIL "$1"; echo "FAIL - $1"; }

check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then t_ok "$what"; else t_fail "$what"; fi
}

expect_contains() {
	case "$2" in
	*"$3"*) t_ok "$1" ;;
	*) t_fail "$1 (wanted '$3' in: $(printf '%s' "$2" | head -c 600))" ;;
	esac
}

expect_not_contains() {
	case "$2" in
	*"$3"*) t_fail "$1 (did not want '$3' in: $(printf '%s' "$2" | head -c 600))" ;;
	*) t_ok "$1" ;;
	esac
}

expect_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1 (got '$2', wanted '$3')"; fi
}

# ds_start NAME ARGS...: dotstubd in the foreground, in the background, with
# its own control socket and state dir; waits for the control socket.
ds_start() {
	local name=$1
	shift
	mkdir -p "$T_DIR/$name/state"
	# a daemon that dropped to another user cannot remove its socket on
	# exit: a stale one must not pass for the new daemon's
	rm -f "$T_DIR/$name/control"
	# the machine's own systemd-networkd links stay out of the test's
	# network namespaces (a test that wants them says --networkd yes)
	${DS_WRAP:-} "$DOTSTUBD" -f --control "$T_DIR/$name/control" --state-dir "$T_DIR/$name/state" \
		--anchors-dir "$T_DIR/$name/anchors.d" --networkd no "$@" >>"$T_DIR/$name/log" 2>&1 &
	echo $! >"$T_DIR/$name/pid"
	for _ in $(seq 1 100); do
		[ -S "$T_DIR/$name/control" ] && return 0
		kill -0 "$(cat "$T_DIR/$name/pid")" 2>/dev/null || break
		sleep 0.05 # pacing of this poll loop (the socket appearing is the condition)
	done
	echo "dotstubd $name did not start:"
	tail -20 "$T_DIR/$name/log"
	return 1
}

ds_pid() { cat "$T_DIR/$1/pid"; }

# ds_netpid NAME: its network process, the store process's child
# (stub/daemon/privsep.h); nothing if there is none
ds_netpid() {
	local p
	p=$(ds_pid "$1") || return 1
	pgrep -P "$p" | head -1
}

# ds_pids NAME: both of its processes (to stop and continue them all, as a
# suspend does)
ds_pids() {
	ds_pid "$1"
	ds_netpid "$1"
}

# pid_alive PID: running, not a zombie (a daemon started in a scenario's
# subshell is no child of the shell stopping it; until init reaps it, it
# would pass kill -0)
pid_alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# pid_stop PID: SIGTERM, up to 5 s for it to go, then SIGKILL; reaped
pid_stop() {
	kill "$1" 2>/dev/null
	for _ in $(seq 1 100); do
		pid_alive "$1" || break
		sleep 0.05 # pacing of this poll loop (the process gone is the condition)
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

ds_stop() {
	local pid
	pid=$(cat "$T_DIR/$1/pid" 2>/dev/null) || return 0
	pid_stop "$pid"
	rm -f "$T_DIR/$1/pid"
	return 0
}

# ds_stop_ms NAME: stop it (SIGTERM) and print how many ms it took to go
ds_stop_ms() {
	local t0 t1
	t0=$(date +%s%N)
	ds_stop "$1"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

ds_ctl() {
	local name=$1
	shift
	"$DOTCTL" -s "$T_DIR/$name/control" "$@"
}

ds_log() { cat "$T_DIR/$1/log"; }

# ds_json NAME KEY[.KEY...]: one value of the daemon's `status --json`
ds_json() {
	ds_ctl "$1" status --json | python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$2"
}

# ds_log_count NAME TEXT: how many lines of the daemon's log hold TEXT
ds_log_count() { grep -cF -- "$2" "$T_DIR/$1/log" 2>/dev/null; }

# ds_wait_log NAME TEXT N SECONDS: wait until more than N log lines hold TEXT
ds_wait_log() {
	wait_for "$4" sh -c "[ \"\$(grep -cF -- \"\$1\" \"\$2\")\" -gt $3 ]" sh "$2" "$T_DIR/$1/log"
}

# ms_now: the wall clock in milliseconds
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# within SECONDS command...: poll until the command succeeds, for at most
# SECONDS of wall-clock time (wait_for counts polls: use this where each
# try may take a while, e.g. dotctl on a busy machine)
within() {
	local end=$(($(ms_now) + $1 * 1000))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(ms_now)" -ge "$end" ] && return 1
		sleep 0.05 # pacing of this poll loop (the command succeeding is the condition)
	done
}

# wait_for SECONDS command...: poll until the command succeeds
wait_for() {
	local n=$(($1 * 20))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05 # pacing of this poll loop
	done
	return 1
}

ds_stop_all() {
	for p in "$T_DIR"/*/pid; do
		[ -f "$p" ] || continue
		ds_stop "$(basename "$(dirname "$p")")"
	done
}

# ---------------------------------------------------------------- scenarios
# scenario NAME FUNC [TEARDOWN]: run FUNC in a subshell, so that an exit or
# a failed setup ends only this scenario; one that exits non-zero counts as
# a failure under its name.  Afterwards, whatever happened, stop its
# captures and daemons and run TEARDOWN (which stops its servers and
# removes its namespaces).  DOTSTUB_TEST_SCENARIOS="NAME..." runs only
# those.
scenario() {
	local name=$1 func=$2 teardown=${3:-} rc t0
	if [ -n "${DOTSTUB_TEST_SCENARIOS:-}" ]; then
		case " $DOTSTUB_TEST_SCENARIOS " in
		*" $name "*) ;;
		*) return 0 ;;
		esac
	fi
	echo "# ---- $name"
	t0=$(date +%s%N)
	(
		T_SCENARIO=$name
		"$func"
	)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		T_SCENARIO=$name t_fail "scenario $name did not complete (exit $rc)"
	fi
	cap_stop_all
	ds_stop_all
	if [ -n "$teardown" ]; then "$teardown"; fi
	echo "# ---- $name: $((($(date +%s%N) - t0) / 1000000)) ms"
	return 0
}

finish() {
	local pass fail
	pass=$(grep -c '^ok ' "$T_RESULTS")
	fail=$(grep -c '^FAIL ' "$T_RESULTS")
	if [ "$fail" -gt 0 ]; then
		echo "failed:"
		sed -n 's/^FAIL /  /p' "$T_RESULTS"
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
}

# ----------------------------------------------------------------- captures
# The checks that nothing went out in clear text count packets in a
# capture; a capture that did not run, or missed the traffic, must never
# pass for "zero packets".  So:
#   cap_start NAME IFACE [NETNS] [FILTER]
#	tcpdump on IFACE (inside NETNS if given) into $T_DIR/cap.NAME.pcap;
#	returns once tcpdump is listening.  FILTER must let the end probe
#	(UDP to port 9 of the probe address) through.
#   cap_stop NAME PROBE_ADDR [PROBE_NETNS]
#	sends a probe datagram to PROBE_ADDR port 9 (from PROBE_NETNS, by
#	default the capture's namespace) and waits until the capture holds
#	it: everything sent before it is in the file.  Then stops tcpdump.
#   cap_count NAME FILTER      packets matching FILTER, or a reason why
#				there is no number ("no capture", ...)
#   cap_expect_seen LABEL NAME FILTER     check: more than 0 such packets
#   cap_expect_none LABEL NAME FILTER     check: exactly 0 such packets
#   cap_expect_absent LABEL NAME TEXT     check: no packet holds TEXT
# A check that asserts zero comes after a cap_expect_seen on the same
# capture, proving it saw the traffic it watches.
# DOTSTUB_TEST_BREAK_CAPTURE=1 makes cap_start not start tcpdump, to show
# that these checks then fail.
cap_start() {
	local f=$T_DIR/cap.$1 ifc=$2 ns=${3:-} filter=${4:-}
	local cmd=(tcpdump -i "$ifc" -n -U --immediate-mode -Z root -w "$f.pcap")
	rm -f "$f".*
	echo "$ns" >"$f.ns"
	if [ -n "${DOTSTUB_TEST_BREAK_CAPTURE:-}" ]; then
		echo "# capture $1: not started (DOTSTUB_TEST_BREAK_CAPTURE)"
		return 1
	fi
	if [ -n "$filter" ]; then cmd+=("$filter"); fi
	if [ -n "$ns" ]; then cmd=(ip netns exec "$ns" "${cmd[@]}"); fi
	"${cmd[@]}" >/dev/null 2>"$f.err" &
	echo $! >"$f.pid"
	if ! wait_for 5 grep -q "listening on" "$f.err"; then
		echo "# capture $1 on $ifc${ns:+ in $ns} did not start: $(cat "$f.err")"
		cap__kill "$1"
		rm -f "$f.pcap"
		return 1
	fi
}

cap__kill() {
	local f=$T_DIR/cap.$1 pid
	pid=$(cat "$f.pid" 2>/dev/null) || return 0
	rm -f "$f.pid"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cap_stop() {
	local f=$T_DIR/cap.$1 addr=$2 ns n=0
	ns=${3:-$(cat "$f.ns" 2>/dev/null)}
	[ -f "$f.pid" ] || return 1
	while :; do
		# shellcheck disable=SC2016 # $0 is expanded by the inner bash
		${ns:+ip netns exec "$ns"} bash -c 'printf dotstub-capture-probe >"/dev/udp/$0/9"' "$addr" 2>/dev/null
		if tcpdump -r "$f.pcap" -n "udp dst port 9 and dst host $addr" 2>/dev/null | grep -q .; then
			break
		fi
		n=$((n + 1))
		if [ "$n" -ge 50 ]; then
			echo "# capture $1: the end probe to $addr never showed up"
			touch "$f.incomplete"
			break
		fi
		sleep 0.1 # pacing: the probe appearing in the capture is the condition
	done
	cap__kill "$1"
}

cap_stop_all() {
	local p
	for p in "$T_DIR"/cap.*.pid; do
		[ -f "$p" ] || continue
		p=${p##*/cap.}
		cap__kill "${p%.pid}"
	done
}

cap_count() {
	local f=$T_DIR/cap.$1 out
	if [ ! -s "$f.pcap" ]; then echo "no capture"; return; fi
	if [ -f "$f.pid" ]; then echo "capture not stopped"; return; fi
	if [ -f "$f.incomplete" ]; then echo "incomplete capture"; return; fi
	if ! out=$(tcpdump -r "$f.pcap" -n "$2" 2>/dev/null); then echo "unreadable capture"; return; fi
	if [ -z "$out" ]; then echo 0; else printf '%s\n' "$out" | wc -l; fi
}

cap_expect_seen() {
	local n
	n=$(cap_count "$2" "$3")
	case $n in
	0) t_fail "$1 (no packet matching '$3': the capture missed the traffic)" ;;
	*[!0-9]*) t_fail "$1 ($n)" ;;
	*) t_ok "$1 ($n packets)" ;;
	esac
}

cap_expect_none() {
	expect_eq "$1" "$(cap_count "$2" "$3")" 0
}

cap_expect_absent() {
	local n text
	n=$(cap_count "$2" "")
	case $n in
	*[!0-9]*) t_fail "$1 ($n)"; return ;;
	esac
	text=$(tcpdump -r "$T_DIR/cap.$2.pcap" -n -A 2>/dev/null)
	expect_not_contains "$1" "$text" "$3"
}
