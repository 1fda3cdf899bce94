"""Changing certification cases: each function flushes, never commits.

The audit team is assigned on the planner's page of the fieldwork feature
(``iris.fieldwork.operations.assign_team``); here: opening cases (initial, follow-up,
scheduled) and conflict-of-interest declarations.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from iris.audits.models import CertificationCase, ConflictOfInterestDeclaration
from iris.core.db import db
from iris.core.workflow import SYSTEM, WorkflowError, fire
from workflows.certification import AuditType

log = logging.getLogger(__name__)


def open_case(application: Any, *, actor: Any, audit_company: Any) -> CertificationCase:
    """The agency chooses an audit company for its accepted application: a case opens."""
    case = CertificationCase(
        agency_id=application.agency_id,
        agency=application.agency,
        audit_company_id=audit_company.id,
        audit_company=audit_company,
        application=application,
        application_id=application.id,
        audit_type=AuditType.INITIAL,
    )
    fire(case, "open", actor)
    return case


def open_followup(
    certificate: Any,
    *,
    actor: Any,
    audit_type: AuditType,
    now: datetime,
    trigger: str = "open_followup",
) -> CertificationCase:
    """Open a surveillance, recertification or special audit of the certificate's holder,
    with the audit company that certified it (``open_followup`` by a person,
    ``open_scheduled`` by the system when the schedule says it is due)."""
    case = CertificationCase(
        agency_id=certificate.agency_id,
        agency=certificate.agency,
        audit_company_id=certificate.audit_company_id,
        audit_company=certificate.audit_company,
        audit_type=audit_type,
        created_at=now,
    )
    fire(case, trigger, actor, now=now)
    return case


def on_tick(now: datetime) -> int:
    """Open the surveillance and recertification audits the certificates' schedules say are
    due (run by ``flask iris tick`` after the engine's timers); returns how many opened.

    Each opening is the ``open_scheduled`` step through ``fire()`` in its own savepoint; its
    guards decide (a certificate in force, the audit due and not yet opened for this due
    date, no case running), so a second run at the same moment opens nothing.
    """
    from flask import current_app

    from iris.audits.workflow import due_followup
    from iris.certificates.models import IN_FORCE, Certificate
    from iris.core.dates import add_months

    lead = int(current_app.config["IRIS_RECERTIFICATION_LEAD_MONTHS"])
    candidates = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.state.in_(IN_FORCE),
            sa.or_(
                Certificate.next_surveillance_due <= now.date(),
                Certificate.expires_at <= add_months(now, lead),
            ),
        )
        .order_by(Certificate.id)
    ).all()
    opened = 0
    for cert in candidates:
        found = due_followup(cert, now)
        if found is None:
            continue
        try:
            with db.session.begin_nested():
                case = open_followup(
                    cert, actor=SYSTEM, audit_type=found[0], now=now, trigger="open_scheduled"
                )
        except WorkflowError as exc:  # not due after all, or a case is running
            log.debug("tick: no follow-up audit for %s: %s", cert.number, exc)
            continue
        log.info("tick: %s audit %s opened for %s", found[0].value, case.public_id, cert.number)
        opened += 1
    return opened


def declare_conflict(*, actor: Any, agency: Any, **fields: Any) -> ConflictOfInterestDeclaration:
    declaration = ConflictOfInterestDeclaration(
        user_id=actor.id, agency_id=agency.id, agency=agency, **fields
    )
    db.session.add(declaration)
    db.session.flush()
    return declaration
