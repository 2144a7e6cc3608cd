#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dotstubd's two processes (stub/daemon/privsep.h).  Started as root with
# "user nobody", against a real Unbound publishing resolver-name.arpa
# (dotctl provision), in a network namespace with a fixed gateway:
#   processes: the store process (the one started) and its child, the
#     network process, both run as nobody with NoNewPrivs and a seccomp
#     filter; the network process has no capability, the store process
#     CAP_NET_BIND_SERVICE only; a first-use pin made by discovery lands in
#     the store file through the store process (its log line, the file, its
#     owner), and resolv-conf-out is written by it too;
#   filter: the network process's very filter (sandbox_probe) is killed
#     with SIGSYS for every call that would create, change or remove the
#     store file, may read it, and gets EACCES for an AF_UNIX socket; the
#     store process's filter lets it write, and neither may fork or exec;
#   violation-*: a compromised network process (chan_inject writes into its
#     end of the channel) sending an oversized, short, mislabelled or
#     unterminated message, an unknown type or a descriptor: the store
#     process logs the violation, kills the network process, exits 1, and
#     the store file is unchanged;
#   rule-known-network: a well-formed attempt to record a new key on a
#     known network is refused (logged, not fatal), the network stays
#     under its pinned key in the file, the network process takes the
#     store process's copy, DNS goes on;
#   rule-no-approve: with tofu ask, a PIN as trusted of the pending key
#     does not approve it; "dotctl trust approve" (the store process's
#     own request) does, and DoT follows;
#   signals: SIGTERM stops both (exit 0); a network process killed makes
#     the store process exit 1; a store process killed takes the network
#     process with it;
#   seccomp-off: "seccomp no" leaves NoNewPrivs and the dropped
#     capabilities, and no filter.
set -u
# shellcheck source=../lib/netns.sh
. "$DOTSTUB_SRC/tests/lib/netns.sh"
netns_reexec "$@"

# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
# shellcheck source=../lib/provisioned.sh
. "$DOTSTUB_SRC/tests/lib/provisioned.sh"
prov_tmpdir
trap 'ds_stop_all; prov_cleanup; rm -rf "$T_DIR"' EXIT
# nobody must reach the state directories and the configuration
chmod 0755 "$T_DIR"
# a process the filter kills leaves no core file behind
ulimit -c 0

PROBE=$DOTSTUB_BUILD/tests/sandbox_probe
INJECT=$DOTSTUB_BUILD/tests/chan_inject
L=127.0.0.84
DIG="dig @$L +time=4 +tries=1"
WAIT=(--discovery-wait 10000)
NOBODY=$(id -u nobody)
STOP_MS=1000
# a sanitizer build's filters also allow what the sanitizer runtimes call,
# fork among them (stub/daemon/sandbox.c)
FORK_RC=159
if ldd "$DOTSTUBD" 2>/dev/null | grep -q libasan; then
	STOP_MS=4000
	FORK_RC=0
fi

prov_provision "$PROV_TMP/r1" 127.0.0.85 || { echo "provision r1 failed"; exit 1; }
N1=$(prov_name "$PROV_TMP/r1")
up_r1() { prov_start "$PROV_TMP/r1" 127.0.0.85 || { echo "cannot start r1"; return 1; }; }
teardown() { prov_stop_all; }

# field PID NAME: the value of NAME: in /proc/PID/status (tabs as spaces)
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr '\t' ' '; }
# show PID WHO: the lines of /proc/PID/status that matter here
show() {
	grep -E '^(Uid|Gid|NoNewPrivs|Seccomp|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' "/proc/$1/status" |
		sed "s/^/# $2: /"
}
trusted_n1() { ds_ctl "$1" trust list | grep -q "$N1.*trusted"; }

# start NAME [options...]: dotstubd as root dropping to nobody, the
# network's resolver r1, and its network process there
start() {
	local name=$1
	shift
	ds_start "$name" --listen $L:53 --network-resolver 127.0.0.85 --user nobody "${WAIT[@]}" "$@" ||
		return 1
	wait_for 5 sh -c "pgrep -P $(ds_pid "$name") >/dev/null"
}

