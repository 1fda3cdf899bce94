"""The transition log: an append-only, hash-chained record of every state change.

Each subject (an application, a case, a certificate ...) has its own chain: record ``n``
stores the hash of record ``n - 1`` and its own hash, the SHA-256 of that previous hash and
of the record's canonical content (JSON with sorted keys, no whitespace, UTF-8). Editing,
deleting or reordering any record breaks the chain from that record on, and
:func:`verify_chains` names the first broken link.

Records name people by id only (``actor_id``), never by name or e-mail: erasing a person's
personal data later changes the ``users`` row, never a record, so no chain breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from iris.core.db import Model


def canonical_json(value: Any) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("a transition time must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


class TransitionRecord(Model):
    """One state change of one subject. Never updated, never deleted."""

    __tablename__ = "transition_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int]
    seq: Mapped[int]
    trigger: Mapped[str] = mapped_column(sa.String(60))
    from_state: Mapped[str | None] = mapped_column(sa.String(40))
    to_state: Mapped[str] = mapped_column(sa.String(40))
    #: the person who acted, by id; empty for the system's timers and anonymous people
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the role the actor acted in (``system`` for timers, ``public`` for anonymous people)
    actor_role: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.UniqueConstraint("subject_type", "subject_id", "seq", name="subject_seq"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.CheckConstraint("(seq = 1) = (prev_hash IS NULL)", name="first_has_no_prev"),
    )

    def content(self) -> dict[str, Any]:
        return record_content(self)

    def compute_hash(self) -> str:
        return record_hash(self.prev_hash, self)

    def seal(self, prev_hash: str | None) -> None:
        self.prev_hash = prev_hash
        self.hash = self.compute_hash()

    def __repr__(self) -> str:
        return (
            f"<TransitionRecord {self.subject_type}#{self.subject_id} {self.seq}: "
            f"{self.from_state}->{self.to_state}>"
        )


def record_content(rec: Any) -> dict[str, Any]:
    """What the hash covers: everything but the database id and the hashes themselves.

    ``rec`` is a record or a row of the table (anything with the column attributes).
    """
    return {
        "subject_type": rec.subject_type,
        "subject_id": rec.subject_id,
        "seq": rec.seq,
        "trigger": rec.trigger,
        "from": rec.from_state,
        "to": rec.to_state,
        "actor_id": rec.actor_id,
        "actor_role": rec.actor_role,
        "at": _iso(rec.at),
        "reason": rec.reason,
        "payload": rec.payload,
    }


def record_hash(prev_hash: str | None, rec: Any) -> str:
    text = (prev_hash or "") + canonical_json(record_content(rec))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as it will read back from the JSON column (dates become ISO text)."""
    result: dict[str, Any] = json.loads(canonical_json(_plain(payload)))
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=canonical_json) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return _iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):  # StrEnum members become their plain value
        return str(value)
    return value


def chain_head(session: Session, subject_type: str, subject_id: int) -> tuple[int, str] | None:
    """(seq, hash) of the subject's last record, or None before its first.

    Read without an autoflush: the subject's pending state change would otherwise be
    flushed here, apart from its record, and flush listeners (the registry's) would run
    twice per step. Records are flushed as they are added (``fire`` flushes each one).
    """
    with session.no_autoflush:
        row = session.execute(
            sa.select(TransitionRecord.seq, TransitionRecord.hash)
            .where(
                TransitionRecord.subject_type == subject_type,
                TransitionRecord.subject_id == subject_id,
            )
            .order_by(TransitionRecord.seq.desc())
            .limit(1)
        ).first()
    return None if row is None else (int(row.seq), str(row.hash))


def history(session: Session, subject_type: str, subject_id: int) -> list[TransitionRecord]:
    return list(
        session.scalars(
            sa.select(TransitionRecord)
            .where(
                TransitionRecord.subject_type == subject_type,
                TransitionRecord.subject_id == subject_id,
            )
            .order_by(TransitionRecord.seq)
        )
    )


@dataclass
class Break:
    subject_type: str
    subject_id: int
    seq: int
    record_id: int
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.subject_type} #{self.subject_id}, record {self.seq} (id {self.record_id}): "
            f"{self.problem}"
        )


@dataclass
class Verification:
    checked: int = 0
    chains: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _records(session: Session, batch: int = 2000) -> Iterator[Any]:
    """Every record as a plain row, in chain order, read in batches by keyset.

    Rows, not ORM objects: nothing accumulates in the session, so memory stays flat
    whatever the length of the history.
    """
    table = TransitionRecord.__table__
    key = (table.c.subject_type, table.c.subject_id, table.c.seq)
    after: tuple[str, int, int] | None = None
    while True:
        query = sa.select(table).order_by(*key).limit(batch)
        if after is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(*after))
        rows = session.execute(query).all()
        if not rows:
            return
        yield from rows
        last = rows[-1]
        after = (last.subject_type, last.subject_id, last.seq)


def verify_chains(session: Session) -> Verification:
    """Check every chain; report the first broken link of each broken chain."""
    result = Verification()
    current: tuple[str, int] | None = None
    prev: Any = None
    broken = False
    for rec in _records(session):
        result.checked += 1
        subject = (rec.subject_type, rec.subject_id)
        if subject != current:
            current, prev, broken = subject, None, False
            result.chains += 1
        if broken:
            continue
        expected_seq = 1 if prev is None else prev.seq + 1
        expected_prev = None if prev is None else prev.hash
        problem = None
        if rec.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {rec.seq} (a record is missing)"
        elif rec.prev_hash != expected_prev:
            problem = "its link to the previous record does not match (history rewritten)"
        elif prev is not None and rec.from_state != prev.to_state:
            problem = (
                f"starts from {rec.from_state!r} but the previous record ended in {prev.to_state!r}"
            )
        elif record_hash(rec.prev_hash, rec) != rec.hash:
            problem = "its content does not match its hash (the record was edited)"
        if problem:
            result.breaks.append(Break(rec.subject_type, rec.subject_id, rec.seq, rec.id, problem))
            broken = True
        prev = rec
    return result
