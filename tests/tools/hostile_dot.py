#!/usr/bin/env python3
"""hostile_dot.py -- a DNS-over-TLS server that answers every query with
A 192.0.2.1, but misbehaves once on its first connection:

  --mode garbage      after the first answer, unframed bytes, then answers
                      as if nothing happened (the stream is out of step)
  --mode bogus-frame  after the first answer, a well-formed answer with an
                      ID never asked on the connection
  --mode late         the first query for a name starting with "slow" is
                      answered only after --delay ms (its ID given up by
                      then); every other query at once

Logs one line per event to --log, with the time (epoch seconds):
  conn N T            connection N accepted
  answer N QNAME T    an answer written on connection N
  garbage N T         the misbehaviour happened on connection N
A test tool, not installed.
"""
import argparse
import asyncio
import ssl
import struct
import time


def log(f, *words):
    f.write(" ".join(str(w) for w in words) + " %.6f\n" % time.time())
    f.flush()


def qname_of(msg):
    labels, pos = [], 12
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels) + ".", pos + 1 + 4  # name, end of the question


def answer(msg, qid=None):
    name, qend = qname_of(msg)
    if qid is None:
        qid = struct.unpack(">H", msg[:2])[0]
    hdr = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([192, 0, 2, 1])
    body = hdr + msg[12:qend] + rr
    return name, struct.pack(">H", len(body)) + body


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=853)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--mode", choices=["garbage", "bogus-frame", "late"], required=True)
    ap.add_argument("--delay", type=int, default=800)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    f = open(a.log, "a")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    state = {"conns": 0, "done": False}

    async def late(writer, n, name, frame, delay):
        await asyncio.sleep(delay / 1000)
        writer.write(frame)
        log(f, "answer", n, name)
        log(f, "garbage", n)

    async def serve(reader, writer):
        state["conns"] += 1
        n = state["conns"]
        log(f, "conn", n)
        try:
            while True:
                hdr = await reader.readexactly(2)
                msg = await reader.readexactly(struct.unpack(">H", hdr)[0])
                name, frame = answer(msg)
                if a.mode == "late" and name.startswith("slow") and not state["done"]:
                    state["done"] = True
                    asyncio.ensure_future(late(writer, n, name, frame, a.delay))
                    continue
                writer.write(frame)
                log(f, "answer", n, name)
                if n == 1 and not state["done"] and a.mode != "late":
                    state["done"] = True
                    if a.mode == "garbage":
                        writer.write(b"GARBAGE, NOT A FRAME\r\n")
                    else:
                        qid = struct.unpack(">H", msg[:2])[0] ^ 0xFFFF
                        writer.write(answer(msg, qid)[1])
                    log(f, "garbage", n)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        log(f, "closed", n)
        writer.close()

    server = await asyncio.start_server(serve, a.addr, a.port, ssl=ctx)
    log(f, "listening", 0)
    async with server:
        await server.serve_forever()


asyncio.run(main())
