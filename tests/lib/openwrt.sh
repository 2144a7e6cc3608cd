# shellcheck shell=dash
# openwrt.sh -- enough of OpenWrt for the files of packaging/openwrt/files
# to run unchanged on Debian, under dash or BusyBox ash (OpenWrt's shell).
# Source it; OpenWrt's own files are GPL and not copied here: what follows
# is written from their documented behaviour.
#
# UCI, as /lib/functions.sh and /lib/config/uci.sh give it to scripts:
#   uci [-c DIR] [-S] export NAME
#                              the file DIR/NAME (DIR: /etc/config) as "uci
#                              export" prints it: "package", then
#                              config/option/list lines with the values in
#                              single quotes.  A line uci cannot parse is
#                              reported as uci does ("uci: Parse error (...)
#                              at line N"); then the status is 1, or with -S
#                              (not strict, as uci_load asks) the line is
#                              left out and the rest exported.  The file is
#                              parsed with libuci's rules, one statement a
#                              line: words separated by blanks, '...' taken
#                              as is, "..." and bare words with backslash
#                              escapes, '#' starting a comment, names of
#                              [A-Za-z0-9_], more words than the statement
#                              takes an error only when strict.
#   config_load NAME           uci_load: "uci export" evaluated, calling
#                              config, option and list, which set the
#                              CONFIG_<section>_<option> variables (lists:
#                              _ITEMn, _LENGTH, and the values joined) and
#                              call config_cb, option_cb and list_cb
#   reset_cb, config_get, config_get_bool, config_list_foreach,
#   config_foreach, config_set  as in /lib/functions.sh
#
# procd, as /lib/functions/procd.sh talks to it, for one service whose one
# instance really runs: procd_open_service, procd_open_instance,
# procd_set_param, procd_close_instance, procd_close_service (which calls
# service_triggers, then does what procd does with the service: no
# instance stops it; an instance whose command, parameters or files'
# contents changed, or that is not running, is (re)started with stdout and
# stderr into $OWRT_PROCD/instance.log; an unchanged running one is left
# alone), procd_running, procd_send_signal, procd_kill, and the triggers
# (recorded).  Every call that acts is logged in $OWRT_PROCD/calls.
#
# logger: one line "logger ARGS" appended to $OWRT_LOG.
#
# Needs OWRT_PROCD (a directory) and OWRT_LOG; UCI_CONFIG_DIR for UCI.

# ---------------------------------------------------------------- UCI

owrt_uci_export() { # FILE STRICT(0|1)
	[ -r "$1" ] || { echo "uci: Entry not found" >&2; return 1; }
	awk -v pkg="${1##*/}" -v strict="$2" '
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	function ident(s) { return s ~ /^[A-Za-z0-9_]+$/ }
	# the words of line into t[1..n]; "" or what is wrong
	function tokenize(line,    L, i, j, c, tok, closed) {
		L = length(line); i = 1; n = 0
		while (i <= L) {
			c = substr(line, i, 1)
			if (c == " " || c == "\t") { i++; continue }
			if (c == "#")
				break
			tok = ""
			while (i <= L) {
				c = substr(line, i, 1)
				if (c == " " || c == "\t")
					break
				if (c == "\047") {
					j = index(substr(line, i + 1), "\047")
					if (!j)
						return "unterminated \047"
					tok = tok substr(line, i + 1, j - 1)
					i += j + 1
				} else if (c == "\"") {
					i++
					closed = 0
					while (i <= L) {
						c = substr(line, i, 1)
						if (c == "\\" && i < L) {
							tok = tok substr(line, i + 1, 1)
							i += 2
						} else if (c == "\"") {
							closed = 1
							i++
							break
						} else {
							tok = tok c
							i++
						}
					}
					if (!closed)
						return "unterminated \""
				} else if (c == "\\" && i < L) {
					tok = tok substr(line, i + 1, 1)
					i += 2
				} else {
					tok = tok c
					i++
				}
			}
			t[++n] = tok
		}
		return ""
	}
	# the statement in t[1..n] as uci export prints it, in out; "" or what is wrong
	function statement(    max) {
		out = ""
		if (t[1] == "package") {
			max = 2
			if (n < 2)
				return "insufficient arguments"
		} else if (t[1] == "config") {
			max = 3
			if (n < 2)
				return "insufficient arguments"
			if (!ident(t[2]) || (n >= 3 && !ident(t[3])))
				return "invalid character in field"
			out = "\nconfig " t[2] (n >= 3 ? " " q(t[3]) : "")
			insection = 1
		} else if (t[1] == "option" || t[1] == "list") {
			max = 3
			if (!insection)
				return "option/list command found before the first section"
			if (n < 3)
				return "insufficient arguments"
			if (!ident(t[2]))
				return "invalid character in field"
			out = "\t" t[1] " " t[2] " " q(t[3])
		} else {
			return "invalid command"
		}
		if (n > max && strict)
			return "too many arguments"
		return ""
	}
	BEGIN { print "package " pkg }
	{
		out = ""
		why = tokenize($0)
		if (why == "" && n > 0)
			why = statement()
		if (why != "") {
			printf "uci: Parse error (%s) at line %d\n", why, FNR > "/dev/stderr"
			if (strict) {
				failed = 1
				exit 1
			}
			next
		}
		if (out != "")
			print out
	}
	END { if (failed) exit 1 }
	' "$1"
}

