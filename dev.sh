#!/usr/bin/env bash
# ctxd developer entry point (see README):
#   ./dev.sh run    install what is missing, build, start ctxd on 127.0.0.1:8080 (data in ./ctxd-data)
#   ./dev.sh test   install what is missing, build, run every test
#   ./dev.sh build  build only
set -euo pipefail
cd "$(dirname "$0")"

build() {
  bash scripts/setup.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build
}

case "${1:-}" in
  build) build ;;
  run)
    build
    exec build/bin/ctxd --data ./ctxd-data --listen 127.0.0.1:8080 ;;
  test)
    build
    ctest --test-dir build --output-on-failure -j2 ;;
  *)
    echo "usage: $0 run|test|build" >&2
    exit 2 ;;
esac
