"""Benchmark: verification by number under gunicorn, against a constant-JSON endpoint.

For each database (SQLite file, and PostgreSQL when --pg-url is given) and each size (default
10,000 and 1,000,000 certificates):

1. a fresh database gets the schema and N registry entries (the rows the lean path reads:
   a realistic public document of about 2 KB with a credential, loaded in bulk);
2. gunicorn serves ``wsgi:app`` with 2 sync workers, rate limits off
   (``IRIS_RATELIMIT_ENABLED=false``), the verification log on (batched, as in production);
3. wrk (16 connections, 2 threads) alternates between ``GET /api/v1/ping`` (constant JSON,
   the baseline) and ``GET /api/v1/certificates/<number>`` for random existing numbers,
   ``--rounds`` times each, ``--seconds`` per run; the medians, their ratio and p99 are
   printed. Targets: verify >= 80% of ping's throughput; 1,000,000 no more than 1.2x slower
   than 10,000.

    .venv/bin/python bench/bench_verify.py [--sizes 10000,1000000] [--rounds 3] [--seconds 8]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Needs ``wrk`` (apt-get install wrk). Runs only against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from served import gunicorn, ping_script, verify_script, wrk  # noqa: E402

from iris.certificates.numbering import format_number  # noqa: E402

COUNTRIES = ("PL", "UA", "DE", "PH", "NP", "IN", "VN", "GE", "MD", "UZ")
CREDENTIAL = "eyJhbGciOiJFZERTQSIsImlhdCI6MTc2MzY1NDQwMCwia2lkIjoi" + "A" * 1300 + ".sig"


def numbers(n: int) -> list[str]:
    """N distinct valid numbers: 100,000 per country and year at most."""
    out = []
    for i in range(n):
        country = COUNTRIES[(i // 100_000) % len(COUNTRIES)]
        year = 2020 + (i // 1_000_000)
        out.append(format_number(country, year, i % 100_000 + 1))
    return out


def document(number: str, i: int) -> str:
    doc = {
        "number": number,
        "status": "active" if i % 10 else "suspended",
        "status_changed_at": "2025-06-01T10:00:00Z",
        "holder": {
            "name": f"Agencja Pracy Łódź nr {i}",
            "trade_names": ["Łódź Jobs"],
            "country": number[5:7],
            "city": "Łódź",
            "registration_numbers": {"KRS": f"{i:010d}", "NIP": f"{7250000000 + i}"},
        },
        "scope": {
            "corridors": [{"origin": "UA", "destination": "PL", "sectors": ["agriculture"]}],
            "services": ["sourcing", "placement"],
            "sites": ["Head office, Łódź"],
        },
        "audit_company": {"name": "Certa Audit Polska Sp. z o.o.", "country": "PL"},
        "standard": {"name": "IRIS Standard", "version": "1.2"},
        "issued_at": "2025-06-01",
        "original_issued_at": "2025-06-01",
        "expires_at": "2028-06-01",
        "last_surveillance_at": None,
        "next_surveillance_due": "2026-06-01",
        "suspension_ends_at": None,
        "history": [{"at": "2025-06-01T10:00:00Z", "event": "issue", "from": None, "to": "active"}],
        "verify_url": f"http://127.0.0.1:5000/verify/{number}",
        "credential": CREDENTIAL,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def rows(nums: list[str]):  # type: ignore[no-untyped-def]
    for i, number in enumerate(nums, start=1):
        yield (
            i, number, "active" if i % 10 else "suspended", f"Agencja Pracy Łódź nr {i}",
            number[5:7], "Łódź", ",PL,", 1, "Certa Audit Polska Sp. z o.o.",
            f" agencja pracy lodz nr {i} lodz ", "2025-06-01", "2028-06-01", "2025-06-01 10:00:00",
            i, document(number, i),
        )  # fmt: skip


COLUMNS = (
    "certificate_id, number, state, name, country, city, destinations, audit_company_id, "
    "audit_company_name, search_text, issued_on, expires_on, status_changed_at, last_change_id, "
    "document"
)


def create_schema(url: str) -> None:
    env = {**os.environ, "IRIS_SECRET_KEY": "bench", "IRIS_DATABASE_URL": url}
    code = (
        "from iris import create_app; from iris.core.db import db\n"
        "app = create_app()\n"
        "with app.app_context(): db.create_all()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def load_sqlite(path: Path, nums: list[str]) -> None:
    conn = sqlite3.connect(path)  # foreign keys are off on a raw connection: bulk load
    conn.execute("PRAGMA journal_mode=WAL")
    marks = ",".join("?" * 15)
    batch: list[tuple] = []  # type: ignore[type-arg]
    for row in rows(nums):
        batch.append(row)
        if len(batch) == 50_000:
            conn.executemany(f"INSERT INTO registry_entries ({COLUMNS}) VALUES ({marks})", batch)
            batch.clear()
    if batch:
        conn.executemany(f"INSERT INTO registry_entries ({COLUMNS}) VALUES ({marks})", batch)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def load_pg(url: str, nums: list[str]) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # bulk load: no FK triggers
        with cur.copy(f"COPY registry_entries ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(nums):
                copy.write_row(row)
        conn.commit()
        cur.execute("ANALYZE registry_entries")


def run(
    label: str, url: str, size: int, args: argparse.Namespace, workdir: Path
) -> dict[str, float]:
    nums = numbers(size)
    sample = random.Random(1).sample(nums, min(args.sample, size))
    script = verify_script(workdir / f"verify-{label}-{size}.lua", sample)
    scripted = ping_script(workdir / f"ping-{label}-{size}.lua", sample)
    with gunicorn(url, workdir) as base:
        wrk(base + "/api/v1/ping", 2)
        wrk(base + "/", 2, script=script)
        ping, ping_s, verify = [], [], []
        for _ in range(args.rounds):
            ping.append(wrk(base + "/api/v1/ping", args.seconds))
            ping_s.append(wrk(base + "/", args.seconds, script=scripted))
            verify.append(wrk(base + "/", args.seconds, script=script))
    result = {
        "ping_rps": statistics.median(r["rps"] for r in ping),
        "ping_p99_ms": statistics.median(r["p99"] for r in ping),
        "ping_script_rps": statistics.median(r["rps"] for r in ping_s),
        "verify_rps": statistics.median(r["rps"] for r in verify),
        "verify_p99_ms": statistics.median(r["p99"] for r in verify),
    }
    result["ratio"] = result["verify_rps"] / result["ping_rps"]
    result["ratio_script"] = result["verify_rps"] / result["ping_script_rps"]
    print(
        f"{label:8} {size:>9,} certs  ping {result['ping_rps']:7.0f} req/s p99 {result['ping_p99_ms']:6.2f} ms"
        f"  ping (script) {result['ping_script_rps']:7.0f} req/s"
        f"  verify {result['verify_rps']:7.0f} req/s p99 {result['verify_p99_ms']:6.2f} ms"
        f"  ratio {result['ratio']:.2f}  ratio (script) {result['ratio_script']:.2f}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--pg-url", default="", help="a PostgreSQL server URL (database postgres)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--sample",
        type=int,
        default=2000,
        help="how many distinct existing numbers wrk asks for (more than "
        "IRIS_REGISTRY_CACHE_SIZE: most lookups miss the PostgreSQL document cache)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    results: dict[str, dict[int, dict[str, float]]] = {}
    for size in sizes:
        if not args.skip_sqlite:
            path = workdir / f"verify-{size}.db"
            url = f"sqlite:///{path}"
            create_schema(url)
            started = time.perf_counter()
            load_sqlite(path, numbers(size))
            print(
                f"sqlite: loaded {size:,} entries in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            results.setdefault("sqlite", {})[size] = run("sqlite", url, size, args, workdir)
            path.unlink()
        if args.pg_url:
            import sqlalchemy as sa

            admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            name = f"bench_verify_{size}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = sa.make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            create_schema(url)
            started = time.perf_counter()
            load_pg(url, numbers(size))
            print(
                f"postgres: loaded {size:,} entries in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            results.setdefault("postgres", {})[size] = run("postgres", url, size, args, workdir)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for label, by_size in results.items():
        if len(by_size) >= 2:
            small, large = min(by_size), max(by_size)
            growth = by_size[small]["verify_rps"] / by_size[large]["verify_rps"]
            print(
                f"{label}: {large:,} vs {small:,} certificates: {growth:.2f}x slower (target <= 1.2)"
            )


if __name__ == "__main__":
    main()
