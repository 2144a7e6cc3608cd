#!/usr/bin/env python3
"""hostile_ddr.py -- a plain-DNS resolver (UDP and TCP on --addr:--port)
whose DDR publication is broken on purpose:

  _dns.resolver.arpa SVCB   over UDP: TC=1 and no records (so the client
                            must ask again over TCP); over TCP: two SVCB
                            records, a valid one and one whose ipv4hint is
                            5 octets long (RFC 9460 7.3: a multiple of 4)
  anything else             REFUSED

Logs one line per query to --log: "query QNAME QTYPE proto T" (T: epoch
seconds), and "ready" once both sockets are bound.  A test tool, not
installed.
"""
import argparse
import asyncio
import socket
import struct
import time

DDR_NAME = "_dns.resolver.arpa."
SVCB = 64


def log(f, *words):
    f.write(" ".join(str(w) for w in words) + " %.6f\n" % time.time())
    f.flush()


def parse(msg):
    """(id, flags, qname text, question octets, qtype) or None."""
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
    return qid, flags, ".".join(labels) + ".", msg[12:qend], qtype


def wire_name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def param(key, value):
    return struct.pack(">HH", key, len(value)) + value


def svcb(priority, target, params):
    rdata = struct.pack(">H", priority) + wire_name(target) + params
    return struct.pack(">HHHIH", 0xC00C, SVCB, 1, 300, len(rdata)) + rdata


def records():
    good = svcb(1, "dot.hostile.test.",
                param(1, b"\3dot") + param(3, struct.pack(">H", 853)) +
                param(4, bytes([127, 0, 0, 71])))
    bad = svcb(2, "bad.hostile.test.",
               param(1, b"\3dot") + param(4, bytes([127, 0, 0, 72, 9])))
    return 2, good + bad


def answer(msg, tcp):
    p = parse(msg)
    if p is None:
        return None, None, None
    qid, qflags, name, question, qtype = p
    flags = 0x8000 | 0x0080 | (qflags & 0x0100)  # QR, RA; RD copied
    an, body = 0, b""
    if name == DDR_NAME and qtype == SVCB:
        if tcp:
            an, body = records()
        else:
            flags |= 0x0200  # TC
    else:
        flags |= 5  # REFUSED
    hdr = struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0)
    return name, qtype, hdr + question + body


class Udp(asyncio.DatagramProtocol):
    def __init__(self, f):
        self.f = f

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        name, qtype, out = answer(data, False)
        if out is None:
            return
        log(self.f, "query", name, qtype, "udp")
        self.transport.sendto(out, addr)


async def tcp_client(reader, writer, f):
    try:
        while True:
            hdr = await reader.readexactly(2)
            msg = await reader.readexactly(struct.unpack(">H", hdr)[0])
            name, qtype, out = answer(msg, True)
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
