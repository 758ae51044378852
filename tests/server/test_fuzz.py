"""Seeded, bounded random fuzzing of the REST routes, the /v1/ws ops and the
Socket.IO events. Whatever arrives, the server must not crash, hang, answer
5xx or an error body that is not UTF-8 JSON of the documented form, nor append
anything for a request it refused.

Every test is bounded by a request count and by wall time. A failure names the
seed and the exact request; FUZZ_SEED=N runs another seed."""

import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest
from urllib.parse import quote

try:
    import socketio  # noqa: F401
except ImportError:  # a Python other than Debian's: use the Debian package anyway
    sys.path.append("/usr/lib/python3/dist-packages")

from ctxd_harness import ServerTestCase
from socketio_client import WAIT, Recorder
from stream_client import Ws

SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
TIME_LIMIT = 20.0  # seconds per test, on top of the count bounds
REST_REQUESTS = 1500
WS_OPS = 300
SIO_EVENTS = 150


# ---- random input ----------------------------------------------------------

KEYS = ["a", "b", "k1", "user.name", "x/y", "\u00e9", "\u65e5\u672c", "sp ace", "50%", "k" * 1024]
SESSIONS = ["s0", "s1", "s2"]
# Path segments that are not a plain percent-encoded key.
ODD_SEGMENTS = [b"%", b"%zz", b"%z", b"%2", b"a%", b"%00", b"%ff", b"%FF", b"%C0%AF", b"%ED%A0%80", b"%E2%82",
                b"%F4%90%80%80", b"%01", b"%0A", b"%7F", b"%2F", b"a%2Fb", b"%2E%2E", b"..", b".", b"%25", b"%%",
                b"\xff", b"\xc3\xa9", b"\xed\xa0\x80", b"%EF%BB%BF", b"+", b"%2B", b"%3F", b"%23", b"a;b", b"%u0041",
                b"%C3%A9" * 342, b"k" * 1025, b"k" * 5000]
NUMBERS = [b"0", b"-0", b"1", b"-1", b"2.5", b"1e400", b"-1e400", b"1e-400", b"123456789012345678901234567890",
           b"9223372036854775807", b"9223372036854775808", b"18446744073709551615", b"18446744073709551616",
           b"-9223372036854775809", b"1.5e308", b"4294967296"]
STRING_PARTS = [b"a", b"z", b"_", b"-", b"\\u0000", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\n", b'\\"', b"\\\\",
                b"\xc3\xa9", b"\xf0\x9f\x8e\x89", b"\t", b"\x7f", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82",
                b"\x00", b"\x01", b"\\x41", b"\\u12", b"%00"]
QUERY_NAMES = ["from", "limit", "at", "prefix", "since", "session", "actor", "type", "key", "who", "x"]
QUERY_VALUES = ["", "0", "1", "2", "-1", "abc", "1e3", "1.5", "+1", "0x10", "10000", "10001", "9223372036854775807",
                "18446744073709551615", "18446744073709551616", "99999999999999999999", "%zz", "%", "%00", "%ff",
                "%C0%AF", "%ED%A0%80", "1%00", "null", "a&b", "=="]
COMMANDS = ["create_node", "delete_node", "link", "unlink", "set_property", "delete_property", "batch"]
WRONG_TYPES = [None, True, 0, -1, 2 ** 64, 1.5, "", "x" * 300, [], ["a"], {}, {"a": 1}]


