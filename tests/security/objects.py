"""The objects the authorisation matrix reaches routes with: a whole world (agency, scheme
manager, audit company with every role) taken through the engine to findings, with a
certificate, a complaint, an appeal, evidence, mail and a webhook; one world is "own", a
second one "another organisation's"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from iris.audits.models import TeamMember
from iris.certificates.operations import issue_certificate
from iris.core import storage
from iris.core.mail import OutboxMessage
from iris.fieldwork.operations import store_audit_report
from iris.notifications.models import WebhookEndpoint
from iris.questionnaires.models import EvidenceDocument
from iris.questionnaires.queries import response_for
from tests.core.workflow_world import World
from workflows.appeal import AppealState
from workflows.certification import CaseState
from workflows.complaint import ComplaintState
from workflows.roles import Role


def build(make: Any, session: Any) -> SimpleNamespace:
    w = World(make, session)
    out = w.journey("findings_issued")
    application, case = out["application"], out["case"]
    for member in session.scalars(sa.select(TeamMember).where(TeamMember.case_id == case.id)):
        member.coi_confirmed_at = w.now  # the team has confirmed its declarations
    certificate = issue_certificate(w.case(CaseState.CERTIFIED), actor=w.decider, now=w.now)
    store_audit_report(case, now=w.now, session=session)
    licence = w.agency.licences[0]
    licence.file_sha256 = storage.put_bytes(
        b"%PDF-1.4\n%%EOF\n licence " + str(licence.id).encode()
    )
    complaint = w.complaint(ComplaintState.RECEIVED)
    appeal = w.appeal(AppealState.LODGED)
    doc = session.scalars(
        sa.select(EvidenceDocument).where(EvidenceDocument.agency_id == w.agency.id)
    ).first()
    mail = OutboxMessage(to_address=w.agency_admin.email, subject="Hello", body="Hello")
    hook = WebhookEndpoint(name="ERP", url="https://erp.example.com/iris", secret="s" * 32)
    session.add_all([mail, hook])
    session.flush()
    response = response_for(application)
    assert response is not None and doc is not None
    section = response.definition.sections[0]
    users = {
        Role.AGENCY_ADMIN: w.agency_admin,
        Role.AGENCY_MEMBER: make.user_with_role(Role.AGENCY_MEMBER, w.agency),
        Role.APPLICATION_REVIEWER: w.reviewer,
        Role.SCHEME_ADMIN: w.scheme_admin,
        Role.PLANNER: w.planner,
        Role.LEAD_AUDITOR: w.lead,
        Role.AUDITOR: w.auditor,
        Role.TECHNICAL_REVIEWER: w.tech,
        Role.DECISION_MAKER: w.decider,
    }
    return SimpleNamespace(
        world=w,
        users=users,
        agency=w.agency,
        company=w.company,
        application=application,
        response=response,
        section=section.code,
        answer_key=section.criteria[0].questions[0].key,
        criterion=section.criteria[0].code,
        case=case,
        finding=case.findings[0],
        certificate=certificate,
        complaint=complaint,
        appeal=appeal,
        doc=doc,
        licence=licence,
        site=w.agency.sites[0],
        mail=mail,
        webhook=hook,
        user=w.agency_admin,
    )
