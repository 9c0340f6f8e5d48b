"""Writes the benchmark report: results.json and results.md in the run's folder.

Reads the run's description (machine, data, durations, memory) as JSON on
standard input and the measurements from results.jsonl in the folder given as
the only argument; computes the ratios the targets are stated in. The page
shapes that run on both the gateway (cache off) and PostGraphile get one table
of their own, with the targets flagged (see bench/README.md, "Reading the
results"); equivalence.txt, when the folder has it, follows it.

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


# The page shapes run on the gateway with its cache off and on PostGraphile
# (bench/workloads.py): workload, label. PostGraphile's row is
# ("postgraphile", "postgraphile_" + workload), except the home page's.
PEER_WORKLOADS = {
    "home": "home page (cards)",
    "home_signed_in": "README Home, signed in",
    "home_anonymous": "README Home, anonymous",
    "article_comments": "article, 20 comments with profiles",
    "profile_nested": "profile, 10 articles × 5 comments",
    "tag_page": "tag page, 20 cards",
    "nested_comments": "20 articles × 3 comments",
    "nested_author_articles": "50 tagged articles × author's 2",
    "profile_comments": "user's 10 articles × 5 comments",
    "tags_popular": "10 most used tags",
    "articles_total": "articles totalCount",
}
# The targets the table flags.
RPS_TARGET = 3.0  # gateway req/s at least 3 times PostGraphile's
P99_TARGET = 0.5  # gateway p99 at most half PostGraphile's
SIGNED_IN_TARGET = 0.5  # signed-in Home at least half the anonymous home page's req/s


def flag(ok: bool) -> str:
    return "✓" if ok else "✗"


def peer_comparison(by_key: dict, connections: list) -> list:
    """One row per page shape and connection count: the gateway (cache off)
    against PostGraphile, with the targets' ratios."""
    rows = []
    for workload, label in PEER_WORKLOADS.items():
        peer_workload = "postgraphile_home" if workload == "home" else f"postgraphile_{workload}"
        for c in connections:
            gateway = by_key.get(("uncached", workload, c))
            peer = by_key.get(("postgraphile", peer_workload, c))
            if gateway is None and peer is None:
                continue
            row = {"workload": workload, "label": label, "connections": c, "gateway": gateway, "postgraphile": peer,
                   "rps_ratio": None, "p99_ratio": None, "rps_target_met": None, "p99_target_met": None}
            if gateway and peer and peer["rps"]:
                row["rps_ratio"] = gateway["rps"] / peer["rps"]
                row["rps_target_met"] = row["rps_ratio"] >= RPS_TARGET
            if gateway and peer and peer["p99_ms"]:
                row["p99_ratio"] = gateway["p99_ms"] / peer["p99_ms"]
                row["p99_target_met"] = row["p99_ratio"] <= P99_TARGET
            if workload == "home_signed_in" and gateway:
                # Against the anonymous home page (the cards, cache off); and,
                # for what the viewer's fields cost alone, against the same
                # document sent without a token.
                for key, base in (("vs_home", "home"), ("vs_same_anonymous", "home_anonymous")):
                    anonymous = by_key.get(("uncached", base, c))
                    row[f"signed_in_{key}"] = gateway["rps"] / anonymous["rps"] if anonymous and anonymous["rps"] else None
                base = row["signed_in_vs_home"]
                if base is None:
                    base = row["signed_in_vs_same_anonymous"]
                row["signed_in_target_met"] = None if base is None else base >= SIGNED_IN_TARGET
            rows.append(row)
    return rows


