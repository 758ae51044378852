"""Helpers for the Socket.IO tests: a recording python-socketio client and
raw Engine.IO framing."""

import json
import threading
import time

import engineio
import socketio

WAIT = 15  # seconds any expected event may take


class InOrderEngineIO(engineio.Client):
    """An Engine.IO client that runs each message's handler on its read loop.

    python-engineio starts a thread per received message, so handlers record
    in whatever order those threads get the GIL, not in the wire's; the
    tests check the server's order, so they need the wire's. (_trigger_event
    and socketio.Client._engineio_client_class are internal hooks of
    python-engineio 4.3 and python-socketio 5.7, Debian 12's.)"""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    """A python-socketio Client whose handlers see events in wire order."""

    def _engineio_client_class(self):
        return InOrderEngineIO


class Recorder:
    """A python-socketio Client that records every event per namespace.

    Thread safety: handlers run on the client's threads; the record is
    guarded by a condition variable that the test thread waits on."""

    def __init__(self, url, transports=None, namespaces=("/",), auth=None):
        self.url = url
        self.transports = transports
        self.namespaces = list(namespaces)
        self.auth = auth
        self.client = InOrderClient(reconnection=False)
        self.cond = threading.Condition()
        self.events = []  # (namespace, event, data)
        self.connect_errors = []  # (namespace, data)
        for ns in self.namespaces:
            self.client.on("*", self._catch_all(ns), namespace=ns)
            self.client.on("connect_error", self._connect_error(ns), namespace=ns)

    def _catch_all(self, ns):
        def handler(event, *args):
            with self.cond:
                self.events.append((ns, event, args[0] if len(args) == 1 else list(args)))
                self.cond.notify_all()

        return handler

    def _connect_error(self, ns):
        def handler(*args):
            with self.cond:
                self.connect_errors.append((ns, args[0] if args else None))
                self.cond.notify_all()

        return handler

    def connect(self, wait_timeout=WAIT):
        self.client.connect(self.url, transports=self.transports, namespaces=self.namespaces,
                            auth=self.auth, wait_timeout=wait_timeout)
        return self

    def disconnect(self):
        self.client.disconnect()

    def transport(self):
        return self.client.transport()

    def emit(self, event, data, namespace="/"):
        self.client.emit(event, data, namespace=namespace)

    def call(self, event, data, namespace="/"):
        return self.client.call(event, data, namespace=namespace, timeout=WAIT)

    def wait_for(self, event, where=lambda data: True, namespace=None, timeout=WAIT):
        """The first recorded payload of `event` that satisfies `where`."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for ns, name, data in self.events:
                    if name == event and (namespace is None or ns == namespace) and where(data):
                        return data
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s within %s s; got %s" % (event, timeout, self.summary()))
                self.cond.wait(left)

    def wait_count(self, predicate, count, timeout=WAIT):
        """Waits until `count` recorded (ns, event, data) satisfy predicate."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                matching = [e for e in self.events if predicate(*e)]
                if len(matching) >= count:
                    return matching
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("%d of %d events within %s s; got %s" %
                                         (len(matching), count, timeout, self.summary()))
                self.cond.wait(left)

    def all(self, event, namespace=None):
        with self.cond:
            return [d for ns, name, d in self.events if name == event and (namespace is None or ns == namespace)]

    def summary(self):
        return [(ns, name, data) for ns, name, data in self.events[-20:]]

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.disconnect()


def split_payload(body):
    """Engine.IO polling payload -> packets."""
    return body.split("\x1e") if body else []


def open_packet(text):
    assert text.startswith("0"), text
    return json.loads(text[1:])


def sio_event(packet):
    """'42/graph,["name",{...}]' (an Engine.IO message carrying a Socket.IO
    EVENT) -> (namespace, ack id or None, [name, args...]); None otherwise."""
    if not packet.startswith("42"):
        return None
    rest = packet[2:]
    ns = "/"
    if rest.startswith("/"):
        ns, rest = rest.split(",", 1)
    digits = ""
    while rest and rest[0].isdigit():
        digits, rest = digits + rest[0], rest[1:]
    return ns, (int(digits) if digits else None), json.loads(rest)
