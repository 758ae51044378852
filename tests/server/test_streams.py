"""Live streams: GET /v1/ws (WebSocket) and GET /v1/stream (SSE), against
the real ctxd binary on a free loopback port."""

import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import requests

from ctxd_harness import Ctxd, ServerTestCase
from stream_client import ABNF, Sse, Ws, masked_text_frame, raw_upgrade, recv_until


def put(ctxd, key, value, **body):
    body["value"] = value
    r = ctxd.put("/v1/context/" + key, json=body)
    assert r.status_code == 200, r.text
    return r.json()["seq"]


def event_list(ctxd, query):
    r = ctxd.get("/v1/events?limit=10000&" + query)
    assert r.status_code == 200, r.text
    return r.json()["events"]


def metric(ctxd, name):
    for line in ctxd.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_for(predicate, timeout=10, interval=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Writer(threading.Thread):
    """Writes `count` context sets over one keep-alive connection."""

    def __init__(self, ctxd, count, prefix="w", value_bytes=10):
        super().__init__(daemon=True)
        self.url = ctxd.url
        self.count = count
        self.prefix = prefix
        self.pad = "x" * value_bytes
        self.latencies = []
        self.last_seq = 0
        self.error = None

    def run(self):
        try:
            with requests.Session() as s:
                for i in range(self.count):
                    start = time.monotonic()
                    r = s.put("%s/v1/context/%s-%d" % (self.url, self.prefix, i % 50),
                              json={"value": "%d-%s" % (i, self.pad)}, timeout=30)
                    self.latencies.append(time.monotonic() - start)
                    r.raise_for_status()
                    self.last_seq = r.json()["seq"]
        except Exception as e:  # reported by the test
            self.error = e

    def p99(self):
        ordered = sorted(self.latencies)
        return ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0


class StreamTest(ServerTestCase):
    CTXD_ARGS = ("--sse-heartbeat", "1")

    def head(self):
        return self.ctxd.head()

    # --- WebSocket --------------------------------------------------------

    def test_hello_announces_head_and_store(self):
        put(self.ctxd, "hello-k", 1)
        head = self.head()
        a, b = Ws(self.ctxd), Ws(self.ctxd)
        try:
            ha, hb = a.hello(), b.hello()
            self.assertEqual(ha["head"], head)
            self.assertIsInstance(ha["store"], str)
            self.assertTrue(ha["store"])
            self.assertEqual(ha["store"], hb["store"])
        finally:
            a.close()
            b.close()

    def test_live_events_arrive_in_order_in_the_events_api_form(self):
        ws = Ws(self.ctxd)
        try:
            start = ws.hello()["head"]
            seqs = [put(self.ctxd, "live-%d" % i, {"i": i}) for i in range(20)]
            events = ws.events(20)
            self.assertEqual([e["seq"] for e in events], seqs)
            self.assertEqual(seqs[0], start + 1)
            for event in events[:3]:
                self.assertEqual(event, self.ctxd.get("/v1/events/%d" % event["seq"]).json())
        finally:
            ws.close()

    def test_from_catches_up_from_the_log_then_goes_live(self):
        seqs = [put(self.ctxd, "from-%d" % i, i) for i in range(30)]
        ws = Ws(self.ctxd, "from=%d" % seqs[10])
        try:
            ws.hello()
            caught_up = ws.events(20)
            self.assertEqual([e["seq"] for e in caught_up], seqs[10:])
            more = [put(self.ctxd, "from-more-%d" % i, i) for i in range(5)]
            self.assertEqual([e["seq"] for e in ws.events(5)], more)
        finally:
            ws.close()

    def test_resume_with_from_has_no_gap_and_no_duplicate_while_writes_go_on(self):
        start = self.head() + 1
        writer = Writer(self.ctxd, 400, prefix="resume-ws")
        writer.start()
        received = []
        ws = Ws(self.ctxd, "from=%d&key=resume-ws-" % start)
        ws.hello()
        for _ in range(3):  # read a little, drop the connection, resume after the last one seen
            received += [e["seq"] for e in ws.events(60)]
            ws.close()
            ws = Ws(self.ctxd, "from=%d&key=resume-ws-" % (received[-1] + 1))
            ws.hello()
        writer.join(60)
        self.assertIsNone(writer.error)
        while received[-1] < writer.last_seq:
            received.append(ws.events(1)[0]["seq"])
        ws.close()
        expected = [e["seq"] for e in event_list(self.ctxd, "from=%d&key=resume-ws-" % start)]
        self.assertEqual(received, expected)
        self.assertEqual(len(expected), 400)

    def test_client_ops_are_acknowledged_with_their_seq(self):
        ws = Ws(self.ctxd, "type=session.save")  # no events: only answers
        try:
            ws.hello()
            ws.send({"op": "set", "id": 1, "key": "op-k", "value": {"a": 1}, "actor": "alice"})
            ack = ws.recv_json()
            self.assertEqual(ack["op"], "ack")
            self.assertEqual(ack["id"], 1)
            self.assertEqual(ack["version"], ack["seq"])
            self.assertTrue(ack["changed"])
            got = self.ctxd.get("/v1/context/op-k").json()
            self.assertEqual((got["value"], got["actor"], got["version"]), ({"a": 1}, "alice", ack["seq"]))

            ws.send({"op": "set", "id": "again", "key": "op-k", "value": {"a": 1}})
            again = ws.recv_json()
            self.assertEqual((again["id"], again["changed"], again["version"]), ("again", False, ack["seq"]))

            ws.send({"op": "set", "id": "c1", "key": "op-k", "value": 2, "command_id": "ws-cid"})
            first = ws.recv_json()
            self.assertEqual((first["op"], first["changed"]), ("ack", True))
            ws.send('{"op":"set","id":"c2","command_id":"ws-cid","value":2,"key":"op-k"}')
            retry = ws.recv_json()
            self.assertEqual((retry["op"], retry["id"], retry["seq"]), ("ack", "c2", first["seq"]))
            ws.send({"op": "set", "id": "c3", "key": "op-k", "value": 3, "command_id": "ws-cid"})
            reused = ws.recv_json()
            self.assertEqual((reused["op"], reused["id"], reused["error"]["code"]), ("error", "c3", "CONFLICT"))
            self.assertEqual(self.ctxd.get("/v1/context/op-k").json()["value"], 2)

            ws.send({"op": "command", "id": "c", "session": "ws-s",
                     "command": {"command": "create_node", "type": "task", "name": "Build", "actor": "bob"}})
            created = ws.recv_json()
            self.assertEqual(created["op"], "ack")
            node = created["result"]["node_id"]
            self.assertTrue(created["command_id"])
            graph = self.ctxd.get("/v1/sessions/ws-s/graph").json()
            self.assertEqual([n["id"] for n in graph["nodes"]], [node])
            event = self.ctxd.get("/v1/events/%d" % created["seq"]).json()
            self.assertEqual((event["type"], event["actor"]), ("graph.create_node", "bob"))

            ws.send({"op": "undo", "id": "u", "session": "ws-s"})
            undo = ws.recv_json()
            self.assertEqual((undo["op"], undo["undoes"]), ("ack", created["seq"]))
            self.assertEqual(self.ctxd.get("/v1/sessions/ws-s/graph").json()["nodes"], [])
            ws.send({"op": "redo", "id": "r", "session": "ws-s"})
            redo = ws.recv_json()
            self.assertEqual((redo["op"], redo["redoes"], redo["seq"]), ("ack", created["seq"], undo["seq"] + 1))
        finally:
            ws.close()

    def test_bad_ops_get_an_error_the_connection_stays_and_nothing_is_appended(self):
        put(self.ctxd, "bad-op-k", 1)
        cases = [
            ("not json", None, "BAD_REQUEST"),
            ('["an", "array"]', None, "BAD_REQUEST"),
            ({"op": "fly", "id": 1}, 1, "BAD_REQUEST"),
            ({"id": 2}, 2, "BAD_REQUEST"),
            ({"op": "set", "id": 3, "value": 1}, 3, "BAD_REQUEST"),
            ({"op": "set", "id": 4, "key": "", "value": 1}, 4, "BAD_REQUEST"),
            ({"op": "set", "id": 5, "key": "a\u0001b", "value": 1}, 5, "BAD_REQUEST"),
            ({"op": "set", "id": 6, "key": "k"}, 6, "BAD_REQUEST"),
            ({"op": "set", "id": {"no": 1}, "key": "k", "value": 1}, None, "BAD_REQUEST"),
            ({"op": "set", "id": 7, "key": "k", "value": 1, "actor": 5}, 7, "BAD_REQUEST"),
            ({"op": "set", "id": 8, "key": "bad-op-k", "value": 2, "if_match": 999999}, 8, "PRECONDITION_FAILED"),
            ({"op": "set", "id": 15, "key": "k", "value": 1, "if_match": "3"}, 15, "BAD_REQUEST"),
            ('{"op":"set","id":"plain-16","key":"k","value":"v","actor":"a\x7fb"}', "plain-16", "BAD_REQUEST"),
            ({"op": "command", "id": 9, "session": "bad-s", "command": {"command": "explode"}}, 9, "BAD_REQUEST"),
            ({"op": "command", "id": 10, "command": {"command": "create_node", "type": "t", "name": "n"}}, 10,
             "BAD_REQUEST"),
            ({"op": "command", "id": 11, "session": "bad-s", "command": "create_node"}, 11, "BAD_REQUEST"),
            ({"op": "command", "id": 12, "session": "bad-s", "command": {"command": "delete_node", "node_id": "nope"}},
             12, "NOT_FOUND"),
            ({"op": "undo", "id": 13, "session": "never-used"}, 13, "NOTHING_TO_UNDO"),
            ({"op": "redo", "id": 14}, 14, "BAD_REQUEST"),
            # Refused before it is read, yet its id is still answered.
            ('{"op":"set","id":17,"key":"k","value":[18446744073709551616]}', 17, "BAD_REQUEST"),
            ('{"op":"set","id":"s-18","key":"k","value":1e400}', "s-18", "BAD_REQUEST"),
            ('{"op":"set","id":18446744073709551616,"key":"k","value":1}', None, "BAD_REQUEST"),  # not rounded
            ('{"op":"set","id":1.5,"key":"k","value":[18446744073709551616]}', None, "BAD_REQUEST"),
            # Values nlohmann cannot read (a lone surrogate), and messages cut short after the id.
            ('{"op":"set","key":"k\\ud800","value":{"id":"inner","v":["]"]},"id":"s-19"}', "s-19", "BAD_REQUEST"),
            ('{ "id" : 20 , "op":"set","key":"k","value":"\\udc00"}', 20, "BAD_REQUEST"),
            ('{"\\u0069d":"s-21","op":"set","key":"\\ud800"}', "s-21", "BAD_REQUEST"),
            ('{"id":"s-22","op":"set","key":', "s-22", "BAD_REQUEST"),
            ('{"id":"\\ud800","op":"set","key":"k","value":1e400}', None, "BAD_REQUEST"),
            ('{"op":"set","value":{"id":"inner"', None, "BAD_REQUEST"),
            ('{"op":"set","key" "id":"s-23"}', None, "BAD_REQUEST"),
        ]
        head = self.head()
        ws = Ws(self.ctxd, "type=session.save")
        try:
            ws.hello()
            for message, want_id, code in cases:
                ws.send(message)
                answer = ws.recv_json()
                self.assertEqual(answer["op"], "error", (message, answer))
                self.assertEqual(answer["id"], want_id, message)
                self.assertEqual(answer["error"]["code"], code, (message, answer))
                self.assertTrue(answer["error"]["message"])
                if message == "not json":
                    self.assertTrue(answer["error"]["message"].startswith("the message is not valid JSON: "), answer)
            ws.ws.send_binary(b"\x00\x01")
            self.assertEqual(ws.recv_json()["error"]["code"], "BAD_REQUEST")
            self.assertEqual(self.head(), head)
            ws.send({"op": "set", "id": "ok", "key": "bad-op-k", "value": 3})
            self.assertEqual(ws.recv_json()["op"], "ack")
        finally:
            ws.close()

    def test_pipelined_ops_are_answered_in_seq_order(self):
        ws = Ws(self.ctxd, "type=session.save")
        try:
            ws.hello()
            for i in range(500):  # none awaited
                ws.send({"op": "set", "id": i, "key": "pipe-%d" % (i % 37), "value": [i, "pipelined"]})
            acks = [ws.recv_json() for _ in range(500)]
            self.assertTrue(all(a["op"] == "ack" for a in acks))
            self.assertEqual(sorted(a["id"] for a in acks), list(range(500)))
            seqs = [a["seq"] for a in acks]
            self.assertEqual(seqs, sorted(seqs))
            self.assertEqual(len(set(seqs)), 500)
        finally:
            ws.close()

    def test_ops_arriving_together_share_one_commit(self):
        ws = Ws(self.ctxd, "type=session.save")
        try:
            ws.hello()
            frames = b"".join(
                ABNF.create_frame(json.dumps({"op": "set", "id": i, "key": "burst-%d" % i, "value": i}),
                                  ABNF.OPCODE_TEXT).format()
                for i in range(100))
            batches = metric(self.ctxd, "ctxd_commit_batch_size_count")
            commands = metric(self.ctxd, "ctxd_commit_batch_size_sum")
            ws.ws.sock.sendall(frames)  # one write: the server reads all 100 ops at once
            acks = [ws.recv_json() for _ in range(100)]
            self.assertEqual([a["op"] for a in acks], ["ack"] * 100)
            self.assertEqual(metric(self.ctxd, "ctxd_commit_batch_size_sum") - commands, 100)
            self.assertEqual(metric(self.ctxd, "ctxd_commit_batch_size_count") - batches, 1)
        finally:
            ws.close()

    def test_a_message_over_the_limit_closes_with_1009(self):
        ws = Ws(self.ctxd)
        try:
            ws.hello()
            ws.send('{"op":"set","id":1,"key":"big","value":"%s"}' % ("x" * (3 * 1024 * 1024)))
            frame = ws.next_frame()
            while frame[0] == "text":
                frame = ws.next_frame()
            self.assertEqual(frame[:2], ("close", 1009))
        finally:
            ws.close()
        self.assertEqual(self.ctxd.get("/v1/context/big").status_code, 404)

    def test_a_plain_get_or_a_bad_query_is_refused_with_an_http_error(self):
        r = self.ctxd.get("/v1/ws")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "BAD_REQUEST")
        for query in ("type=no.such", "from=abc", "from=-1"):
            with self.assertRaises(Exception) as refused:
                Ws(self.ctxd, query)
            self.assertIn("400", str(refused.exception))
        r = requests.post(self.ctxd.url + "/v1/ws", timeout=5)
        self.assertEqual(r.status_code, 405)
        upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
        for key in ("", "abc", "!!!!!!!!!!!!!!!!!!!!!!==", "dGhlIHNhbXBsZSBub25jZQ"):
            r = requests.get(self.ctxd.url + "/v1/ws", headers=dict(upgrade, **{"Sec-WebSocket-Key": key}),
                             timeout=5)
            self.assertEqual(r.status_code, 400, key)
            self.assertIn("Sec-WebSocket-Key", r.json()["error"]["message"])

    # --- SSE --------------------------------------------------------------

    def test_sse_is_an_event_stream_with_id_event_and_data(self):
        sse = Sse(self.ctxd)
        try:
            self.assertEqual(sse.status, 200)
            self.assertTrue(sse.headers["content-type"].startswith("text/event-stream"))
            self.assertEqual(sse.headers["cache-control"], "no-cache")
            seq = put(self.ctxd, "sse-k", {"v": 1})
            [(event_id, event_type, data)] = sse.events(1)
            self.assertEqual((event_id, event_type), (seq, "context.set"))
            self.assertEqual(data, self.ctxd.get("/v1/events/%d" % seq).json())
        finally:
            sse.close()

    def test_sse_sends_a_heartbeat_comment(self):
        sse = Sse(self.ctxd)
        try:
            comments = []
            end = time.monotonic() + 5
            while not comments and time.monotonic() < end:
                comments = [v for f, v in sse.next_block() if f == "comment"]
            self.assertEqual(comments, ["ping"])
        finally:
            sse.close()

    def test_sse_last_event_id_resumes_after_it_and_wins_over_from(self):
        seqs = [put(self.ctxd, "sse-resume-%d" % i, i) for i in range(10)]
        sse = Sse(self.ctxd, "from=1&key=sse-resume-", headers={"Last-Event-ID": str(seqs[4])})
        try:
            self.assertEqual([e[0] for e in sse.events(5)], seqs[5:])
        finally:
            sse.close()

    def test_sse_resume_has_no_gap_and_no_duplicate_while_writes_go_on(self):
        start = self.head() + 1
        writer = Writer(self.ctxd, 300, prefix="resume-sse")
        writer.start()
        received = []
        sse = Sse(self.ctxd, "from=%d&key=resume-sse-" % start)
        for _ in range(3):
            received += [e[0] for e in sse.events(50)]
            sse.close()
            sse = Sse(self.ctxd, "key=resume-sse-", headers={"Last-Event-ID": str(received[-1])})
        writer.join(60)
        self.assertIsNone(writer.error)
        while received[-1] < writer.last_seq:
            received.append(sse.events(1)[0][0])
        sse.close()
        expected = [e["seq"] for e in event_list(self.ctxd, "from=%d&key=resume-sse-" % start)]
        self.assertEqual(received, expected)

    def test_sse_bad_query_or_last_event_id_is_a_400(self):
        # The largest seq has no next one to resume at.
        for query, headers in (("type=nope", {}), ("", {"Last-Event-ID": "abc"}), ("from=x", {}), ("key=%E9", {}),
                               ("", {"Last-Event-ID": str(2**64 - 1)})):
            sse = Sse(self.ctxd, query, headers=headers)
            try:
                self.assertEqual(sse.status, 400, query)
                self.assertEqual(json.loads(sse.body())["error"]["code"], "BAD_REQUEST")
            finally:
                sse.close()

    # --- both -------------------------------------------------------------

    def test_every_filter_matches_the_events_api(self):
        first = self.head() + 1
        put(self.ctxd, "flt.a.1", 1, actor="alice")
        put(self.ctxd, "flt.b.1", 2, actor="bob", session="flt-s1")
        self.ctxd.post("/v1/sessions/flt-s1/commands",
                       json={"command": "create_node", "type": "t", "name": "n", "actor": "alice"})
        self.ctxd.post("/v1/sessions/flt-s2/commands", json={"command": "create_node", "type": "t", "name": "m"})
        self.ctxd.post("/v1/sessions/flt-s1/undo", json={"actor": "bob"})
        put(self.ctxd, "flt.a.2", 3, actor="bob")
        self.ctxd.delete("/v1/context/flt.a.1?actor=alice")
        filters = ["session=flt-s1", "actor=alice", "type=context.set", "type=session.undo", "key=flt.a.",
                   "actor=bob&key=flt.", "session=flt-s2&type=graph.create_node"]
        for query in filters:
            expected = [e["seq"] for e in event_list(self.ctxd, "from=%d&%s" % (first, query))]
            self.assertTrue(expected, query)
            ws = Ws(self.ctxd, "from=%d&%s" % (first, query))
            sse = Sse(self.ctxd, "from=%d&%s" % (first, query))
            try:
                ws.hello()
                self.assertEqual([e["seq"] for e in ws.events(len(expected))], expected, query)
                self.assertEqual([e[0] for e in sse.events(len(expected))], expected, query)
            finally:
                ws.close()
                sse.close()
        # Live: only the matching event arrives.
        ws = Ws(self.ctxd, "actor=carol&key=flt.")
        try:
            ws.hello()
            put(self.ctxd, "flt.c", 1, actor="dave")
            put(self.ctxd, "other", 1, actor="carol")
            seq = put(self.ctxd, "flt.c", 2, actor="carol")
            self.assertEqual(ws.events(1)[0]["seq"], seq)
        finally:
            ws.close()

    def test_open_streams_are_counted_as_clients_and_subscribers(self):
        base_clients = self.ctxd.get("/ctx/all").json()["connected_clients"]
        base_subscribers = metric(self.ctxd, "ctxd_subscribers")
        a, b, sse = Ws(self.ctxd), Ws(self.ctxd), Sse(self.ctxd)
        try:
            a.hello()
            b.hello()
            self.assertTrue(wait_for(lambda: self.ctxd.get("/ctx/all").json()["connected_clients"] == base_clients + 3))
            self.assertEqual(metric(self.ctxd, "ctxd_subscribers"), base_subscribers + 3)
        finally:
            a.close()
            b.close()
            sse.close()
        self.assertTrue(wait_for(lambda: self.ctxd.get("/ctx/all").json()["connected_clients"] == base_clients))
        self.assertTrue(wait_for(lambda: metric(self.ctxd, "ctxd_subscribers") == base_subscribers))
        self.assertIsNotNone(metric(self.ctxd, "ctxd_subscriber_lag"))


