#!/usr/bin/env python3
"""notify_socket.py -- plays the service manager's notify socket
(sd_notify(3)) for dotstubd, and checks that READY=1 means ready.

usage: notify_socket.py SOCKET RECORD DNS_ADDR QNAME

SOCKET is a path, or @NAME for the abstract namespace, as $NOTIFY_SOCKET
gives it.  Every datagram received is written to RECORD as one line, its
assignments separated by '|'.  At once after each READY=1, a query for
QNAME (type A) goes to DNS_ADDR port 53 over UDP, and the line
"ANSWER rcode=N a=ADDR" (or "ANSWER none") follows.  The socket is bound
before the line "LISTENING" is written; runs until killed.
"""
import os
import socket
import struct
import sys


def bind(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if path.startswith("@"):
        s.bind("\0" + path[1:])
    else:
        if os.path.exists(path):
            os.unlink(path)
        s.bind(path)
        os.chmod(path, 0o777)  # a daemon that dropped privileges writes too
    return s


def query(addr, qname):
    q = struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
    for label in qname.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(3)
    try:
        c.sendto(q, (addr, 53))
        r = c.recv(4096)
    except OSError:
        return "ANSWER none"
    rcode = r[3] & 15
    an = struct.unpack(">H", r[6:8])[0]
    a = "-"
    if an and len(r) >= 4 and r[-6:-4] == b"\0\4":
        a = socket.inet_ntoa(r[-4:])
    return "ANSWER rcode=%d a=%s" % (rcode, a)


def main():
    path, record, addr, qname = sys.argv[1:5]
    s = bind(path)
    with open(record, "a", buffering=1) as out:
        out.write("LISTENING\n")
        while True:
            msg = s.recv(4096).decode(errors="replace")
            out.write(msg.strip("\n").replace("\n", "|") + "\n")
            if "READY=1" in msg.split("\n"):
                out.write(query(addr, qname) + "\n")


if __name__ == "__main__":
    main()
