"""Web pages of other origins (server/origin_policy.h): a request with an
Origin header is served only from ctxd's own origin or one given with
--cors-origin; others get 403 and change nothing. OPTIONS answers a path's
methods and CORS preflights. Checked with python-requests, python-websocket,
raw sockets and, for what a browser really does, headless Chromium."""

import http.server
import json
import threading
import unittest

import requests
import websocket

from ctxd_harness import Ctxd
from stream_client import Sse, Ws
from test_dashboard import Browser

EVIL = "http://evil.example"
PAGE_HOST = "page.test"  # Chromium resolves it to 127.0.0.1 (--host-resolver-rules)
APP = "http://app.example:3000"


def status_of(raw):
    return int(raw[9:12]) if raw.startswith(b"HTTP/1.1 ") else None


def head(ctxd):
    return ctxd.get("/v1/events?limit=1").json()["head"]


def forbidden_message(test, answer):
    """The message of a 403 FORBIDDEN, in its route's error form (the old
    /ctx routes have their own)."""
    test.assertEqual(answer.status_code, 403, (answer.request.method, answer.request.url, answer.text))
    if answer.request.path_url.startswith("/ctx"):
        test.assertEqual(answer.json()["status"], "error")
        return answer.json()["error"]
    test.assertEqual(answer.json()["error"]["code"], "FORBIDDEN")
    return answer.json()["error"]["message"]