uci() {
	local dir=/etc/config strict=1
	while [ $# -gt 0 ]; do
		case $1 in
		-c) dir=$2; shift 2 ;;
		-S) strict=0; shift ;;
		-q|-n) shift ;;
		-P) shift 2 ;;
		*) break ;;
		esac
	done
	case $1 in
	export) owrt_uci_export "$dir/$2" "$strict" ;;
	*) echo "uci: the test stand-in knows only export" >&2; return 1 ;;
	esac
}

append() { # VAR VALUE [SEP]
	local _v
	eval "_v=\${$1}"
	eval "$1=\${_v:+\${_v}\${3:- }}\$2"
}

reset_cb() {
	config_cb() { return 0; }
	option_cb() { return 0; }
	list_cb() { return 0; }
}
reset_cb

package() { return 0; }

config() {
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	CONFIG_SECTION=${2:-cfg$CONFIG_NUM_SECTIONS}
	append CONFIG_SECTIONS "$CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
	config_cb "$1" "$CONFIG_SECTION"
}

option() {
	local name=$1
	shift
	config_set "$CONFIG_SECTION" "$name" "$*"
	option_cb "$name" "$*"
}

list() {
	local name=$1 len
	shift
	config_get len "$CONFIG_SECTION" "${name}_LENGTH" 0
	[ "$len" != 0 ] || append CONFIG_LIST_STATE "${CONFIG_SECTION}_$name"
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${name}_ITEM$len" "$*"
	config_set "$CONFIG_SECTION" "${name}_LENGTH" "$len"
	append "CONFIG_${CONFIG_SECTION}_$name" "$*" " "
	list_cb "$name" "$*"
}

config_set() { eval "CONFIG_${1}_${2}=\$3"; }

config_get() {
	case "$2${3:-$1}" in
	*[!A-Za-z0-9_]*) : ;;
	*)
		case $3 in
		"") eval echo "\"\${CONFIG_${1}_${2}:-\${4}}\"" ;;
		*) eval "${1}=\${CONFIG_${2}_${3}:-\${4}}" ;;
		esac ;;
	esac
}

config_get_bool() {
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	case $_tmp in
	1|on|true|yes|enabled) _tmp=1 ;;
	0|off|false|no|disabled) _tmp=0 ;;
	*) _tmp=$4 ;;
	esac
	eval "$1=\$_tmp"
}

