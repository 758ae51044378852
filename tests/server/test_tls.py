"""TLS on ctxd's one port (--tls-cert/--tls-key, server/tls_relay.h): REST,
the old /ctx routes, the dashboard, /v1/ws, /v1/stream and Socket.IO over
TLS with real clients that verify a self-signed certificate made here with
the openssl command; a plain-HTTP client and a silent client; the 503 beyond
--max-connections; SIGTERM with open TLS streams; usage errors; and no
file descriptor left behind."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import types
import unittest

import requests

from ctxd_harness import Ctxd, binary
from socketio_client import InOrderClient
from stream_client import Sse, Ws, websocket

WAIT = 30  # seconds anything expected may take on a loaded machine


def make_certificate(directory, name):
    """A self-signed EC certificate for 127.0.0.1 and localhost; returns
    (cert path, key path)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def tls_args(cert, key):
    return ["--tls-cert", cert, "--tls-key", key]


def https_session(cert):
    """Verifies the server against `cert` alone: without trust_env,
    REQUESTS_CA_BUNDLE in the environment would replace session.verify."""
    session = requests.Session()
    session.trust_env = False
    session.verify = cert
    return session


def tls_socket(ctxd, cert):
    context = ssl.create_default_context(cafile=cert)
    raw = socket.create_connection((ctxd.host, ctxd.port), timeout=WAIT)
    return context.wrap_socket(raw, server_hostname=ctxd.host)


def read_until_closed(sock, limit=WAIT):
    """Everything `sock` receives until the peer closes; raises if it does
    not close within `limit` seconds."""
    chunks = []
    sock.settimeout(limit)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise TimeoutError("the server did not close the connection")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


class Wss(Ws):
    """A /v1/ws connection over TLS, verifying `cert`."""

    def __init__(self, ctxd, cert, query=""):
        url = "wss://%s:%d/v1/ws%s" % (ctxd.host, ctxd.port, ("?" + query) if query else "")
        self.ws = websocket.create_connection(url, timeout=WAIT, sslopt={"ca_certs": cert})


