"""The declarative base, the naming convention and the mixins every model uses."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


F = TypeVar("F", bound=Callable[..., Any])


def writes(view: F) -> F:
    """Mark a GET view that reads, then writes (an access log entry in its request).

    On SQLite its transaction takes the write lock when it begins, as a form post's does
    (``iris._sqlite_on_begin``), so a commit of another connection in between cannot make
    its write fail. Put it directly above the ``def``: the decorators above copy the mark.
    """
    view.iris_writes = True  # type: ignore[attr-defined]
    return view


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """A random public identifier: never a sequential id in a URL."""
    return uuid.uuid4().hex


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite stores text without an offset, so values are
    normalised to UTC on the way in and marked UTC on the way out. Naive values are refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], **kw: Any) -> sa.Enum:
    """A state/enum column stored as its value, guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda e: [m.value for m in e],
        name=kw.pop("name", enum_cls.__name__.lower()),
        validate_strings=True,
        **kw,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:  # mypy cannot see the class Flask-SQLAlchemy builds at run time
    Model = Base
else:
    Model = db.Model


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublicIdMixin:
    public_id: Mapped[str] = mapped_column(
        sa.String(32), unique=True, default=new_public_id, index=False
    )
