# shellcheck shell=sh
# dotstub-uci.sh -- turn the UCI configuration /etc/config/dotstub into a
# dotstub.conf(5) file.  Installed as /usr/lib/dotstub/dotstub-uci.sh and
# sourced by /etc/init.d/dotstub after "config_load dotstub".
#
# The UCI data is read only through two functions, so that the translation
# can be tested without OpenWrt (tests/integration/packaging.sh redefines
# them after sourcing this file):
#
#   dotstub_uci_get SECTION OPTION    print the option's value (nothing if unset)
#   dotstub_uci_list SECTION OPTION   print a list option, one value a line
#
# The UCI schema (see files/dotstub.config):
#
#   config dotstub 'main'
#     option enabled                   0|1 (default 1)
#     list   listen                    ADDR[:PORT]
#     list   access_control            "NETMASK allow|refuse|deny"
#     option resolv_source             FILE
#     list   network_resolver          ADDR[:PORT]
#     option tofu                      auto|ask|off
#     option unknown_network           opportunistic|strict
#     option prefer_upstream_resolver  0|1
#     option allow_tls12               0|1
#     option seccomp                   0|1 (default 1: dotstubd(8), PROCESSES)
#     option anchors_dir, state_dir, control, resolv_conf_out, user, log_level, cache_size,
#            tcp_clients, tcp_clients_per_address, tcp_client_output,
#            tcp_output_total, max_pending, query_timeout, discovery_wait,
#            refresh_interval (the dotstub.conf keys, "_" for "-")
#   config upstream 'static'           a fixed DoT upstream instead of discovery
#     option enabled                   0|1 (default 0)
#     option name                      the upstream's TLS/DANE name
#     list   address                   ADDR[:PORT] (port 853 by default)
#     list   tlsa                      "USAGE SELECTOR MTYPE HEX"
#
# Every value is written in double quotes; a value with a double quote or a
# control character is refused.  dotstubd -n checks the rest.

# ---- the UCI accessors (OpenWrt: /lib/functions.sh, after config_load)

dotstub_uci_get() {
	dotstub_v=
	config_get dotstub_v "$1" "$2"
	printf '%s' "$dotstub_v"
}

dotstub_uci_list_item() {
	printf '%s\n' "$1"
}

dotstub_uci_list() {
	config_list_foreach "$1" "$2" dotstub_uci_list_item
}

# ---- the translation

dotstub_uci_err() {
	echo "dotstub: /etc/config/dotstub: $*" >&2
}

# dotstub_uci_bool VALUE: print yes or no.
dotstub_uci_bool() {
	case $1 in
	1|yes|on|true|enabled) echo yes ;;
	0|no|off|false|disabled) echo no ;;
	*) return 1 ;;
	esac
}

# dotstub_uci_enabled: whether the service should run (main.enabled, default 1).
dotstub_uci_enabled() {
	dotstub_e=$(dotstub_uci_get main enabled)
	[ "$(dotstub_uci_bool "${dotstub_e:-1}")" = yes ]
}

# dotstub_uci_line KEY VALUE: one line of dotstub.conf.
dotstub_uci_line() {
	case $2 in
	*'"'*|*[[:cntrl:]]*)
		dotstub_uci_err "$1: a double quote or control character cannot go in dotstub.conf"
		return 1 ;;
	'')
		dotstub_uci_err "$1: empty value"
		return 1 ;;
	esac
	printf '%s "%s"\n' "$1" "$2"
}

# dotstub_uci_scalar SECTION OPTION KEY: KEY from OPTION, if set.
dotstub_uci_scalar() {
	dotstub_s=$(dotstub_uci_get "$1" "$2")
	[ -z "$dotstub_s" ] || dotstub_uci_line "$3" "$dotstub_s"
}

