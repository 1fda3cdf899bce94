"""Read-only queries of the administration screens (lists are paginated, constant queries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from iris.accounts.models import AuditorProfile, Membership, Organisation, OrgStatus, User
from iris.admin.models import AdminAction
from iris.core.db import db
from iris.core.mail import OutboxMessage
from workflows.roles import OrgKind, Role

AUDITOR_ROLES = (Role.AUDITOR, Role.LEAD_AUDITOR)


def users(q: str | None = None, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(User).order_by(User.name, User.id)
    if q:
        stmt = stmt.where(
            sa.or_(
                User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True)
            )
        )
    if status == "active":
        stmt = stmt.where(User.is_active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(User.is_active.is_(False))
    elif status == "unverified":
        stmt = stmt.where(User.email_verified_at.is_(None))
    return stmt


def organisations(
    q: str | None = None, kind: str | None = None, status: str | None = None
) -> sa.Select[Any]:
    members = (
        sa.select(sa.func.count(sa.distinct(Membership.user_id)))
        .where(Membership.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
        .label("members")
    )
    stmt = sa.select(Organisation, members).order_by(Organisation.name, Organisation.id)
    if q:
        stmt = stmt.where(
            sa.or_(
                Organisation.name.icontains(q, autoescape=True),
                Organisation.city.icontains(q, autoescape=True),
            )
        )
    if kind:
        stmt = stmt.where(Organisation.kind == OrgKind(kind))
    if status:
        stmt = stmt.where(Organisation.status == OrgStatus(status))
    return stmt


def auditors(q: str | None = None, approval: str | None = None) -> sa.Select[Any]:
    is_auditor = sa.exists().where(
        Membership.user_id == User.id, Membership.role.in_(AUDITOR_ROLES)
    )
    stmt = (
        sa.select(User)
        .where(is_auditor)
        .options(selectinload(User.auditor_profile))  # type: ignore[attr-defined]
        .order_by(User.name, User.id)
    )
    if q:
        stmt = stmt.where(
            sa.or_(
                User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True)
            )
        )
    if approval == "approved":
        stmt = stmt.where(
            sa.exists().where(
                AuditorProfile.user_id == User.id, AuditorProfile.approved_at.is_not(None)
            )
        )
    elif approval == "pending":
        stmt = stmt.where(
            ~sa.exists().where(
                AuditorProfile.user_id == User.id, AuditorProfile.approved_at.is_not(None)
            )
        )
    return stmt


def outbox(q: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if q:
        stmt = stmt.where(OutboxMessage.to_address.icontains(q, autoescape=True))
    return stmt


def all_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(sa.select(Organisation).order_by(Organisation.kind, Organisation.name))
    )


def history(
    *, user: User | None = None, organisation: Organisation | None = None
) -> list[AdminAction]:
    stmt = (
        sa.select(AdminAction)
        .options(
            selectinload(AdminAction.actor),
            selectinload(AdminAction.organisation),
            selectinload(AdminAction.user),
        )
        .order_by(AdminAction.at.desc(), AdminAction.id.desc())
    )
    if user is not None:
        stmt = stmt.where(AdminAction.user_id == user.id)
    if organisation is not None:
        stmt = stmt.where(AdminAction.organisation_id == organisation.id)
    return list(db.session.scalars(stmt))


@dataclass
class Page:
    """One page of a list: its items and where it sits among the others."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def paginate(stmt: sa.Select[Any], page: int, per_page: int, *, rows: bool = False) -> Page:
    """Two queries whatever the number of rows: the count, and the page itself.

    ``rows=True`` keeps every selected column (a tuple per item) instead of the first.
    """
    total = (
        db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
        or 0
    )
    last = max(1, -(-total // per_page))
    page = min(max(1, page), last)
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.all() if rows else result.scalars().all())
    return Page(items=items, page=page, per_page=per_page, total=total)