class Gen:
    """Random input from one seeded generator."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.nodes = {s: [] for s in SESSIONS}

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq)

    # JSON as bytes, so it can hold what json.dumps never writes.
    def json_string(self, max_parts=8):
        return b'"' + b"".join(self.pick(STRING_PARTS) for _ in range(self.r.randint(0, max_parts))) + b'"'

    def json_bytes(self, depth=0):
        c = self.r.random()
        if depth >= 4 or c < 0.45:
            return self.pick([b"null", b"true", b"false", self.pick(NUMBERS), self.json_string()])
        if c < 0.7:
            return b"[" + b",".join(self.json_bytes(depth + 1) for _ in range(self.r.randint(0, 4))) + b"]"
        members = [self.json_string(3) + b":" + self.json_bytes(depth + 1) for _ in range(self.r.randint(0, 4))]
        return b"{" + b",".join(members) + b"}"

    # Python values for json.dumps and for the clients.
    def text(self):
        return self.pick(["", "a", "\u00e9", "\x00", "\n", "\ud800", "x" * 2000, "\U0001f389", "%zz"] + KEYS)

    def value(self, depth=0):
        c = self.r.random()
        if c < 0.2:
            return self.pick([None, True, False])
        if c < 0.4:
            return self.pick([0, -1, 7, 2 ** 63, -2 ** 63 - 1, 2 ** 64, 10 ** 30, 0.5, -0.0, 1e308])
        if c < 0.65 or depth >= 3:
            return self.text()
        if c < 0.8:
            return [self.value(depth + 1) for _ in range(self.r.randint(0, 3))]
        return {self.text()[:8]: self.value(depth + 1) for _ in range(self.r.randint(0, 3))}

    def wrong(self):
        return self.pick(WRONG_TYPES + [self.value()])

    def dumps(self, obj):
        """obj as JSON bytes; lone surrogates become invalid UTF-8 when not escaped."""
        return json.dumps(obj, ensure_ascii=self.chance(0.5)).encode("utf-8", "surrogatepass")

    def key_segment(self):
        if self.chance(0.6):
            return quote(self.pick(KEYS), safe="").encode()
        return b"".join(self.pick(ODD_SEGMENTS) for _ in range(self.r.randint(1, 2)))

    def key(self):
        return self.pick(KEYS) if self.chance(0.7) else self.pick(["", "\x01", "\n", "k" * 1025, "\ud800", 5, None])

    def session(self):
        return self.pick(SESSIONS) if self.chance(0.85) else self.pick(["", "a/b", "\x01", "x" * 300, 5, None])

    def node_ref(self, session):
        nodes = self.nodes.get(session) or []
        if nodes and self.chance(0.7):
            return self.pick(nodes)
        return self.pick(["no-such-node", "", 5, None, ["x"]])

    def command(self, session, depth=0):
        name = self.pick(COMMANDS + ["create_node"] * 3 + ["link"])
        if name == "batch" and depth >= 2:
            name = "create_node"
        c = {"command": name}
        if name == "create_node":
            c.update(type=self.pick(["task", "note"]), name=self.pick(["Build", "n", "\u00e9"]))
            if self.chance(0.3):
                c["parent_id"] = self.node_ref(session)
            if self.chance(0.3):
                c["props"] = self.pick([{"p": 1}, {}, {"q": self.value()}])
            if self.chance(0.1):
                c["node_id"] = self.pick(["n1", "n2"] + (self.nodes.get(session) or [])[:2])
        elif name in ("delete_node", "set_property", "delete_property"):
            c["node_id"] = self.node_ref(session)
            if name != "delete_node":
                c["property"] = self.pick(["p", "q", ""])
            if name == "set_property":
                c["value"] = self.value()
        elif name in ("link", "unlink"):
            c.update(parent_id=self.node_ref(session), child_id=self.node_ref(session))
        else:
            c["commands"] = [self.command(session, depth + 1) for _ in range(self.r.randint(0, 4))]
        if self.chance(0.3):  # a missing field, a wrong type or an unknown command
            field = self.pick(["command", "type", "name", "node_id", "parent_id", "child_id", "property", "value",
                               "commands", "props"])
            if self.chance(0.3):
                c.pop(field, None)
            else:
                c[field] = self.pick([self.wrong(), "CREATE_NODE", "undo", "graph.restore"]
                                     if field == "command" else [self.wrong()])
        if self.chance(0.1):
            c["actor"] = self.pick(["fuzz", self.wrong()])
        if self.chance(0.1):
            c["command_id"] = self.pick(["c1", "c2", self.wrong()])
        return c

    def maybe_wrong(self, obj):
        """obj with one field dropped or given a wrong type, sometimes."""
        if obj and self.chance(0.3):
            field = self.pick(sorted(obj))
            if self.chance(0.3):
                del obj[field]
            else:
                obj[field] = self.wrong()
        return obj


# ---- checking and reporting -------------------------------------------------

def has_big_integer(obj):
    """Whether obj holds an integer beyond 64 bits (above 2**64 - 1 or below -2**63)."""
    if isinstance(obj, bool):
        return False
    if isinstance(obj, int):
        return not -2 ** 63 <= obj < 2 ** 64
    if isinstance(obj, (list, tuple)):
        return any(has_big_integer(item) for item in obj)
    if isinstance(obj, dict):
        return any(has_big_integer(item) for item in obj.values())
    return False


def readable(obj):
    """Whether the server can read obj as JSON: it refuses a whole message
    with an escaped lone surrogate, a number out of double's range (1e400)
    or an integer beyond 64 bits, so it cannot echo that message's id either."""
    try:
        json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return not has_big_integer(obj)


