"""Demo certificates: one active, one suspended, one withdrawn and one expired.

Runs after the agencies (and, when present, the audits) demo. Each certificate is issued
through :func:`~iris.certificates.operations.issue_certificate` — number, signed credential,
PDF — and moved through the certificate lifecycle with ``fire``, so its history chain and
its registry entry are real. When the audits demo has already certified cases, their
certificates are used; otherwise a certified case is seeded directly for the agency (a demo
shortcut: that application and case have no history of their own).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from iris.certificates.models import Certificate
from iris.certificates.operations import issue_certificate
from iris.core.db import db, utcnow
from iris.core.signing import keyring_for_app
from iris.core.workflow import SYSTEM, fire

#: agency key -> what happens to its certificate after issue
PLAN = (
    ("agency_wisla", "active"),
    ("agency_mazowsze", "suspended"),
    ("agency_dnipro", "withdrawn"),
    ("agency_baltyk", "expired"),
)


def _certified_case(agency: Any, company: Any) -> Any:
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase
    from workflows.application import ApplicationState
    from workflows.certification import CaseState

    application = Application(agency_id=agency.id, state=ApplicationState.ACCEPTED)
    db.session.add(application)
    db.session.flush()
    case = CertificationCase(
        agency_id=agency.id,
        audit_company_id=company.id,
        application_id=application.id,
        state=CaseState.CERTIFIED,
    )
    db.session.add(case)
    db.session.flush()
    return case


def seed(ctx: Any) -> None:
    ring = keyring_for_app()
    if not ring.exists():
        ring.generate()
    company = ctx.objects.get("ac_certa")
    decider = ctx.objects.get("ac_certa_decider")
    if company is None or decider is None:
        return
    now = utcnow().replace(microsecond=0)
    validity = int(current_app.config["IRIS_CERT_VALIDITY_YEARS"])
    for key, outcome in PLAN:
        agency = ctx.objects.get(key)
        if agency is None:
            continue
        cert = db.session.scalar(
            sa.select(Certificate).where(Certificate.agency_id == agency.id).limit(1)
        )
        if cert is None:
            case = _certified_case(agency, company)
            # The expired one was issued long enough ago for its validity to have run out.
            issued = (
                now - timedelta(days=365 * validity + 30)
                if outcome == "expired"
                else now - timedelta(days=200)
            )
            cert = issue_certificate(case, actor=decider, now=issued)
        ctx.objects[f"certificate_{key}"] = cert
        if outcome == "suspended":
            fire(cert, "suspend", decider, now=now - timedelta(days=20),
                 reason="The surveillance audit was refused by the agency.",
                 reason_code="surveillance_refused_or_overdue")  # fmt: skip
        elif outcome == "withdrawn":
            fire(cert, "withdraw", decider, now=now - timedelta(days=10),
                 reason="Workers were charged visa fees through a sub-agent (critical breach).")  # fmt: skip
        elif outcome == "expired":
            fire(cert, "expire", SYSTEM, now=now)
        db.session.flush()
