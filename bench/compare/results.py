#!/usr/bin/env python3
"""Results of bench/compare/run.sh.

  results.py record FORMAT --out FILE --system S --workload W --conc C --round R < tool output
      parses one tool's output (wrk, redis, watch, ws, ws-fanout, raw) into a JSON line of FILE.
  results.py raw-fsync --dir DIR --seconds S
      100-byte write + fdatasync in a loop on DIR's file system: the device's
      sync rate, p50 and p99; prints the JSON line `record raw` takes.
  results.py report FILE [--markdown OUT]
      one table, system x workload x concurrency -> ops/s, p50, p99 and the
      ratio ctxd/peer (medians over the rounds), then each goal of issue 6.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys
import time

# Display order of the workloads and, inside each, of the systems.
WORKLOADS = ["write", "pipelined", "read", "history", "fanout"]
WORKLOAD_TITLES = {
    "write": "durable single-key writes, 100-byte values",
    "pipelined": "durable sets, 16 in flight per connection",
    "read": "reads of existing keys",
    "history": "history of one key, 1,000 versions (op = whole history)",
    "fanout": "live fanout, 100 writes/s (conc = watchers; ops = deliveries/s)",
}
CTXD = {
    "write": "ctxd PUT",
    "pipelined": "ctxd WebSocket set",
    "read": "ctxd GET",
    "history": "ctxd history",
    "fanout": "ctxd WebSocket",
}


def parse_output(kind, text):
    """The tool output `text` as {ops, p50_ms, p99_ms, errors, ...}."""
    if kind in ("wrk", "watch", "raw"):
        lines = [line for line in text.splitlines() if line.startswith("{")]
        if not lines:
            raise ValueError("no JSON result line in the output")
        return json.loads(lines[-1])
    if kind == "redis":
        rows = list(csv.reader(line for line in text.splitlines() if line.startswith('"')))
        if len(rows) < 2:
            raise ValueError("no CSV result in redis-benchmark's output")
        header, last = rows[0], rows[-1]
        row = dict(zip(header, last))
        return {
            "ops": float(row["rps"]),
            "p50_ms": float(row["p50_latency_ms"]),
            "p99_ms": float(row["p99_latency_ms"]),
            "errors": 0,
        }
    if kind == "ws":
        match = re.search(
            r"([\d.]+) acked sets/s\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms\s+\((\d+) acked, (\d+) errors, (\d+) failed",
            text,
        )
        if not match:
            raise ValueError("no result line in ws_load's output")
        return {
            "ops": float(match.group(1)),
            "p50_ms": float(match.group(2)),
            "p99_ms": float(match.group(3)),
            "errors": int(match.group(5)) + int(match.group(6)),
        }
    if kind == "ws-fanout":
        match = re.search(
            r"delivered (\d+) events in [\d.]+ s = ([\d.]+) events/s; latency commit->delivery"
            r" p50 ([\d.]+) ms, p99 ([\d.]+) ms", text)
        missing = re.search(r"subscribers missing events (\d+)", text)
        if not match or not missing:
            raise ValueError("no fanout result in ws_load's output")
        return {
            "ops": float(match.group(2)),
            "p50_ms": float(match.group(3)),
            "p99_ms": float(match.group(4)),
            "errors": int(missing.group(1)),
        }
    raise ValueError("unknown format " + kind)


def record(args):
    text = sys.stdin.read()
    try:
        result = parse_output(args.format, text)
    except (ValueError, KeyError, json.JSONDecodeError) as error:
        sys.stderr.write(f"compare: {args.system} {args.workload} {args.conc}: {error}\n{text[-2000:]}\n")
        result = {"ops": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "errors": 1, "failed": True}
    result.update(system=args.system, workload=args.workload, conc=args.conc, round=args.round)
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    print(
        f"  {args.workload:9} {args.system:24} {args.conc:>5}  {result['ops']:10.1f} ops/s"
        f"  p50 {result['p50_ms']:8.3f} ms  p99 {result['p99_ms']:8.3f} ms  errors {result['errors']}",
        flush=True,
    )


def raw_fsync(args):
    path = os.path.join(args.dir, "raw-fsync.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    record_bytes = b"r" * 100
    latencies = []
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < args.seconds:
            before = time.perf_counter()
            os.write(fd, record_bytes)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - before)
    finally:
        os.close(fd)
        os.unlink(path)
    elapsed = time.perf_counter() - start
    latencies.sort()
    print(json.dumps({
        "ops": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": 0,
    }))


def load(path):
    """{(workload, conc): {system: {ops, p50_ms, p99_ms, errors, rounds}}}, medians over rounds."""
    runs = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                run = json.loads(line)
                runs.setdefault((run["workload"], int(run["conc"]), run["system"]), []).append(run)
    cells = {}
    for (workload, conc, system), runs_of_cell in runs.items():
        group = [run for run in runs_of_cell if not run.get("failed")] or runs_of_cell
        cells.setdefault((workload, conc), {})[system] = {
            "ops": statistics.median(run["ops"] for run in group),
            "p50_ms": statistics.median(run["p50_ms"] for run in group),
            "p99_ms": statistics.median(run["p99_ms"] for run in group),
            "errors": sum(run["errors"] for run in runs_of_cell),
            "rounds": len(group),
        }
    return cells


def ordered_cells(cells):
    def key(item):
        (workload, conc), _ = item
        return (WORKLOADS.index(workload) if workload in WORKLOADS else 99, conc)

    return sorted(cells.items(), key=key)


def table_rows(cells):
    rows = []
    for (workload, conc), systems in ordered_cells(cells):
        ctxd_name = CTXD.get(workload)
        ctxd = systems.get(ctxd_name)
        names = ([ctxd_name] if ctxd else []) + sorted(name for name in systems if name != ctxd_name)
        for name in names:
            cell = systems[name]
            failed = cell["ops"] <= 0
            ratio = ""
            if ctxd and name != ctxd_name and ctxd["ops"] > 0 and not failed:
                if workload == "fanout":
                    if ctxd["p99_ms"] > 0:
                        ratio = f"p99 peer/ctxd {cell['p99_ms'] / ctxd['p99_ms']:.2f}"
                elif cell["ops"] > 0:
                    ratio = f"{ctxd['ops'] / cell['ops']:.2f}"
            rows.append([
                WORKLOAD_TITLES.get(workload, workload) if name == names[0] else "",
                str(conc),
                name,
                "failed" if failed else f"{cell['ops']:,.0f}",
                "" if failed else f"{cell['p50_ms']:.2f}",
                "" if failed else f"{cell['p99_ms']:.2f}",
                ratio,
                str(cell["errors"]) if cell["errors"] else "",
            ])
    return rows


def ops(cells, workload, conc, system):
    """The cell, or None when it was not measured or every round failed."""
    cell = cells.get((workload, conc), {}).get(system)
    return cell if cell and cell["ops"] > 0 else None


def goals(cells):
    """(goal, verdict, detail) for each goal of issue 6 the run measured."""
    out = []

    def check(goal, ok, detail):
        out.append((goal, "met" if ok else "NOT met", detail))

    raw = ops(cells, "write", 1, "raw write+fdatasync")
    ctxd1 = ops(cells, "write", 1, CTXD["write"])
    if raw and ctxd1:
        check("writes at 1 connection >= 90% of raw fdatasync", ctxd1["ops"] >= 0.9 * raw["ops"],
              f"{ctxd1['ops']:,.0f} vs {raw['ops']:,.0f}/s = {ctxd1['ops'] / raw['ops']:.0%}")
    for conc in (16, 64, 256):
        ctxd = ops(cells, "write", conc, CTXD["write"])
        if not ctxd:
            continue
        peers = {name: cell for name, cell in cells[("write", conc)].items()
                 if name.startswith(("redis", "etcd")) and cell["ops"] > 0}
        if peers:
            best_name, best = max(peers.items(), key=lambda item: item[1]["ops"])
            check(f"writes at {conc}: ahead of every peer", ctxd["ops"] > best["ops"],
                  f"{ctxd['ops']:,.0f} vs {best_name} {best['ops']:,.0f}/s")
        etcd = peers.get("etcd put")
        if etcd and etcd["ops"] > 0:
            check(f"writes at {conc}: >= 5x etcd", ctxd["ops"] >= 5 * etcd["ops"],
                  f"{ctxd['ops'] / etcd['ops']:.1f}x")
        ceiling = ops(cells, "write", conc, "null HTTP server")
        if conc >= 64 and ceiling and ceiling["ops"] > 0:
            check(f"writes at {conc}: >= 85% of the HTTP ceiling", ctxd["ops"] >= 0.85 * ceiling["ops"],
                  f"{ctxd['ops']:,.0f} vs {ceiling['ops']:,.0f}/s = {ctxd['ops'] / ceiling['ops']:.0%}")
    for (workload, conc), _ in ordered_cells(cells):
        ctxd = ops(cells, workload, conc, CTXD.get(workload))
        if not ctxd:
            continue
        redis = ops(cells, workload, conc, "redis SET -P 16")
        if workload == "pipelined" and redis:
            check(f"pipelined sets at {conc} connections: ahead of redis -P 16", ctxd["ops"] > redis["ops"],
                  f"{ctxd['ops']:,.0f} vs {redis['ops']:,.0f}/s")
        redis = ops(cells, workload, conc, "redis GET")
        if workload == "read" and redis:
            check(f"reads at {conc}: >= Redis GET", ctxd["ops"] >= redis["ops"],
                  f"{ctxd['ops']:,.0f} vs {redis['ops']:,.0f}/s")
        etcd = ops(cells, workload, conc, "etcd watch")
        if workload == "fanout" and etcd:
            check(f"fanout p99 at {conc} watchers: below etcd watch", ctxd["p99_ms"] < etcd["p99_ms"],
                  f"{ctxd['p99_ms']:.2f} vs {etcd['p99_ms']:.2f} ms")
    return out


HEADER = ["workload", "conc", "system", "ops/s", "p50 ms", "p99 ms", "ctxd/peer", "errors"]


def markdown(cells):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(cells)]
    lines += ["", "| goal (issue 6) | verdict | figures |", "|---|---|---|"]
    lines += [f"| {goal} | {verdict} | {detail} |" for goal, verdict, detail in goals(cells)]
    return "\n".join(lines) + "\n"


def text(cells):
    rows = [HEADER] + table_rows(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    right = {1, 3, 4, 5}
    lines = []
    for row in rows:
        lines.append("  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
    lines.append("")
    lines += [f"{verdict:8} {goal}: {detail}" for goal, verdict, detail in goals(cells)]
    return "\n".join(lines) + "\n"


def report(args):
    cells = load(args.results)
    sys.stdout.write(text(cells))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            if args.preamble:
                with open(args.preamble, encoding="utf-8") as preamble:
                    out.write(preamble.read() + "\n")
            out.write(markdown(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("format", choices=["wrk", "redis", "watch", "ws", "ws-fanout", "raw"])
    rec.add_argument("--out", required=True)
    rec.add_argument("--system", required=True)
    rec.add_argument("--workload", required=True)
    rec.add_argument("--conc", type=int, required=True)
    rec.add_argument("--round", type=int, default=1)
    rec.set_defaults(run=record)
    raw = commands.add_parser("raw-fsync")
    raw.add_argument("--dir", required=True)
    raw.add_argument("--seconds", type=float, default=3)
    raw.set_defaults(run=raw_fsync)
    rep = commands.add_parser("report")
    rep.add_argument("results")
    rep.add_argument("--markdown")
    rep.add_argument("--preamble", help="text written before the markdown table")
    rep.set_defaults(run=report)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
