#!/usr/bin/env python3
"""dot_clients.py -- DNS-over-TLS clients, demanding and hostile, for the
DoT server's tests (tests/integration/dot_server.sh).  Python's ssl
module (OpenSSL) speaks TLS 1.3 with ALPN "dot"; the server's
certificate is not checked here (kdig +tls-ca does that in the test).
Every loop is bounded in count and in time.  ADDR is ADDR or ADDR:PORT
(port 853).

  pipeline ADDR N PREFIX SECONDS
      one connection sends N queries (PREFIX<i>.bench.test A, i < N) in
      one write and reads answers until it has N or SECONDS pass; prints
      the number of distinct IDs answered.
  order ADDR
      one connection sends, in one write, a query that is forwarded
      (order0.wild.test A, TTL 0) and then one answered locally
      (localhost A); prints the IDs in the order the answers came (1 is
      the forwarded one, 2 the local one).
  padding ADDR
      one connection, queries for www.test A: with EDNS and a PADDING
      option (the query padded to 128 octets), with EDNS and no PADDING,
      without EDNS, and huge.test TXT with EDNS; for each prints "KIND
      LENGTH padding=0|1 rcode=N" (padding=1: the answer's OPT holds a
      PADDING option; the length is the DNS message's).
  query ADDR NAME TYPE [SOURCE]
      one query over a new connection (from SOURCE, an address to bind);
      prints "rcode N ede E" (E -1: none), or "closed" if the connection
      ended without an answer.
  idle ADDR CONNS SECONDS [SOURCE]
      CONNS connections, each completes its handshake then sends nothing,
      held for SECONDS; prints "open O closed C after S" -- how many the
      server closed meanwhile (and how many failed their handshake, as
      closed), and the longest a closed one lived after its handshake.
  noread ADDR PID CLIENTS QUERIES NAME SECONDS READYFILE HOLD
      CLIENTS connections (small receive buffers) each send QUERIES
      queries for NAME TXT and never read; once the daemon's memory
      settles (or SECONDS pass) writes "rss_before_kib rss_after_kib" to
      READYFILE, holds the connections HOLD seconds more (which of them the
      daemon still holds is for the test to ask: their answers fill the
      kernel's buffers, a close is not seen here before they are read),
      closes them and prints the same line.
  inflight ADDR N PREFIX SECONDS READYFILE
      one connection asks localhost A and reads the answer, then sends N
      queries (PREFIX<i>.test A) in one write and never reads; writes
      READYFILE once they are sent and holds the connection SECONDS.
  hostile ADDR KIND SECONDS
      one hostile connection; prints "closed_after S" (seconds until the
      server closed it) or "open" if it was still open after SECONDS:
        silent     connects and sends nothing
        slowhello  sends a real ClientHello one octet every 0.2 s
        http       sends "GET / HTTP/1.1" instead of a ClientHello
        notdns     handshake, then a 5-octet "message" (shorter than a header)
        raw        handshake, then bytes outside TLS on the socket
        prefix64k  handshake, then a length of 65535 and nothing after it
"""
import os
import select
import socket
import ssl
import struct
import sys
import time

PORT = 853


def hostport(a):
    if a.startswith("["):
        h, _, p = a[1:].partition("]")
        return h, int(p[1:]) if p else PORT
    if a.count(":") == 1:
        h, p = a.split(":")
        return h, int(p)
    return a, PORT


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype, edns=True, pad=False):
    """A query message (no length prefix).  pad: an EDNS PADDING option
    making the message a multiple of 128 octets (RFC 8467)."""
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + \
        name_wire(name) + struct.pack(">HH", qtype, 1)
    if not edns:
        return msg
    opts = b""
    if pad:
        base = len(msg) + 11 + 4
        plen = (128 - base % 128) % 128
        opts = struct.pack(">HH", 12, plen) + b"\0" * plen
    return msg + b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opts)) + opts


def framed(msg):
    return struct.pack(">H", len(msg)) + msg


def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["dot"])
    return ctx


def connect(addr, timeout, source=None, rcvbuf=None):
    raw = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET,
                        socket.SOCK_STREAM)
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        raw.bind((source, 0))
    raw.settimeout(timeout)
    raw.connect(addr)
    return context().wrap_socket(raw, server_hostname=None)