# dotstub_uci_flag SECTION OPTION KEY: a UCI boolean as yes|no, if set.
dotstub_uci_flag() {
	dotstub_s=$(dotstub_uci_get "$1" "$2")
	[ -n "$dotstub_s" ] || return 0
	if ! dotstub_f=$(dotstub_uci_bool "$dotstub_s"); then
		dotstub_uci_err "$1.$2: '$dotstub_s' is not a boolean"
		return 1
	fi
	dotstub_uci_line "$3" "$dotstub_f"
}

# dotstub_uci_each SECTION OPTION KEY [PREFIX]: one KEY line per list value
# (PREFIX is put before each value).
dotstub_uci_each() {
	dotstub_l=$(dotstub_uci_list "$1" "$2") || return 1
	[ -n "$dotstub_l" ] || return 0
	dotstub_ifs=$IFS
	IFS='
'
	set -f
	# shellcheck disable=SC2086 # split on newlines only, no globbing
	set -- "$3" "${4:-}" $dotstub_l
	set +f
	IFS=$dotstub_ifs
	dotstub_k=$1
	dotstub_p=$2
	shift 2
	for dotstub_item in "$@"; do
		dotstub_uci_line "$dotstub_k" "$dotstub_p$dotstub_item" || return 1
	done
}

# dotstub_uci_generate: print dotstub.conf for the UCI data; non-zero (with
# a message on stderr) when a value cannot be written.
dotstub_uci_generate() {
	echo "# generated from /etc/config/dotstub by /etc/init.d/dotstub: edit that file"
	dotstub_uci_each main listen listen &&
	dotstub_uci_each main access_control access-control &&
	dotstub_uci_scalar main resolv_source resolv-source &&
	dotstub_uci_each main network_resolver network-resolver &&
	dotstub_uci_scalar main tofu tofu &&
	dotstub_uci_scalar main unknown_network unknown-network &&
	dotstub_uci_flag main prefer_upstream_resolver prefer-upstream-resolver &&
	dotstub_uci_flag main allow_tls12 allow-tls12 &&
	dotstub_uci_flag main seccomp seccomp &&
	dotstub_uci_scalar main anchors_dir anchors-dir &&
	dotstub_uci_scalar main state_dir state-dir &&
	dotstub_uci_scalar main control control &&
	dotstub_uci_scalar main resolv_conf_out resolv-conf-out &&
	dotstub_uci_scalar main user user &&
	dotstub_uci_scalar main log_level log-level &&
	dotstub_uci_scalar main cache_size cache-size &&
	dotstub_uci_scalar main tcp_clients tcp-clients &&
	dotstub_uci_scalar main tcp_clients_per_address tcp-clients-per-address &&
	dotstub_uci_scalar main tcp_client_output tcp-client-output &&
	dotstub_uci_scalar main tcp_output_total tcp-output-total &&
	dotstub_uci_scalar main max_pending max-pending &&
	dotstub_uci_scalar main query_timeout query-timeout &&
	dotstub_uci_scalar main discovery_wait discovery-wait &&
	dotstub_uci_scalar main refresh_interval refresh-interval || return 1

	dotstub_e=$(dotstub_uci_get static enabled)
	if ! dotstub_e=$(dotstub_uci_bool "${dotstub_e:-0}"); then
		dotstub_uci_err "static.enabled: not a boolean"
		return 1
	fi
	[ "$dotstub_e" = yes ] || return 0
	dotstub_n=$(dotstub_uci_get static name)
	if [ -z "$dotstub_n" ]; then
		dotstub_uci_err "static: an enabled static upstream needs a name"
		return 1
	fi
	case $dotstub_n in
	*@*|*[[:space:]]*)
		dotstub_uci_err "static.name: '$dotstub_n' is not a host name"
		return 1 ;;
	esac
	if [ -z "$(dotstub_uci_list static address)" ] ||
	    [ -z "$(dotstub_uci_list static tlsa)" ]; then
		dotstub_uci_err "static: an enabled static upstream needs an address and a tlsa record"
		return 1
	fi
	dotstub_uci_each static address upstream "$dotstub_n@" &&
	dotstub_uci_each static tlsa tlsa
}
