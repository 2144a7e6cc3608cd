# shellcheck shell=ash
# dotstub-uci.sh -- the UCI configuration /etc/config/dotstub turned into a
# dotstub.conf(5) file.  Installed as /usr/lib/dotstub/dotstub-uci.sh and
# sourced by /etc/init.d/dotstub, after OpenWrt's /lib/functions.sh.
#
#   dotstub_uci_load      config_load dotstub, noting every section and
#                         option seen; non-zero if uci cannot read the
#                         file, or any line of it
#   dotstub_uci_enabled   false only when main.enabled is a false boolean
#   dotstub_uci_generate  print dotstub.conf on stdout; non-zero, with one
#                         line per problem on stderr, when a value is wrong
#
# UCI is read through /lib/functions.sh: config_load with its config_cb,
# option_cb and list_cb callbacks, config_get and config_list_foreach;
# and "uci export", strict, to find the lines config_load would skip.  The tests run this file unchanged on a machine
# without OpenWrt, under dash and BusyBox ash, against a stand-in for those
# functions that reads the UCI file format itself (tests/lib/openwrt.sh).
#
# The UCI options are the keys of dotstub.conf(5) with "_" for "-"; the
# schema below lists each with its kind.  What is checked here is the
# shape of every value (a boolean, one of the words a key takes, a number,
# a size, an absolute path, an address, an access-control line, a TLSA
# record), with a message naming the UCI option; an unknown section or
# option is an error too (a misspelt "unknown_network" must not quietly
# leave the default in force).  The ranges and the exact address syntax
# are dotstubd's: the init script runs "dotstubd -n" on the result.
#
# Every value is written in double quotes; a value holding a double quote
# or a control character cannot be written and is refused.

# SECTION OPTION KIND KEY, in the order the keys are written.  KIND is a
# type, "list:" before it for a list; KEY "-" is an option used here or by
# the init script and hotplug hook only.  The section static (the fixed
# upstream: "upstream NAME@ADDRESS" for each address) is written by
# dotstub_uci_static.
DOTSTUB_UCI_SCHEMA='
main enabled bool -
main wan_interface list:ident -
main listen list:addr listen
main access_control list:acl access-control
main resolv_source path resolv-source
main resolv_source_link ident resolv-source-link
main networkd enum:yes:no:auto networkd
main network_resolver list:addr network-resolver
main tofu enum:auto:ask:off tofu
main unknown_network enum:opportunistic:strict unknown-network
main prefer_upstream_resolver bool prefer-upstream-resolver
main allow_tls12 bool allow-tls12
main seccomp bool seccomp
main anchors_dir path anchors-dir
main state_dir path state-dir
main control path control
main resolv_conf_out path-or-none resolv-conf-out
main user ident user
main log_level enum:err:warning:notice:info:debug log-level
main cache_size size cache-size
main tcp_clients uint tcp-clients
main tcp_clients_per_address uint tcp-clients-per-address
main tcp_client_output size tcp-client-output
main tcp_output_total size tcp-output-total
main max_pending uint max-pending
main query_timeout uint query-timeout
main discovery_wait uint discovery-wait
main refresh_interval uint refresh-interval
main resolve1 bool resolve1
main resolve1_group ident resolve1-group
main dbus_max_calls uint dbus-max-calls
main serve_dot list:addr serve-dot
main serve_dot_cert path serve-dot-cert
main serve_dot_key path serve-dot-key
main serve_dot_name host serve-dot-name
main dot_clients uint dot-clients
main dot_clients_per_address uint dot-clients-per-address
main dot_client_output size dot-client-output
main dot_output_total size dot-output-total
main dot_client_inflight uint dot-client-inflight
main publish bool publish
main ddr bool ddr
main dnr bool dnr
main dnr_ra bool dnr-ra
main ca_file path ca-file
main dot_idle_timeout uint dot-idle-timeout
main dot_handshake_timeout uint dot-handshake-timeout
static enabled bool -
static name host -
static address list:addr upstream
static tlsa list:tlsa tlsa
'

