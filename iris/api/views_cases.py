"""The audit side of the API: an auditor's cases and their findings, corrective actions.

The same checks as the audit pages (iris/fieldwork/views.py), through the same helpers of
``iris.fieldwork.queries``: a case the user has no relation with answers 404 (an auditor
not on the team does not learn it exists); a team member who has not confirmed the
conflict-of-interest declaration gets 403 until they do (on the case's page); raising
findings needs the confirmed team during stage 1 or 2 (403 otherwise); the operations are
``fieldwork.operations.raise_finding``, ``submit_corrective_action`` and
``review_corrective_action``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.accounts.models import Organisation
from iris.api import schemas as s
from iris.api.auth import token_required
from iris.api.blueprint import API_PREFIX, bp
from iris.api.errors import api_error
from iris.audits.models import CertificationCase, Finding
from iris.core.db import db, utcnow
from iris.fieldwork import operations as ops
from iris.fieldwork import queries as q
from workflows.roles import Role

TAGS = ["cases"]
#: who may list cases: as the auditor's queue page (``/audit/cases``)
QUEUE_ROLES = (
    Role.PLANNER, Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER,
    Role.AGENCY_ADMIN, Role.AGENCY_MEMBER,
)  # fmt: skip


def _err(status: int, text: str) -> Any:
    return bp.alt_response(status, schema=s.ErrorSchema, description=text)


def _case(public_id: str) -> CertificationCase:
    case = q.case_by_public_id(public_id)
    if case is None or not q.can_see_case(current_user, case):
        abort(404)
    return case


def _content(case: CertificationCase) -> None:
    """As the case's pages: an unconfirmed team member is sent to the declaration (403
    here); others who may not see the audit's content get 404."""
    roles = q.case_roles(current_user, case)
    if "team" in roles and "confirmed" not in roles:
        abort(403, _("Confirm your conflict-of-interest declaration on the case's page first."))
    if not q.can_see_content(current_user, case):
        abort(404)


def _finding(public_id: str) -> tuple[Finding, CertificationCase]:
    finding = q.finding_by_public_id(public_id)
    if finding is None:
        abort(404)
    return finding, _case(finding.case.public_id)


def _refused(exc: ops.FieldworkError) -> Any:
    db.session.rollback()
    if exc.status == 400:  # the operation found the input unacceptable
        return api_error(422, "invalid", exc.message)
    code = {403: "forbidden", 404: "not_found"}.get(exc.status, "conflict")
    return api_error(exc.status, code, exc.message, reasons=[exc.message])


def _org(org: Organisation) -> dict[str, str]:
    return {"id": org.public_id, "name": org.name}


def case_json(case: CertificationCase) -> dict[str, Any]:
    return {
        "id": case.public_id,
        "state": str(case.state),
        "state_label": case.state_label,
        "audit_type": str(case.audit_type),
        "agency": _org(case.agency),
        "audit_company": _org(case.audit_company),
        "application": case.application.public_id if case.application_id else None,
        "my_relation": sorted(q.case_roles(current_user, case)),
        "team": [
            {
                "name": m.user.name,
                "team_role": str(m.team_role),
                "confirmed": m.coi_confirmed_at is not None,
            }
            for m in case.team
        ],
        "cap_due_at": case.cap_due_at,
        "recommendation": str(case.recommendation) if case.recommendation else None,
        "updated_at": case.updated_at,
        "url": url_for("fieldwork.case", case=case.public_id, _external=True),
    }


def finding_json(finding: Finding, events: list[Any]) -> dict[str, Any]:
    return {
        "id": finding.public_id,
        "case": finding.case.public_id,
        "criterion": finding.criterion,
        "grade": str(finding.grade),
        "status": str(finding.status),
        "statement": finding.statement,
        "evidence": finding.evidence,
        "due_at": finding.due_at,
        "correction": finding.correction,
        "root_cause": finding.root_cause,
        "action": finding.action,
        "owner": finding.owner,
        "target_date": finding.target_date,
        "verified_at": finding.verified_at,
        "events": [
            {"decision": str(e.decision), "comment": e.comment, "at": e.at} for e in events
        ],
    }