config_foreach() {
	local ___function=$1 ___type section cfgtype
	[ $# -ge 1 ] && shift
	___type=${1:-}
	[ $# -ge 1 ] && shift
	for section in $CONFIG_SECTIONS; do
		config_get cfgtype "$section" TYPE
		[ -n "$___type" ] && [ "$cfgtype" != "$___type" ] && continue
		"$___function" "$section" "$@"
	done
}

config_list_foreach() {
	[ $# -ge 3 ] || return 0
	local section=$1 option=$2 function=$3 val len c=1
	shift 3
	config_get len "$section" "${option}_LENGTH"
	[ -z "$len" ] && return 0
	while [ "$c" -le "$len" ]; do
		config_get val "$section" "${option}_ITEM$c"
		"$function" "$val" "$@"
		c=$((c + 1))
	done
}

config_load() {
	local data ret v
	for v in $CONFIG_LIST_STATE; do
		eval "CONFIG_$v= CONFIG_${v}_LENGTH="
	done
	CONFIG_LIST_STATE=
	CONFIG_SECTIONS=
	CONFIG_NUM_SECTIONS=0
	CONFIG_SECTION=
	data=$(uci ${UCI_CONFIG_DIR:+-c "$UCI_CONFIG_DIR"} -S -n export "$1" 2>/dev/null)
	ret=$?
	[ "$ret" != 0 ] || [ -z "$data" ] || eval "$data"
	[ -z "$CONFIG_SECTION" ] || config_cb
	return "$ret"
}

# ---------------------------------------------------------------- logd

logger() { printf 'logger %s\n' "$*" >>"$OWRT_LOG"; }

# ---------------------------------------------------------------- procd

owrt_call() { printf '%s\n' "$*" >>"$OWRT_PROCD/calls"; }

owrt_pid_alive() { # PID: running, not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

owrt_instance_pid() {
	local pid
	pid=$(cat "$OWRT_PROCD/pid" 2>/dev/null) || return 1
	owrt_pid_alive "$pid" || return 1
	echo "$pid"
}

owrt_instance_stop() {
	local pid n=0
	pid=$(owrt_instance_pid) || { rm -f "$OWRT_PROCD/pid"; return 0; }
	owrt_call "stop pid $pid"
	kill -TERM "$pid" 2>/dev/null
	while owrt_pid_alive "$pid" && [ "$n" -lt 100 ]; do
		sleep 0.05 # pacing of this poll loop (the process gone is the condition)
		n=$((n + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$OWRT_PROCD/pid"
}

procd_open_service() {
	OWRT_SERVICE=$1
	OWRT_NINST=0
	: >"$OWRT_PROCD/spec.new"
	: >"$OWRT_PROCD/command.new"
}

procd_open_instance() {
	OWRT_NINST=$((OWRT_NINST + 1))
	echo "instance ${1:-instance$OWRT_NINST}" >>"$OWRT_PROCD/spec.new"
}

procd_set_param() {
	local type=$1 f
	shift
	case $type in
	command)
		printf '%s\n' "$@" >"$OWRT_PROCD/command.new"
		printf 'command %s\n' "$*" >>"$OWRT_PROCD/spec.new" ;;
	file)
		for f in "$@"; do
			printf 'file %s %s\n' "$f" "$(md5sum <"$f" 2>/dev/null)" >>"$OWRT_PROCD/spec.new"
		done ;;
	*)
		printf 'param %s %s\n' "$type" "$*" >>"$OWRT_PROCD/spec.new" ;;
	esac
}

procd_close_instance() { :; }

procd_add_reload_trigger() { owrt_call "reload_trigger $*"; }
procd_add_interface_trigger() { owrt_call "interface_trigger $*"; }
procd_add_reload_interface_trigger() { owrt_call "reload_interface_trigger $*"; }

procd_close_service() {
	local pid a
	service_triggers
	if [ "$OWRT_NINST" -gt 1 ]; then
		owrt_call "error: $OWRT_NINST instances (the stand-in runs one)"
		return 1
	fi
	if [ "$OWRT_NINST" = 0 ]; then
		owrt_call "set $OWRT_SERVICE: no instance"
		owrt_instance_stop
		rm -f "$OWRT_PROCD/spec"
		return 0
	fi
	if owrt_instance_pid >/dev/null && cmp -s "$OWRT_PROCD/spec.new" "$OWRT_PROCD/spec"; then
		owrt_call "set $OWRT_SERVICE: unchanged"
		return 0
	fi
	owrt_instance_stop
	mv -f "$OWRT_PROCD/spec.new" "$OWRT_PROCD/spec"
	set --
	while IFS= read -r a; do
		set -- "$@" "$a"
	done <"$OWRT_PROCD/command.new"
	"$@" </dev/null >>"$OWRT_PROCD/instance.log" 2>&1 &
	pid=$!
	echo "$pid" >"$OWRT_PROCD/pid"
	owrt_call "set $OWRT_SERVICE: started pid $pid"
}

procd_running() {
	owrt_instance_pid >/dev/null
}

procd_send_signal() { # SERVICE [INSTANCE] [SIGNAL]
	local pid sig=${3:-HUP}
	owrt_call "signal $1 ${2:-*} $sig"
	pid=$(owrt_instance_pid) || return 0
	kill -s "$sig" "$pid"
}

procd_kill() {
	owrt_call "kill $*"
	owrt_instance_stop
	rm -f "$OWRT_PROCD/spec"
}
