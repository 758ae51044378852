"""Bad input over real sockets: every client mistake gets a 4xx with the API
error JSON (or, for garbage, a closed connection); nothing is appended and
the server keeps serving."""

import json
import re
import socket
import subprocess
import tempfile
import time
import unittest

import requests

from ctxd_harness import Ctxd, ServerTestCase


def status_of(raw):
    """The status code of the first response in `raw`, or None."""
    if not raw.startswith(b"HTTP/1.1 "):
        return None
    return int(raw[9:12])


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1]


class BadInputTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ctxd.put("/v1/context/existing", json={"value": 1})

    def setUp(self):
        self.head_before = self.ctxd.head()

    def tearDown(self):
        # The server still serves, and nothing was appended.
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200)
        self.assertEqual(self.ctxd.head(), self.head_before)

    def assertClientError(self, raw, allowed=(400,)):
        status = status_of(raw)
        if status is None:
            self.assertEqual(raw, b"", "neither an HTTP answer nor a closed connection: %r" % raw[:200])
            return
        self.assertIn(status, allowed, raw[:300])
        error = json.loads(body_of(raw))["error"]
        self.assertTrue(error["code"] and error["message"], error)

    def assertApiError(self, response, status=400, code="BAD_REQUEST"):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"]["code"], code)

    def put_raw(self, path, body, extra=b""):
        return (b"PUT " + path + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extra +
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    # Garbage and broken HTTP.
    def test_raw_garbage(self):
        for garbage in (b"\x00\xff\xfe garbage \x01\r\n\r\n", b"hello\r\n\r\n", b"GET\r\n\r\n",
                        b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64):
            self.assertClientError(self.ctxd.raw(garbage, read_timeout=3, shutdown_write=True))

    def test_unknown_method(self):
        raw = self.ctxd.raw(b"FOO /v1/context/existing HTTP/1.1\r\nHost: localhost\r\n\r\n", read_timeout=3)
        self.assertClientError(raw, allowed=(400, 405))

    def test_truncated_request_appends_nothing(self):
        body = b'{"value": "truncated"}'
        request = self.put_raw(b"/v1/context/trunc", body)
        for cut in (10, 40, len(request) - 5):
            raw = self.ctxd.raw(request[:cut], read_timeout=3, shutdown_write=True)
            self.assertEqual(raw, b"")
        self.assertApiError(self.ctxd.get("/v1/context/trunc"), 404, "NOT_FOUND")

    def test_header_never_finished_does_not_block_others(self):
        with socket.create_connection((self.ctxd.host, self.ctxd.port)) as s:
            s.sendall(b"PUT /v1/context/slow HTTP/1.1\r\nHost: localhost\r\nContent-Le")
            for _ in range(5):
                self.assertEqual(self.ctxd.get("/v1/context/existing").status_code, 200)

    def test_oversized_header(self):
        raw = self.ctxd.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        self.assertClientError(raw, allowed=(431,))

    def test_oversized_body(self):
        big = b'{"value": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        raw = self.ctxd.raw(self.put_raw(b"/v1/context/big", big), read_timeout=5)
        self.assertClientError(raw, allowed=(413,))
        # Declared small but chunked past the limit.
        chunk = b"x" * (1024 * 1024)
        chunked = (b"PUT /v1/context/big HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(3)) + b"0\r\n\r\n")
        self.assertClientError(self.ctxd.raw(chunked, read_timeout=5), allowed=(413,))
        r = requests.put(self.ctxd.url + "/v1/context/big", data=big, timeout=10)
        self.assertApiError(r, 413, "PAYLOAD_TOO_LARGE")

    def test_a_value_of_one_mebibyte_is_accepted(self):
        value = "v" * (1024 * 1024 - 16)
        r = self.ctxd.put("/v1/context/one-mib", json={"value": value})
        self.assertEqual(r.status_code, 200, r.text[:200])
        self.head_before = self.ctxd.head()
        self.assertEqual(len(self.ctxd.get("/v1/context/one-mib").json()["value"]), len(value))

    def test_a_value_over_one_mebibyte_is_refused_everywhere(self):
        value = "v" * (1024 * 1024 - 1)  # with its quotes, one byte over 1 MiB of JSON
        too_large = (413, "PAYLOAD_TOO_LARGE")
        self.assertApiError(self.ctxd.put("/v1/context/too-big", json={"value": value}), *too_large)
        self.assertApiError(self.ctxd.post("/v1/context", json={"set": {"too-big": value}}), *too_large)
        self.assertApiError(self.ctxd.post("/v1/sessions/big/commands", json={
            "command": "create_node", "type": "t", "name": "n", "props": {"p": value}}), *too_large)
        r = self.ctxd.post("/ctx", json={"key": "too-big", "value": value})
        self.assertEqual((r.status_code, r.json()["status"]), (413, "error"), r.text[:200])
        self.assertIn("more than the limit of 1048576", r.json()["error"])

    # Bad JSON and wrong types.
    def test_malformed_json(self):
        for body in (b"{", b'{"value": }', b"nul", b"", b"   ", b'{"value": 1} trailing', b"\xff\xfe",
                     # Near misses of the plain {"value": "<string>"} fast path.
                     b'{"value":"a\x01b"}', b'{"value":"abc', b'{"value":"x"} x', b'{"value":"x",}',
                     b'{"value":"x"}}', b'{"value":"x\\"}', b'{"value" "x"}', b'{value:"x"}',
                     # Numbers nlohmann cannot hold: refused, not an internal error.
                     b'{"value": 1e400}', b'{"value": -1e400}'):
            self.assertApiError(requests.put(self.ctxd.url + "/v1/context/k", data=body, timeout=5))
            self.assertApiError(requests.post(self.ctxd.url + "/v1/context", data=body, timeout=5))
            self.assertApiError(requests.post(self.ctxd.url + "/v1/sessions/s/commands", data=body, timeout=5))

    def test_an_integer_beyond_64_bits_is_refused_not_rounded(self):
        """nlohmann would keep it as a double and lose its last digits."""
        for number in ("18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"):
            body = ('{"value": {"n": [1, %s]}}' % number).encode()
            r = requests.put(self.ctxd.url + "/v1/context/k", data=body, timeout=5)
            self.assertApiError(r)
            self.assertIn("has the integer %s, beyond the 64 bits" % number, r.json()["error"]["message"])
            self.assertApiError(requests.post(self.ctxd.url + "/v1/context", data=b'{"set": {"k": %s}}' %
                                              number.encode(), timeout=5))
        # The limits themselves, fractions and exponents are numbers as before.
        for number in ("18446744073709551615", "-9223372036854775808", "18446744073709551616.0", "1e30",
                       "184467440737095516160e-1"):
            r = requests.put(self.ctxd.url + "/v1/context/k64", data=('{"value": %s}' % number).encode(), timeout=5)
            self.assertEqual(r.status_code, 200, (number, r.text))
            self.assertEqual(json.loads(self.ctxd.get("/v1/context/k64").text)["value"], json.loads(number))
        self.ctxd.delete("/v1/context/k64")
        self.head_before = self.ctxd.head()

    def test_a_json_error_says_where_the_parser_stopped(self):
        r = requests.put(self.ctxd.url + "/v1/context/k", data=b'{"value": }', timeout=5)
        self.assertApiError(r)
        self.assertTrue(r.json()["error"]["message"].startswith(
            "the request body is not valid JSON: parse error at line 1, column 11"), r.text)

    def test_wrong_types(self):
        for body in ([1], "str", 5, {"no_value": 1}, {"value": 1, "actor": 5}, {"value": 1, "session": []},
                     {"value": 1, "command_id": {}}):
            self.assertApiError(self.ctxd.put("/v1/context/k", json=body))

    def test_invalid_utf8(self):
        self.assertApiError(requests.put(self.ctxd.url + "/v1/context/k", data=b'{"value": "\xc3\x28"}', timeout=5))
        self.assertApiError(requests.put(self.ctxd.url + "/v1/context/k", data=b'{"value": "\xed\xa0\x80"}',
                                         timeout=5))
        self.assertApiError(self.ctxd.put("/v1/context/%C3%28", json={"value": 1}))
        self.assertApiError(self.ctxd.get("/v1/context/%FF"))
        self.assertApiError(self.ctxd.delete("/v1/context/existing?actor=%FF"))
        raw = self.ctxd.raw(self.put_raw(b"/v1/context/\xff\xfe", b'{"value": 1}', b"Connection: close\r\n"),
                            read_timeout=3)
        self.assertClientError(raw)

    def test_error_messages_that_echo_bad_bytes_are_still_json(self):
        for target in (b"/v1/context/\xff%", b"/v1/events?type=%FF", b"/v1/events?type=\xc3"):
            raw = self.ctxd.raw(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                                read_timeout=3)
            self.assertClientError(raw)  # parses the body as UTF-8 JSON
            self.assertIn("\ufffd", json.loads(body_of(raw))["error"]["message"], target)

    def test_transfer_codings_other_than_chunked_are_refused(self):
        for coding in (b"foo", b"gzip, chunked", b"identity"):
            raw = self.ctxd.raw(self.put_raw(b"/v1/context/coded", b'{"value": 1}',
                                             b"Transfer-Encoding: " + coding + b"\r\n"), read_timeout=3)
            self.assertClientError(raw)
        chunked = (b"PUT /v1/context/coded HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\nc\r\n{\"value\": 1}\r\n0\r\n\r\n")
        self.assertEqual(status_of(self.ctxd.raw(chunked, read_timeout=3)), 200)
        self.head_before = self.ctxd.head()

    def test_bad_percent_encoding(self):
        for path in ("/v1/context/a%zz", "/v1/context/a%4", "/v1/context/a%", "/v1/context/existing?at=%g1",
                     "/ctx?key=%"):
            raw = self.ctxd.raw(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode(),
                                read_timeout=3)
            self.assertEqual(status_of(raw), 400, raw)

    def test_bad_keys(self):
        self.assertApiError(self.ctxd.put("/v1/context/a%01b", json={"value": 1}))
        self.assertApiError(self.ctxd.put("/v1/context/a%0Ab", json={"value": 1}))
        self.assertApiError(self.ctxd.put("/v1/context/a%C2%85b", json={"value": 1}))  # NEL, a C1 control
        self.assertApiError(self.ctxd.put("/v1/context/" + "k" * 1025, json={"value": 1}))
        self.assertApiError(self.ctxd.post("/v1/context", json={"set": {"bad\u0001": 1}}))
        self.assertApiError(self.ctxd.post("/v1/context", json={"set": {"bad\u009f": 1}}))
        self.assertApiError(self.ctxd.post("/v1/context", json={"set": {"": 1}}))

    def test_deeply_nested_json(self):
        deep = "[" * 100000 + "]" * 100000
        self.assertApiError(requests.put(self.ctxd.url + "/v1/context/deep", data='{"value": %s}' % deep, timeout=10))

    def test_bad_if_match_and_ids(self):
        self.assertApiError(self.ctxd.put("/v1/context/existing", json={"value": 2}, headers={"If-Match": "-1"}))
        self.assertApiError(self.ctxd.put("/v1/context/existing", json={"value": 2},
                                          headers={"Idempotency-Key": "x" * 300}))
        self.assertApiError(self.ctxd.post("/v1/sessions/%01/commands",
                                           json={"command": "create_node", "type": "t", "name": "n"}))

    # HTTP behaviour.
    def test_pipelined_requests_are_answered_in_order(self):
        requests_bytes = b"".join(
            self.put_raw(b"/v1/context/pipe-%d" % i, b'{"value": %d}' % i) for i in range(10))
        requests_bytes += b"GET /v1/context/pipe-9 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        self.assertPutsThenGetAnsweredInOrder(self.ctxd.raw(requests_bytes, read_timeout=5), 10)

    def test_requests_sent_apart_on_one_connection_are_all_answered(self):
        # The session reads ahead only while a client pipelines; a request that
        # arrives while the one before it waits for its commit, or right after
        # its answer, must still be read and answered in order.
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=5) as s:
            for i, pause in enumerate((0, 0.001, 0.02, 0)):
                s.sendall(self.put_raw(b"/v1/context/apart-%d" % i, b'{"value": %d}' % i))
                time.sleep(pause)
            s.sendall(b"GET /v1/context/apart-3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        self.assertPutsThenGetAnsweredInOrder(raw, 4)

    def assertPutsThenGetAnsweredInOrder(self, raw, puts):
        """`raw` answers `puts` PUTs of the values 0..puts-1, then a GET of the last."""
        answers = raw.split(b"HTTP/1.1 ")[1:]
        self.assertEqual(len(answers), puts + 1, raw)
        seqs = [json.loads(a.split(b"\r\n\r\n", 1)[1])["seq"] for a in answers[:puts]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(json.loads(answers[puts].split(b"\r\n\r\n", 1)[1])["value"], puts - 1)
        self.head_before = self.ctxd.head()

    def test_http10_and_connection_close(self):
        raw = self.ctxd.raw(b"GET /healthz HTTP/1.0\r\n\r\n", read_timeout=3)  # 1.0: closes by default
        self.assertEqual(status_of(raw), 200)
        raw = self.ctxd.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", read_timeout=3)
        self.assertIn(b"Connection: close", raw)

    def test_an_absolute_form_target_is_served_with_its_authority_as_host(self):
        # RFC 9112 3.2.2: a server must accept it; its authority stands for Host.
        def get(target, host="ignored.example"):
            return self.ctxd.raw(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                                  % (target, host)).encode(), read_timeout=3)
        own = "http://127.0.0.1:%d" % self.ctxd.port
        self.assertEqual(status_of(get(own + "/healthz")), 200)
        answer = get("HTTP://LOCALHOST:%d/v1/events?limit=1&from=1" % self.ctxd.port)
        self.assertEqual(status_of(answer), 200, answer)
        self.assertIn(b'"events":[', answer)
        refused = get("http://evil.example:%d/v1/context" % self.ctxd.port, host="localhost")
        self.assertEqual(status_of(refused), 403, refused)  # the Host check sees evil.example
        for target in ("ftp://127.0.0.1/healthz", "http://user@127.0.0.1/healthz", "127.0.0.1:80"):
            self.assertEqual(status_of(get(target, host="localhost")), 400, target)

    def test_head_is_get_without_the_body(self):
        """RFC 9110 9.3.2: every GET route answers HEAD with the GET's status and
        headers, Content-Length included, and no body; the next pipelined
        answer still parses."""
        for path, status in (("/healthz", 200), ("/v1/context/existing", 200), ("/v1/context/head-missing", 404),
                             ("/v1/context?prefix=exist", 200), ("/ctx?key=existing", 200), ("/ctx/all", 200),
                             ("/v1/events?limit=2", 200), ("/", 200)):
            get = self.ctxd.raw(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode(),
                                read_timeout=3)
            pipelined = ("HEAD %s HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path)
            raw = self.ctxd.raw(pipelined.encode(), read_timeout=3)
            head, _, rest = raw.partition(b"\r\n\r\n")
            self.assertEqual(status_of(head), status, (path, head))
            self.assertTrue(rest.startswith(b"HTTP/1.1 200"), (path, rest[:80]))  # no body in between
            get_length = re.search(rb"Content-Length: (\d+)", get).group(1)
            self.assertGreater(int(get_length), 0, path)
            self.assertIn(b"Content-Length: " + get_length, head, path)
        # Not on the Socket.IO polling transport (a GET there takes the client's packets) nor the streams.
        for path, allow in (("/socket.io/?EIO=4&transport=polling", b"GET, POST, OPTIONS"), ("/v1/stream", b"GET")):
            raw = self.ctxd.raw(("HEAD %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode(),
                                read_timeout=3)
            self.assertEqual(status_of(raw), 405, (path, raw))
            self.assertIn(b"Allow: " + allow + b"\r\n", raw, path)

    def test_binary_idempotency_key(self):
        raw = self.ctxd.raw(self.put_raw(b"/v1/context/idem-bin", b'{"value": 1}',
                                         b"Idempotency-Key: \xff\xfe\r\nConnection: close\r\n"), read_timeout=3)
        self.assertClientError(raw)

    def test_empty_actor_is_anonymous(self):
        r = self.ctxd.put("/v1/context/empty-actor", json={"value": 1, "actor": ""})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.ctxd.get("/v1/context/empty-actor").json()["actor"], "anonymous")
        self.head_before = self.ctxd.head()

    def test_curl_expect_continue_is_fast(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"value": "x" * 4000}, f)
            f.flush()
            start = time.monotonic()
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                  "-H", "Content-Type: application/json", "--data-binary", "@" + f.name,
                                  self.ctxd.url + "/v1/context/curl-big"], capture_output=True, text=True,
                                 timeout=20)
            self.assertEqual(out.stdout, "200")
            self.assertLess(time.monotonic() - start, 0.9)
        self.head_before = self.ctxd.head()


