#!/usr/bin/env python3
"""seccomp_calls.py -- the system calls each of dotstubd's processes makes
once its seccomp filter would be in force, from strace logs.

How the lists of stub/daemon/sandbox.c are found again:

    mkdir /tmp/traces
    STRACE_DIR=/tmp/traces DS_WRAP=$PWD/tests/tools/strace_wrap.sh \\
        meson test -C build --suite integration --num-processes 1
    tests/tools/seccomp_calls.py /tmp/traces

strace_wrap.sh runs each daemon the tests start under strace -f, with
"--seccomp no" (so that nothing is killed), into one log per daemon.  (Under
strace, signals reach strace, not the daemon: the tests that send signals
fail; the calls they would make are in sandbox.c's comments, and a run of
the suite with the filters on is the final word.)

A log's first process is the store process, any process it forks is the
network process, and a thread is its creator's kind.  A process's calls
count from its prctl(PR_SET_NO_NEW_PRIVS), which ds_sandbox_enter makes
right before it loads the filter.  Prints, per kind, the calls and, for the
calls whose arguments the filters check (openat's flags, socket's family,
ioctl's request, clone's flags), the arguments seen.
"""
import collections
import glob
import os
import re
import sys

LINE = re.compile(r'^(\d+)\s+(.*)$')
CALL = re.compile(r'^(?:<\.\.\. (\w+) resumed>|(\w+)\()')
CHECKED = ('openat', 'open', 'socket', 'ioctl', 'clone', 'mmap', 'mprotect', 'kill', 'tgkill')


def args_of(name, rest):
    a = rest[len(name) + 1:]
    if name in ('openat', 'open'):
        flags = set(re.findall(r'O_[A-Z]+', a)) & {'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC',
                                                    'O_APPEND', 'O_TMPFILE'}
        return '|'.join(sorted(flags)) or 'read-only'
    if name == 'socket':
        return a.split(',')[0]
    if name == 'ioctl':
        return a.split(',')[1].strip().split()[0] if ',' in a else '?'
    if name == 'clone':
        return 'CLONE_THREAD' if 'CLONE_THREAD' in a else 'no CLONE_THREAD'
    if name in ('mmap', 'mprotect'):
        return 'PROT_EXEC' if 'PROT_EXEC' in a else 'no PROT_EXEC'
    return ''


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    calls = {'store': collections.Counter(), 'network': collections.Counter()}
    seen = {'store': collections.Counter(), 'network': collections.Counter()}
    for path in glob.glob(os.path.join(sys.argv[1], 't.*')):
        kind, marked, started = {}, {}, {}
        first = None
        for raw in open(path, errors='replace'):
            m = LINE.match(raw)
            if not m:
                continue
            pid, rest = int(m.group(1)), m.group(2)
            if first is None:
                first = pid
                kind[pid], marked[pid] = 'store', False
            kind.setdefault(pid, 'network')
            marked.setdefault(pid, False)
            c = CALL.match(rest)
            if not c:
                continue
            name = c.group(1) or c.group(2)
            if c.group(2):
                started[pid] = rest
            if 'PR_SET_NO_NEW_PRIVS' in rest:
                marked[pid] = True
                continue
            if name in ('clone', 'clone3', 'fork', 'vfork') and ' = ' in rest:
                ret = rest.rsplit(' = ', 1)[1].split()[0]
                if ret.isdigit() and int(ret) > 0:
                    child = int(ret)
                    thread = 'CLONE_THREAD' in started.get(pid, '') + rest
                    kind[child] = kind[pid] if thread else 'network'
                    marked[child] = marked[pid] if thread else False
            if not marked[pid] or c.group(1):
                continue  # a resumed call was counted where it started
            calls[kind[pid]][name] += 1
            if name in CHECKED:
                seen[kind[pid]][name + ' ' + args_of(name, rest)] += 1
    for k in ('store', 'network'):
        print('%s process: %d system calls' % (k, len(calls[k])))
        print('  ' + ' '.join(sorted(calls[k])))
        for s, n in sorted(seen[k].items()):
            print('    %-40s %d' % (s, n))
    return 0


if __name__ == '__main__':
    sys.exit(main())
