#!/usr/bin/env bash
# Side by side: ctxd against etcd and Redis on this machine, in one run (issue 6).
#
#   bench/compare/run.sh [--quick] [--build DIR] [--markdown FILE] [--rounds N]
#                        [--seconds S] [--only LIST] [--no-install] [--keep]
#
# Installs etcd-server, etcd-client, redis-server, redis-tools and wrk from
# Debian when missing; builds ctxd, ws_load, watch_load and null_server in
# --build (default: build; a dir holding only bin/ is used as it is); starts
# ctxd, etcd (defaults), Redis (appendonly yes, appendfsync always, no RDB
# saves) and a null HTTP server on 127.0.0.1 with their data in a temp dir, and stops each by PID on
# exit. Then, for every workload and concurrency, runs each system in turn,
# the order rotated every round so drift of the machine cancels; prints one
# table (medians over the rounds) and writes it as markdown to --markdown.
#
#   --quick      1 round of 3 s (default: 3 rounds of 8 s)
#   --only LIST  comma-separated workloads: write,pipelined,read,history,fanout
#   --keep       keep the temp dir (data, logs, raw results)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build"
markdown=""
rounds=3
seconds=8
only="write,pipelined,read,history,fanout"
install=1
keep=0
fanout_rate=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) rounds=1 seconds=3 ;;
    --build) build=$(realpath "$2"); shift ;;
    --markdown) markdown=$(realpath -m "$2"); shift ;;
    --rounds) rounds=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --only) only=$2; shift ;;
    --no-install) install=0 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

readonly ctxd_port=18080 null_port=18081 etcd_port=23790 etcd_peer_port=23800 redis_port=16390
readonly host=127.0.0.1

[[ $install -eq 1 ]] && "$here/install.sh"

