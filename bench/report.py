"""Writes the benchmark report: results.json and results.md in the run's folder.

Reads the run's description (machine, data, durations, memory) as JSON on
standard input and the measurements from results.jsonl in the folder given as
the only argument; computes the ratios the targets are stated in.

    python3 bench/report.py bench/results/<time> < description.json
"""

import json
import statistics
import sys
from pathlib import Path

# The logins a second bench/run paces alongside the home page.
LOGIN_RATE = 50

WORKLOADS = {
    ("uncached", "home"): "home page, gateway, cache off",
    ("uncached", "home_with_logins"): f"home page, cache off, {LOGIN_RATE} logins/s alongside",
    ("cached", "home"): "home page, gateway, cache in Redis",
    ("postgraphile", "postgraphile_home"): "home page, PostGraphile v5",
    ("pgbench", "home"): "home page SQL, pgbench (database floor)",
    ("http_floor", "home"): "home page bytes, plain axum (HTTP floor)",
    ("cached", "home_viewer"): "home page with a viewer token",
    ("cached", "article"): "article page",
    ("cached", "profile"): "profile page",
    ("cached", "write_mix"): "write mix: favorite, comment, unfavorite",
    ("cached", "login"): "login",
}


# Ratios measured again in rounds that alternate their two sides (bench/run's
# paired rounds): key, label, target.
PAIRED_RATIOS = [
    ("uncached_vs_pgbench_rps", "gateway (cache off) / pgbench, req/s", "≥ 0.6"),
    ("cached_vs_http_floor_rps", "gateway (cache in Redis) / HTTP floor, req/s", "≥ 0.5"),
    ("uncached_vs_postgraphile_rps", "gateway (cache off) / PostGraphile, req/s", "≥ 3"),
]
# Each paired ratio's rounds (a line's "pair"; the rounds with the other
# servers have none), numerator and denominator as (target, workload).
PAIRED_SIDES = {
    "uncached_vs_pgbench_rps": ("pgbench", ("uncached", "home"), ("pgbench", "home")),
    "cached_vs_http_floor_rps": ("", ("cached", "home"), ("http_floor", "home")),
    "uncached_vs_postgraphile_rps": ("", ("uncached", "home"), ("postgraphile", "postgraphile_home")),
}


def paired_ratios(path: Path) -> dict:
    """Per connection count, each paired ratio's value in every round."""
    if not path.exists():
        return {}
    rps = {}
    for line in path.read_text().splitlines():
        if line:
            r = json.loads(line)
            key = (r.get("pair", ""), r["target"], r["workload"], r["connections"], r["round"])
            rps[key] = r["result"]["rps"]
    paired = {}
    for c, round_ in sorted({(c, round_) for (_, _, _, c, round_) in rps}):
        for key, (pair, top, bottom) in PAIRED_SIDES.items():
            a, b = rps.get((pair, *top, c, round_)), rps.get((pair, *bottom, c, round_))
            values = paired.setdefault(c, {}).setdefault(key, {})
            if a is not None and b:
                values[round_] = a / b
    return {c: {key: list(by_round.values()) for key, by_round in keys.items()} for c, keys in paired.items()}


