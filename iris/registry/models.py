"""The public registry's tables: one entry per certificate, and the verification log.

:class:`RegistryEntry` is a denormalised, public-only copy of each certificate, rebuilt in
the same transaction as every change of the certificate (see :mod:`iris.registry.sync`), so
the public channels (verify page, API, feed, badge, status list) read one indexed row and
show a change as soon as its transaction commits. It holds no personal data and no audit
content: the holder's public facts as certified, the status, the dates and the status
history (steps and reason codes, never free-text reasons or people).

**The text index.** The registry search matches words at the start of a word anywhere in
``search_text`` (``LIKE '% lodz%'``), which no B-tree index can serve. Each database gets a
trigram index that can, maintained by the database itself (so the live sync, ``rebuild_all``
and the bulk loader's COPY/executemany need no code of their own):

* PostgreSQL: a GIN index ``ix_registry_entries_search_trgm`` with ``gin_trgm_ops``
  (extension ``pg_trgm``, trusted: the database owner may create it);
* SQLite: an FTS5 table ``registry_search`` with the ``trigram`` tokenizer (SQLite 3.34+) over
  the entries as external content, kept in step by three triggers. Where FTS5 or its trigram
  tokenizer is missing nothing is created and the search scans (correct, slower).

Both are made by :func:`create_text_index` when ``create_all`` creates the table (a DDL event)
and must be made by the migration with the same statements (:data:`TEXT_INDEX_DDL`); they are
not in the metadata, so :func:`include_in_autogenerate` tells Alembic to leave them alone.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from iris.core.db import db


class RegistryEntry(db.Model):
    __tablename__ = "registry_entries"

    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    state: Mapped[str] = mapped_column(sa.String(20), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    city: Mapped[str] = mapped_column(sa.String(200), default="")
    #: destination countries of the certified corridors, as ",PL,DE,"
    destinations: Mapped[str] = mapped_column(sa.String(400), default=",")
    audit_company_id: Mapped[int] = mapped_column(index=True)
    audit_company_name: Mapped[str] = mapped_column(sa.String(300))
    #: folded (lower case, no accents) names, city, numbers: for accent-insensitive search
    search_text: Mapped[str] = mapped_column(sa.Text)
    issued_on: Mapped[str | None] = mapped_column(sa.String(10))
    expires_on: Mapped[str | None] = mapped_column(sa.String(10))
    status_changed_at: Mapped[datetime | None]
    #: id of the transition record of the last change: the registry's generation
    last_change_id: Mapped[int] = mapped_column(default=0, index=True)
    #: the public JSON document (the API's answer for this certificate), ready to send
    document: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        # the latest entry of each audit company (the registry's filter choices): one probe
        sa.Index("ix_registry_entries_company_latest", "audit_company_id", "certificate_id"),
        # the status and country filters, in the registry's order (name, number)
        sa.Index("ix_registry_entries_state_country_name", "state", "country", "name"),
        # the registry's order: a page of a long result is a walk of this index
        sa.Index("ix_registry_entries_name_number", "name", "number"),
    )


# --------------------------------------------------------------------------- the text index

#: the SQLite FTS5 table over ``registry_entries.search_text`` (rowid = certificate_id)
SEARCH_TABLE = "registry_search"
#: the PostgreSQL trigram index on ``registry_entries.search_text``
TRGM_INDEX = "ix_registry_entries_search_trgm"

#: SQLite: the registry's order with the text, so a walk in name order checks each entry's
#: text in the index, without reading its row (a row is ~2.5 KB with its document).
#: (Not on PostgreSQL: an index entry there may not exceed ~2.7 KB, and the rows are small.)
NAME_TEXT_INDEX = "ix_registry_entries_name_text"

#: The statements that make the text index, per dialect (for the migration, too).
#: FTS5 keeps its own copy of the text (about 110 bytes an entry; with the entries as
#: external content every candidate was checked by reading its 2.5 KB row: twice as slow);
#: ``detail=none`` (no positions: a third of the size; the LIKE is checked on the text
#: anyway), ``columnsize=0`` (no ranking). The triggers keep it in step with every insert,
#: delete and change of ``search_text`` (a status patch does not touch it), including the
#: bulk loader's executemany.
TEXT_INDEX_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX IF NOT EXISTS ix_registry_entries_search_trgm ON registry_entries"
        " USING gin (search_text gin_trgm_ops)",
    ),
    "sqlite": (
        "CREATE VIRTUAL TABLE IF NOT EXISTS registry_search USING fts5(search_text,"
        " tokenize='trigram', detail='none', columnsize=0)",
        "CREATE TRIGGER IF NOT EXISTS registry_search_insert AFTER INSERT ON registry_entries"
        " BEGIN INSERT INTO registry_search(rowid, search_text)"
        " VALUES (new.certificate_id, new.search_text); END",
        "CREATE TRIGGER IF NOT EXISTS registry_search_delete AFTER DELETE ON registry_entries"
        " BEGIN DELETE FROM registry_search WHERE rowid = old.certificate_id; END",
        "CREATE TRIGGER IF NOT EXISTS registry_search_update"
        " AFTER UPDATE OF search_text ON registry_entries"
        " WHEN old.search_text IS NOT new.search_text"
        " BEGIN UPDATE registry_search SET search_text = new.search_text"
        " WHERE rowid = old.certificate_id; END",
        "CREATE INDEX IF NOT EXISTS ix_registry_entries_name_text"
        " ON registry_entries (name, number, search_text)",
    ),
}

#: SQLite: refill the FTS5 table from the entries (once, when it is added to a table that has
#: rows; the triggers see only later changes)
SQLITE_TEXT_INDEX_FILL = (
    "DELETE FROM registry_search",
    "INSERT INTO registry_search(rowid, search_text)"
    " SELECT certificate_id, search_text FROM registry_entries",
)


def sqlite_has_trigram(conn: sa.Connection) -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34+)."""
    try:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE temp.iris_trigram_probe USING fts5(x, tokenize='trigram')"
        )
    except sa.exc.OperationalError:
        return False
    conn.exec_driver_sql("DROP TABLE temp.iris_trigram_probe")
    return True