# A CMake build dir is brought up to date; a plain dir with bin/ is used as it is.
bin="$build/bin"
targets=(ctxd ws_load watch_load null_server)
missing=()
for target in "${targets[@]}"; do [[ -x $bin/$target ]] || missing+=("$target"); done
if [[ -f $build/build.ninja || ${#missing[@]} -gt 0 ]]; then
  [[ -f $build/build.ninja ]] || cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  ninja -C "$build" -j2 "${targets[@]}" >&2
fi

for port in $ctxd_port $null_port $etcd_port $etcd_peer_port $redis_port; do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "port $port on $host is in use: stop what runs there first" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ctxd-compare.XXXXXX")
results="$work/results.jsonl"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $keep -eq 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Waits until `port` accepts connections (at most 30 s).
wait_port() {
  local port=$1 name=$2
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$name did not start; its log:" >&2
  tail -20 "$work/$name.log" >&2
  exit 1
}

mkdir -p "$work/redis"
"$bin/ctxd" --data "$work/ctxd" --listen "$host:$ctxd_port" --log-level warn >"$work/ctxd.log" 2>&1 &
pids+=($!)
"$bin/null_server" --listen "$host:$null_port" --threads 2 >"$work/null.log" 2>&1 &
pids+=($!)
etcd --name compare --data-dir "$work/etcd" \
  --listen-client-urls "http://$host:$etcd_port" --advertise-client-urls "http://$host:$etcd_port" \
  --listen-peer-urls "http://$host:$etcd_peer_port" --initial-advertise-peer-urls "http://$host:$etcd_peer_port" \
  --initial-cluster "compare=http://$host:$etcd_peer_port" --logger zap --log-level warn >"$work/etcd.log" 2>&1 &
pids+=($!)
redis-server --bind "$host" --port "$redis_port" --dir "$work/redis" --appendonly yes --appendfsync always \
  --save "" --protected-mode no --logfile "$work/redis.log" &
pids+=($!)
wait_port $ctxd_port ctxd
wait_port $null_port null
wait_port $etcd_port etcd
wait_port $redis_port redis
ETCDCTL_API=3 etcdctl --endpoints "$host:$etcd_port" endpoint health >/dev/null
[[ $(redis-cli -p $redis_port config get appendfsync | tail -1) == always ]]

record() {  # record FORMAT SYSTEM WORKLOAD CONC ROUND  < tool output
  python3 "$here/results.py" record "$1" --out "$results" --system "$2" --workload "$3" --conc "$4" --round "$5"
}

# Bounded runs: every tool gets a hard time limit on top of its own.
limit=$(python3 -c "print(int($seconds * 4 + 60))")
run() { timeout --kill-after 5 "$limit" "$@" 2>&1 || true; }

wrk_run() {  # wrk_run PORT KIND CONC
  local threads=$(($3 < 2 ? 1 : 2))
  run wrk -t "$threads" -c "$3" -d "${seconds}s" --timeout 10s -s "$here/requests.lua" "http://$host:$1" -- "$2"
}

# redis-benchmark counts requests, not seconds: a short probe at the same
# concurrency sizes each run so it lasts about `seconds`.
value100=$(printf 'v%.0s' $(seq 100))
redis_run() {  # redis_run CONC ARGS...
  local conc=$1 probe rate
  shift
  probe=$(run redis-benchmark -h "$host" -p "$redis_port" -c "$conc" -n $((conc * 50 + 200)) --csv "$@")
  rate=$(awk -F'"' '/^"[A-Z]/ { rate = $4 } END { print rate + 0 }' <<<"$probe")
  # -n before the arguments: after a command (XADD ...) everything is part of it.
  run redis-benchmark -h "$host" -p "$redis_port" -c "$conc" --csv \
    -n "$(python3 -c "print(max(1000, int($seconds * max($rate, 100))))")" "$@"
}

# The systems of a workload, rotated by the round so each runs first in turn.
rotated() {  # rotated ROUND ITEMS...
  local round=$1
  shift
  local items=("$@") count=$# i
  for ((i = 0; i < count; i++)); do echo "${items[$(((i + round) % count))]}"; done
}

wants() { [[ ,$only, == *,$1,* ]]; }

write_one() {  # write_one SYSTEM CONC ROUND
  local conc=$2 round=$3
  case $1 in
    ctxd) wrk_run $ctxd_port ctxd-put "$conc" | record wrk "ctxd PUT" write "$conc" "$round" ;;
    etcd) wrk_run $etcd_port etcd-put "$conc" | record wrk "etcd put" write "$conc" "$round" ;;
    null) wrk_run $null_port ctxd-put "$conc" | record wrk "null HTTP server" write "$conc" "$round" ;;
    redis-set) redis_run "$conc" -r 1000 -d 100 -t set | record redis "redis SET" write "$conc" "$round" ;;
    redis-xadd)
      redis_run "$conc" XADD bench '*' v "$value100" | record redis "redis XADD" write "$conc" "$round" ;;
    raw)
      [[ $conc -eq 1 ]] || return 0
      python3 "$here/results.py" raw-fsync --dir "$work" --seconds "$seconds" |
        record raw "raw write+fdatasync" write 1 "$round"
      ;;
  esac
}

echo "ctxd compare: $rounds round(s) of ${seconds}s, data in $work; load: $(uptime)"
start_load=$(uptime)

if wants write; then
  echo "== durable single-key writes"
  for round in $(seq "$rounds"); do
    for conc in 1 16 64 256; do
      for system in $(rotated "$round" ctxd etcd redis-set redis-xadd null raw); do
        write_one "$system" "$conc" "$round"
      done
    done
  done
fi

if wants pipelined; then
  echo "== pipelined durable sets, 16 in flight per connection"
  for round in $(seq "$rounds"); do
    for conc in 1 16; do
      for system in $(rotated "$round" ctxd redis); do
        if [[ $system == ctxd ]]; then
          # --lockstep: the next 16 only once all 16 are answered, as redis-benchmark -P does.
          run "$bin/ws_load" --target "$host:$ctxd_port" --mode sets --connections "$conc" --window 16 \
            --lockstep --seconds "$seconds" | record ws "ctxd WebSocket set" pipelined "$conc" "$round"
        else
          redis_run "$conc" -P 16 -r 1000 -d 100 -t set |
            record redis "redis SET -P 16" pipelined "$conc" "$round"
        fi
      done
    done
  done
