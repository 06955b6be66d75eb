"""A plain WebSocket client (RFC 6455) over TCP, for the browser tests'
tools: no library beyond Python's own."""
import base64
import os
import socket
import struct


def recv_exactly(sock, n, who):
    """n bytes from a stream socket, or the program ends naming who lost its server."""
    b = b""
    while len(b) < n:
        c = sock.recv(n - len(b))
        if not c:
            raise SystemExit("%s: the server closed the connection" % who)
        b += c
    return b


class WebSocket:
    """One connection: send() and recv() whole messages; read() and
    sendall() a byte stream carried in binary messages (RFB through
    websockify)."""

    def __init__(self, host, port, path, timeout=300):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.s.recv(1)
            if not c:
                raise SystemExit("ws: the server closed the connection during the handshake")
            head += c
        if b" 101 " not in head.split(b"\r\n")[0]:
            self.s.settimeout(5)
            try:
                body = self.s.recv(4096).decode(errors="replace")
            except OSError:
                body = ""
            raise SystemExit("ws: handshake refused: %s %s" % (head.split(b"\r\n")[0].decode(), body))

    def recvn(self, n):
        return recv_exactly(self.s, n, "ws")

    def send(self, data, binary=False):
        if isinstance(data, str):
            data = data.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x82 if binary else 0x81]) + (
            bytes([0x80 | n]) if n < 126 else
            bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
            bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv_bytes(self):
        msg = b""
        while True:
            b0, b1 = self.recvn(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self.recvn(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.recvn(8))[0]
            payload = self.recvn(n)
            op = b0 & 0x0F
            if op == 8:
                raise SystemExit("ws: the server closed the WebSocket")
            if op in (9, 10):  # ping, pong: not used by these servers; skip
                continue
            msg += payload
            if b0 & 0x80:
                return msg

    def recv(self):
        return self.recv_bytes().decode()

    # a byte stream, as a socket's, over binary messages
    def sendall(self, data):
        self.send(data, binary=True)

    def read(self, n):
        while len(self.buf) < n:
            self.buf += self.recv_bytes()
        b, self.buf = self.buf[:n], self.buf[n:]
        return b
