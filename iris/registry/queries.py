"""Reading the public registry.

:func:`document_json` is the lean path used by verification by number: one indexed
lookup on a pooled connection returning the ready-made JSON document, with no ORM session,
no object construction and no serialisation (STYLE.md §7: an ORM query with its session
costs about 500 µs a request; this costs tens of µs).

On PostgreSQL the documents are also kept in a per-process cache (``IRIS_REGISTRY_CACHE_SIZE``
documents, 0 = off), because there the cost is not the lookup but the round trip to another
process: a sync worker waits for it, and on a busy machine the wait is long. The cache is
emptied whenever any certificate changes: every flush that touches a certificate sends
``NOTIFY iris_registry`` in its transaction (delivered only if it commits), and a thread in
each web process listens (``LISTEN``) and clears its cache on each notification; the process that
committed clears its own at the commit. While that listener is not connected nothing is
cached. So another process may answer from its cache for the few milliseconds between a
commit and the notification's arrival; nothing older. SQLite needs no cache (its lookup is
in-process, about 10 µs).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session

from iris.core.db import db
from iris.registry.models import SEARCH_TABLE, RegistryEntry, RegistryIdentifier
from iris.registry.sync import identifier_key
from iris.registry.text import digits, fold

_BY_NUMBER = "SELECT document FROM registry_entries WHERE number = {mark}"
#: name of the server-side prepared statement of the PostgreSQL lean path
_PREPARED = b"iris_registry_document"
_local = threading.local()
CHANNEL = "iris_registry"
log = logging.getLogger(__name__)


class DocumentCache:
    """This process's cache of registry documents by number (PostgreSQL only).

    ``generation`` counts the invalidations: a document read from the database is kept only
    if no invalidation happened while it was being read, so a read that raced a change can
    never put the old document back after the notification cleared the cache.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[str, str] = {}
        self.generation = 0
        self.listening = False
        self.pid = os.getpid()
        self.engine: Any = None
        self.thread: threading.Thread | None = None

    def clear(self) -> None:
        self.generation += 1
        self.data = {}

    def get(self, number: str, load: Any) -> str | None:
        document = self.data.get(number)
        if document is not None:
            return document
        generation = self.generation
        document = load(number)
        if document is not None and self.listening and generation == self.generation:
            if len(self.data) >= self.size:
                self.data = {}
            self.data[number] = document
        return document

    def start(self, engine: Any) -> None:
        self.engine = engine
        self.thread = threading.Thread(
            target=self._listen, name="iris-registry-listen", daemon=True
        )
        self.thread.start()

    def _listen(self) -> None:
        while True:
            try:
                raw = self.engine.raw_connection()
                driver = raw.driver_connection
                raw.detach()  # a connection of its own, outside the pool's count
                driver.autocommit = True
                driver.execute(f"LISTEN {CHANNEL}")
                self.clear()  # anything may have changed while nobody listened
                self.listening = True
                for _ in driver.notifies():
                    self.clear()
            except Exception:
                log.exception("registry cache: listener lost; caching off until it reconnects")
            finally:
                self.listening = False
                self.clear()
            time.sleep(1)


_cache: DocumentCache | None = None
_cache_lock = threading.Lock()


def _process_cache() -> DocumentCache | None:
    """This process's cache, started on first use (after gunicorn's fork); None if off."""
    global _cache
    cache = _cache
    if cache is not None and cache.pid == os.getpid() and cache.engine is db.engine:
        return cache
    from flask import current_app

    size = int(current_app.config.get("IRIS_REGISTRY_CACHE_SIZE", 0) or 0)
    if size <= 0 or db.engine.dialect.name != "postgresql":
        return None
    with _cache_lock:
        if _cache is None or _cache.pid != os.getpid() or _cache.engine is not db.engine:
            fresh = DocumentCache(size)
            fresh.start(db.engine)
            _cache = fresh
        return _cache