fi

if wants read; then
  echo "== reads of existing keys, 64 connections"
  # The keys every system reads: w0..w999 (ctxd), key:0..999 (Redis), a2V5NNNN (etcd).
  if ! wants write; then
    saved=("$seconds" "$results")
    seconds=2 results=/dev/null
    for system in ctxd etcd redis-set; do write_one "$system" 64 0 >/dev/null; done
    seconds=${saved[0]} results=${saved[1]}
  fi
  for round in $(seq "$rounds"); do
    for system in $(rotated "$round" ctxd etcd redis null); do
      case $system in
        ctxd) wrk_run $ctxd_port ctxd-get 64 | record wrk "ctxd GET" read 64 "$round" ;;
        etcd) wrk_run $etcd_port etcd-range 64 | record wrk "etcd range (serializable)" read 64 "$round" ;;
        redis) redis_run 64 -r 1000 -t get | record redis "redis GET" read 64 "$round" ;;
        null) wrk_run $null_port ctxd-get 64 | record wrk "null HTTP server" read 64 "$round" ;;
      esac
    done
  done
fi

watch_load() { run "$bin/watch_load" "$@"; }

if wants history; then
  echo "== history of one key with 1,000 versions"
  run "$bin/watch_load" --system ctxd --target "$host:$ctxd_port" --mode fill --count 1000
  run "$bin/watch_load" --system etcd --target "$host:$etcd_port" --mode fill --count 1000
  for round in $(seq "$rounds"); do
    for system in $(rotated "$round" ctxd etcd-watch etcd-range); do
      case $system in
        ctxd) watch_load --system ctxd --target "$host:$ctxd_port" --mode history --seconds "$seconds" |
          record watch "ctxd history" history 1 "$round" ;;
        etcd-watch) watch_load --system etcd --target "$host:$etcd_port" --mode history --via watch \
          --seconds "$seconds" | record watch "etcd watch from create rev" history 1 "$round" ;;
        etcd-range) watch_load --system etcd --target "$host:$etcd_port" --mode history --via range \
          --seconds "$seconds" | record watch "etcd range per revision" history 1 "$round" ;;
      esac
    done
  done
fi

if wants fanout; then
  # Latency: etcd from the put's acknowledgement to delivery (watch_load);
  # ctxd from the event's commit time, taken before its fsync, to delivery
  # (ws_load, whose cheaper client keeps up with 1,000 subscribers): an upper
  # bound of ctxd's acknowledgement -> delivery time.
  echo "== live fanout, $fanout_rate writes/s"
  for round in $(seq "$rounds"); do
    for watchers in 100 1000; do
      # Up to 60 s to connect the watchers, the writes, up to 10 s to drain.
      limit=$(python3 -c "print(int($seconds * 4 + 120))")
      for system in $(rotated "$round" ctxd etcd); do
        if [[ $system == ctxd ]]; then
          run "$bin/ws_load" --target "$host:$ctxd_port" --mode fanout --subscribers "$watchers" \
            --rate "$fanout_rate" --seconds "$seconds" --threads 2 |
            record ws-fanout "ctxd WebSocket" fanout "$watchers" "$round"
        else
          watch_load --system etcd --target "$host:$etcd_port" --mode fanout --subscribers "$watchers" \
            --rate "$fanout_rate" --seconds "$seconds" --drain 10 | record watch "etcd watch" fanout "$watchers" "$round"
        fi
      done
    done
  done
fi

end_load=$(uptime)
echo
preamble="$work/preamble.md"
{
  echo "Load before: \`${start_load# }\`; after: \`${end_load# }\`. $rounds round(s) of ${seconds} s, medians."
  echo "Versions: ctxd from the tree at $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'),"\
    "$(etcd --version | head -1), $(redis-server --version | cut -d' ' -f1-3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
} >"$preamble"
cat "$preamble"
python3 "$here/results.py" report "$results" ${markdown:+--markdown "$markdown" --preamble "$preamble"}
[[ -n $markdown ]] && echo "markdown table: $markdown"
exit 0
