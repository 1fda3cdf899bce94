"""The verification log's batch writer (off the request path) stores what the ORM reads back.

On SQLite the batch is written with the driver's executemany, the times as text: they must
read back as the same UTC instants, and compare in queries as SQLAlchemy binds them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from iris.core.db import db
from iris.registry import tracking
from iris.registry.models import VerificationEvent


def test_a_batch_reads_back_with_its_times_and_answers_time_queries(app, committing_db):
    whole = datetime(2026, 11, 22, 3, 0, 0, tzinfo=UTC)  # no microseconds
    later = whole + timedelta(microseconds=250_001)
    elsewhere = later.astimezone(datetime.now().astimezone().tzinfo)  # any offset: stored UTC
    tracking._buffer[:] = [
        (whole, "api", "found", "a" * 64, 1),
        (elsewhere, "api_bulk", "2/3 found", "b" * 64, 3),
    ]
    assert tracking.flush(app) == 2
    assert tracking._buffer == []
    rows = db.session.scalars(sa.select(VerificationEvent).order_by(VerificationEvent.id)).all()
    assert [(r.at, r.kind, r.result, r.count) for r in rows] == [
        (whole, "api", "found", 1),
        (later, "api_bulk", "2/3 found", 3),
    ]
    since = sa.select(VerificationEvent.kind).where(VerificationEvent.at >= whole)
    assert db.session.scalars(since).all() == ["api", "api_bulk"]
    after = sa.select(VerificationEvent.kind).where(VerificationEvent.at > whole)
    assert db.session.scalars(after).all() == ["api_bulk"]


def test_a_request_leaves_its_event_to_the_background_writer(app, committing_db, monkeypatch):
    monkeypatch.setitem(app.config, "IRIS_VERIFICATION_LOG_SYNC", False)
    monkeypatch.setitem(app.config, "IRIS_VERIFICATION_LOG_SECONDS", 0.05)
    with app.test_request_context("/verify/x", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        tracking.record("page", "not_found")
        # not in the request's own transaction: the answer does not wait for the log, and a
        # request that fails and rolls back is still counted
        db.session.rollback()
    rows: list[VerificationEvent] = []
    deadline = time.monotonic() + 5
    while not rows and time.monotonic() < deadline:
        time.sleep(0.05)
        db.session.rollback()  # a fresh snapshot
        rows = db.session.scalars(sa.select(VerificationEvent)).all()
    assert [(r.kind, r.result, r.count) for r in rows] == [("page", "not_found", 1)]
    assert rows[0].address_hash == tracking.address_hash("203.0.113.9", app.config["SECRET_KEY"])


def test_lookups_of_one_second_and_address_are_one_row_with_their_count(app, committing_db):
    second = datetime(2026, 11, 22, 4, 0, 0, tzinfo=UTC)
    a, b = "a" * 64, "b" * 64
    tracking._buffer[:] = [
        (second + timedelta(microseconds=10), "api", "found", a, 1),
        (second + timedelta(microseconds=20), "api", "found", a, 1),
        (second + timedelta(microseconds=30), "api", "not_found", a, 1),  # another result
        (second + timedelta(microseconds=40), "api", "found", b, 1),  # another address
        (second + timedelta(microseconds=50), "api_bulk", "3/3 found", a, 3),  # a bulk check
        (second + timedelta(microseconds=60), "api_bulk", "3/3 found", a, 3),
        (second + timedelta(microseconds=70), "api", "found", a, 1),
        (second + timedelta(seconds=1), "api", "found", a, 1),  # the next second
    ]
    assert tracking.flush(app) == 8
    rows = db.session.scalars(sa.select(VerificationEvent).order_by(VerificationEvent.id)).all()
    assert [(r.at, r.kind, r.result, r.address_hash, r.count) for r in rows] == [
        (second + timedelta(microseconds=10), "api", "found", a, 3),
        (second + timedelta(microseconds=30), "api", "not_found", a, 1),
        (second + timedelta(microseconds=40), "api", "found", b, 1),
        (second + timedelta(microseconds=50), "api_bulk", "3/3 found", a, 3),
        (second + timedelta(microseconds=60), "api_bulk", "3/3 found", a, 3),
        (second + timedelta(seconds=1), "api", "found", a, 1),
    ]
    # every certificate checked is counted
    assert sum(r.count for r in rows) == 3 + 1 + 1 + 3 + 3 + 1