@event.listens_for(Session, "after_flush")
def _notify_change(session: Session, _context: Any) -> None:
    """A flush that touches a certificate (as the registry sync sees it) notifies, on
    PostgreSQL, every process's document cache when its transaction commits."""
    from iris.certificates.models import Certificate
    from iris.core.history import TransitionRecord

    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Certificate) or (
            isinstance(obj, TransitionRecord) and obj.subject_type == "certificate"
        ):
            break
    else:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # every such flush (a NOTIFY in a savepoint rolled back is dropped with it);
        # PostgreSQL delivers one per channel and transaction
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")
    session.info["iris_registry_notified"] = True


@event.listens_for(Session, "after_commit")
def _clear_own_cache(session: Session) -> None:
    if session.info.pop("iris_registry_notified", None) and _cache is not None:
        _cache.clear()  # this process sees its own change at once, not a moment later


@event.listens_for(Session, "after_rollback")
def _forget_notice(session: Session) -> None:
    session.info.pop("iris_registry_notified", None)


def _reader() -> tuple[Any, str]:
    """This thread's private DBAPI connection for lean reads, and the driver's SQL.

    Taken once from the engine (so it has the same settings) and kept for the life of the
    thread, in autocommit mode so that every read sees the latest committed state and no
    transaction stays open. Re-made after a fork (gunicorn workers) or a lost connection.
    On PostgreSQL the lookup is prepared once on the connection (see :func:`_pg_lookup`).
    """
    pid = os.getpid()
    cached = getattr(_local, "reader", None)
    if cached is not None and cached[0] == pid and cached[1] is db.engine:
        return cached[2], cached[3]
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    if db.engine.dialect.name == "postgresql":
        driver.autocommit = True  # type: ignore[union-attr]
        result = driver.pgconn.prepare(  # type: ignore[union-attr]
            _PREPARED, _BY_NUMBER.format(mark="$1").encode()
        )
        if result.status != _pq().ExecStatus.COMMAND_OK:
            raise RuntimeError(result.get_error_message())
        sql = "pg"
    else:
        sql = _BY_NUMBER.format(
            mark="%s" if db.engine.dialect.paramstyle in ("format", "pyformat") else "?"
        )
    _local.reader = (pid, db.engine, driver, sql, raw)
    return driver, sql


def _pq() -> Any:
    import psycopg.pq

    return psycopg.pq


def _pg_lookup(driver: Any, number: str) -> str | None:
    """One execution of the prepared lookup through libpq itself (``psycopg.pq``).

    Measured on the request path: psycopg's cursor layer (a cursor, a row maker and its
    loaders, the query dumpers) costs several times the lookup itself on every call; the
    prepared statement saves the server's parse and plan. Text parameters and result: the
    document is UTF-8 JSON text, returned as it is.
    """
    result = driver.pgconn.exec_prepared(_PREPARED, [number.encode()])
    if result.status != _pq().ExecStatus.TUPLES_OK:
        raise RuntimeError(result.get_error_message())
    if not result.ntuples:
        return None
    value = result.get_value(0, 0)
    return None if value is None else bytes(value).decode()


def _document_json_raw(number: str) -> str | None:
    """The public JSON document of the certificate ``number`` (canonical form), or None."""
    cache = _process_cache()
    if cache is not None:
        return cache.get(number, _lookup)
    return _lookup(number)


def _lookup(number: str) -> str | None:
    try:
        conn, sql = _reader()
        if sql == "pg":
            return _pg_lookup(conn, number)
        cursor = conn.cursor()
        cursor.execute(sql, (number,))
        row = cursor.fetchone()
        cursor.close()
    except Exception:
        _local.reader = None  # a broken connection: the next request opens a new one
        raise
    return None if row is None else str(row[0])


#: The lean lookup used by the views. Tests, whose data lives in one uncommitted
#: transaction, point it at their session's connection instead.
document_json = _document_json_raw


def entry(number: str) -> RegistryEntry | None:
    # populate_existing: the row is rewritten by the flush listener behind the ORM's back
    return db.session.scalar(
        sa.select(RegistryEntry)
        .where(RegistryEntry.number == number)
        .execution_options(populate_existing=True)
    )