class ExpectContinueTest(ServerTestCase):
    """`Expect: 100-continue` (RFC 9110 10.1.1): the interim 100 comes at
    once when nothing is owed, never ahead of an earlier pipelined answer,
    and never to HTTP/1.0."""

    BODY = b'{"value": "expected"}'

    def head(self, version=b"1.1", key=b"e"):
        return (b"PUT /v1/context/" + key + b" HTTP/" + version + b"\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                % len(self.BODY))

    @staticmethod
    def answers(sock):
        """The answers on `sock` as they come: a 100's head, or a head and
        its body (by Content-Length)."""
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = re.search(rb"Content-Length: (\d+)", head)
            size = int(length.group(1)) if length else 0
            while len(data) < size:
                data += sock.recv(65536)
            yield head + b"\r\n\r\n" + data[:size]
            data = data[size:]

    def test_the_100_comes_before_the_body_is_sent(self):
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=10) as s:
            s.sendall(self.head())
            answers = self.answers(s)
            self.assertEqual(next(answers), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(self.BODY)
            self.assertTrue(next(answers).startswith(b"HTTP/1.1 200 OK"))
        self.assertEqual(self.ctxd.get("/v1/context/e").json()["value"], "expected")

    def test_no_100_to_http_1_0(self):
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=10) as s:
            s.sendall(self.head(b"1.0", b"e10"))
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(100)
            s.settimeout(10)
            s.sendall(self.BODY)
            self.assertTrue(next(self.answers(s)).startswith(b"HTTP/1.1 200 OK"))

    def test_no_100_ahead_of_an_earlier_pipelined_answer(self):
        batch = json.dumps({"set": {"pipe/%d" % i: i for i in range(500)}}).encode()
        first = (b"POST /v1/context HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(batch) + batch)
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=10) as s:
            s.sendall(first + self.head(key=b"e2"))
            answers = self.answers(s)
            answer = next(answers)
            self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer)  # the batch's, not a 100
            s.sendall(self.BODY)
            rest = next(answers)
            if rest.startswith(b"HTTP/1.1 100"):  # sent once the batch's answer was out: allowed
                rest = next(answers)
            self.assertTrue(rest.startswith(b"HTTP/1.1 200 OK"), rest)