class TlsSse(Sse):
    """A /v1/stream answer over TLS, verifying `cert`, read as it comes."""

    def __init__(self, ctxd, cert, query=""):
        self.sock = tls_socket(ctxd, cert)
        self._open(("GET /v1/stream?%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % query).encode())


def sio_client(ctxd, cert, transports):
    """A connected python-socketio client over TLS and what it received."""
    received = []
    # In order: context_snapshot is recorded before any later answer arrives.
    client = InOrderClient(reconnection=False, http_session=https_session(cert))
    client.on("*", lambda event, *args: received.append(event))
    client.connect(ctxd.url, transports=transports, wait_timeout=WAIT)
    return client, received


class TlsTest(unittest.TestCase):
    """One TLS server for the protocol tests."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ctxd-tls-")
        cls.cert, cls.key = make_certificate(cls.dir, "server")
        cls.ctxd = Ctxd(args=tls_args(cls.cert, cls.key)).start()
        cls.https = https_session(cls.cert)

    @classmethod
    def tearDownClass(cls):
        cls.https.close()
        cls.ctxd.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def url(self, path):
        return self.ctxd.url + path

    def event(self, seq):
        return self.https.get(self.url("/v1/events/%d" % seq), timeout=WAIT).json()

    def test_the_banner_says_https(self):
        self.assertTrue(self.ctxd.url.startswith("https://127.0.0.1:"), self.ctxd.url)

    def test_rest_over_https(self):
        put = self.https.put(self.url("/v1/context/tls-k"), json={"value": {"a": 1}, "actor": "alice"},
                             timeout=WAIT)
        self.assertEqual(put.status_code, 200, put.text)
        seq = put.json()["seq"]
        got = self.https.get(self.url("/v1/context/tls-k"), timeout=WAIT).json()
        self.assertEqual((got["value"], got["actor"], got["version"]), ({"a": 1}, "alice", seq))
        history = self.https.get(self.url("/v1/context/tls-k/history"), timeout=WAIT).json()
        self.assertEqual([(e["seq"], e["op"]) for e in history["entries"]], [(seq, "set")])
        missing = self.https.get(self.url("/v1/context/tls-never"), timeout=WAIT)
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing.json()["error"]["code"], "NOT_FOUND")
        bad = self.https.put(self.url("/v1/context/tls-k"), data="not json", timeout=WAIT)
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(bad.json()["error"]["code"], "BAD_REQUEST")

    def test_old_ctx_routes_over_https(self):
        posted = self.https.post(self.url("/ctx"), json={"key": "tls-old", "value": [1], "who": "ci"},
                                 timeout=WAIT)
        self.assertEqual(posted.status_code, 200, posted.text)
        got = self.https.get(self.url("/ctx"), params={"key": "tls-old"}, timeout=WAIT).json()
        self.assertEqual((got["value"], got["status"]), ([1], "success"))

    def test_dashboard_over_https_builds_a_wss_url(self):
        page = self.https.get(self.url("/"), timeout=WAIT)
        self.assertEqual(page.status_code, 200)
        self.assertTrue(page.headers["Content-Type"].startswith("text/html"))
        script = self.https.get(self.url("/dashboard/app.js"), timeout=WAIT).text
        self.assertIn("location.protocol === 'https:' ? 'wss:' : 'ws:'", script)

    def test_curl_verifies_the_certificate(self):
        ok = subprocess.run(["curl", "-sS", "--max-time", str(WAIT), "--cacert", self.cert,
                             self.url("/healthz")], capture_output=True, text=True, timeout=WAIT + 10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        unknown_ca = subprocess.run(["curl", "-sS", "--max-time", str(WAIT), self.url("/healthz")],
                                    capture_output=True, text=True, timeout=WAIT + 10)
        self.assertEqual(unknown_ca.returncode, 60, unknown_ca.stderr)  # certificate not trusted

    def test_websocket_over_wss(self):
        ws = Wss(self.ctxd, self.cert, "key=tls-ws-")
        try:
            hello = ws.hello()
            self.assertIn("head", hello)
            ws.send({"op": "set", "id": 7, "key": "tls-ws-k", "value": "v", "actor": "bob"})
            messages = [ws.recv_json()]
            while messages[-1]["op"] != "ack":  # its event may come first
                messages.append(ws.recv_json())
            ack = messages.pop()
            self.assertEqual((ack["id"], ack["changed"]), (7, True))
            event = messages[0]["event"] if messages else ws.events(1)[0]
            self.assertEqual(event, self.event(ack["seq"]))
            rest = self.https.put(self.url("/v1/context/tls-ws-rest"), json={"value": 2}, timeout=WAIT).json()
            [event] = ws.events(1)
            self.assertEqual(event["seq"], rest["seq"])
        finally:
            ws.close()

    def test_sse_over_https(self):
        sse = TlsSse(self.ctxd, self.cert, "key=tls-sse-")
        try:
            self.assertEqual(sse.status, 200)
            self.assertTrue(sse.headers["content-type"].startswith("text/event-stream"))
            seq = self.https.put(self.url("/v1/context/tls-sse-k"), json={"value": 1}, timeout=WAIT).json()["seq"]
            [(event_id, event_type, data)] = sse.events(1)
            self.assertEqual((event_id, event_type, data), (seq, "context.set", self.event(seq)))
        finally:
            sse.close()

    def check_socketio(self, transports, expected_transport):
        client, received = sio_client(self.ctxd, self.cert, transports)
        try:
            self.assertEqual(client.transport(), expected_transport)
            key = "tls-sio-" + expected_transport + "-" + str(len(transports or []))
            ack = client.call("context_set", {"key": key, "value": {"n": 1}, "who": "sio"}, timeout=WAIT)
            self.assertEqual(ack["status"], "success", ack)
            self.assertIn("context_snapshot", received)
            got = self.https.get(self.url("/v1/context/" + key), timeout=WAIT).json()
            self.assertEqual((got["value"], got["actor"]), ({"n": 1}, "sio"))
        finally:
            client.disconnect()

    def test_socketio_over_https_polling_only(self):
        self.check_socketio(["polling"], "polling")

    def test_socketio_over_https_default_transports_upgrade_to_wss(self):
        self.check_socketio(None, "websocket")

    def test_socketio_over_wss_only(self):
        self.check_socketio(["websocket"], "websocket")

    def test_plain_http_to_the_tls_port_is_closed_and_the_server_serves_on(self):
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=WAIT) as plain:
            plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = read_until_closed(plain)
        self.assertNotIn(b"HTTP/1.1", answer)
        self.assertEqual(self.https.get(self.url("/healthz"), timeout=WAIT).status_code, 200)

class TlsOwnServerTest(unittest.TestCase):
    """Tests that need a server of their own."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ctxd-tls-")
        cls.cert, cls.key = make_certificate(cls.dir, "server")
        cls.other_cert, cls.other_key = make_certificate(cls.dir, "other")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_ctxd(self, *args):
        data = tempfile.mkdtemp(prefix="ctxd-tls-data-", dir=self.dir)
        return subprocess.run([binary(), "--data", data, "--listen", "127.0.0.1:0"] + list(args),
                              capture_output=True, text=True, timeout=WAIT)

    def test_usage_errors_exit_2_with_a_message(self):
        garbage = os.path.join(self.dir, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        absent = os.path.join(self.dir, "absent.key")
        cases = (
            (["--tls-cert", self.cert], "--tls-key"),
            (["--tls-key", self.key], "--tls-cert"),
            (tls_args(self.cert, absent), "--tls-key %s: No such file" % absent),
            (tls_args(garbage, self.key), "--tls-cert %s: not a PEM certificate" % garbage),
            (tls_args(self.cert, garbage), "--tls-key %s: not a PEM private key" % garbage),
            (tls_args(self.cert, self.other_key),
             "--tls-key %s does not match the certificate in %s" % (self.other_key, self.cert)),
        )
        for args, message in cases:
            out = self.run_ctxd(*args)
            self.assertEqual(out.returncode, 2, (args, out.stderr))
            self.assertIn(message, out.stderr, args)
            self.assertNotIn("listening", out.stdout, args)

    def test_a_silent_client_blocks_nobody_and_is_closed_after_the_timeout(self):
        # A server of its own: a 3 s --request-timeout on the shared one also
        # cut the handshakes of clients starved of CPU on a loaded machine.
        with Ctxd(args=tls_args(self.cert, self.key) + ["--request-timeout", "3"]) as ctxd:
            silent = [socket.create_connection((ctxd.host, ctxd.port), timeout=WAIT) for _ in range(3)]
            try:
                start = time.monotonic()
                for i in range(3):
                    with https_session(self.cert) as session:
                        self.assertEqual(session.get(ctxd.url + "/healthz", timeout=WAIT).status_code, 200)
                for sock in silent:
                    self.assertEqual(read_until_closed(sock), b"")
                # --request-timeout 3: not closed at once, but after the timeout.
                self.assertGreaterEqual(time.monotonic() - start, 2.0)
            finally:
                for sock in silent:
                    sock.close()

    def test_beyond_max_connections_a_tls_client_gets_503(self):
        with Ctxd(args=tls_args(self.cert, self.key) + ["--max-connections", "1"]) as ctxd:
            held = https_session(self.cert)
            try:
                self.assertEqual(held.get(ctxd.url + "/healthz", timeout=WAIT).status_code, 200)
                with https_session(self.cert) as other:
                    busy = other.get(ctxd.url + "/healthz", timeout=WAIT)
                self.assertEqual(busy.status_code, 503)
                self.assertEqual(busy.json()["error"]["code"], "UNAVAILABLE")
            finally:
                held.close()

    def test_handshakes_count_against_max_connections(self):
        # Stalled handshakes hold a descriptor each: past the limit (and the
        # 16 more that may carry a 503 over TLS) they are closed at once,
        # not after --request-timeout.
        with Ctxd(args=tls_args(self.cert, self.key) + ["--max-connections", "4"]) as ctxd:
            stalled = [socket.create_connection((ctxd.host, ctxd.port), timeout=WAIT) for _ in range(30)]
            try:
                start = time.monotonic()
                closed = 0
                for sock in stalled[20:]:
                    sock.settimeout(2)
                    try:
                        closed += sock.recv(1) == b""
                    except socket.timeout:
                        pass
                    except ConnectionResetError:
                        closed += 1
                self.assertEqual(closed, 10)
                self.assertLess(time.monotonic() - start, 5)
            finally:
                for sock in stalled:
                    sock.close()
            deadline = time.monotonic() + 10
            while True:  # the server forgets the stalled ones as they close
                try:
                    with https_session(self.cert) as session:
                        if session.get(ctxd.url + "/healthz", timeout=WAIT).status_code == 200:
                            break
                except requests.RequestException:
                    pass
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)

    def test_sigterm_with_open_tls_streams_exits_0(self):
        data = tempfile.mkdtemp(prefix="ctxd-tls-data-", dir=self.dir)
        proc = subprocess.Popen([binary(), "--data", data, "--listen", "127.0.0.1:0"] +
                                tls_args(self.cert, self.key),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []

        def read_stdout():
            for line in proc.stdout:
                lines.append(line)

        readers = [threading.Thread(target=read_stdout, daemon=True),
                   threading.Thread(target=proc.stderr.read, daemon=True)]
        for reader in readers:
            reader.start()
        ws = sse = client = None
        try:
            end = time.monotonic() + WAIT
            while not any("metrics" in line for line in lines) and time.monotonic() < end:
                time.sleep(0.05)
            banner = "".join(lines)
            self.assertIn("websocket  wss://127.0.0.1:", banner)
            self.assertNotIn("http://", banner)
            url = banner.split()[3]
            ctxd = types.SimpleNamespace(url=url, host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
            ws = Wss(ctxd, self.cert)
            ws.hello()
            sse = https_session(self.cert).get(ctxd.url + "/v1/stream", stream=True, timeout=WAIT)
            self.assertEqual(sse.status_code, 200)
            client, _ = sio_client(ctxd, self.cert, ["websocket"])
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(WAIT), 0)
            frame = ws.next_frame()
            while frame[0] != "close":
                frame = ws.next_frame()
            self.assertEqual(frame[1], 1001)
        finally:
            for closing in (ws, sse):
                if closing is not None:
                    closing.close()
            if client is not None:
                client.disconnect()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for reader in readers:
                reader.join(WAIT)
            proc.stdout.close()
            proc.stderr.close()

    def test_connections_that_end_every_way_leave_no_descriptor_behind(self):
        with Ctxd(args=tls_args(self.cert, self.key) + ["--request-timeout", "5"]) as ctxd:
            pid = ctxd.proc.pid
            with https_session(self.cert) as session:
                self.assertEqual(session.get(ctxd.url + "/healthz", timeout=WAIT).status_code, 200)
            Wss(ctxd, self.cert).close()
            baseline = self.settled_fds(pid, None)
            for i in range(70):
                self.end_a_connection(ctxd, i % 7)
            self.assertLessEqual(self.settled_fds(pid, baseline), baseline)
            with https_session(self.cert) as session:
                text = session.get(ctxd.url + "/metrics", timeout=WAIT).text
            self.assertEqual(metric(text, "ctxd_connections"), 1)  # the /metrics request itself

    def settled_fds(self, pid, target):
        """The process's descriptor count once it stops falling (or reaches
        `target`), within WAIT seconds."""
        end = time.monotonic() + WAIT
        count = open_fds(pid)
        while time.monotonic() < end:
            time.sleep(0.5)
            now = open_fds(pid)
            if (target is not None and now <= target) or (target is None and now == count):
                return now
            count = now
        return open_fds(pid)

    def end_a_connection(self, ctxd, way):
        if way == 0:  # a keep-alive session over TLS, closed by the client
            with https_session(self.cert) as session:
                self.assertEqual(session.get(ctxd.url + "/healthz", timeout=WAIT).status_code, 200)
        elif way == 1:  # TCP connect, close before the handshake
            socket.create_connection((ctxd.host, ctxd.port), timeout=WAIT).close()
        elif way == 2:  # plain HTTP to the TLS port
            with socket.create_connection((ctxd.host, ctxd.port), timeout=WAIT) as plain:
                plain.sendall(b"GET / HTTP/1.1\r\n\r\n")
                read_until_closed(plain)
        elif way == 3:  # half a request, then gone without close_notify
            sock = tls_socket(ctxd, self.cert)
            sock.sendall(b"PUT /v1/context/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{")
            sock.close()
        elif way == 4:  # a WebSocket closed with its close handshake
            ws = Wss(ctxd, self.cert)
            ws.hello()
            ws.close()
        elif way == 5:  # Connection: close, the server ends it
            with tls_socket(ctxd, self.cert) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                self.assertIn(b"200 OK", read_until_closed(sock))
        else:  # an SSE stream dropped by the client
            sock = tls_socket(ctxd, self.cert)
            sock.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertIn(b"text/event-stream", sock.recv(65536))
            sock.close()


if __name__ == "__main__":
    unittest.main()
