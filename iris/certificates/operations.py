"""Issuing certificates: the number, the signed credential and the PDF, in the grant's transaction.

:func:`issue_certificate` is what a grant does for an initial audit or a recertification
(``iris/certificates/workflow.py: certify`` calls it from the grant's effect). In one
database transaction, the caller's:

1. :func:`allocate_number` takes the next number of the agency's country and the year
   from :class:`~iris.certificates.models.CertificateCounter` — gap-free, because a
   rolled-back grant rolls its increment back too, and safe under concurrent grants,
   because the UPDATE holds the counter row's lock until the grant commits;
2. the certificate is created through the workflow engine (``issue``), which sets its
   dates from configuration (validity in years, surveillance interval);
3. :func:`sign_certificate` freezes the certificate's public facts, signs them (compact
   JWS, Ed25519) and renders the PDF with the credential attached; the PDF goes to the
   file store and its sha256 onto the row.

Anything failing (no signing key, a render error, a storage error) raises
:class:`IssuanceError`, and the caller's transaction — the grant included — rolls back.
Operations flush, never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from iris.certificates.document import render_certificate
from iris.certificates.models import Certificate, CertificateCounter
from iris.certificates.numbering import format_number
from iris.certificates.wording import language_for
from iris.core import storage
from iris.core.db import db, utcnow
from iris.core.pdf import PdfError
from iris.core.signing import KeyRingError, signing_ring_for_app
from iris.core.workflow import WorkflowError, fire

__all__ = [
    "CREDENTIAL_TYPE",
    "IssuanceError",
    "allocate_number",
    "certificate_facts",
    "issue_certificate",
    "sign_certificate",
    "status_list_url",
    "verify_url",
]

#: The ``typ`` of a certificate credential's protected header.
CREDENTIAL_TYPE = "iris-certificate+jwt"
#: Version of the credential's payload layout (bumped when fields change meaning).
FACTS_VERSION = 1


class IssuanceError(WorkflowError):
    """The certificate could not be issued; the grant is rolled back (503: try again later)."""

    status = 503


def _base_url() -> str:
    return str(current_app.config["IRIS_BASE_URL"]).rstrip("/")


def verify_url(number: str) -> str:
    return f"{_base_url()}/verify/{number}"


def status_list_url() -> str:
    return f"{_base_url()}/registry/status-list.jwt"


def allocate_number(session: Session, country: str, year: int) -> str:
    """The next unused certificate number of ``country`` and ``year`` (gap-free)."""
    country = country.upper()
    bump = (
        sa.update(CertificateCounter)
        .where(CertificateCounter.country == country, CertificateCounter.year == year)
        .values(last_sequence=CertificateCounter.last_sequence + 1)
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        # First number of this country and year: create the row. Two first grants racing
        # here: one insert wins; the other's fails in its savepoint and it bumps instead.
        try:
            with session.begin_nested():
                session.add(CertificateCounter(country=country, year=year, last_sequence=1))
        except sa.exc.IntegrityError:
            session.execute(bump)
    sequence = session.scalar(
        sa.select(CertificateCounter.last_sequence)
        .where(CertificateCounter.country == country, CertificateCounter.year == year)
        .execution_options(populate_existing=True)
    )
    return format_number(country, year, int(sequence or 0))


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def certificate_facts(cert: Certificate, *, kid: str) -> dict[str, Any]:
    """The certificate's public facts as signed: no personal data, no audit content."""
    agency = cert.agency
    profile = getattr(agency, "agency_profile", None)
    registrations = {
        str(r.kind.value).upper(): r.value
        for r in sorted(getattr(agency, "registration_numbers", []), key=lambda r: str(r.kind))
    }
    corridors = [
        {
            "origin": c.origin_country,
            "destination": c.destination_country,
            "sectors": sorted(c.sectors or []),
        }
        for c in sorted(
            getattr(agency, "corridors", []),
            key=lambda c: (c.origin_country, c.destination_country),
        )
    ]
    sites = [f"{s.name}, {s.city}" for s in getattr(agency, "sites", [])]
    return {
        "v": FACTS_VERSION,
        "type": "IRISCertificate",
        "iss": _base_url(),
        "number": cert.number,
        "holder": {
            "name": agency.name,
            "trade_names": list(profile.trade_names) if profile else [],
            "country": agency.country,
            "city": agency.city or "",
            "registration_numbers": registrations,
        },
        "scope": {
            "corridors": corridors,
            "services": list(profile.services) if profile else [],
            "sites": sites,
        },
        "audit_company": {
            "name": cert.audit_company.name,
            "country": cert.audit_company.country,
        },
        "standard": {"name": "IRIS Standard", "version": cert.standard_version or ""},
        "issued_at": _day(cert.issued_at),
        "original_issued_at": _day(cert.original_issued_at or cert.issued_at),
        "expires_at": _day(cert.expires_at),
        "verify_url": verify_url(cert.number),
        "status_list": status_list_url(),
        "kid": kid,
    }


def sign_certificate(cert: Certificate, *, session: Session | None = None) -> Certificate:
    """Freeze, sign and print ``cert`` (its dates must be set): credential, PDF, sha256."""
    session = session if session is not None else db.session()
    try:
        ring = signing_ring_for_app()
        kid = ring.current().kid
        facts = certificate_facts(cert, kid=kid)
        credential = ring.sign(facts, typ=CREDENTIAL_TYPE)
        profile = getattr(cert.agency, "agency_profile", None)
        language = language_for(
            cert.agency.country, profile.preferred_language if profile else None
        )
        pdf = render_certificate(facts, credential, language=language)
        digest = storage.put_bytes(pdf)
    except KeyRingError as exc:
        current_app.logger.error("certificate %s not issued: %s", cert.number, exc)
        raise IssuanceError(
            _(
                "The certificate could not be signed: the signing key is not set up. "
                "An administrator must run “flask iris keys generate”."
            )
        ) from exc
    except (PdfError, OSError) as exc:
        current_app.logger.exception("certificate %s not issued", cert.number)
        raise IssuanceError(
            _("The certificate document could not be produced. Nothing was changed; try again.")
        ) from exc
    cert.facts = facts
    cert.credential = credential
    cert.language = language
    cert.pdf_sha256 = digest
    session.flush()
    return cert


def issue_certificate(
    case: Any,
    *,
    actor: Any,
    now: datetime | None = None,
    session: Session | None = None,
    replaces: Certificate | None = None,
) -> Certificate:
    """Issue the certificate that the grant of ``case`` decides (see the module docstring)."""
    session = session if session is not None else db.session()
    now = now or utcnow()
    cert = Certificate(
        number=allocate_number(session, case.agency.country, now.year),
        agency_id=case.agency_id,
        audit_company_id=case.audit_company_id,
        case_id=case.id,
        replaces_id=replaces.id if replaces is not None else None,
        original_issued_at=replaces.original_issued_at if replaces is not None else now,
        standard_version=str(current_app.config.get("IRIS_STANDARD_VERSION", "1.2")),
    )
    cert.case = case
    fire(cert, "issue", actor, now=now, session=session)
    return sign_certificate(cert, session=session)
