"""The dump routes (API.md): POST/GET /v1/dumps, GET /v1/dumps/{name} and the
old POST /ctx/dump, GET /ctx/dump/list, GET /ctx/dump/<filename>. Every
dump is parsed back (layouts in docs/replay.md) and compared with
GET /v1/context?at=SEQ and GET /v1/sessions/{sid}/graph?at=SEQ."""

import csv
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import unittest

import requests

from ctxd_harness import Ctxd

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SESSION = "dump-graph"
FORMATS = ("json", "pretty", "csv", "txt")
SECRET = "top secret, outside the dump directory"

# Values that exercise each format's quoting.
VALUES = {
    "plain": "hello",
    "comma,key": "a, b",
    "quote": 'say "hi"',
    "newline": "line1\nline2",
    "unicode": "grüße ☃",
    "eq=key": "x=y",
    "#hash": "not a comment",
    '"quoted-key': '"starts with a quote',
    "int": 42,
    "float": 1.5,
    "bool": True,
    "null": None,
    "list": [1, "two", [3]],
    "object": {"b": 1, "a": {"c": [True, None]}},
    "numeric-string": "123",
}


def canonical(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def txt_text(value):
    """What a txt dump writes after '=' (docs/replay.md)."""
    if isinstance(value, str):
        if value.startswith('"') or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            return canonical(value)
        return value
    return canonical(value)


def split_json_string(line):
    """'"name" rest' -> (name, rest after the closing quote)."""
    end = 1
    while line[end] != '"':
        end += 2 if line[end] == "\\" else 1
    return json.loads(line[:end + 1]), line[end + 1:]


def parse_json_dump(text):
    doc = json.loads(text)
    sessions = {sid: s["nodes"] for sid, s in doc.get("sessions", {}).items()}
    return {"seq": doc["metadata"]["seq"], "context": doc["context"], "sessions": sessions, "doc": doc}


def parse_pretty_dump(text):
    metadata, entries = {}, []
    section = session = None
    is_open = False
    for line in text.split("\n"):
        base = "  " if section == "SESSIONS" else ""
        if is_open and line.startswith(base + "  "):
            entries[-1][3] += "\n" + line
            continue
        is_open = False
        if line.startswith(("CONTEXT (", "SESSIONS (", "HISTORY (")):
            section = line.split(" ")[0]
        elif section is None and ": " in line:
            name, value = line.split(": ", 1)
            metadata[name] = value
        elif section == "SESSIONS" and line.startswith("SESSION "):
            session = json.loads(line[8:line.rindex(" (")])
            entries.append(["SESSION", session, None, None])
        elif section in ("CONTEXT", "SESSIONS") and line.startswith(base + '"'):
            name, rest = split_json_string(line[len(base):])
            assert rest.startswith(": "), line
            entries.append([section, session, name, rest[2:]])
            is_open = True
    context, sessions = {}, {}
    for kind, sid, name, value in entries:
        if kind == "SESSION":
            sessions[sid] = []
        elif kind == "CONTEXT":
            context[name] = json.loads(value)
        else:
            sessions[sid].append(json.loads(value))
    return {"seq": int(metadata["Seq"]), "context": context, "sessions": sessions, "metadata": metadata}


def parse_csv_dump(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Key", "Value", "Type", "Dump_Timestamp", "Requested_By"], rows[0]
    context, sessions, who = {}, {}, set()
    for row in rows[1:]:
        assert len(row) == 5, row
        key, value, kind, _, requested_by = row
        who.add(requested_by)
        if kind == "graph_node":
            node = json.loads(value)
            sessions.setdefault(node.pop("session"), []).append(node)
        else:
            context[key] = value if kind == "str" else json.loads(value)
    return {"seq": None, "context": context, "sessions": sessions, "who": who}


def parse_txt_dump(text):
    metadata, context, sessions = {}, {}, {}
    session = None
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# session "):
            session = line[len("# session "):line.rindex(": ")]
            sessions[session] = []
        elif line.startswith("# "):
            name, _, value = line[2:].partition(": ")
            metadata[name] = value
        else:
            if line.startswith('"'):
                name, rest = split_json_string(line)
                value = rest[1:]
            else:
                name, value = line.split("=", 1)
            if session is None:
                context[name] = value  # kept as text: txt cannot tell "123" from 123
            else:
                sessions[session].append(json.loads(value))
    return {"seq": int(metadata["seq"]), "context": context, "sessions": sessions, "metadata": metadata}


PARSERS = {"json": parse_json_dump, "pretty": parse_pretty_dump, "csv": parse_csv_dump, "txt": parse_txt_dump}
CONTENT_TYPES = {"json": "application/json", "pretty": "text/plain", "csv": "text/csv", "txt": "text/plain"}


class DumpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="ctxd-dumps-")
        cls.dump_dir = os.path.join(cls.root, "dumps")
        with open(os.path.join(cls.root, "secret.txt"), "w") as f:
            f.write(SECRET)
        os.makedirs(os.path.join(cls.root, "data"))
        cls.ctxd = Ctxd(data_dir=os.path.join(cls.root, "data"), args=["--dump-dir", cls.dump_dir]).start()
        for key, value in VALUES.items():
            r = cls.ctxd.put("/v1/context/" + requests.utils.quote(key, safe=""), json={"value": value})
            assert r.status_code == 200, r.text
        cls.nodes = [cls.command({"command": "create_node", "type": "task", "name": "root",
                                  "props": {"color": "red", "n": 1}})]
        cls.nodes.append(cls.command({"command": "create_node", "type": "task", "name": "child, \"quoted\"",
                                      "parent_id": cls.nodes[0]}))
        cls.command({"command": "create_node", "type": "note", "name": "other", "node_id": "n=3"})

    @classmethod
    def tearDownClass(cls):
        code = cls.ctxd.stop()
        cls.ctxd.cleanup()
        shutil.rmtree(cls.root, ignore_errors=True)
        assert code == 0, code

    @classmethod
    def command(cls, cmd, session=SESSION):
        r = cls.ctxd.post("/v1/sessions/%s/commands" % session, json=cmd)
        assert r.status_code == 200, r.text
        return r.json()["result"]["node_id"] if cmd["command"] == "create_node" else None

    # Helpers.
    def assertNativeError(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(set(response.json()), {"error"})
        self.assertTrue(response.json()["error"]["message"])

    def assertLegacyError(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertEqual(set(body), {"error", "status"})
        self.assertEqual(body["status"], "error")
        self.assertIsInstance(body["error"], str)

    def dump_v1(self, **fields):
        r = self.ctxd.post("/v1/dumps", json=fields, timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        body = r.json()
        self.assertTrue({"name", "format", "seq", "bytes", "key_count"} <= set(body), body)
        self.assertEqual(body["format"], fields["format"])
        download = self.ctxd.get("/v1/dumps/" + body["name"])
        self.assertEqual(download.status_code, 200, download.text)
        self.assertEqual(len(download.content), body["bytes"])
        return body, download

    def dump_legacy(self, params=None, body=None):
        r = self.ctxd.post("/ctx/dump", params=params, json=body, timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        answer = r.json()
        self.assertEqual(set(answer) - {"seq"},
                         {"status", "filename", "format", "path", "key_count", "file_size", "timestamp", "who"})
        self.assertEqual(answer["status"], "success")
        self.assertRegex(answer["timestamp"], TS)
        self.assertEqual(os.path.dirname(answer["path"]), os.path.abspath(self.dump_dir))
        download = self.ctxd.get("/ctx/dump/" + answer["filename"])
        self.assertEqual(download.status_code, 200, download.text)
        self.assertEqual(len(download.content), answer["file_size"])
        return answer, download

    def expected(self, seq, session=None):
        context = self.ctxd.get("/v1/context?at=%d" % seq).json()
        self.assertEqual(context["seq"], seq)
        sessions = {}
        for sid in [session] if session else [s["id"] for s in self.ctxd.get("/v1/sessions").json()]:
            graph = self.ctxd.get("/v1/sessions/%s/graph?at=%d" % (sid, seq))
            if graph.status_code == 200:
                sessions[sid] = graph.json()["nodes"]
        return context["context"], sessions

    def check_dump(self, fmt, text, seq, session=None, key_count=None):
        parsed = PARSERS[fmt](text)
        if parsed["seq"] is not None:
            self.assertEqual(parsed["seq"], seq)
        context, sessions = self.expected(seq, session)
        if fmt == "txt":
            self.assertEqual(parsed["context"], {k: txt_text(v) for k, v in context.items()})
        else:
            self.assertEqual(parsed["context"], context)
        if key_count is not None:
            self.assertEqual(key_count, len(context))
        if fmt in ("json", "pretty") or session:
            self.assertEqual(parsed["sessions"], sessions)
        else:
            self.assertEqual(parsed["sessions"], {})
        return parsed

    # Each format through both routes.
    def test_every_format_native(self):
        for fmt in FORMATS:
            for session in (None, SESSION):
                with self.subTest(format=fmt, session=session):
                    fields = {"format": fmt, "actor": "alice"}
                    if session:
                        fields["session"] = session
                    body, download = self.dump_v1(**fields)
                    self.assertIn(CONTENT_TYPES[fmt], download.headers["Content-Type"])
                    self.assertEqual(body["seq"], self.ctxd.head())
                    self.check_dump(fmt, download.content.decode(), body["seq"], session, body["key_count"])

    def test_every_format_legacy_body_and_query(self):
        for fmt in FORMATS:
            for how in ("body", "query"):
                with self.subTest(format=fmt, how=how):
                    fields = {"format": fmt, "who": "bob", "session": SESSION}
                    answer, download = (self.dump_legacy(body=fields) if how == "body"
                                        else self.dump_legacy(params=fields))
                    self.assertEqual((answer["format"], answer["who"]), (fmt, "bob"))
                    self.assertIn(CONTENT_TYPES[fmt], download.headers["Content-Type"])
                    parsed = self.check_dump(fmt, download.content.decode(), answer["seq"], SESSION,
                                             answer["key_count"])
                    if fmt == "csv":
                        self.assertEqual(parsed["who"], {"bob"})

    def test_at_a_past_seq(self):
        self.ctxd.put("/v1/context/at-key", json={"value": "old"})
        seq = self.ctxd.head()
        self.ctxd.put("/v1/context/at-key", json={"value": "new"})
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                body, download = self.dump_v1(format=fmt, at=seq, session=SESSION)
                self.assertEqual(body["seq"], seq)
                parsed = self.check_dump(fmt, download.content.decode(), seq, SESSION)
                self.assertEqual(parsed["context"]["at-key"], "old")
        answer, download = self.dump_legacy(params={"format": "txt", "at": str(seq)})
        self.assertEqual(answer["seq"], seq)
        self.assertIn("at-key=old\n", download.text)

    def test_dumps_while_writes_continue(self):
        stop = threading.Event()
        errors, written = [], []

        def writer():
            session = requests.Session()
            deadline = time.monotonic() + 20
            for i in range(5000):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                try:
                    r = session.put(self.ctxd.url + "/v1/context/live-%d" % (i % 50), json={"value": i}, timeout=10)
                    if r.status_code != 200:
                        errors.append(r.text)
                    if i % 10 == 0:
                        r = session.post(self.ctxd.url + "/v1/sessions/live/commands", timeout=10,
                                         json={"command": "create_node", "type": "t", "name": "n%d" % i})
                        if r.status_code != 200:
                            errors.append(r.text)
                    written.append(i)
                except requests.RequestException as e:
                    errors.append(str(e))

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            overtaken = 0  # dumps whose seq the head had passed by the time they were checked
            deadline = time.monotonic() + 5
            while len(written) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            for i, fmt in enumerate(FORMATS * 2):
                with self.subTest(format=fmt, round=i):
                    if i % 2 == 0:
                        body, download = self.dump_v1(format=fmt, session="live")
                        seq = body["seq"]
                    else:
                        answer, download = self.dump_legacy(body={"format": fmt, "session": "live"})
                        seq = answer["seq"]
                    self.check_dump(fmt, download.content.decode(), seq, "live")
                    overtaken += self.ctxd.head() > seq
        finally:
            stop.set()
            thread.join(30)
        self.assertFalse(thread.is_alive())
        self.assertEqual(errors, [])
        self.assertGreater(overtaken, 0, "no write landed while the dumps were taken")

    def test_include_history(self):
        self.ctxd.put("/v1/context/hist-key", json={"value": 1, "actor": "h1"})
        self.ctxd.put("/v1/context/hist-key", json={"value": 2, "actor": "h2"})
        body, download = self.dump_v1(format="json", include_history=True)
        history = json.loads(download.text)["history"]
        mine = [(e["before"], e["after"], e["who"]) for e in history if e["key"] == "hist-key"]
        self.assertEqual(mine, [(None, 1, "h1"), (1, 2, "h2")])
        self.assertTrue(all(e["seq"] <= body["seq"] for e in history))
        answer, download = self.dump_legacy(params={"format": "pretty", "include_history": "true"})
        self.assertIn("HISTORY (", download.text)
        answer, download = self.dump_legacy(body={"format": "json"})
        self.assertNotIn("history", json.loads(download.text))

    # Names, list and download.
    def test_names_list_and_download(self):
        body, _ = self.dump_v1(format="csv", name="my report")
        self.assertEqual(body["name"], "my_report.csv")
        body, _ = self.dump_v1(format="pretty", name="banner")
        self.assertEqual(body["name"], "banner.txt")
        first, _ = self.dump_legacy(body={"format": "json"})
        second, _ = self.dump_legacy(body={"format": "json"})
        for answer in (first, second):
            self.assertRegex(answer["filename"], r"^context_dump_\d{8}_\d{6}(_\d+)?\.json$")
        self.assertNotEqual(first["filename"], second["filename"])
        listing = self.ctxd.get("/v1/dumps").json()
        names = [d["name"] for d in listing["dumps"]]
        self.assertIn("my_report.csv", names)
        self.assertIn(second["filename"], names)
        for entry in listing["dumps"]:
            self.assertEqual(set(entry), {"name", "bytes", "created", "modified"})
            self.assertRegex(entry["modified"], TS)
        legacy = self.ctxd.get("/ctx/dump/list").json()
        self.assertEqual(set(legacy), {"status", "dump_directory", "dump_count", "dump_files", "dump_history",
                                       "timestamp"})
        self.assertEqual(legacy["status"], "success")
        self.assertEqual(legacy["dump_directory"], os.path.abspath(self.dump_dir))
        self.assertEqual(legacy["dump_count"], len(legacy["dump_files"]))
        files = {f["filename"]: f for f in legacy["dump_files"]}
        self.assertEqual(set(files[first["filename"]]), {"filename", "path", "size", "created", "modified"})
        self.assertEqual(files[first["filename"]]["size"], first["file_size"])
        history = [h["filename"] for h in legacy["dump_history"]]
        self.assertEqual(history[-2:], [first["filename"], second["filename"]])
        self.assertEqual(legacy["dump_history"][-1]["who"], "anonymous")
        self.assertFalse([n for n in os.listdir(self.dump_dir) if n.startswith(".")], "temp files left")

    def test_missing_dump_is_404(self):
        self.assertNativeError(self.ctxd.get("/v1/dumps/never.json"), 404)
        self.assertLegacyError(self.ctxd.get("/ctx/dump/never.json"), 404)

    def test_symlink_in_dump_dir_is_not_served(self):
        os.makedirs(self.dump_dir, exist_ok=True)
        os.symlink(os.path.join(self.root, "secret.txt"), os.path.join(self.dump_dir, "link.txt"))
        try:
            r = self.ctxd.get("/v1/dumps/link.txt")
            self.assertNativeError(r, 404)
            self.assertLegacyError(self.ctxd.get("/ctx/dump/link.txt"), 404)
        finally:
            os.unlink(os.path.join(self.dump_dir, "link.txt"))

    # Refusals.
    def test_bad_requests(self):
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "xml"}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "JSON"}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", data="nope"), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "at": -1}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "at": "3"}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "at": 10**9}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "include_history": "x"}), 400)
        # The message names the field and what it must be.
        answer = self.ctxd.post("/v1/dumps", json={"format": "json", "at": "3"})
        self.assertEqual(answer.json()["error"]["message"], "'at' must be a sequence number")
        answer = self.ctxd.post("/v1/dumps", json={"format": "json", "include_history": "x"})
        self.assertEqual(answer.json()["error"]["message"], "'include_history' must be true or false")
        answer = self.ctxd.post("/v1/dumps", json={})
        self.assertEqual(answer.json()["error"]["message"], "'format' is required")
        answer = self.ctxd.post("/v1/dumps", json={"format": "json", "name": 5})
        self.assertEqual(answer.json()["error"]["message"], "'name' must be a string")
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "name": 5}), 400)
        self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "csv", "session": "nope"}), 404)
        self.assertNativeError(self.ctxd.delete("/v1/dumps"), 405)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", params={"format": "xml"}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", json={"format": "yaml"}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", data="{not json"), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", json=[1]), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", params={"include_history": "maybe"}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", json={"who": 7}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", params={"at": "999999999"}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", json={"session": "nope", "format": "txt"}), 404)
        self.assertLegacyError(self.ctxd.delete("/ctx/dump/list"), 405)
        self.assertLegacyError(self.ctxd.post("/ctx/dump", json={"session": "bad\nsession"}), 400)
        answer = self.raw_request("POST", "/ctx/dump?format=json&filename=%ff%2e%2e%2fevil")
        self.assertRegex(answer, r"^HTTP/1\.1 400 ")
        json.loads(answer.partition("\r\n\r\n")[2].encode("latin-1").decode("utf-8"))

    def outside_files(self):
        """Every file under the test root outside data/ and dumps/, and any
        'evil' file in /tmp."""
        found = set()
        for dirpath, _, names in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            if rel.split(os.sep)[0] in ("data", "dumps"):
                continue
            found.update(os.path.join(rel, n) for n in names)
        found.update(n for n in os.listdir(tempfile.gettempdir()) if "evil" in n)
        return found

    def test_traversal_in_new_dump_names(self):
        before = self.outside_files()
        names = ["../evil.json", "..", "../../evil", "/tmp/evil.json", "sub/evil.json", "..\\evil.json",
                 "a\\b.json", "evil\x00.json", "%2e%2e%2fevil.json", "..%2fevil", "%2fevil.json",
                 "%252e%252e%252fevil", "%5cevil", "evil%00.json", "C:\\evil.json"]
        for name in names:
            with self.subTest(name=name):
                self.assertNativeError(self.ctxd.post("/v1/dumps", json={"format": "json", "name": name}), 400)
                self.assertLegacyError(self.ctxd.post("/ctx/dump", json={"filename": name}), 400)
                self.assertLegacyError(self.ctxd.post("/ctx/dump", params={"filename": name}), 400)
        # Raw query strings, encoded as a client might send them.
        for raw in ["..%2Fevil.json", "%2e%2e%2fevil", "%252e%252e%252fevil", "%2Ftmp%2Fevil.json",
                    "..%5Cevil", "evil%00.json", "../evil.json"]:
            with self.subTest(raw=raw):
                answer = self.raw_request("POST", "/ctx/dump?format=json&filename=" + raw)
                self.assertRegex(answer, r"^HTTP/1\.1 4\d\d ")
        self.assertEqual(self.outside_files(), before)
        self.assertFalse([n for n in os.listdir(self.dump_dir) if "evil" in n])

    def test_one_dump_at_a_time(self):
        # Pipelined on one connection: the second arrives while the first is
        # being written and is refused, so dumps cannot pile up on the
        # worker pool or fill the disk; the one after them is let in.
        def request(target, body):
            return ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n%s" % (target, len(body), body))
        for target in ("/v1/dumps", "/ctx/dump"):
            with self.subTest(target=target):
                body = '{"format": "pretty", "include_history": true}'
                raw = self.ctxd.raw((request(target, body) * 2 + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                                     "Connection: close\r\n\r\n").encode(), read_timeout=30)
                answers = raw.split(b"HTTP/1.1 ")[1:]
                self.assertEqual([answer[:3] for answer in answers], [b"200", b"503", b"200"], raw)
                busy = answers[1]
                self.assertIn(b"\r\nRetry-After: 1\r\n", busy)
                self.assertIn(b"another dump is being written", busy)
                self.assertIn(b'"status":"error"' if target == "/ctx/dump" else b'"code":"UNAVAILABLE"', busy)
                self.dump_v1(format="json")

    def raw_request(self, method, target):
        request = ("%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                   % (method, target)).encode("latin-1")
        return self.ctxd.raw(request).decode("latin-1")

    def test_traversal_in_downloads(self):
        # As sent on the wire: the server percent-decodes path segments once,
        # so these reach the handler as "..", "../secret.txt", "%2e%2e", ...
        targets = ["..", "%2e%2e", "%2E%2E", "..%2fsecret.txt", "%2e%2e%2fsecret.txt", "..%2F..%2Fetc%2Fpasswd",
                   "%252e%252e%252fsecret.txt", "%25252e%25252e", "%2fetc%2fpasswd", "%2Fetc%2Fpasswd",
                   "..%5csecret.txt", "%5c..%5csecret.txt", "secret.txt%00", "%00", "..%00",
                   ".hidden", "..\\secret.txt", "../secret.txt", "../../etc/passwd", "./..",
                   "%2e%2e/secret.txt", "x/../../secret.txt", "%ff..%2fsecret.txt", "%c0%ae%c0%ae"]
        for prefix in ("/v1/dumps/", "/ctx/dump/"):
            for target in targets:
                with self.subTest(path=prefix + target):
                    answer = self.raw_request("GET", prefix + target)
                    self.assertRegex(answer, r"^HTTP/1\.1 4\d\d ")
                    self.assertNotIn(SECRET, answer)
                    self.assertNotIn("root:", answer)
                    head, _, body = answer.partition("\r\n\r\n")
                    if body:
                        error = json.loads(body.encode("latin-1").decode("utf-8"))
                        self.assertEqual(error.get("status") == "error", prefix == "/ctx/dump/", error)
        # A name that reaches the handler whole is refused with 400 naming the reason.
        r = self.ctxd.get("/v1/dumps/..%2Fsecret.txt")
        self.assertNativeError(r, 400)
        self.assertIn("traversal", r.json()["error"]["message"])
        r = self.ctxd.get("/ctx/dump/%2e%2e%2fsecret.txt")
        self.assertLegacyError(r, 400)
        self.assertIn("traversal", r.json()["error"])

    def test_absolute_path_in_query_and_nul_in_body(self):
        r = self.ctxd.post("/ctx/dump", data=b'{"filename": "/etc/evil"}')
        self.assertLegacyError(r, 400)
        r = self.ctxd.post("/v1/dumps", data=b'{"format": "txt", "name": "a\\u0000b"}')
        self.assertNativeError(r, 400)


if __name__ == "__main__":
    unittest.main()