# pinned_state NAME: $T_DIR/NAME/state holds r1 pinned on this network
# (discovered once, copied for every scenario that needs it)
pinned_state() {
	if [ ! -s "$T_DIR/pinned/anchors" ]; then
		up_r1 || return 1
		start pin || return 1
		if ! wait_for 15 sh -c "$DIG www.example.test A +short | grep -q 192.0.2.10" ||
			! wait_for 5 trusted_n1 pin; then
			echo "r1 was not pinned"
			return 1
		fi
		ds_stop pin
		mkdir -p "$T_DIR/pinned"
		cp "$T_DIR/pin/state/anchors" "$T_DIR/pinned/anchors"
	fi
	mkdir -p "$T_DIR/$1/state"
	cp "$T_DIR/pinned/anchors" "$T_DIR/$1/state/anchors"
}

# ---------------------------------------------------------------- processes

s_processes() {
	local pp np n st
	up_r1 || return 1
	check "no store file before the first use" test ! -e "$T_DIR/p/state/anchors"
	start p --log-level info || return 1
	pp=$(ds_pid p)
	np=$(ds_netpid p)
	echo "# store process $pp, network process $np"
	show "$np" "network process"
	show "$pp" "store process"
	expect_eq "network process: runs as nobody (real, effective, saved, fs)" \
		"$(field "$np" Uid)" "$NOBODY $NOBODY $NOBODY $NOBODY"
	expect_eq "network process: NoNewPrivs" "$(field "$np" NoNewPrivs)" 1
	expect_eq "network process: a seccomp filter" "$(field "$np" Seccomp)" 2
	expect_eq "network process: no effective capability" "$(field "$np" CapEff)" 0000000000000000
	expect_eq "network process: no permitted capability" "$(field "$np" CapPrm)" 0000000000000000
	expect_eq "network process: no ambient capability" "$(field "$np" CapAmb)" 0000000000000000
	expect_eq "store process: runs as nobody" "$(field "$pp" Uid)" "$NOBODY $NOBODY $NOBODY $NOBODY"
	expect_eq "store process: NoNewPrivs" "$(field "$pp" NoNewPrivs)" 1
	expect_eq "store process: a seccomp filter" "$(field "$pp" Seccomp)" 2
	expect_eq "store process: CAP_NET_BIND_SERVICE only" "$(field "$pp" CapEff)" 0000000000000400
	expect_eq "the network process is the store process's child" "$(field "$np" PPid)" "$pp"
	grep -h "seccomp filter of" "$T_DIR/p/log" | sed 's/^/# /'

	expect_eq "answered over the discovered DoT" "$($DIG www.example.test A +short)" 192.0.2.10
	check "pinned (trust list: the store process's store)" wait_for 5 trusted_n1 p
	check "the store process wrote the pin (its log)" \
		ds_wait_log p "store process: pinned resolver-name.arpa. key tag" 0 5
	expect_contains "... which the network process asked for on first use" "$(ds_log p)" \
		"pinned resolver-name.arpa key tag"
	st=$T_DIR/p/state/anchors
	check "the store file has the anchor" grep -q "^anchor resolver-name.arpa. 257 3 13" "$st"
	check "... the resolver learned under it" wait_for 5 grep -q "resolver $N1. " "$st"
	check "... and this network" grep -q "^	network " "$st"
	expect_eq "the store file belongs to the store process's user" "$(stat -c %u "$st")" "$NOBODY"
	check "resolv-conf-out says trust-ad now (written by the store process)" \
		wait_for 5 grep -q "trust-ad" "$T_DIR/p/resolv.conf"
	expect_eq "resolv-conf-out belongs to the store process's user" \
		"$(stat -c %u "$T_DIR/p/resolv.conf")" "$NOBODY"
	# libunbound is loaded by the network process only, while it walks
	check "libunbound never mapped in the store process" sh -c "! grep -q libunbound /proc/$pp/maps"
	n=$(grep -c . "/proc/$np/maps")
	check "the network process is alive and serving ($n mappings)" pid_alive "$np"
}

# ---------------------------------------------------------------- filter

# probe KIND OP FILE: the exit status of sandbox_probe, quietly
probe() { { "$PROBE" "$@" >"$T_DIR/probe.out" 2>&1; } 2>/dev/null; echo $?; }