@bp.route(f"{API_PREFIX}/cases", tags=TAGS)
@token_required("cases:read")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.CasePageSchema)
def list_cases(args: dict[str, Any]) -> Any:
    """Your cases: those whose audit team you are on, and your company's if you plan,
    review or decide; newest activity first"""
    if not any(current_user.has_role(r) for r in QUEUE_ROLES):
        abort(403)
    cond = q._queue_filter(current_user)  # the queue page's own rule
    total = int(db.session.scalar(sa.select(sa.func.count(CertificationCase.id)).where(cond)) or 0)
    page, per_page = args["page"], args["per_page"]
    ids = db.session.scalars(
        sa.select(CertificationCase.public_id)
        .where(cond)
        .order_by(CertificationCase.updated_at.desc(), CertificationCase.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return {
        "items": [case_json(q.case_by_public_id(i)) for i in ids],  # type: ignore[arg-type]
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }


@bp.route(f"{API_PREFIX}/cases/<public_id>", tags=TAGS)
@token_required("cases:read")
@bp.response(200, s.CaseSchema)
@_err(404, "No such case, or you have no part in it")
def get_case(public_id: str) -> Any:
    """One case: state, type, agency, audit company, team, your relation to it"""
    return case_json(_case(public_id))


@bp.route(f"{API_PREFIX}/cases/<public_id>/findings", tags=TAGS)
@token_required("cases:read")
@bp.response(200, s.FindingListSchema)
@_err(404, "No such case, or you may not see its findings")
def list_findings(public_id: str) -> Any:
    """The findings of a case, with their corrective actions and review history"""
    case = _case(public_id)
    if not q.is_agency_side(current_user, case):
        _content(case)
    findings = q.findings_of(case.id)
    events = q.finding_events([x.id for x in findings])
    return {"items": [finding_json(x, events[x.id]) for x in findings]}


@bp.route(f"{API_PREFIX}/cases/<public_id>/findings", methods=["POST"], tags=TAGS)
@token_required("cases:write")
@bp.arguments(s.FindingCreateSchema)
@bp.response(201, s.FindingSchema)
@_err(404, "No such case, or you may not see its content")
@_err(409, "Findings are raised during stage 1 and stage 2 only")
def raise_finding(data: dict[str, Any], public_id: str) -> Any:
    """Raise a finding (the confirmed audit team, during stage 1 or 2)"""
    case = _case(public_id)
    _content(case)
    if not q.can_record(current_user, case):  # the confirmed team, during stage 1 or 2
        abort(403)
    try:
        finding = ops.raise_finding(
            case, actor=current_user, grade=data["grade"], criterion=data["criterion"],
            statement=data["statement"], evidence=data["evidence"], due_on=data["due_on"],
            now=utcnow(),
        )  # fmt: skip
    except ops.FieldworkError as exc:
        return _refused(exc)
    db.session.commit()
    return finding_json(finding, [])


@bp.route(f"{API_PREFIX}/findings/<public_id>", tags=TAGS)
@token_required("cases:read")
@bp.response(200, s.FindingSchema)
@_err(404, "No such finding, or you may not see it")
def get_finding(public_id: str) -> Any:
    """One finding with its corrective action and review history"""
    finding, case = _finding(public_id)
    if not q.is_agency_side(current_user, case):
        _content(case)
    return finding_json(finding, q.finding_events([finding.id])[finding.id])


@bp.route(f"{API_PREFIX}/findings/<public_id>/corrective-action", methods=["PUT"], tags=TAGS)
@token_required("cases:write")
@bp.arguments(s.CorrectiveActionSchema)
@bp.response(200, s.FindingSchema)
@_err(404, "No such finding, or you may not see it")
@_err(409, "Corrective actions are given while the findings are issued")
def submit_corrective_action(data: dict[str, Any], public_id: str) -> Any:
    """The agency's corrective action for a finding (agency administrators)"""
    finding, case = _finding(public_id)
    if not (q.is_agency_side(current_user, case) or q.can_see_content(current_user, case)):
        abort(404)
    if not current_user.has_role(Role.AGENCY_ADMIN, case.agency_id):
        abort(403)
    document = None
    if data.get("document"):
        from iris.questionnaires.models import EvidenceDocument

        document = db.session.scalar(
            sa.select(EvidenceDocument).where(
                EvidenceDocument.public_id == data["document"],
                EvidenceDocument.agency_id == case.agency_id,
            )
        )
        if document is None:
            return api_error(
                422, "invalid", _("No document of the agency has this id."),
                fields={"document": [_("No document of the agency has this id.")]},
            )  # fmt: skip
    try:
        ops.submit_corrective_action(
            finding, actor=current_user, correction=data["correction"],
            root_cause=data["root_cause"], action=data["action"], owner=data["owner"],
            target_date=data["target_date"], document=document, now=utcnow(),
        )  # fmt: skip
    except ops.FieldworkError as exc:
        return _refused(exc)
    db.session.commit()
    return finding_json(finding, q.finding_events([finding.id])[finding.id])


@bp.route(f"{API_PREFIX}/findings/<public_id>/review", methods=["POST"], tags=TAGS)
@token_required("cases:write")
@bp.arguments(s.ReviewSchema)
@bp.response(200, s.FindingSchema)
@_err(404, "No such finding, or you may not see it")
@_err(409, "Nothing to review now")
def review_corrective_action(data: dict[str, Any], public_id: str) -> Any:
    """Accept a corrective action or return it with comments (the confirmed audit team)"""
    finding, case = _finding(public_id)
    _content(case)
    if "confirmed" not in q.case_roles(current_user, case):
        abort(403)
    try:
        ops.review_corrective_action(
            finding, actor=current_user, accept=data["decision"] == "accept",
            comment=data.get("comment") or "", now=utcnow(),
        )  # fmt: skip
    except ops.FieldworkError as exc:
        return _refused(exc)
    db.session.commit()
    return finding_json(finding, q.finding_events([finding.id])[finding.id])
