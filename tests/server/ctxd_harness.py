"""Starts the real ctxd binary on a free loopback port with a temporary data
directory, for the integration tests. The binary comes from $CTXD_BIN."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import requests

BANNER = re.compile(r"ctxd listening on (https?://[^\s]+)")


def binary():
    path = os.environ.get("CTXD_BIN")
    if not path:
        raise RuntimeError("set CTXD_BIN to the ctxd binary")
    return path


class Ctxd:
    """One ctxd process. Use start() / stop() or as a context manager."""

    def __init__(self, data_dir=None, args=(), env=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="ctxd-test-")
        self.args = list(args)
        self.env = env
        self.proc = None
        self.url = None
        self.stderr_lines = []

    def start(self, timeout=20):
        env = dict(os.environ)
        env.update(self.env or {})
        cmd = [binary(), "--data", self.data_dir, "--listen", "127.0.0.1:0"] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        found = threading.Event()

        def read_banner():
            for line in self.proc.stdout:
                m = BANNER.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read_banner, daemon=True).start()
        if not found.wait(max(0.0, deadline - time.monotonic())) or self.url is None:
            self.kill()
            raise RuntimeError("ctxd did not start: " + "".join(self.stderr_lines[-20:]))
        host, port = self.url.split("://", 1)[1].rsplit(":", 1)
        self.host, self.port = host, int(port)
        return self

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        if self.proc is not None:
            self.proc.stdout.close()
            self.proc.stderr.close()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # Helpers.
    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path, **kw)

    def put(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.put(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.post(self.url + path, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.delete(self.url + path, **kw)

    def head(self):
        return self.get("/v1/events?limit=1").json()["head"]

    def raw(self, data, read_timeout=5, shutdown_write=False):
        """Sends raw bytes; returns everything the server answered before
        closing (or until read_timeout)."""
        with socket.create_connection((self.host, self.port), timeout=read_timeout) as s:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
            chunks = []
            deadline = time.monotonic() + read_timeout
            try:
                while time.monotonic() < deadline:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except (socket.timeout, ConnectionResetError):
                pass
            return b"".join(chunks)


class ServerTestCase(unittest.TestCase):
    """One ctxd per test class (started with CTXD_ARGS), as cls.ctxd,
    started before the class's tests and removed after them."""

    CTXD_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.ctxd = Ctxd(args=cls.CTXD_ARGS).start()

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.cleanup()