s_filter() {
	local f sum op rc
	pinned_state f || return 1
	f=$T_DIR/f/state/anchors
	sum=$(sha256sum <"$f")
	for op in open-write open-rdwr open-creat open-trunc creat rename unlink mkdir symlink \
	    link chmod truncate exec; do
		rc=$(probe network "$op" "$f")
		expect_eq "network process's filter: $op of the store file kills it (SIGSYS)" "$rc" 159
	done
	expect_eq "network process's filter: fork kills it (not under sanitizers)" \
		"$(probe network fork "$f")" "$FORK_RC"
	expect_eq "network process's filter: it may read the store file" "$(probe network open-read "$f")" 0
	expect_eq "... with open(2) too" "$(probe network open-raw "$f")" 0
	expect_eq "... and open its directory" "$(probe network open-dir "$f")" 0
	rc=$(probe network socket-unix "$f")
	expect_eq "network process's filter: an AF_UNIX socket fails" "$rc" 3
	expect_contains "... with EACCES" "$(cat "$T_DIR/probe.out")" "Permission denied"
	expect_eq "the store file is unchanged" "$(sha256sum <"$f")" "$sum"
	# positive control: the same probe may write under the store process's filter
	expect_eq "store process's filter: it may write the store file" \
		"$(probe store open-write "$f")" 0
	expect_eq "store process's filter: no fork (but under sanitizers)" "$(probe store fork "$f")" "$FORK_RC"
	expect_eq "store process's filter: no exec" "$(probe store exec "$f")" 159
	echo "# filters: store process $("$PROBE" store count) system calls, network process $("$PROBE" network count)"
}

# ---------------------------------------------------------------- violations

# violation KIND TEXT: a fresh daemon on the pinned store; chan_inject
# writes KIND into its network process's channel
violation() {
	local kind=$1 text=$2 name=v$1 pp np sum rc
	pinned_state "$name" || return 1
	up_r1 || return 1
	start "$name" || return 1
	pp=$(ds_pid "$name")
	np=$(ds_netpid "$name")
	check "$kind: decided (known network)" ds_wait_log "$name" "is known: DoT to" 0 10
	sum=$(sha256sum <"$T_DIR/$name/state/anchors")
	check "$kind: written into the network process's channel" "$INJECT" "$np" "$kind"
	check "$kind: the store process exits" wait_for 5 sh -c "! kill -0 $pp 2>/dev/null || grep -q '^State:.*Z' /proc/$pp/status"
	wait "$pp" 2>/dev/null
	rc=$?
	rm -f "$T_DIR/$name/pid"
	expect_eq "$kind: exit status 1" "$rc" 1
	expect_contains "$kind: the violation is logged with what it was" \
		"$(grep 'protocol violation' "$T_DIR/$name/log")" "protocol violation by the network process ($text"
	check "$kind: the network process is gone too" wait_for 5 sh -c "! kill -0 $np 2>/dev/null"
	expect_eq "$kind: the store file is unchanged" "$(sha256sum <"$T_DIR/$name/state/anchors")" "$sum"
}
s_v_oversized() { violation oversized "a message larger than 65536 octets"; }
s_v_short() { violation short "a message of 3 octets, shorter than its header"; }
s_v_badlen() { violation badlen "PIN: length"; }
s_v_badtype() { violation badtype "unknown message type 999"; }
s_v_withfd() { violation withfd "COMMIT with 1 descriptors"; }
s_v_unterminated() { violation unterminated "NETWORK: a string has no end"; }

# ---------------------------------------------------------------- rules

