"""SQLite (the embedded default): a form post that reads, then writes, is not refused because
another connection committed in between (the verification log's batch, another user)."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from iris.core.db import db
from iris.registry.models import VerificationEvent
from workflows.roles import Role

INSERT = (
    "INSERT INTO verification_events (at, kind, result, address_hash, count)"
    " VALUES ('2026-11-22 10:00:00.000000', 'page', 'found', ?, 1)"
)


@pytest.fixture
def sqlite_file(app: Any, committing_db: Any) -> str:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the embedded SQLite database's transactions (PostgreSQL locks rows)")
    return str(db.engine.url.database)


def _other_writer(path: str, done: list[float]) -> threading.Thread:
    """Another connection (the verification log's thread) inserting one row and committing."""

    def write() -> None:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            conn.execute(INSERT, ("other",))
        finally:
            conn.close()
        done.append(time.monotonic())

    return threading.Thread(target=write)


def _count(tag: str) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).where(VerificationEvent.address_hash == tag))
        or 0
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/login"),  # a sign-in looks the person up, then records it
        ("GET", "/complaints/abc"),  # marked @writes: its access log entry
    ],
)
def test_a_request_that_read_first_still_commits_after_another_connection_wrote(
    app: Any, sqlite_file: str, method: str, path: str
) -> None:
    done: list[float] = []
    with app.test_request_context(path, method=method, base_url="http://localhost"):
        from flask import request

        assert request.endpoint in ("accounts.login", "complaints.detail")
        _count("other")  # the request reads first
        other = _other_writer(sqlite_file, done)
        other.start()
        time.sleep(0.3)  # time enough for the other writer to commit, if it may
        db.session.execute(
            VerificationEvent.__table__.insert().values(
                at=sa.func.current_timestamp(), kind="page", result="found", address_hash="request"
            )
        )
        committed_at = time.monotonic()
        db.session.commit()  # "database is locked" here before the fix
        other.join(10)
        # the other writer waited for this request's transaction instead of slipping in
        assert done and done[0] >= committed_at
        assert _count("request") == 1 and _count("other") == 1
        db.session.commit()


def test_pages_that_only_read_do_not_hold_writers_up(app: Any, sqlite_file: str) -> None:
    done: list[float] = []
    with app.test_request_context("/registry", method="GET"):
        _count("other")
        other = _other_writer(sqlite_file, done)
        other.start()
        other.join(10)
        assert done, "a reading request blocked another connection's write"
        db.session.rollback()
        assert _count("other") == 1
        db.session.rollback()


def test_signing_in_while_the_verification_log_commits(app, sqlite_file, monkeypatch):
    """Through the HTTP stack: the sign-in reads the person, the log's batch commits on
    another connection, then the sign-in records itself. Before: a 500 (CI's journey)."""
    from iris.accounts import operations as account_ops
    from tests.factories import PASSWORD, Factories
    from tests.helpers import Browser

    make = Factories(db.session)
    user = make.user_with_role(Role.AGENCY_ADMIN)
    db.session.commit()
    email, user_id, user_class = user.email, user.id, type(user)
    done: list[float] = []
    others: list[threading.Thread] = []
    find_user = account_ops.find_user

    def find_then_let_another_connection_write(email: str) -> Any:
        found = find_user(email)  # the request's first read
        other = _other_writer(sqlite_file, done)
        other.start()
        others.append(other)
        time.sleep(0.3)  # time enough for the other writer to commit, if it may
        return found

    monkeypatch.setattr(account_ops, "find_user", find_then_let_another_connection_write)
    with app.test_client() as c:
        browser = Browser(c)
        token = browser.csrf_token("/login")
        # requests here share the test's app context and its session: the sign-in must
        # start its own transaction, as it does in a server
        db.session.remove()
        answer = browser.post("/login", {"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    db.session.remove()  # the request's end in a server (here the app context is the test's)
    others[0].join(10)
    assert done, "the other connection's write never went through"
    db.session.rollback()
    assert db.session.get(user_class, user_id).last_login_at is not None
    assert _count("other") == 1