def existing_numbers(numbers: list[str]) -> list[str]:
    if not numbers:
        return []
    return list(
        db.session.scalars(
            sa.select(RegistryEntry.number)
            .where(RegistryEntry.number.in_(numbers))
            .order_by(RegistryEntry.number)
        )
    )


#: The most matches a search page counts: beyond it the page says "more than 1,000" (counting
#: every match of a common word would read them all on every view).
COUNT_CAP = 1000

_text_index_found: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _sqlite_text_index() -> bool:
    """Whether this SQLite database has the FTS5 text index (looked up once per engine)."""
    engine = db.engine
    found = _text_index_found.get(engine)
    if found is None:
        found = (
            db.session.scalar(
                sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :n"),
                {"n": SEARCH_TABLE},
            )
            == 1
        )
        _text_index_found[engine] = found
    return found


class _DrivingJoin(sa.sql.selectable.Join):
    """An inner join whose left side SQLite must loop over first (``CROSS JOIN``).

    The FTS5 table has no statistics: given a status or company filter, SQLite's planner
    loops over that filter's index instead and runs the whole text query once per row
    (0.8–3 s at 100,000 entries). Driven by the text index, the join stops after the rows
    it needs. Other databases get a plain join.
    """

    inherit_cache = True


@compiles(_DrivingJoin, "sqlite")
def _cross_join(element: Any, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_join(element, **kw)).replace(" JOIN ", " CROSS JOIN ", 1)


def _starts_word(word: str) -> str:
    return f"% {word}%"  # search_text is " word word ... ": a word that starts with ``word``


@dataclass
class Filters:
    q: str = ""
    country: str = ""
    destination: str = ""
    status: str = ""
    audit_company: int | None = None

    @property
    def words(self) -> list[str]:
        """The folded words of ``q``: letters and digits only, so no LIKE wildcard remains."""
        return fold(self.q).split()

    def others(self) -> list[Any]:
        """Every condition but the text."""
        clauses: list[Any] = []
        if self.country:
            clauses.append(RegistryEntry.country == self.country.upper())
        if self.destination:
            clauses.append(
                RegistryEntry.destinations.contains(
                    f",{self.destination.upper()},", autoescape=True
                )
            )
        if self.status:
            clauses.append(RegistryEntry.state == self.status)
        if self.audit_company is not None:
            clauses.append(RegistryEntry.audit_company_id == self.audit_company)
        return clauses

    def by_identifier(self) -> Any:
        """The entries that have ``q`` as a certificate or registration number: as typed
        (without spaces and dashes), or its digits alone when there are 6 or more (so
        "KRS 0000123456" finds the KRS number 0000123456)."""
        keys = {identifier_key(self.q)}
        if len(digits(self.q)) >= 6:
            keys.add(digits(self.q))
        return RegistryEntry.certificate_id.in_(
            sa.select(RegistryIdentifier.certificate_id).where(
                RegistryIdentifier.identifier.in_(sorted(keys))
            )
        )

    def unindexed_text(self) -> Any | None:
        """Every word of ``q`` starts a word of the entry, in a form no index serves.

        For walks of the name index: the database checks each row it passes. (A plain LIKE
        would let PostgreSQL's planner pick the trigram index and sort every match: it
        estimates a LIKE's matches poorly, 10 rows for 3,236 at 100,000 entries.)
        """
        column = RegistryEntry.search_text.op("||")(sa.literal(""))
        return sa.and_(*(column.like(_starts_word(w)) for w in self.words)) if self.words else None

    def where(self) -> list[Any]:
        """Every condition, the text unindexed: for walks in name order."""
        clauses = self.others()
        if self.q:
            text = self.unindexed_text()
            ident = self.by_identifier()
            clauses.append(sa.or_(text, ident) if text is not None else ident)
        return clauses

    def by_text(self) -> Any | None:
        """The ids of the entries whose text matches and that pass the other filters,
        found through the text index (no order); None when ``q`` has no word."""
        words = self.words
        if not words:
            return None
        entry = RegistryEntry.__table__
        others = self.others()
        if (
            db.engine.dialect.name == "sqlite"
            and _sqlite_text_index()
            and any(len(w) >= 2 for w in words)  # FTS5 needs 3 characters: " xy"
        ):
            fts = sa.table(SEARCH_TABLE, sa.column("rowid"), sa.column("search_text"))
            match = [fts.c.search_text.like(_starts_word(w)) for w in words]
            if not others:  # the FTS5 rowid is the certificate id
                return sa.select(fts.c.rowid.label("certificate_id")).where(*match)
            return (
                sa.select(entry.c.certificate_id)
                .select_from(_DrivingJoin(fts, entry, entry.c.certificate_id == fts.c.rowid))
                .where(*match, *others)
            )
        return sa.select(entry.c.certificate_id).where(
            *(entry.c.search_text.like(_starts_word(w)) for w in words), *others
        )


