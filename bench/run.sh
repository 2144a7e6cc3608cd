#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/run.sh -- dotstubd against Stubby and Unbound-as-forwarder: the same
# DoT upstream (a real Unbound on loopback), the same dnsperf load, numbers
# side by side.  See bench/README.md for what is measured and how to read it.
#
# Usage: bench/run.sh [-l SECONDS] [-o FILE] [-d LIST] [-r N]
#                     [--dotstubd PATH] [--net A.B.C] [--names N]
# Loopback only; stops by itself; removes its processes and temp dir on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)

usage() {
	cat <<'EOF'
usage: bench/run.sh [options]
  -l, --seconds N     length of each measured run (default $BENCH_SECONDS or 10)
  -o, --output FILE   also write the table to FILE (default: stdout only)
  -d, --daemons LIST  comma-separated subset of dotstubd,stubby,unbound,floor
                      (default: all four; dotstubd is skipped, with a note,
                      if its binary is missing; floor is bench/floor.c, the
                      cost of the I/O alone, built here with cc)
      --dotstubd PATH the daemon to test (default $DOTSTUBD, else
                      build-bench/dotstubd in this tree)
      --net A.B.C     loopback /24 to use (default 127.0.77): .1 upstream,
                      .2 dotstubd, .3 stubby, .4 unbound, .5 floor
      --names N       distinct TTL-0 names of the forwarded workload (10000)
      --upstream-cpu C  0 (default): the upstream shares CPU 0 with dnsperf;
                      1: it shares CPU 1 with the daemon under test, so that
                      qps measures the daemon's CPU cost, not the load side
  -r, --repeat N      run every measurement N times (interleaved) and keep
                      the best (highest qps) of each; for busy machines (1)
  -h, --help          this text
Needs root (port 53 and 853), unbound, stubby, dnsperf, kdig, openssl,
taskset and 2 CPUs: dnsperf and the upstream run on CPU 0, the daemon
under test on CPU 1.
EOF
}

BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_OUTPUT=
BENCH_DAEMONS=dotstubd,stubby,unbound,floor
BENCH_DOTSTUBD=${DOTSTUBD:-$BENCH_ROOT/build-bench/dotstubd}
[ -n "${DOTSTUBD:-}" ] || [ -x "$BENCH_DOTSTUBD" ] || [ ! -x "$BENCH_ROOT/build-bench/stub/dotstubd" ] ||
	BENCH_DOTSTUBD=$BENCH_ROOT/build-bench/stub/dotstubd
BENCH_NET=127.0.77
BENCH_FW_NAMES=10000
BENCH_WARMUP=1
BENCH_REPEAT=1
BENCH_UP_NAME=upstream.bench.example
BENCH_UP_CPU=0

while [ $# -gt 0 ]; do
	case $1 in
	-l | --seconds) BENCH_SECONDS=$2; shift 2 ;;
	-o | --output) BENCH_OUTPUT=$2; shift 2 ;;
	-d | --daemons) BENCH_DAEMONS=$2; shift 2 ;;
	--dotstubd) BENCH_DOTSTUBD=$2; shift 2 ;;
	--net) BENCH_NET=$2; shift 2 ;;
	--names) BENCH_FW_NAMES=$2; shift 2 ;;
	--upstream-cpu) BENCH_UP_CPU=$2; shift 2 ;;
	-r | --repeat) BENCH_REPEAT=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

bench_note() {
	echo "bench: $*" >&2
}