class Reader:
    """Framed messages from a TLS socket, with a deadline."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def next(self, deadline):
        while len(self.buf) < 2 or len(self.buf) < 2 + struct.unpack(">H", self.buf[:2])[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                return None
            if not data:
                return None
            self.buf += data
        ln = struct.unpack(">H", self.buf[:2])[0]
        msg, self.buf = self.buf[2:2 + ln], self.buf[2 + ln:]
        return msg


def skip_name(m, p):
    while True:
        ln = m[p]
        if ln == 0:
            return p + 1
        if ln & 0xc0 == 0xc0:
            return p + 2
        p += 1 + ln


def opt_options(m):
    """The options of the answer's OPT record as {code: data}, or None."""
    qd, an, ns, ar = struct.unpack(">HHHH", m[4:12])
    p = 12
    for _ in range(qd):
        p = skip_name(m, p) + 4
    for i in range(an + ns + ar):
        p = skip_name(m, p)
        rtype, _, _, rdlen = struct.unpack(">HHIH", m[p:p + 10])
        p += 10
        if rtype == 41:
            opts, q = {}, p
            while q < p + rdlen:
                code, olen = struct.unpack(">HH", m[q:q + 4])
                opts[code] = m[q + 4:q + 4 + olen]
                q += 4 + olen
            return opts
        p += rdlen
    return None


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def pipeline(addr, n, prefix, seconds):
    s = connect(addr, seconds)
    s.sendall(b"".join(framed(query(i, "%s%d.bench.test" % (prefix, i), 1)) for i in range(n)))
    r, seen = Reader(s), set()
    deadline = time.monotonic() + seconds
    while len(seen) < n:
        m = r.next(deadline)
        if m is None:
            break
        if len(m) >= 12:
            seen.add(struct.unpack(">H", m[:2])[0])
    s.close()
    print(len(seen))


def order(addr):
    s = connect(addr, 5)
    s.sendall(framed(query(1, "order0.wild.test", 1)) + framed(query(2, "localhost", 1)))
    r, ids = Reader(s), []
    deadline = time.monotonic() + 5
    while len(ids) < 2:
        m = r.next(deadline)
        if m is None:
            break
        ids.append(struct.unpack(">H", m[:2])[0])
    s.close()
    print(" ".join(str(i) for i in ids))


def padding(addr):
    s = connect(addr, 5)
    r = Reader(s)
    deadline = time.monotonic() + 5
    for qid, (kind, name, qtype, edns, pad) in enumerate([
            ("edns-padded", "www.test", 1, True, True),
            ("edns", "www.test", 1, True, False),
            ("no-edns", "www.test", 1, False, False),
            ("huge", "huge.test", 16, True, True)]):
        q = query(qid, name, qtype, edns, pad)
        if pad and len(q) % 128:
            raise SystemExit("the padded query is %d octets" % len(q))
        s.sendall(framed(q))
        m = r.next(deadline)
        if m is None:
            print(kind, "none")
            continue
        opts = opt_options(m)
        print(kind, len(m), "padding=%d" % (1 if opts and 12 in opts else 0),
              "rcode=%d" % (m[3] & 15))
    s.close()


def one_query(addr, name, qtype, source=None):
    try:
        s = connect(addr, 5, source)
        s.sendall(framed(query(7, name, int(qtype) if qtype.isdigit() else
                               {"A": 1, "AAAA": 28, "TXT": 16}[qtype])))
        m = Reader(s).next(time.monotonic() + 5)
        s.close()
    except (OSError, ssl.SSLError):
        m = None
    if m is None:
        print("closed")
        return
    opts = opt_options(m) or {}
    ede = struct.unpack(">H", opts[15][:2])[0] if 15 in opts and len(opts[15]) >= 2 else -1
    print("rcode %d ede %d" % (m[3] & 15, ede))


def closed_by_server(s):
    """Has the server closed this (non-blocking) TLS socket?  What it sent
    before is read and dropped first (up to 128 MiB: the kernel's buffers
    on both ends hold a few)."""
    try:
        for _ in range(8192):
            if not s.recv(16384):
                return True
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except (ssl.SSLError, OSError):
        return True
    return False


def idle(addr, conns, seconds, source=None):
    socks, born, closed = [], [], 0
    for _ in range(conns):
        try:
            s = connect(addr, 2, source)
            s.setblocking(False)
            socks.append(s)
            born.append(time.monotonic())
        except (OSError, ssl.SSLError):
            closed += 1
    gone, after = set(), 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(gone) < len(socks):
        time.sleep(0.05)  # pacing: the daemon closing connections is the condition
        for i, s in enumerate(socks):
            if i not in gone and closed_by_server(s):
                gone.add(i)
                after = max(after, time.monotonic() - born[i])
    for s in socks:
        s.close()
    print("open %d closed %d after %.1f" % (len(socks) - len(gone), closed + len(gone), after))


