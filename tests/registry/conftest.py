from __future__ import annotations

import pytest

from tests.core.workflow_world import world  # noqa: F401  (fixture)


@pytest.fixture
def issued(world, db_session, app):  # noqa: F811
    """A certificate issued by a real grant, with its registry entry."""
    from iris.certificates.operations import issue_certificate
    from workflows.certification import CaseState

    app.config["IRIS_VERIFICATION_LOG_SYNC"] = True
    case = world.case(CaseState.CERTIFIED)
    cert = issue_certificate(case, actor=world.decider, now=world.now)
    case.certificate = cert
    db_session.flush()
    yield cert
    app.config["IRIS_VERIFICATION_LOG_SYNC"] = False


@pytest.fixture(autouse=True)
def _lean_path_sees_the_test_transaction(monkeypatch, db_session):
    """The lean lookup uses its own pooled connection; in tests the data is uncommitted in
    the test's connection, so the lookup is pointed there."""
    from contextlib import contextmanager

    from iris.registry import queries

    @contextmanager
    def same_connection():
        yield db_session.connection()

    monkeypatch.setattr(queries, "connection_factory", same_connection)
