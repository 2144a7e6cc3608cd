#!/usr/bin/env python3
"""tcp_clients.py -- hostile and demanding DNS-over-TCP clients for the
listener tests (tests/integration/tcp_listener.sh).  Every loop is bounded
in count and in time.

  pipeline ADDR N PREFIX SECONDS
      one connection sends N queries (PREFIX<i>.bench.test A, i < N) in one
      write and reads answers until it has N or SECONDS pass; prints the
      number of answers with a matching ID.
  noread ADDR PID CLIENTS QUERIES NAME SECONDS
      CLIENTS connections (small receive buffers) each send QUERIES queries
      for NAME TXT and never read; once the daemon's memory settles (or
      SECONDS pass), prints "rss_before_kib rss_after_kib open" where open
      is how many of the connections the daemon still holds (a write
      probe fails on the others), then closes them.
  slow ADDR CONNS SOURCES SECONDS READYFILE
      CONNS connections from SOURCES loopback source addresses
      (127.0.2.1..) each send a query one byte a second; a connection the
      daemon closes is opened again.  Writes READYFILE once all CONNS are
      connected; prints "connects N closed_by_server M" at the end.
  idle ADDR CONNS SECONDS
      CONNS connections that send nothing, held for SECONDS; prints how
      many the daemon closed during that time.
  inflight ADDR N PREFIX SECONDS READYFILE
      one connection asks localhost A and reads the answer, then sends N
      queries (PREFIX<i>.test A) in one write and never reads; writes
      READYFILE once they are sent and holds the connection SECONDS.
  udpburst ADDR N PREFIX SECONDS
      N UDP queries (PREFIX<i>.test A) from one socket at once; reads the
      answers for up to SECONDS; prints "answers A servfail S other O".
  ctlidle PATH N SECONDS READYFILE
      N connections to the control socket PATH that send nothing; once the
      daemon closed one (or after 1 s) writes READYFILE with how many it
      closed, holds the rest until SECONDS, then closes them all.
  silent ADDR PORT SECONDS
      a TCP server that never accepts: connections wait in its backlog and
      a TLS handshake never completes (an upstream that is not ready).
Ports: 53.
"""
import os
import selectors
import socket
import struct
import sys
import time

PORT = 53


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype):
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name_wire(name) + \
        struct.pack(">HH", qtype, 1)
    return struct.pack(">H", len(msg)) + msg


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def pipeline(addr, n, prefix, seconds):
    s = socket.create_connection((addr, PORT), timeout=seconds)
    s.sendall(b"".join(query(i, "%s%d.bench.test" % (prefix, i), 1) for i in range(n)))
    seen, buf = set(), b""
    deadline = time.monotonic() + seconds
    while len(seen) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data = s.recv(65536)
        except (socket.timeout, OSError):
            break
        if not data:
            break
        buf += data
        while len(buf) >= 2:
            ln = struct.unpack(">H", buf[:2])[0]
            if len(buf) < 2 + ln:
                break
            msg, buf = buf[2:2 + ln], buf[2 + ln:]
            if ln >= 12:
                seen.add(struct.unpack(">H", msg[:2])[0])
    s.close()
    print(len(seen))


def noread(addr, pid, clients, queries, name, seconds):
    before = vmrss_kib(pid)
    socks = []
    payload = b"".join(query(i & 0xffff, name, 16) for i in range(queries))
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((addr, PORT))
        s.setblocking(False)
        socks.append([s, 0])
    deadline = time.monotonic() + seconds
    # send what the kernel takes, round robin, until all is sent or time is up
    while time.monotonic() < deadline and any(off < len(payload) for _, off in socks):
        progress = False
        for e in socks:
            if e[1] >= len(payload):
                continue
            try:
                n = e[0].send(payload[e[1]:e[1] + 65536])
                e[1] += n
                progress = progress or n > 0
            except BlockingIOError:
                pass
            except OSError:
                e[1] = len(payload)
        if not progress:
            time.sleep(0.05)  # pacing: the daemon reading is the condition
    # the daemon's memory settles: no growth over 0.5 s, or time is up
    last = vmrss_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)  # pacing: a stable RSS is the condition
        now = vmrss_kib(pid)
        if now <= last:
            break
        last = now
    after = max(last, vmrss_kib(pid))
    still = 0
    for s, _ in socks:
        # a connection the daemon closed shows EOF/RST on a zero-timeout poll
        # after draining what is buffered (bounded reads)
        alive = True
        try:
            for _ in range(4096):
                d = s.recv(65536)
                if not d:
                    alive = False
                    break
        except BlockingIOError:
            pass
        except OSError:
            alive = False
        still += alive
    for s, _ in socks:
        s.close()
    print(before, after, still)


