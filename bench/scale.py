"""Benchmark: the pages that grow with the data, at two sizes of ``iris demo --scale``.

For each database (SQLite file; PostgreSQL when --pg-url is given) and each size:

1. a fresh database gets the schema (the models' metadata, so indexes added to the models
   count, with the registry's text index), the demo data and N certificates (``flask iris
   demo --scale N``, timed; it also stores the dashboard's figures); PostgreSQL is then
   vacuumed, as autovacuum would soon (the visibility map makes index-only scans skip
   the rows);
2. gunicorn serves ``wsgi:app`` with 2 sync workers, rate limits off, the verification log
   on (batched, as in production);
3. wrk (2 threads, 16 connections) measures, interleaved ``--rounds`` times, ``--seconds``
   each: ``GET /api/v1/ping`` (constant JSON, the baseline), the public registry search
   for a common word (``/registry?q=lodz``: about 3.4 % of the entries, more than 1,000
   matches from 100,000 up), a rare name (``q=kadry pajak gdansk``: 0.07 %, under 1,000
   matches up to 1,000,000), two common words with more than 1,000 matches together
   (``q=agencja gdansk``: paged along a word's run), a registration number (one entry) and
   a status filter,
   page 3; the auditor queue (``/audit/cases`` as an audit company's planner, who sees
   every case of the company), the oversight dashboard (``/oversight/`` as the scheme
   admin: the figures stored by ``demo --scale``) and verification by number (random
   numbers from a sample of 2,000). Medians of throughput, p50 and p99, and each
   endpoint's throughput as a share of ping's in the same round.

At the end: the growth from the smaller to the larger size of each endpoint's time per
request, measured against ping (``(ping/endpoint at large) / (ping/endpoint at small)``,
target <= 1.3), and in absolute throughput (noisier on a shared machine).

``--inprocess``: instead of gunicorn and wrk, each page one request at a time through the
Flask test client in this process (``--rounds`` × 5 requests after a warm-up): the median
wall and CPU time of one request, and its growth between the sizes. On a shared machine
the CPU time is the steadier figure. ``--database URL --size N`` measures a database built
before (no build, nothing dropped).

    .venv/bin/python bench/scale.py [--sizes 10000,100000] [--rounds 3] [--seconds 5]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--skip-sqlite]
        [--inprocess] [--database URL --size N]

Needs ``wrk`` (apt-get install wrk) unless ``--inprocess``. Runs only against 127.0.0.1;
PostgreSQL databases are created as ``iris_bench_scale_<N>`` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from served import gunicorn, verify_script, wrk  # noqa: E402  (bench/ is the script directory)

PASSWORD = "demo-password-1"  # noqa: S105 (the local demo's, printed by iris demo)
PLANNER = "scale-001-planner@example.com"
ADMIN = "admin@iris-demo.org"


def login(base: str, email: str) -> str:
    """The session cookie of ``email`` (the login form, with its CSRF token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None, page[:500]
    data = urllib.parse.urlencode(
        {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    ).encode()
    opener.open(base + "/login", data=data)
    cookies = {c.name: c.value for c in jar}
    assert "session" in cookies, cookies
    check = opener.open(base + "/audit/cases" if email == PLANNER else base + "/oversight/")
    assert check.status == 200 and "/login" not in check.geturl(), check.geturl()
    return f"session={cookies['session']}"


def build(url: str, size: int, workdir: Path) -> float:
    env = {
        **os.environ,
        "IRIS_SECRET_KEY": "bench",
        "IRIS_DATABASE_URL": url,
        "IRIS_SIGNING_KEY_DIR": str(workdir / "keys"),
        "IRIS_STORAGE_DIR": str(workdir / "files"),
    }
    code = (
        "from iris import create_app; from iris.core.db import db\n"
        "app = create_app()\n"
        "with app.app_context(): db.create_all()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "iris", "demo", "--scale", str(size)],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    if not url.startswith("sqlite"):
        # as autovacuum would soon: the loader's ANALYZE leaves the visibility map unset, and
        # then every index-only scan (the capped counts) reads the table's rows as well
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
    return seconds


def _rows(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = list(conn.execute(sql))
        conn.close()
        return rows
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return list(conn.execute(sql))


def sample_numbers(url: str, n: int = 2000) -> list[str]:
    nums = [r[0] for r in _rows(url, "SELECT number FROM registry_entries")]
    return random.Random(1).sample(nums, min(n, len(nums)))


def registration_number(url: str) -> str:
    """A registration number of the first generated agency (one entry has it)."""
    doc = _rows(
        url,
        "SELECT document FROM registry_entries WHERE number LIKE 'IRIS-PL-%'"
        " ORDER BY certificate_id DESC LIMIT 1",
    )[0][0]
    regs = json.loads(doc)["holder"]["registration_numbers"]
    return str(next(iter(regs.values())))


ENDPOINTS = (
    "ping", "search", "search-rare", "search-pair", "search-number", "filter", "queue",
    "dashboard", "verify",
)  # fmt: skip


def pages(url: str) -> dict[str, tuple[str, str | None]]:
    """Each endpoint: (path, who is signed in)."""
    return {
        "ping": ("/api/v1/ping", None),
        "search": ("/registry?q=lodz", None),
        "search-rare": ("/registry?q=kadry+pajak+gdansk", None),
        "search-pair": ("/registry?q=agencja+gdansk", None),
        "search-number": (f"/registry?q={urllib.parse.quote(registration_number(url))}", None),
        "filter": ("/registry?status=suspended&country=PL&page=3", None),
        "queue": ("/audit/cases", PLANNER),
        "dashboard": ("/oversight/", ADMIN),
    }


def inprocess(label: str, url: str, size: int, args: argparse.Namespace, workdir: Path) -> dict:
    """Each page one request at a time through the test client: median wall and CPU ms."""
    from iris import create_app

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,  # the sign-in form posted here
            "IRIS_SIGNING_KEY_DIR": str(workdir / "keys"),
            "IRIS_STORAGE_DIR": str(workdir / "files"),
        }
    )
    numbers = sample_numbers(url, 200)
    targets = dict(pages(url), verify=("", None))
    summary: dict[str, dict] = {}
    for name in ENDPOINTS:
        path, who = targets[name]
        with app.test_client() as client:
            if who is not None:
                signed_in = client.post("/login", data={"email": who, "password": PASSWORD})
                assert signed_in.status_code == 302, (who, signed_in.status_code)
            walls, cpus = [], []
            for i in range(args.rounds * 5 + 2):
                target = (
                    f"/api/v1/certificates/{numbers[i % len(numbers)]}"
                    if name == "verify"
                    else path
                )
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(target)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                assert response.status_code == 200, (target, response.status_code)
                if i >= 2:  # the first two fill the caches of the process
                    walls.append(wall * 1000)
                    cpus.append(cpu * 1000)
        summary[name] = {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}
        s = summary[name]
        print(f"{label:8} {size:>9,}  {name:13}  wall {s['wall']:8.2f} ms  cpu {s['cpu']:8.2f} ms",
              flush=True)  # fmt: skip
    return summary


def run(label: str, url: str, size: int, args: argparse.Namespace, workdir: Path) -> dict:
    if args.database:
        seconds_to_build = 0.0
    else:
        seconds_to_build = build(url, size, workdir)
        print(f"{label}: built {size:,} certificates in {seconds_to_build:.0f} s", flush=True)
    if args.inprocess:
        return inprocess(label, url, size, args, workdir)
    script = verify_script(workdir / f"verify-{label}-{size}.lua", sample_numbers(url))
    results: dict[str, list[dict]] = {e: [] for e in ENDPOINTS}
    files = {"IRIS_STORAGE_DIR": str(workdir / "files"), "IRIS_DEBUG": "1"}  # plain HTTP
    with gunicorn(url, workdir, files) as base:
        planner, admin = login(base, PLANNER), login(base, ADMIN)
        cookies = {None: {}, PLANNER: {"cookie": planner}, ADMIN: {"cookie": admin}}
        targets = {name: (base + path, cookies[who]) for name, (path, who) in pages(url).items()}
        targets["verify"] = (base + "/", {"script": script})
        for target, kw in targets.values():  # warm-up
            wrk(target, 1, **kw)
        for _ in range(args.rounds):
            for name, (target, kw) in targets.items():
                results[name].append(wrk(target, args.seconds, **kw))
    summary = {}
    for name in ENDPOINTS:
        runs = results[name]
        ratios = [
            r["rps"] / p["rps"] for r, p in zip(runs, results["ping"], strict=True) if p["rps"]
        ]
        summary[name] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "ratio": statistics.median(ratios),
        }
        s = summary[name]
        print(
            f"{label:8} {size:>9,}  {name:13}  {s['rps']:7.0f} req/s  p50 {s['p50']:7.2f} ms"
            f"  p99 {s['p99']:7.2f} ms  x ping {s['ratio']:.2f}",
            flush=True,
        )
    summary["build_seconds"] = seconds_to_build  # type: ignore[assignment]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--pg-url", default="", help="a PostgreSQL server URL (database postgres)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--inprocess", action="store_true", help="one request at a time")
    parser.add_argument(
        "--database",
        action="append",
        default=[],
        help="a database built before (repeat for each size; with --size)",
    )
    parser.add_argument(
        "--size",
        action="append",
        type=int,
        default=[],
        help="the number of certificates in each --database",
    )
    args = parser.parse_args()  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results: dict[str, dict[int, dict]] = {}
    if args.database:
        if len(args.size) != len(args.database):
            parser.error("give one --size for each --database")
        for url, size in zip(args.database, args.size, strict=True):
            label = "sqlite" if url.startswith("sqlite") else "postgres"
            results.setdefault(label, {})[size] = run(label, url, size, args, workdir)
    for size in [] if args.database else [int(s) for s in args.sizes.split(",")]:
        if not args.skip_sqlite:
            path = workdir / f"scale-{size}.db"
            results.setdefault("sqlite", {})[size] = run(
                "sqlite", f"sqlite:///{path}", size, args, workdir
            )
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if args.pg_url:
            import psycopg

            server = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
            name = f"iris_bench_scale_{size}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            url = server.rsplit("/", 1)[0] + "/" + name
            try:
                results.setdefault("postgres", {})[size] = run("postgres", url, size, args, workdir)
            finally:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for label, by_size in results.items():
        if len(by_size) < 2:
            continue
        small, large = min(by_size), max(by_size)
        for name in ENDPOINTS[1:]:
            a, b = by_size[small][name], by_size[large][name]
            if args.inprocess:
                print(
                    f"{label}: {name:13} {large:,} vs {small:,}: {b['cpu'] / a['cpu']:.2f}x the "
                    f"CPU time, {b['wall'] / a['wall']:.2f}x the wall time (target <= 1.3)"
                )
                continue
            print(
                f"{label}: {name:13} {large:,} vs {small:,}: {a['ratio'] / b['ratio']:.2f}x slower "
                f"against ping, {a['rps'] / b['rps']:.2f}x by throughput (target <= 1.3)"
            )
        if args.inprocess:
            a, b = by_size[small]["ping"], by_size[large]["ping"]
            print(f"{label}: ping (the machine's drift) {b['cpu'] / a['cpu']:.2f}x the CPU time")


if __name__ == "__main__":
    main()
