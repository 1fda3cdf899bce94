"""The public registry's tables: one entry per certificate, and the verification log.

:class:`RegistryEntry` is a denormalised, public-only copy of each certificate, rebuilt in
the same transaction as every change of the certificate (see :mod:`iris.registry.sync`), so
the public channels (verify page, API, feed, badge, status list) read one indexed row and
show a change as soon as its transaction commits. It holds no personal data and no audit
content: the holder's public facts as certified, the status, the dates and the status
history (steps and reason codes, never free-text reasons or people).

**The text index.** The registry search matches words at the start of a word anywhere in
``search_text`` (``LIKE '% lodz%'``), which no B-tree index on the column can serve. The
database keeps, by itself (so the live sync, ``rebuild_all`` and the bulk loader's
COPY/executemany need no code of their own):

* an index of whole words that finds the entries matching several words at once:
  PostgreSQL a GIN index ``ix_registry_entries_search_words`` on
  ``to_tsvector('simple', search_text)``; SQLite an FTS5 table ``registry_words``
  (``unicode61``), filled by triggers. The text is already folded to letters, digits and
  single spaces, so the words are the text's words. A typed word is looked up as the words
  that start with it (from ``registry_terms``): the index steps through the lists of a few
  exact words, where prefix queries and trigram indexes merge long lists in full;
* ``registry_terms``: every word of 3 characters or more of every entry, with the
  entry's name and number, kept by triggers (deleted by their primary key, so no
  second index): the entries having a word, already in the registry's
  order, and how many there are, read from the first rows of the word's run.

Where FTS5 is missing, SQLite gets neither and the search scans
(correct, slower). Both are made by :func:`create_text_index` when ``create_all`` creates
the table (a DDL event) and must be made by the migration with the same statements
(:data:`TEXT_INDEX_DDL`); they are not in the metadata, so :func:`include_in_autogenerate`
tells Alembic to leave them alone.
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
    #: (no index of its own: the status filter's index below starts with it, and every
    #: status change would write one more index)
    state: Mapped[str] = mapped_column(sa.String(20))
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

#: the SQLite FTS5 table of the words of ``registry_entries.search_text`` (rowid =
#: certificate_id). Named anew with the word index: a database made with the trigram table
#: (``registry_search``) has none, and its search scans (right, slower) until the text index
#: is made again (``drop_text_index``, ``create_text_index(rebuild=True)``)
SEARCH_TABLE = "registry_words"
#: the PostgreSQL GIN index of the words of ``registry_entries.search_text``
TEXT_INDEX = "ix_registry_entries_search_words"
#: the text search configuration of the words: no stemming, no stop words
TS_CONFIG = "simple"

#: Every word of 3 characters or more of every entry (numbers too), with the entry's name
#: and number: the entries that have a word, in the registry's order (name, number). A common word's first
#: page is the first rows of its run: walking the name index instead passes every entry
#: named before the first match, a share of the registry (0.8 % for "lodz": 8,071 entries
#: at 1,000,000), and counting or sorting its matches reads them all.
TERMS_TABLE = "registry_terms"

#: The statements that make the text index, per dialect (for the migration, too).
#: FTS5 keeps its own copy of the text (about 110 bytes an entry; with the entries as
#: external content every candidate was checked by reading its 2.5 KB row: twice as slow);
#: ``detail=none`` (no positions: words are matched one by one, never as phrases),
#: ``columnsize=0`` (no ranking); ``remove_diacritics 0``: fold() has removed the Latin
#: accents already and keeps й, ї and ё as letters of their own. The triggers keep both in step with every insert,
#: delete and change of the text, name or number (a status patch touches none of them),
#: including the bulk loader's executemany and COPY (on PostgreSQL the terms trigger is
#: ``ENABLE ALWAYS``: it fires with ``session_replication_role = replica`` too).
TEXT_INDEX_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE INDEX IF NOT EXISTS ix_registry_entries_search_words ON registry_entries"
        " USING gin (to_tsvector('simple'::regconfig, search_text))",
        "CREATE TABLE IF NOT EXISTS registry_terms ("
        ' word text COLLATE "C" NOT NULL, name varchar(300) NOT NULL,'
        " number varchar(40) NOT NULL, certificate_id integer NOT NULL,"
        " CONSTRAINT pk_registry_terms PRIMARY KEY (word, name, number, certificate_id))",
        "CREATE OR REPLACE FUNCTION registry_terms_sync() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        "  IF TG_OP = 'UPDATE' AND OLD.search_text IS NOT DISTINCT FROM NEW.search_text"
        "   AND OLD.name IS NOT DISTINCT FROM NEW.name"
        "   AND OLD.number IS NOT DISTINCT FROM NEW.number THEN RETURN NULL; END IF;"
        "  IF TG_OP IN ('UPDATE', 'DELETE') THEN"
        "   DELETE FROM registry_terms WHERE word = ANY(string_to_array(btrim(OLD.search_text), ' '))"
        "   AND name = OLD.name AND number = OLD.number"
        "   AND certificate_id = OLD.certificate_id; END IF;"
        "  IF TG_OP IN ('INSERT', 'UPDATE') THEN"
        "   INSERT INTO registry_terms (word, name, number, certificate_id)"
        "   SELECT DISTINCT w, NEW.name, NEW.number, NEW.certificate_id"
        "   FROM unnest(string_to_array(btrim(NEW.search_text), ' ')) AS w"
        "   WHERE length(w) >= 3 ON CONFLICT DO NOTHING; END IF;"
        "  RETURN NULL;"
        " END $$",
        "CREATE OR REPLACE TRIGGER registry_terms_sync"
        " AFTER INSERT OR DELETE OR UPDATE OF search_text, name, number ON registry_entries"
        " FOR EACH ROW EXECUTE FUNCTION registry_terms_sync()",
        "ALTER TABLE registry_entries ENABLE ALWAYS TRIGGER registry_terms_sync",
    ),
    "sqlite": (
        "CREATE VIRTUAL TABLE IF NOT EXISTS registry_words USING fts5(search_text,"
        " tokenize='unicode61 remove_diacritics 0', detail='none', columnsize=0)",
        "CREATE TRIGGER IF NOT EXISTS registry_words_insert AFTER INSERT ON registry_entries"
        " BEGIN INSERT INTO registry_words(rowid, search_text)"
        " VALUES (new.certificate_id, new.search_text); END",
        "CREATE TRIGGER IF NOT EXISTS registry_words_delete AFTER DELETE ON registry_entries"
        " BEGIN DELETE FROM registry_words WHERE rowid = old.certificate_id; END",
        "CREATE TRIGGER IF NOT EXISTS registry_words_update"
        " AFTER UPDATE OF search_text ON registry_entries"
        " WHEN old.search_text IS NOT new.search_text"
        " BEGIN UPDATE registry_words SET search_text = new.search_text"
        " WHERE rowid = old.certificate_id; END",
        "CREATE TABLE IF NOT EXISTS registry_terms ("
        " word TEXT NOT NULL, name VARCHAR(300) NOT NULL, number VARCHAR(40) NOT NULL,"
        " certificate_id INTEGER NOT NULL,"
        " CONSTRAINT pk_registry_terms PRIMARY KEY (word, name, number, certificate_id))"
        " WITHOUT ROWID",
        # search_text is fold()ed: letters, digits and single spaces, so this is valid JSON
        "CREATE TRIGGER IF NOT EXISTS registry_terms_insert AFTER INSERT ON registry_entries"
        " BEGIN INSERT OR IGNORE INTO registry_terms (word, name, number, certificate_id)"
        " SELECT value, new.name, new.number, new.certificate_id FROM json_each("
        "'[\"' || replace(trim(new.search_text), ' ', '\",\"') || '\"]')"
        " WHERE length(value) >= 3; END",
        "CREATE TRIGGER IF NOT EXISTS registry_terms_delete AFTER DELETE ON registry_entries"
        " BEGIN DELETE FROM registry_terms WHERE word IN (SELECT value FROM json_each("
        "'[\"' || replace(trim(old.search_text), ' ', '\",\"') || '\"]'))"
        " AND name = old.name AND number = old.number"
        " AND certificate_id = old.certificate_id; END",
        "CREATE TRIGGER IF NOT EXISTS registry_terms_update"
        " AFTER UPDATE OF search_text, name, number ON registry_entries"
        " WHEN old.search_text IS NOT new.search_text OR old.name IS NOT new.name"
        " OR old.number IS NOT new.number"
        " BEGIN DELETE FROM registry_terms WHERE word IN (SELECT value FROM json_each("
        "'[\"' || replace(trim(old.search_text), ' ', '\",\"') || '\"]'))"
        " AND name = old.name AND number = old.number AND certificate_id = old.certificate_id;"
        " INSERT OR IGNORE INTO registry_terms (word, name, number, certificate_id)"
        " SELECT value, new.name, new.number, new.certificate_id FROM json_each("
        "'[\"' || replace(trim(new.search_text), ' ', '\",\"') || '\"]')"
        " WHERE length(value) >= 3; END",
    ),
}

#: Fill the text index from the entries already there (once, when it is added to a table
#: that has rows: the triggers see only later changes).
TEXT_INDEX_FILL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DELETE FROM registry_terms",
        "INSERT INTO registry_terms (word, name, number, certificate_id)"
        " SELECT DISTINCT w, e.name, e.number, e.certificate_id FROM registry_entries e,"
        " unnest(string_to_array(btrim(e.search_text), ' ')) AS w"
        " WHERE length(w) >= 3",
    ),
    "sqlite": (
        "DELETE FROM registry_words",
        "INSERT INTO registry_words(rowid, search_text)"
        " SELECT certificate_id, search_text FROM registry_entries",
        # one segment instead of the several a bulk insert leaves (1 s at 1,000,000)
        "INSERT INTO registry_words(registry_words) VALUES ('optimize')",
        "DELETE FROM registry_terms",
        "INSERT OR IGNORE INTO registry_terms (word, name, number, certificate_id)"
        " SELECT j.value, e.name, e.number, e.certificate_id FROM registry_entries e,"
        " json_each('[\"' || replace(trim(e.search_text), ' ', '\",\"') || '\"]') j"
        " WHERE length(j.value) >= 3",
    ),
}


def sqlite_has_fts5(conn: sa.Connection) -> bool:
    """Whether this SQLite has FTS5 (a build option, on in Python's builds)."""
    try:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE temp.iris_fts5_probe USING fts5(x)")
    except sa.exc.OperationalError:
        return False
    conn.exec_driver_sql("DROP TABLE temp.iris_fts5_probe")
    return True


def create_text_index(conn: sa.Connection, *, rebuild: bool = False) -> bool:
    """Make the text index of ``registry_entries`` if missing; True if there is one.

    ``rebuild``: fill it from the entries already there (:data:`TEXT_INDEX_FILL`; needed
    once when it is added to a table that has rows).
    """
    dialect = conn.dialect.name
    if dialect == "sqlite" and not sqlite_has_fts5(conn):
        return False
    for statement in TEXT_INDEX_DDL.get(dialect, ()):
        conn.exec_driver_sql(statement)
    for statement in TEXT_INDEX_FILL.get(dialect, ()) if rebuild else ():
        conn.exec_driver_sql(statement)
    return dialect in TEXT_INDEX_DDL


def drop_text_index(conn: sa.Connection) -> None:
    """Remove the text index (tables, triggers, index): for a bulk load of many entries,
    then :func:`create_text_index` with ``rebuild=True`` makes it again from all the rows,
    a few times faster than the triggers row by row (measured: SQLite 100,000 entries
    29 s with the triggers, 4 s without plus 8 s to fill; PostgreSQL see BENCHMARKS.md)."""
    if conn.dialect.name == "sqlite":
        for table in (SEARCH_TABLE, TERMS_TABLE, "registry_search"):  # and the trigram one
            for event_name in ("insert", "delete", "update"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_{event_name}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TEXT_INDEX}")
        # the trigram index the registry had before the word index (databases made then)
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_registry_entries_search_trgm")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TERMS_TABLE}")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS registry_terms_sync() CASCADE")


@event.listens_for(RegistryEntry.__table__, "after_create")
def _create_text_index(_table: sa.Table, conn: sa.Connection, **_kw: object) -> None:
    create_text_index(conn)


@event.listens_for(RegistryEntry.__table__, "before_drop")
def _drop_text_index(_table: sa.Table, conn: sa.Connection, **_kw: object) -> None:
    drop_text_index(conn)  # its tables would outlive the entries' table


def include_in_autogenerate(
    _obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: the text index lives outside the metadata (made by
    :data:`TEXT_INDEX_DDL`), so autogenerate must not propose to drop it."""
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "table":
        return not (name in (SEARCH_TABLE, TERMS_TABLE) or name.startswith(SEARCH_TABLE + "_"))
    return not (type_ == "index" and name == TEXT_INDEX)


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
    #: how many certificates were checked: a bulk check's items, or the single lookups of
    #: one second with this kind, result and address (one row, ``at`` the first one's time)
    count: Mapped[int] = mapped_column(default=1)


from iris.registry import sync as _sync  # noqa: E402,F401  (registers the flush listener)
