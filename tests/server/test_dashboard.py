"""The dashboard at GET / (API.md "Dumps, operations, UI"): the page and its
files over HTTP, then the page itself in headless Chromium, driven over the
DevTools protocol on a pipe (--remote-debugging-pipe), against a server
filled with keys, a graph session and history.

Chromium is Debian's `chromium` package (scripts/setup.sh installs it). When
it is missing the browser tests fail and say so: they are never skipped."""

import fcntl
import html.parser
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import requests

from ctxd_harness import Ctxd

SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "server", "dashboard")
PAGE_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}

# A key and a value that would run script if they reached the page as markup.
# The key sorts before the filler keys, so that its row is among those rendered.
XSS_KEY = '<b onclick="window.__pwned = 3">bold</b>'
XSS_VALUE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
FILLER_KEYS = 1200  # more than the 500 rows the page renders at once


class AssetLinks(html.parser.HTMLParser):
    """Collects the src of scripts and the href of stylesheets."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.links.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.links.append(attrs["href"])


class DashboardHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Ctxd().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_root_serves_the_page_as_html(self):
        r = self.server.get("/")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("<title>ctxd dashboard</title>", r.text)
        self.assertTrue(r.headers["ETag"].startswith('"'))
        self.assertEqual(r.headers["Cache-Control"], "no-cache")
        self.assertIn("script-src 'self'", r.headers["Content-Security-Policy"])
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")

    def test_every_file_the_page_references_is_served_with_its_type(self):
        parser = AssetLinks()
        parser.feed(self.server.get("/").text)
        self.assertEqual(sorted(parser.links), ["/dashboard/app.js", "/dashboard/style.css"])
        for link in parser.links:
            r = self.server.get(link)
            self.assertEqual(r.status_code, 200, link)
            expected = PAGE_FILES[link.rsplit("/", 1)[1]]
            self.assertEqual(r.headers["Content-Type"], expected + "; charset=utf-8", link)
            self.assertGreater(len(r.content), 100, link)

    def test_served_bytes_are_the_source_files(self):
        for name in PAGE_FILES:
            with open(os.path.join(SOURCE_DIR, name), "rb") as f:
                source = f.read()
            self.assertEqual(self.server.get("/dashboard/" + name).content, source, name)
        with open(os.path.join(SOURCE_DIR, "index.html"), "rb") as f:
            self.assertEqual(self.server.get("/").content, f.read())

    def test_head_answers_the_headers_without_a_body(self):
        length = len(self.server.get("/").content)
        answer = self.server.raw(b"HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertIn(b"Content-Type: text/html; charset=utf-8", head)
        self.assertIn(b"Content-Length: %d" % length, head)
        self.assertEqual(body, b"")
        answer = self.server.raw(b"HEAD /dashboard/app.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:100])
        self.assertTrue(answer.endswith(b"\r\n\r\n"))

    def test_other_methods_get_405_with_the_error_json(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            for path in ("/", "/dashboard/app.js"):
                r = requests.request(method, self.server.url + path, timeout=10)
                self.assertEqual(r.status_code, 405, (method, path))
                self.assertEqual(r.json()["error"]["code"], "METHOD_NOT_ALLOWED", (method, path))

    def test_unknown_file_is_404_with_the_error_json(self):
        for path in ("/dashboard/nope.js", "/dashboard/..%2Fserver.cc", "/dashboard/"):
            r = self.server.get(path)
            self.assertEqual(r.status_code, 404, path)
            self.assertEqual(r.json()["error"]["code"], "NOT_FOUND", path)

    def test_a_matching_etag_is_answered_304(self):
        etag = self.server.get("/dashboard/app.js").headers["ETag"]
        r = self.server.get("/dashboard/app.js", headers={"If-None-Match": etag})
        self.assertEqual(r.status_code, 304)
        self.assertEqual(r.content, b"")
        self.assertEqual(r.headers["ETag"], etag)
        r = self.server.get("/dashboard/app.js", headers={"If-None-Match": '"other", W/' + etag})
        self.assertEqual(r.status_code, 304)
        r = self.server.get("/dashboard/app.js", headers={"If-None-Match": '"other"'})
        self.assertEqual(r.status_code, 200)
        self.assertGreater(len(r.content), 100)

    def test_each_file_has_its_own_etag(self):
        tags = {self.server.get("/dashboard/" + name).headers["ETag"] for name in PAGE_FILES}
        self.assertEqual(len(tags), len(PAGE_FILES))

    def test_the_page_never_writes_markup(self):
        # Keys and values are user data: the script builds nodes with text only.
        for name in ("app.js", "index.html"):
            text = self.server.get("/dashboard/" + name).text
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                         "new Function"):
                self.assertNotIn(sink, text, name)


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol on
    a pipe (fds 3 and 4, NUL-terminated JSON): no extra Python package."""

    def __init__(self, extra_args=()):
        exe = shutil.which("chromium")
        if exe is None:
            raise AssertionError("chromium is not installed; the dashboard's browser test needs Debian's "
                                 "chromium package: run scripts/setup.sh")
        self.profile = tempfile.mkdtemp(prefix="ctxd-chromium-")
        self.log = tempfile.TemporaryFile()
        to_browser, self.to_browser = self._high_pipe()
        self.from_browser, from_browser = self._high_pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--user-data-dir=" + self.profile, "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", *extra_args, "about:blank"]
        # bash puts the pipe's ends where --remote-debugging-pipe expects them
        # (dash takes only one-digit fds).
        script = f'exec "$@" 3<&{to_browser} 4>&{from_browser} {to_browser}<&- {from_browser}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, "bash", exe] + args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, pass_fds=(to_browser, from_browser))
        os.close(to_browser)
        os.close(from_browser)
        self.buffer = b""
        self.next_id = 0
        self.exceptions = []
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=None)["sessionId"]
        self.call("Runtime.enable")
        self.call("Page.enable")

    @staticmethod
    def _high_pipe():
        """A pipe whose fds are above 4, so that they never collide with 3 and 4."""
        ends = []
        for fd in os.pipe():
            ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
            os.close(fd)
        return ends

    def browser_log(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def _message(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.from_browser], [], [], max(0.0, remaining))
            if not ready:
                raise AssertionError("chromium did not answer in time; its log:\n" + self.browser_log())
            data = os.read(self.from_browser, 1 << 16)
            if not data:
                raise AssertionError("chromium exited; its log:\n" + self.browser_log())
            self.buffer += data
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw)

    def call(self, method, params=None, session="page", timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session == "page":
            message["sessionId"] = self.session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.to_browser, data):]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("method") == "Runtime.exceptionThrown":
                self.exceptions.append(reply["params"]["exceptionDetails"])
            if reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                raise AssertionError(f"{method}: {reply['error']}")
            return reply["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url):
        self.exceptions = []
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.body && document.body.dataset.ready === '1'", "the page finished loading")

    def wait_for(self, expression, what, timeout=30):
        """Polls `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''") or ""
                raise AssertionError(f"{what}: not seen within {timeout} s. Page text:\n{text[:3000]}")
            time.sleep(0.1)

    def close(self):
        try:
            self.call("Browser.close", session=None, timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# JavaScript run in the page.
def cell_of(key, column=1):
    """The text of `column` in the context table's row of `key`, or null."""
    return ("(() => { for (const row of document.querySelectorAll('#ctx-table tbody tr')) "
            f"if (row.cells[0].textContent === {json.dumps(key)}) return row.cells[{column}].textContent; "
            "return null; })()")


def quote(text):
    return requests.utils.quote(text, safe="")


def text_of(selector):
    return f"((document.querySelector({json.dumps(selector)}) || {{}}).textContent || '')"


def rows_of(selector):
    return (f"Array.from(document.querySelectorAll({json.dumps(selector + ' tbody tr')}))"
            ".map((row) => ({cls: row.className, cells: Array.from(row.cells).map((c) => c.textContent)}))")


class DashboardBrowserTest(unittest.TestCase):
    """The page in a real browser: what it renders, live updates, time travel."""

    @classmethod
    def setUpClass(cls):
        cls.server = Ctxd().start()
        try:
            cls.fill()
            cls.browser = Browser()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.server.cleanup()

    @classmethod
    def fill(cls):
        s = cls.server
        filler = {f"key-{i:05d}": i for i in range(FILLER_KEYS)}
        assert s.post("/v1/context", json={"set": filler, "actor": "filler"}).status_code == 200
        cls.old_seq = s.put("/v1/context/build.status", json={"value": "old-value", "actor": "ci"}).json()["seq"]
        r = s.post("/v1/sessions/demo/commands", json={"command": "create_node", "type": "task", "name": "Build"})
        cls.graph_old_seq = r.json()["seq"]
        assert s.put("/v1/context/" + quote(XSS_KEY), json={"value": XSS_VALUE}).status_code == 200
        assert s.put("/v1/context/build.status", json={"value": "new-value", "actor": "ci"}).status_code == 200
        r = s.post("/v1/sessions/demo/commands", json={"command": "create_node", "type": "deploy", "name": "Deploy"})
        assert r.status_code == 200
        assert s.put("/v1/context/" + quote("a/b c?&"), json={"value": "slashy"}).status_code == 200
        cls.key_count = FILLER_KEYS + 3

    def open(self, path):
        self.browser.open(self.server.url + path)

    def assert_no_page_exception(self):
        self.assertEqual(self.browser.exceptions, [])

    def test_live_page_shows_keys_values_sessions_graph_and_events(self):
        b = self.browser
        self.open("/?session=demo")
        b.wait_for(f"{cell_of('build.status')} === '\"new-value\"'", "build.status = new-value")
        self.assertEqual(b.evaluate(cell_of("key-00007")), "7")
        count = b.evaluate(text_of("#ctx-count"))
        self.assertIn(f"{self.key_count} keys", count)
        self.assertIn("showing the first 500", count)
        self.assertEqual(b.evaluate("document.querySelectorAll('#ctx-table tbody tr').length"), 500)
        b.wait_for(f"{text_of('#graph-tree')}.includes('Deploy')", "the graph of session demo")
        self.assertIn("Build", b.evaluate(text_of("#graph-tree")))
        b.wait_for(f"{text_of('#sessions-table')}.includes('demo')", "session demo in the list")
        b.wait_for(f"{text_of('#events-table')}.includes('graph.create_node')", "the event log")
        b.wait_for(f"{text_of('#status')} === 'live'", "the stream is live")
        self.assert_no_page_exception()

    def test_a_key_and_value_with_markup_are_shown_as_text(self):
        b = self.browser
        self.open("/?key=" + quote(XSS_KEY))
        b.wait_for(f"{cell_of(XSS_KEY)} !== null", "the key with markup")
        self.assertEqual(b.evaluate(cell_of(XSS_KEY)), json.dumps(XSS_VALUE))
        self.assertEqual(b.evaluate(text_of("#key-name")), XSS_KEY)
        self.assertEqual(b.evaluate(text_of("#key-value")), json.dumps(XSS_VALUE))
        b.wait_for(f"{rows_of('#history-table')}.length === 1", "the history of the key with markup")
        b.wait_for(f"{text_of('#events-table')}.includes({json.dumps(XSS_KEY)})", "the event of the key")
        self.assertEqual(b.evaluate("document.querySelectorAll('main script, main img, main b').length"), 0)
        self.assertIsNone(b.evaluate("window.__pwned === undefined ? null : window.__pwned"))
        self.assert_no_page_exception()

    def test_live_changes_arrive_over_the_stream(self):
        b = self.browser
        self.open("/")
        b.wait_for(f"{text_of('#status')} === 'live'", "the stream is live")
        self.assertIsNone(b.evaluate(cell_of("aaa.live")))
        self.assertEqual(self.server.put("/v1/context/aaa.live", json={"value": "arrived"}).status_code, 200)
        b.wait_for(f"{cell_of('aaa.live')} === '\"arrived\"'", "the live set")
        b.wait_for(f"{text_of('#ctx-count')}.includes('{self.key_count + 1} keys')", "the new key count")
        self.assertEqual(self.server.delete("/v1/context/aaa.live").status_code, 200)
        b.wait_for(f"{cell_of('aaa.live')} === null", "the live delete")
        b.wait_for(f"{text_of('#events-table')}.includes('context.delete')", "the followed event log")
        self.assert_no_page_exception()

    def test_time_travel_url_shows_the_old_value_and_graph(self):
        b = self.browser
        at = self.graph_old_seq
        self.open(f"/?at={at}&session=demo&key=build.status")
        b.wait_for(f"{cell_of('build.status')} === '\"old-value\"'", "build.status = old-value at the old seq")
        self.assertEqual(b.evaluate(text_of("#status")), f"time travel: seq {at}")
        self.assertIsNone(b.evaluate(cell_of(XSS_KEY)))
        self.assertEqual(b.evaluate(text_of("#key-value")), '"old-value"')
        self.assertEqual(b.evaluate("document.getElementById('at-range').value"), str(at))
        b.wait_for(f"{text_of('#graph-tree')}.includes('Build')", "the old graph")
        self.assertNotIn("Deploy", b.evaluate(text_of("#graph-tree")))
        history = b.wait_for(f"(() => {{ const r = {rows_of('#history-table')}; return r.length === 2 && r; }})()",
                             "the two history entries of build.status")
        self.assertEqual([row["cls"] for row in history], ["current", "future"])
        self.assertEqual(history[0]["cells"][5], '"old-value"')
        self.assert_no_page_exception()

    def test_time_travel_controls_go_back_and_return_to_live(self):
        b = self.browser
        self.open("/")
        b.wait_for(f"{cell_of('build.status')} === '\"new-value\"'", "the live value")
        b.evaluate(f"document.getElementById('at-input').value = '{self.old_seq}'; "
                   "document.getElementById('travel').requestSubmit(); true")
        b.wait_for(f"{cell_of('build.status')} === '\"old-value\"'", "the old value after Go")
        self.assertEqual(b.evaluate("location.search"), f"?at={self.old_seq}")
        b.evaluate("document.getElementById('at-live').click(); true")
        b.wait_for(f"{cell_of('build.status')} === '\"new-value\"'", "the live value after Live")
        self.assertEqual(b.evaluate("location.search"), "")
        self.assertEqual(b.evaluate(text_of("#status")), "live")
        self.assert_no_page_exception()

    def test_filter_and_an_encoded_key_history(self):
        b = self.browser
        self.open("/?key=" + quote("a/b c?&"))
        b.wait_for(f"{rows_of('#history-table')}.length === 1", "the history of 'a/b c?&'")
        self.assertEqual(b.evaluate(rows_of("#history-table"))[0]["cells"][5], '"slashy"')
        b.evaluate("const f = document.getElementById('ctx-filter'); f.value = 'KEY-0119'; "
                   "f.dispatchEvent(new Event('input')); true")
        b.wait_for("document.querySelectorAll('#ctx-table tbody tr').length === 10", "the filtered rows")
        self.assertIn("10 matching", b.evaluate(text_of("#ctx-count")))
        self.assert_no_page_exception()


class DroppingProxy:
    """A loopback TCP proxy in front of ctxd that can drop every connection
    and refuse new ones, as a broken network would, and can be pointed at a
    restarted server."""

    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.sockets = []
        self.refusing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                backend = None
                if not self.refusing:
                    try:
                        backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=5)
                        backend.settimeout(None)
                    except OSError:
                        pass
                if backend is None:
                    client.close()
                    continue
                self.sockets += [client, backend]
            for source, sink in ((client, backend), (backend, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self, refuse):
        """Cuts every connection; with `refuse`, new ones are cut at once too."""
        with self.lock:
            self.refusing = refuse
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()
        self.drop(True)
        with self.lock:
            for end in self.sockets:
                end.close()


class DashboardReconnectTest(unittest.TestCase):
    """The page's stream resumes where it stopped, with what was committed
    while it was cut off, after a dropped connection and a server restart."""

    def test_stream_resumes_after_a_drop_and_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="ctxd-test-")
        servers = [Ctxd(data_dir=data_dir).start()]
        proxy = DroppingProxy(servers[0].port)
        browser = None
        try:
            self.assertEqual(servers[0].put("/v1/context/before", json={"value": 1}).status_code, 200)
            browser = Browser()
            browser.open(f"http://127.0.0.1:{proxy.port}/")
            browser.wait_for(f"{text_of('#status')} === 'live'", "the stream is live")
            proxy.drop(refuse=True)
            browser.wait_for(f"{text_of('#status')} === 'reconnecting'", "the page noticed the drop")
            # Committed while the page is cut off: it must arrive after the reconnection.
            self.assertEqual(servers[0].put("/v1/context/during", json={"value": 2}).status_code, 200)
            proxy.drop(refuse=False)
            browser.wait_for(f"{cell_of('during')} === '2'", "a set made while cut off")
            browser.wait_for(f"{text_of('#status')} === 'live'", "the stream is live again")

            self.assertEqual(servers[0].stop(), 0)
            browser.wait_for(f"{text_of('#status')} === 'reconnecting'", "the page noticed the shutdown")
            servers.append(Ctxd(data_dir=data_dir).start())
            self.assertEqual(servers[1].put("/v1/context/after", json={"value": 3}).status_code, 200)
            proxy.backend_port = servers[1].port
            browser.wait_for(f"{cell_of('after')} === '3'", "a set made after the restart")
            browser.wait_for(f"{text_of('#status')} === 'live'", "the stream is live after the restart")
            self.assertEqual(browser.evaluate(cell_of("before")), "1")
            self.assertEqual(browser.evaluate(cell_of("during")), "2")
            self.assertIn("3 keys", browser.evaluate(text_of("#ctx-count")))
            self.assertEqual(browser.exceptions, [])
        finally:
            if browser is not None:
                browser.close()
            proxy.close()
            for server in servers:
                server.cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