s_rule_known() {
	local st fp out tag
	pinned_state k || return 1
	up_r1 || return 1
	start k || return 1
	check "known network: DoT from the store" ds_wait_log k "is known: DoT to" 0 10
	st=$T_DIR/k/state/anchors
	fp=$(sed -n 's/^\tnetwork [^ ]* [^ ]* //p' "$st" | head -1)
	check "the store knows this network" test -n "$fp"
	out=$("$INJECT" "$(ds_netpid k)" newkey "$fp")
	tag=${out#tag }
	check "a new key onto the known network: refused by the store process, logged" \
		ds_wait_log k "refused NETWORK from the network process: key tag $tag (trusted) on a network known under key tag" 0 5
	check "the network process takes the store process's copy" \
		ds_wait_log k "the store process refused 1 change(s)" 0 5
	expect_eq "the known network is still under its pinned key only" "$(grep -cF "$fp" "$st")" 1
	check "the store process goes on" pid_alive "$(ds_pid k)"
	expect_eq "DNS goes on over the pinned resolver" "$($DIG www.example.test A +short)" 192.0.2.10
}

s_rule_no_approve() {
	local st key tag
	up_r1 || return 1
	start a --tofu ask || return 1
	check "tofu ask: pinned as pending" wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/a/control' trust list | grep -q pending"
	st=$T_DIR/a/state/anchors
	check "... in the store file" wait_for 5 grep -q "state pending" "$st"
	key=$(sed -n 's/^anchor resolver-name.arpa. //p' "$st" | head -1)
	tag=$(sed -n 's/^\ttag //p' "$st" | head -1)
	check "a PIN as trusted of the pending key is written into the channel" \
		"$INJECT" "$(ds_netpid a)" pin "$key" trusted
	expect_contains "it does not approve it (trust list)" "$(ds_ctl a trust list)" "pending"
	check "... nor in the store file" grep -q "state pending" "$st"
	check "... not trusted there" sh -c "! grep -q 'state trusted' '$st'"
	# positive control: the operator's approve, through the store process
	expect_contains "dotctl trust approve (the store process's own request)" \
		"$(ds_ctl a trust approve "$tag")" "approved key tag $tag"
	check "... trusted in the store file" grep -q "state trusted" "$st"
	check "... and the network process decides again: DoT" \
		wait_for 15 sh -c "'$DOTCTL' -s '$T_DIR/a/control' status | grep -q 'DANE, TLSA 3 1 1'"
}

# ---------------------------------------------------------------- signals

s_signals() {
	local pp np rc t0 ms
	up_r1 || return 1
	start s1 || return 1
	pp=$(ds_pid s1)
	np=$(ds_netpid s1)
	kill -KILL "$np"
	check "network process killed: the store process exits" wait_for 5 sh -c "! kill -0 $pp 2>/dev/null || grep -q '^State:.*Z' /proc/$pp/status"
	wait "$pp" 2>/dev/null
	rc=$?
	rm -f "$T_DIR/s1/pid"
	expect_eq "... with status 1" "$rc" 1
	expect_contains "... and says why" "$(ds_log s1)" "the network process was killed by signal 9"

	start s2 || return 1
	pp=$(ds_pid s2)
	np=$(ds_netpid s2)
	kill -KILL "$pp"
	check "store process killed: the network process goes too" wait_for 5 sh -c "! kill -0 $np 2>/dev/null"
	wait "$pp" 2>/dev/null
	rm -f "$T_DIR/s2/pid"

	start s3 || return 1
	pp=$(ds_pid s3)
	np=$(ds_netpid s3)
	t0=$(date +%s%N)
	kill -TERM "$pp"
	wait "$pp" 2>/dev/null
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	rm -f "$T_DIR/s3/pid"
	expect_eq "SIGTERM: exit status 0" "$rc" 0
	check "SIGTERM: both gone in $ms ms (under $STOP_MS)" test "$ms" -lt "$STOP_MS"
	check "... the network process too" sh -c "! kill -0 $np 2>/dev/null"
}

# ---------------------------------------------------------------- seccomp no

s_seccomp_off() {
	local pp np
	up_r1 || return 1
	start o --seccomp no || return 1
	pp=$(ds_pid o)
	np=$(ds_netpid o)
	expect_eq "seccomp no: no filter on the network process" "$(field "$np" Seccomp)" 0
	expect_eq "... nor on the store process" "$(field "$pp" Seccomp)" 0
	expect_eq "... NoNewPrivs still" "$(field "$np" NoNewPrivs) $(field "$pp" NoNewPrivs)" "1 1"
	expect_eq "... and no capability in the network process" "$(field "$np" CapEff)" 0000000000000000
	expect_contains "... logged" "$(ds_log o)" "no seccomp filter (seccomp no)"
	expect_eq "... and it serves" "$($DIG www.example.test A +short)" 192.0.2.10
}

scenario processes s_processes teardown
scenario filter s_filter teardown
scenario violation-oversized s_v_oversized teardown
scenario violation-short s_v_short teardown
scenario violation-badlen s_v_badlen teardown
scenario violation-badtype s_v_badtype teardown
scenario violation-withfd s_v_withfd teardown
scenario violation-unterminated s_v_unterminated teardown
scenario rule-known-network s_rule_known teardown
scenario rule-no-approve s_rule_no_approve teardown
scenario signals s_signals teardown
scenario seccomp-off s_seccomp_off teardown
finish