def peer_table(rows: list) -> list:
    def num(r, key, fmt):
        return "–" if r is None or r.get(key) is None else format(r[key], fmt)

    lines = [
        "| workload | conns | gateway req/s | gateway p50 ms | gateway p99 ms | SQL/request "
        "| PostGraphile req/s | PostGraphile p99 ms | req/s ratio | p99 ratio "
        f"| req/s ≥ {RPS_TARGET:g}× | p99 ≤ {P99_TARGET:g}× | signed-in ≥ {SIGNED_IN_TARGET:.0%} of anonymous "
        "| failed gateway / PostGraphile |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        g, p = row["gateway"], row["postgraphile"]
        rps_flag = "–" if row["rps_target_met"] is None else flag(row["rps_target_met"])
        p99_flag = "–" if row["p99_target_met"] is None else flag(row["p99_target_met"])
        signed = ""
        if row["workload"] == "home_signed_in":
            parts = []
            if row.get("signed_in_vs_home") is not None:
                parts.append(f"{flag(row['signed_in_vs_home'] >= SIGNED_IN_TARGET)} {row['signed_in_vs_home']:.2f} of home")
            if row.get("signed_in_vs_same_anonymous") is not None:
                same = row["signed_in_vs_same_anonymous"]
                parts.append(f"{flag(same >= SIGNED_IN_TARGET) if not parts else ''} {same:.2f} of the same anonymous".strip())
            signed = "; ".join(parts) or "– (no anonymous row)"
        failed = f"{'–' if g is None else g.get('failed', 0) + g.get('socket_errors', 0)} / " \
                 f"{'–' if p is None else p.get('failed', 0) + p.get('socket_errors', 0)}"
        lines.append(
            f"| {row['label']} (`{row['workload']}`) | {row['connections']} | {num(g, 'rps', '.0f')} | "
            f"{num(g, 'p50_ms', '.2f')} | {num(g, 'p99_ms', '.2f')} | {num(g, 'statements_per_request', '.2f')} | "
            f"{num(p, 'rps', '.0f')} | {num(p, 'p99_ms', '.2f')} | {num(row, 'rps_ratio', '.2f')} | "
            f"{num(row, 'p99_ratio', '.3f')} | {rps_flag} | {p99_flag} | {signed} | {failed} |"
        )
    met = [r for r in rows if r["rps_target_met"] is not None]
    if met:
        lines += ["", f"Targets met: req/s ≥ {RPS_TARGET:g}× PostGraphile in "
                  f"{sum(r['rps_target_met'] for r in met)} of {len(met)} rows; p99 ≤ {P99_TARGET:g}× PostGraphile's in "
                  f"{sum(bool(r['p99_target_met']) for r in met)} of {len(met)} rows."]
    return lines


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
    comparison = peer_comparison(by_key, connections)
    report = {"description": description, "results": rows, "ratios": ratios, "paired_ratios": paired,
              "peer_comparison": comparison}
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
    ]
    if description.get("workloads"):
        lines.append(f"Workloads: {description['workloads']}.")
    peer_lines = []
    if comparison:
        peer_lines += ["", "## Gateway (cache off) against PostGraphile v5", "",
                  "Each page shape as the gateway's query and PostGraphile's equivalent (bench/workloads.py)"
                  + (f", on tag `{description['tag']}`, article `{description['article']}` and author "
                     f"`{description['author']}`" if description.get("tag") else "")
                  + f". Ratios are gateway / PostGraphile; a request slower than "
                  f"{description.get('wrk_timeout', '2s')} counts as failed.", ""]
        peer_lines += peer_table(comparison)
        equivalence = folder / "equivalence.txt"
        if equivalence.exists() and equivalence.read_text().strip():
            peer_lines += ["", "Checked once before the load (bench/equivalent.py):", ""]
            peer_lines += [f"- {line}" for line in equivalence.read_text().splitlines() if line]
    table = []
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
            table.append(
                f"| {label_here} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{'' if statements is None else f'{statements:.2f}'} | "
                f"{'' if rss is None else f'{rss / 1024:.0f}'} | {r.get('failed', 0)} |"
            )
    if table:
        lines += ["",
                  "| workload | connections | req/s | p50 ms | p99 ms | SQL/request | RSS MB after | failed |",
                  "|---|---|---|---|---|---|---|---|"] + table
    ratio_lines = ["", "| ratio | target | " + " | ".join(f"c={c}" for c in connections) + " |",
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
        ratio_lines.append(f"| {label} | {target} | " + " | ".join(shown(key, c) for c in connections) + " |")
    if any(value is not None for by_c in ratios.values() for value in by_c.values()):
        lines += ratio_lines
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
    lines += peer_lines
    (folder / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