case $BENCH_SECONDS in '' | *[!0-9]*) bench_die "--seconds wants a whole number" ;; esac
if [ "$BENCH_SECONDS" -lt 1 ] || [ "$BENCH_SECONDS" -gt 120 ]; then bench_die "--seconds: 1..120"; fi
case $BENCH_FW_NAMES in '' | *[!0-9]*) bench_die "--names wants a number" ;; esac
case $BENCH_REPEAT in '' | *[!0-9]*) bench_die "--repeat wants a number" ;; esac
if [ "$BENCH_REPEAT" -lt 1 ] || [ "$BENCH_REPEAT" -gt 10 ]; then bench_die "--repeat: 1..10"; fi
if [ "$BENCH_FW_NAMES" -lt 1 ] || [ "$BENCH_FW_NAMES" -gt 99999 ]; then bench_die "--names: 1..99999"; fi
case $BENCH_NET in 127.*.*) ;; *) bench_die "--net must be inside 127.0.0.0/8" ;; esac
case $BENCH_UP_CPU in 0 | 1) ;; *) bench_die "--upstream-cpu: 0 or 1" ;; esac
# Relative to where the user stands, before we cd into the temp dir.
if [ -n "$BENCH_OUTPUT" ]; then
	case $BENCH_OUTPUT in /*) ;; *) BENCH_OUTPUT=$PWD/$BENCH_OUTPUT ;; esac
	: >"$BENCH_OUTPUT" || bench_die "cannot write $BENCH_OUTPUT"
fi
case $BENCH_DOTSTUBD in */*) ;; *) BENCH_DOTSTUBD=$(command -v "$BENCH_DOTSTUBD" || echo "$BENCH_DOTSTUBD") ;; esac
case $BENCH_DOTSTUBD in /*) ;; *) BENCH_DOTSTUBD=$PWD/$BENCH_DOTSTUBD ;; esac

for tool in unbound unbound-control unbound-checkconf stubby dnsperf kdig openssl taskset chrt; do
	command -v "$tool" >/dev/null || bench_die "$tool not found (Debian: unbound stubby dnsperf knot-dnsutils openssl util-linux)"
done
[ "$(id -u)" -eq 0 ] || bench_note "not root: binding port 53/853 will probably fail"
[ "$(nproc)" -ge 2 ] || bench_die "needs 2 CPUs (dnsperf on CPU 0, the daemon on CPU 1)"

# --- processes and the temp dir, cleaned up whatever happens ---------------
BENCH_PIDS=()
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dotstub-bench.XXXXXX")

bench_cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BENCH_PIDS[@]}"; do
		bench_reap "$pid"
	done
	if declare -F bench_up_stop >/dev/null; then
		bench_up_stop || true
	fi
	cd / && rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_reap PID: wait (at most 5 s) for PID to exit, then kill it.
bench_reap() {
	local _
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# bench_spawn VAR NAME CMD...: start CMD in the background, output to
# NAME.out, its pid in VAR and in the cleanup list.
bench_spawn() {
	local var=$1 name=$2
	shift 2
	"$@" >"$name.out" 2>&1 </dev/null &
	BENCH_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

bench_stop() {
	kill -TERM "$1" 2>/dev/null || true
	bench_reap "$1"
}

cd "$BENCH_TMP"
# shellcheck source=lib/upstream.sh
. "$BENCH_DIR/lib/upstream.sh"
# shellcheck source=lib/daemons.sh
. "$BENCH_DIR/lib/daemons.sh"
# shellcheck source=lib/measure.sh
. "$BENCH_DIR/lib/measure.sh"
# shellcheck source=lib/report.sh
. "$BENCH_DIR/lib/report.sh"

BENCH_UP_ADDR=$BENCH_NET.1
declare -A BENCH_ADDR=([dotstubd]=$BENCH_NET.2 [stubby]=$BENCH_NET.3 [unbound]=$BENCH_NET.4 [floor]=$BENCH_NET.5)
declare -A BENCH_DIDX=([dotstubd]=1 [stubby]=2 [unbound]=3 [floor]=4)

# Workloads: name, dnsperf input, clients, outstanding, transport.  The
# DoT ones ask the daemons' DNS-over-TLS servers (dotstubd's serve-dot,
# Unbound's tls-port) on port 853; Stubby and the floor have none.
# The q1 rows are closed loops: one query at a time, each sent when the
# last was answered, the cross-check on a stub that answers in bursts.
BENCH_WORKLOADS=(
	"cache-hit c1 q1|hit.txt|1|1|udp"
	"cache-hit c1 q10|hit.txt|1|10|udp"
	"cache-hit c10 q100|hit.txt|10|100|udp"
	"forwarded c1 q1|fw.txt|1|1|udp"
	"forwarded c1 q10|fw.txt|1|10|udp"
	"forwarded c10 q100|fw.txt|10|100|udp"
	"dot hit c1 q10|hit.txt|1|10|dot"
	"dot hit c10 q100|hit.txt|10|100|dot"
	"dot hit c50 q500|hit.txt|50|500|dot"
)
# the daemons with a DoT server
declare -A BENCH_DOT=([dotstubd]=1 [unbound]=1)

IFS=, read -r -a BENCH_LIST <<<"$BENCH_DAEMONS"
for d in "${BENCH_LIST[@]}"; do
	[ -n "${BENCH_ADDR[$d]:-}" ] || bench_die "unknown daemon '$d' (dotstubd, stubby, unbound, floor)"
done

bench_note "temp dir in ${TMPDIR:-/tmp}; ${BENCH_REPEAT} x ${#BENCH_LIST[@]} daemon(s) x ${#BENCH_WORKLOADS[@]} workloads x (${BENCH_WARMUP} s warm-up + ${BENCH_SECONDS} s)"
bench_up_start
bench_note "upstream Unbound on $BENCH_UP_ADDR@853 (CPU $BENCH_UP_CPU), TLSA 3 1 1 $BENCH_UP_SPKI_HEX"

: >rows.txt
: >rss.txt
: >notes.txt
: >versions.txt
bench_version_unbound | sed 's/^/upstream: /' >>versions.txt

# Start every daemon first (each on its own address, all on CPU 1; an idle
# one costs nothing), then run each workload against each daemon in turn, so
# that a change in the machine's other load hits all of them alike.
declare -A BENCH_DPID=()
BENCH_RUN=()
for d in "${BENCH_LIST[@]}"; do
	addr=${BENCH_ADDR[$d]}
	if [ "$d" = dotstubd ] && [ ! -x "$BENCH_DOTSTUBD" ]; then
		bench_note "dotstubd: no binary (build it: ninja -C build-bench dotstubd), skipped"
		echo "dotstubd: not built, numbers pending" >>notes.txt
		continue
	fi
	echo "$d: $(bench_version_"$d")" >>versions.txt
	bench_note "$d on $addr:53 (CPU 1)"
	BENCH_PID=
	if ! bench_start_"$d" "$addr"; then
		echo "$d: did not start or did not answer; last log lines:" >>notes.txt
		tail -n 5 "$d.out" 2>/dev/null | sed 's/^/    /' >>notes.txt
		[ -n "$BENCH_PID" ] && bench_stop "$BENCH_PID"
		continue
	fi
	BENCH_DPID[$d]=$BENCH_PID
	BENCH_RUN+=("$d")
done
sleep 1
declare -A BENCH_RSS_IDLE=()
for d in "${BENCH_RUN[@]}"; do
	BENCH_RSS_IDLE[$d]=$(bench_rss_kb "${BENCH_DPID[$d]}")
done

for rep in $(seq 1 "$BENCH_REPEAT"); do
	wi=0
	for w in "${BENCH_WORKLOADS[@]}"; do
		wi=$((wi + 1))
		IFS='|' read -r wname wfile wc wq wmode <<<"$w"
		for d in "${BENCH_RUN[@]}"; do
			addr=${BENCH_ADDR[$d]}
			pid=${BENCH_DPID[$d]}
			kill -0 "$pid" 2>/dev/null || continue
			[ "$wmode" = udp ] || [ -n "${BENCH_DOT[$d]:-}" ] || continue
			BENCH_MODE=$wmode
			bench_note "$wname: $d (round $rep of $BENCH_REPEAT)"
			bench_dnsperf "$addr" "$wfile" "$wc" "$wq" "$BENCH_WARMUP" warmup.out || true
			up0=$(bench_up_queries)
			dcpu0=$(bench_cpu_ticks "$pid")
			read -r c0b0 c0t0 c1b0 c1t0 <<<"$(bench_cpu_busy)"
			t0=$(bench_now_ns)
			bench_dnsperf "$addr" "$wfile" "$wc" "$wq" "$BENCH_SECONDS" run.out || true
			t1=$(bench_now_ns)
			dcpu1=$(bench_cpu_ticks "$pid")
			read -r c0b1 c0t1 c1b1 c1t1 <<<"$(bench_cpu_busy)"
			up1=$(bench_up_queries)
			up0=${up0:-0} up1=${up1:-0}
			if [ -z "$dcpu1" ]; then
				echo "$d: exited during '$wname'" >>notes.txt
				continue
			fi
			read -r qps completed lost noerror p50 p99 slow <<<"$(bench_parse run.out)"
			# wi di workload daemon qps p50 p99 lost completed noerror cpu_ticks
			# wall_ns upstream_queries slow cpu0_busy cpu0_total cpu1_busy cpu1_total
			echo "$wi ${BENCH_DIDX[$d]} ${wname// /_} $d $qps $p50 $p99 $lost $completed $noerror" \
				"$((dcpu1 - dcpu0)) $((t1 - t0)) $((up1 - up0)) $slow $((c0b1 - c0b0)) $((c0t1 - c0t0))" \
				"$((c1b1 - c1b0)) $((c1t1 - c1t0))" >>rows.txt
			rm -f run.out warmup.out
		done
	done
done

for d in "${BENCH_RUN[@]}"; do
	pid=${BENCH_DPID[$d]}
	rss_after=$(bench_rss_kb "$pid")
	if declare -F "bench_counters_$d" >/dev/null; then
		c=$(bench_counters_"$d" || true)
		[ -n "$c" ] && echo "$d counters: $c" >>notes.txt
	fi
	read -r ri ai pi <<<"${BENCH_RSS_IDLE[$d]:-- - -}"
	read -r ra aa pa <<<"${rss_after:-- - -}"
	echo "$d $ri $ra $ai $aa ${pi:--} ${pa:--}" >>rss.txt
	bench_stop "$pid"
done

bench_report | if [ -n "$BENCH_OUTPUT" ]; then tee "$BENCH_OUTPUT"; else cat; fi
