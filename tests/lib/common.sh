# common.sh -- small helpers for dotstub's shell tests.  Source it.
#
#	. "$DOTSTUB_SRC/tests/lib/common.sh"
#	check "what is being asserted" command args...
#	expect_contains "what" "$haystack" "needle"
#	ds_start NAME [dotstubd options...]   start dotstubd in the background
#	ds_stop NAME
#	ds_ctl NAME [dotctl args...]           dotctl against that daemon
#	finish                                 print the summary, exit 0/1

: "${DOTSTUB_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DOTSTUB_BUILD:=$DOTSTUB_SRC/build}"
DOTSTUBD=$DOTSTUB_BUILD/dotstubd
DOTCTL=$DOTSTUB_BUILD/ctl/dotctl

T_PASS=0
T_FAIL=0

t_ok() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1"; }

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

# A scratch directory for the daemons of this test.
: "${T_DIR:=$(mktemp -d /tmp/dotstub-test.XXXXXX)}"

# ds_start NAME ARGS...: dotstubd in the foreground, in the background, with
# its own control socket and state dir; waits for the control socket.
ds_start() {
	local name=$1
	shift
	mkdir -p "$T_DIR/$name/state"
	${DS_WRAP:-} "$DOTSTUBD" -f --control "$T_DIR/$name/control" --state-dir "$T_DIR/$name/state" \
		--anchors-dir "$T_DIR/$name/anchors.d" "$@" >>"$T_DIR/$name/log" 2>&1 &
	echo $! >"$T_DIR/$name/pid"
	for _ in $(seq 1 100); do
		[ -S "$T_DIR/$name/control" ] && return 0
		kill -0 "$(cat "$T_DIR/$name/pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "dotstubd $name did not start:"
	tail -20 "$T_DIR/$name/log"
	return 1
}

ds_pid() { cat "$T_DIR/$1/pid"; }

ds_stop() {
	local pid
	pid=$(cat "$T_DIR/$1/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T_DIR/$1/pid"
	return 0
}

ds_ctl() {
	local name=$1
	shift
	"$DOTCTL" -s "$T_DIR/$name/control" "$@"
}

ds_log() { cat "$T_DIR/$1/log"; }

# wait_for SECONDS command...: poll until the command succeeds
wait_for() {
	local n=$(($1 * 20))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

ds_stop_all() {
	for p in "$T_DIR"/*/pid; do
		[ -f "$p" ] || continue
		ds_stop "$(basename "$(dirname "$p")")"
	done
}

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# cap_start NAME FILTER: capture what crosses loopback matching FILTER into
# $T_DIR/NAME.pcap, from the moment this returns until cap_count NAME.
cap_start() {
	tcpdump -i lo -n -U -w "$T_DIR/$1.pcap" "$2" >/dev/null 2>"$T_DIR/$1.cap.err" &
	CAP_PID=$!
	wait_for 5 grep -q "listening on" "$T_DIR/$1.cap.err"
}

# cap_count NAME: stop the capture started by cap_start; print the number
# of packets it saw, or "no capture" if tcpdump wrote none (so that a
# capture that never ran cannot pass for zero packets).
cap_count() {
	sleep 0.5
	kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	if tcpdump -r "$T_DIR/$1.pcap" >"$T_DIR/$1.cap.txt" 2>/dev/null; then
		wc -l <"$T_DIR/$1.cap.txt"
	else
		echo "no capture"
	fi
}
