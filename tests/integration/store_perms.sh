#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The state directory is not trusted blindly.  dotstubd must refuse to
# start (exit 2, naming the path and the fix) when the state directory or
# the anchors file in it could have been written by someone other than root
# or the daemon's user: a world-writable or foreign-owned state directory,
# a group-writable or foreign-owned anchors file, a parent directory
# writable by others (no sticky bit), a state directory that is a symbolic
# link.  Nothing is chowned on the way (with --user, root used to chown the
# link's target).  The happy paths (root-owned, and owned by the daemon's
# user) still start and keep their pins; a store too large to read is
# quarantined with a readable message.
set -u
# shellcheck source=../lib/common.sh
. "$DOTSTUB_SRC/tests/lib/common.sh"
trap 'ds_stop_all; rm -rf "$T_DIR"' EXIT
# the daemon's user must be able to reach its state directory
chmod 0755 "$T_DIR"

L=127.0.0.91
NOBODY=$(id -u nobody)

# A key-signing key to pin (P-256, algorithm 13).
KEY=$(openssl ecparam -name prime256v1 -genkey 2>/dev/null | openssl ec -pubout -outform DER 2>/dev/null |
	tail -c 64 | base64 -w0)
DNSKEY="resolver.test. 3600 IN DNSKEY 257 3 13 $KEY"

# run_refused NAME STATE-DIR [options...]: run dotstubd in the foreground
# (it should exit at once); sets RC and OUT.  A daemon that starts anyway is
# stopped after 3 s (RC 124).
run_refused() {
	local name=$1 state=$2
	shift 2
	mkdir -p "$T_DIR/$name"
	OUT=$(timeout 3 "$DOTSTUBD" -f --control "$T_DIR/$name/control" --state-dir "$state" \
		--anchors-dir "$T_DIR/$name/anchors.d" --listen $L:53 "$@" 2>&1)
	RC=$?
}

# owner:group:mode of each path, to show nothing was chowned or chmodded
stat_all() { stat -c '%n %u:%g %a' "$@" 2>&1; }

# ---- happy path: a root-owned state directory and anchors file
s_happy_root() {
	local st f out pin
	st=$T_DIR/h/state
	ds_start h --listen $L:53 || return 1
	out=$(ds_ctl h trust import - <<<"$DNSKEY" 2>&1)
	expect_contains "a key is imported" "$out" "resolver.test"
	pin=$(ds_ctl h trust list | grep trusted)
	ds_stop h
	f=$st/anchors
	expect_eq "the anchors file is root's, 0644" "$(stat -c '%u %a' "$f")" "0 644"
	ds_start h --listen $L:53 || return 1
	out=$(ds_ctl h trust list 2>&1)
	expect_contains "after a restart the pin is read back" "$out" "${pin:-no pin}"
	expect_not_contains "no complaint about the state directory" "$(ds_log h)" "writable"
}

# ---- happy path: with --user, the state directory is the user's
s_happy_user() {
	local st out pin
	st=$T_DIR/u/state
	ds_start u --listen $L:53 --user nobody || return 1
	expect_eq "the state directory is given to the daemon's user" "$(stat -c '%u' "$st")" "$NOBODY"
	out=$(ds_ctl u trust import - <<<"$DNSKEY" 2>&1)
	expect_contains "the user's daemon imports a key" "$out" "resolver.test"
	pin=$(ds_ctl u trust list | grep trusted)
	ds_stop u
	expect_eq "the anchors file is the user's" "$(stat -c '%u %a' "$st/anchors")" "$NOBODY 644"
	ds_start u --listen $L:53 --user nobody || return 1
	out=$(ds_ctl u trust list 2>&1)
	expect_contains "after a restart the user's pin is read back" "$out" "${pin:-no pin}"
}

# ---- hostile: the state directory is world-writable
s_dir_world_writable() {
	local st=$T_DIR/w/state before
	mkdir -p "$st"
	chmod 0777 "$st"
	before=$(stat_all "$st")
	run_refused w "$st"
	expect_eq "world-writable state directory: exit 2" "$RC" 2
	expect_contains "the message names the directory" "$OUT" "$st"
	expect_contains "the message gives the fix" "$OUT" "chmod go-w $st"
	expect_eq "nothing was changed" "$(stat_all "$st")" "$before"
}

