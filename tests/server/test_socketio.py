"""Socket.IO (Engine.IO 4 / Socket.IO 5) on /socket.io/, against the real ctxd
binary, with Debian's python3-socketio client: every scenario runs with the
default transports (polling, then the upgrade) and with websocket only. Raw
HTTP and WebSocket tests cover the Engine.IO edge cases."""

import json
import resource
import socket
import threading
import time
import unittest
import uuid

import requests
import socketio
import websocket

from ctxd_harness import Ctxd
from socketio_client import WAIT, Recorder, open_packet, sio_event, split_payload
from stream_client import masked_text_frame, raw_upgrade, recv_until

SESSIONS_METRIC = "ctxd_socketio_sessions"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def metric(ctxd, name):
    for line in ctxd.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_for(predicate, timeout=WAIT, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def command(ctxd, session, body):
    r = ctxd.post("/v1/sessions/%s/commands" % session, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def is_ts(value):
    return isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T"


class Scenarios:
    """The client scenarios; subclasses pick the transports."""

    TRANSPORTS = None
    ctxd = None

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.stop()
        cls.ctxd.cleanup()

    def client(self, namespaces=("/",), auth=None):
        rec = Recorder(self.ctxd.url, self.TRANSPORTS, namespaces, auth).connect()
        self.addCleanup(rec.disconnect)
        return rec

    def graph_client(self, session, **auth):
        auth["session_id"] = session
        return self.client(("/graph",), auth)

    def check_stamped(self, data):
        self.assertTrue(is_ts(data.get("timestamp")), data)
        self.assertIsInstance(data.get("seq"), int, data)
        self.assertGreater(data["seq"], 0, data)

    # ---- namespace / -----------------------------------------------------

    def test_transport(self):
        rec = self.client()
        if self.TRANSPORTS == ["websocket"]:
            self.assertEqual(rec.transport(), "websocket")
        else:  # starts with polling, then upgrades
            self.assertTrue(wait_for(lambda: rec.transport() == "websocket"), rec.transport())
        key = unique("transport")
        self.ctxd.put("/v1/context/" + key, json={"value": 1})
        rec.wait_for("context_updated", lambda d: d.get("key") == key)

    def test_connect_gets_context_snapshot(self):
        key = unique("snap")
        self.assertEqual(self.ctxd.put("/v1/context/" + key, json={"value": {"a": [1, 2]}}).status_code, 200)
        rec = self.client()
        snap = rec.wait_for("context_snapshot")
        self.assertEqual(set(snap), {"context", "timestamp", "client_id"})
        self.assertEqual(snap["context"][key], {"a": [1, 2]})
        self.assertTrue(is_ts(snap["timestamp"]), snap)
        self.assertIsInstance(snap["client_id"], str)
        self.assertTrue(snap["client_id"])
        self.assertEqual(len(rec.all("context_snapshot")), 1)

    def test_client_stats(self):
        a = self.client()
        first = a.wait_for("client_stats")
        self.assertIsInstance(first["count"], int)
        self.assertGreaterEqual(first["count"], 1)
        b = self.client()
        n = b.wait_for("client_stats")["count"]  # everyone gets the same count
        self.assertGreaterEqual(n, 2)
        a.wait_for("client_stats", lambda d: d["count"] == n)
        b.disconnect()
        a.wait_for("client_stats", lambda d: d["count"] == n - 1)

    def test_client_register(self):
        rec = self.client()
        snap = rec.wait_for("context_snapshot")
        rec.emit("client_register", {"type": "dashboard", "name": "wall"})
        conf = rec.wait_for("registration_confirmed")
        self.assertEqual(conf["type"], "dashboard")
        self.assertEqual(conf["name"], "wall")
        self.assertEqual(conf["client_id"], snap["client_id"])
        self.assertIsInstance(conf["status"], str)

    def test_client_register_with_wrong_types_gets_error(self):
        rec = self.client()
        rec.wait_for("context_snapshot")
        rec.emit("client_register", {"type": 5, "name": "n"})
        rec.emit("client_register", {"type": "t", "name": ["n"]})
        rec.emit("client_register", 5)
        errors = rec.wait_count(lambda ns, name, d: name == "error", 3)
        self.assertEqual([e[2]["message"] for e in errors],
                         ["client_register: 'type' must be a string",
                          "client_register: 'name' must be a string",
                          "client_register: the argument must be an object {type, name}"])
        # Still connected; a null field takes its default.
        rec.emit("client_register", {"type": None, "name": "n"})
        conf = rec.wait_for("registration_confirmed")
        self.assertEqual((conf["type"], conf["name"]), ("unknown", "n"))

    def test_context_set_round_trip(self):
        a, b = self.client(), self.client()
        a.wait_for("context_snapshot")
        b.wait_for("context_snapshot")
        key = unique("rt")
        a.emit("context_set", {"key": key, "value": {"n": 1}, "who": "alice"})
        conf = a.wait_for("context_set_confirmed", lambda d: d.get("key") == key)
        self.assertEqual(conf["value"], {"n": 1})
        self.assertEqual(conf["status"], "success")
        upd = b.wait_for("context_updated", lambda d: d.get("key") == key)
        self.assertEqual(upd["value"], {"n": 1})
        self.assertEqual(upd["who"], "alice")
        self.assertTrue(is_ts(upd["timestamp"]), upd)
        # The write is durable and visible to REST once confirmed.
        self.assertEqual(self.ctxd.get("/v1/context/" + key).json()["value"], {"n": 1})
        # The sender gets the confirmation, not the update.
        later = unique("later")
        self.ctxd.put("/v1/context/" + later, json={"value": 0})
        a.wait_for("context_updated", lambda d: d.get("key") == later)
        self.assertEqual([d for d in a.all("context_updated") if d.get("key") == key], [])

    def test_rest_sets_broadcast(self):
        rec = self.client()
        rec.wait_for("context_snapshot")
        k1, k2, k3 = unique("ctx"), unique("v1"), unique("batch")
        r = self.ctxd.post("/ctx", json={"key": k1, "value": "v", "who": "bob"})
        self.assertEqual(r.status_code, 200, r.text)
        upd = rec.wait_for("context_updated", lambda d: d.get("key") == k1)
        self.assertEqual((upd["value"], upd["who"]), ("v", "bob"))
        self.assertTrue(is_ts(upd["timestamp"]))
        r = self.ctxd.put("/v1/context/" + k2, json={"value": [1], "actor": "carol"})
        self.assertEqual(r.status_code, 200, r.text)
        upd = rec.wait_for("context_updated", lambda d: d.get("key") == k2)
        self.assertEqual((upd["value"], upd["who"]), ([1], "carol"))
        r = self.ctxd.post("/v1/context", json={"set": {k3: True}, "actor": "dave"})
        self.assertEqual(r.status_code, 200, r.text)
        upd = rec.wait_for("context_updated", lambda d: d.get("key") == k3)
        self.assertEqual((upd["value"], upd["who"]), (True, "dave"))

    def test_dump_broadcast(self):
        rec = self.client()
        rec.wait_for("context_snapshot")
        self.ctxd.put("/v1/context/" + unique("d"), json={"value": 1})
        name = unique("dump")
        r = self.ctxd.post("/ctx/dump", json={"format": "csv", "filename": name, "who": "erin"})
        self.assertEqual(r.status_code, 200, r.text)
        dumped = rec.wait_for("context_dumped", lambda d: name in d.get("filename", ""))
        self.assertLessEqual({"filename", "format", "who", "key_count", "timestamp"}, set(dumped))
        self.assertEqual(dumped["format"], "csv")
        self.assertEqual(dumped["who"], "erin")
        self.assertEqual(dumped["key_count"], r.json()["key_count"])
        self.assertTrue(is_ts(dumped["timestamp"]))

    def test_bad_input_gets_error(self):
        rec = self.client()
        rec.wait_for("context_snapshot")
        rec.emit("context_set", {"value": 1})  # no key
        err = rec.wait_for("error")
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"])
        rec.emit("context_set", "not an object")
        rec.wait_count(lambda ns, name, d: name == "error", 2)
        # Still connected and working.
        key = unique("after-error")
        rec.emit("context_set", {"key": key, "value": 2})
        rec.wait_for("context_set_confirmed", lambda d: d.get("key") == key)

    def test_ack(self):
        rec = self.client()
        rec.wait_for("context_snapshot")
        key = unique("ack")
        # call() raises TimeoutError unless the server acknowledges.
        rec.call("context_set", {"key": key, "value": 3, "who": "ack"})
        rec.wait_for("context_set_confirmed", lambda d: d.get("key") == key)
        rec.call("client_register", {"type": "t", "name": "n"})

    # ---- namespace /graph ------------------------------------------------

    def test_graph_refused_without_session_id(self):
        rec = Recorder(self.ctxd.url, self.TRANSPORTS, ("/graph",))
        with self.assertRaises(socketio.exceptions.ConnectionError):
            rec.connect(wait_timeout=3)  # the client waits this long after a refusal
        rec.disconnect()
        self.assertEqual(rec.connect_errors, [("/graph", {"message": "Connection rejected by server"})])

    def test_a_from_seq_that_is_not_a_seq_is_refused(self):
        for bad in ("abc", -1, 1.5, [1]):
            rec = Recorder(self.ctxd.url, self.TRANSPORTS, ("/graph",), {"session_id": "from-seq", "from_seq": bad})
            with self.assertRaises(socketio.exceptions.ConnectionError):
                rec.connect(wait_timeout=3)
            rec.disconnect()
            self.assertEqual(rec.connect_errors, [("/graph", {"message": "auth.from_seq must be an event seq"})])

    def test_unknown_namespace_refused(self):
        rec = Recorder(self.ctxd.url, self.TRANSPORTS, ("/nope",))
        with self.assertRaises(socketio.exceptions.ConnectionError):
            rec.connect(wait_timeout=3)  # the client waits this long after a refusal
        rec.disconnect()
        self.assertEqual(rec.connect_errors, [("/nope", {"message": "Invalid namespace"})])

    def test_session_connected_and_disconnected(self):
        session = unique("s")
        a = self.graph_client(session)
        first = a.wait_for("session:connected")
        self.assertEqual(first["session_id"], session)
        self.assertEqual(first["client_count"], 1)
        self.assertTrue(is_ts(first["timestamp"]), first)
        b = self.graph_client(session)
        a.wait_for("session:connected", lambda d: d["client_count"] == 2)
        b.wait_for("session:connected", lambda d: d["client_count"] == 2)
        command(self.ctxd, session, {"command": "create_node", "type": "t", "name": "n"})
        clients = {s["id"]: s["clients"] for s in self.ctxd.get("/v1/sessions").json()}
        self.assertEqual(clients.get(session), 2, clients)
        b.disconnect()
        gone = a.wait_for("session:disconnected")
        self.assertEqual((gone["session_id"], gone["client_count"]), (session, 1))
        self.assertTrue(is_ts(gone["timestamp"]), gone)

    def test_rooms_isolated(self):
        s1, s2 = unique("room1"), unique("room2")
        a, b = self.graph_client(s1), self.graph_client(s2)
        a.wait_for("session:connected")
        b.wait_for("session:connected")
        n1 = command(self.ctxd, s1, {"command": "create_node", "type": "t", "name": "in1"})["result"]["node_id"]
        n2 = command(self.ctxd, s2, {"command": "create_node", "type": "t", "name": "in2"})["result"]["node_id"]
        a.wait_for("graph:node-created", lambda d: d["node_id"] == n1)
        b.wait_for("graph:node-created", lambda d: d["node_id"] == n2)
        c = self.graph_client(s2)  # s2's session:connected must not reach a
        b.wait_for("session:connected", lambda d: d["client_count"] == 2)
        c.disconnect()
        b.wait_for("session:disconnected")
        marker = command(self.ctxd, s1, {"command": "create_node", "type": "t", "name": "end"})["result"]["node_id"]
        a.wait_for("graph:node-created", lambda d: d["node_id"] == marker)
        for ns, name, data in a.events:
            self.assertNotIn(n2, json.dumps(data), (name, data))
            self.assertNotIn(s2, json.dumps(data), (name, data))
        for ns, name, data in b.events:
            self.assertNotIn(n1, json.dumps(data), (name, data))
            self.assertNotIn(marker, json.dumps(data), (name, data))

    def test_every_graph_event_and_field(self):
        s = unique("fields")
        rec = self.graph_client(s)
        rec.wait_for("session:connected")

        def expect(event, seq, fields, **values):
            data = rec.wait_for(event, lambda d: d.get("seq") == seq and all(d.get(k) == v for k, v in values.items()))
            self.check_stamped(data)
            self.assertEqual(set(data), set(fields) | {"timestamp", "seq"}, (event, data))
            return data

        def executed(answer, command_type, result=True):
            seq, cid = answer["seq"], answer["command_id"]
            expect("command:executing", seq, {"command_id", "command_type"}, command_id=cid,
                   command_type=command_type)
            fields = {"command_id", "command_type"} | ({"result"} if result else set())
            data = rec.wait_for("command:executed", lambda d: d.get("command_id") == cid)
            self.check_stamped(data)
            self.assertEqual(data["seq"], seq)
            self.assertEqual(data["command_type"], command_type)
            self.assertLessEqual(set(data), fields | {"result", "timestamp", "seq"}, data)
            return data

        a = command(self.ctxd, s, {"command": "create_node", "type": "task", "name": "A"})
        na = a["result"]["node_id"]
        expect("graph:node-created", a["seq"], {"node_id", "name", "blueprint_type_id", "parent_id"},
               node_id=na, name="A", blueprint_type_id="task", parent_id=None)
        self.assertEqual(executed(a, "create_node")["result"], {"node_id": na})

        b = command(self.ctxd, s, {"command": "create_node", "type": "step", "name": "B", "parent_id": na})
        nb = b["result"]["node_id"]
        expect("graph:node-created", b["seq"], {"node_id", "name", "blueprint_type_id", "parent_id"},
               node_id=nb, name="B", blueprint_type_id="step", parent_id=na)
        executed(b, "create_node")

        c = command(self.ctxd, s, {"command": "create_node", "type": "step", "name": "C"})
        nc = c["result"]["node_id"]
        link = command(self.ctxd, s, {"command": "link", "parent_id": na, "child_id": nc})
        expect("graph:node-linked", link["seq"], {"parent_id", "child_id"}, parent_id=na, child_id=nc)
        executed(link, "link", result=False)
        unlink = command(self.ctxd, s, {"command": "unlink", "parent_id": na, "child_id": nc})
        expect("graph:node-unlinked", unlink["seq"], {"parent_id", "child_id"}, parent_id=na, child_id=nc)
        executed(unlink, "unlink", result=False)

        p1 = command(self.ctxd, s, {"command": "set_property", "node_id": na, "property": "color", "value": "red"})
        expect("graph:property-changed", p1["seq"], {"node_id", "property_id", "old_value", "new_value"},
               node_id=na, property_id="color", old_value=None, new_value="red")
        executed(p1, "set_property", result=False)
        p2 = command(self.ctxd, s, {"command": "set_property", "node_id": na, "property": "color",
                                     "value": {"rgb": [1, 2, 3]}})
        expect("graph:property-changed", p2["seq"], {"node_id", "property_id", "old_value", "new_value"},
               node_id=na, property_id="color", old_value="red", new_value={"rgb": [1, 2, 3]})

        undo = self.ctxd.post("/v1/sessions/%s/undo" % s, json={})
        self.assertEqual(undo.status_code, 200, undo.text)
        useq = undo.json()["seq"]
        expect("command:undo", useq, {"command_id"}, command_id=p2["command_id"])
        expect("graph:property-changed", useq, {"node_id", "property_id", "old_value", "new_value"},
               node_id=na, property_id="color", old_value={"rgb": [1, 2, 3]}, new_value="red")
        redo = self.ctxd.post("/v1/sessions/%s/redo" % s, json={})
        self.assertEqual(redo.status_code, 200, redo.text)
        rseq = redo.json()["seq"]
        expect("command:redo", rseq, {"command_id"}, command_id=p2["command_id"])
        expect("graph:property-changed", rseq, {"node_id", "property_id", "old_value", "new_value"},
               node_id=na, property_id="color", old_value="red", new_value={"rgb": [1, 2, 3]})

        pd = command(self.ctxd, s, {"command": "delete_property", "node_id": na, "property": "color"})
        expect("graph:property-deleted", pd["seq"], {"node_id", "property_id"}, node_id=na, property_id="color")
        executed(pd, "delete_property", result=False)

        save = self.ctxd.post("/v1/sessions/%s/saves" % s, json={"name": "v1"})
        self.assertEqual(save.status_code, 200, save.text)
        saved = rec.wait_for("project:saved", lambda d: d.get("project_id") == "v1")
        self.check_stamped(saved)
        self.assertEqual(set(saved), {"project_id", "timestamp", "seq"})

        dn = command(self.ctxd, s, {"command": "delete_node", "node_id": nc})
        expect("graph:node-deleted", dn["seq"], {"node_id"}, node_id=nc)
        executed(dn, "delete_node", result=False)

        restore = self.ctxd.post("/v1/sessions/%s/restore" % s, json={"name": "v1"})
        self.assertEqual(restore.status_code, 200, restore.text)
        rs = restore.json()["seq"]
        loaded = expect("project:loaded", rs, {"project_id", "graph"}, project_id="v1")
        graph = self.ctxd.get("/v1/sessions/%s/graph" % s).json()
        self.assertEqual(loaded["graph"], graph)
        self.assertIn(nc, [n["id"] for n in loaded["graph"]["nodes"]])
        rec.wait_for("graph:node-created", lambda d: d.get("node_id") == nc and d.get("seq") == rs)

        restore = self.ctxd.post("/v1/sessions/%s/restore" % s, json={"seq": a["seq"]})
        self.assertEqual(restore.status_code, 200, restore.text)
        rs2 = restore.json()["seq"]
        loaded = expect("project:loaded", rs2, {"project_id", "graph"}, project_id="seq:%d" % a["seq"])
        self.assertEqual([n["id"] for n in loaded["graph"]["nodes"]], [na])

        # A refused command appends nothing but is announced.
        missing = str(uuid.uuid4())
        cid = str(uuid.uuid4())
        r = self.ctxd.post("/v1/sessions/%s/commands" % s, json={"command": "delete_node", "node_id": missing,
                                                                 "command_id": cid})
        self.assertEqual(r.status_code, 404, r.text)
        failed = rec.wait_for("command:failed", lambda d: d.get("command_id") == cid)
        self.assertEqual(failed["command_type"], "delete_node")
        self.assertTrue(failed["error"])
        self.assertTrue(is_ts(failed["timestamp"]), failed)
        self.assertLessEqual(set(failed), {"command_id", "command_type", "error", "timestamp", "seq"}, failed)
        # So are a refused redo, restore and save, named by their route.
        r = self.ctxd.post("/v1/sessions/%s/redo" % s, json={})
        self.assertEqual(r.status_code, 409, r.text)
        self.assertIn("nothing to redo", rec.wait_for("command:failed", lambda d: d["command_type"] == "redo")["error"])
        r = self.ctxd.post("/v1/sessions/%s/restore" % s, json={"name": "no-such-save"})
        self.assertEqual(r.status_code, 404, r.text)
        self.assertIn("no-such-save", rec.wait_for("command:failed", lambda d: d["command_type"] == "restore")["error"])
        r = self.ctxd.post("/v1/sessions/%s/saves" % s, json={"name": "seq:1"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("seq:", rec.wait_for("command:failed", lambda d: d["command_type"] == "save")["error"])

        # The old REST path feeds the same room.
        r = self.ctxd.post("/api/v1/commands/execute", headers={"X-Session-ID": s},
                           json={"command": "create_node", "type": "old", "name": "legacy"})
        self.assertEqual(r.status_code, 200, r.text)
        rec.wait_for("graph:node-created", lambda d: d.get("name") == "legacy" and d.get("seq") == r.json()["seq"])

        # Seqs never go backwards within the room.
        seqs = [d["seq"] for ns, name, d in rec.events if isinstance(d, dict) and name.split(":")[0] in
                ("graph", "command", "project") and "seq" in d and name != "command:failed"]
        self.assertEqual(seqs, sorted(seqs))

    def test_from_seq_replays_exactly_the_missed_events(self):
        def logged(rec):
            return [(name, d["seq"], {k: v for k, v in d.items() if k != "timestamp"})
                    for ns, name, d in rec.events
                    if isinstance(d, dict) and "seq" in d and name.split(":")[0] in ("graph", "command", "project")]

        s, other = unique("resume"), unique("other")
        witness = self.graph_client(s)  # stays connected: the reference
        witness.wait_for("session:connected")
        first = command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "before"})
        a = self.graph_client(s)
        a.wait_for("session:connected")
        mine = command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "seen"})
        a.wait_for("command:executed", lambda d: d["command_id"] == mine["command_id"])
        last_seen = max(e[1] for e in logged(a))
        a.disconnect()
        missed = []
        for i in range(5):
            missed.append(command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "m%d" % i}))
            command(self.ctxd, other, {"command": "create_node", "type": "t", "name": "x%d" % i})
            if i == 2:  # replayed, a restore carries the graph it left, not the graph of the replay's time
                restore = self.ctxd.post("/v1/sessions/%s/restore" % s, json={"seq": first["seq"]}).json()
                missed.append(restore)
                witness.wait_for("project:loaded", lambda d: d["seq"] == restore["seq"])
        witness.wait_for("command:executed", lambda d: d["command_id"] == missed[-1]["command_id"])

        back = self.graph_client(s, from_seq=last_seen + 1)
        back.wait_for("command:executed", lambda d: d["command_id"] == missed[-1]["command_id"])
        live = command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "live"})
        back.wait_for("command:executed", lambda d: d["command_id"] == live["command_id"])
        witness.wait_for("command:executed", lambda d: d["command_id"] == live["command_id"])

        got = logged(back)
        want = [e for e in logged(witness) if e[1] > last_seen]
        self.assertEqual(got, want)
        self.assertEqual({e[1] for e in got}, {m["seq"] for m in missed} | {live["seq"]})
        self.assertNotIn(first["seq"], {e[1] for e in got})

    def test_a_live_project_loaded_carries_the_graph_the_restore_left(self):
        # Writers add nodes to the session while it is restored again and
        # again: each project:loaded must show the graph at its restore's
        # seq, not a later one (it was rendered from the live state, which
        # had often moved on by the time the hub mapped the restore).
        s = unique("restore-race")
        witness = self.graph_client(s)
        witness.wait_for("session:connected")
        base = command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "base"})
        stop = threading.Event()

        def write(n):
            with requests.Session() as http:
                i = 0
                while not stop.is_set() and i < 2000:
                    body = {"command": "create_node", "type": "t", "name": "w%d-%d" % (n, i)}
                    http.post(self.ctxd.url + "/v1/sessions/%s/commands" % s, json=body, timeout=10)
                    i += 1

        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in writers:
            t.start()
        try:
            restores = [self.ctxd.post("/v1/sessions/%s/restore" % s, json={"seq": base["seq"]}).json()
                        for _ in range(12)]
        finally:
            stop.set()
            for t in writers:
                t.join()
        for restore in restores:
            loaded = witness.wait_for("project:loaded", lambda d, seq=restore["seq"]: d["seq"] == seq)
            at = self.ctxd.get("/v1/sessions/%s/graph?at=%d" % (s, restore["seq"])).json()
            self.assertEqual(loaded["graph"]["seq"], restore["seq"])
            self.assertEqual(loaded["graph"], at)

    def test_one_command_of_more_events_than_a_session_may_queue(self):
        # A batch of 20,000 create_node maps to 20,002 packets at once, more
        # than the 16,384 a session may queue: it closed every socket of the
        # room as a slow consumer. Past the backlog the client is now read
        # the events from the log, paced, and stays connected.
        s = unique("big-batch")
        rec = self.graph_client(s)
        rec.wait_for("session:connected")
        ops = [{"command": "create_node", "type": "t", "name": "n", "node_id": "n%05d" % i} for i in range(20000)]
        batch = command(self.ctxd, s, {"command": "batch", "commands": ops})
        rec.wait_for("command:executed", lambda d: d["command_id"] == batch["command_id"], timeout=120)
        after = command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "after", "node_id": "after"})
        rec.wait_for("command:executed", lambda d: d["command_id"] == after["command_id"])
        created = [d["node_id"] for ns, name, d in rec.events if name == "graph:node-created"]
        self.assertEqual(created, ["n%05d" % i for i in range(20000)] + ["after"])
        self.assertTrue(rec.client.connected)
        self.assertEqual([name for ns, name, d in rec.events if name.startswith("command:")],
                         ["command:executing", "command:executed"] * 2)

    def test_200_clients_get_every_event(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
        s = unique("crowd")
        clients = []
        for _ in range(200):
            clients.append(self.graph_client(s))
        clients[-1].wait_for("session:connected", lambda d: d["client_count"] == 200)
        ids = []
        for i in range(20):
            ids.append(command(self.ctxd, s, {"command": "create_node", "type": "t", "name": "e%d" % i})
                       ["result"]["node_id"])
        for rec in clients:
            got = rec.wait_count(lambda ns, name, d: name == "graph:node-created", 20, timeout=60)
            self.assertEqual([d["node_id"] for ns, name, d in got], ids)


class PythonDefaultTransports(Scenarios, unittest.TestCase):
    TRANSPORTS = None


class PythonWebsocketOnly(Scenarios, unittest.TestCase):
    TRANSPORTS = ["websocket"]


class LongContextSnapshot(unittest.TestCase):
    """A context of more than 4,096 keys is rendered off the writer's lock for
    context_snapshot (sio_sockets.cc): the snapshot still comes before the
    updates, and the snapshot plus the updates after it is the latest state."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()
        for start in range(0, 5000, 1000):
            body = {"set": {"bulk/%05d" % i: i for i in range(start, start + 1000)}}
            assert cls.ctxd.post("/v1/context", json=body).status_code == 200

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.stop()
        cls.ctxd.cleanup()

    def connect_while_writing(self, key, auth=None):
        stop, values = threading.Event(), []

        def write():
            with requests.Session() as s:
                while not stop.is_set() or len(values) < 20:
                    r = s.put(self.ctxd.url + "/v1/context/" + key, json={"value": len(values)}, timeout=WAIT)
                    values.append(r.json()["seq"])

        writer = threading.Thread(target=write)
        writer.start()
        try:
            rec = Recorder(self.ctxd.url, None, ("/",), auth).connect()
            self.addCleanup(rec.disconnect)
            rec.wait_for("context_snapshot")
            rec.wait_for("context_updated", lambda d: d.get("key") == key)
        finally:
            stop.set()
            writer.join()
        rec.wait_for("context_updated", lambda d: d.get("key") == key and d.get("value") == len(values) - 1)
        return rec, len(values) - 1

    def test_a_snapshot_larger_than_the_queue_limit_is_sent(self):
        big = "x" * 100000
        first = self.ctxd.head() + 1
        for start in range(0, 180, 10):  # 18 MB: more than the 16 MiB a session may have queued
            body = {"set": {"big/%03d" % i: big for i in range(start, start + 10)}}
            self.assertEqual(self.ctxd.post("/v1/context", json=body).status_code, 200)
        # Raw polling, the CONNECT posted with no poll waiting: its answer and
        # the snapshot are queued together, which is no backlog.
        base = self.ctxd.url + "/socket.io/?EIO=4&transport=polling"
        sid = open_packet(requests.get(base, timeout=10).text)["sid"]
        self.assertEqual(requests.post(base + "&sid=" + sid, data=b"40", timeout=10).text, "ok")
        time.sleep(0.5)  # the snapshot is queued behind the CONNECT answer
        packets = split_payload(requests.get(base + "&sid=" + sid, timeout=30).text)
        self.assertTrue(packets[0].startswith("40{"), packets[0][:100])
        self.assertEqual(sio_event(packets[1])[2][0], "context_snapshot")
        for transports in (["websocket"], ["polling"]):
            rec = Recorder(self.ctxd.url, transports, ("/",)).connect()
            self.addCleanup(rec.disconnect)
            snapshot = rec.wait_for("context_snapshot", timeout=60)["context"]
            self.assertEqual(len([k for k in snapshot if k.startswith("big/")]), 180)
            self.assertEqual(snapshot["big/179"], big)
            key = unique("after-big")
            self.ctxd.put("/v1/context/" + key, json={"value": 1})
            rec.wait_for("context_updated", lambda d: d.get("key") == key)
        # A replay of those 18 MB over polling goes out as the client takes it.
        rec = Recorder(self.ctxd.url, ["polling"], ("/",), {"from_seq": first}).connect()
        self.addCleanup(rec.disconnect)
        rec.wait_count(lambda ns, name, d: name == "context_updated" and d["key"].startswith("big/"), 180,
                       timeout=60)
        self.assertTrue(rec.client.connected)

    def test_the_snapshot_comes_first_and_the_updates_after_it_complete_it(self):
        rec, last = self.connect_while_writing("live")
        names = [name for ns, name, d in rec.events if name in ("context_snapshot", "context_updated")]
        self.assertEqual(names[0], "context_snapshot")
        self.assertEqual(names.count("context_snapshot"), 1)
        snapshot = rec.all("context_snapshot")[0]["context"]
        self.assertEqual(len([k for k in snapshot if k.startswith("bulk/")]), 5000)
        view = dict(snapshot)
        for update in rec.all("context_updated"):
            view[update["key"]] = update["value"]
        self.assertEqual((view["live"], view["bulk/04999"]), (last, 4999))

    def test_from_seq_replays_after_the_snapshot(self):
        head = self.ctxd.head()
        for i in range(3):
            self.ctxd.put("/v1/context/missed", json={"value": i})
        rec, last = self.connect_while_writing("resumed", auth={"from_seq": head + 1})
        names = [name for ns, name, d in rec.events if name in ("context_snapshot", "context_updated")]
        self.assertEqual(names[0], "context_snapshot")
        missed = [d["value"] for d in rec.all("context_updated") if d["key"] == "missed"]
        self.assertEqual(missed, [0, 1, 2])
        seqs = [d["seq"] for d in rec.all("context_updated")]
        self.assertEqual(seqs, sorted(set(seqs)))  # in order, each once
        self.assertEqual(rec.all("context_updated")[-1]["value"], last)


class ShutdownDuringLongSnapshots(unittest.TestCase):
    """SIGTERM while the snapshots of a long context are being rendered on
    the worker pool: they read the store's snapshotter, which closing the
    store removes. Shutdown lets them finish first (it crashed before)."""

    def test_sigterm_with_snapshots_in_flight_exits_0(self):
        for trial in range(2):
            ctxd = Ctxd().start()
            self.addCleanup(ctxd.cleanup)
            for start in range(0, 20000, 1000):
                body = {"set": {"long/%05d" % i: i for i in range(start, start + 1000)}}
                self.assertEqual(ctxd.post("/v1/context", json=body).status_code, 200)
            sockets = []
            for _ in range(40):
                ws = websocket.create_connection("ws://%s:%d/socket.io/?EIO=4&transport=websocket" %
                                                 (ctxd.host, ctxd.port), timeout=10)
                ws.recv()
                sockets.append(ws)
            for ws in sockets:
                ws.send("40")  # a CONNECT to /: a snapshot render queued on the workers
            self.assertEqual(ctxd.stop(), 0, "trial %d" % trial)
            for ws in sockets:
                ws.close()


class LongReplay(unittest.TestCase):
    """auth.from_seq over more events than a session may queue (16,384
    packets): the replay goes out as the client takes it, and over polling
    16 packets a poll, which is what python-engineio clients accept."""

    BATCHES = 40  # of 1,000 keys: 40,000 context_updated packets

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()
        for b in range(cls.BATCHES):
            body = {"set": {"r%02d/%03d" % (b, i): i for i in range(1000)}}
            assert cls.ctxd.post("/v1/context", json=body).status_code == 200

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.stop()
        cls.ctxd.cleanup()

    def replay(self, transports):
        rec = Recorder(self.ctxd.url, transports, ("/",), {"from_seq": 1}).connect()
        self.addCleanup(rec.disconnect)
        want = ["r%02d/%03d" % (b, i) for b in range(self.BATCHES) for i in range(1000)]
        deadline = time.monotonic() + 120
        while len(rec.all("context_updated")) < len(want) and rec.client.connected:
            self.assertLess(time.monotonic(), deadline, "%d of %d" % (len(rec.all("context_updated")), len(want)))
            time.sleep(0.2)
        got = rec.all("context_updated")[:len(want)]  # (a later test's replay has the other's live write)
        self.assertEqual([d["key"] for d in got], want)
        self.assertEqual([d["seq"] for d in got], sorted(d["seq"] for d in got))
        # Still connected, and live after the replay.
        self.assertTrue(rec.client.connected)
        key = unique("after-replay")
        self.ctxd.put("/v1/context/" + key, json={"value": 1})
        rec.wait_for("context_updated", lambda d: d.get("key") == key)

    def test_over_websocket(self):
        self.replay(["websocket"])

    def test_writes_during_the_replay_are_read_from_the_log_past_the_hold(self):
        # 30 events of 1,000 keys while the replay is under way: more live
        # frames than a socket holds (16,384). The socket used to be closed.
        rec = Recorder(self.ctxd.url, ["polling"], ("/",), {"from_seq": 1})
        writer = threading.Thread(target=lambda: [
            self.ctxd.post("/v1/context", json={"set": {"w%02d/%03d" % (b, i): b for i in range(1000)}}, timeout=30)
            for b in range(30)])
        rec.connect()
        self.addCleanup(rec.disconnect)
        writer.start()
        writer.join(60)
        deadline = time.monotonic() + 120
        while rec.client.connected and not any(d["key"] == "w29/999" for d in rec.all("context_updated")[-1:]):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        self.assertTrue(rec.client.connected)
        seqs = [d["seq"] for d in rec.all("context_updated")]
        self.assertEqual(seqs, sorted(seqs))
        written = [d["key"] for d in rec.all("context_updated") if d["key"].startswith("w")]
        self.assertEqual(written, ["w%02d/%03d" % (b, i) for b in range(30) for i in range(1000)])

    def test_over_polling(self):
        self.replay(["polling"])


# ---- raw Engine.IO ---------------------------------------------------------


class LargestPacketTakenFirst(unittest.TestCase):
    """A session may queue 16 MiB beyond its largest packet. Once that packet
    was taken while others stayed queued, their sum fell below it, the
    check's unsigned difference wrapped, and the next packet closed the
    session as a slow consumer: a polling client replaying from_seq behind
    a long context's snapshot was closed on its second poll."""

    def test_a_replay_behind_a_long_snapshot_goes_on_over_polling(self):
        ctxd = Ctxd().start()
        self.addCleanup(ctxd.cleanup)
        for b in range(6):  # a 700 KB snapshot; 6,000 context_updated of ~200 bytes
            body = {"set": {"k%d/%04d" % (b, i): "v" * 100 for i in range(1000)}}
            self.assertEqual(ctxd.post("/v1/context", json=body).status_code, 200)
        base = ctxd.url + "/socket.io/?EIO=4&transport=polling"
        sid = open_packet(requests.get(base, timeout=10).text)["sid"]
        r = requests.post(base + "&sid=" + sid, data=b'40{"from_seq":1}', timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        time.sleep(0.5)  # the snapshot is rendered and the replay queued behind it
        packets = []
        for _ in range(60):
            r = requests.get(base + "&sid=" + sid, timeout=40)
            self.assertEqual(r.status_code, 200, "after %d packets: %s" % (len(packets), r.text[:100]))
            got = split_payload(r.text)
            self.assertNotIn("1", got, "closed after %d packets" % len(packets))
            packets += got
        names = [sio_event(p)[2][0] for p in packets if sio_event(p)]
        self.assertEqual(names[0], "context_snapshot")
        self.assertEqual(names[1:], ["context_updated"] * (len(names) - 1))
        self.assertGreater(len(names), 500)


class RawEngineIO(unittest.TestCase):
    """Engine.IO edge cases with python-requests and a raw WebSocket."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()
        cls.base = cls.ctxd.url + "/socket.io/"
        cls.ws_base = "ws://%s:%d/socket.io/" % (cls.ctxd.host, cls.ctxd.port)

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.stop()
        cls.ctxd.cleanup()

    def handshake(self, query="EIO=4&transport=polling"):
        r = requests.get(self.base + "?" + query, timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        return open_packet(r.text)["sid"]

    def poll(self, sid, timeout=40):
        r = requests.get(self.base + "?EIO=4&transport=polling&sid=" + sid, timeout=timeout)
        self.assertEqual(r.status_code, 200, r.text)
        return split_payload(r.text)

    def post(self, sid, packets):
        return requests.post(self.base + "?EIO=4&transport=polling&sid=" + sid,
                             data="\x1e".join(packets).encode(), timeout=10)

    def poll_until(self, sid, predicate, limit=10):
        packets = []
        for _ in range(limit):
            packets += self.poll(sid)
            if predicate(packets):
                return packets
        self.fail("not found in %s" % packets)

    def test_handshake(self):
        r = requests.get(self.base + "?transport=polling&t=Nx1&b64=1&EIO=4&foo=bar", timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"), r.headers)
        opened = open_packet(r.text)
        self.assertEqual(opened["upgrades"], ["websocket"])
        self.assertEqual(opened["pingInterval"], 25000)
        self.assertEqual(opened["pingTimeout"], 20000)
        self.assertEqual(opened["maxPayload"], 1000000)
        self.assertTrue(opened["sid"])
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=10)
        opened = open_packet(ws.recv())
        self.assertEqual(opened["upgrades"], [])
        ws.close()

    def test_bad_requests_get_400(self):
        for query in ("EIO=3&transport=polling", "EIO=5&transport=polling", "transport=polling",
                      "EIO=4&transport=carrier-pigeon", "EIO=4&transport=polling&sid=nosuchsid"):
            r = requests.get(self.base + "?" + query, timeout=10)
            self.assertEqual(r.status_code, 400, query)
        r = requests.post(self.base + "?EIO=4&transport=polling&sid=nosuchsid", data=b"40", timeout=10)
        self.assertEqual(r.status_code, 400)
        with self.assertRaises(websocket.WebSocketBadStatusException):
            websocket.create_connection(self.ws_base + "?EIO=3&transport=websocket", timeout=10)
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200)

    def test_post_joined_packets_then_poll(self):
        sid = self.handshake()
        r = self.post(sid, ["40", '42["client_register",{"type":"raw","name":"r1"}]'])
        self.assertEqual((r.status_code, r.text), (200, "ok"))
        packets = self.poll_until(sid, lambda p: any("registration_confirmed" in x for x in p))
        connect = [p for p in packets if p.startswith("40")]
        self.assertEqual(len(connect), 1, packets)
        socket_sid = json.loads(connect[0][2:])["sid"]
        self.assertTrue(socket_sid)
        self.assertNotEqual(socket_sid, sid)
        names = [sio_event(p)[2][0] for p in packets if sio_event(p)]
        self.assertIn("context_snapshot", names)
        self.assertLess(names.index("context_snapshot"), names.index("registration_confirmed"))

    def test_a_poll_carries_at_most_16_packets(self):
        # python-engineio clients drop the connection on a payload of more.
        sid = self.handshake()
        self.post(sid, ["40"])
        self.poll_until(sid, lambda p: any("context_snapshot" in x for x in p))
        keys = [unique("poll16") for _ in range(40)]
        self.assertEqual(self.ctxd.post("/v1/context", json={"set": {k: 1 for k in keys}}).status_code, 200)
        updates, sizes = [], []
        while len(updates) < len(keys):
            packets = self.poll(sid)
            sizes.append(len(packets))
            updates += [sio_event(p)[2][1]["key"] for p in packets if sio_event(p) and
                        sio_event(p)[2][0] == "context_updated"]
        self.assertLessEqual(max(sizes), 16, sizes)
        self.assertEqual(updates, sorted(keys))  # a batch's keys in order, each once

    def ws_events(self, ws, name, count, seconds=10):
        """Reads WebSocket packets (answering pings) until `count` `name`
        events came, or nothing came for `seconds`; returns how many came."""
        ws.settimeout(seconds)
        got = 0
        while got < count:
            try:
                packet = ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            if packet == "2":
                ws.send("3")
            got += packet.startswith('42["%s"' % name)
        return got

    def test_a_burst_of_large_events_reaches_a_websocket_client(self):
        # 80 x 20 KB: more than the output queue, in frames that one write
        # can take at once, so no write completion came to move the rest.
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=10)
        self.addCleanup(ws.close)
        ws.recv()
        ws.send("40")
        for _ in range(3):  # the CONNECT answer, context_snapshot, client_stats
            ws.recv()
        for burst in range(2):
            body = {"set": {unique("burst%d" % burst): "v" * 20000 for _ in range(80)}}
            self.assertEqual(self.ctxd.post("/v1/context", json=body).status_code, 200)
            self.assertEqual(self.ws_events(ws, "context_updated", 80), 80, "burst %d" % burst)

    def test_a_replay_goes_on_after_the_upgrade_to_websocket(self):
        first = self.ctxd.head() + 1
        for _ in range(30):  # 3,000 context_updated: more than a session queues for a replay at once
            body = {"set": {unique("upg"): 1 for _ in range(100)}}
            self.assertEqual(self.ctxd.post("/v1/context", json=body).status_code, 200)
        sid = self.handshake()
        self.post(sid, ['40{"from_seq":%d}' % first])
        got = 0
        for _ in range(3):  # the replay starts over polling
            got += sum(p.startswith('42["context_updated"') for p in self.poll(sid))
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket&sid=" + sid, timeout=10)
        self.addCleanup(ws.close)
        ws.send("2probe")
        self.assertEqual(ws.recv(), "3probe")
        ws.send("5")
        got += self.ws_events(ws, "context_updated", 3000 - got)
        self.assertEqual(got, 3000)
        key = unique("after-upgrade")
        self.ctxd.put("/v1/context/" + key, json={"value": 1})  # live again after the replay
        self.assertEqual(self.ws_events(ws, "context_updated", 1), 1)

    def test_an_upgrade_without_a_probe_ends_the_parked_poll(self):
        sid = self.handshake()
        parked = {}

        def park():
            parked["packets"] = self.poll(sid, timeout=20)

        poller = threading.Thread(target=park)
        poller.start()
        time.sleep(0.3)
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket&sid=" + sid, timeout=10)
        self.addCleanup(ws.close)
        ws.send("5")
        poller.join(10)
        self.assertFalse(poller.is_alive(), "the parked poll was never answered")
        self.assertEqual(parked["packets"], ["6"])

    def test_packets_sent_with_the_websocket_request_are_read(self):
        # "40": the CONNECT to /.
        sock = raw_upgrade(self.ctxd, "/socket.io/?EIO=4&transport=websocket", masked_text_frame("40"))
        self.addCleanup(sock.close)
        received = recv_until(sock, b"context_snapshot")
        self.assertIn(b'40{"sid":', received)
        self.assertIn(b"context_snapshot", received)

    def test_raw_namespaces_and_ack(self):
        sid = self.handshake()
        self.post(sid, ["40/nope,", "40/graph", '40/graph,{"session_id":"raw-ns"}', "40",
                        '427["client_register",{"type":"raw","name":"ack"}]'])
        packets = self.poll_until(sid, lambda p: any(x.startswith("437") for x in p) and
                                  any(x.startswith("40/graph,{") for x in p))
        self.assertIn('44/nope,{"message":"Invalid namespace"}', packets)
        self.assertIn('44/graph,{"message":"Connection rejected by server"}', packets)
        ack = [p for p in packets if p.startswith("437")][0]
        self.assertIsInstance(json.loads(ack[3:]), list)
        graph = [p for p in packets if p.startswith("40/graph,{")][0]
        self.assertTrue(json.loads(graph[len("40/graph,"):])["sid"])

    def test_concurrent_get_is_refused(self):
        sid = self.handshake()
        parked = {}

        def park():
            r = requests.get(self.base + "?EIO=4&transport=polling&sid=" + sid, timeout=40)
            parked["status"], parked["body"] = r.status_code, r.text

        t = threading.Thread(target=park)
        t.start()
        time.sleep(0.5)  # let the first GET park
        r = requests.get(self.base + "?EIO=4&transport=polling&sid=" + sid, timeout=10)
        self.assertEqual(r.status_code, 400)
        self.post(sid, ["40"])  # wakes the parked GET if the session survived
        t.join(40)
        self.assertFalse(t.is_alive())
        self.assertIn(parked["status"], (200, 400))

    def test_upgrade_from_polling(self):
        sid = self.handshake()
        self.assertEqual(self.post(sid, ["40"]).text, "ok")
        self.poll_until(sid, lambda p: any(x.startswith("40{") for x in p))
        parked = {}
        t = threading.Thread(target=lambda: parked.setdefault("packets", self.poll(sid)))
        t.start()
        time.sleep(0.3)
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket&sid=" + sid, timeout=10)
        ws.send("2probe")
        self.assertEqual(ws.recv(), "3probe")
        t.join(10)
        self.assertEqual(parked.get("packets"), ["6"])
        ws.send("5")
        key = unique("up")
        self.ctxd.post("/ctx", json={"key": key, "value": 1, "who": "w"})
        while True:
            event = sio_event(ws.recv())
            if event and event[2][0] == "context_updated" and event[2][1]["key"] == key:
                break
        # Polling is over for this session.
        r = requests.get(self.base + "?EIO=4&transport=polling&sid=" + sid, timeout=10)
        self.assertEqual(r.status_code, 400)
        ws.close()

    def test_ping_pong_over_websocket(self):
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=40)
        opened = open_packet(ws.recv())
        start = time.monotonic()
        ws.send("40")
        seen = []
        while True:
            packet = ws.recv()
            seen.append(packet)
            if packet == "2":
                break
        waited = time.monotonic() - start
        # The server pings at pingInterval (25 s); wide bounds, it is a timer.
        self.assertGreater(waited, opened["pingInterval"] / 1000 * 0.5, seen)
        self.assertLess(waited, opened["pingInterval"] / 1000 + 10, seen)
        ws.send("3")
        ws.send('42["client_register",{"type":"p","name":"p"}]')
        while not (sio_event(packet := ws.recv()) and "registration_confirmed" in packet):
            pass
        ws.close()

    def test_vanished_clients_are_cleaned_up(self):
        """Sessions that vanish mid-poll, mid-upgrade or stop answering pings
        are closed after pingInterval + pingTimeout; a closed WebSocket at once.
        Its own ctxd, so that no other test's session is counted."""
        self.ctxd = Ctxd().start()
        self.addCleanup(self.ctxd.cleanup)
        self.addCleanup(self.ctxd.stop)
        self.base = self.ctxd.url + "/socket.io/"
        self.ws_base = "ws://%s:%d/socket.io/" % (self.ctxd.host, self.ctxd.port)
        self.assertEqual(metric(self.ctxd, SESSIONS_METRIC), 0, "no %s in /metrics" % SESSIONS_METRIC)

        # A clean WebSocket close ends its session promptly.
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=10)
        ws.recv()
        self.assertEqual(metric(self.ctxd, SESSIONS_METRIC), 1)
        ws.close()
        self.assertTrue(wait_for(lambda: metric(self.ctxd, SESSIONS_METRIC) == 0, 10))

        # Mid-poll: a parked GET whose connection is cut.
        sid = self.handshake()
        raw = socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=10)
        raw.sendall(("GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\n"
                     "Host: localhost\r\n\r\n" % sid).encode())
        time.sleep(0.3)
        raw.close()
        # Mid-upgrade: probe answered, then the WebSocket is dropped without `5`.
        sid2 = self.handshake()
        up = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket&sid=" + sid2, timeout=10)
        up.send("2probe")
        self.assertEqual(up.recv(), "3probe")
        up.sock.close()
        # A WebSocket client that never answers a ping.
        mute = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=60)
        mute.recv()
        self.assertEqual(metric(self.ctxd, SESSIONS_METRIC), 3)
        start = time.monotonic()
        closed = False
        try:
            while time.monotonic() - start < 60:
                opcode, data = mute.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    closed = True
                    break
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            closed = True
        self.assertTrue(closed, "the server kept a client that never answered pings")
        self.assertGreater(time.monotonic() - start, 25 * 0.5)
        self.assertTrue(wait_for(lambda: metric(self.ctxd, SESSIONS_METRIC) == 0, 30),
                        metric(self.ctxd, SESSIONS_METRIC))
        # The dropped polling sessions are gone for the clients too.
        for gone in (sid, sid2):
            r = requests.get(self.base + "?EIO=4&transport=polling&sid=" + gone, timeout=10)
            self.assertEqual(r.status_code, 400)

    def test_oversize_post_refused(self):
        sid = self.handshake()
        try:
            r = requests.post(self.base + "?EIO=4&transport=polling&sid=" + sid,
                              data=b'42["context_set",{"key":"big","value":"' + b"x" * 1100000 + b'"}]', timeout=30)
            self.assertGreaterEqual(r.status_code, 400)
            self.assertLess(r.status_code, 500)
        except requests.exceptions.ConnectionError:
            pass  # closing the connection is a refusal too
        ws = websocket.create_connection(self.ws_base + "?EIO=4&transport=websocket", timeout=10)
        ws.recv()
        try:
            ws.send('42["context_set",{"key":"big","value":"' + "x" * 1100000 + '"}]')
            opcode, _ = ws.recv_data(control_frame=True)
            while opcode not in (websocket.ABNF.OPCODE_CLOSE,):
                opcode, _ = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            pass
        self.assertIsNone(self.ctxd.get("/v1/context/big").json().get("value"))
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200)


if __name__ == "__main__":
    unittest.main()