def main() -> None:
    folder = Path(sys.argv[1])
    description = json.load(sys.stdin)
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line]
    by_key = {(r["target"], r["workload"], r["connections"]): r["result"] for r in rows}
    connections = sorted({r["connections"] for r in rows})

    ratios = {}
    for c in connections:
        def get(target, workload):
            return by_key.get((target, workload, c))
        uncached, cached = get("uncached", "home"), get("cached", "home")
        peer, sql, http = get("postgraphile", "postgraphile_home"), get("pgbench", "home"), get("http_floor", "home")
        ratios[c] = {
            "uncached_vs_postgraphile_rps": uncached["rps"] / peer["rps"] if uncached and peer else None,
            "uncached_vs_postgraphile_p99": uncached["p99_ms"] / peer["p99_ms"] if uncached and peer else None,
            "uncached_vs_pgbench_rps": uncached["rps"] / sql["rps"] if uncached and sql else None,
            "cached_vs_http_floor_rps": cached["rps"] / http["rps"] if cached and http else None,
            "with_logins_vs_alone_p99": (get("uncached", "home_with_logins")["p99_ms"] / uncached["p99_ms"]
                                         if uncached and get("uncached", "home_with_logins") else None),
        }

    paired = paired_ratios(folder / "paired.jsonl")
    report = {"description": description, "results": rows, "ratios": ratios, "paired_ratios": paired}
    (folder / "results.json").write_text(json.dumps(report, indent=2) + "\n")

    data = description["data"]
    lines = [
        f"# Benchmark run {folder.name}",
        "",
        f"Machine: {description['machine']}. Server, database, Redis and load generator share it.",
        f"Data: {data['users']:,} users, {data['articles']:,} articles, {data['comments']:,} comments, "
        f"{data['tags']} tags, {data['favorites']:,} favorites, {data['follows']:,} follows (PostgreSQL; "
        f"every client connects with sslmode={description.get('pg_sslmode', 'prefer')}).",
        f"Load: wrk, 2 threads, warm-up {description['warmup']}, then {description['duration']} per row. "
        f"The home page runs {description['home_statements']} SQL statements uncached.",
        f"Gateway RSS: {description['idle_rss_kib'] / 1024:.0f} MB idle after start-up, "
        f"{description.get('idle_after_rss_kib', 0) / 1024:.0f} MB idle after the run, "
        f"{description['peak_rss_kib'] / 1024:.0f} MB peak under load (cache in Redis), "
        f"{description['uncached_peak_rss_kib'] / 1024:.0f} MB peak (cache off).",
        "",
        "| workload | connections | req/s | p50 ms | p99 ms | SQL/request | RSS MB after | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (target, workload), label in WORKLOADS.items():
        for c in connections:
            r = by_key.get((target, workload, c))
            if r is None:
                continue
            statements = r.get("statements_per_request")
            if statements is None and target == "pgbench":
                statements = description["home_statements"]
            if statements is None and target == "postgraphile":
                statements = 1  # PostGraphile plans the whole query into one statement
            if workload == "home_with_logins" and by_key.get(("uncached", "paced_logins", c)):
                paced = by_key[("uncached", "paced_logins", c)]
                label_here = f"{label} (logins: {paced['rate']}/s, p99 {paced['p99_ms']:.0f} ms, {paced['failed']} failed)"
            else:
                label_here = label
            rss = r.get("rss_kib")
            lines.append(
                f"| {label_here} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{'' if statements is None else f'{statements:.2f}'} | "
                f"{'' if rss is None else f'{rss / 1024:.0f}'} | {r.get('failed', 0)} |"
            )
    lines += ["", "| ratio | target | " + " | ".join(f"c={c}" for c in connections) + " |",
              "|---|---|" + "---|" * len(connections)]
    def shown(key, c):
        value = ratios[c][key]
        if value is None:
            return "–"
        paced = by_key.get(("uncached", "paced_logins", c))
        # A machine that cannot hash LOGIN_RATE passwords a second measured
        # the home page beside fewer logins: the ratio says at how many.
        if key == "with_logins_vs_alone_p99" and paced and paced["rate"] < 0.9 * LOGIN_RATE:
            return f"{value:.2f} (at {paced['rate']} logins/s)"
        return f"{value:.2f}"

    for key, label, target in [
        ("uncached_vs_postgraphile_rps", "gateway (cache off) / PostGraphile, req/s", "≥ 3"),
        ("uncached_vs_postgraphile_p99", "gateway (cache off) / PostGraphile, p99", "≤ 0.5"),
        ("uncached_vs_pgbench_rps", "gateway (cache off) / pgbench, req/s", "≥ 0.6"),
        ("cached_vs_http_floor_rps", "gateway (cache in Redis) / HTTP floor, req/s", "≥ 0.5"),
        ("with_logins_vs_alone_p99", f"home page p99 with {LOGIN_RATE} logins/s / without", "< 3"),
    ]:
        lines.append(f"| {label} | {target} | " + " | ".join(shown(key, c) for c in connections) + " |")
    if paired:
        rounds = max(len(values) for by_c in paired.values() for values in by_c.values())
        lines += ["", f"Paired rounds: each side {description.get('paired_duration', '')} in turn, {rounds} rounds; "
                  "the median of the rounds' ratios (lowest–highest).", "",
                  "| ratio, paired | target | " + " | ".join(f"c={c}" for c in sorted(paired)) + " |",
                  "|---|---|" + "---|" * len(paired)]
        for key, label, target in PAIRED_RATIOS:
            cells = []
            for c in sorted(paired):
                values = paired[c].get(key, [])
                cells.append("–" if not values else
                             f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})")
            lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    lines += ["", "| memory | target | measured |", "|---|---|---|",
              f"| peak RSS under load (cache in Redis) | ≤ 150 MB | {description['peak_rss_kib'] / 1024:.0f} MB |",
              f"| RSS idle after start-up | ≤ 40 MB | {description['idle_rss_kib'] / 1024:.0f} MB |",
              f"| RSS idle after the run | ≤ 40 MB | {description.get('idle_after_rss_kib', 0) / 1024:.0f} MB |"]
    (folder / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