@dataclass
class Page:
    items: list[RegistryEntry]
    #: the number of matches; COUNT_CAP when ``capped`` (there are more)
    total: int
    page: int
    per_page: int
    capped: bool = False
    has_next: bool = False
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))
        if not self.capped:
            self.has_next = self.page < self.pages


_ORDER = (RegistryEntry.name, RegistryEntry.number)


def _matching(filters: Filters, limit: int | None) -> Any:
    """The ids of matching entries (up to ``limit`` of the text's), by the indexes."""
    others = filters.others()
    if not filters.q:
        return sa.select(RegistryEntry.certificate_id).where(*others).limit(limit)
    ident = sa.select(RegistryEntry.certificate_id).where(filters.by_identifier(), *others)
    by_text = filters.by_text()
    if by_text is None:
        return ident
    if limit is not None:
        by_text = sa.select(by_text.limit(limit).subquery().c.certificate_id)
    return sa.union(by_text, ident)


def search(filters: Filters, *, page: int = 1, per_page: int = 25, exact: bool = True) -> Page:
    """One page of the matching entries in name order, and how many match.

    First the ids of the matches, found by the indexes (the text index for words, the
    identifier table for numbers, the status, country and company indexes), at most
    ``COUNT_CAP + 1`` of them. Then:

    * at most ``COUNT_CAP`` (a rare word, a number, a narrow filter): the page is taken
      from those few, sorted;
    * more (a common word, a wide filter): the page is a walk of the name index checking
      each entry, which stops after the page's rows: about ``page × per_page / share of
      entries that match`` steps, whatever the size of the registry. Sorting every match of
      a common word would read them all on every view.

    ``exact``: count every match when there are more than ``COUNT_CAP`` (the API's
    ``total``; one more query). Otherwise the page says "more than COUNT_CAP" (``capped``).
    The work grows with the matches up to the cap and, for words, with the length of their
    trigrams' lists in the text index; not with the size of the registry.
    """
    ids = list(db.session.scalars(_matching(filters, COUNT_CAP + 1)))
    offset = (page - 1) * per_page
    if len(ids) <= COUNT_CAP:
        items: list[RegistryEntry] = []
        if ids:
            in_page = (
                sa.select(RegistryEntry.certificate_id)
                .where(RegistryEntry.certificate_id.in_(ids))
                .order_by(*_ORDER)
                .offset(offset)
                .limit(per_page)
            )
            items = list(
                db.session.scalars(
                    sa.select(RegistryEntry)
                    .where(RegistryEntry.certificate_id.in_(in_page))
                    .order_by(*_ORDER)
                    .execution_options(populate_existing=True)
                )
            )
        return Page(items=items, total=len(ids), page=page, per_page=per_page)
    rows = list(
        db.session.scalars(
            sa.select(RegistryEntry)
            .where(*filters.where())
            .order_by(*_ORDER)
            .offset(offset)
            .limit(per_page + 1)
            .execution_options(populate_existing=True)
        )
    )
    if not exact:
        return Page(
            items=rows[:per_page],
            total=COUNT_CAP,
            page=page,
            per_page=per_page,
            capped=True,
            has_next=len(rows) > per_page,
        )
    every = _matching(filters, None).subquery()
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(every)) or 0)
    return Page(items=rows[:per_page], total=total, page=page, per_page=per_page)