def readable_text(text):
    try:  # every member, also duplicates
        return readable(json.loads(text, object_pairs_hook=lambda pairs: pairs))
    except ValueError:
        return False


def shown(data, limit=300):
    """repr of bytes or str with long runs written as <N x 'c'>, cut at `limit`."""
    out, i, prefix = [], 0, "b'" if isinstance(data, bytes) else "'"
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        out.append("<%d x %r>" % (j - i, data[i:i + 1]) if j - i >= 16 else repr(data[i:j])[len(prefix):-1])
        i = j
    text = prefix + "".join(out) + "'"
    return text if len(text) <= limit else text[:limit] + "...(%d long)" % len(data)


def parse_answer(raw):
    """(status, headers, body) of the one answer in `raw`; raises ValueError."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.1 "):
        raise ValueError("not an HTTP/1.1 answer")
    lines = head.split(b"\r\n")
    status = int(lines[0][9:12])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if "content-length" in headers and len(body) != int(headers["content-length"]):
        raise ValueError("Content-Length %s but %d body bytes" % (headers["content-length"], len(body)))
    return status, headers, body


def body_of(raw):
    return raw.partition(b"\r\n\r\n")[2]


def describe(method, target, body):
    return "%s %s body=%s" % (method, shown(target), shown(body))


class FuzzCase(ServerTestCase):
    """One server per class; every test ends with it alive and healthy."""

    def setUp(self):
        self.gen = Gen(SEED)
        self.deadline = time.monotonic() + TIME_LIMIT

    def tearDown(self):
        if self.ctxd.proc.poll() is not None:
            self.fail(self.server_state())

    def in_budget(self):
        return time.monotonic() < self.deadline

    def server_state(self):
        try:
            code = self.ctxd.proc.wait(1)  # a crash may take a moment to be seen
        except subprocess.TimeoutExpired:
            return "the server is running"
        return "the server exited with %d; its stderr ends:\n%s" % (code, "".join(self.ctxd.stderr_lines[-20:]))

    def head(self, what):
        """The head, or a failure that names what came before."""
        try:
            return self.ctxd.head()
        except Exception as e:
            self.fail("GET /v1/events failed (%r) after %s; %s" % (e, what, self.server_state()))

    def assertServing(self, where):
        if self.ctxd.proc.poll() is not None:
            self.fail("after %s: %s" % (where, self.server_state()))
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200, where)


class RestFuzzTest(FuzzCase):
    METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]

    def route(self):
        """(method, path bytes, body bytes or None, extra headers) for one random request."""
        g = self.gen
        kind = g.r.randrange(17)
        sid = g.pick(SESSIONS)
        sid_seg = sid.encode() if g.chance(0.85) else g.key_segment()
        key = g.key_segment()
        method, body, headers = "GET", None, {}
        if kind == 0:
            path = b"/v1/context"
            if g.chance(0.5):
                method = "POST"
                body = {"set": {g.key(): g.value() for _ in range(g.r.randint(0, 3))} if g.chance(0.8) else g.wrong(),
                        "delete": [g.key() for _ in range(g.r.randint(0, 2))] if g.chance(0.8) else g.wrong()}
                for name in ("actor", "session"):
                    if g.chance(0.15):
                        body[name] = g.pick([g.wrong(), "fuzz"])
        elif kind in (1, 2):
            path = b"/v1/context/" + key
            method = g.pick(["GET", "PUT", "PUT", "DELETE"])
            if method == "PUT":
                body = g.maybe_wrong({"value": g.value()})
                for name in ("actor", "session", "command_id"):
                    if g.chance(0.1):
                        body[name] = g.pick([g.wrong(), "fuzz"])
                if g.chance(0.2):
                    body = b'{"value":' + g.json_bytes() + b"}"
            if g.chance(0.2):
                headers["If-Match"] = g.pick(["0", "1", "-1", "abc", "", "18446744073709551616", '"1"', "*"])
            if g.chance(0.05):
                headers["Idempotency-Key"] = g.pick(["i1", "i2", "", "x" * 300])
        elif kind == 3:
            path = b"/v1/context/" + key + b"/history"
        elif kind == 4:
            path = b"/v1/changes"
        elif kind == 5:
            path = b"/v1/events"
        elif kind == 6:
            path = b"/v1/events/" + g.pick([b"1", b"0", b"-1", b"abc", b"18446744073709551615", b"99999999999999999999",
                                            b"%31", b"1.0", g.key_segment()])
        elif kind == 7:
            path = b"/v1/sessions/" + sid_seg + b"/graph"
        elif kind in (8, 9):
            path = b"/v1/sessions/" + sid_seg + b"/commands"
            method, body = "POST", g.command(sid)
        elif kind == 10:
            path = b"/v1/sessions/" + sid_seg + b"/" + g.pick([b"undo", b"redo"])
            method, body = "POST", g.pick([None, {}, {"actor": g.pick(["fuzz", g.wrong()])}])
        elif kind == 11:
            path = b"/v1/sessions/" + sid_seg + b"/saves"
            if g.chance(0.5):
                method, body = "POST", g.maybe_wrong({"name": g.pick(["save1", "save2", "", "a/b", "x" * 300])})
        elif kind == 12:
            path = b"/v1/sessions/" + sid_seg + b"/restore"
            method = "POST"
            body = g.maybe_wrong(g.pick([{"name": g.pick(["save1", "save2", "nope"])},
                                         {"seq": g.pick([0, 1, 2, 5, -1, 2 ** 64, 1.5, "1"])}, {}]))
        elif kind == 13:
            node = g.node_ref(sid)
            path = b"/v1/sessions/" + sid_seg + b"/nodes/" + (
                quote(node, safe="").encode() if isinstance(node, str) and node else g.key_segment())
        elif kind == 14:
            path = b"/api/v1/commands/execute"
            method, body = "POST", g.command(sid)
            if g.chance(0.85):
                headers["X-Session-ID"] = g.pick([sid, sid, "", "a b", "x" * 300])
        elif kind == 15:
            path = b"/ctx"
            if g.chance(0.5):
                path += b"?key=" + key
            else:
                method = "POST"
                body = g.maybe_wrong({"key": g.key(), "value": g.value(), "who": g.pick(["fuzz", g.wrong()])})
        else:
            path = g.pick([b"/ctx/all", b"/ctx/history", b"/ctx/dump/list", b"/ctx/history?key=" + key])
        if g.chance(0.35):
            pairs = [(g.pick(QUERY_NAMES), g.pick(QUERY_VALUES)) for _ in range(g.r.randint(1, 3))]
            path += (b"&" if b"?" in path else b"?") + b"&".join(
                n.encode() + b"=" + v.encode() for n, v in pairs)
        if g.chance(0.15):  # any method on any route
            method = g.pick(self.METHODS)
        if g.chance(0.1):  # any body, also where none is expected
            body = g.pick([b"", b"{", b"null", b"[]", b"1e400", b'"s"', b"{} {}", b'{"value":1}x', b"\xef\xbb\xbf{}",
                           b"\xff\xfe", g.json_bytes()])
        if body is not None and not isinstance(body, bytes):
            body = g.dumps(body)
        if body is not None and g.chance(0.05):  # a byte flipped
            i = g.r.randrange(len(body) + 1)
            body = body[:i] + bytes([g.r.randrange(256)]) + body[i + 1:]
        return method, path, body, headers

    def send(self, method, target, body, headers):
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: localhost", b"Connection: close"]
        for name, value in headers.items():
            lines.append(name.encode() + b": " + value.encode())
        if body is not None:
            lines += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
        request = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
        start = time.monotonic()
        try:
            raw = self.ctxd.raw(request, read_timeout=10)
        except OSError as e:
            raw = b"(%r)" % e
        return raw, time.monotonic() - start

    def check_answer(self, target, raw, took, what):
        """(status, parsed body) of a complete answer that is not 5xx and is
        UTF-8 JSON; a 4xx must have the error form of its API."""
        self.assertLess(took, 9.5, "no answer (or the connection was not closed) for %s" % what)
        try:
            status, _, answer = parse_answer(raw)
        except ValueError as e:
            self.fail("%s: %s for %s; %s" % (e, shown(raw), what, self.server_state()))
        self.assertLess(status, 500, "%d %s for %s" % (status, shown(answer), what))
        try:
            parsed = json.loads(answer.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.fail("%d with a body that is not UTF-8 JSON: %s for %s" % (status, shown(answer), what))
        if 400 <= status < 500:
            if target.startswith(b"/ctx"):
                ok = isinstance(parsed, dict) and parsed.get("status") == "error" and \
                    isinstance(parsed.get("error"), str) and parsed["error"]
            else:
                error = parsed.get("error") if isinstance(parsed, dict) else None
                ok = isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"] and \
                    isinstance(error.get("message"), str) and error["message"]
            self.assertTrue(ok, "%d with an error body not of the documented form: %s for %s" %
                            (status, shown(answer), what))
        return status, parsed

    def remember_nodes(self, path, headers, parsed):
        """Node ids that commands created, so later commands can name them."""
        result = parsed.get("result") if isinstance(parsed, dict) else None
        if not (isinstance(result, dict) and isinstance(result.get("node_id"), str)):
            return
        sid = headers.get("X-Session-ID") if path.startswith(b"/api/") else path.split(b"/")[3].decode("latin-1")
        if sid in self.gen.nodes:
            self.gen.nodes[sid] = (self.gen.nodes[sid] + [result["node_id"]])[-40:]

    def test_random_requests_on_every_route(self):
        """Random methods, targets, queries, headers and bodies: never 5xx, a
        hang or a malformed error; nothing appended for a refused write."""
        sent, statuses = 0, {}
        head, last = self.ctxd.head(), "the start"
        while sent < REST_REQUESTS and self.in_budget():
            method, target, body, headers = self.route()
            what = "request #%d (seed %d): %s headers=%r" % (sent, SEED, describe(method, target, body or b""),
                                                             {k: shown(v) for k, v in headers.items()})
            if method != "GET":
                head = self.head(last)
            raw, took = self.send(method, target, body, headers)
            sent += 1
            status, parsed = self.check_answer(target, raw, took, what)
            statuses[status // 100] = statuses.get(status // 100, 0) + 1
            if method != "GET":
                grown = self.head(what) - head
                if status >= 300:
                    self.assertEqual(grown, 0, "head grew by %d on a %d answer %s for %s" %
                                     (grown, status, shown(body_of(raw)), what))
                else:  # a write is one event at most
                    self.assertIn(grown, (0, 1), "head grew by %d on %s for %s" %
                                  (grown, shown(body_of(raw)), what))
            if status == 200:
                self.remember_nodes(target, headers, parsed)
            last = what
        self.assertGreater(sent, 100, "too few requests within the time limit")
        self.assertGreater(statuses.get(2, 0), 20, statuses)  # the input reaches the write paths too
        self.assertGreater(statuses.get(4, 0), 20, statuses)
        self.assertServing("%d REST requests" % sent)


class WsFuzzTest(FuzzCase):
    def op(self, ident):
        """(text, matchable id or None) of one random client message."""
        g = self.gen
        c = g.r.random()
        if c < 0.06:
            return g.pick(["hello", "{", "", " ", "[1]", "5", "null", '"op"', "{}", '{"op":"set"', "\u00e9",
                           '{"op":"set","id":"x"} x']), None
        m = {"op": g.pick(["set"] * 6 + ["command"] * 4 + ["undo", "redo"] * 2 +
                          ["nope", "SET", "ack", "", None, 7, ["set"]])}
        session = g.session()
        if m["op"] == "set" or g.chance(0.2):
            m.update(key=g.key(), value=g.value())
            if g.chance(0.1):
                m["if_match"] = g.pick([0, 1, 2 ** 64, -1, "1", 1.5])
        if m["op"] == "command" or g.chance(0.1):
            m["command"] = g.command(session if isinstance(session, str) else "s0")
            if g.chance(0.1):
                m["command"] = g.wrong()
        if m["op"] != "set" or g.chance(0.2):
            m["session"] = self.session_of[ident] = session
        for name in ("actor", "command_id"):
            if g.chance(0.1):
                m[name] = g.pick(["fuzz", g.wrong()])
        g.maybe_wrong(m)
        matchable = ident
        d = g.r.random()
        if d < 0.1:
            m["id"] = matchable = g.r.randrange(10 ** 6, 10 ** 9)  # an int id is echoed too
        elif d < 0.2:
            m["id"], matchable = g.pick([None, True, [1], {"a": 1}, 0.5, 2 ** 70, ""]), None
        elif d < 0.25:
            m.pop("id", None)
            matchable = None
        else:
            m["id"] = ident
        text = json.dumps(m)
        if g.chance(0.1) and m.get("op") == "set":
            # A value json.dumps never writes (1e400, a huge int, an escaped NUL).
            text = text[:-1] + ',"value":' + g.json_bytes().decode("utf-8", "replace") + "}"
        return text, matchable if readable_text(text) else None

    def next_reply(self, ws, what):
        """The next message that is not an event."""
        while True:
            try:
                frame = ws.next_frame()
            except Exception as e:  # timeout or a broken connection
                self.fail("no reply (%r) for %s" % (e, what))
            if frame[0] != "text":
                self.fail("%r instead of a reply for %s" % (frame, what))
            message = frame[1]
            if message.get("op") != "event":
                return message

    def check_reply(self, reply, what):
        self.assertIn(reply.get("op"), ("ack", "error"), "%r for %s" % (reply, what))
        if reply["op"] == "ack":
            self.assertIsInstance(reply.get("seq"), int, "%r for %s" % (reply, what))
        else:
            error = reply.get("error")
            self.assertTrue(isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"] and
                            isinstance(error.get("message"), str) and error["message"], "%r for %s" % (reply, what))
            self.assertNotEqual(error["code"], "INTERNAL_ERROR", "%r for %s" % (reply, what))

    def test_random_ops(self):
        """Random ops, ids, field types and non-JSON text on one connection:
        one ack or error per message, the connection stays open, and the log
        grows only by acked ops."""
        ws = Ws(self.ctxd, timeout=10)
        self.addCleanup(ws.close)
        ws.hello()
        sent = acks = 0
        last = "the start"
        self.session_of = {}  # string id -> the session its op named
        while sent < WS_OPS and self.in_budget():
            burst = 1 if self.gen.chance(0.7) else self.gen.r.randint(2, 5)
            messages = [self.op("f%d" % (sent + i)) for i in range(burst)]
            if burst > 1:  # only matchable ids in a burst
                messages = [(text, ident) for text, ident in messages if ident is not None] or messages[:1]
            what = "ws messages (seed %d) %s" % (SEED, " | ".join(shown(t) for t, _ in messages))
            head = self.head(last)
            for text, _ in messages:
                ws.send(text)
            sent += len(messages)
            replies = [self.next_reply(ws, what) for _ in messages]
            for reply in replies:
                self.check_reply(reply, what)
            expected = sorted(str(ident) for _, ident in messages if ident is not None)
            if len(messages) > 1 or expected:
                self.assertEqual(sorted(str(r.get("id")) for r in replies), expected, "%r for %s" % (replies, what))
            for reply in replies:  # nodes that commands created become targets of later commands
                result = reply.get("result")
                session = self.session_of.get(reply.get("id")) if isinstance(reply.get("id"), str) else None
                if isinstance(result, dict) and isinstance(result.get("node_id"), str) and session in self.gen.nodes:
                    self.gen.nodes[session] = (self.gen.nodes[session] + [result["node_id"]])[-40:]
            acked = sum(r["op"] == "ack" for r in replies)
            acks += acked
            grown = self.head(what) - head
            self.assertTrue(0 <= grown <= acked, "head grew by %d with %d acks: %r for %s" %
                            (grown, acked, replies, what))
            last = what
        # A last valid op is answered, and is the next reply: nothing extra came.
        ws.send({"op": "set", "id": "last", "key": "ws-fuzz-last", "value": sent})
        reply = self.next_reply(ws, "the last set")
        self.assertEqual((reply.get("op"), reply.get("id")), ("ack", "last"), reply)
        self.assertGreater(acks, 10)
        self.assertServing("%d WebSocket ops" % sent)


class SocketIoFuzzTest(FuzzCase):
    NAMES = ["context_set"] * 5 + ["client_register"] * 2 + ["nope", "context_get", "", "error", "\u00e9", 5, None]

    def argument(self, name):
        """Mostly the shape `name` takes, with wrong types; sometimes anything.
        A tuple is sent as several arguments."""
        g = self.gen
        c = g.r.random()
        if c < 0.2:
            return g.pick([None, 0, 1.5, 2 ** 64, "s", "", [], [1, "a"], {}, True, ("a", "b"), ({"key": "k"}, 1)])
        if c < 0.3:
            return g.value()
        if name == "client_register" or (name != "context_set" and c < 0.5):
            return g.maybe_wrong({"type": g.pick(["t", "t", g.wrong()]), "name": g.pick(["n", "n", g.wrong()])})
        if c < 0.6:
            return {"key": g.pick(KEYS), "value": g.value(), "who": "fuzz"}
        return g.maybe_wrong({"key": g.key(), "value": g.value(), "who": g.pick(["fuzz", "fuzz", g.wrong()])})

    def test_random_events(self):
        """Random event names and argument shapes: each gets an ack or an error
        event, the client stays connected, and only confirmed sets append."""
        rec = Recorder(self.ctxd.url).connect()
        self.addCleanup(rec.disconnect)
        rec.wait_for("context_snapshot")
        head = self.ctxd.head()
        lock = threading.Lock()
        acked = {"context_set": 0, "client_register": 0, "other": 0}
        sent = {"context_set": 0, "client_register": 0, "other": 0}
        log = []

        def on_ack(kind):
            def callback(*args):
                with lock:
                    acked[kind] += 1
            return callback

        while sum(sent.values()) < SIO_EVENTS and self.in_budget():
            name = self.gen.pick(self.NAMES)
            arg = self.argument(name)
            kind = name if name in ("context_set", "client_register") and readable(arg) else "other"
            log.append("%r %s" % (name, shown(repr(arg), 160)))
            rec.client.emit(name, arg, callback=on_ack(kind))
            sent[kind] += 1
        what = "Socket.IO events (seed %d): %s" % (SEED, "; ".join(log))

        def answered():
            errors = {"context_set": 0, "client_register": 0, "other": 0}
            for data in rec.all("error"):
                message = data.get("message", "") if isinstance(data, dict) else ""
                errors[message.split(":")[0] if message.split(":")[0] in errors else "other"] += 1
            with lock:
                return {k: acked[k] + errors[k] for k in sent}

        end = time.monotonic() + WAIT
        while answered() != sent and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(answered(), sent, "answers (acks + error events) per kind vs events sent, for %s; "
                         "last received %.2000r" % (what, rec.summary()))
        for data in rec.all("error"):
            self.assertTrue(isinstance(data, dict) and isinstance(data.get("message"), str) and data["message"],
                            "%r for %s" % (data, what))
        confirmed = len(rec.all("context_set_confirmed"))
        self.assertEqual(confirmed, acked["context_set"], what)
        self.assertLessEqual(self.ctxd.head() - head, confirmed, what)
        self.assertTrue(rec.client.connected, what)
        rec.emit("context_set", {"key": "sio-fuzz-last", "value": SEED, "who": "fuzz"})
        rec.wait_for("context_set_confirmed", lambda d: d.get("key") == "sio-fuzz-last")
        self.assertEqual(answered(), sent, "late answers for %s" % what)  # none came twice
        self.assertServing("%d Socket.IO events" % sum(sent.values()))


if __name__ == "__main__":
    unittest.main()
