from __future__ import annotations

import pytest

from tests.core.workflow_world import world  # noqa: F401  (fixture)


@pytest.fixture
def issued(world, db_session, app):  # noqa: F811
    """A certificate issued by a real grant, with its registry entry."""
    from iris.certificates.operations import issue_certificate
    from workflows.certification import CaseState

    case = world.case(CaseState.CERTIFIED)
    cert = issue_certificate(case, actor=world.decider, now=world.now)
    db_session.flush()
    return cert


@pytest.fixture(autouse=True)
def _lean_path_sees_the_test_transaction(monkeypatch, db_session):
    """The lean lookup reads on its own connection; in tests the data is uncommitted in the
    test's connection, so the lookup is pointed there (same SQL)."""
    import sqlalchemy as sa

    from iris.registry import queries

    def same_connection(number):
        return (
            db_session.connection()
            .execute(
                sa.text("SELECT document FROM registry_entries WHERE number = :n"), {"n": number}
            )
            .scalar()
        )

    monkeypatch.setattr(queries, "document_json", same_connection)
