#!/usr/bin/env python3
"""Login timing (PROTOCOL.md §2): an unknown email and a wrong password must answer the same 401
after the same work, so that response times do not tell which emails are registered.

Against a fresh server at its DEFAULT Argon2id cost, one request at a time (no queueing), it
interleaves N logins with an unknown email and N with a registered email and a wrong password,
and reports the median and p90 of each and their difference.

    /usr/bin/python3 bench/rest/login_timing.py [--target ours|baseline] [-n 60]
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from common import HttpConn, Server, percentile, save, seed_users  # noqa: E402


async def measure(server, n, email):
    conn = await HttpConn.open(server.port)
    samples = {"unknown_email": [], "wrong_password": []}
    bodies = {"unknown_email": {"email": "nobody-here@example.com", "password": "password123"},
              "wrong_password": {"email": email, "password": "not-the-password"}}
    statuses = set()
    for i in range(2 * n + 4):
        kind = "unknown_email" if i % 2 == 0 else "wrong_password"
        start = time.perf_counter()
        status, _ = await conn.request("POST", "/login", body=bodies[kind])
        elapsed = (time.perf_counter() - start) * 1000
        statuses.add(status)
        if i >= 4:  # the first two of each are warm-up
            samples[kind].append(elapsed)
    await conn.close()
    return samples, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="ours", choices=["ours", "baseline"])
    parser.add_argument("-n", type=int, default=60, help="logins of each kind")
    args = parser.parse_args()
    with Server(args.target) as server:
        seed_users(server, 1, prefix="timing")  # at the server's default hashing cost
        samples, statuses = asyncio.run(measure(server, args.n, "timing0@bench.example.com"))
    result = {"n": args.n, "statuses": sorted(statuses)}
    for kind, values in samples.items():
        result[f"{kind}_p50_ms"] = round(percentile(values, 50), 2)
        result[f"{kind}_p90_ms"] = round(percentile(values, 90), 2)
    result["p50_difference_ms"] = round(result["unknown_email_p50_ms"] - result["wrong_password_p50_ms"], 2)
    save("rest-login-timing", args.target, result)


if __name__ == "__main__":
    main()