class OwnOriginOnlyTest(unittest.TestCase):
    """The default: no --cors-origin."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()
        cls.own = "http://%s:%d" % (cls.ctxd.host, cls.ctxd.port)

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.cleanup()

    def test_requests_from_another_origin_are_403_and_change_nothing(self):
        self.ctxd.put("/v1/context/kept", json={"value": 1})
        before = head(self.ctxd)
        origin = {"Origin": EVIL}
        # A form POST with a text/plain body needs no preflight: a browser sends it as it is.
        plain = dict(origin, **{"Content-Type": "text/plain"})
        answers = [
            self.ctxd.post("/ctx", data='{"key": "k", "value": 1}', headers=plain),
            self.ctxd.post("/v1/context", data='{"set": {"k": 1}}', headers=plain),
            self.ctxd.put("/v1/context/k", json={"value": 1}, headers=origin),
            self.ctxd.delete("/v1/context/kept", headers=origin),
            self.ctxd.post("/v1/sessions/s/commands", headers=plain,
                           data='{"command": "create_node", "type": "t", "name": "n"}'),
            self.ctxd.post("/api/v1/commands/execute", headers=dict(plain, **{"X-Session-ID": "s"}),
                           data='{"command": "create_node", "type": "t", "name": "n"}'),
            self.ctxd.post("/v1/dumps", json={"format": "json"}, headers=origin),
            self.ctxd.get("/v1/context", headers=origin),
            self.ctxd.get("/socket.io/?EIO=4&transport=polling", headers=origin),
        ]
        for answer in answers:
            message = forbidden_message(self, answer)
            self.assertIn(EVIL, message)
            self.assertIn("--cors-origin", message)
            self.assertNotIn("Access-Control-Allow-Origin", answer.headers)
        self.assertEqual(head(self.ctxd), before)
        self.assertEqual(self.ctxd.get("/v1/context/kept").json()["value"], 1)

    def test_websocket_and_stream_handshakes_from_another_origin_are_refused(self):
        before = head(self.ctxd)
        for path in ("/v1/ws", "/socket.io/?EIO=4&transport=websocket"):
            with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection("ws://%s:%d%s" % (self.ctxd.host, self.ctxd.port, path),
                                            origin=EVIL, timeout=10)
            self.assertEqual(refused.exception.status_code, 403, path)
        for origin in ("null", "http://evil.example:%d" % self.ctxd.port, "not an origin"):
            with self.assertRaises(websocket.WebSocketBadStatusException, msg=origin):
                Ws(self.ctxd, origin=origin)
        stream = Sse(self.ctxd, headers={"Origin": EVIL})
        self.assertEqual(stream.status, 403)
        self.assertEqual(json.loads(stream.body())["error"]["code"], "FORBIDDEN")
        stream.close()
        self.assertEqual(head(self.ctxd), before)

    def test_the_servers_own_origin_and_requests_without_one_are_served(self):
        answer = self.ctxd.put("/v1/context/own", json={"value": 1}, headers={"Origin": self.own})
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.headers["Access-Control-Allow-Origin"], self.own)
        self.assertEqual(answer.headers["Vary"], "Origin")
        # localhost is its own origin when the client named the server so.
        raw = self.ctxd.raw(b"GET /v1/context/own HTTP/1.1\r\nHost: localhost:%d\r\n"
                            b"Origin: http://localhost:%d\r\nConnection: close\r\n\r\n"
                            % (self.ctxd.port, self.ctxd.port))
        self.assertEqual(status_of(raw), 200, raw)
        answer = self.ctxd.get("/v1/context/own")
        self.assertEqual(answer.status_code, 200)
        self.assertNotIn("Access-Control-Allow-Origin", answer.headers)
        # A page served from this machine, such as a dev server on another port.
        for local in ("http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:3000"):
            answer = self.ctxd.get("/v1/context/own", headers={"Origin": local})
            self.assertEqual(answer.status_code, 200, local)
            self.assertEqual(answer.headers["Access-Control-Allow-Origin"], local)
        # python-websocket names the server as its origin.
        ws = Ws(self.ctxd)
        self.assertEqual(ws.hello()["op"], "hello")
        ws.close()

    def test_options_answers_the_methods_of_a_path(self):
        answer = requests.options(self.ctxd.url + "/v1/context/k", timeout=10)
        self.assertEqual(answer.status_code, 204)
        self.assertEqual(answer.headers["Allow"], "GET, HEAD, PUT, DELETE, OPTIONS")
        self.assertNotIn("Content-Length", answer.headers)  # RFC 9110 8.6: none on a 204
        self.assertEqual(answer.content, b"")
        self.assertNotIn("Access-Control-Allow-Methods", answer.headers)  # not a preflight
        self.assertEqual(requests.options(self.ctxd.url + "/ctx", timeout=10).headers["Allow"],
                         "GET, HEAD, POST, OPTIONS")
        self.assertEqual(requests.options(self.ctxd.url + "/v1/nope", timeout=10).status_code, 404)
        raw = self.ctxd.raw(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(raw), 204, raw)
        self.assertIn(b"Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS\r\n", raw)
        # The keep-alive connection goes on after a 204 without a body.
        with requests.Session() as session:
            self.assertEqual(session.options(self.ctxd.url + "/v1/events", timeout=10).status_code, 204)
            self.assertEqual(session.get(self.ctxd.url + "/v1/events", timeout=10).status_code, 200)

    def test_a_preflight_from_the_own_origin_is_answered_and_from_another_refused(self):
        preflight = {"Access-Control-Request-Method": "PUT",
                     "Access-Control-Request-Headers": "content-type, if-match"}
        answer = requests.options(self.ctxd.url + "/v1/context/k", timeout=10,
                                  headers=dict(preflight, Origin=self.own))
        self.assertEqual(answer.status_code, 204)
        self.assertEqual(answer.headers["Access-Control-Allow-Origin"], self.own)
        self.assertEqual(answer.headers["Access-Control-Allow-Methods"], "GET, HEAD, PUT, DELETE, OPTIONS")
        self.assertEqual(answer.headers["Access-Control-Allow-Headers"], "content-type, if-match")
        self.assertEqual(answer.headers["Access-Control-Max-Age"], "600")
        answer = requests.options(self.ctxd.url + "/v1/context/k", timeout=10, headers=dict(preflight, Origin=EVIL))
        self.assertEqual(answer.status_code, 403)


class ListedOriginsTest(unittest.TestCase):
    """--cors-origin APP and null."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd(args=["--cors-origin", APP, "--cors-origin", "null"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.cleanup()

    def test_a_listed_origin_reads_and_writes(self):
        for origin in (APP, "null"):
            answer = self.ctxd.put("/v1/context/app", json={"value": origin}, headers={"Origin": origin})
            self.assertEqual(answer.status_code, 200, answer.text)
            self.assertEqual(answer.headers["Access-Control-Allow-Origin"], origin)
            answer = self.ctxd.get("/v1/context/app", headers={"Origin": origin})
            self.assertEqual(answer.json()["value"], origin)
            self.assertEqual(answer.headers["Access-Control-Allow-Origin"], origin)
        answer = self.ctxd.get("/ctx?key=app", headers={"Origin": "HTTP://APP.EXAMPLE:3000"})
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.headers["Access-Control-Allow-Origin"], "HTTP://APP.EXAMPLE:3000")

    def test_a_listed_origin_opens_streams(self):
        ws = Ws(self.ctxd, origin=APP)
        self.assertEqual(ws.hello()["op"], "hello")
        ws.close()
        stream = Sse(self.ctxd, headers={"Origin": APP})
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["access-control-allow-origin"], APP)
        stream.close()

    def test_other_origins_are_still_refused(self):
        before = head(self.ctxd)
        for origin in (EVIL, "https://app.example:3000", "http://app.example:3001"):
            answer = self.ctxd.put("/v1/context/app", json={"value": 0}, headers={"Origin": origin})
            self.assertEqual(answer.status_code, 403, origin)
        self.assertEqual(head(self.ctxd), before)


