"""The old context server's REST routes, field by field (API.md
"Compatibility")."""

import json
import unittest

from ctxd_harness import ServerTestCase


class LegacyTest(ServerTestCase):
    def assertLegacyError(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertEqual(set(body), {"error", "status"})
        self.assertEqual(body["status"], "error")
        self.assertIsInstance(body["error"], str)

    def test_post_then_get(self):
        r = self.ctxd.post("/ctx", json={"key": "build.status", "value": {"ok": True}, "who": "ci"})
        self.assertEqual(r.status_code, 200, r.text)
        body = r.json()
        self.assertEqual(set(body), {"status", "key", "value", "who", "timestamp"})
        self.assertEqual((body["status"], body["key"], body["value"], body["who"]),
                         ("success", "build.status", {"ok": True}, "ci"))
        got = self.ctxd.get("/ctx", params={"key": "build.status"})
        self.assertEqual(got.status_code, 200)
        body = got.json()
        self.assertEqual(set(body), {"key", "value", "timestamp", "status"})
        self.assertEqual((body["key"], body["value"], body["status"]), ("build.status", {"ok": True}, "success"))
        self.assertIsInstance(body["timestamp"], str)

    def test_who_becomes_the_actor(self):
        self.ctxd.post("/ctx", json={"key": "who-key", "value": 1, "who": "dave"})
        self.assertEqual(self.ctxd.get("/v1/context/who-key").json()["actor"], "dave")

    def test_get_missing_key_is_null_and_no_key_is_400(self):
        body = self.ctxd.get("/ctx", params={"key": "never"}).json()
        self.assertIsNone(body["value"])
        self.assertEqual(body["status"], "success")
        self.assertLegacyError(self.ctxd.get("/ctx"), 400)
        # So do a query that does not decode and the HTTP layer's refusals.
        too_long = b"GET /ctx?key=" + b"k" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
        too_big = b"POST /ctx HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000000\r\n\r\n" + b"x" * 3000000
        coded = (b"POST /ctx HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}")
        for request, status in ((too_long, 431), (too_big, 413), (coded, 400)):
            raw = self.ctxd.raw(request, read_timeout=5)
            self.assertTrue(raw.startswith(b"HTTP/1.1 %d " % status), raw[:200])
            self.assertEqual(json.loads(raw.split(b"\r\n\r\n", 1)[1])["status"], "error", raw[:300])
        for target in (b"/ctx?key=%zz", b"/ctx/history?who=%"):
            raw = self.ctxd.raw(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                                read_timeout=3)
            self.assertTrue(raw.startswith(b"HTTP/1.1 400 "), raw)
            body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
            self.assertEqual(body["status"], "error", body)
            self.assertIn("percent-encoding", body["error"])

    def test_post_errors(self):
        head = self.ctxd.head()
        self.assertLegacyError(self.ctxd.post("/ctx", data="not json"), 400)
        self.assertLegacyError(self.ctxd.post("/ctx", json={"value": 1}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx", json={"key": "k"}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx", json={"key": "", "value": 1}), 400)
        self.assertLegacyError(self.ctxd.post("/ctx", json=[1, 2]), 400)
        self.assertLegacyError(self.ctxd.post("/ctx", json={"key": "k", "value": 1, "who": 7}), 400)
        self.assertEqual(self.ctxd.head(), head)

    def test_value_null_is_a_value(self):
        r = self.ctxd.post("/ctx", json={"key": "nullable", "value": None})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIsNone(r.json()["value"])

    def test_all(self):
        self.ctxd.post("/ctx", json={"key": "all-a", "value": "x", "who": "eve"})
        body = self.ctxd.get("/ctx/all").json()
        self.assertEqual(set(body), {"context", "history_count", "connected_clients", "timestamp", "status"})
        self.assertEqual(body["status"], "success")
        self.assertEqual(body["context"]["all-a"], "x")
        self.assertGreaterEqual(body["history_count"], 1)
        self.assertEqual(body["connected_clients"], 0)

    def test_history_fields_and_filters(self):
        self.ctxd.post("/ctx", json={"key": "h-key", "value": 1, "who": "frank"})
        self.ctxd.post("/ctx", json={"key": "h-key", "value": 2, "who": "grace"})
        self.ctxd.post("/ctx", json={"key": "h-other", "value": 3, "who": "frank"})
        self.ctxd.delete("/v1/context/h-other?actor=frank")
        body = self.ctxd.get("/ctx/history").json()
        self.assertEqual(set(body), {"history", "total_entries", "filtered_entries", "timestamp", "status"})
        self.assertEqual(body["status"], "success")
        self.assertEqual(body["total_entries"], len(body["history"]))
        self.assertEqual(body["filtered_entries"], body["total_entries"])
        self.assertEqual(self.ctxd.get("/ctx/all").json()["history_count"], body["total_entries"])
        mine = [e for e in body["history"] if e["key"] == "h-key"]
        self.assertEqual(len(mine), 2)
        self.assertEqual(set(mine[0]), {"timestamp", "key", "before", "after", "who"})
        self.assertEqual((mine[0]["before"], mine[0]["after"], mine[0]["who"]), (None, 1, "frank"))
        self.assertEqual((mine[1]["before"], mine[1]["after"], mine[1]["who"]), (1, 2, "grace"))
        by_key = self.ctxd.get("/ctx/history", params={"key": "h-key"}).json()
        self.assertEqual(by_key["filtered_entries"], 2)
        self.assertEqual(by_key["total_entries"], body["total_entries"])
        both = self.ctxd.get("/ctx/history", params={"key": "h-other", "who": "frank"}).json()
        self.assertEqual([(e["before"], e["after"]) for e in both["history"]], [(None, 3), (3, None)])
        self.assertEqual(self.ctxd.get("/ctx/history", params={"who": "nobody"}).json()["history"], [])

    def test_unknown_legacy_path_and_method(self):
        self.assertLegacyError(self.ctxd.get("/ctx/nope"), 404)
        self.assertLegacyError(self.ctxd.put("/ctx", json={}), 405)
        self.assertEqual(self.ctxd.put("/ctx", json={}).headers["Allow"], "GET, HEAD, POST, OPTIONS")
        self.assertEqual(self.ctxd.delete("/ctx/dump/list").headers["Allow"], "GET, HEAD, OPTIONS")


if __name__ == "__main__":
    unittest.main()
