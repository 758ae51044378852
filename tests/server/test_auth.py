"""--auth-file: access tokens (server/access_tokens.h). Every route but
/healthz and /readyz needs a known token; a read token may not write,
over REST or over a WebSocket."""

import json
import os
import tempfile
import unittest

import requests
import websocket

from ctxd_harness import Ctxd
from socketio_client import Recorder

WRITER = "w-0123456789abcdef"
READER = "r-fedcba9876543210"


def bearer(token):
    return {"Authorization": "Bearer " + token}


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tokens = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
        cls.tokens.write(f"# test tokens\n{WRITER} write orchestrator\n\n{READER}   read  dashboard\n")
        cls.tokens.close()
        cls.server = Ctxd(args=["--auth-file", cls.tokens.name]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        os.unlink(cls.tokens.name)

    def head(self):
        return self.server.get("/v1/events?limit=1", headers=bearer(READER)).json()["head"]

    def test_probes_stay_open(self):
        self.assertEqual(self.server.get("/healthz").status_code, 200)
        self.assertEqual(self.server.get("/readyz").status_code, 200)

    def test_options_needs_no_token(self):
        # A browser's CORS preflight carries no credentials.
        answer = requests.options(self.server.url + "/v1/context/k", timeout=10,
                                  headers={"Origin": self.server.url, "Access-Control-Request-Method": "PUT",
                                           "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(answer.status_code, 204, answer.text)
        self.assertEqual(answer.headers["Access-Control-Allow-Headers"], "authorization, content-type")

    def test_no_token_or_an_unknown_one_is_401_and_changes_nothing(self):
        before = self.head()
        for headers in ({}, bearer("nope"), {"Authorization": "Basic " + WRITER}, {"Authorization": WRITER}):
            for answer in (self.server.get("/v1/context", headers=headers),
                           self.server.put("/v1/context/k", json={"value": 1}, headers=headers),
                           self.server.post("/ctx", json={"key": "k", "value": 1}, headers=headers),
                           self.server.get("/metrics", headers=headers)):
                self.assertEqual(answer.status_code, 401, answer.text)
                if answer.request.path_url.startswith("/ctx"):  # the old routes' error form
                    self.assertEqual(answer.json()["status"], "error")
                    self.assertIn("access token", answer.json()["error"])
                else:
                    self.assertEqual(answer.json()["error"]["code"], "UNAUTHORIZED")
                self.assertEqual(answer.headers["WWW-Authenticate"], 'Bearer realm="ctxd"')
        self.assertEqual(self.head(), before)

    def test_a_write_token_reads_and_writes(self):
        answer = self.server.put("/v1/context/auth-w", json={"value": "x"}, headers=bearer(WRITER))
        self.assertEqual(answer.status_code, 200, answer.text)
        got = self.server.get("/v1/context/auth-w", headers={"authorization": "bearer " + WRITER})
        self.assertEqual(got.json()["value"], "x")

    def test_a_read_token_reads_but_may_not_write(self):
        self.server.put("/v1/context/auth-r", json={"value": 1}, headers=bearer(WRITER))
        self.assertEqual(self.server.get("/v1/context/auth-r", headers=bearer(READER)).json()["value"], 1)
        before = self.head()
        for answer in (self.server.put("/v1/context/auth-r", json={"value": 2}, headers=bearer(READER)),
                       self.server.delete("/v1/context/auth-r", headers=bearer(READER)),
                       self.server.post("/v1/sessions/s/commands", headers=bearer(READER),
                                        json={"command": "create_node", "type": "t", "name": "n"})):
            self.assertEqual(answer.status_code, 403, answer.text)
            self.assertEqual(answer.json()["error"]["code"], "FORBIDDEN")
        answer = self.server.post("/ctx", json={"key": "auth-r", "value": 2}, headers=bearer(READER))
        self.assertEqual(answer.status_code, 403, answer.text)
        self.assertEqual(answer.json(), {"error": "this access token may read but not write", "status": "error"})
        self.assertEqual(self.head(), before)

    def test_two_authorization_headers_are_a_400_and_change_nothing(self):
        before = self.head()
        for first, second in ((READER, WRITER), (WRITER, READER)):
            raw = self.server.raw(("PUT /v1/context/two HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 12\r\nConnection: close\r\n\r\n{\"value\": 1}"
                                   % (first, second)).encode())
            self.assertTrue(raw.startswith(b"HTTP/1.1 400"), raw)
            self.assertIn(b"send one Authorization header", raw)
        self.assertEqual(self.head(), before)

    def test_the_query_parameter_carries_a_token_for_browsers(self):
        answer = self.server.get("/v1/context?access_token=" + READER)
        self.assertEqual(answer.status_code, 200, answer.text)

    def test_a_refusal_keeps_the_connection_alive(self):
        with requests.Session() as session:
            first = session.get(self.server.url + "/v1/context", timeout=10)
            second = session.get(self.server.url + "/v1/context", headers=bearer(READER), timeout=10)
        self.assertEqual((first.status_code, second.status_code), (401, 200))

    def test_streams_need_a_token(self):
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(self.server.url.replace("http", "ws") + "/v1/ws", timeout=10)
        self.assertEqual(refused.exception.status_code, 401)
        sse = self.server.get("/v1/stream", stream=True)
        self.assertEqual(sse.status_code, 401)
        sse.close()

    def ws_set(self, token):
        ws = websocket.create_connection(self.server.url.replace("http", "ws") + "/v1/ws", timeout=10,
                                         header=["Authorization: Bearer " + token])
        try:
            self.assertEqual(json.loads(ws.recv())["op"], "hello")
            ws.send(json.dumps({"op": "set", "id": 7, "key": "auth-ws", "value": token}))
            for _ in range(10):  # the set's own event may come first on this live stream
                answer = json.loads(ws.recv())
                if answer["op"] != "event":
                    return answer
            self.fail("no answer to the set")
        finally:
            ws.close()

    def test_a_read_token_may_subscribe_but_its_websocket_ops_are_refused(self):
        before = self.head()
        answer = self.ws_set(READER)
        self.assertEqual(answer["op"], "error")
        self.assertEqual(answer["id"], 7)
        self.assertEqual(answer["error"]["code"], "FORBIDDEN")
        self.assertEqual(self.head(), before)

    def test_a_write_token_sets_over_the_websocket(self):
        answer = self.ws_set(WRITER)
        self.assertEqual(answer["op"], "ack", answer)
        self.assertEqual(self.server.get("/v1/context/auth-ws", headers=bearer(READER)).json()["value"], WRITER)

    def socketio_set(self, token, transports, answer):
        """Emits context_set with `token`; returns the payload of `answer`
        and every event name the client got."""
        client = Recorder(self.server.url + "?access_token=" + token, transports=transports).connect()
        try:
            client.emit("context_set", {"key": "auth-sio", "value": token, "who": "t"})
            data = client.wait_for(answer)
            return data, [name for _, name, _ in client.events]
        finally:
            client.disconnect()

    def test_a_read_token_may_not_set_over_socketio(self):
        for transports in (None, ["websocket"]):
            before = self.head()
            data, names = self.socketio_set(READER, transports, "error")
            self.assertIn("may read but not write", data["message"])
            self.assertNotIn("context_set_confirmed", names)
            self.assertEqual(self.head(), before)

    def test_a_write_token_sets_over_socketio(self):
        for transports in (None, ["websocket"]):
            data, names = self.socketio_set(WRITER, transports, "context_set_confirmed")
            self.assertEqual(data["key"], "auth-sio")
            self.assertNotIn("error", names)

if __name__ == "__main__":
    unittest.main()
