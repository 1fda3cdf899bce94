"""Reading the public registry.

:func:`document_json` is the lean path used by verification by number: one indexed
lookup on a pooled connection returning the ready-made JSON document, with no ORM session,
no object construction and no serialisation (STYLE.md §7: an ORM query with its session
costs about 500 µs a request; this costs tens of µs).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from iris.core.db import db
from iris.registry.models import RegistryEntry, RegistryIdentifier
from iris.registry.sync import identifier_key
from iris.registry.text import fold

_BY_NUMBER = "SELECT document FROM registry_entries WHERE number = {mark}"
_local = threading.local()


def _reader() -> tuple[Any, str]:
    """This thread's private DBAPI connection for lean reads, and the driver's SQL.

    Taken once from the engine (so it has the same settings) and kept for the life of the
    thread, in autocommit mode so that every read sees the latest committed state and no
    transaction stays open. Re-made after a fork (gunicorn workers) or a lost connection.
    """
    pid = os.getpid()
    cached = getattr(_local, "reader", None)
    if cached is not None and cached[0] == pid and cached[1] is db.engine:
        return cached[2], cached[3]
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    if db.engine.dialect.name == "postgresql":
        driver.autocommit = True  # type: ignore[union-attr]
    sql = _BY_NUMBER.format(
        mark="%s" if db.engine.dialect.paramstyle in ("format", "pyformat") else "?"
    )
    _local.reader = (pid, db.engine, driver, sql, raw)
    return driver, sql


def _document_json_raw(number: str) -> str | None:
    """The public JSON document of the certificate ``number`` (canonical form), or None."""
    try:
        conn, sql = _reader()
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


@dataclass
class Filters:
    q: str = ""
    country: str = ""
    destination: str = ""
    status: str = ""
    audit_company: int | None = None

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.q:
            folded = fold(self.q)
            key = identifier_key(self.q)
            text_match = [
                RegistryEntry.search_text.contains(f" {word}", autoescape=True)
                for word in folded.split()
            ]
            by_identifier = RegistryEntry.certificate_id.in_(
                sa.select(RegistryIdentifier.certificate_id).where(
                    RegistryIdentifier.identifier == key
                )
            )
            clauses.append(
                sa.or_(sa.and_(*text_match), by_identifier) if text_match else by_identifier
            )
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


@dataclass
class Page:
    items: list[RegistryEntry]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search(filters: Filters, *, page: int = 1, per_page: int = 25) -> Page:
    where = filters.where()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(RegistryEntry).where(*where))
    items = list(
        db.session.scalars(
            sa.select(RegistryEntry)
            .where(*where)
            .order_by(RegistryEntry.name, RegistryEntry.number)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .execution_options(populate_existing=True)
        )
    )
    return Page(items=items, total=int(total or 0), page=page, per_page=per_page)


def iterate(filters: Filters, batch: int = 1000) -> Any:
    """Every matching entry, in name order, fetched in batches (CSV export)."""
    query = (
        sa.select(RegistryEntry)
        .where(*filters.where())
        .order_by(RegistryEntry.name, RegistryEntry.number)
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
    rows = db.session.execute(
        sa.select(RegistryEntry.audit_company_id, RegistryEntry.audit_company_name)
        .distinct()
        .order_by(RegistryEntry.audit_company_name)
    )
    return [(int(i), str(n)) for i, n in rows]


def countries() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(RegistryEntry.country).distinct().order_by(RegistryEntry.country)
        )
    )


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