# The sections: NAME:TYPE.
DOTSTUB_UCI_SECTIONS='main:dotstub static:upstream'

DOTSTUB_UCI_NL='
'

# ---- reading UCI (OpenWrt: /lib/functions.sh)

# shellcheck disable=SC2317 # the callbacks are called by config_load
dotstub_uci_load() {
	DOTSTUB_UCI_SEEN=
	DOTSTUB_UCI_SEEN_SECTIONS=
	config_cb() {
		[ $# -gt 0 ] || return 0
		DOTSTUB_UCI_SEEN_SECTIONS="$DOTSTUB_UCI_SEEN_SECTIONS $2:$1"
	}
	option_cb() {
		DOTSTUB_UCI_SEEN="$DOTSTUB_UCI_SEEN $CONFIG_SECTION.$1"
	}
	list_cb() {
		DOTSTUB_UCI_SEEN="$DOTSTUB_UCI_SEEN $CONFIG_SECTION.$1"
	}
	# config_load (uci_load) reads the file leniently: a line uci cannot
	# parse is left out without a word, and a misspelt "unknown-network"
	# would leave the default in force.  Read it strictly first.
	DOTSTUB_UCI_PARSE=$(uci ${UCI_CONFIG_DIR:+-c "$UCI_CONFIG_DIR"} export dotstub 2>&1 >/dev/null)
	DOTSTUB_UCI_LOADED=$?
	if [ "$DOTSTUB_UCI_LOADED" = 0 ]; then
		config_load dotstub
		DOTSTUB_UCI_LOADED=$?
	fi
	reset_cb
	return "$DOTSTUB_UCI_LOADED"
}

# dotstub_uci_get SECTION OPTION: the option's value (nothing if unset).
dotstub_uci_get() {
	local v=''
	config_get v "$1" "$2"
	printf '%s' "$v"
}

dotstub_uci_list_item() {
	printf '%s\n' "$1"
}

# dotstub_uci_list SECTION OPTION: a list, one value a line.  A list given
# as "option NAME VALUE" (a common slip) is a list of that one value.
dotstub_uci_list() {
	local len=''
	config_get len "$1" "$2_LENGTH"
	if [ -n "$len" ]; then
		config_list_foreach "$1" "$2" dotstub_uci_list_item
	else
		config_get len "$1" "$2"
		[ -z "$len" ] || printf '%s\n' "$len"
	fi
}

# ---- checking values

dotstub_uci_err() {
	echo "/etc/config/dotstub: $*" >&2
	DOTSTUB_UCI_BAD=1
}

# dotstub_uci_bool VALUE: print yes or no; non-zero if VALUE is no boolean.
dotstub_uci_bool() {
	case $1 in
	1|yes|on|true|enabled) echo yes ;;
	0|no|off|false|disabled) echo no ;;
	*) return 1 ;;
	esac
}

dotstub_uci_enabled() {
	[ "$(dotstub_uci_bool "$(dotstub_uci_get main enabled)")" != no ]
}