class TimeoutTest(unittest.TestCase):
    def test_idle_and_slow_connections_are_closed(self):
        with Ctxd(args=["--idle-timeout", "1", "--request-timeout", "1"]) as ctxd:
            idle = socket.create_connection((ctxd.host, ctxd.port))
            slow = socket.create_connection((ctxd.host, ctxd.port))
            body = socket.create_connection((ctxd.host, ctxd.port))
            try:
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
                body.sendall(b"PUT /v1/context/slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\n{")
                for s in (idle, slow, body):
                    s.settimeout(5)
                    start = time.monotonic()
                    try:
                        data = s.recv(100)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"")
                    self.assertLess(time.monotonic() - start, 4)
            finally:
                for s in (idle, slow, body):
                    s.close()
            self.assertEqual(ctxd.get("/healthz").status_code, 200)
            self.assertEqual(ctxd.get("/v1/context/slow").status_code, 404)


class LargeAnswerTest(unittest.TestCase):
    """An answer to a client that takes it slowly but steadily is written
    whole; a client that pipelines large reads and takes nothing holds one
    answer's memory, not one per request."""

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd(args=["--request-timeout", "2", "--durability", "async"]).start()
        for batch in range(6):  # a listing of about 6 MB
            body = {"set": {"big/%d/%d" % (batch, i): "x" * 10000 for i in range(100)}}
            assert cls.ctxd.post("/v1/context", json=body).status_code == 200

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.cleanup()

    def rss_kib(self):
        with open("/proc/%d/status" % self.ctxd.proc.pid) as status:
            return int(next(line for line in status if line.startswith("VmRSS")).split()[1])

    def test_a_slow_steady_reader_gets_the_whole_answer_past_the_request_timeout(self):
        with socket.create_connection((self.ctxd.host, self.ctxd.port), timeout=10) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            s.sendall(b"GET /v1/context HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            received, start = b"", time.monotonic()
            while True:  # about 1.5 MB/s: 4 s for the answer, twice the timeout
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
                time.sleep(len(chunk) / 1.5e6)
        head, _, body = received.partition(b"\r\n\r\n")
        self.assertGreater(time.monotonic() - start, 2.5)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        self.assertGreater(length, 5000000)
        self.assertEqual(len(body), length)

    def test_pipelined_large_reads_that_are_not_taken_hold_about_one_answer(self):
        before = self.rss_kib()
        held = []
        try:
            for _ in range(4):
                s = socket.create_connection((self.ctxd.host, self.ctxd.port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"GET /v1/context HTTP/1.1\r\nHost: localhost\r\n\r\n" * 16)
                held.append(s)
            time.sleep(0.5)  # well within the timeout: all four are still held
            grown_mib = (self.rss_kib() - before) / 1024
        finally:
            for s in held:
                s.close()
        # 64 answers of 6 MB would be 384 MB; one per connection, about 50.
        self.assertLess(grown_mib, 120)
        self.assertEqual(self.ctxd.get("/healthz").status_code, 200)


class ConnectionLimitTest(unittest.TestCase):
    def test_connections_beyond_the_limit_get_503(self):
        with Ctxd(args=["--max-connections", "4"]) as ctxd:
            held = [socket.create_connection((ctxd.host, ctxd.port)) for _ in range(4)]
            try:
                time.sleep(0.2)
                raw = ctxd.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", read_timeout=3)
                self.assertEqual(status_of(raw), 503, raw)
            finally:
                for s in held:
                    s.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if status_of(ctxd.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")) == 200:
                    break
                time.sleep(0.05)
            else:
                self.fail("the server did not recover after connections closed")


if __name__ == "__main__":
    unittest.main()
