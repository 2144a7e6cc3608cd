"""dnsserve.py -- what the tests' small hostile DNS servers share: parsing
a query's question, a log of the queries, and serving answer(msg, tcp) on
UDP and TCP at --addr:--port until killed.  Imported by hostile_plain.py
and hostile_ddr.py (from their own directory).  A test tool, not installed.
"""
import argparse
import asyncio
import socket
import struct
import time


def log(f, *words):
    f.write(" ".join(str(w) for w in words) + " %.6f\n" % time.time())
    f.flush()


def parse(msg):
    """(id, flags, qname text, question octets, qtype, edns, do) or None."""
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


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, f, answer):
        self.f = f
        self.answer = answer

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        name, qtype, out = self.answer(data, False)
        if out is None:
            return
        log(self.f, "query", name, qtype, "udp")
        self.transport.sendto(out, addr)


async def _tcp_client(reader, writer, f, answer):
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


async def _main(answer):
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    f = open(a.log, "a")
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: _Udp(f, answer), local_addr=(a.addr, a.port),
                                        family=socket.AF_INET)
    server = await asyncio.start_server(lambda r, w: _tcp_client(r, w, f, answer),
                                        a.addr, a.port)
    log(f, "ready")
    async with server:
        await server.serve_forever()


def serve(answer):
    """answer(msg, tcp) -> (qname, qtype, reply octets) or (None, None, None)
    to ignore the message (and close a TCP connection)."""
    asyncio.run(_main(answer))
