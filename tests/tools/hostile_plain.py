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
import struct

from dnsserve import parse, serve

FLAGS_LIE = 0x8000 | 0x0400 | 0x0020  # QR, AA, AD; RA left 0



def answer(msg, tcp=False):
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


if __name__ == "__main__":
    serve(answer)
