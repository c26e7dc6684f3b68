"""Latency of GET /configdb/sites/ on the demo network, SQLite and PostgreSQL measured side by side in one run.

Starts one real ``obsnet serve --demo`` per backend (PostgreSQL only when OBSNET_TEST_DATABASE_URL is set),
interleaves the requests so that machine noise hits both alike, and prints median and p95 per backend and
their ratio.

    python benchmarks/configdb_sites_latency.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.e2e.support import running_server


def fetch_ms(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()
    return (time.perf_counter() - started) * 1000


def postgres_schema_url(base_url: str) -> tuple[str, object]:
    import sqlalchemy

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"

    def drop() -> None:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))

    return f"{base_url}{separator}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as workdir:
        servers = {"sqlite": stack.enter_context(running_server("--demo", cwd=Path(workdir)))}
        if os.environ.get("OBSNET_TEST_DATABASE_URL"):
            url, drop = postgres_schema_url(os.environ["OBSNET_TEST_DATABASE_URL"])
            stack.callback(drop)
            servers["postgresql"] = stack.enter_context(
                running_server("--demo", "--database-url", url, cwd=Path(workdir))
            )
        else:
            print("OBSNET_TEST_DATABASE_URL unset: measuring SQLite only")
        timings: dict[str, list[float]] = {name: [] for name in servers}
        for base in servers.values():
            for _ in range(10):  # warm-up: connection pools, snapshot caches
                fetch_ms(f"{base}/configdb/sites/")
        for index in range(args.requests):
            if index % 50 == 0:
                print(f"  {index}/{args.requests} requests per backend", file=sys.stderr)
            for name, base in servers.items():
                timings[name].append(fetch_ms(f"{base}/configdb/sites/"))
    print(f"GET /configdb/sites/ on the demo network, {args.requests} requests per backend, interleaved")
    summary = {}
    for name, samples in timings.items():
        samples.sort()
        median, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
        summary[name] = median
        print(f"  {name:<11} median {median:7.2f} ms   p95 {p95:7.2f} ms")
    if "postgresql" in summary:
        print(f"  ratio postgresql/sqlite (median): {summary['postgresql'] / summary['sqlite']:.2f}")


if __name__ == "__main__":
    main()
