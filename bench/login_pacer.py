#!/usr/bin/env python3
"""Sends logins at a fixed rate, whatever their latency, for a fixed time.

    login_pacer.py URL BODY_FILE RATE SECONDS

Each login starts on its own schedule (one every 1/RATE seconds) on a pool of
threads, so a slow answer does not delay the next one. Prints one JSON line:
the logins sent, answered with a token, the rate achieved, and p50/p99 in ms.
"""
import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def main():
    url, body_file, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    body = open(body_file, "rb").read().strip()
    latencies, failures = [], []
    lock = threading.Lock()

    def login():
        started = time.monotonic()
        request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
            ok = bool(answer.get("data", {}).get("login", {}).get("token"))
        except Exception:  # noqa: BLE001 - any failure counts as one
            ok = False
        elapsed = (time.monotonic() - started) * 1000
        with lock:
            (latencies if ok else failures).append(elapsed)

    total = int(rate * seconds)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(login)
    elapsed = time.monotonic() - start
    latencies.sort()
    at = lambda q: latencies[min(int(len(latencies) * q), len(latencies) - 1)] if latencies else None
    print(json.dumps({"sent": total, "succeeded": len(latencies), "failed": len(failures),
                      "rate": round(len(latencies) / elapsed, 1), "p50_ms": at(0.5), "p99_ms": at(0.99)}))


if __name__ == "__main__":
    main()