def iterate(filters: Filters, batch: int = 1000) -> Any:
    """Every matching entry, in name order, fetched in batches (CSV export)."""
    query = (
        sa.select(RegistryEntry)
        .where(*filters.where())
        .order_by(*_ORDER)
        .execution_options(yield_per=batch)
    )
    yield from db.session.scalars(query)


def by_identifiers(keys: list[str]) -> dict[str, list[RegistryEntry]]:
    """Entries for each identifier key (certificate or registration numbers), in one query."""
    if not keys:
        return {}
    rows = db.session.execute(
        sa.select(RegistryIdentifier.identifier, RegistryEntry)
        .join(RegistryEntry, RegistryEntry.certificate_id == RegistryIdentifier.certificate_id)
        .where(RegistryIdentifier.identifier.in_(set(keys)))
        .order_by(RegistryEntry.number)
        .execution_options(populate_existing=True)
    ).all()
    found: dict[str, list[RegistryEntry]] = {}
    for ident, row in rows:
        found.setdefault(ident, []).append(row)
    return found


def audit_companies() -> list[tuple[int, str]]:
    """The audit companies that certified at least one entry (the search filter's choices),
    by the name on their latest entry (entries keep the name as certified).

    One lookup per audit company on the entries' ``audit_company_id`` index: the cost
    follows the number of companies, not of certificates (a DISTINCT over the entries read
    every one of them: 28 ms at 45,000 entries on SQLite, growing with the registry).
    """
    from iris.accounts.models import Organisation

    latest_name = (
        sa.select(RegistryEntry.audit_company_name)
        .where(RegistryEntry.audit_company_id == Organisation.id)
        # both columns: the order of ix_registry_entries_company_latest (PostgreSQL otherwise
        # walks the primary key backwards, filtering, when a company has many entries)
        .order_by(RegistryEntry.audit_company_id.desc(), RegistryEntry.certificate_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Organisation.id, latest_name).where(Organisation.kind == "audit_company")
    ).all()
    return sorted(((int(i), str(n)) for i, n in rows if n is not None), key=lambda r: r[1])


#: the distinct countries by a walk of the country index, one probe per country (PostgreSQL
#: has no skip scan: its DISTINCT reads the whole index, 5 ms at 10,000 entries)
_COUNTRIES = sa.text(
    "WITH RECURSIVE c(country) AS ("
    " SELECT min(country) FROM registry_entries"
    " UNION ALL"
    " SELECT (SELECT min(country) FROM registry_entries WHERE country > c.country)"
    " FROM c WHERE c.country IS NOT NULL"
    ") SELECT country FROM c WHERE country IS NOT NULL"
)


def countries() -> list[str]:
    return [str(c) for c in db.session.scalars(_COUNTRIES)]


def changes(number: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest status changes (newest first), of all certificates or of one."""
    from iris.core.history import TransitionRecord

    query = (
        sa.select(TransitionRecord, RegistryEntry.number, RegistryEntry.name)
        .join(RegistryEntry, RegistryEntry.certificate_id == TransitionRecord.subject_id)
        .where(TransitionRecord.subject_type == "certificate")
        .order_by(TransitionRecord.id.desc())
        .limit(limit)
    )
    if number is not None:
        query = query.where(RegistryEntry.number == number)
    return [
        {
            "id": rec.id,
            "at": rec.at,
            "event": rec.trigger,
            "from": rec.from_state,
            "to": rec.to_state,
            "reason_code": (rec.payload or {}).get("reason_code"),
            "number": num,
            "name": name,
        }
        for rec, num, name in db.session.execute(query)
    ]


def generation() -> tuple[int, int]:
    """Changes whenever any certificate's status changes: (last change id, entry count)."""
    row = db.session.execute(
        sa.select(sa.func.max(RegistryEntry.last_change_id), sa.func.count()).select_from(
            RegistryEntry
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def statuses() -> dict[str, str]:
    rows = db.session.execute(
        sa.select(RegistryEntry.number, RegistryEntry.state).order_by(RegistryEntry.number)
    )
    return {str(n): str(s) for n, s in rows}
