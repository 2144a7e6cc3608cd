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
import struct

from dnsserve import parse, serve

DDR_NAME = "_dns.resolver.arpa."
SVCB = 64



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
    qid, qflags, name, question, qtype = p[:5]
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


if __name__ == "__main__":
    serve(answer)
