"""Where the audit plugs into other features without editing them (imported by views.py).

- The certification lifecycle's ``recommend`` step stores the audit report PDF with its
  sha256 (an ``every_step`` effect on the case binding, so it runs inside the step's
  transaction and a failed render rolls the recommendation back).
- The evidence downloads of the questionnaire feature also open to the audit team of a
  case of the agency (once they confirmed their declaration) and to the audit company's
  technical reviewer and decision maker of such a case.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from iris.audits.models import CertificationCase, TeamMember
from iris.core.db import db
from iris.core.workflow import Firing, bind
from iris.questionnaires.permissions import register_evidence_viewer
from workflows.roles import Role

cases = bind("certification")


@cases.every_step
def store_report_on_recommend(f: Firing) -> None:
    if f.transition.trigger != "recommend":
        return
    from iris.fieldwork.operations import store_audit_report

    report = store_audit_report(f.subject, now=f.now, session=f.session)
    f.payload["audit_report_sha256"] = report.sha256


def audit_team_sees_evidence(user: Any, doc: Any) -> bool:
    on_team = sa.exists().where(
        TeamMember.case_id == CertificationCase.id,
        TeamMember.user_id == user.id,
        TeamMember.coi_confirmed_at.is_not(None),
    )
    company_ids = [
        m.organisation_id
        for m in user.memberships
        if m.role in (Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER)
    ]
    cond = on_team
    if company_ids:
        cond = sa.or_(on_team, CertificationCase.audit_company_id.in_(company_ids))
    found = db.session.scalar(
        sa.select(CertificationCase.id)
        .where(CertificationCase.agency_id == doc.agency_id, cond)
        .limit(1)
    )
    return found is not None


register_evidence_viewer(audit_team_sees_evidence)
