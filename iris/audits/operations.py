"""Changing certification cases: each function flushes, never commits."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from iris.audits.models import CertificationCase, ConflictOfInterestDeclaration, TeamMember
from iris.core.db import db
from iris.core.workflow import TransitionNotAllowed, fire
from workflows.certification import AuditType, CaseState, TeamRole


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


def set_team(case: CertificationCase, *, actor: Any, lead: Any, auditors: list[Any]) -> None:
    """The planner names the team (confirmed later by the ``assign_team`` step, whose guards
    check training, languages and conflicts of interest)."""
    if case.state is not CaseState.TEAM_PENDING:
        raise TransitionNotAllowed(_("The team can be changed only while it is pending."))
    case.team.clear()
    db.session.flush()
    case.team.append(TeamMember(user=lead, user_id=lead.id, team_role=TeamRole.LEAD))
    for user in auditors:
        if user.id != lead.id:
            case.team.append(TeamMember(user=user, user_id=user.id, team_role=TeamRole.AUDITOR))
    db.session.flush()


def declare_conflict(*, actor: Any, agency: Any, **fields: Any) -> ConflictOfInterestDeclaration:
    declaration = ConflictOfInterestDeclaration(
        user_id=actor.id, agency_id=agency.id, agency=agency, **fields
    )
    db.session.add(declaration)
    db.session.flush()
    return declaration
