"""PostgreSQL: a committed change of a certificate is announced on the registry's channel.

Every app process keeps a cache of registry documents and empties it on each notice
(``iris.registry.queries.DocumentCache``): a lost notice would let a verifier be told
"active" about a suspended certificate. A lifecycle step announces itself in the UPDATE of
the registry entry (``RETURNING pg_notify``, no statement of its own); the notice is
delivered when the transaction commits and never when it is rolled back.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from iris.accounts.models import User
from iris.certificates.models import Certificate
from iris.core.db import db
from iris.core.workflow import fire
from iris.registry.sync import CHANNEL
from tests.conftest import PG_URL
from tests.core.workflow_world import World
from tests.factories import Factories
from workflows.certificate import CertificateState

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set IRIS_TEST_DATABASE_URL"),
]


def _listener() -> psycopg.Connection:
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def _notices(conn: psycopg.Connection, wait: float) -> list[str]:
    return [n.channel for n in conn.notifies(timeout=wait, stop_after=1)]


def test_a_step_is_announced_once_when_it_commits_and_not_when_rolled_back(app, committing_db):
    world = World(Factories(db.session), db.session)
    cert_id = world.certificate(CertificateState.ACTIVE).id
    decider_id = world.decider.id
    db.session.commit()
    listener = _listener()
    try:
        statements: list[str] = []

        def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(" ".join(statement.split()))

        cert, decider = db.session.get(Certificate, cert_id), db.session.get(User, decider_id)
        sa.event.listen(db.engine, "before_cursor_execute", seen)
        try:
            fire(cert, "suspend", decider, reason="Complaint upheld.", reason_code="voluntary")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", seen)
        # announced by the entry's UPDATE itself, not by a NOTIFY round trip of its own
        assert [s for s in statements if "pg_notify" in s or "NOTIFY" in s] == [
            s for s in statements if s.startswith("UPDATE registry_entries")
        ]
        assert any("pg_notify" in s for s in statements)
        assert _notices(listener, 0.3) == []  # nothing before the commit
        db.session.commit()
        assert _notices(listener, 5) == [CHANNEL]

        cert = db.session.get(Certificate, cert_id)
        fire(cert, "restore", decider, reason="Resolved.")
        db.session.rollback()
        assert _notices(listener, 0.5) == []
        assert db.session.get(Certificate, cert_id).state is CertificateState.SUSPENDED
    finally:
        listener.close()


def test_a_new_certificate_is_announced_too(app, committing_db):
    """An entry made by a rebuild (not a patch) still sends its NOTIFY statement."""
    listener = _listener()
    try:
        world = World(Factories(db.session), db.session)
        world.certificate(CertificateState.ACTIVE)
        db.session.commit()
        assert _notices(listener, 5) == [CHANNEL]
    finally:
        listener.close()
