#!/usr/bin/env bash
# Installs the Debian packages ctxd needs to build, run and test, when missing.
# Idempotent and non-interactive; uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  librocksdb-dev libboost1.81-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libssl-dev libjemalloc-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  curl python3 python3-requests python3-websocket python3-socketio
  openssl  # certificates for the TLS test (tests/server/test_tls.py)
  chromium  # the dashboard's browser test (tests/server/test_dashboard.py)
)
# node and npm for the socket.io-client tests: Debian's nodejs and npm, unless
# a node with its own npm (e.g. nodesource's nodejs, which conflicts with
# Debian's npm package) is already installed.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# socket.io-client for the node tests, pinned by tests/server/js/package-lock.json.
js_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/server/js"
if [ ! -d "$js_dir/node_modules/socket.io-client" ]; then
  echo "setup: npm ci in $js_dir" >&2
  (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