def slow(addr, conns, sources, seconds, readyfile):
    msg = query(0x5151, "www.test", 1)
    sel = selectors.DefaultSelector()
    state = {}  # sock -> next byte offset
    connects = closed = 0
    max_connects = conns * 40

    def open_one(i):
        nonlocal connects
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.2.%d" % (1 + i % sources), 0))
        s.settimeout(2)
        try:
            s.connect((addr, PORT))
        except OSError:
            s.close()
            return
        s.setblocking(False)
        connects += 1
        state[s] = 0
        sel.register(s, selectors.EVENT_READ)

    start = time.monotonic()
    for i in range(conns):
        open_one(i)
    with open(readyfile, "w") as f:
        f.write("%d\n" % len(state))
    next_tick = time.monotonic()
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + 1.0
            for s in list(state):
                off = state[s]
                try:
                    s.send(msg[off % len(msg):off % len(msg) + 1])
                    state[s] = off + 1
                except OSError:
                    pass
        for key, _ in sel.select(timeout=max(0.0, min(0.2, next_tick - time.monotonic()))):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                closed += 1
                sel.unregister(s)
                del state[s]
                s.close()
                if connects < max_connects:
                    open_one(connects)
    for s in list(state):
        s.close()
    print("connects", connects, "closed_by_server", closed)


def idle(addr, conns, seconds):
    socks = [socket.create_connection((addr, PORT), timeout=2) for _ in range(conns)]
    for s in socks:
        s.setblocking(False)
    closed = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(closed) < conns:
        time.sleep(0.1)  # pacing: the daemon closing connections is the condition
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if not s.recv(1):
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
    for s in socks:
        s.close()
    print(len(closed))


def read_answer(s):
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
        data = s.recv(65536)
        if not data:
            raise OSError("closed before the answer")
        buf += data
    return buf[2:]


def inflight(addr, n, prefix, seconds, readyfile):
    s = socket.create_connection((addr, PORT), timeout=seconds)
    s.sendall(query(0xffff, "localhost", 1))
    read_answer(s)
    s.sendall(b"".join(query(i, "%s%d.test" % (prefix, i), 1) for i in range(n)))
    with open(readyfile, "w") as f:
        f.write("sent %d\n" % n)
    time.sleep(seconds)  # holding the connection is the point
    s.close()


def udpburst(addr, n, prefix, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        s.sendto(query(i, "%s%d.test" % (prefix, i), 1)[2:], (addr, PORT))
    seen, servfail, other = set(), 0, 0
    deadline = time.monotonic() + seconds
    while len(seen) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg = s.recv(65536)
        except (socket.timeout, OSError):
            break
        if len(msg) < 12:
            continue
        qid = struct.unpack(">H", msg[:2])[0]
        if qid in seen:
            continue
        seen.add(qid)
        if msg[3] & 0x0f == 2:
            servfail += 1
        else:
            other += 1
    print("answers %d servfail %d other %d" % (len(seen), servfail, other))


def ctlidle(path, n, seconds, readyfile):
    start = time.monotonic()
    socks = []
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        c.setblocking(False)
        socks.append(c)
    closed = set()
    reported = False
    while time.monotonic() < start + seconds:
        for i, c in enumerate(socks):
            if i in closed:
                continue
            try:
                if not c.recv(256):
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
        if not reported and (closed or time.monotonic() > start + 1):
            with open(readyfile, "w") as f:
                f.write("closed %d\n" % len(closed))
            reported = True
        time.sleep(0.05)  # pacing: the daemon closing a connection is the condition
    for c in socks:
        c.close()
    print(len(closed))


def silent(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1024)
    time.sleep(seconds)  # never accepting is the point
    s.close()


def main(argv):
    cmd = argv[1]
    if cmd == "pipeline":
        pipeline(argv[2], int(argv[3]), argv[4], float(argv[5]))
    elif cmd == "noread":
        noread(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), argv[6], float(argv[7]))
    elif cmd == "slow":
        slow(argv[2], int(argv[3]), int(argv[4]), float(argv[5]), argv[6])
    elif cmd == "idle":
        idle(argv[2], int(argv[3]), float(argv[4]))
    elif cmd == "inflight":
        inflight(argv[2], int(argv[3]), argv[4], float(argv[5]), argv[6])
    elif cmd == "udpburst":
        udpburst(argv[2], int(argv[3]), argv[4], float(argv[5]))
    elif cmd == "ctlidle":
        ctlidle(argv[2], int(argv[3]), float(argv[4]), argv[5])
    elif cmd == "silent":
        silent(argv[2], int(argv[3]), float(argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
