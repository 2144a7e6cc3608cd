#!/usr/bin/env python3
"""hostile_plain.py -- a plain-DNS resolver (UDP and TCP on --addr:--port)
that lies in its header flags: every answer has AA=1 and AD=1 (as if it
had validated it, or an attacker on path had set it) and RA=0.

  *.resolver-name.arpa   NXDOMAIN (the network publishes nothing, so a
                         stub falls back to opportunistic plain DNS)
  refused.test.          REFUSED
  anything else          A 192.0.2.1 (TTL 300); other types: NODATA
                         with an SOA (TTL 300)

An OPT (UDP size 1232, DO copied) is added when the query had one.
Logs one line per query to --log: "query QNAME QTYPE proto T" (T: epoch
seconds).  A test tool, not installed.
"""
import argparse
import asyncio
import socket
import struct
import time

FLAGS_LIE = 0x8000 | 0x0400 | 0x0020  # QR, AA, AD; RA left 0


def log(f, *words):
    f.write(" ".join(str(w) for w in words) + " %.6f\n" % time.time())
    f.flush()


def parse(msg):
    """(id, flags, qname text, question octets, qtype, do) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if flags & 0x8000 or qd != 1:
        return None
    labels, pos = [], 12
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        if n & 0xC0:
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace").lower())
        pos += 1 + n
    qend = pos + 1 + 4
    if qend > len(msg):
        return None
    qtype = struct.unpack(">H", msg[pos + 1:pos + 3])[0]
    do = False
    # the OPT, if any, is the first additional record after the question
    if len(msg) >= qend + 11 and msg[qend] == 0 and msg[qend + 1:qend + 3] == b"\0\x29":
        do = bool(struct.unpack(">I", msg[qend + 5:qend + 9])[0] & 0x8000)
        edns = True
    else:
        edns = False
    return qid, flags, ".".join(labels) + ".", msg[12:qend], qtype, edns, do


def answer(msg):
    p = parse(msg)
    if p is None:
        return None, None, None
    qid, qflags, name, question, qtype, edns, do = p
    flags = FLAGS_LIE | (qflags & 0x0100) | (qflags & 0x0010)  # RD, CD copied
    an, ns, body = 0, 0, b""
    soa_rd = b"\2ns\0\3dns\0" + struct.pack(">IIIII", 1, 3600, 600, 86400, 300)
    soa = struct.pack(">HHHIH", 0xC00C, 6, 1, 300, len(soa_rd)) + soa_rd
    if name.endswith("resolver-name.arpa."):
        flags |= 3
    elif name == "refused.test.":
        flags |= 5
    elif qtype == 1:
        an = 1
        body = struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    else:
        ns = 1
        body = soa
    opt = b""
    if edns:
        opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000 if do else 0, 0)
    hdr = struct.pack(">HHHHHH", qid, flags, 1, an, ns, 1 if edns else 0)
    return name, qtype, hdr + question + body + opt


class Udp(asyncio.DatagramProtocol):
    def __init__(self, f):
        self.f = f

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        name, qtype, out = answer(data)
        if out is None:
            return
        log(self.f, "query", name, qtype, "udp")
        self.transport.sendto(out, addr)


async def tcp_client(reader, writer, f):
    try:
        while True:
            hdr = await reader.readexactly(2)
            msg = await reader.readexactly(struct.unpack(">H", hdr)[0])
            name, qtype, out = answer(msg)
            if out is None:
                break
            log(f, "query", name, qtype, "tcp")
            writer.write(struct.pack(">H", len(out)) + out)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    f = open(a.log, "a")
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Udp(f), local_addr=(a.addr, a.port),
                                        family=socket.AF_INET)
    server = await asyncio.start_server(lambda r, w: tcp_client(r, w, f), a.addr, a.port)
    log(f, "ready")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
