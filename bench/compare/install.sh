#!/usr/bin/env bash
# Installs the comparison peers and load tools from Debian when missing:
# etcd-server, etcd-client, redis-server, redis-tools, wrk. Idempotent.
# Package scripts must not start the system-wide redis/etcd services: while
# installing, a policy-rc.d that denies every service start is in place
# (only when the system has none of its own), and it is removed afterwards.
set -euo pipefail

packages=(etcd-server etcd-client redis-server redis-tools wrk)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

as_root=()
[[ $(id -u) -ne 0 ]] && as_root=(sudo)

policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  own_policy=1
fi
cleanup() { [[ $own_policy -eq 1 ]] && "${as_root[@]}" rm -f "$policy"; return 0; }
trap cleanup EXIT

echo "installing: ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
  { "${as_root[@]}" apt-get update -q >&2 &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
