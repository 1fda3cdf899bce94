"""Complaints and appeals: each function changes rows through ``fire()``, flushes, never
commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from iris.complaints.models import Appeal, Complaint
from iris.core.workflow import PermissionDenied, TransitionNotAllowed, fire
from workflows.appeal import AppealAgainst
from workflows.certification import AuditType
from workflows.complaint import ComplaintState

#: complaint states in which the investigator may open a special audit
SPECIAL_AUDIT_STATES = (ComplaintState.INVESTIGATING, ComplaintState.SUBSTANTIATED)


def open_special_audit(complaint: Complaint, *, actor: Any, now: datetime) -> Any:
    """The investigator opens a special short-notice audit of the agency the complaint is
    about: a certification case of kind special, with the company that certified it, on
    the same pages as every audit (``open_followup`` through the engine)."""
    from iris.audits.operations import open_followup
    from iris.certificates.models import certificate_in_force
    from iris.core.db import db

    if complaint.investigator_id != actor.id:
        raise PermissionDenied(_("Only the complaint's investigator can open a special audit."))
    if complaint.state not in SPECIAL_AUDIT_STATES:
        raise TransitionNotAllowed(_("A special audit is opened during the investigation."))
    if complaint.special_case_id is not None:
        raise TransitionNotAllowed(_("A special audit was already opened for this complaint."))
    cert = certificate_in_force(db.session, complaint.agency_id) if complaint.agency_id else None
    if cert is None:
        raise TransitionNotAllowed(_("The agency has no certificate in force to audit."))
    case = open_followup(cert, actor=actor, audit_type=AuditType.SPECIAL, now=now)
    complaint.special_case_id = case.id
    db.session.flush()
    return case


def take_action(
    complaint: Complaint,
    *,
    actor: Any,
    reason_code: str,
    reason: str,
    criterion: str | None,
    grade: str | None,
    now: datetime,
) -> None:
    """Record the action taken on a substantiated complaint (its effect suspends the
    certificate or raises the finding in the special audit)."""
    data: dict[str, Any] = {}
    if criterion:
        data["criterion"] = criterion
    if grade:
        data["grade"] = grade
    fire(complaint, "take_action", actor, reason=reason, reason_code=reason_code, now=now, **data)


def lodge_appeal(case: Any, *, actor: Any, reason: str, now: datetime) -> Appeal:
    """The agency appeals against the refusal of its case, within the appeal window."""
    appeal = Appeal(
        agency_id=case.agency_id, against=AppealAgainst.REFUSAL, case_id=case.id, case=case
    )
    fire(appeal, "lodge", actor, reason=reason, now=now)
    return appeal
