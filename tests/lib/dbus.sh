# shellcheck shell=bash
# dbus.sh -- a private system bus and the real resolvectl, for the
# resolve1 tests.  Source it after common.sh.
#
#	dbus_start DIR [POLICY...]
#	                      a dbus-daemon of our own with a system-bus
#	                      configuration in DIR (Debian's default policy in
#	                      its minimal form, plus the policy file dotstub
#	                      ships, packaging/dbus/dotstub-resolve1.conf, and
#	                      the POLICY files given: another service's own);
#	                      exports DBUS_SYSTEM_BUS_ADDRESS, which sd-bus
#	                      (dotstubd, busctl, resolvectl) and libdbus/GDBus
#	                      (NetworkManager, nmcli) honour
#	dbus_stop
#	dbus_stop_dir DIR     the bus of DIR, started in a subshell too
#	resolvectl_get        sets RESOLVECTL to a resolvectl binary (below)
#	bctl ARGS...          busctl --address=... ARGS
#
# resolvectl is in Debian 12's systemd-resolved package, whose installation
# takes /etc/resolv.conf over and enables the service: it is not installed.
# scripts/fetch-resolvectl.sh (run by scripts/deps.sh) unpacks the .deb of
# exactly the installed systemd's version into a cache directory; its
# resolvectl links the libsystemd-shared of the installed systemd package,
# which is why the versions must be the same.

DBUS_PID=

dbus_start() {
	local dir=$1 p includes=
	shift
	for p in "$@"; do
		includes+="  <include>$p</include>"$'\n'
	done
	mkdir -p "$dir"
	chmod 755 "$dir"
	cat >"$dir/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$DOTSTUB_SRC/packaging/dbus/dotstub-resolve1.conf</include>
$includes</busconfig>
CONF
	dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile --print-address=3 \
		3>"$dir/address" 2>"$dir/dbus.log" &
	DBUS_PID=$!
	echo "$DBUS_PID" >"$dir/dbus.pid"
	for _ in $(seq 1 100); do
		[ -s "$dir/address" ] && [ -S "$dir/system_bus_socket" ] && break
		sleep 0.05 # pacing of this poll loop (the socket appearing is the condition)
	done
	if [ ! -S "$dir/system_bus_socket" ]; then
		echo "dbus-daemon did not start: $(cat "$dir/dbus.log")"
		return 1
	fi
	DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/system_bus_socket
	export DBUS_SYSTEM_BUS_ADDRESS
}

dbus_stop() {
	[ -n "$DBUS_PID" ] && pid_stop "$DBUS_PID"
	DBUS_PID=
}

# dbus_stop_dir DIR: the bus of DIR, also one started in a subshell (a
# scenario), where DBUS_PID is not known
dbus_stop_dir() {
	local pid
	pid=$(cat "$1/dbus.pid" 2>/dev/null) && pid_stop "$pid"
	rm -f "$1/dbus.pid"
	DBUS_PID=
	return 0
}

bctl() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }

resolvectl_get() {
	if ! RESOLVECTL=$(bash "$DOTSTUB_SRC/scripts/fetch-resolvectl.sh" 2>&1); then
		echo "no resolvectl (scripts/deps.sh fetches it; a test in a network namespace cannot): $RESOLVECTL"
		RESOLVECTL=
		return 1
	fi
}
