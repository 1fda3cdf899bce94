"""Test infrastructure: one app and one schema per run; each test in a rolled-back transaction.

The schema is built once per run (SQLite file, or a temporary PostgreSQL database created on
the server named by ``IRIS_TEST_DATABASE_URL`` and dropped at the end). Each test runs inside
an outer transaction on one connection; the code under test commits into SAVEPOINTs, and the
outer transaction is rolled back afterwards, so tests stay isolated and fast however many
there are. Tests that need real commits across threads use the ``committing_db`` fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import scoped_session, sessionmaker

from iris import create_app
from iris.core.db import db
from tests import factories
from tests.helpers import Browser

PG_URL = os.environ.get("IRIS_TEST_DATABASE_URL") or (
    os.environ.get("IRIS_DATABASE_URL", "")
    if os.environ.get("IRIS_DATABASE_URL", "").startswith("postgres")
    else ""
)


def _pg_temp_database(base_url: str) -> tuple[str, sa.Engine, str]:
    url = sa.make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"iris_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), admin, name


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        url, admin, name = _pg_temp_database(PG_URL)
        yield url
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    files = tmp_path_factory.mktemp("files")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "localhost",
            "IRIS_STORAGE_DIR": str(files / "storage"),
            "IRIS_SIGNING_KEY_DIR": str(files / "keys"),
            "IRIS_SIGNING_AUTOGENERATE": True,  # a key ring is made on the first issuance
            "IRIS_SMTP_URL": "",
            # verifications are logged in the request's transaction, rolled back with the
            # test: the background writer would commit into the shared database between
            # tests (and, on SQLite, inside a test's open transaction)
            "IRIS_VERIFICATION_LOG_SYNC": True,
            "RATELIMIT_ENABLED": True,  # in memory; reset before every test
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):  # type: ignore[no-untyped-def]
    """The test's session: everything it and the app write is rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=original.registry.scopefunc,  # type: ignore[attr-defined]
        )
        db.session = session  # type: ignore[assignment]
        try:
            yield session
        finally:
            session.remove()
            db.session = original  # type: ignore[assignment]
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):  # type: ignore[no-untyped-def]
    from iris.extensions import limiter

    # the limiter is one object shared by every app: a test that builds a second app with
    # limits off (scale, query budgets) must not leave them off for the tests after it
    limiter.enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
    limiter.reset()


@pytest.fixture
def committing_db(app):  # type: ignore[no-untyped-def]
    """For tests that need real commits (threads, CLI): every table is emptied afterwards."""
    with app.app_context():
        yield db
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app, db_session):  # type: ignore[no-untyped-def]
    with app.test_client() as c:
        yield Browser(c)


@pytest.fixture
def make(db_session):  # type: ignore[no-untyped-def]
    """Factories bound to the test's session: ``make.user(...)``, ``make.agency(...)``."""
    return factories.Factories(db_session)


@pytest.fixture
def login_as(client, make):  # type: ignore[no-untyped-def]
    """``login_as(Role.X, org=None) -> User``: a verified user with that role, signed in."""

    def _login(role, org=None, **user_kw):  # type: ignore[no-untyped-def]
        user = make.user_with_role(role, org=org, **user_kw)
        client.login(user)
        return user

    return _login


@pytest.fixture
def runner(app, db_session):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def outbox(db_session):  # type: ignore[no-untyped-def]
    """The mail written so far, newest last."""
    from iris.core.mail import OutboxMessage

    def _messages(to: str | None = None) -> list[OutboxMessage]:
        q = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            q = q.where(OutboxMessage.to_address == to)
        return list(db_session.scalars(q))

    return _messages


ROOT = Path(__file__).resolve().parent.parent