# dotstub_uci_check KIND VALUE: print VALUE as dotstub.conf wants it (a
# boolean as yes or no, the words of a line one blank apart); non-zero,
# with what is wrong ("is not a number"), if it is not of KIND.
dotstub_uci_check() {
	local kind=$1 v=$2 n rest w
	case $v in
	*[[:cntrl:]]*|*'"'*)
		echo "holds a double quote or a control character, which dotstub.conf cannot hold"
		return 1 ;;
	'')
		echo "is empty"
		return 1 ;;
	esac
	case $kind in
	bool)
		dotstub_uci_bool "$v" && return 0
		echo "is not a boolean (1, 0, yes, no, on, off, true, false)"
		return 1 ;;
	enum:*)
		w=${kind#enum:}
		case ":$w:" in
		*":$v:"*) ;;
		*) echo "is not one of: $(echo "$w" | sed 's/:/, /g')"; return 1 ;;
		esac ;;
	uint)
		case $v in
		*[!0-9]*|???????????*) echo "is not a number"; return 1 ;;
		esac ;;
	size)
		n=${v%%[!0-9]*}
		rest=${v#"$n"}
		rest=${rest#"${rest%%[! ]*}"}
		case $n in
		''|???????????*) rest=bad ;;
		esac
		case $rest in
		''|[kKmMgG]|[kKmMgG][bB]|entries) ;;
		*) echo "is not a size (a number, then k, m, g or \" entries\")"; return 1 ;;
		esac ;;
	path)
		case $v in
		/*) ;;
		*) echo "is not an absolute path"; return 1 ;;
		esac ;;
	path-or-none)
		case $v in
		/*|none) ;;
		*) echo "is not an absolute path or none"; return 1 ;;
		esac ;;
	ident)
		case $v in
		-*|*[!A-Za-z0-9_.-]*) echo "is not a name (letters, digits, '_', '.', '-')"; return 1 ;;
		esac ;;
	host)
		case $v in
		.*|-*|*..*|*[!A-Za-z0-9.-]*) echo "is not a host name"; return 1 ;;
		esac ;;
	addr)
		# ADDR[:PORT], [IPV6]:PORT, IPV6%SCOPE: dotstubd checks the rest
		case $v in
		*[!]0-9A-Za-z.:%_[-]*) echo "is not an address (ADDR[:PORT], [IPV6]:PORT)"; return 1 ;;
		esac ;;
	acl)
		# "NETMASK allow|refuse|deny"
		set -f
		# shellcheck disable=SC2086 # split into words, no globbing
		set -- $v
		set +f
		if [ $# -ne 2 ]; then
			echo "is not \"NETMASK allow|refuse|deny\""
			return 1
		fi
		case $1 in
		*[!]0-9A-Za-z.:%_/[-]*) echo "is not \"NETMASK allow|refuse|deny\": '$1' is no netmask"; return 1 ;;
		esac
		case $2 in
		allow|refuse|deny) ;;
		*) echo "is not \"NETMASK allow|refuse|deny\": '$2' is none of them"; return 1 ;;
		esac
		v="$1 $2" ;;
	tlsa)
		# "USAGE SELECTOR MTYPE HEX"
		set -f
		# shellcheck disable=SC2086 # split into words, no globbing
		set -- $v
		set +f
		if [ $# -ne 4 ]; then
			echo "is not \"USAGE SELECTOR MTYPE HEX\""
			return 1
		fi
		for w in "$1" "$2" "$3"; do
			case $w in
			*[!0-9]*|????*) echo "is not \"USAGE SELECTOR MTYPE HEX\": '$w' is no number"; return 1 ;;
			esac
		done
		case $4 in
		*[!0-9A-Fa-f]*) echo "is not \"USAGE SELECTOR MTYPE HEX\": the data is not hexadecimal"; return 1 ;;
		esac
		v="$1 $2 $3 $4" ;;
	*)
		echo "internal: unknown kind $kind"
		return 1 ;;
	esac
	printf '%s' "$v"
}

# dotstub_uci_value SECTION OPTION KIND KEY VALUE: check VALUE; write the
# line "KEY VALUE" unless KEY is "-".
dotstub_uci_value() {
	local why
	if ! why=$(dotstub_uci_check "$3" "$5"); then
		dotstub_uci_err "dotstub.$1.$2: '$5' $why"
		return 0
	fi
	[ "$4" = - ] || printf '%s "%s"\n' "$4" "$why"
}

# dotstub_uci_option SECTION OPTION KIND KEY: one line per value.
dotstub_uci_option() {
	local sec=$1 opt=$2 kind=$3 key=$4 v len='' IFS
	case $kind in
	list:*)
		kind=${kind#list:}
		v=$(dotstub_uci_list "$sec" "$opt")
		IFS=$DOTSTUB_UCI_NL
		set -f
		# shellcheck disable=SC2086 # one value a line, no globbing
		set -- $v
		set +f
		unset IFS
		for v in "$@"; do
			dotstub_uci_value "$sec" "$opt" "$kind" "$key" "$v"
		done ;;
	*)
		config_get len "$sec" "${opt}_LENGTH"
		if [ -n "$len" ] && [ "$len" -gt 1 ]; then
			dotstub_uci_err "dotstub.$sec.$opt: one value, not a list of $len"
			return 0
		fi
		v=$(dotstub_uci_get "$sec" "$opt")
		[ -z "$v" ] || dotstub_uci_value "$sec" "$opt" "$kind" "$key" "$v" ;;
	esac
}

# dotstub_uci_known: every section and option seen by dotstub_uci_load is
# one of the schema's.
dotstub_uci_known() {
	local s o
	for s in $DOTSTUB_UCI_SEEN_SECTIONS; do
		case " $DOTSTUB_UCI_SECTIONS " in
		*" $s "*) ;;
		*) dotstub_uci_err "section '${s%%:*}' of type '${s#*:}': unknown" \
			"(the sections are: config dotstub 'main', config upstream 'static')" ;;
		esac
	done
	for o in $DOTSTUB_UCI_SEEN; do
		case $DOTSTUB_UCI_SCHEMA in
		*"$DOTSTUB_UCI_NL${o%%.*} ${o#*.} "*) ;;
		*) case " $DOTSTUB_UCI_SECTIONS " in
		   *" ${o%%.*}:"*) dotstub_uci_err "dotstub.$o: unknown option" ;;
		   esac ;;
		esac
	done
}

# dotstub_uci_static: the upstream lines of the section static, if enabled.
dotstub_uci_static() {
	local name addrs tlsas a why IFS
	dotstub_uci_option static enabled bool -
	[ "$(dotstub_uci_bool "$(dotstub_uci_get static enabled)")" = yes ] || return 0
	name=$(dotstub_uci_get static name)
	addrs=$(dotstub_uci_list static address)
	tlsas=$(dotstub_uci_list static tlsa)
	if [ -z "$name" ] || [ -z "$addrs" ] || [ -z "$tlsas" ]; then
		dotstub_uci_err "dotstub.static: an enabled static upstream needs a name," \
			"an address and a tlsa record"
		return 0
	fi
	if ! why=$(dotstub_uci_check host "$name"); then
		dotstub_uci_err "dotstub.static.name: '$name' $why"
		return 0
	fi
	IFS=$DOTSTUB_UCI_NL
	set -f
	# shellcheck disable=SC2086 # one value a line, no globbing
	set -- $addrs
	set +f
	unset IFS
	for a in "$@"; do
		if why=$(dotstub_uci_check addr "$a"); then
			printf 'upstream "%s@%s"\n' "$name" "$why"
		else
			dotstub_uci_err "dotstub.static.address: '$a' $why"
		fi
	done
	dotstub_uci_option static tlsa list:tlsa tlsa
}

# dotstub_uci_generate: print dotstub.conf; non-zero, with a line on stderr
# for each problem, when the UCI configuration is wrong.
dotstub_uci_generate() {
	local sec opt kind key
	DOTSTUB_UCI_BAD=
	if [ "${DOTSTUB_UCI_LOADED:-1}" != 0 ]; then
		dotstub_uci_err "uci cannot read it: ${DOTSTUB_UCI_PARSE:-no message}"
		return 1
	fi
	echo "# generated from /etc/config/dotstub by /etc/init.d/dotstub: edit that file"
	dotstub_uci_known
	while read -r sec opt kind key; do
		[ -n "$sec" ] || continue
		[ "$sec" != main ] || dotstub_uci_option "$sec" "$opt" "$kind" "$key"
	done <<EOF
$DOTSTUB_UCI_SCHEMA
EOF
	dotstub_uci_static
	[ -z "$DOTSTUB_UCI_BAD" ]
}
