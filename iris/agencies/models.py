"""The agency profile: registration numbers, licences, sites, corridors, sub-agents.

An agency is an :class:`~iris.accounts.models.Organisation` of kind ``agency``; these tables
hold what only agencies have.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column


class Service(enum.StrEnum):
    SOURCING = "sourcing"
    SELECTION = "selection"
    PLACEMENT = "placement"
    DOCUMENTATION = "documentation"  # visas, permits
    TRAVEL = "travel"
    ORIENTATION = "orientation"
    POST_ARRIVAL = "post_arrival"
    TEMPORARY_WORK = "temporary_work"


class RegistrationKind(enum.StrEnum):
    NIP = "nip"
    REGON = "regon"
    KRS = "krs"
    KRAZ = "kraz"
    EDRPOU = "edrpou"  # Ukraine
    OTHER = "other"


class Risk(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AgencyProfile(TimestampMixin, db.Model):
    __tablename__ = "agency_profiles"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    trade_names: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    services: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    staff_count: Mapped[int | None]
    preferred_language: Mapped[str] = mapped_column(sa.String(8), default="en")
    website: Mapped[str | None] = mapped_column(sa.String(300))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))

    organisation: Mapped[Organisation] = relationship(
        backref=sa.orm.backref("agency_profile", uselist=False, cascade="all, delete-orphan")
    )


class _AgencyChild(PublicIdMixin, TimestampMixin):
    id: Mapped[int] = mapped_column(primary_key=True)


class RegistrationNumber(_AgencyChild, db.Model):
    __tablename__ = "registration_numbers"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RegistrationKind] = mapped_column(enum_column(RegistrationKind))
    value: Mapped[str] = mapped_column(sa.String(64), index=True)

    __table_args__ = (sa.UniqueConstraint("organisation_id", "kind", "value"),)


class Licence(_AgencyChild, db.Model):
    __tablename__ = "licences"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    licence_type: Mapped[str] = mapped_column(sa.String(120))
    number: Mapped[str] = mapped_column(sa.String(120))
    issuer: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]  # None: no expiry (e.g. an open-ended KRAZ entry)
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    file_name: Mapped[str | None] = mapped_column(sa.String(255))

    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Site(_AgencyChild, db.Model):
    __tablename__ = "sites"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(500))
    city: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))


class Corridor(_AgencyChild, db.Model):
    __tablename__ = "corridors"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    origin_country: Mapped[str] = mapped_column(sa.String(2))
    destination_country: Mapped[str] = mapped_column(sa.String(2), index=True)
    sectors: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    workers_per_year: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint("workers_per_year >= 0", name="workers_nonnegative"),)


class SubAgent(_AgencyChild, db.Model):
    __tablename__ = "sub_agents"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(300))
    country: Mapped[str] = mapped_column(sa.String(2))
    licence_number: Mapped[str | None] = mapped_column(sa.String(120))
    has_contract: Mapped[bool] = mapped_column(default=False)
    last_due_diligence_on: Mapped[date | None]
    risk: Mapped[Risk] = mapped_column(enum_column(Risk), default=Risk.MEDIUM)


Organisation.registration_numbers = relationship(  # type: ignore[attr-defined]
    RegistrationNumber, order_by=RegistrationNumber.id, cascade="all, delete-orphan"
)
Organisation.licences = relationship(  # type: ignore[attr-defined]
    Licence, order_by=Licence.valid_from, cascade="all, delete-orphan"
)
Organisation.sites = relationship(Site, order_by=Site.id, cascade="all, delete-orphan")  # type: ignore[attr-defined]
Organisation.corridors = relationship(  # type: ignore[attr-defined]
    Corridor, order_by=Corridor.id, cascade="all, delete-orphan"
)
Organisation.sub_agents = relationship(  # type: ignore[attr-defined]
    SubAgent, order_by=SubAgent.id, cascade="all, delete-orphan"
)


class ProfileGap(NamedTuple):
    """Something an agency's profile lacks: the profile section that fixes it, and words."""

    section: str  # details | registrations | licences | sites | corridors
    message: str


def profile_gap_items(org: Organisation, today: date) -> list[ProfileGap]:
    """What an agency's profile still lacks before it can apply, with the section to fix it."""
    from flask_babel import gettext as _

    gaps: list[ProfileGap] = []
    profile = getattr(org, "agency_profile", None)
    if not org.address or not org.city:
        gaps.append(ProfileGap("details", _("the agency's address")))
    if not org.registration_numbers:  # type: ignore[attr-defined]
        gaps.append(ProfileGap("registrations", _("at least one registration number")))
    licences = org.licences  # type: ignore[attr-defined]
    if not any(lic.is_valid_on(today) and lic.file_sha256 for lic in licences):
        gaps.append(ProfileGap("licences", _("a licence valid today, with its file")))
    if not org.sites:  # type: ignore[attr-defined]
        gaps.append(ProfileGap("sites", _("at least one site")))
    if not org.corridors:  # type: ignore[attr-defined]
        gaps.append(
            ProfileGap("corridors", _("at least one corridor (origin and destination country)"))
        )
    if profile is None or not profile.services:
        gaps.append(ProfileGap("details", _("the services the agency offers")))
    return gaps


def profile_gaps(org: Organisation, today: date) -> list[str]:
    """What an agency's profile still lacks before it can apply, in the user's words."""
    return [gap.message for gap in profile_gap_items(org, today)]
