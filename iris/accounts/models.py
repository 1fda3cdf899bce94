"""Users, organisations and memberships (a role of a user in an organisation)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column
from workflows.roles import ROLES_BY_ORG_KIND, OrgKind, Role


class OrgStatus(enum.StrEnum):
    ACTIVE = "active"  # agencies and the scheme manager
    PENDING = "pending"  # audit companies awaiting approval
    APPROVED = "approved"
    SUSPENDED = "suspended"


class User(UserMixin, PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    email_verified_at: Mapped[datetime | None]
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    is_active: Mapped[bool] = mapped_column(default=True)  # type: ignore[assignment]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def get_id(self) -> str:
        # The session names the user by public id; a sequential id never leaves the server.
        return self.public_id

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def roles_in(self, org: Organisation | int | None) -> set[Role]:
        org_id = org.id if isinstance(org, Organisation) else org
        return {m.role for m in self.memberships if m.organisation_id == org_id}

    def has_role(self, role: Role, org: Organisation | int | None = None) -> bool:
        if org is None:
            return any(m.role == role for m in self.memberships)
        return role in self.roles_in(org)

    def orgs_with(self, *roles: Role) -> list[Organisation]:
        seen: dict[int, Organisation] = {}
        for m in self.memberships:
            if m.role in roles:
                seen.setdefault(m.organisation_id, m.organisation)
        return list(seen.values())

    @property
    def all_roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    def __repr__(self) -> str:
        return f"<User {self.public_id}>"


class Organisation(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))  # legal name
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    city: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[OrgStatus] = mapped_column(enum_column(OrgStatus), default=OrgStatus.ACTIVE)
    status_changed_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.Index("ix_organisations_kind_name", "kind", "name"),)

    @property
    def is_approved(self) -> bool:
        return self.kind is not OrgKind.AUDIT_COMPANY or self.status is OrgStatus.APPROVED

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name!r}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id", "role"),)

    @staticmethod
    def role_fits(kind: OrgKind, role: Role) -> bool:
        return role in ROLES_BY_ORG_KIND[kind]


class Invitation(PublicIdMixin, TimestampMixin, db.Model):
    """An invitation of a colleague into an organisation; the token is stored hashed."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(320))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()


class AuditorProfile(TimestampMixin, db.Model):
    """An auditor's competence, approved by a scheme admin (DOMAIN.md section 2)."""

    __tablename__ = "auditor_profiles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    iris_trained_on: Mapped[date | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(
        foreign_keys=[user_id], backref=sa.orm.backref("auditor_profile", uselist=False)
    )

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
