"""The transactional outbox: messages written with the change that causes them, sent later.

A row of an outbox table (e-mail in :mod:`iris.core.mail`, webhook calls in the
notifications feature) is written in the caller's transaction, so it exists exactly when
the change that caused it committed. Delivery happens afterwards, outside any request:

- **claim**: a deliverer takes one due row with a single conditional UPDATE
  (``... WHERE id = :id AND status = 'pending' AND next_attempt_at <= now AND
  (claimed_until IS NULL OR claimed_until < now)``) and commits the claim. The database
  lets only one UPDATE match, so two workers never both own a row. On PostgreSQL the
  candidates are read with ``FOR UPDATE SKIP LOCKED``, so busy workers do not queue
  behind each other's locks;
- **lease**: the claim lasts ``IRIS_OUTBOX_LEASE_SECONDS``. A worker that dies after
  claiming (killed, out of memory, host lost) leaves the row claimed; once the lease has
  run out any deliverer takes it again. Nothing is lost;
- **send**: the row's own ``transmit(config)`` (SMTP, HTTP POST ...). Success marks it
  ``sent`` (only if the claim is still ours: the claim token must match);
- **retry**: a failure stores the error and schedules the next attempt with exponential
  backoff (``base * 2**(attempts-1)``, capped), or marks the row ``failed`` after
  ``IRIS_OUTBOX_MAX_ATTEMPTS`` attempts. A failed row stays visible with its error;
- **idempotency**: each row may carry an ``idempotency_key`` (unique), so the same event
  never produces two rows for one recipient; the claim makes sure one row is sent once.

One window remains, as in every outbox: if the receiving server accepts a message and the
worker dies before its "sent" commit, the row is sent again after the lease. Mail carries
a stable ``Message-ID`` and webhooks a stable delivery id, so receivers can drop the
duplicate. Core code only: the classes that use it are found through the model registry.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from iris.core.db import Base, enum_column, utcnow

log = logging.getLogger(__name__)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    LOCAL = "local"  # kept in the local outbox: no transport configured (mail only)
    FAILED = "failed"  # gave up after the last attempt; kept with its error


class DeliveryError(Exception):
    """A transport failure worth retrying (server down, timeout, 5xx)."""


class OutboxMixin:
    """The delivery columns of an outbox table. Subclasses define ``transmit(config)``."""

    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, name="outbox_status"), default=OutboxStatus.PENDING
    )
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: not before this moment (backoff after a failure)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a deliverer owns the row until then (its lease); empty when nobody does
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    sent_at: Mapped[datetime | None]

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        # The deliverers' query: due pending rows, oldest first.
        return (sa.Index(f"ix_{cls.__tablename__}_due", "status", "next_attempt_at"),)  # type: ignore[attr-defined]

    def transmit(self, config: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Settings:
    lease: timedelta
    max_attempts: int
    base: float
    cap: float

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(
            lease=timedelta(seconds=int(config.get("IRIS_OUTBOX_LEASE_SECONDS", 300))),
            max_attempts=int(config.get("IRIS_OUTBOX_MAX_ATTEMPTS", 8)),
            base=float(config.get("IRIS_OUTBOX_RETRY_BASE_SECONDS", 60)),
            cap=float(config.get("IRIS_OUTBOX_RETRY_MAX_SECONDS", 6 * 3600)),
        )


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base ... capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed


def outbox_classes() -> list[type[Any]]:
    """Every mapped class with the outbox columns (mail, webhooks ...), by table name."""
    found = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, OutboxMixin)]
    return sorted(found, key=lambda c: c.__tablename__)


def outbox_class(table: str) -> type[Any]:
    for cls in outbox_classes():
        if cls.__tablename__ == table:
            return cls
    raise LookupError(f"no outbox table named {table!r}")


def queued(session: Session, cls: Any, idempotency_key: str) -> Any:
    """The row of the outbox ``cls`` with ``idempotency_key``, or None: added to ``session``
    and not flushed yet, or in the database. Never flushes: a lifecycle step that queues
    mail keeps its changes for its own flush (its subject written once)."""
    for obj in session.new:
        if isinstance(obj, cls) and obj.idempotency_key == idempotency_key:
            return obj
    with session.no_autoflush:
        return session.scalar(sa.select(cls).where(cls.idempotency_key == idempotency_key))


def _due(cls: Any, now: datetime) -> Any:
    return sa.and_(
        cls.status == OutboxStatus.PENDING,
        cls.next_attempt_at <= now,
        sa.or_(cls.claimed_until.is_(None), cls.claimed_until < now),
    )


def claim(session: Session, cls: Any, row_id: int, settings: Settings, now: datetime) -> str | None:
    """Take the row for this deliverer; the claim token, or None if it is not ours to send.

    One conditional UPDATE: of two deliverers racing for a row, exactly one matches.
    Commits (the claim must be visible to the others before the slow send starts).
    """
    token = secrets.token_hex(16)
    result = session.execute(
        sa.update(cls)
        .where(cls.id == row_id, _due(cls, now))
        .values(
            claimed_until=now + settings.lease,
            claim_token=token,
            attempts=cls.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


def due_ids(session: Session, cls: Any, now: datetime, limit: int) -> list[int]:
    query = sa.select(cls.id).where(_due(cls, now)).order_by(cls.next_attempt_at, cls.id)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    session.commit()  # release the row locks; the claim UPDATE decides who owns a row
    return ids


def deliver_one(session: Session, cls: Any, row_id: int, config: Any) -> str:
    """Claim, send and record one row: ``sent``, ``retrying``, ``failed`` or ``skipped``."""
    settings = Settings.from_config(config)
    now = utcnow()
    token = claim(session, cls, row_id, settings, now)
    if token is None:
        return "skipped"
    row = session.get(cls, row_id, populate_existing=True)
    assert row is not None
    _end_read(session, row)
    try:
        row.transmit(config)
    except Exception as exc:  # any transport failure: keep the row, try again later
        log.warning(
            "%s #%s not delivered (attempt %s): %s", cls.__tablename__, row_id, row.attempts, exc
        )
        return _record_failure(session, cls, row_id, token, row.attempts, exc, settings)
    finished = session.execute(
        sa.update(cls)
        .where(cls.id == row_id, cls.claim_token == token)
        .values(
            status=OutboxStatus.SENT,
            sent_at=utcnow(),
            claimed_until=None,
            claim_token=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if finished.rowcount != 1:  # type: ignore[attr-defined]
        # Our lease ran out while sending and someone else took the row over.
        log.warning("%s #%s: lease lost while sending", cls.__tablename__, row_id)
    return "sent"


def _end_read(session: Session, row: Any) -> None:
    """End the transaction that read ``row`` (and what it refers to), keeping it loaded.

    So the result is written by a transaction that starts with its write: on SQLite a
    transaction that read before a slow send could not write once anyone else had
    committed meanwhile ("database is locked" at once, no waiting), and the message, sent
    but not marked so, would be sent again when its lease ran out.
    """
    for relationship in sa.inspect(type(row)).relationships:
        getattr(row, relationship.key)  # loaded now, not by a read after the send
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _record_failure(
    session: Session,
    cls: Any,
    row_id: int,
    token: str,
    attempts: int,
    exc: Exception,
    settings: Settings,
) -> str:
    session.rollback()
    gave_up = attempts >= settings.max_attempts
    values: dict[str, Any] = {
        "last_error": f"{type(exc).__name__}: {exc}"[:1000],
        "claimed_until": None,
        "claim_token": None,
    }
    if gave_up:
        values["status"] = OutboxStatus.FAILED
    else:
        values["next_attempt_at"] = utcnow() + backoff(attempts, settings.base, settings.cap)
    session.execute(
        sa.update(cls)
        .where(cls.id == row_id, cls.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return "failed" if gave_up else "retrying"


def deliver(
    session: Session, cls: Any, config: Any, ids: Iterable[int] | None = None, *, limit: int = 200
) -> DeliveryReport:
    """Deliver the given rows (or every due row of ``cls``, up to ``limit``)."""
    report = DeliveryReport()
    todo = list(ids) if ids is not None else due_ids(session, cls, utcnow(), limit)
    for row_id in todo:
        outcome = deliver_one(session, cls, row_id, config)
        if outcome == "sent":
            report.sent.append(row_id)
        elif outcome == "retrying":
            report.retrying.append(row_id)
        elif outcome == "failed":
            report.failed.append(row_id)
    return report


def deliver_all_due(config: Any, *, limit: int = 200) -> DeliveryReport:
    """Every outbox table's due rows: the worker's periodic sweep (retries, lost leases)."""
    report = DeliveryReport()
    from iris.core.db import db

    session = db.session()
    for cls in outbox_classes():
        report.merge(deliver(session, cls, config, limit=limit))
    return report


def counts(session: Session) -> dict[str, dict[str, int]]:
    """{table: {status: n}} for every outbox: what the operator's health check shows."""
    out: dict[str, dict[str, int]] = {}
    for cls in outbox_classes():
        rows = session.execute(sa.select(cls.status, sa.func.count()).group_by(cls.status))
        out[cls.__tablename__] = {str(s): n for s, n in rows}
    return out
