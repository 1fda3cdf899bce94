"""Agency profile operations: they change objects and flush, never commit.

The profile's rows (registration numbers, licences, sites, corridors, sub-agents) are
profile data, not evidence: they may be edited and removed. A licence's file stays in the
content-addressed store after its row is removed (evidence elsewhere may name the same
bytes); only the reference goes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from iris.accounts.models import Organisation, User
from iris.agencies.models import (
    AgencyProfile,
    Corridor,
    Licence,
    RegistrationNumber,
    Site,
    SubAgent,
)
from iris.core import storage
from iris.core.db import db

#: The rows of a profile, by the section name used in URLs.
ROW_MODELS: dict[str, type[Any]] = {
    "registrations": RegistrationNumber,
    "licences": Licence,
    "sites": Site,
    "corridors": Corridor,
    "sub-agents": SubAgent,
}

#: The Organisation relationship holding each kind of row.
COLLECTION_OF: dict[type[Any], str] = {
    RegistrationNumber: "registration_numbers",
    Licence: "licences",
    Site: "sites",
    Corridor: "corridors",
    SubAgent: "sub_agents",
}


class ProfileError(Exception):
    """A refusal the user should read (shown as a form error)."""


def ensure_profile(org: Organisation) -> AgencyProfile:
    profile: AgencyProfile | None = getattr(org, "agency_profile", None)
    if profile is None:
        profile = AgencyProfile(organisation=org, trade_names=[], services=[])
        db.session.add(profile)
    return profile


def update_agency_details(org: Organisation, *, actor: User, **data: Any) -> AgencyProfile:
    """Legal name, address and the profile's own fields."""
    org.name = data["name"]
    org.country = data["country"]
    org.city = data["city"]
    org.address = data["address"]
    profile = ensure_profile(org)
    profile.trade_names = list(data["trade_names"])
    profile.postal_code = data["postal_code"]
    profile.website = data["website"]
    profile.staff_count = data["staff_count"]
    profile.preferred_language = data["preferred_language"]
    profile.services = list(data["services"])
    db.session.flush()
    return profile


def _check_registration_unique(org: Organisation, data: dict[str, Any], row_id: int | None) -> None:
    clash = db.session.scalar(
        sa.select(RegistrationNumber.id).where(
            RegistrationNumber.organisation_id == org.id,
            RegistrationNumber.kind == data["kind"],
            RegistrationNumber.value == data["value"],
            RegistrationNumber.id != (row_id or 0),
        )
    )
    if clash is not None:
        raise ProfileError(_("This number is already in the profile."))


def _store_upload(licence: Licence, upload: tuple[bytes, str] | None) -> None:
    if upload is None:
        return
    data, filename = upload
    licence.file_sha256 = storage.put_bytes(data)
    licence.file_name = filename[-255:]


def add_profile_row(org: Organisation, section: str, *, actor: User, **data: Any) -> Any:
    """A new row in one of the profile's tables (``section`` as in :data:`ROW_MODELS`)."""
    model = ROW_MODELS[section]
    if model is RegistrationNumber:
        _check_registration_unique(org, data, None)
    upload = data.pop("upload", None)
    row = model(organisation_id=org.id, **data)
    if model is Licence:
        _store_upload(row, upload)
    db.session.add(row)
    db.session.flush()
    db.session.expire(org, [COLLECTION_OF[model]])
    return row


def update_profile_row(org: Organisation, row: Any, *, actor: User, **data: Any) -> Any:
    if row.organisation_id != org.id:
        raise ProfileError(_("This entry belongs to another agency."))
    if isinstance(row, RegistrationNumber):
        _check_registration_unique(org, data, row.id)
    upload = data.pop("upload", None)
    for key, value in data.items():
        setattr(row, key, value)
    if isinstance(row, Licence):
        _store_upload(row, upload)
    db.session.flush()
    return row


def remove_profile_row(org: Organisation, row: Any, *, actor: User) -> None:
    if row.organisation_id != org.id:
        raise ProfileError(_("This entry belongs to another agency."))
    db.session.delete(row)
    db.session.flush()
    db.session.expire(org, [COLLECTION_OF[type(row)]])
