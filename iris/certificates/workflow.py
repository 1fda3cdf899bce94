"""Guards and effects of the certificate lifecycle (``workflows/certificate.py``).

:func:`certify` is what a grant does: issue a certificate for an initial audit, renew it
(a new certificate superseding the old one) for a recertification, maintain it for a
surveillance or special audit. Minimal numbering for now: the certificates feature makes it
gap-free under concurrent grants and adds the signed credential and the PDF.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from iris.certificates.models import Certificate, certificate_in_force
from iris.core.dates import add_months, add_years
from iris.core.workflow import Firing, bind, fire
from workflows.certificate import CertificateState
from workflows.certification import AuditType

wf = bind("certificate")


def next_number(session: Session, country: str, year: int) -> str:
    # gap-free and safe under concurrent grants: a counter row locked by the grant
    from iris.certificates.operations import allocate_number

    return allocate_number(session, country, year)


def certify(case: Any, *, actor: Any, now: datetime, session: Session) -> Certificate:
    """The certificate a grant of ``case`` issues, renews or maintains."""
    if case.audit_type in (AuditType.SURVEILLANCE, AuditType.SPECIAL):
        cert = certificate_in_force(session, case.agency_id)
        if cert is None:  # the guard of open_followup made sure there was one
            raise RuntimeError("a follow-up case without a certificate in force")
        cert.last_surveillance_at = now
        cert.next_surveillance_due = surveillance_due(now)
        return cert
    old = None
    if case.audit_type is AuditType.RECERTIFICATION:
        old = certificate_in_force(session, case.agency_id)
    # number, the ``issue`` step, the signed credential and the PDF (certificates feature)
    from iris.certificates.operations import issue_certificate

    cert = issue_certificate(case, actor=actor, now=now, session=session, replaces=old)
    if old is not None:
        fire(old, "supersede", actor, now=now, session=session)
    return cert


def surveillance_due(decided_at: datetime) -> Any:
    from flask import current_app

    return add_months(decided_at, int(current_app.config["IRIS_SURVEILLANCE_MONTHS"])).date()


# ------------------------------------------------------------------ guards


@wf.guard("case_granted")
def case_granted(f: Firing) -> str | None:
    case = f.subject.case
    if case is None or str(case.state) != "certified":
        return _("A certificate is issued only by a grant decision.")
    return None


@wf.guard("number_unique")
def number_unique(f: Firing) -> str | None:
    taken = f.session.scalar(
        sa.select(Certificate.id).where(
            Certificate.number == f.subject.number, Certificate.id != f.subject.id
        )
    )
    if not f.subject.number or taken is not None:
        return _("The certificate number %(number)s is already used.", number=f.subject.number)
    return None


@wf.guard("before_suspension_limit")
def before_suspension_limit(f: Firing) -> str | None:
    ends = f.subject.suspension_ends_at
    if ends is not None and f.now > ends:
        return _(
            "The suspension limit passed on %(date)s: the certificate is withdrawn.",
            date=ends.date(),
        )
    return None


@wf.guard("suspension_limit_passed")
def suspension_limit_passed(f: Firing) -> str | None:
    ends = f.subject.suspension_ends_at
    if ends is None or f.now <= ends:
        return _("The suspension limit has not passed yet.")
    return None


@wf.guard("expiry_passed")
def expiry_passed(f: Firing) -> str | None:
    expires = f.subject.expires_at
    if expires is None or f.now <= expires:
        return _("The certificate has not expired yet.")
    return None


@wf.guard("replacement_issued")
def replacement_issued(f: Firing) -> str | None:
    newer = f.session.scalar(
        sa.select(Certificate.id).where(
            Certificate.replaces_id == f.subject.id, Certificate.state == CertificateState.ACTIVE
        )
    )
    if newer is None:
        return _("Only an active recertification certificate can supersede this one.")
    return None


# ------------------------------------------------------------------ effects


@wf.effect("set_validity")
def set_validity(f: Firing) -> None:
    cert = f.subject
    cert.issued_at = f.now
    cert.original_issued_at = cert.original_issued_at or f.now
    cert.expires_at = add_years(f.now, int(f.config["IRIS_CERT_VALIDITY_YEARS"]))
    f.payload.update(number=cert.number, expires_at=cert.expires_at)


@wf.effect("schedule_surveillance")
def schedule_surveillance(f: Firing) -> None:
    f.subject.next_surveillance_due = surveillance_due(f.now)
    f.payload["next_surveillance_due"] = f.subject.next_surveillance_due


@wf.effect("record_suspension")
def record_suspension(f: Firing) -> None:
    cert = f.subject
    cert.suspended_at = f.now
    cert.suspension_reason_code = f.reason_code
    cert.suspension_ends_at = add_months(f.now, int(f.config["IRIS_SUSPENSION_MAX_MONTHS"]))
    f.payload["suspension_ends_at"] = cert.suspension_ends_at


@wf.effect("clear_suspension")
def clear_suspension(f: Firing) -> None:
    cert = f.subject
    cert.suspended_at = None
    cert.suspension_reason_code = None
    cert.suspension_ends_at = None


@wf.effect("record_replacement")
def record_replacement(f: Firing) -> None:
    f.payload["superseded_by"] = f.session.scalar(
        sa.select(Certificate.number).where(Certificate.replaces_id == f.subject.id)
    )


@wf.effect("record_withdrawal")
def record_withdrawal(f: Firing) -> None:
    f.subject.withdrawn_at = f.now


@wf.every_step
def status_changed(f: Firing) -> None:
    f.subject.status_changed_at = f.now


# ------------------------------------------------------------------ timers


@wf.timer("expire")
def expire_due(now: Any) -> sa.Select[Any]:
    return sa.select(Certificate).where(Certificate.expires_at < now)


@wf.timer("withdraw_overdue_suspension")
def suspension_overdue(now: Any) -> sa.Select[Any]:
    return sa.select(Certificate).where(Certificate.suspension_ends_at < now)
