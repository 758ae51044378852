"""Clients for the stream tests: WebSocket (websocket-client, Debian's
python3-websocket) and a small Server-Sent Events reader on a raw socket."""

import json
import socket
import struct
import sys
import time

try:
    import websocket  # noqa: F401
except ImportError:  # a Python other than Debian's: use the Debian package anyway
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket  # noqa: F401

from websocket import ABNF


class Ws:
    """One /v1/ws connection. recv_json() returns the next text message
    parsed; close frames are returned by next_frame() as ("close", code, reason)."""

    def __init__(self, ctxd, query="", timeout=10, **kw):
        url = "ws://%s:%d/v1/ws%s" % (ctxd.host, ctxd.port, ("?" + query) if query else "")
        self.ws = websocket.create_connection(url, timeout=timeout, **kw)

    def send(self, message):
        self.ws.send(json.dumps(message) if not isinstance(message, str) else message)

    def next_frame(self):
        opcode, data = self.ws.recv_data(control_frame=True)
        if opcode == ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            return ("close", code, data[2:].decode("utf-8", "replace"))
        if opcode == ABNF.OPCODE_TEXT:
            return ("text", json.loads(data.decode("utf-8")))
        return ("other", opcode, data)

    def recv_json(self):
        while True:
            frame = self.next_frame()
            if frame[0] == "text":
                return frame[1]
            if frame[0] == "close":
                raise ConnectionError("closed: %r" % (frame,))

    def hello(self):
        message = self.recv_json()
        assert message["op"] == "hello", message
        return message

    def events(self, count, deadline=15):
        """The next `count` event messages (other messages are skipped)."""
        out = []
        end = time.monotonic() + deadline
        while len(out) < count:
            if time.monotonic() > end:
                raise TimeoutError("got %d of %d events" % (len(out), count))
            message = self.recv_json()
            if message["op"] == "event":
                out.append(message["event"])
        return out

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class Sse:
    """One GET /v1/stream response read as it comes."""

    def __init__(self, ctxd, query="", headers=None, timeout=10):
        self.sock = socket.create_connection((ctxd.host, ctxd.port), timeout=timeout)
        lines = ["GET /v1/stream%s HTTP/1.1" % (("?" + query) if query else "")]
        for name, value in dict({"Host": "localhost"}, **(headers or {})).items():
            lines.append("%s: %s" % (name, value))
        self._open(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _open(self, request):
        """Sends `request` on self.sock and reads the answer's head."""
        self.sock.sendall(request)
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.closed = False

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
            raise EOFError("the stream ended")
        self.buffer += chunk

    def _read_until(self, marker):
        while marker not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def body(self):
        """What follows the header when the answer is not a stream (errors)."""
        length = int(self.headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        return self.buffer[:length]

    def next_block(self):
        """The next SSE block as a list of (field, value) lines; comments too."""
        block = self._read_until(b"\n\n").decode("utf-8")
        out = []
        for line in block.split("\n"):
            if line.startswith(":"):
                out.append(("comment", line[1:].strip()))
            else:
                field, _, value = line.partition(":")
                out.append((field, value[1:] if value.startswith(" ") else value))
        return out

    def events(self, count, deadline=15):
        """The next `count` events as (id, type, parsed data)."""
        out = []
        end = time.monotonic() + deadline
        while len(out) < count:
            if time.monotonic() > end:
                raise TimeoutError("got %d of %d events" % (len(out), count))
            fields = dict(f for f in self.next_block() if f[0] != "comment")
            if "data" in fields:
                out.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
        return out

    def close(self):
        try:
            self.sock.close()
        except Exception:
            pass


def raw_upgrade(ctxd, path, then=b""):
    """A socket that sent a WebSocket upgrade request for `path`, and the
    bytes `then` in the same write (frames, masked, before the 101)."""
    sock = socket.create_connection((ctxd.host, ctxd.port), timeout=10)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                  % path).encode() + then)
    return sock


def masked_text_frame(text):
    """A client's text frame of under 126 bytes, masked with a zero key."""
    payload = text.encode()
    return b"\x81" + bytes([0x80 | len(payload)]) + b"\x00\x00\x00\x00" + payload


def recv_until(sock, marker, seconds=10):
    """What the socket received until `marker` came, it closed, or `seconds` passed."""
    received = b""
    deadline = time.monotonic() + seconds
    while marker not in received and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received
