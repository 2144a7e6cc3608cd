#!/usr/bin/env bash
# isolated.sh SCRIPT [ARGS...] -- run an integration test in a network
# namespace of its own, with only a loopback interface up.
#
# The tests bind fixed loopback addresses and ports (127.0.0.53:53, a
# resolver on 127.0.0.2 ...) and create their own named namespaces (named
# after their process id): in a namespace each, two of them can run at the
# same time without seeing each other's sockets, and none sees the host's.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 SCRIPT [ARGS...]" >&2
	exit 2
fi
if [ -n "${DOTSTUB_ISOLATED:-}" ]; then
	ip link set lo up || exit 1
	exec bash "$@"
fi
export DOTSTUB_ISOLATED=1
exec unshare --net -- bash "$0" "$@"
