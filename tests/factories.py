"""Factories for test data: small, explicit, and bound to the test's session."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from iris.accounts.models import AuditorProfile, Membership, Organisation, OrgStatus, User
from iris.agencies.models import (
    AgencyProfile,
    Corridor,
    Licence,
    RegistrationKind,
    RegistrationNumber,
    Site,
)
from iris.core import security
from iris.core.db import utcnow
from workflows.roles import ROLES_BY_ORG_KIND, OrgKind, Role

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_HASH: str | None = None


def _password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = security.hash_password(PASSWORD)
    return _HASH


def org_kind_for(role: Role) -> OrgKind:
    for kind, roles in ROLES_BY_ORG_KIND.items():
        if role in roles:
            return kind
    raise ValueError(f"no organisation kind holds {role}")


class Factories:
    def __init__(self, session: Any) -> None:
        self.session = session

    def _add(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    def user(self, **kw: Any) -> User:
        n = next(_counter)
        kw.setdefault("email", f"user{n}@example.com")
        kw.setdefault("name", f"Test User {n}")
        kw.setdefault("password_hash", _password_hash())
        kw.setdefault("email_verified_at", utcnow())
        kw.setdefault("locale", "en")
        return self._add(User(**kw))

    def org(self, kind: OrgKind = OrgKind.AGENCY, **kw: Any) -> Organisation:
        n = next(_counter)
        kw.setdefault("name", f"Organisation {n}")
        kw.setdefault("country", "PL")
        kw.setdefault("city", "Łódź")
        kw.setdefault("address", f"ul. Testowa {n}")
        if kind is OrgKind.AUDIT_COMPANY:
            kw.setdefault("status", OrgStatus.APPROVED)
        return self._add(Organisation(kind=kind, **kw))

    def agency(self, *, complete: bool = False, **kw: Any) -> Organisation:
        org = self.org(OrgKind.AGENCY, **kw)
        org.agency_profile = AgencyProfile(  # type: ignore[attr-defined]
            services=["selection", "placement"] if complete else [], preferred_language="pl"
        )
        if complete:
            self.session.add_all(
                [
                    RegistrationNumber(
                        organisation_id=org.id,
                        kind=RegistrationKind.KRAZ,
                        value=f"KRAZ-{org.id:05d}",
                    ),
                    Licence(
                        organisation_id=org.id,
                        licence_type="KRAZ",
                        number=f"{org.id:05d}",
                        issuer="Marszałek Województwa Łódzkiego",
                        country="PL",
                        valid_from=utcnow().date() - timedelta(days=365),
                        valid_to=utcnow().date() + timedelta(days=365),
                        file_sha256="0" * 64,
                        file_name="kraz.pdf",
                    ),
                    Site(
                        organisation_id=org.id,
                        name="Head office",
                        address=org.address or "",
                        city=org.city or "",
                        country=org.country,
                    ),
                    Corridor(
                        organisation_id=org.id,
                        origin_country="UA",
                        destination_country="PL",
                        sectors=["manufacturing"],
                        workers_per_year=120,
                    ),
                ]
            )
        self.session.flush()
        return org

    def audit_company(self, **kw: Any) -> Organisation:
        return self.org(OrgKind.AUDIT_COMPANY, **kw)

    def membership(self, user: User, org: Organisation, role: Role) -> Membership:
        return self._add(Membership(user=user, organisation=org, role=role))

    def user_with_role(self, role: Role, org: Organisation | None = None, **kw: Any) -> User:
        user = self.user(**kw)
        if org is None:
            kind = org_kind_for(role)
            org = self.agency() if kind is OrgKind.AGENCY else self.org(kind)
        self.membership(user, org, role)
        if role in (Role.AUDITOR, Role.LEAD_AUDITOR):
            self._add(
                AuditorProfile(
                    user=user,
                    languages=["pl", "uk", "en"],
                    countries=["PL", "UA"],
                    iris_trained_on=utcnow().date(),
                    approved_at=utcnow(),
                )
            )
        self.session.refresh(user)
        return user