def noread(addr, pid, clients, queries, name, seconds, readyfile, hold):
    before = vmrss_kib(pid)
    payload = b"".join(framed(query(i & 0xffff, name, 16)) for i in range(queries))
    socks = []
    for _ in range(clients):
        s = connect(addr, 2, rcvbuf=4096)
        s.setblocking(False)
        socks.append([s, 0])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(off < len(payload) for _, off in socks):
        progress = False
        for e in socks:
            if e[1] >= len(payload):
                continue
            try:
                n = e[0].send(payload[e[1]:e[1] + 16384])
                e[1] += n
                progress = progress or n > 0
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
            except (ssl.SSLError, OSError):
                e[1] = len(payload)
        if not progress:
            time.sleep(0.05)  # pacing: the daemon reading is the condition
    last = vmrss_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)  # pacing: a stable RSS is the condition
        now = vmrss_kib(pid)
        if now <= last:
            break
        last = now
    after = max(last, vmrss_kib(pid))
    result = "%d %d" % (before, after)
    with open(readyfile, "w") as f:
        f.write(result + "\n")
    time.sleep(hold)  # holding the connections (the daemon's output) is the point
    for s, _ in socks:
        s.close()
    print(result)


def inflight(addr, n, prefix, seconds, readyfile):
    s = connect(addr, seconds)
    s.sendall(framed(query(0xffff, "localhost", 1)))
    Reader(s).next(time.monotonic() + 5)
    s.sendall(b"".join(framed(query(i, "%s%d.test" % (prefix, i), 1)) for i in range(n)))
    with open(readyfile, "w") as f:
        f.write("sent %d\n" % n)
    time.sleep(seconds)  # holding the connection is the point
    s.close()


def client_hello():
    """The octets of a real TLS 1.3 ClientHello with ALPN dot."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context().wrap_bio(inc, out, server_hostname=None)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def wait_closed(raw, start, seconds):
    """Seconds from start until the server closed raw, or None."""
    deadline = start + seconds
    while time.monotonic() < deadline:
        rd, _, _ = select.select([raw], [], [], max(0.0, deadline - time.monotonic()))
        if not rd:
            break
        try:
            if not raw.recv(65536):
                return time.monotonic() - start
        except OSError:
            return time.monotonic() - start
    return None


def slowhello(addr, seconds):
    """A real ClientHello, one octet every 0.2 s, until the server closes
    the connection, the hello is all sent, or SECONDS pass."""
    hello = client_hello()
    start = time.monotonic()
    raw = socket.create_connection(addr, timeout=2)
    sent = 0
    while sent < len(hello) and time.monotonic() < start + seconds:
        try:
            raw.send(hello[sent:sent + 1])
        except OSError:
            break
        sent += 1
        t = wait_closed(raw, time.monotonic(), 0.2)  # pacing: one octet per 0.2 s
        if t is not None:
            print("closed_after %.1f sent %d of %d" % (time.monotonic() - start, sent,
                                                        len(hello)))
            return
    print("open sent %d of %d" % (sent, len(hello)))


def hostile(addr, kind, seconds):
    if kind == "slowhello":
        slowhello(addr, seconds)
        return
    start = time.monotonic()
    if kind in ("silent", "http"):
        raw = socket.create_connection(addr, timeout=2)
        if kind == "http":
            raw.sendall(b"GET / HTTP/1.1\r\nHost: dot\r\n\r\n")
        t = wait_closed(raw, start, seconds)
        print("closed_after %.1f" % t if t is not None else "open")
        return
    s = connect(addr, 5)
    start = time.monotonic()
    if kind == "notdns":
        s.sendall(b"\x00\x05hello")
    elif kind == "prefix64k":
        s.sendall(b"\xff\xff")
    elif kind == "raw":
        # an application-data record the server cannot open, written on the
        # socket under TLS
        os.write(s.fileno(), b"\x17\x03\x03\x00\x10" + b"garbage-garbage!")
    else:
        raise SystemExit("unknown kind " + kind)
    s.setblocking(False)
    deadline = start + seconds
    while time.monotonic() < deadline:
        select.select([s], [], [], 0.1)  # pacing: the server closing is the condition
        if closed_by_server(s):
            print("closed_after %.1f" % (time.monotonic() - start))
            return
    print("open")


def main(argv):
    cmd = argv[1]
    if cmd == "pipeline":
        pipeline(hostport(argv[2]), int(argv[3]), argv[4], float(argv[5]))
    elif cmd == "order":
        order(hostport(argv[2]))
    elif cmd == "padding":
        padding(hostport(argv[2]))
    elif cmd == "query":
        one_query(hostport(argv[2]), argv[3], argv[4], argv[5] if len(argv) > 5 else None)
    elif cmd == "idle":
        idle(hostport(argv[2]), int(argv[3]), float(argv[4]), argv[5] if len(argv) > 5 else None)
    elif cmd == "noread":
        noread(hostport(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]), argv[6],
               float(argv[7]), argv[8], float(argv[9]))
    elif cmd == "inflight":
        inflight(hostport(argv[2]), int(argv[3]), argv[4], float(argv[5]), argv[6])
    elif cmd == "hostile":
        hostile(hostport(argv[2]), argv[3], float(argv[4]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
