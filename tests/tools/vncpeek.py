#!/usr/bin/env python3
"""Reads a VNC server's screen (RFB 3.8, no password, raw encoding).

usage: vncpeek.py HOST:PORT|ws://HOST:PORT/PATH [--ppm FILE] [--keys CHORD] [X,Y ...]
Connects to the server over TCP, or through a WebSocket proxy (websockify,
as the noVNC page does). Prints the screen's size and name, then "X,Y R G B" for each pixel asked
for; --ppm writes the whole screen as a PPM image; --keys types a chord
after the screen is read (Control+Alt+Home). For the browser tests:
the homepage's marker band is #ff00aa (images/browser/rootfs/...)."""
import socket
import struct
import sys

from wsock import WebSocket, recv_exactly


class Tcp:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=120)

    def sendall(self, data):
        self.s.sendall(data)

    def read(self, n):
        return recv_exactly(self.s, n, "vncpeek")


# X keysyms for --keys, joined with "+": Control+Alt+Home
KEYSYMS = {"Control": 0xFFE3, "Alt": 0xFFE9, "Shift": 0xFFE1, "Home": 0xFF50, "Return": 0xFF0D}


def recvn(s, n):
    return s.read(n)


def connect(where):
    ws = where.startswith("ws://")
    hostport, _, path = where[5:].partition("/") if ws else (where, "", "")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit("vncpeek: want HOST:PORT or ws://HOST:PORT/PATH, got %r" % where)
    return WebSocket(host, int(port), "/" + path, timeout=120) if ws else Tcp(host, int(port))


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    where = args.pop(0)
    ppm = keys = None
    while args[:1] in (["--ppm"], ["--keys"]):
        if args[0] == "--ppm":
            ppm = args[1]
        else:
            keys = [KEYSYMS[k] for k in args[1].split("+")]
        args = args[2:]
    s = connect(where)
    ver = recvn(s, 12)
    if not ver.startswith(b"RFB "):
        raise SystemExit("vncpeek: not a VNC server: %r" % ver)
    s.sendall(b"RFB 003.008\n")
    types = recvn(s, recvn(s, 1)[0])
    if 1 not in types:
        raise SystemExit("vncpeek: the server wants a password (security types %s)" % list(types))
    s.sendall(b"\x01")
    if struct.unpack(">I", recvn(s, 4))[0] != 0:
        raise SystemExit("vncpeek: security handshake failed")
    s.sendall(b"\x01")  # ClientInit: shared
    w, h = struct.unpack(">HH", recvn(s, 4))
    recvn(s, 16)
    name = recvn(s, struct.unpack(">I", recvn(s, 4))[0]).decode(errors="replace")
    print("screen %dx%d %s" % (w, h, name))
    # SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, R<<16 G<<8 B
    s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
    s.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))  # the whole screen, now
    fb = bytearray(w * h * 4)
    while True:
        t = recvn(s, 1)[0]
        if t == 0:
            break
        if t == 2:  # bell
            continue
        if t == 3:  # cut text
            recvn(s, 3)
            recvn(s, struct.unpack(">I", recvn(s, 4))[0])
            continue
        raise SystemExit("vncpeek: unexpected message %d" % t)
    recvn(s, 1)
    for _ in range(struct.unpack(">H", recvn(s, 2))[0]):
        x, y, rw, rh, enc = struct.unpack(">HHHHi", recvn(s, 12))
        if enc != 0:
            raise SystemExit("vncpeek: encoding %d, asked for raw" % enc)
        data = recvn(s, rw * rh * 4)
        for row in range(rh):
            o = ((y + row) * w + x) * 4
            fb[o:o + rw * 4] = data[row * rw * 4:(row + 1) * rw * 4]
    if keys:  # the chord: each key pressed in order, then released in reverse
        for k in keys:
            s.sendall(struct.pack(">BBxxI", 4, 1, k))
        for k in reversed(keys):
            s.sendall(struct.pack(">BBxxI", 4, 0, k))
        print("keys %s" % "+".join("%#x" % k for k in keys))
    for a in args:
        x, y = (int(v) for v in a.split(","))
        o = (y * w + x) * 4
        print("%d,%d %d %d %d" % (x, y, fb[o + 2], fb[o + 1], fb[o]))
    if ppm:
        with open(ppm, "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (w, h))
            f.write(bytes(b for i in range(0, len(fb), 4) for b in (fb[i + 2], fb[i + 1], fb[i])))


main()
