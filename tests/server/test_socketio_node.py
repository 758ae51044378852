"""Socket.IO against the real ctxd binary with npm socket.io-client 4 under
node: tests/server/js/scenarios.js, each scenario with the default transports
(polling, then the upgrade) and with websocket only. socket.io-client is
installed from tests/server/js/package-lock.json (npm ci) when missing; node
is $NODE_BIN or the one on PATH."""

import os
import shutil
import subprocess
import unittest

from ctxd_harness import Ctxd

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
SCENARIOS = ["transport", "snapshot", "client_stats", "register", "context_set", "rest_broadcast", "dump",
             "bad_input", "ack", "graph_refused", "unknown_namespace", "session_connected", "rooms",
             "graph_fields", "from_seq", "crowd"]


def node():
    return os.environ.get("NODE_BIN") or shutil.which("node") or shutil.which("nodejs")


def install_client():
    if os.path.isdir(os.path.join(JS_DIR, "node_modules", "socket.io-client")):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: run scripts/setup.sh")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR, check=True,
                   timeout=300)


class NodeScenarios:
    MODE = None
    ctxd = None

    @classmethod
    def setUpClass(cls):
        install_client()
        cls.ctxd = Ctxd().start()

    @classmethod
    def tearDownClass(cls):
        cls.ctxd.stop()
        cls.ctxd.cleanup()

    def run_scenario(self, name):
        r = subprocess.run([node(), os.path.join(JS_DIR, "scenarios.js"), self.ctxd.url, self.MODE, name],
                           cwd=JS_DIR, capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok " + name, r.stdout)


def add_tests(cls):
    for name in SCENARIOS:
        setattr(cls, "test_" + name, lambda self, name=name: self.run_scenario(name))
    return cls


@add_tests
class NodeDefaultTransports(NodeScenarios, unittest.TestCase):
    MODE = "default"


@add_tests
class NodeWebsocketOnly(NodeScenarios, unittest.TestCase):
    MODE = "websocket"


if __name__ == "__main__":
    unittest.main()
