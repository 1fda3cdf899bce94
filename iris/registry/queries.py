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
from sqlalchemy.orm import Session, defer

from iris.core.db import db
from iris.registry.models import (
    SEARCH_TABLE,
    TERMS_TABLE,
    TS_CONFIG,
    RegistryEntry,
    RegistryIdentifier,
)
from iris.registry.sync import CHANNEL, NOTIFIED_FLUSH, identifier_key
from iris.registry.text import digits, fold

_BY_NUMBER = "SELECT document FROM registry_entries WHERE number = {mark}"
#: SQLite: the document's UTF-8 bytes as stored, not decoded into a str and encoded again
#: for the response (2.4 µs of 10 per lookup and answer)
_BY_NUMBER_SQLITE = "SELECT CAST(document AS BLOB) FROM registry_entries WHERE number = ?"
#: name of the server-side prepared statement of the PostgreSQL lean path
_PREPARED = b"iris_registry_document"
_local = threading.local()
log = logging.getLogger(__name__)


class DocumentCache:
    """This process's cache of registry documents by number (PostgreSQL only).

    ``generation`` counts the invalidations: a document read from the database is kept only
    if no invalidation happened while it was being read, so a read that raced a change can
    never put the old document back after the notification cleared the cache.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[str, bytes] = {}
        self.generation = 0
        self.listening = False
        self.pid = os.getpid()
        self.engine: Any = None
        self.thread: threading.Thread | None = None

    def clear(self) -> None:
        self.generation += 1
        self.data = {}

    def get(self, number: str, load: Any) -> bytes | None:
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
        failing = False  # the last attempt failed: the outage is reported once, not per retry
        while True:
            try:
                raw = self.engine.raw_connection()
                driver = raw.driver_connection
                raw.detach()  # a connection of its own, outside the pool's count
                driver.autocommit = True
                driver.execute(f"LISTEN {CHANNEL}")
                self.clear()  # anything may have changed while nobody listened
                self.listening = True
                failing = False
                for _ in driver.notifies():
                    self.clear()
            except Exception:
                if not failing:
                    log.exception("registry cache: listener lost; caching off until it reconnects")
                failing = True
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
    engine = db.engine
    if cache is not None and cache.pid == os.getpid() and cache.engine is engine:
        return cache
    if engine.dialect.name != "postgresql":
        return None
    from flask import current_app

    size = int(current_app.config.get("IRIS_REGISTRY_CACHE_SIZE", 0) or 0)
    if size <= 0:
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
    announced = session.info.pop(NOTIFIED_FLUSH, None) is _context  # by the entry's patch
    if conn.dialect.name == "postgresql" and not announced:
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
    elif db.engine.dialect.name == "sqlite":
        sql = _BY_NUMBER_SQLITE
    else:
        sql = _BY_NUMBER.format(
            mark="%s" if db.engine.dialect.paramstyle in ("format", "pyformat") else "?"
        )
    _local.reader = (pid, db.engine, driver, sql, raw)
    return driver, sql


def close_reader() -> None:
    """Close this thread's lean-read connection (it is made again on the next lookup).
    Closed, not returned to the pool: it was made autocommit."""
    cached = _local.__dict__.pop("reader", None)
    if cached is not None:
        cached[4].invalidate()


def _pq() -> Any:
    import psycopg.pq

    return psycopg.pq


def _pg_lookup(driver: Any, number: str) -> bytes | None:
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
    return None if value is None else bytes(value)


def _document_json_raw(number: str) -> bytes | None:
    """The public JSON document of the certificate ``number`` (canonical form) as UTF-8
    bytes, or None."""
    cache = _process_cache()
    if cache is not None:
        return cache.get(number, _lookup)
    return _lookup(number)


def _lookup(number: str) -> bytes | None:
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
    if row is None:
        return None
    value = row[0]
    return value if isinstance(value, bytes) else str(value).encode()


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

#: Rows read from a word's run in ``registry_terms`` to count its entries (an entry is there
#: once for each of its words that start with what was typed: a few more than the cap)
TERMS_RUN = COUNT_CAP + 100
#: A typed word that starts more distinct words than this is not walked word by word
MAX_RUN_WORDS = 30

_index_found: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def _text_index() -> frozenset[str]:
    """The tables of the text index this database has (looked up once per engine)."""
    engine = db.engine
    found = _index_found.get(engine)
    if found is None:
        if engine.dialect.name == "sqlite":
            query = sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (:fts, :terms)"
            )
        else:
            query = sa.text(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_name IN (:fts, :terms)"
            )
        names = db.session.scalars(query, {"fts": SEARCH_TABLE, "terms": TERMS_TABLE})
        found = frozenset(str(n) for n in names)
        _index_found[engine] = found
    return found


def _sqlite_text_index() -> bool:
    return SEARCH_TABLE in _text_index()


_TERMS = sa.table(
    TERMS_TABLE,
    sa.column("word"),
    sa.column("name"),
    sa.column("number"),
    sa.column("certificate_id"),
)


def _run(word: str) -> Any:
    """The rows of ``registry_terms`` whose word starts with ``word`` (code point order: the
    column's collation is "C" on PostgreSQL, BINARY on SQLite)."""
    return sa.and_(_TERMS.c.word >= word, _TERMS.c.word < word[:-1] + chr(ord(word[-1]) + 1))


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


def _words_starting_sql(i: int) -> str:
    """The ``i``-th word's distinct words, in order: one seek of ``registry_terms``'s index
    each, stopped after ``:n`` (a counter in the recursion, so no database runs on)."""
    # only the arm's number is formatted in; the words are bound parameters
    template = (
        "w{i}(word, k) AS ("
        " SELECT min(word), 1 FROM registry_terms WHERE word >= :lo{i} AND word < :hi{i}"
        " UNION ALL"
        " SELECT (SELECT min(word) FROM registry_terms WHERE word > w{i}.word AND word < :hi{i}),"
        " k + 1 FROM w{i} WHERE w{i}.word IS NOT NULL AND k < :n)"
    )
    return template.format(i=int(i))


def _words_starting(words: list[str], limit: int) -> dict[str, list[str]]:
    """For each of ``words`` (3 characters or more): the distinct words of the entries that
    start with it, in order, at most ``limit``. One statement for all of them."""
    if not words:
        return {}
    params: dict[str, Any] = {"n": limit}
    for i, word in enumerate(words):
        params[f"lo{i}"], params[f"hi{i}"] = word, word[:-1] + chr(ord(word[-1]) + 1)
    arms = range(len(words))
    ctes = ", ".join(_words_starting_sql(i) for i in arms)
    rows = " UNION ALL ".join(
        f"SELECT {i} AS i, word, k FROM w{i} WHERE word IS NOT NULL"  # noqa: S608 (numbers)
        for i in arms
    )
    sql = "WITH RECURSIVE " + ctes + " " + rows
    found: dict[str, list[str]] = {word: [] for word in words}
    for i, word, _k in sorted(db.session.execute(sa.text(sql), params), key=lambda r: (r[0], r[2])):
        found[words[i]].append(str(word))
    return found


#: The text index's query syntax per dialect: an exact word, a beginning, or, and.
_SYNTAX = {
    "sqlite": ('"{}"', '"{}"*', " OR ", " AND "),  # FTS5
    "postgresql": ("{}", "{}:*", " | ", " & "),  # to_tsquery
}


def _text_query(words: list[str], dialect: str, expand: Any) -> str | None:
    """The text index's query for entries having a word that starts with each of
    ``words``; None when no word of any entry starts with one of them.

    A typed word of 3 characters or more becomes the words that start with it
    (``("gdansk" OR "gdanska")``, from ``registry_terms``): the index steps through a few
    exact words' lists together, skipping ahead. Measured at 1,000,000 entries for three
    words each common but rare together: SQLite FTS5 2.2 ms, where its prefix query
    (``"gdansk"*``) first merges each prefix's lists in full (37 ms) and a trigram index
    took 11-19 ms; PostgreSQL 3.3 ms, prefix query 22 ms, trigram index 14 ms. Shorter
    words, and words that start more than MAX_RUN_WORDS words, stay prefix queries. Words
    are fold()ed: letters and digits only, nothing to escape. ``expand(word)``: the words
    that start with ``word`` (:meth:`Filters.expansion`).
    """
    exact_word, beginning, either, both = _SYNTAX[dialect]
    groups = []
    terms = TERMS_TABLE in _text_index()
    for word in words:
        exact = expand(word) if terms and len(word) >= 3 else None
        if exact is not None and not exact:
            return None
        if exact is None or len(exact) > MAX_RUN_WORDS:
            groups.append(beginning.format(word))
        else:
            groups.append("(" + either.join(exact_word.format(w) for w in exact) + ")")
    return both.join(groups)


def _starts_word(word: str) -> str:
    return f"% {word}%"  # search_text is " word word ... ": a word that starts with ``word``


@dataclass
class Filters:
    q: str = ""
    country: str = ""
    destination: str = ""
    status: str = ""
    audit_company: int | None = None
    #: the words of ``registry_terms`` that start with each typed word, looked up once
    _expansions: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def expansion(self, word: str) -> list[str]:
        """The words that start with ``word`` (3 characters or more), at most
        MAX_RUN_WORDS + 1 of them: looked up once per search, for every typed word of 3
        characters or more together (:func:`_words_starting`)."""
        found = self._expansions.get(word)
        if found is None:
            wanted = [w for w in dict.fromkeys([word, *self.words]) if len(w) >= 3]
            self._expansions.update(_words_starting(wanted, MAX_RUN_WORDS + 1))
            found = self._expansions[word]
        return found

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

    @property
    def terms(self) -> list[str]:
        """The words of ``q`` that ``registry_terms`` can look up (3 characters or more),
        longest first."""
        if TERMS_TABLE not in _text_index():
            return []
        return sorted({w for w in self.words if len(w) >= 3}, key=lambda w: (-len(w), w))

    def unindexed_text(self) -> Any | None:
        """Every word of ``q`` starts a word of the entry, in a form no index serves.

        For walks of the name index: the database checks each row it passes. (A plain LIKE
        let PostgreSQL's planner pick a trigram index, when there was one, and sort every
        match: it estimates a LIKE's matches poorly, 10 rows for 3,236 at 100,000 entries.)
        """
        words = self.words
        return sa.and_(*(self.unindexed_word(w) for w in words)) if words else None

    @staticmethod
    def unindexed_word(word: str) -> Any:
        """A word of the entry starts with ``word``, checked on its row (no index)."""
        return RegistryEntry.search_text.op("||")(sa.literal("")).like(_starts_word(word))

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
        found through the text index (no order); None when ``q`` has no word. With their
        names and numbers (the sort keys) where the entry's row is read anyway, so that
        the page is sorted without reading the rows again (:func:`_sorted_page`)."""
        words = self.words
        if not words:
            return None
        entry = RegistryEntry.__table__
        others = self.others()
        dialect = db.engine.dialect.name
        if dialect == "postgresql" or (dialect == "sqlite" and _sqlite_text_index()):
            query = _text_query(words, dialect, self.expansion)
            if query is None:  # a typed word that no word of any entry starts with
                return sa.select(entry.c.certificate_id).where(sa.false())
        if dialect == "postgresql":
            # the words' GIN index (its expression exactly), then each word checked on the
            # row: the index's parser drops a few characters fold() keeps (², ³)
            config = sa.literal_column(f"'{TS_CONFIG}'::regconfig")
            match = sa.func.to_tsvector(config, entry.c.search_text).bool_op("@@")(
                sa.func.to_tsquery(config, query)
            )
            text = [entry.c.search_text.like(_starts_word(w)) for w in words]
            keys = (entry.c.certificate_id, entry.c.name, entry.c.number)  # the row is read
            return sa.select(*keys).where(match, *text, *others)
        if dialect == "sqlite" and _sqlite_text_index():
            fts = sa.table(SEARCH_TABLE, sa.column("rowid"))
            match = sa.text(f"{SEARCH_TABLE} MATCH :fts_query").bindparams(fts_query=query)
            if not others:  # the FTS5 rowid is the certificate id
                return sa.select(fts.c.rowid.label("certificate_id")).where(match)
            return (
                sa.select(entry.c.certificate_id, entry.c.name, entry.c.number)
                .select_from(_DrivingJoin(fts, entry, entry.c.certificate_id == fts.c.rowid))
                .where(match, *others)
            )
        return sa.select(entry.c.certificate_id, entry.c.name, entry.c.number).where(
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


_KEYS = (RegistryEntry.certificate_id, *_ORDER)


def _matching(filters: Filters, limit: int | None) -> Any:
    """The ids of matching entries (up to ``limit`` of the text's), by the indexes; with
    their sort keys when the text's select has them (:meth:`Filters.by_text`)."""
    others = filters.others()
    by_text = filters.by_text()
    keyed = by_text is None or len(by_text.selected_columns) == len(_KEYS)
    ident = sa.select(*(_KEYS if keyed else _KEYS[:1])).where(filters.by_identifier(), *others)
    if by_text is None:
        return ident
    if limit is not None:
        by_text = sa.select(*by_text.limit(limit).subquery().c)
    return sa.union(by_text, ident)


def _runs(words: list[str]) -> dict[str, tuple[int, bool]]:
    """For each word: how many entries are in the first TERMS_RUN rows of its run, and
    whether that was the whole run. One statement, reading those rows of the index only."""
    arms = []
    for i, word in enumerate(words):
        run = sa.select(_TERMS.c.certificate_id).where(_run(word)).limit(TERMS_RUN).subquery()
        arms.append(
            sa.select(
                sa.literal(i).label("i"),
                sa.func.count(sa.distinct(run.c.certificate_id)),
                sa.func.count(),
            ).select_from(run)
        )
    counts = {
        int(i): (int(n), int(rows) < TERMS_RUN)
        for i, n, rows in db.session.execute(sa.union_all(*arms))
    }
    return {w: counts[i] for i, w in enumerate(words)}


def _walk(filters: Filters, offset: int, limit: int) -> Any:
    """The ids of ``limit`` matches from ``offset`` in name order, without reading the others.

    Along ``registry_terms``: each word that starts with the longest typed word is a run of
    entries in name order; each run is read until its first ``offset + limit`` matches and
    the runs merged. Each other typed word of 3 characters or more is checked in
    ``registry_terms`` too, by key (the entry has a word that starts with it: one seek per
    such word), so a search of words alone never reads an entry's row until the page is
    found; shorter words and the filters are checked on the entry. Otherwise (a typed word
    that starts too many words, or only short words) along the name index.
    """
    terms = filters.terms
    if terms:
        first = terms[0]
        words = filters.expansion(first)
        if len(words) <= MAX_RUN_WORDS:
            entry = RegistryEntry.__table__
            postgres = db.engine.dialect.name == "postgresql"
            rest = filters.others()
            probes = []
            for word in dict.fromkeys(filters.words):
                if word == first:
                    continue
                exact = filters.expansion(word) if word in terms else None
                if exact is None or len(exact) > MAX_RUN_WORDS:
                    rest.append(filters.unindexed_word(word))
                    continue
                other = _TERMS.alias()
                probe = sa.exists(
                    sa.select(sa.literal(1))
                    .where(
                        other.c.word.in_(exact),
                        other.c.name == _TERMS.c.name,
                        other.c.number == _TERMS.c.number,
                        other.c.certificate_id == _TERMS.c.certificate_id,
                    )
                    # PostgreSQL: kept a probe by key for each row of the run, not turned
                    # into a join that reads every row of the other word first
                    .offset(0 if postgres else None)
                )
                probes.append(probe)
            by_word = sa.select(_TERMS.c.certificate_id, _TERMS.c.name, _TERMS.c.number).where(
                *probes
            )
            if rest and postgres:
                # checked on the entry by key, row by row in the run's order (LATERAL): a join's
                # planner, estimating the text conditions at one row, read every entry
                # first and looked each up in the run (58 s for "agencja gdansk" at 1,000,000)
                check = (
                    sa.select(sa.literal(1).label("ok"))
                    .select_from(entry)
                    .where(entry.c.certificate_id == _TERMS.c.certificate_id, *rest)
                    .offset(0)  # not pulled up into a join the planner may turn around
                    .lateral("checked")
                )
                by_word = by_word.select_from(_TERMS.join(check, sa.true()))
            elif rest:  # checked on the entry, joined in the run's order
                by_word = by_word.select_from(
                    _DrivingJoin(_TERMS, entry, entry.c.certificate_id == _TERMS.c.certificate_id)
                ).where(*rest)
            arms = [
                by_word.where(_TERMS.c.word == word)
                .order_by(_TERMS.c.name, _TERMS.c.number)
                .limit(offset + limit)
                .subquery()
                for word in words
            ]
            arms.append(
                sa.select(entry.c.certificate_id, entry.c.name, entry.c.number)
                .where(filters.by_identifier(), *filters.others())
                .order_by(entry.c.name, entry.c.number)
                .limit(offset + limit)
                .subquery()
            )
            merged = sa.union(*(sa.select(a.c.certificate_id, a.c.name, a.c.number) for a in arms))
            merged_sq = merged.subquery()
            return (
                sa.select(merged_sq.c.certificate_id)
                .order_by(merged_sq.c.name, merged_sq.c.number)
                .offset(offset)
                .limit(limit)
            )
    return (
        sa.select(RegistryEntry.certificate_id)
        .where(*filters.where())
        .order_by(*_ORDER)
        .offset(offset)
        .limit(limit)
    )


def _sorted_page(
    matches: Any, offset: int, limit: int, cap: int | None = None
) -> tuple[list[int], int]:
    """The ids of one page of ``matches`` in the registry's order, and how many matches
    there are: one statement, each match's row read once. ``matches`` selects ids (kept
    aside, then joined to their entries by key and sorted), or ids with their names and
    numbers (sorted as they are: PostgreSQL's word index reads each match's row anyway).

    ``cap``: when more than ``cap`` match, no page (the caller walks the name order
    instead), and the entries' rows are not read: the count alone, from the same statement.
    """
    found = matches.cte("matches").prefix_with("MATERIALIZED")
    total = sa.select(sa.func.count()).select_from(found).scalar_subquery()
    if "name" in found.c:  # the matches carry their sort keys: no row read again
        page = sa.select(found.c.certificate_id, found.c.name, found.c.number).order_by(
            found.c.name, found.c.number
        )
    else:
        page = (
            sa.select(*_KEYS)
            .join(found, RegistryEntry.certificate_id == found.c.certificate_id)
            .order_by(*_ORDER)
        )
    page = page.offset(offset).limit(limit)
    if cap is not None:  # evaluated once, before the join (SQLite and PostgreSQL alike)
        page = page.where(total <= cap)
    rows = page.subquery()
    # the count as a row of its own (part 0), so it comes back with any page or none
    both = sa.union_all(
        sa.select(
            sa.literal(0).label("part"),
            sa.null().label("certificate_id"),
            sa.null().label("name"),
            sa.null().label("number"),
            total.label("total"),
        ),
        sa.select(sa.literal(1), rows.c.certificate_id, rows.c.name, rows.c.number, sa.null()),
    ).subquery()
    ordered = sa.select(both.c.certificate_id, both.c.total).order_by(
        both.c.part, both.c.name, both.c.number
    )
    count, *page_rows = db.session.execute(ordered).all()
    return [int(r.certificate_id) for r in page_rows], int(count.total or 0)


def _entries(ids: Any) -> list[RegistryEntry]:
    """The entries of a page, without their public document and search text (a list shows
    neither: 2.4 KB a row not read; reading them raises, not a query per row)."""
    return list(
        db.session.scalars(
            sa.select(RegistryEntry)
            .where(RegistryEntry.certificate_id.in_(ids))
            .order_by(*_ORDER)
            .options(
                defer(RegistryEntry.document, raiseload=True),
                defer(RegistryEntry.search_text, raiseload=True),
            )
            .execution_options(populate_existing=True)
        )
    )


def _filtered(filters: Filters, *, page: int, per_page: int, exact: bool) -> Page:
    """Filters without words: counted up to COUNT_CAP + 1 from the filters' indexes (no row
    read: index-only once the visibility map is set), the page walked in name order."""
    others = filters.others()
    limited = sa.select(sa.literal(1)).select_from(RegistryEntry).where(*others)
    count = sa.select(sa.func.count()).select_from(limited.limit(COUNT_CAP + 1).subquery())
    total = int(db.session.scalar(count) or 0)
    ids = (
        sa.select(RegistryEntry.certificate_id)
        .where(*others)
        .order_by(*_ORDER)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    rows = _entries(ids)
    if total <= COUNT_CAP:
        return Page(items=rows[:per_page], total=total, page=page, per_page=per_page)
    if not exact:
        return Page(
            items=rows[:per_page], total=COUNT_CAP, page=page, per_page=per_page,
            capped=True, has_next=len(rows) > per_page,
        )  # fmt: skip
    every = sa.select(sa.func.count()).select_from(RegistryEntry).where(*others)
    return Page(
        items=rows[:per_page], total=int(db.session.scalar(every) or 0), page=page,
        per_page=per_page,
    )  # fmt: skip


def search(filters: Filters, *, page: int = 1, per_page: int = 25, exact: bool = True) -> Page:
    """One page of the matching entries in name order, and how many match.

    First, how many match, up to ``COUNT_CAP``, by the indexes:

    * words of 3 characters or more: the first rows of each word's run in
      ``registry_terms``. A word with at most ``COUNT_CAP`` entries gives the candidates,
      checked for the other words and filters; one word alone with more is proven to match
      more;
    * otherwise the word index for the words, the identifier table for numbers, the
      status, country and company indexes for filters: at most ``COUNT_CAP + 1`` ids.

    At most ``COUNT_CAP`` matches (a rare word, a number, a narrow filter): the page is
    taken from them, sorted. More (a common word, a wide filter): the page is read in name
    order from the word's run in ``registry_terms`` (:func:`_walk`), which stops after the
    page's rows; sorting the matches of a common word would read them all on every view.

    ``exact``: count every match when there are more than ``COUNT_CAP`` (the API's
    ``total``: one more query, reading them all). Otherwise the page says "more than
    1,000" (``capped``). The work grows with the matches up to the cap, not with the size of
    the registry, except where a query falls back to the word index (several common
    words, or a common word with a filter, matching fewer than COUNT_CAP together: the
    index steps through their lists, see :func:`_text_query`) or to the name walk (a typed word starting more than
    MAX_RUN_WORDS words, or only words of 1 or 2 characters: the entries named before the
    page's).
    """
    offset = (page - 1) * per_page
    if not filters.q:
        return _filtered(filters, page=page, per_page=per_page, exact=exact)
    matches: Any = None  # a select of every match's id (at most COUNT_CAP + 1 unless rare)
    capped = True  # matches stops at COUNT_CAP + 1
    more = False  # more than COUNT_CAP match (proven)
    terms = filters.terms
    if terms:
        runs = _runs(terms)
        rare = [w for w in terms if runs[w][1] and runs[w][0] <= COUNT_CAP]
        if rare:
            # the entries of the rarest word, checked for the other words and the filters
            rarest = min(rare, key=lambda w: runs[w][0])
            run = sa.select(_TERMS.c.certificate_id).where(_run(rarest))
            if db.engine.dialect.name == "postgresql":
                # = ANY(ARRAY(...)): the entries looked up by key; with IN (...) the planner
                # may read the whole table instead (it did at 10,000 entries: 5.9 ms, not 1.4)
                candidate = RegistryEntry.certificate_id == sa.any_(
                    sa.func.array(run.scalar_subquery())
                )
            else:
                candidate = RegistryEntry.certificate_id.in_(run)
            checked = sa.select(*_KEYS).where(
                candidate,
                *filters.where(),  # every word (terms are words), the filters
            )
            ident = sa.select(*_KEYS).where(filters.by_identifier(), *filters.others())
            matches, capped = sa.union(checked, ident), False
        elif len(filters.words) == 1 and not filters.others():
            more = runs[terms[0]][0] > COUNT_CAP
    if matches is None and not more:
        matches = _matching(filters, COUNT_CAP + 1)
    if matches is not None:
        ids, total = _sorted_page(matches, offset, per_page, COUNT_CAP if capped else None)
        if total <= COUNT_CAP or not capped:
            items = _entries(ids) if ids else []
            return Page(items=items, total=total, page=page, per_page=per_page)
    rows = _entries(_walk(filters, offset, per_page + 1))
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