class SlowSubscriberTest(unittest.TestCase):
    """A subscriber that does not read: writers keep their pace, and it is
    closed with 1008 and the seq to resume from."""

    def test_a_stalled_subscriber_does_not_slow_writers_and_is_closed_with_its_resume_seq(self):
        with Ctxd(args=["--stream-stall-timeout", "1"]) as ctxd:
            base = Writer(ctxd, 400, prefix="base", value_bytes=16384)
            base.run()
            self.assertIsNone(base.error)
            # A tiny receive window: the server's socket buffer fills after a few MiB.
            stalled = Ws(ctxd, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
            start = stalled.hello()["head"] + 1
            loaded = Writer(ctxd, 1200, prefix="stall", value_bytes=16384)
            loaded.start()
            # The server gives up on it: it leaves the subscribers.
            self.assertTrue(wait_for(lambda: metric(ctxd, "ctxd_subscribers") == 0, timeout=30))

            # Drain it now: the server waits only its close timeout (3 s) for
            # the close frame to get through before it drops the connection.
            received = []
            while True:
                frame = stalled.next_frame()
                if frame[0] == "close":
                    break
                if frame[1]["op"] == "event":
                    received.append(frame[1]["event"]["seq"])
            _, code, reason = frame
            self.assertEqual(code, 1008)
            match = re.fullmatch(r"slow consumer; resume from=(\d+)", reason)
            self.assertIsNotNone(match, reason)
            resume = int(match.group(1))
            self.assertEqual(received, list(range(start, resume)))
            stalled.close()

            loaded.join(60)
            self.assertFalse(loaded.is_alive())
            self.assertIsNone(loaded.error)
            self.assertEqual(len(loaded.latencies), 1200)
            self.assertLess(sum(loaded.latencies), 30)
            self.assertLess(loaded.p99(), 10 * base.p99() + 0.05, (loaded.p99(), base.p99()))

            again = Ws(ctxd, "from=%d" % resume)
            head = again.hello()["head"]
            rest = [e["seq"] for e in again.events(head - resume + 1, deadline=30)]
            self.assertEqual(rest, list(range(resume, head + 1)))
            again.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


class AbusiveClientTest(unittest.TestCase):
    """Clients that cost the server without limit unless it bounds them."""

    def test_pings_from_a_client_that_never_reads_do_not_grow_the_server(self):
        # Beast answers pings inside one read; each pong went to the output
        # whatever its limits: 250 MB a second of server memory.
        with Ctxd(args=["--durability", "async"]) as ctxd:
            sock = raw_upgrade(ctxd, "/v1/ws")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.assertIn(b" 101 ", sock.recv(4096))
            ping = b"\x89\xfd\x00\x00\x00\x00" + b"p" * 125  # masked with a zero key
            chunk = ping * 2000
            before = rss_kib(ctxd.proc.pid)
            sock.settimeout(1)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    sock.send(chunk)
                except socket.timeout:
                    pass
            grown_mib = (rss_kib(ctxd.proc.pid) - before) / 1024
            self.assertLess(grown_mib, 64, "%.0f MiB" % grown_mib)
            sock.close()
            self.assertEqual(ctxd.get("/healthz").status_code, 200)

    def test_catch_ups_of_clients_that_left_do_not_hold_up_reads(self):
        # Each from=1 subscriber queued a page read on the worker pool that
        # ran even after the client was gone; REST reads share the pool.
        with Ctxd(args=["--durability", "async"]) as ctxd:
            with requests.Session() as session:
                for batch in range(800):  # events of 1,000 changes: each page read is heavy
                    body = {"set": {"k%d-%d" % (batch % 7, i): batch for i in range(1000)}}
                    self.assertEqual(session.post(ctxd.url + "/v1/context", json=body, timeout=30).status_code, 200)
            for _ in range(300):
                sock = raw_upgrade(ctxd, "/v1/ws?from=1")
                self.assertIn(b" 101 ", sock.recv(4096))  # its catch-up has begun
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()  # a reset
            answer = ctxd.get("/v1/events?from=1&limit=100", timeout=60)
            self.assertEqual(answer.status_code, 200)
            # Before, this waited for the 300 abandoned pages: 10 s and more.
            self.assertLess(answer.elapsed.total_seconds(), 3)
            self.assertEqual(ctxd.stop(), 0)


class EarlyFramesTest(unittest.TestCase):
    """RFC 6455 has clients wait for the 101; some do not."""

    def test_frames_sent_with_the_upgrade_request_are_read(self):
        # A client that does not wait for the 101: its first frames came in
        # the same read as the request, and were dropped.
        with Ctxd() as ctxd:
            op = json.dumps({"op": "set", "id": "early", "key": "early-key", "value": 1})
            sock = raw_upgrade(ctxd, "/v1/ws", masked_text_frame(op))
            received = recv_until(sock, b'"ack"')
            sock.close()
            self.assertIn(b'"op":"ack","id":"early"', received)
            self.assertEqual(ctxd.get("/v1/context/early-key").json()["value"], 1)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_closes_streams_with_going_away(self):
        ctxd = Ctxd().start()
        try:
            put(ctxd, "k", 1)
            ws = Ws(ctxd)
            ws.hello()
            sse = Sse(ctxd)
            seq = put(ctxd, "k", 2)
            self.assertEqual(ws.events(1)[0]["seq"], seq)
            self.assertEqual(sse.events(1)[0][0], seq)
            ctxd.proc.send_signal(signal.SIGTERM)
            frame = ws.next_frame()
            self.assertEqual(frame[:2], ("close", 1001))
            self.assertEqual(frame[2], "going away; resume from=%d" % (seq + 1))
            with self.assertRaises(EOFError):
                while True:
                    sse.next_block()
            self.assertEqual(ctxd.proc.wait(30), 0)
            ws.close()
            sse.close()
        finally:
            ctxd.cleanup()


@unittest.skipUnless(os.environ.get("WS_LOAD_BIN"), "needs bench/ws_load ($WS_LOAD_BIN)")
class ManySubscribersTest(unittest.TestCase):
    def setUp(self):
        # 1,000 sockets on each side: ctxd inherits the raised limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 <= hard or (soft < hard and hard < 4096):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))

    def test_a_thousand_subscribers_each_get_every_event_in_order(self):
        with Ctxd() as ctxd:
            out = subprocess.run(
                [os.environ["WS_LOAD_BIN"], "--target", "%s:%d" % (ctxd.host, ctxd.port), "--mode", "fanout",
                 "--subscribers", "1000", "--events", "2000", "--rate", "2000", "--check", "--drain-seconds", "60"],
                capture_output=True, text=True, timeout=110)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("gaps 0, duplicates 0, closed by server 0, subscribers missing events 0", out.stdout)
            self.assertEqual(ctxd.head(), 2000)


if __name__ == "__main__":
    unittest.main()
