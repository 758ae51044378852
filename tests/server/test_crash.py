"""Crash and shutdown under concurrent HTTP write load: every write that got
a 200 is present after a restart (SIGKILL, at least 10 rounds), and SIGTERM
during load exits 0 without losing an acknowledged write."""

import random
import shutil
import signal
import tempfile
import threading
import time
import unittest

import requests

from ctxd_harness import Ctxd

WRITERS = 8


class Load:
    """WRITERS threads putting unique keys as fast as they can; remembers
    every acknowledged write."""

    def __init__(self, url, tag):
        self.url = url
        self.tag = tag
        self.stop = threading.Event()
        self.acked = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(WRITERS)]

    def run(self, t):
        with requests.Session() as s:
            i = 0
            deadline = time.monotonic() + 30
            while not self.stop.is_set() and time.monotonic() < deadline:
                key = "%s-t%d-%d" % (self.tag, t, i)
                try:
                    r = s.put(self.url + "/v1/context/" + key, json={"value": i}, timeout=5)
                except requests.RequestException:
                    return  # the server is gone
                if r.status_code == 200:
                    with self.lock:
                        self.acked[key] = i
                elif r.status_code != 503:
                    raise AssertionError("unexpected %d: %s" % (r.status_code, r.text))
                i += 1

    def __enter__(self):
        for th in self.threads:
            th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for th in self.threads:
            th.join(10)


def stored(ctxd):
    return ctxd.get("/v1/context").json()["context"]


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctxd-crash-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assertAllPresent(self, acked, context):
        missing = [k for k, v in acked.items() if context.get(k) != v]
        self.assertEqual(missing, [], "%d acknowledged writes lost" % len(missing))

    def test_sigkill_under_load_loses_no_acknowledged_write(self):
        rng = random.Random(7)
        all_acked = {}
        for round_ in range(10):
            ctxd = Ctxd(data_dir=self.dir).start()
            try:
                self.assertAllPresent(all_acked, stored(ctxd))
                with Load(ctxd.url, "k%d" % round_) as load:
                    time.sleep(rng.uniform(0.2, 0.6))
                    ctxd.proc.send_signal(signal.SIGKILL)
                    ctxd.proc.wait(10)
                self.assertGreater(len(load.acked), 0, "no write was acknowledged in round %d" % round_)
                all_acked.update(load.acked)
            finally:
                ctxd.cleanup()
        with Ctxd(data_dir=self.dir) as ctxd:
            context = stored(ctxd)
            self.assertAllPresent(all_acked, context)
            events = ctxd.get("/v1/events?limit=1").json()
            self.assertGreaterEqual(events["head"], len(all_acked))

    def test_sigterm_under_load_exits_zero_and_keeps_acknowledged_writes(self):
        ctxd = Ctxd(data_dir=self.dir).start()
        try:
            with Load(ctxd.url, "term") as load:
                time.sleep(0.5)
                ctxd.proc.send_signal(signal.SIGTERM)
                code = ctxd.proc.wait(30)
            self.assertEqual(code, 0, "".join(ctxd.stderr_lines[-20:]))
            self.assertGreater(len(load.acked), 0)
        finally:
            ctxd.cleanup()
        with Ctxd(data_dir=self.dir) as again:
            self.assertAllPresent(load.acked, stored(again))


if __name__ == "__main__":
    unittest.main()
