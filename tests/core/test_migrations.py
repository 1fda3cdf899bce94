"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from iris import create_app
from iris.core.db import db
from iris.registry.models import (
    SEARCH_TABLE,
    TERMS_TABLE,
    TEXT_INDEX,
    include_in_autogenerate,
)
from tests.conftest import PG_URL, _pg_temp_database


@pytest.fixture
def empty_database_url(tmp_path):  # type: ignore[no-untyped-def]
    if PG_URL:
        url, admin, name = _pg_temp_database(PG_URL)
        yield url
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / ('m' + uuid.uuid4().hex[:6] + '.db')}"


def test_upgrade_head_then_autogenerate_finds_no_difference(empty_database_url):
    app = create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_object": include_in_autogenerate,
                },
            )
            diff = compare_metadata(ctx, db.metadata)
            tables = sa.inspect(conn).get_table_names()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("registry_entries")}
            dialect = conn.dialect.name
        db.engine.dispose()
    assert "users" in tables and "alembic_version" in tables
    # the registry's text index lives outside the metadata: the migration must make it too
    if dialect == "postgresql":
        assert TEXT_INDEX in indexes
    else:
        assert SEARCH_TABLE in tables
    assert TERMS_TABLE in tables
    assert diff == [], f"models and migrations differ: {diff}"
