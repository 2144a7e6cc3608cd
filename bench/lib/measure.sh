# shellcheck shell=bash
# bench/lib/measure.sh -- process accounting and one dnsperf run.
# Sourced by bench/run.sh.

# bench_tree PID: PID and every process below it, one per line.  A daemon
# is all of its processes: dotstubd is two (the store process started, the
# network process it forked, which answers the queries).
bench_tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" 2>/dev/null); do
		bench_tree "$c"
	done
}

# bench_cpu_ticks PID: utime + stime of PID and the processes below it
# (all threads), in clock ticks.
bench_cpu_ticks() {
	local p
	# Fields after "PID (comm) " start at field 3 (state): utime is the
	# 14th field overall, stime the 15th.
	for p in $(bench_tree "$1"); do
		sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null || true
	done | awk 'NF { t += $12 + $13 } END { if (NR) print t }'
}

# bench_rss_kb PID: "VmRSS RssAnon Pss" in KiB of PID and the processes
# below it, summed.  RssAnon: the private part (heap, stacks), without the
# pages of shared libraries.  Pss: each shared page divided by the number
# of processes mapping it, so it depends on what else runs (OpenSSL is
# mapped by the upstream and the other stubs); the sum of the processes'
# Pss counts a page they share once, the sum of their VmRSS twice.
bench_rss_kb() {
	local p v ra pss=0 havepss=no
	ra=$(for p in $(bench_tree "$1"); do cat "/proc/$p/status" 2>/dev/null; done |
		awk '$1 == "VmRSS:" { r += $2; n++ } $1 == "RssAnon:" { a += $2 } END { if (n) printf "%s %s", r, a }')
	[ -n "$ra" ] || return 0
	for p in $(bench_tree "$1"); do
		v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
		[ -n "$v" ] && pss=$((pss + v)) havepss=yes
	done
	if [ $havepss = yes ]; then echo "$ra $pss"; else echo "$ra -"; fi
}

# bench_cpu_busy: "busy0 total0 busy1 total1" clock ticks of CPU 0
# (dnsperf's and the upstream's) and CPU 1 (the daemon's), from /proc/stat.
bench_cpu_busy() {
	awk '$1 ~ /^cpu[01]$/ { t = 0; for (i = 2; i <= NF; i++) t += $i; printf "%d %d ", t - $5 - $6, t }
		END { print "" }' /proc/stat
}

bench_now_ns() {
	date +%s%N
}

# bench_dnsperf ADDR FILE CLIENTS OUTSTANDING SECONDS OUT: dnsperf over
# UDP (or, with BENCH_MODE=dot, DNS-over-TLS to port 853: CLIENTS
# connections, each with its handshake at the start of the run, padded
# queries), pinned to
# CPU 0, verbose (one line per answer, with its latency).
# SCHED_BATCH: dnsperf's receiver thread signals the sender before it counts
# the answers it read; when the sender, woken on the same CPU, preempts it,
# it sees the old count, waits again, and both sleep until the receiver's
# 100 ms poll timeout.  Without wakeup preemption the count is right.  This
# made a fast daemon look 30x slower at -c 1 -q 10 (dnsperf 2.10).
bench_dnsperf() {
	local mode=(-p 53)
	# over DoT the queries carry a PADDING option (www.test A padded to
	# 128 octets, RFC 8467), so that both servers pad their answers
	if [ "${BENCH_MODE:-udp}" = dot ]; then
		mode=(-m dot -p 853 -E "12:$(printf '%0174d' 0)")
	fi
	chrt -b 0 taskset -c 0 dnsperf -s "$1" "${mode[@]}" -d "$2" -c "$3" -q "$4" -l "$5" \
		-t 2 -v >"$6" 2>&1
}

# bench_parse OUT: print "qps completed lost noerror p50_ms p99_ms slow"
# from a verbose dnsperf output; the percentiles are over the answered
# queries; slow counts answers that took 30 ms or more (a delayed-ACK stall
# is 40 ms on Linux).
bench_parse() {
	local qps completed lost noerror pct
	qps=$(awk '/Queries per second:/ { print $4 }' "$1")
	completed=$(awk '/Queries completed:/ { print $3 }' "$1")
	lost=$(awk '/Queries lost:/ { print $3 }' "$1")
	noerror=$(awk '/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NOERROR") print $(i + 1) }' "$1")
	pct=$(awk '/^> / { print $NF }' "$1" | sort -g | awk '
		{ v[NR] = $1; if ($1 >= 0.030) slow++ }
		END {
			if (NR == 0) { print "- - 0"; exit }
			i50 = int(NR * 0.50 + 0.5); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99 + 0.5); if (i99 < 1) i99 = 1; if (i99 > NR) i99 = NR
			printf "%.3f %.3f %d\n", v[i50] * 1000, v[i99] * 1000, slow
		}')
	echo "${qps:--} ${completed:-0} ${lost:--} ${noerror:-0} $pct"
}