# ---- hostile: the state directory belongs to another user
s_dir_foreign_owner() {
	local st=$T_DIR/o/state before
	mkdir -p "$st"
	chown nobody "$st"
	before=$(stat_all "$st")
	run_refused o "$st"
	expect_eq "state directory owned by nobody (daemon runs as root): exit 2" "$RC" 2
	expect_contains "the message names the directory" "$OUT" "$st"
	expect_contains "the message gives the fix" "$OUT" "chown root $st"
	expect_eq "nothing was changed" "$(stat_all "$st")" "$before"
}

# ---- hostile: the anchors file is group-writable / another user's
s_file_group_writable() {
	local st=$T_DIR/g/state before
	mkdir -p "$st"
	: >"$st/anchors"
	chmod 0664 "$st/anchors"
	before=$(stat_all "$st" "$st/anchors")
	run_refused g "$st"
	expect_eq "group-writable anchors file: exit 2" "$RC" 2
	expect_contains "the message names the file" "$OUT" "$st/anchors"
	expect_contains "the message gives the fix" "$OUT" "chmod go-w $st/anchors"
	expect_eq "nothing was changed" "$(stat_all "$st" "$st/anchors")" "$before"
}

s_file_foreign_owner() {
	local st=$T_DIR/fo/state before
	mkdir -p "$st"
	: >"$st/anchors"
	chown nobody "$st/anchors"
	before=$(stat_all "$st" "$st/anchors")
	run_refused fo "$st" --user daemon
	expect_eq "anchors file owned by nobody (daemon's user: daemon): exit 2" "$RC" 2
	expect_contains "the message names the file" "$OUT" "$st/anchors"
	expect_eq "nothing was changed" "$(stat_all "$st" "$st/anchors")" "$before"
}

# ---- hostile: a parent of the state directory is writable by others
s_parent_writable() {
	local p=$T_DIR/p/open st before
	st=$p/state
	mkdir -p "$st"
	chmod 0777 "$p"
	before=$(stat_all "$p" "$st")
	run_refused p "$st"
	expect_eq "a parent writable by others (no sticky bit): exit 2" "$RC" 2
	expect_contains "the message names the parent" "$OUT" "$p "
	expect_eq "nothing was changed" "$(stat_all "$p" "$st")" "$before"
	# a sticky parent (like /tmp) is fine: others cannot replace our entry
	chmod 1777 "$p"
	ds_start p --state-dir "$st" --listen $L:53 || return 1
	check "a sticky world-writable parent is accepted" ds_ctl p trust list
}

# ---- hostile: the state directory is a symbolic link (--user: root would
# chown the link's target)
s_symlink() {
	local real=$T_DIR/s/real st=$T_DIR/s/state before
	mkdir -p "$real"
	chmod 0700 "$real"
	echo secret >"$real/secret"
	chmod 0600 "$real/secret"
	ln -s "$real" "$st"
	before=$(stat_all "$real" "$real/secret")
	run_refused s "$st" --user nobody
	expect_eq "state directory is a symlink: exit 2" "$RC" 2
	expect_contains "the message names the link" "$OUT" "$st"
	expect_contains "the message says it is a symbolic link" "$OUT" "symbolic link"
	expect_eq "the link's target was not chowned" "$(stat_all "$real" "$real/secret")" "$before"
}

# ---- a store too large to read is quarantined, with a readable message
s_too_large() {
	local st=$T_DIR/t/state out
	mkdir -p "$st"
	truncate -s 9M "$st/anchors"
	ds_start t --listen $L:53 || return 1
	check "the daemon starts with a too-large store" ds_ctl t status
	out=$(ds_log t)
	expect_contains "the store was quarantined" "$out" "ALERT trust store was corrupt (cannot read: File too large)"
	expect_not_contains "no number glued to the error text" "$out" "large0"
}

scenario happy_root s_happy_root
scenario happy_user s_happy_user
scenario dir_world_writable s_dir_world_writable
scenario dir_foreign_owner s_dir_foreign_owner
scenario file_group_writable s_file_group_writable
scenario file_foreign_owner s_file_foreign_owner
scenario parent_writable s_parent_writable
scenario symlink s_symlink
scenario too_large s_too_large
finish
