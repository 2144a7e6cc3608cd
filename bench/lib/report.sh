# shellcheck shell=bash
# bench/lib/report.sh -- the plain-text table, from rows.txt, rss.txt,
# versions.txt and notes.txt in the current directory.  Sourced by run.sh.
# Prints no path of this machine: addresses, versions and numbers only.

bench_report() {
	local hz
	hz=$(getconf CLK_TCK)
	# With --repeat, keep each (workload, daemon)'s best run: other load on
	# the machine only ever makes a run slower.
	sort -k1,1n -k2,2n -k5,5gr rows.txt | awk '!seen[$1, $2]++' >best.txt
	mv best.txt rows.txt
	echo "dotstub benchmark: ${BENCH_SECONDS} s per run after ${BENCH_WARMUP} s warm-up; dnsperf over UDP,"
	echo "and over DoT to the DoT servers of dotstubd (serve-dot) and Unbound (tls-port) in the dot rows"
	if [ "$BENCH_REPEAT" -gt 1 ]; then
		echo "each row: the best (highest qps) of $BENCH_REPEAT interleaved runs"
	fi
	if [ "$BENCH_UP_CPU" = 1 ]; then
		echo "CPU 0: dnsperf; CPU 1: the daemon under test + upstream Unbound (DoT, TLS 1.3, P-256)"
	else
		echo "CPU 0: dnsperf + upstream Unbound (DoT, TLS 1.3, P-256); CPU 1: the daemon under test"
	fi
	echo "host: $(uname -sr), $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	sed 's/^/  /' versions.txt
	echo
	sort -k1,1n -k2,2n rows.txt | awk -v hz="$hz" '
		BEGIN {
			printf "%-19s %-9s %7s %7s %7s %6s %6s %4s %5s %8s %5s %5s\n",
				"workload", "daemon", "qps", "p50 ms", "p99 ms", ">=30ms", "lost", "err",
				"cpu%", "cpu us/q", "up/q", "cpu0%"
		}
		{
			w = $3; gsub("_", " ", w)
			if (w != last && NR > 1) print ""
			last = w
			cpu = $11 / hz; wall = $12 / 1e9
			cpupct = wall > 0 ? 100 * cpu / wall : 0
			usq = $9 > 0 ? 1e6 * cpu / $9 : 0
			upq = $9 > 0 ? $13 / $9 : 0
			err = $9 - $10
			c0 = $16 > 0 ? 100 * $15 / $16 : 0
			printf "%-19s %-9s %7.0f %7s %7s %6d %6s %4d %5.1f %8.1f %5.2f %5.0f\n",
				w, $4, $5, $6, $7, $14, $8, err, cpupct, usq, upq, c0
		}'
	echo
	printf "%-19s %-9s %8s %8s %10s %10s %8s %8s\n" "memory (MiB)" "daemon" "RSS idle" "after" "anon idle" "anon after" \
		"PSS idle" "after"
	awk '{ printf "%-19s %-9s %8.1f %8.1f %10.1f %10.1f %8.1f %8.1f\n", "", $1, $2 / 1024, $3 / 1024, $4 / 1024, $5 / 1024, $6 / 1024, $7 / 1024 }' rss.txt
	# CPU 1 busy beyond the daemon's own time: other processes on the
	# daemon's CPU (a shared machine), worth a note when it is large.
	sort -k1,1n -k2,2n rows.txt | awk -v hz="$hz" '
		$18 > 0 {
			other = 100 * ($17 - $11) / $18
			if (other > 10) {
				w = $3; gsub("_", " ", w)
				printf "%s, %s: CPU 1 was %.0f%% busy outside the daemon (other load; numbers disturbed)\n", w, $4, other
			}
		}' >>notes.txt
	if [ -s notes.txt ]; then
		echo
		sed 's/^/note: /' notes.txt
	fi
	bench_targets
	echo
	echo "qps, lost, err (answers other than NOERROR): dnsperf; p50/p99 over answered queries;"
	echo ">=30ms: answers that took 30 ms or more (40 ms = a delayed-ACK/Nagle stall);"
	echo "cpu%, cpu us/q: the daemon's utime+stime per wall second, per answered query, all its"
	echo "processes (dotstubd: the store process and the network process that answers);"
	echo "up/q: upstream queries per answered query (1.00 = every query forwarded, 0.00 = all"
	echo "from the daemon's cache); cpu0%: how busy CPU 0 (dnsperf, and the upstream by default) was;"
	echo "dot rows: dnsperf -m dot to port 853, one TLS 1.3 connection per client (-c), both servers"
	echo "answering from their cache (up/q 0.00); cpu us/q includes each connection's handshake;"
	echo "RSS: VmRSS; anon: RssAnon, the part not shared with other processes (heap, stacks);"
	echo "PSS: shared pages divided among the processes that map them (depends on what else runs);"
	echo "each summed over the daemon's processes (a page dotstubd's two share: twice in RSS, once in PSS)."
	echo "floor: bench/floor.c, one fixed answer with dotstubd's UDP I/O and no DNS work: the"
	echo "machine's cost per query and the RSS of OpenSSL alone, below which no stub can go."
}

