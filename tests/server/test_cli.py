"""The ctxd command line (API.md "Command line") and the old server's
environment variables."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from ctxd_harness import BANNER, Ctxd, binary


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctxd-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ctxd(self, *args, env=None):
        return subprocess.run([binary(), "--data", self.dir] + list(args), capture_output=True, text=True,
                              timeout=30, env=env)

    def test_tls_with_a_missing_certificate_is_a_usage_error(self):
        out = self.run_ctxd("--tls-cert", "c.pem", "--tls-key", "k.pem")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--tls-cert c.pem: No such file", out.stderr)

    def test_a_missing_or_malformed_auth_file_is_a_usage_error(self):
        bad = os.path.join(self.dir, "tokens")
        with open(bad, "w") as f:
            f.write("# comment\nabc write\nxyz admin\n")
        for path, message in ((os.path.join(self.dir, "absent"), "cannot read"), (bad, ":3: expected"),
                              (self.dir, "cannot read the auth file %s: it is a directory" % self.dir)):
            out = self.run_ctxd("--auth-file", path)
            self.assertEqual(out.returncode, 2)
            self.assertIn(message, out.stderr)

    def test_a_value_of_cors_origin_that_is_not_an_origin_is_a_usage_error(self):
        for bad in ("app.example", "http://app.example/path", "ws://app.example"):
            out = self.run_ctxd("--cors-origin", "http://ok.example", "--cors-origin", bad)
            self.assertEqual(out.returncode, 2, bad)
            self.assertIn("--cors-origin: '%s' is not an origin" % bad, out.stderr)

    def test_a_value_of_allowed_host_that_is_not_a_host_name_is_a_usage_error(self):
        for bad in ("box:8080", "http://box", "u@box"):
            out = self.run_ctxd("--allowed-host", "ok.example", "--allowed-host", bad)
            self.assertEqual(out.returncode, 2, bad)
            self.assertIn("--allowed-host: '%s' is not a host name" % bad, out.stderr)

    def test_the_data_directory_as_dump_directory_is_a_usage_error(self):
        # A dump named like one of the store's files (000017.sst) would replace it.
        link = os.path.join(os.path.dirname(self.dir), os.path.basename(self.dir) + "-link")
        os.symlink(self.dir, link)
        try:
            parent, name = os.path.split(self.dir)
            for dump_dir in (self.dir, self.dir + "/", os.path.join(self.dir, "x", ".."),
                             os.path.join(parent, ".", name), link):
                out = self.run_ctxd("--dump-dir", dump_dir)
                self.assertEqual(out.returncode, 2, dump_dir)
                self.assertIn("--dump-dir must not be the data directory", out.stderr)
        finally:
            os.unlink(link)

    def test_usage_errors_exit_2(self):
        for args in (["--durability", "sometimes"], ["--listen", "nonsense"], ["--listen", "127.0.0.1:99999"],
                     ["--tls-cert", "only.pem"], ["--no-such-flag"], ["--log-level", "loud"],
                     ["--max-body-bytes", "-1"], ["--max-body-bytes", "0"], ["--max-connections", "0"]):
            self.assertEqual(self.run_ctxd(*args).returncode, 2, args)

    def test_help_exits_0(self):
        out = self.run_ctxd("--help")
        self.assertEqual(out.returncode, 0)
        for flag in ("--data", "--listen", "--durability", "--snapshot-every", "--dump-dir", "--log-level"):
            self.assertIn(flag, out.stdout)

    def test_port_in_use_fails_with_1(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            out = self.run_ctxd("--listen", "127.0.0.1:%d" % s.getsockname()[1])
            self.assertEqual(out.returncode, 1)
            self.assertIn("cannot listen", out.stderr)

    def test_a_listen_host_may_be_a_name_and_one_that_names_nothing_is_a_usage_error(self):
        # The old servers took CONTEXT_SERVER_HOST=localhost.
        proc = subprocess.Popen([binary(), "--data", self.dir, "--listen", "localhost:0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            self.assertRegex(BANNER.search(proc.stdout.readline()).group(1), r"^http://127\.0\.0\.1:\d+$")
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        fresh = os.path.join(self.dir, "fresh")
        # Not a valid host name: the resolver refuses it without asking DNS.
        out = subprocess.run([binary(), "--data", fresh, "--listen", "bad name:8080"], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--listen: 'bad name' is neither an IP address nor a name of one", out.stderr)
        self.assertFalse(os.path.exists(fresh))  # refused before the store was made

    def test_environment_sets_the_default_address_and_debug(self):
        port = free_port()
        env = dict(os.environ, CONTEXT_SERVER_HOST="127.0.0.1", CONTEXT_SERVER_PORT=str(port), DEBUG="1")
        proc = subprocess.Popen([binary(), "--data", self.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        try:
            line = proc.stdout.readline()
            self.assertEqual(BANNER.search(line).group(1), "http://127.0.0.1:%d" % port)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("[debug]", err)

    def test_banner_lists_the_urls(self):
        proc = subprocess.Popen([binary(), "--data", self.dir, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            lines = [proc.stdout.readline() for _ in range(6)]
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        text = "".join(lines)
        for path in ("/v1/context", "/v1/stream", "/v1/ws", "/ctx", "/metrics"):
            self.assertIn(path, text)

    def test_async_durability_and_snapshot_every(self):
        with Ctxd(data_dir=self.dir, args=["--durability", "async", "--snapshot-every", "10"]) as ctxd:
            for i in range(30):
                self.assertEqual(ctxd.put("/v1/context/a%d" % i, json={"value": i}).status_code, 200)
            self.assertEqual(ctxd.stop(), 0)
        with Ctxd(data_dir=self.dir) as ctxd:
            self.assertEqual(len(ctxd.get("/v1/context").json()["context"]), 30)

    def test_snapshot_interval_snapshots_fewer_events_than_the_count(self):
        def age(ctxd):
            metrics = ctxd.get("/metrics").text
            return int(float(re.search(r"^ctxd_snapshot_age_events (\S+)$", metrics, re.M).group(1)))

        with Ctxd(data_dir=self.dir, args=["--snapshot-interval", "1"]) as ctxd:
            for i in range(3):
                self.assertEqual(ctxd.put("/v1/context/i%d" % i, json={"value": i}).status_code, 200)
            self.assertEqual(age(ctxd), 3)
            deadline = time.monotonic() + 10
            while age(ctxd) != 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(age(ctxd), 0)
        with Ctxd(data_dir=self.dir) as ctxd:  # the count alone (100,000) takes none
            ctxd.put("/v1/context/more", json={"value": 1})
            time.sleep(1.5)
            self.assertEqual(age(ctxd), 1)
        for bad in ("-1", "soon"):
            self.assertEqual(self.run_ctxd("--snapshot-interval", bad).returncode, 2, bad)

    def test_max_value_bytes_sets_the_value_limit(self):
        with Ctxd(data_dir=self.dir, args=["--max-value-bytes", "10"]) as ctxd:
            self.assertEqual(ctxd.put("/v1/context/k", json={"value": "12345678"}).status_code, 200)
            r = ctxd.put("/v1/context/k", json={"value": "123456789"})  # 11 bytes of JSON
            self.assertEqual((r.status_code, r.json()["error"]["code"]), (413, "PAYLOAD_TOO_LARGE"))

    def test_threads_are_named(self):
        with Ctxd(data_dir=self.dir, args=["--io-threads", "2"]) as ctxd:
            def thread_names():
                names = []
                for task in os.listdir("/proc/%d/task" % ctxd.proc.pid):
                    with open("/proc/%d/task/%s/comm" % (ctxd.proc.pid, task)) as comm:
                        names.append(comm.read().strip())
                return names
            deadline = time.monotonic() + 10  # the banner comes before the I/O threads start
            names = thread_names()
            while names.count("ctxd-io") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
                names = thread_names()
            self.assertEqual(names.count("ctxd-io"), 2, names)
            self.assertEqual(names.count("ctxd-writer"), 1, names)
            self.assertEqual(names.count("ctxd-snapshot"), 1, names)

    def test_readyz_after_recovery(self):
        with Ctxd(data_dir=self.dir) as ctxd:
            self.assertEqual(ctxd.get("/readyz").status_code, 200)


if __name__ == "__main__":
    unittest.main()
