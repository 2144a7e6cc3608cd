#!/bin/sh
# strace_wrap.sh -- DS_WRAP for tests/lib/common.sh: dotstubd under strace -f
# with its seccomp filters off, one log per daemon in $STRACE_DIR (read by
# tests/tools/seccomp_calls.py, which says how).
: "${STRACE_DIR:?set STRACE_DIR}"
exec strace -f -qq -o "$STRACE_DIR/t.$$" "$@" --seccomp no
