"""Transitions per second through ``fire()`` against bare UPDATE + INSERT of the same rows.

One transaction per transition (as a request does): certificates are suspended, then
restored, alternately through the engine and through two bare statements (the UPDATE of the
certificate's state columns and version, the INSERT of a transition record with the same
columns), in the same process and the same run, on SQLite and, when a server is given, on
PostgreSQL (a temporary database, dropped afterwards).

    .venv/bin/python bench/bench_workflow.py [--n 300] [--rounds 3] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

"engine" = fire() as the application runs it (lock, permission, guard, effects, chained
record, and every listener the app registers on a flush, such as the registry's update of
the certificate's public entry); "engine, no registry sync" = the same with that listener
removed, to show the engine's own cost. "bare, with the registry entry" = the bare writes
plus a third plain statement for the row the registry sync writes (the entry's status
columns and document): the same rows as "engine" writes. Each variant is printed against
both bare baselines: "engine, no registry sync" against "bare" and "engine" against "bare,
with the registry entry" compare the same rows.

``--profile`` measures nothing: it fires a few steps each way, prints the statements one
step sends to the database (through the engine and bare, as seen by a
``before_cursor_execute`` listener) and a cProfile of a batch of steps through the engine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_app(url: str, tmp: str) -> Any:
    from iris import create_app

    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "IRIS_STORAGE_DIR": tmp + "/files",
            "IRIS_SIGNING_KEY_DIR": tmp + "/keys",
            "RATELIMIT_ENABLED": False,
        }
    )


def setup(n: int) -> tuple[list[int], int]:
    from iris.accounts.models import Membership, Organisation, OrgStatus, User
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase
    from iris.certificates.models import Certificate
    from iris.certificates.numbering import format_number
    from iris.core.db import db, utcnow
    from workflows.application import ApplicationState
    from workflows.certificate import CertificateState
    from workflows.certification import CaseState
    from workflows.roles import OrgKind, Role

    agency = Organisation(kind=OrgKind.AGENCY, name="Bench Agency", country="PL")
    company = Organisation(
        kind=OrgKind.AUDIT_COMPANY, name="Bench Audit", country="PL", status=OrgStatus.APPROVED
    )
    decider = User(email="decider@bench.test", name="Decider")
    db.session.add_all([agency, company, decider])
    db.session.flush()
    db.session.add(Membership(user=decider, organisation=company, role=Role.DECISION_MAKER))
    app = Application(agency_id=agency.id, state=ApplicationState.ACCEPTED)
    db.session.add(app)
    db.session.flush()
    case = CertificationCase(
        agency_id=agency.id, audit_company_id=company.id, application_id=app.id,
        state=CaseState.CERTIFIED,
    )  # fmt: skip
    db.session.add(case)
    db.session.flush()
    now = utcnow()
    certs = [
        Certificate(
            number=format_number("PL", 2026, i + 1),
            agency_id=agency.id,
            audit_company_id=company.id,
            case_id=case.id,
            state=CertificateState.ACTIVE,
            issued_at=now,
            original_issued_at=now,
            expires_at=now + timedelta(days=1000),
        )
        for i in range(n)
    ]
    db.session.add_all(certs)
    db.session.flush()
    out = [c.id for c in certs], decider.id
    db.session.commit()
    db.session.remove()
    return out


def through_engine(ids: list[int], decider_id: int, trigger: str) -> float:
    from iris.accounts.models import User
    from iris.certificates.models import Certificate
    from iris.core.db import db
    from iris.core.workflow import fire

    kw: dict[str, Any] = {"reason": "Bench."}
    if trigger == "suspend":
        kw["reason_code"] = "voluntary"
    # The request has loaded its user and its subject before it fires: load them first
    # (and keep them loaded across commits), so both sides time the same work, the step.
    db.session.remove()
    db.session.configure(expire_on_commit=False)
    decider = db.session.get(User, decider_id)
    certs = db.session.scalars(sa.select(Certificate).where(Certificate.id.in_(ids))).all()
    _ = [m.organisation for m in decider.memberships]
    db.session.commit()
    start = time.perf_counter()
    for cert in certs:
        fire(cert, trigger, decider, **kw)
        db.session.commit()
    elapsed = time.perf_counter() - start
    db.session.remove()
    db.session.configure(expire_on_commit=True)
    return elapsed


def bare(ids: list[int], decider_id: int, trigger: str, *, entry: bool = False) -> float:
    """The same rows written with two plain statements per transition; with ``entry``, three:
    the certificate's registry entry too (its status columns and its whole document, as the
    registry's patch writes it; on PostgreSQL announced with ``RETURNING pg_notify`` as the
    patch does)."""
    from iris.certificates.models import Certificate
    from iris.core.db import db, utcnow
    from iris.core.history import TransitionRecord
    from iris.registry.models import RegistryEntry
    from iris.registry.sync import CHANNEL

    cert_t = Certificate.__table__
    rec_t = TransitionRecord.__table__
    entry_t = RegistryEntry.__table__
    suspend = trigger == "suspend"
    documents: dict[int, str] = {}
    if entry:  # read before timing: the bare writer knows what to write
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(entry_t.c.certificate_id, entry_t.c.document).where(
                    entry_t.c.certificate_id.in_(ids)
                )
            )
            documents = {cid: document for cid, document in rows}
    write_entry = entry_t.update().where(entry_t.c.certificate_id == sa.bindparam("cid"))
    if db.engine.dialect.name == "postgresql":
        write_entry = write_entry.returning(sa.func.pg_notify(CHANNEL, ""))
    start = time.perf_counter()
    for cid in ids:
        now = utcnow()
        with db.engine.begin() as conn:
            if entry:
                conn.execute(
                    write_entry,
                    {
                        "cid": cid,
                        "state": "suspended" if suspend else "active",
                        "status_changed_at": now,
                        "last_change_id": time.time_ns() % 10**9,
                        "document": documents[cid],
                    },
                ).close()
            conn.execute(
                cert_t.update()
                .where(cert_t.c.id == cid)
                .values(
                    state="suspended" if suspend else "active",
                    suspended_at=now if suspend else None,
                    suspension_reason_code="voluntary" if suspend else None,
                    suspension_ends_at=now + timedelta(days=180) if suspend else None,
                    status_changed_at=now,
                    version=cert_t.c.version + 1,
                )
            )
            conn.execute(
                rec_t.insert().values(
                    subject_type="certificate", subject_id=cid, seq=int(time.time_ns() % 10**9),
                    trigger=trigger, from_state="active" if suspend else "suspended",
                    to_state="suspended" if suspend else "active", actor_id=decider_id,
                    actor_role="decision_maker", at=now, reason="Bench.",
                    payload={"reason_code": "voluntary"} if suspend else {},
                    prev_hash="0" * 64, hash=uuid.uuid4().hex * 2,
                )
            )  # fmt: skip
    return time.perf_counter() - start


def measure(url: str, n: int, rounds: int, label: str) -> dict[str, float]:
    from iris.core.db import db

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, tmp)
        with app.app_context():
            db.create_all()
            ids, decider = setup(n * 4)
            engine_ids, nosync_ids, bare_ids = ids[:n], ids[n : 2 * n], ids[2 * n : 3 * n]
            bare_entry_ids = ids[3 * n :]
            results: dict[str, list[float]] = {
                "engine": [],
                "engine, no registry sync": [],
                "bare": [],
                "bare, with the registry entry": [],
            }
            sync = _registry_listener()
            for _ in range(rounds):
                for trigger in ("suspend", "restore"):
                    results["bare"].append(n / bare(bare_ids, decider, trigger))
                    results["bare, with the registry entry"].append(
                        n / bare(bare_entry_ids, decider, trigger, entry=True)
                    )
                    results["engine"].append(n / through_engine(engine_ids, decider, trigger))
                    if sync is not None:
                        sa.event.remove(sa.orm.Session, "after_flush", sync)
                    results["engine, no registry sync"].append(
                        n / through_engine(nosync_ids, decider, trigger)
                    )
                    if sync is not None:
                        sa.event.listen(sa.orm.Session, "after_flush", sync)
            db.session.remove()
            db.drop_all()
    med = {k: statistics.median(v) for k, v in results.items() if v}
    with_entry = med["bare, with the registry entry"]
    print(f"\n{label}: {n} transitions per batch, {rounds * 2} batches each, median")
    print(f"  {'':<30} {'':>14}   {'x bare':>7}  {'x bare + entry':>14}")
    for k, v in med.items():
        print(f"  {k:<30} {v:8.0f} tr./s   {med['bare'] / v:6.2f}×  {with_entry / v:13.2f}×")
    return med


def profile(url: str, n: int, label: str) -> None:
    """The statements of one step each way, and where the engine's time goes (cProfile)."""
    import cProfile
    import pstats

    from iris.core.db import db

    def statements(run: Any) -> list[str]:
        seen: list[str] = []

        def before(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
            seen.append(" ".join(statement.split()))

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            run()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
        return [s for s in seen if s != "BEGIN"]  # SQLite's explicit BEGIN (psycopg's is unseen)

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, tmp)
        with app.app_context():
            db.create_all()
            ids, decider = setup(n + 4)
            # every certificate takes one step first (as in the app, where each has its
            # issue record; and statements compiled, caches warm), then the counted one
            through_engine(ids, decider, "suspend")
            bare(ids[:2], decider, "suspend")
            # the engine side loads its user and subjects first, untimed and uncounted
            engine = statements(lambda: through_engine(ids[2:3], decider, "restore"))
            skip = len(statements(lambda: through_engine([], decider, "restore")))
            engine = engine[skip:]
            plain = statements(lambda: bare(ids[2:3], decider, "restore"))
            print(f"\n{label}: statements per step (one transaction; BEGIN and COMMIT not shown)")
            print(f"  engine: {len(engine)}")
            for s in engine:
                print(f"    {s[:110]}")
            print(f"  bare: {len(plain)}")
            for s in plain:
                print(f"    {s[:110]}")
            prof = cProfile.Profile()
            prof.enable()
            through_engine(ids[4:], decider, "restore")
            prof.disable()
            print(f"\n{label}: cProfile of {n} steps through the engine (cumulative, top 40)")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(40)
            db.session.remove()
            db.drop_all()


def _registry_listener() -> Any:
    try:
        from iris.registry import sync
    except ImportError:
        return None
    return getattr(sync, "_after_flush", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default="", help="a PostgreSQL server URL (optional)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="no timing: print the statements of one step and a cProfile of the engine",
    )
    args = parser.parse_args()
    run = (
        (lambda url, label: profile(url, args.n, label))
        if args.profile
        else (lambda url, label: measure(url, args.n, args.rounds, label))
    )

    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite (file, WAL)")
    if args.pg:
        base = sa.make_url(args.pg)
        name = f"iris_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            run(url, "PostgreSQL")
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
