"""The native /v1 API of ctxd over real HTTP (API.md "Native REST")."""

import json
import re
import unittest
import urllib.parse

import requests

from ctxd_harness import Ctxd, ServerTestCase

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def q(key):
    return urllib.parse.quote(key, safe="")


class RestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()

    @classmethod
    def tearDownClass(cls):
        code = cls.ctxd.stop()
        cls.ctxd.cleanup()
        assert code == 0, code

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"])

    # Context.
    def test_put_then_get_returns_value_version_actor_ts(self):
        r = self.ctxd.put("/v1/context/put-get", json={"value": {"a": [1, 2]}, "actor": "alice"})
        self.assertEqual(r.status_code, 200, r.text)
        put = r.json()
        self.assertEqual(set(put), {"seq", "version", "changed"})
        self.assertTrue(put["changed"])
        self.assertEqual(put["version"], put["seq"])
        got = self.ctxd.get("/v1/context/put-get").json()
        self.assertEqual(got["key"], "put-get")
        self.assertEqual(got["value"], {"a": [1, 2]})
        self.assertEqual(got["version"], put["version"])
        self.assertEqual(got["actor"], "alice")
        self.assertRegex(got["ts"], TS)

    def test_same_value_appends_nothing(self):
        first = self.ctxd.put("/v1/context/same", json={"value": 5}).json()
        head = self.ctxd.head()
        again = self.ctxd.put("/v1/context/same", json={"value": 5}).json()
        self.assertFalse(again["changed"])
        self.assertEqual(again["version"], first["version"])
        self.assertEqual(self.ctxd.head(), head)

    def test_string_bodies_are_stored_as_canonical_json(self):
        # {"value": "<string>"} without escapes skips the JSON tree; escapes,
        # spacing and other members go through the parser. Both store the
        # same canonical text.
        cases = [
            (b'{"value":"plain"}', "plain"),
            (b' {\r\n\t"value" :  "sp aced" } \n', "sp aced"),
            ('{"value":"ünï 😀 / \x7f"}'.encode(), "ünï 😀 / \x7f"),
            (b'{"value":"q\\"uote\\\\ \\u00e9 \\/ \\n"}', 'q"uote\\ é / \n'),
            (b'{"value":""}', ""),
            (b'{"value":"with actor","actor":"bob"}', "with actor"),
            (b'{"session":"s-flat","value":18446744073709551615}', 18446744073709551615),
            (b'{"value":0,"other":"ignored"}', 0),
            (b'{"value":[1, "a"]}', [1, "a"]),
        ]
        for i, (body, expected) in enumerate(cases):
            path = "/v1/context/canonical-%d" % i
            put = requests.put(self.ctxd.url + path, data=body, timeout=5)
            self.assertEqual(put.status_code, 200, (body, put.text))
            self.assertTrue(put.json()["changed"])
            got = self.ctxd.get(path)
            self.assertEqual(got.json()["value"], expected)
            canonical = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
            self.assertIn('"value":' + canonical + ",", got.content.decode("utf-8"))
            self.assertEqual(got.json()["actor"], "bob" if b"actor" in body else "anonymous")
            again = requests.put(self.ctxd.url + path, data=body, timeout=5).json()
            self.assertFalse(again["changed"], body)
            self.assertEqual(again["version"], put.json()["version"])

    def test_command_id_in_a_plain_body_deduplicates(self):
        body = b'{"value":"once","command_id":"plain-body-cid"}'
        first = requests.put(self.ctxd.url + "/v1/context/plain-cid", data=body, timeout=5)
        self.assertEqual(first.status_code, 200, first.text)
        head = self.ctxd.head()
        again = requests.put(self.ctxd.url + "/v1/context/plain-cid", data=body, timeout=5)
        self.assertEqual(again.json(), first.json())
        self.assertEqual(self.ctxd.head(), head)
        for bad in (b'{"value":"x","actor":"a\x7fb"}', b'{"value":"x","command_id":"' + b"c" * 257 + b'"}'):
            self.assertEqual(requests.put(self.ctxd.url + "/v1/context/plain-cid", data=bad, timeout=5).status_code,
                             400, bad)

    def test_default_actor_is_anonymous(self):
        self.ctxd.put("/v1/context/anon", json={"value": 1})
        self.assertEqual(self.ctxd.get("/v1/context/anon").json()["actor"], "anonymous")

    def test_missing_key_is_404(self):
        self.assertError(self.ctxd.get("/v1/context/never-set"), 404, "NOT_FOUND")

    def test_key_with_slash_space_and_unicode_round_trips(self):
        key = "dir/sub key/ünï"
        self.assertEqual(self.ctxd.put("/v1/context/" + q(key), json={"value": "x"}).status_code, 200)
        got = self.ctxd.get("/v1/context/" + q(key)).json()
        self.assertEqual(got["key"], key)
        self.assertIn(key, self.ctxd.get("/v1/context").json()["context"])

    def test_if_match(self):
        self.assertEqual(self.ctxd.put("/v1/context/im", json={"value": 1}, headers={"If-Match": "0"}).status_code, 200)
        self.assertError(self.ctxd.put("/v1/context/im", json={"value": 2}, headers={"If-Match": "0"}), 412,
                         "PRECONDITION_FAILED")
        version = self.ctxd.get("/v1/context/im").json()["version"]
        self.assertError(self.ctxd.put("/v1/context/im", json={"value": 2}, headers={"If-Match": str(version + 99)}),
                         412, "PRECONDITION_FAILED")
        ok = self.ctxd.put("/v1/context/im", json={"value": 2}, headers={"If-Match": str(version)})
        self.assertEqual(ok.status_code, 200, ok.text)
        self.assertError(self.ctxd.put("/v1/context/im", json={"value": 3}, headers={"If-Match": "abc"}), 400,
                         "BAD_REQUEST")
        self.assertError(self.ctxd.delete("/v1/context/im", headers={"If-Match": str(version)}), 412,
                         "PRECONDITION_FAILED")

    def test_delete(self):
        self.ctxd.put("/v1/context/del-me", json={"value": 1})
        r = self.ctxd.delete("/v1/context/del-me?actor=bob")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(set(r.json()), {"seq"})
        self.assertError(self.ctxd.get("/v1/context/del-me"), 404, "NOT_FOUND")
        self.assertError(self.ctxd.delete("/v1/context/del-me"), 404, "NOT_FOUND")
        event = self.ctxd.get("/v1/events/%d" % r.json()["seq"]).json()
        self.assertEqual(event["type"], "context.delete")
        self.assertEqual(event["actor"], "bob")

    def test_batch_is_one_event(self):
        self.ctxd.put("/v1/context/batch-old", json={"value": 0})
        r = self.ctxd.post("/v1/context", json={"set": {"batch-a": 1, "batch-b": {"x": None}},
                                                "delete": ["batch-old"], "actor": "carol"})
        self.assertEqual(r.status_code, 200, r.text)
        seq = r.json()["seq"]
        event = self.ctxd.get("/v1/events/%d" % seq).json()
        self.assertEqual(event["type"], "context.batch")
        self.assertEqual(len(event["changes"]), 3)
        ctx = self.ctxd.get("/v1/context?prefix=batch-").json()["context"]
        self.assertEqual(ctx, {"batch-a": 1, "batch-b": {"x": None}})

    def test_batch_errors_append_nothing(self):
        head = self.ctxd.head()
        self.assertError(self.ctxd.post("/v1/context", json={"set": [1]}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/v1/context", json={"delete": "k"}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/v1/context", json={}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/v1/context", json={"delete": ["never-existed-batch"]}), 404, "NOT_FOUND")
        self.assertEqual(self.ctxd.head(), head)

    def test_list_with_prefix_and_seq(self):
        self.ctxd.put("/v1/context/pfx-1", json={"value": 1})
        self.ctxd.put("/v1/context/pfx-2", json={"value": 2})
        self.ctxd.put("/v1/context/pfy", json={"value": 3})
        body = self.ctxd.get("/v1/context?prefix=pfx-").json()
        self.assertEqual(body["context"], {"pfx-1": 1, "pfx-2": 2})
        self.assertGreaterEqual(body["seq"], 3)

    def test_at_reads_the_past(self):
        first = self.ctxd.put("/v1/context/tt", json={"value": "old"}).json()["seq"]
        self.ctxd.put("/v1/context/tt", json={"value": "new"})
        self.assertEqual(self.ctxd.get("/v1/context/tt?at=%d" % first).json()["value"], "old")
        self.assertEqual(self.ctxd.get("/v1/context/tt").json()["value"], "new")
        past = self.ctxd.get("/v1/context?at=%d" % first).json()
        self.assertEqual(past["seq"], first)
        self.assertEqual(past["context"]["tt"], "old")
        self.assertError(self.ctxd.get("/v1/context/tt?at=%d" % (first - 1)), 404, "NOT_FOUND")
        self.assertError(self.ctxd.get("/v1/context/tt?at=99999999"), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/context/tt?at=x"), 400, "BAD_REQUEST")

    def test_history_pages_ascending(self):
        seqs = [self.ctxd.put("/v1/context/hist", json={"value": i, "session": "hs"}).json()["seq"] for i in range(5)]
        self.ctxd.delete("/v1/context/hist")
        page = self.ctxd.get("/v1/context/hist/history?limit=2").json()
        self.assertEqual(page["key"], "hist")
        self.assertEqual([e["seq"] for e in page["entries"]], seqs[:2])
        self.assertEqual(page["next"], seqs[2])
        e = page["entries"][1]
        self.assertEqual(set(e), {"seq", "ts", "actor", "session", "op", "value", "old"})
        self.assertEqual((e["op"], e["value"], e["old"], e["session"]), ("set", 1, 0, "hs"))
        rest = self.ctxd.get("/v1/context/hist/history?from=%d&limit=100" % page["next"]).json()
        self.assertEqual(len(rest["entries"]), 4)
        self.assertEqual(rest["entries"][-1]["op"], "delete")
        self.assertIsNone(rest["next"])
        self.assertError(self.ctxd.get("/v1/context/hist/history?limit=0"), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/context/hist/history?limit=10001"), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/context/hist/history?from=-1"), 400, "BAD_REQUEST")

    def test_changes_since(self):
        self.ctxd.put("/v1/context/chg-del", json={"value": 1})
        since = self.ctxd.head()
        self.ctxd.put("/v1/context/chg-set", json={"value": 1})
        self.ctxd.delete("/v1/context/chg-del")
        self.ctxd.put("/v1/context/chg-tmp", json={"value": 1})
        self.ctxd.delete("/v1/context/chg-tmp")
        body = self.ctxd.get("/v1/changes?since=%d" % since).json()
        self.assertEqual(body["seq"], self.ctxd.head())
        self.assertIn("chg-set", body["changed"])
        self.assertIn("chg-del", body["deleted"])
        self.assertNotIn("chg-tmp", body["changed"] + body["deleted"])
        empty = self.ctxd.get("/v1/changes?since=%d" % body["seq"]).json()
        self.assertEqual((empty["changed"], empty["deleted"]), ([], []))
        self.assertError(self.ctxd.get("/v1/changes?since=abc"), 400, "BAD_REQUEST")
        # A cursor past the head is not from this log: an error, not "nothing changed".
        past = self.ctxd.get("/v1/changes?since=%d" % (self.ctxd.head() + 1))
        self.assertError(past, 400, "BAD_REQUEST")
        self.assertIn("past the head", past.json()["error"]["message"])

    # Idempotency.
    def test_idempotency_key_header_returns_original_answer(self):
        headers = {"Idempotency-Key": "idem-put-1"}
        first = self.ctxd.put("/v1/context/idem", json={"value": 1}, headers=headers).json()
        self.ctxd.put("/v1/context/idem", json={"value": 2})
        head = self.ctxd.head()
        again = self.ctxd.put("/v1/context/idem", json={"value": 1}, headers=headers).json()
        self.assertEqual(again, first)
        self.assertEqual(self.ctxd.head(), head)
        self.assertEqual(self.ctxd.get("/v1/context/idem").json()["value"], 2)

    def test_command_id_in_body_deduplicates_graph_commands(self):
        cmd = {"command": "create_node", "type": "t", "name": "n", "command_id": "idem-graph-1"}
        first = self.ctxd.post("/v1/sessions/idem-s/commands", json=cmd).json()
        head = self.ctxd.head()
        again = self.ctxd.post("/v1/sessions/idem-s/commands", json=cmd)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.json()["seq"], first["seq"])
        self.assertEqual(again.json()["result"], first["result"])
        self.assertEqual(self.ctxd.head(), head)
        self.assertEqual(len(self.ctxd.get("/v1/sessions/idem-s/graph").json()["nodes"]), 1)

    def test_an_id_reused_for_another_request_is_a_409_that_changes_nothing(self):
        headers = {"Idempotency-Key": "idem-reuse-1"}
        first = self.ctxd.put("/v1/context/idem-reuse", json={"value": 1}, headers=headers).json()
        head = self.ctxd.head()
        for path, body, extra in (("/v1/context/idem-reuse", {"value": 2}, {}),
                                  ("/v1/context/idem-reuse-other", {"value": 1}, {}),
                                  ("/v1/context/idem-reuse", {"value": 1, "actor": "bob"}, {}),
                                  ("/v1/context/idem-reuse", {"value": 1}, {"If-Match": "0"})):
            r = self.ctxd.put(path, json=body, headers={**headers, **extra})
            self.assertError(r, 409, "CONFLICT")
            self.assertIn("'idem-reuse-1' was already used for a different request (seq %d)" % first["seq"],
                          r.json()["error"]["message"])
        r = self.ctxd.post("/v1/sessions/idem-reuse-s/commands", headers=headers,
                           json={"command": "create_node", "type": "t", "name": "n"})
        self.assertError(r, 409, "CONFLICT")
        self.assertEqual(self.ctxd.head(), head)
        self.assertEqual(self.ctxd.get("/v1/context/idem-reuse").json()["value"], 1)
        # The same request again is still a retry, whatever the order of its fields.
        again = self.ctxd.put("/v1/context/idem-reuse", data=b'{ "value" : 1 }', headers=headers)
        self.assertEqual(again.json(), first)

    def test_a_retried_create_node_matches_although_its_node_id_was_generated(self):
        cmd = {"command": "create_node", "type": "t", "name": "n", "props": {"b": 1, "a": [2]},
               "command_id": "idem-graph-gen"}
        first = self.ctxd.post("/v1/sessions/idem-gen/commands", json=cmd).json()
        reordered = b'{"props":{"a":[2],"b":1},"name":"n","command_id":"idem-graph-gen","type":"t","command":"create_node"}'
        again = requests.post(self.ctxd.url + "/v1/sessions/idem-gen/commands", data=reordered,
                              headers={"Content-Type": "application/json"}, timeout=5)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.json(), first)
        cmd["name"] = "renamed"
        self.assertError(self.ctxd.post("/v1/sessions/idem-gen/commands", json=cmd), 409, "CONFLICT")
        old = requests.post(self.ctxd.url + "/api/v1/commands/execute", data=reordered,
                            headers={"X-Session-ID": "idem-gen", "Content-Type": "application/json"}, timeout=5)
        self.assertEqual(old.status_code, 200, old.text)
        self.assertEqual((old.json()["seq"], old.json()["result"]), (first["seq"], first["result"]))
        self.assertEqual(len(self.ctxd.get("/v1/sessions/idem-gen/graph").json()["nodes"]), 1)

    # Graph.
    def create(self, sid, name, **extra):
        body = {"command": "create_node", "type": "task", "name": name}
        body.update(extra)
        r = self.ctxd.post("/v1/sessions/%s/commands" % sid, json=body)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["result"]["node_id"]

    def test_graph_commands_and_reads(self):
        sid = "g1"
        root = self.create(sid, "root", props={"color": "red"})
        child = self.create(sid, "child", parent_id=root)
        given = self.create(sid, "given", node_id="my-node")
        self.assertEqual(given, "my-node")
        r = self.ctxd.post("/v1/sessions/g1/commands", json={"command": "link", "parent_id": root, "child_id": given})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(set(r.json()), {"seq", "command_id", "result"})
        self.ctxd.post("/v1/sessions/g1/commands",
                       json={"command": "set_property", "node_id": child, "property": "p", "value": [1]})
        graph = self.ctxd.get("/v1/sessions/g1/graph").json()
        self.assertEqual(graph["session"], "g1")
        nodes = {n["id"]: n for n in graph["nodes"]}
        self.assertEqual(set(nodes[root]), {"id", "type", "name", "props", "parents", "children"})
        self.assertEqual(sorted(nodes[root]["children"]), sorted([child, given]))
        self.assertEqual(nodes[child]["props"], {"p": [1]})
        self.assertEqual(nodes[root]["props"], {"color": "red"})
        node = self.ctxd.get("/v1/sessions/g1/nodes/%s" % child).json()
        self.assertEqual(node["parents"], [root])
        self.assertError(self.ctxd.get("/v1/sessions/g1/nodes/nope"), 404, "NOT_FOUND")
        self.assertError(self.ctxd.get("/v1/sessions/nope/graph"), 404, "NOT_FOUND")
        sessions = {s["id"]: s for s in self.ctxd.get("/v1/sessions").json()}
        self.assertEqual(set(sessions["g1"]), {"id", "nodes", "edges", "undo_depth", "redo_depth", "clients",
                                               "last_seq"})
        self.assertEqual((sessions["g1"]["nodes"], sessions["g1"]["edges"]), (3, 2))
        # Unlink, delete property, delete node.
        for cmd in ({"command": "unlink", "parent_id": root, "child_id": given},
                    {"command": "delete_property", "node_id": child, "property": "p"},
                    {"command": "delete_node", "node_id": given}):
            r = self.ctxd.post("/v1/sessions/g1/commands", json=cmd)
            self.assertEqual(r.status_code, 200, r.text)
        graph = self.ctxd.get("/v1/sessions/g1/graph").json()
        self.assertEqual(len(graph["nodes"]), 2)

    def test_graph_errors(self):
        sid = "g2"
        a = self.create(sid, "a")
        b = self.create(sid, "b", parent_id=a)
        head = self.ctxd.head()
        url = "/v1/sessions/g2/commands"
        self.assertError(self.ctxd.post(url, json={"command": "link", "parent_id": b, "child_id": a}), 409, "CONFLICT")
        self.assertError(self.ctxd.post(url, json={"command": "link", "parent_id": a, "child_id": b}), 409, "CONFLICT")
        self.assertError(self.ctxd.post(url, json={"command": "create_node", "type": "t", "name": "x", "node_id": a}),
                         409, "CONFLICT")
        self.assertError(self.ctxd.post(url, json={"command": "delete_node", "node_id": "missing"}), 404, "NOT_FOUND")
        self.assertError(self.ctxd.post(url, json={"command": "unlink", "parent_id": b, "child_id": a}), 404,
                         "NOT_FOUND")
        self.assertError(self.ctxd.post(url, json={"command": "fly"}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post(url, json={"command": "create_node", "type": 5, "name": "x"}), 400,
                         "BAD_REQUEST")
        self.assertError(self.ctxd.post(url, json={"command": "set_property", "node_id": a, "property": "p"}), 400,
                         "BAD_REQUEST")
        self.assertError(self.ctxd.post(url, json={"type": "t"}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post(url, data="[1]"), 400, "BAD_REQUEST")
        self.assertEqual(self.ctxd.head(), head)

    def test_batch_is_atomic_and_one_undo_step(self):
        sid = "g3"
        url = "/v1/sessions/g3/commands"
        bad = {"command": "batch", "commands": [{"command": "create_node", "type": "t", "name": "x", "node_id": "bx"},
                                                {"command": "delete_node", "node_id": "missing"}]}
        head = self.ctxd.head()
        self.assertError(self.ctxd.post(url, json=bad), 404, "NOT_FOUND")
        self.assertEqual(self.ctxd.head(), head)
        good = {"command": "batch", "commands": [{"command": "create_node", "type": "t", "name": "x", "node_id": "bx"},
                                                 {"command": "create_node", "type": "t", "name": "y",
                                                  "parent_id": "bx"}]}
        r = self.ctxd.post(url, json=good)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(len(self.ctxd.get("/v1/sessions/%s/graph" % sid).json()["nodes"]), 2)
        undo = self.ctxd.post("/v1/sessions/%s/undo" % sid)
        self.assertEqual(undo.json()["undoes"], r.json()["seq"])
        self.assertEqual(self.ctxd.get("/v1/sessions/%s/graph" % sid).json()["nodes"], [])
        nested = {"command": "batch", "commands": [{"command": "batch", "commands": []}]}
        self.assertError(self.ctxd.post(url, json=nested), 400, "BAD_REQUEST")

    def test_undo_redo_and_conflict(self):
        sid = "g4"
        created = self.ctxd.post("/v1/sessions/g4/commands",
                                 json={"command": "create_node", "type": "t", "name": "n", "node_id": "u1"}).json()
        prop = self.ctxd.post("/v1/sessions/g4/commands",
                              json={"command": "set_property", "node_id": "u1", "property": "p", "value": 1}).json()
        undo = self.ctxd.post("/v1/sessions/g4/undo", json={"actor": "alice"})
        self.assertEqual(undo.status_code, 200, undo.text)
        self.assertEqual(undo.json()["undoes"], prop["seq"])
        self.assertEqual(self.ctxd.get("/v1/sessions/g4/nodes/u1").json()["props"], {})
        redo = self.ctxd.post("/v1/sessions/g4/redo")
        self.assertEqual(redo.json()["redoes"], prop["seq"])
        self.assertEqual(self.ctxd.get("/v1/sessions/g4/nodes/u1").json()["props"], {"p": 1})
        self.assertError(self.ctxd.post("/v1/sessions/g4/redo"), 409, "NOTHING_TO_REDO")
        # Another writer changes what the last command wrote: undo is refused.
        self.ctxd.put("/v1/context/conflict-key", json={"value": 1, "session": sid})
        self.ctxd.put("/v1/context/conflict-key", json={"value": 2})
        head = self.ctxd.head()
        conflict = self.ctxd.post("/v1/sessions/g4/undo")
        self.assertError(conflict, 409, "CONFLICT")
        self.assertIn("conflict-key", conflict.json()["error"]["message"])
        self.assertEqual(self.ctxd.head(), head)
        self.assertError(self.ctxd.post("/v1/sessions/g5-empty/undo"), 409, "NOTHING_TO_UNDO")
        self.assertError(self.ctxd.post("/v1/sessions/g4/undo", data="{"), 400, "BAD_REQUEST")
        self.assertEqual(created["seq"] < prop["seq"], True)

    def test_saves_and_restore(self):
        sid = "g6"
        self.create(sid, "a", node_id="s-a")
        save = self.ctxd.post("/v1/sessions/g6/saves", json={"name": "v1"})
        self.assertEqual(save.status_code, 200, save.text)
        self.create(sid, "b", node_id="s-b")
        saves = self.ctxd.get("/v1/sessions/g6/saves").json()
        self.assertEqual([s["name"] for s in saves], ["v1"])
        self.assertEqual(set(saves[0]), {"name", "seq", "ts"})
        self.assertEqual(saves[0]["seq"], save.json()["seq"])
        r = self.ctxd.post("/v1/sessions/g6/restore", json={"name": "v1"})
        self.assertEqual(r.status_code, 200, r.text)
        ids = [n["id"] for n in self.ctxd.get("/v1/sessions/g6/graph").json()["nodes"]]
        self.assertEqual(ids, ["s-a"])
        # A restore is one undoable command.
        self.ctxd.post("/v1/sessions/g6/undo")
        ids = sorted(n["id"] for n in self.ctxd.get("/v1/sessions/g6/graph").json()["nodes"])
        self.assertEqual(ids, ["s-a", "s-b"])
        by_seq = self.ctxd.post("/v1/sessions/g6/restore", json={"seq": saves[0]["seq"]})
        self.assertEqual(by_seq.status_code, 200, by_seq.text)
        self.assertError(self.ctxd.post("/v1/sessions/g6/restore", json={"name": "nope"}), 404, "NOT_FOUND")
        self.assertError(self.ctxd.post("/v1/sessions/g6/restore", json={}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/v1/sessions/g6/restore", json={"name": "v1", "seq": 1}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/v1/sessions/g6/saves", json={}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/sessions/nope/saves"), 404, "NOT_FOUND")

    def test_graph_at(self):
        sid = "g7"
        self.create(sid, "a", node_id="t-a")
        seq = self.ctxd.head()
        self.create(sid, "b", node_id="t-b")
        past = self.ctxd.get("/v1/sessions/g7/graph?at=%d" % seq).json()
        self.assertEqual(past["seq"], seq)
        self.assertEqual([n["id"] for n in past["nodes"]], ["t-a"])

    def test_old_execute_path(self):
        r = self.ctxd.post("/api/v1/commands/execute", json={"command": "create_node", "type": "t", "name": "n"},
                           headers={"X-Session-ID": "old-s"})
        self.assertEqual(r.status_code, 200, r.text)
        body = r.json()
        self.assertEqual(set(body), {"success", "result", "seq"})
        self.assertIs(body["success"], True)
        self.assertIn("node_id", body["result"])
        self.assertError(self.ctxd.post("/api/v1/commands/execute", json={"command": "create_node", "type": "t",
                                                                          "name": "n"}), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.post("/api/v1/commands/execute", json={"command": "delete_node", "node_id": "x"},
                                        headers={"X-Session-ID": "old-s"}), 404, "NOT_FOUND")

    # Events.
    def test_events_paging_and_filters(self):
        start = self.ctxd.head() + 1
        for i in range(6):
            self.ctxd.put("/v1/context/ev-%d" % (i % 2), json={"value": i, "actor": "ev-actor-%d" % (i % 3)})
        page = self.ctxd.get("/v1/events?from=%d&limit=4" % start).json()
        self.assertEqual([e["seq"] for e in page["events"]], list(range(start, start + 4)))
        self.assertEqual(page["next"], start + 4)
        self.assertEqual(page["head"], self.ctxd.head())
        rest = self.ctxd.get("/v1/events?from=%d" % page["next"]).json()
        self.assertIsNone(rest["next"])
        filtered = self.ctxd.get("/v1/events?from=%d&key=ev-1" % start).json()["events"]
        self.assertEqual(len(filtered), 3)
        by_actor = self.ctxd.get("/v1/events?from=%d&actor=ev-actor-0" % start).json()["events"]
        self.assertEqual(len(by_actor), 2)
        by_type = self.ctxd.get("/v1/events?from=%d&type=context.set" % start).json()["events"]
        self.assertEqual(len(by_type), 6)
        e = page["events"][0]
        for field in ("seq", "ts", "type", "actor", "command_id", "changes"):
            self.assertIn(field, e)
        self.assertError(self.ctxd.get("/v1/events?limit=10001"), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/events?type=bogus"), 400, "BAD_REQUEST")
        for bad in ("key=%E9", "actor=%00", "session=a%0Ab", "key=" + "k" * 1025):
            self.assertError(self.ctxd.get("/v1/events?" + bad), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/events?from=x"), 400, "BAD_REQUEST")
        self.assertError(self.ctxd.get("/v1/events/999999999"), 404, "NOT_FOUND")
        self.assertError(self.ctxd.get("/v1/events/0"), 404, "NOT_FOUND")
        self.assertError(self.ctxd.get("/v1/events/x"), 400, "BAD_REQUEST")

    def test_session_filter(self):
        self.create("filter-s", "n")
        events = self.ctxd.get("/v1/events?session=filter-s").json()["events"]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["session"], "filter-s")

    # Routing and ops.
    def test_unknown_path_and_method(self):
        self.assertError(self.ctxd.get("/v1/nope"), 404, "NOT_FOUND")
        self.assertError(self.ctxd.post("/v1/events"), 405, "METHOD_NOT_ALLOWED")
        self.assertError(requests.patch(self.ctxd.url + "/v1/context/x", timeout=5), 405, "METHOD_NOT_ALLOWED")
        # RFC 9110: a 405 lists what the path takes.
        self.assertEqual(self.ctxd.post("/v1/events").headers["Allow"], "GET, HEAD, OPTIONS")
        self.assertEqual(requests.patch(self.ctxd.url + "/v1/context/x", timeout=5).headers["Allow"],
                         "GET, HEAD, PUT, DELETE, OPTIONS")
        self.assertEqual(requests.post(self.ctxd.url + "/v1/ws", timeout=5).headers["Allow"], "GET")

    def test_health_ready_metrics(self):
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200)
        self.assertEqual(self.ctxd.get("/readyz").status_code, 200)
        self.ctxd.put("/v1/context/metrics-key", json={"value": 1})
        m = self.ctxd.get("/metrics")
        self.assertEqual(m.status_code, 200)
        self.assertTrue(m.headers["Content-Type"].startswith("text/plain"))
        for name in ("ctxd_events_appended_total", "ctxd_commit_batch_size_bucket", "ctxd_request_duration_seconds_bucket",
                     "ctxd_subscribers", "ctxd_subscriber_lag", "ctxd_snapshot_age_events", "ctxd_connections"):
            self.assertIn(name, m.text)
        self.assertRegex(m.text, r'ctxd_request_duration_seconds_count\{route="context_write"\} [1-9]')

    def test_keep_alive_connection_serves_many_requests(self):
        with requests.Session() as s:
            for i in range(50):
                r = s.put(self.ctxd.url + "/v1/context/ka", json={"value": i}, timeout=5)
                self.assertEqual(r.status_code, 200)
            self.assertEqual(s.get(self.ctxd.url + "/v1/context/ka", timeout=5).json()["value"], 49)


class LongListingTest(ServerTestCase):
    """Listings of more than 4,096 keys are rendered from the snapshotter's
    follower state, off the writer's lock (read_path.h): the same answers."""

    def fill(self, prefix, count):
        for start in range(0, count, 1000):
            body = {"set": {"%s%05d" % (prefix, i): {"n": i} for i in range(start, min(start + 1000, count))}}
            self.assertEqual(self.ctxd.post("/v1/context", json=body).status_code, 200)

    def test_a_long_listing_is_the_whole_context_at_the_head_and_reads_its_writes(self):
        self.fill("long/", 5000)
        self.fill("short/", 10)
        listing = self.ctxd.get("/v1/context").json()
        self.assertEqual(listing["seq"], self.ctxd.head())
        self.assertEqual(len(listing["context"]), 5010)
        self.assertEqual(listing["context"]["long/04321"], {"n": 4321})
        for i in range(3):
            put = self.ctxd.put("/v1/context/" + q("long/00007"), json={"value": ["fresh", i]}).json()
            listing = self.ctxd.get("/v1/context").json()
            self.assertGreaterEqual(listing["seq"], put["seq"])
            self.assertEqual(listing["context"]["long/00007"], ["fresh", i])
        self.assertEqual(self.ctxd.delete("/v1/context/" + q("long/00008")).status_code, 200)
        long_only = self.ctxd.get("/v1/context?prefix=long/").json()
        self.assertEqual(len(long_only["context"]), 4999)
        self.assertNotIn("long/00008", long_only["context"])
        self.assertEqual(set(self.ctxd.get("/v1/context?prefix=short/").json()["context"]),
                         {"short/%05d" % i for i in range(10)})
        old = self.ctxd.get("/ctx/all").json()
        self.assertEqual((old["status"], len(old["context"])), ("success", 5009))
        self.assertEqual(old["context"]["long/00007"], ["fresh", 2])
        at = self.ctxd.get("/v1/context?at=%d" % put["seq"]).json()  # ?at= still rebuilds that point
        self.assertEqual((at["seq"], at["context"]["long/00007"]), (put["seq"], ["fresh", 2]))
        self.assertIn("long/00008", at["context"])

    def test_a_long_graph_is_read_at_the_head_with_its_writes(self):
        ops = [{"command": "create_node", "type": "t", "name": "n%d" % i, "node_id": "n%05d" % i} for i in range(4100)]
        r = self.ctxd.post("/v1/sessions/long-graph/commands", json={"command": "batch", "commands": ops})
        self.assertEqual(r.status_code, 200, r.text[:200])
        graph = self.ctxd.get("/v1/sessions/long-graph/graph").json()
        self.assertEqual((graph["seq"], len(graph["nodes"])), (self.ctxd.head(), 4100))
        linked = self.ctxd.post("/v1/sessions/long-graph/commands",
                                json={"command": "link", "parent_id": "n00001", "child_id": "n00002"}).json()
        graph = self.ctxd.get("/v1/sessions/long-graph/graph").json()
        self.assertGreaterEqual(graph["seq"], linked["seq"])
        nodes = {n["id"]: n for n in graph["nodes"]}
        self.assertEqual((nodes["n00001"]["children"], nodes["n00002"]["parents"]), (["n00002"], ["n00001"]))
        self.assertEqual(self.ctxd.get("/v1/sessions/no-such/graph").status_code, 404)


class LargeEventsTest(ServerTestCase):
    """Pages of large events end by bytes, not only by `limit`
    (Store::kReadBytes, 4 MiB a read; 8 MiB of events a /v1/events page;
    16 MiB of history on /ctx/history): a request cannot make the server
    hold `limit` times 2 MiB."""

    CTXD_ARGS = ("--durability", "async")
    COUNT = 24

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with requests.Session() as s:
            for i in range(cls.COUNT):  # ~1 MiB values: each event carries its value and the old one
                r = s.put(cls.ctxd.url + "/v1/context/big", json={"value": "%02d" % i + "x" * 1000000}, timeout=30)
                assert r.status_code == 200, r.text

    def pages(self, first):
        """Every page from `first` on, following `next`."""
        pages, url = [], first
        while True:
            answer = self.ctxd.get(url, timeout=60)
            self.assertEqual(answer.status_code, 200, answer.text[:200])
            self.assertLess(len(answer.content), 12 << 20)
            pages.append(answer.json())
            if pages[-1]["next"] is None:
                return pages
            url = first.split("?")[0] + "?limit=10000&from=%d" % pages[-1]["next"]

    def test_events_and_history_come_in_pages_that_add_up(self):
        pages = self.pages("/v1/events?limit=10000&from=1")
        self.assertGreater(len(pages), 2)
        seqs = [event["seq"] for page in pages for event in page["events"]]
        self.assertEqual(seqs, list(range(1, self.COUNT + 1)))
        pages = self.pages("/v1/context/big/history?limit=10000")
        self.assertGreater(len(pages), 2)
        values = [entry["value"][:2] for page in pages for entry in page["entries"]]
        self.assertEqual(values, ["%02d" % i for i in range(self.COUNT)])

    def test_the_old_history_keeps_the_newest_changes_that_fit(self):
        history = self.ctxd.get("/ctx/history?key=big", timeout=60).json()
        self.assertEqual(history["status"], "success")
        kept = [entry["after"][:2] for entry in history["history"]]
        self.assertLess(len(kept), self.COUNT)
        self.assertGreater(len(kept), 3)
        self.assertEqual(kept, ["%02d" % i for i in range(self.COUNT - len(kept), self.COUNT)])


class UndoBytesTest(ServerTestCase):
    """A session's undo stack drops its oldest entries past 64 MiB
    (EngineLimits::max_undo_bytes): restores of a large graph, each a ~30 MB
    entry for a ~30-byte request, no longer pile up without bound."""

    CTXD_ARGS = ("--durability", "async")
    SID = "undo-bytes"

    def command(self, body):
        r = self.ctxd.post("/v1/sessions/%s/commands" % self.SID, json=body)
        self.assertEqual(r.status_code, 200, r.text[:200])

    def session(self):
        sessions = {s["id"]: s for s in self.ctxd.get("/v1/sessions").json()}
        return sessions[self.SID]

    def node_count(self):
        return len(self.ctxd.get("/v1/sessions/%s/graph" % self.SID).json()["nodes"])

    def test_restores_of_a_large_graph_keep_two_undo_entries(self):
        self.command({"command": "create_node", "type": "t", "name": "small", "node_id": "small"})
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/saves" % self.SID, json={"name": "empty"}).status_code, 200)
        for i in range(30):  # 30 nodes of a 1 MB property: a 30 MB graph
            self.command({"command": "create_node", "type": "t", "name": "n%d" % i, "node_id": "n%d" % i,
                          "props": {"blob": "x" * 1000000}})
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/saves" % self.SID, json={"name": "full"}).status_code, 200)
        self.assertEqual(self.session()["undo_depth"], 31)
        for name in ["empty", "full"] * 3:
            r = self.ctxd.post("/v1/sessions/%s/restore" % self.SID, json={"name": name})
            self.assertEqual(r.status_code, 200, r.text[:200])
        # The creates went first, then the older restores: 60 MB are left.
        self.assertEqual(self.session()["undo_depth"], 2)
        self.assertEqual(self.node_count(), 31)
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/undo" % self.SID).status_code, 200)
        self.assertEqual(self.node_count(), 1)
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/undo" % self.SID).status_code, 200)
        self.assertEqual(self.node_count(), 31)
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/undo" % self.SID).status_code, 409)
        self.assertEqual(self.ctxd.post("/v1/sessions/%s/redo" % self.SID).status_code, 200)
        before = self.session()
        # The log rebuilds the same stacks (no snapshot taken yet: a full replay).
        self.ctxd.stop()
        self.ctxd.start()
        after = self.session()
        self.assertEqual((after["undo_depth"], after["redo_depth"]), (before["undo_depth"], before["redo_depth"]))
        self.assertEqual((after["undo_depth"], after["redo_depth"]), (1, 1))


class LongGapChangesTest(ServerTestCase):
    CTXD_ARGS = ("--durability", "async")  # 10,000 writes, one at a time

    def test_changes_over_a_long_gap_of_a_long_context(self):
        LongListingTest.fill(self, "gap/", 5000)
        since = self.ctxd.head()
        with requests.Session() as s:  # more than the 10,000 events /v1/changes scans: a diff of two states
            for i in range(10001):
                s.put(self.ctxd.url + "/v1/context/" + q("hot/%d" % (i % 3)), json={"value": i}, timeout=5)
        self.assertEqual(self.ctxd.delete("/v1/context/" + q("gap/00001")).status_code, 200)
        body = self.ctxd.get("/v1/changes?since=%d" % since).json()
        self.assertEqual(body["seq"], self.ctxd.head())
        self.assertEqual(sorted(body["changed"]), ["hot/0", "hot/1", "hot/2"])
        self.assertEqual(body["deleted"], ["gap/00001"])


if __name__ == "__main__":
    unittest.main()