# bench_targets: the targets of bench/README.md, checked when dotstubd ran.
bench_targets() {
	grep -q ' dotstubd ' rows.txt || return 0
	echo
	echo "targets (bench/README.md):"
	awk -v hz="$hz" '
		FNR == NR {
			k = $3 SUBSEP $4
			qps[k] = $5; p99[k] = $7
			usq[k] = $9 > 0 ? 1e6 * ($11 / hz) / $9 : 0
			wl[$3] = 1
			next
		}
		{ idle[$1] = $2; after[$1] = $3 }
		function verdict(ok) { return ok ? "met" : "MISSED" }
		END {
			for (w in wl) {
				name = w; gsub("_", " ", name)
				d = w SUBSEP "dotstubd"; s = w SUBSEP "stubby"; u = w SUBSEP "unbound"; f = w SUBSEP "floor"
				if (w ~ /_q1$/) {
					# a closed loop: round trips and wakeups, the
					# cross-check, no target of its own
					if (u in qps && qps[u] > 0 && usq[u] > 0)
						printf "  %-19s closed loop vs Unbound: qps %.2fx, cpu/q %.2fx, p99 %s vs %s ms (information)\n", name, qps[d] / qps[u], usq[d] / usq[u], p99[d], p99[u]
				} else if (w ~ /^dot/) {
					if (u in qps && qps[u] > 0)
						printf "  %-19s vs Unbound DoT: qps %.2fx, cpu/q %.2fx, p99 %s vs %s ms (information)\n", name, qps[d] / qps[u], (usq[u] > 0 ? usq[d] / usq[u] : 0), p99[d], p99[u]
				} else if (w ~ /^forwarded/) {
					if (s in qps && qps[s] > 0)
						printf "  %-19s qps >= 3x Stubby: %.1fx  %s\n", name, qps[d] / qps[s], verdict(qps[d] >= 3 * qps[s])
					printf "  %-19s p99 <= 4 ms: %s ms  %s\n", name, p99[d], verdict(p99[d] != "-" && p99[d] + 0 <= 4)
				} else if (u in qps && qps[u] > 0) {
					printf "  %-19s qps >= Unbound: %.2fx  %s\n", name, qps[d] / qps[u], verdict(qps[d] >= qps[u])
					if (usq[u] > 0)
						printf "  %-19s cpu/q <= 0.5x Unbound: %.2fx  %s\n", name, usq[d] / usq[u], verdict(usq[d] <= 0.5 * usq[u])
					if (usq[u] > 0 && f in usq && usq[f] > 0)
						printf "  %-19s vs floor: %.1f us/q = %.2fx Unbound; dotstubd at %.2fx the floor\n", name, usq[f], usq[f] / usq[u], usq[d] / usq[f]
				}
			}
			if ("dotstubd" in idle) {
				printf "  %-19s RSS idle <= 4 MiB: %.1f M  %s\n", "memory", idle["dotstubd"] / 1024, verdict(idle["dotstubd"] <= 4096)
				printf "  %-19s RSS after <= 8 MiB: %.1f M  %s\n", "memory", after["dotstubd"] / 1024, verdict(after["dotstubd"] <= 8192)
				if ("floor" in idle && idle["floor"] > 0)
					printf "  %-19s vs floor: RSS %.1f M after one OpenSSL handshake\n", "memory", idle["floor"] / 1024
			}
		}' rows.txt rss.txt | sort
}