class PageServer:
    """Serves one empty HTML page on a free loopback port, which the browser
    reaches as PAGE_HOST: a remote origin, not a page of this machine."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<!doctype html><title>another origin</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://%s:%d" % (PAGE_HOST, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class HostNamesTest(unittest.TestCase):
    """DNS rebinding: a page whose own host name resolves to 127.0.0.1 is
    its own origin, so only the Host header gives it away. On a loopback
    listener, a Host that is a name is served only when it is local or
    listed with --allowed-host."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd().start()
        cls.listed = Ctxd(args=["--allowed-host", "ctx.example"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.cleanup()
        cls.listed.cleanup()

    def test_a_rebound_host_name_is_403_and_changes_nothing(self):
        self.ctxd.put("/v1/context/kept", json={"value": 1})
        before = head(self.ctxd)
        rebound = {"Host": "evil.example:%d" % self.ctxd.port}
        # Same-origin for the browser: no Origin header, or its own.
        own = dict(rebound, Origin="http://evil.example:%d" % self.ctxd.port)
        answers = [
            self.ctxd.get("/v1/context", headers=rebound),
            self.ctxd.get("/ctx/all", headers=rebound),
            self.ctxd.get("/", headers=rebound),
            self.ctxd.put("/v1/context/kept", json={"value": 2}, headers=own),
            self.ctxd.post("/ctx", json={"key": "k", "value": 1}, headers=own),
            self.ctxd.get("/socket.io/?EIO=4&transport=polling", headers=rebound),
        ]
        for answer in answers:
            message = forbidden_message(self, answer)
            self.assertIn("evil.example", message)
            self.assertIn("--allowed-host", message)
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(self.ctxd.url.replace("http", "ws") + "/v1/ws", timeout=10,
                                        host="evil.example:%d" % self.ctxd.port)
        self.assertEqual(refused.exception.status_code, 403)
        stream = Sse(self.ctxd, headers={"Host": "evil.example"})
        self.assertEqual(stream.status, 403)
        stream.close()
        self.assertEqual(head(self.ctxd), before)
        self.assertEqual(self.ctxd.get("/v1/context/kept").json()["value"], 1)

    def test_local_names_addresses_and_listed_names_are_served(self):
        for host in ("localhost:%d", "LocalHost:%d", "app.localhost:%d", "127.0.0.1:%d", "[::1]:%d",
                     "10.1.2.3:%d"):
            answer = self.ctxd.get("/healthz", headers={"Host": host % self.ctxd.port})
            self.assertEqual(answer.status_code, 200, host)
        # HTTP/1.0 needs no Host.
        raw = self.ctxd.raw(b"GET /v1/context HTTP/1.0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        for host in ("ctx.example", "CTX.example:%d" % self.listed.port):
            answer = self.listed.put("/v1/context/named", json={"value": host}, headers={"Host": host})
            self.assertEqual(answer.status_code, 200, (host, answer.text))
        self.assertEqual(self.listed.get("/v1/context/other", headers={"Host": "other.example"}).status_code,
                         403)


class BrowserTest(unittest.TestCase):
    """A page of another origin in Chromium, against a ctxd that does not
    list it and one that does."""

    @classmethod
    def setUpClass(cls):
        cls.page = PageServer()
        cls.closed = Ctxd().start()
        cls.listed = Ctxd(args=["--cors-origin", cls.page.url, "--allowed-host", PAGE_HOST]).start()
        cls.browser = Browser(extra_args=["--host-resolver-rules=MAP %s 127.0.0.1" % PAGE_HOST])
        cls.browser.call("Page.navigate", {"url": cls.page.url + "/"})
        cls.browser.wait_for("document.title === 'another origin'", "the page of another origin")

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.closed.cleanup()
        cls.listed.cleanup()
        cls.page.close()

    def run_script(self, script):
        """Runs `script`, which calls done(result) once; returns result."""
        self.browser.evaluate("window.__result = undefined; (done => { %s })(r => window.__result = "
                              "JSON.stringify(r))" % script)
        return json.loads(self.browser.wait_for("window.__result", "the script's result"))

    def test_a_form_post_of_another_origin_changes_nothing(self):
        # mode no-cors: the browser sends it and hides the answer, as a form would.
        before = head(self.closed)
        result = self.run_script(
            "fetch('%s/ctx', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, "
            "body: JSON.stringify({key: 'csrf', value: 1})}).then(() => done('sent'), e => done(String(e)))"
            % self.closed.url)
        self.assertEqual(result, "sent")
        self.assertEqual(head(self.closed), before)
        self.assertIsNone(self.closed.get("/ctx?key=csrf").json()["value"])

    def test_a_page_whose_host_name_was_rebound_is_served_only_where_its_name_is_listed(self):
        # What a page of page.test asks for once its DNS says 127.0.0.1:
        # same-origin requests, without Origin, whose Host names page.test.
        try:
            for server, expected in ((self.closed, "FORBIDDEN"), (self.listed, '"context"')):
                self.browser.call("Page.navigate", {"url": "http://%s:%d/v1/context" % (PAGE_HOST, server.port)})
                self.browser.wait_for("document.body && document.body.innerText.includes(%s)" % json.dumps(expected),
                                      "the answer to a page of a rebound name")
        finally:
            self.browser.call("Page.navigate", {"url": self.page.url + "/"})
            self.browser.wait_for("document.title === 'another origin'", "the page of another origin")

    def test_websockets_and_fetches_of_another_origin_work_only_where_it_is_listed(self):
        ws_script = ("const ws = new WebSocket('%s/v1/ws'); ws.onmessage = m => { done(JSON.parse(m.data).op); "
                     "ws.close(); }; ws.onerror = () => done('refused')")
        self.assertEqual(self.run_script(ws_script % self.closed.url.replace("http", "ws")), "refused")
        self.assertEqual(self.run_script(ws_script % self.listed.url.replace("http", "ws")), "hello")
        put_script = ("fetch('%s/v1/context/from-page', {method: 'PUT', headers: {'Content-Type': "
                      "'application/json'}, body: JSON.stringify({value: 'hi'})}).then(r => r.json())"
                      ".then(j => done(j), e => done('refused'))")
        self.assertEqual(self.run_script(put_script % self.closed.url), "refused")
        self.assertEqual(self.closed.get("/v1/context/from-page").status_code, 404)
        answer = self.run_script(put_script % self.listed.url)  # a preflight, then the PUT
        self.assertTrue(answer["changed"], answer)
        self.assertEqual(self.listed.get("/v1/context/from-page").json()["value"], "hi")
        sse_script = ("const s = new EventSource('%s/v1/stream?from=1'); s.addEventListener('context.set', "
                      "m => { done(JSON.parse(m.data).seq); s.close(); }); s.onerror = () => done('refused')")
        self.assertEqual(self.run_script(sse_script % self.listed.url), 1)


if __name__ == "__main__":
    unittest.main()