def create_text_index(conn: sa.Connection, *, rebuild: bool = False) -> bool:
    """Make the text index of ``registry_entries`` if missing; True if there is one.

    ``rebuild``: on SQLite, refill the FTS5 table from the entries (needed once when it is
    added to a table that has rows). PostgreSQL's index is built by ``CREATE INDEX`` itself.
    """
    dialect = conn.dialect.name
    if dialect == "sqlite" and not sqlite_has_trigram(conn):
        return False
    for statement in TEXT_INDEX_DDL.get(dialect, ()):
        conn.exec_driver_sql(statement)
    if dialect == "sqlite" and rebuild:
        for statement in SQLITE_TEXT_INDEX_FILL:
            conn.exec_driver_sql(statement)
    return dialect in TEXT_INDEX_DDL


@event.listens_for(RegistryEntry.__table__, "after_create")
def _create_text_index(_table: sa.Table, conn: sa.Connection, **_kw: object) -> None:
    create_text_index(conn)


@event.listens_for(RegistryEntry.__table__, "before_drop")
def _drop_text_index(_table: sa.Table, conn: sa.Connection, **_kw: object) -> None:
    if conn.dialect.name == "sqlite":  # the triggers go with the table; the FTS5 table does not
        conn.exec_driver_sql("DROP TABLE IF EXISTS registry_search")


def include_in_autogenerate(
    _obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: the text index lives outside the metadata (made by
    :data:`TEXT_INDEX_DDL`), so autogenerate must not propose to drop it."""
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "table":
        return not (name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_"))
    return not (type_ == "index" and name in (TRGM_INDEX, NAME_TEXT_INDEX))


class RegistryIdentifier(db.Model):
    """Every identifier an employer may check a certificate by: its number, and the holder's
    registration numbers (as written and digits only). Bulk checks look them up by index."""

    __tablename__ = "registry_identifiers"

    identifier: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registry_entries.certificate_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )


class VerificationEvent(db.Model):
    """One verification request: for abuse control and statistics, never who asked."""

    __tablename__ = "verification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    #: page, api, api_bulk, badge, csv, search
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: found, not_found, invalid, or for bulk checks "n/m found"
    result: Mapped[str] = mapped_column(sa.String(40))
    #: salted SHA-256 of the client address (the salt is the app's secret key)
    address_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    count: Mapped[int] = mapped_column(default=1)


from iris.registry import sync as _sync  # noqa: E402,F401  (registers the flush listener)
