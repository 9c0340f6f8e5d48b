#!/usr/bin/env python3
"""How long the server holds a request for the worst input its limits let in.

    python3 bench/adversarial.py BINARY [REPEATS]

Starts BINARY (`conduit serve`) on a fresh SQLite database in a temporary
directory, with rate limits off, and sends each adversarial request REPEATS
times (default 5) one at a time, printing the median and the slowest time
and what the server answered. The requests are the shapes an attacker would
send: documents at the token limit built to make parsing, measuring and
validation work hardest, deep nesting at the limit, long lists and strings,
and NUL bytes. (Tokens carrying appended Datalog at the bounds are measured
by the unit tests of `auth::appended_blocks`.) Every step a
request takes before it awaits anything runs on one of these inputs, so the
slowest figure is how long one request can hold a worker.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        answer = error.read()
    return time.perf_counter() - started, answer


def summary(answer):
    try:
        parsed = json.loads(answer)
    except ValueError:
        return answer[:60].decode(errors="replace")
    errors = parsed.get("errors") or []
    if not errors:
        return "ok"
    extensions = errors[0].get("extensions", {})
    return " ".join(str(x) for x in [extensions.get("code"), extensions.get("limit", "")] if x)


def requests():
    """(name, body, needs a token) for each adversarial shape."""
    doc = lambda query, variables=None: json.dumps({"query": query, "variables": variables or {}}).encode()
    fields = 7000
    yield "7,000 copies of one field (field merging)", doc("{ viewer { " + "id " * fields + "} }"), True
    yield "1,500 fields with differing arguments (conflicts)", doc(
        "{ articles(first: 1) { nodes { " + " ".join(f"comments(first: {i % 5 + 1}) {{ totalCount }}" for i in range(1500)) + " } } }"
    ), False
    yield "4,000 spreads of one fragment", doc(
        "{ viewer { ...A } } fragment A on User { " + "...B " * 4000 + "} fragment B on User { id username }"
    ), True
    yield "1,500 nested fragment definitions", doc(
        "{ viewer { ...F0 } } " + " ".join(f"fragment F{i} on User {{ id ...F{i + 1} }}" for i in range(1500)) + " fragment F1500 on User { id }"
    ), True
    yield "3,000 declared variables", doc(
        "query(" + " ".join(f"$v{i}: Int" for i in range(3000)) + ") { tags { name } }"
    ), False
    yield "nesting at the limit (64)", doc(
        "{ article(slug: " + "[{ a: " * 31 + "1" + " }]" * 31 + ") { id } }"
    ), False
    yield "nesting far past the limit (7,000)", doc(
        "{ article(slug: " + "[" * 7000 + "1" + "]" * 7000 + ") { id } }"
    ), False
    yield "100,000 tags in a variable", doc(
        "mutation($t: [String!]!) { createArticle(input: { title: \"t\", description: \"d\", body: \"b\", tags: $t }) { article { slug } } }",
        {"t": [str(i) for i in range(100_000)]},
    ), True
    yield "a 1.9 MB string in a syntax error", doc("{ article(slug: \"" + "x" * 1_900_000 + "\") "), False
    yield "a NUL byte in a lookup", doc("{ article(slug: \"a\\u0000b\") { id } }"), False
    yield "JSON nested 100,000 deep", b'{"query":"{ tags { name } }","variables":{"v":' + b"[" * 100_000 + b"]" * 100_000 + b"}}", False


def main():
    binary = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp()
    port = free_port()
    env = dict(os.environ, DATA_DIR=work, BIND=f"127.0.0.1:{port}", RATE_LIMIT_ENABLED="false",
               LOG_FORMAT="json", RUST_LOG="warn")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        _, answer = post(url, json.dumps({"query": "mutation { register(input: { username: \"bench\", email: \"bench@example.org\", password: \"long enough password\" }) { token } }"}).encode())
        token = json.loads(answer)["data"]["register"]["token"]
        rows = []
        for name, body, signed in requests():
            times = []
            for _ in range(repeats):
                elapsed, answer = post(url, body, token if signed else None)
                times.append(elapsed * 1000)
            rows.append((name, statistics.median(times), max(times), len(body), summary(answer)))
        print(f"| request | body | median ms | slowest ms | answer |")
        print("|---|---|---|---|---|")
        for name, median, slowest, size, answer in rows:
            print(f"| {name} | {size:,} B | {median:.1f} | {slowest:.1f} | {answer} |")
        assert server.poll() is None, "the server died"
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
