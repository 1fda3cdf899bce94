"""API test helpers: tokens made through the real operation, requests with a bearer header."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from iris.api import operations
from iris.api.models import SCOPES
from iris.core.db import utcnow
from tests.core.workflow_world import world  # noqa: F401  (fixture)


@pytest.fixture
def token_for(db_session):  # type: ignore[no-untyped-def]
    """``token_for(user, scopes=all, days=30) -> secret``.

    Commits (into the test's savepoint, rolled back at the end like everything else): a view
    that refuses rolls back to the last commit, and must not take the set-up with it.
    """

    def _make(user: Any, scopes: tuple[str, ...] = SCOPES, days: int = 30) -> str:
        _row, secret = operations.create_token(
            actor=user, name="test", scopes=list(scopes), expires_at=utcnow() + timedelta(days=days)
        )
        db_session.commit()
        return secret

    return _make


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, method: str, url: str, token: str | None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(method, url, headers=headers, **kw)


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    return Api(client)


@pytest.fixture(autouse=True)
def _lean_path_sees_the_test_transaction(monkeypatch, db_session):  # type: ignore[no-untyped-def]
    """As in tests/registry: the lean lookup reads the test's own (uncommitted) connection."""
    import sqlalchemy as sa

    from iris.registry import queries

    def same_connection(number: str) -> Any:
        return (
            db_session.connection()
            .execute(
                sa.text("SELECT document FROM registry_entries WHERE number = :n"), {"n": number}
            )
            .scalar()
        )

    monkeypatch.setattr(queries, "document_json", same_connection)
