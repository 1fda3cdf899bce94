"""What the audit team, the planner and the agency do during an audit.

Each operation is ``verb_noun(subject, *, actor, **data)``: it checks what the data allows,
changes rows, flushes and never commits. State changes of the case go through
``iris.core.workflow.fire``; a refusal is :class:`FieldworkError` (409 by default, with the
reason in the user's words) or the engine's own ``WorkflowError``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from iris.audits.models import (
    CertificationCase,
    Finding,
    FindingGrade,
    FindingStatus,
    TeamMember,
)
from iris.audits.queries import ties_with_agency
from iris.core.countries import country_name
from iris.core.db import db, utcnow
from iris.core.workflow import fire
from iris.fieldwork import queries as q
from iris.fieldwork.models import (
    AuditMode,
    AuditReport,
    Channel,
    ContractTiming,
    CriterionAssessment,
    Fieldwork,
    FindingEvent,
    InformationRequest,
    Rating,
    Readiness,
    ReviewDecision,
    SiteVisit,
    WorkerInterview,
)
from iris.questionnaires.definition import text_in
from workflows.certification import CaseState, TeamRole


class FieldworkError(Exception):
    """An operation refused; ``status`` is the HTTP answer, the message is for the user."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _require(condition: bool, message: str, status: int = 409) -> None:
    if not condition:
        raise FieldworkError(message, status)


def _recording(case: CertificationCase) -> None:
    _require(
        case.state in q.RECORDING_STATES,
        _("The audit records can be changed only during stage 1 and stage 2."),
    )


# --------------------------------------------------------------------------- the team


def eligible_auditors(case: CertificationCase, now: datetime) -> list[dict[str, Any]]:
    """The company's approved auditors with their competence and conflicts, for the planner."""
    from iris.audits.workflow import required_languages

    needed = required_languages(case)
    countries = {c.origin_country for c in case.agency.corridors} | {  # type: ignore[attr-defined]
        c.destination_country
        for c in case.agency.corridors  # type: ignore[attr-defined]
    }
    out = []
    for user in q.company_auditors(case.audit_company_id):
        profile = user.auditor_profile  # type: ignore[attr-defined]
        ties = ties_with_agency(user, case.agency_id, now)
        out.append(
            {
                "user": user,
                "languages": sorted(profile.languages or []),
                "matching_languages": sorted(needed & set(profile.languages or [])),
                "countries": sorted(profile.countries or []),
                "matching_countries": sorted(countries & set(profile.countries or [])),
                "trained": profile.iris_trained_on is not None,
                "can_lead": _can_lead(user, case),
                "conflicts": ties,
            }
        )
    return out


def _can_lead(user: Any, case: CertificationCase) -> bool:
    from workflows.roles import Role

    return user.has_role(Role.LEAD_AUDITOR, case.audit_company_id)


def assign_team(
    case: CertificationCase, *, actor: Any, lead_id: int, member_ids: list[int], now: datetime
) -> CertificationCase:
    """Put the lead auditor and the members on the team and fire ``assign_team``.

    Only the company's approved auditors free of any conflict of interest can be chosen;
    the engine's guards check training, languages and conflicts again.
    """
    candidates = {c["user"].id: c for c in eligible_auditors(case, now)}
    chosen = [lead_id, *[m for m in member_ids if m != lead_id]]
    for uid in chosen:
        _require(uid in candidates, _("Choose approved auditors of this company."), 400)
        _require(
            not candidates[uid]["conflicts"],
            _("Conflict of interest: %(r)s", r=" ".join(candidates[uid]["conflicts"])),
        )
    _require(candidates[lead_id]["can_lead"], _("The lead must be a lead auditor."))
    case.team.clear()
    db.session.flush()
    for uid in chosen:
        case.team.append(
            TeamMember(user_id=uid, team_role=TeamRole.LEAD if uid == lead_id else TeamRole.AUDITOR)
        )
    db.session.flush()
    db.session.expire(case, ["team"])
    fire(case, "assign_team", actor, now=now)
    return case


def confirm_declaration(case: CertificationCase, *, actor: Any, now: datetime) -> TeamMember:
    """The team member declares no consultancy, employment or financial tie with the agency
    within the cooling-off period; the case's content opens to them."""
    member = next((m for m in case.team if m.user_id == actor.id), None)
    _require(member is not None, _("You are not on this case's audit team."), 404)
    assert member is not None
    ties = ties_with_agency(actor, case.agency_id, now)
    _require(not ties, _("Conflict of interest: %(r)s", r=" ".join(ties)))
    if member.coi_confirmed_at is None:
        member.coi_confirmed_at = now
    db.session.flush()
    return member


# --------------------------------------------------------------------------- stages


def record_stage1(
    case: CertificationCase, *, actor: Any, outcome: str, notes: str, now: datetime
) -> Fieldwork:
    """Record the stage 1 readiness outcome and take the matching step: ready → stage 2,
    not ready → back to planning with the gaps as the reason."""
    _require(case.state is CaseState.STAGE1, _("Stage 1 is not in progress."))
    work = q.fieldwork_of(case) or Fieldwork(case_id=case.id, mode=AuditMode.ON_SITE)
    work.stage1_outcome = Readiness(outcome)
    work.stage1_notes = notes.strip()
    work.stage1_at = now
    work.stage1_by_id = actor.id
    db.session.add(work)
    db.session.flush()
    if work.stage1_outcome is Readiness.READY:
        fire(case, "start_stage2", actor, reason=notes.strip() or None, now=now)
    else:
        fire(case, "not_ready", actor, reason=notes, now=now)
    return work


def rate_criterion(
    case: CertificationCase,
    *,
    actor: Any,
    criterion: str,
    rating: str,
    notes: str,
    documents: list[Any],
    now: datetime,
) -> CriterionAssessment:
    _recording(case)
    codes = {c.code for c in q.criteria_of(q.definition_of(case))}
    _require(criterion in codes, _("No such criterion in this audit."), 404)
    rating_ = Rating(rating)
    _require(
        rating_ in (Rating.CONFORMING, Rating.NOT_APPLICABLE) or bool(notes.strip()),
        _("Give the objective evidence in the notes for any rating but conforming."),
        400,
    )
    for doc in documents:
        _require(doc.agency_id == case.agency_id, _("That document is not the agency's."), 400)
    row = db.session.scalar(
        sa.select(CriterionAssessment).where(
            CriterionAssessment.case_id == case.id, CriterionAssessment.criterion == criterion
        )
    )
    if row is None:
        row = CriterionAssessment(case_id=case.id, criterion=criterion)
        db.session.add(row)
    row.rating = rating_
    row.notes = notes.strip()
    row.assessed_by_id = actor.id
    row.assessed_at = now
    row.documents = list(documents)
    db.session.flush()
    return row


def record_site_visit(
    case: CertificationCase, *, actor: Any, site: Any, visited_on: date, notes: str
) -> SiteVisit:
    _require(case.state is CaseState.STAGE2, _("Sites are visited in stage 2."))
    _require(site.organisation_id == case.agency_id, _("Not a site of this agency."), 400)
    visit = SiteVisit(
        case_id=case.id,
        site_id=site.id,
        visited_on=visited_on,
        notes=notes.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(visit)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise FieldworkError(_("This visit is already recorded.")) from None
    return visit


def record_interview(case: CertificationCase, *, actor: Any, **data: Any) -> WorkerInterview:
    """Record a pseudonymised interview; it gets the next code of the case (W-1, W-2 ...)."""
    _require(case.state is CaseState.STAGE2, _("Workers are interviewed in stage 2."))
    site = data.pop("site", None)
    _require(
        site is None or site.organisation_id == case.agency_id,
        _("Not a site of this agency."),
        400,
    )
    fees_paid = bool(data.get("fees_paid"))
    amount = data.get("fee_amount")
    currency = (data.get("fee_currency") or "").strip().upper() or None
    _require(
        not fees_paid or (amount is not None and currency is not None),
        _("Give the amount and the currency of the fees the worker paid."),
        400,
    )
    number = q.interview_count(case.id) + 1
    interview = WorkerInterview(
        case_id=case.id,
        code=f"W-{number}",
        conducted_on=data["conducted_on"],
        site_id=site.id if site is not None else None,
        language=data["language"],
        interpreter=bool(data.get("interpreter")),
        channel=Channel(data["channel"]),
        fees_paid=fees_paid,
        fee_amount=Decimal(str(amount)) if fees_paid and amount is not None else None,
        fee_currency=currency if fees_paid else None,
        documents_held=bool(data.get("documents_held")),
        contract_timing=ContractTiming(data["contract_timing"]),
        contract_language=data.get("contract_language") or None,
        contract_in_own_language=bool(data.get("contract_in_own_language")),
        substitution=bool(data.get("substitution")),
        knows_grievance=bool(data.get("knows_grievance")),
        notes=(data.get("notes") or "").strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(interview)
    db.session.flush()
    return interview


# --------------------------------------------------------------------------- findings


def default_due(now: datetime) -> date:
    return (now + timedelta(days=int(current_app.config["IRIS_CAP_DEADLINE_DAYS"]))).date()


def raise_finding(
    case: CertificationCase,
    *,
    actor: Any,
    grade: str,
    criterion: str,
    statement: str,
    evidence: str,
    due_on: date | None,
    now: datetime,
) -> Finding:
    _recording(case)
    codes = {c.code for c in q.criteria_of(q.definition_of(case))}
    _require(not codes or criterion in codes, _("No such criterion in this audit."), 400)
    due = due_on or default_due(now)
    _require(due > now.date(), _("The due date must be in the future."), 400)
    finding = Finding(
        case_id=case.id,
        criterion=criterion,
        grade=FindingGrade(grade),
        statement=statement.strip(),
        evidence=evidence.strip(),
        due_at=datetime.combine(due, time(23, 59, 59), now.tzinfo),
        status=FindingStatus.OPEN,
    )
    db.session.add(finding)
    db.session.flush()
    return finding


def submit_corrective_action(
    finding: Finding,
    *,
    actor: Any,
    correction: str,
    root_cause: str,
    action: str,
    owner: str,
    target_date: date,
    document: Any | None,
    now: datetime,
) -> Finding:
    case = finding.case
    _require(
        case.state is CaseState.FINDINGS_ISSUED,
        _("Corrective actions are given while the findings are issued."),
    )
    _require(finding.needs_action, _("An observation needs no corrective action."), 400)
    _require(
        finding.status in (FindingStatus.OPEN, FindingStatus.PLAN_SUBMITTED),
        _("This corrective action was already accepted."),
    )
    _require(target_date >= now.date(), _("The target date cannot be in the past."), 400)
    if document is not None:
        _require(document.agency_id == case.agency_id, _("Not a document of the agency."), 400)
    finding.correction = correction.strip()
    finding.root_cause = root_cause.strip()
    finding.action = action.strip()
    finding.owner = owner.strip()
    finding.target_date = target_date
    finding.status = FindingStatus.PLAN_SUBMITTED
    db.session.add(
        FindingEvent(
            finding=finding,
            decision=ReviewDecision.SUBMITTED,
            actor_id=actor.id,
            at=now,
            document_id=document.id if document is not None else None,
            comment="",
        )
    )
    db.session.flush()
    return finding


def review_corrective_action(
    finding: Finding, *, actor: Any, accept: bool, comment: str, now: datetime
) -> Finding:
    """The auditor accepts a corrective action (a minor's plan is accepted; a major or
    critical is closed as verified) or returns it with comments."""
    case = finding.case
    _require(
        case.state is CaseState.CAP_SUBMITTED,
        _("Corrective actions are reviewed once the agency submitted its plan."),
    )
    _require(
        finding.status is FindingStatus.PLAN_SUBMITTED,
        _("There is no submitted corrective action to review."),
    )
    if accept:
        if finding.grade is FindingGrade.MINOR:
            finding.status = FindingStatus.PLAN_ACCEPTED
        else:
            finding.status = FindingStatus.VERIFIED_CLOSED
        finding.verified_at = now
        finding.verified_by_id = actor.id
    else:
        _require(bool(comment.strip()), _("Say what is missing when returning it."), 400)
        finding.status = FindingStatus.OPEN
    db.session.add(
        FindingEvent(
            finding=finding,
            decision=ReviewDecision.ACCEPTED if accept else ReviewDecision.RETURNED,
            comment=comment.strip(),
            actor_id=actor.id,
            at=now,
        )
    )
    db.session.flush()
    return finding


# --------------------------------------------------------------------------- requests


def ask_information(
    case: CertificationCase, *, actor: Any, answer_key: str, body: str
) -> InformationRequest:
    _require(
        case.state not in (CaseState.CERTIFIED, CaseState.REFUSED, CaseState.CLOSED_NOT_CERTIFIED),
        _("The case is closed."),
    )
    definition = q.definition_of(case)
    _require(
        definition is not None and answer_key in definition.fields,
        _("No such answer in the self-assessment."),
        404,
    )
    msg = InformationRequest(
        case_id=case.id, answer_key=answer_key, from_agency=False, body=body.strip(),
        author_id=actor.id,
    )  # fmt: skip
    db.session.add(msg)
    db.session.flush()
    from iris.notifications.operations import notify_information_request

    notify_information_request(case, msg)  # the agency's outbox, in this transaction
    return msg


def answer_information(
    case: CertificationCase,
    *,
    actor: Any,
    answer_key: str,
    body: str,
    document: Any | None,
    upload: Any | None = None,
    locale: str = "en",
    doc_type: str = "other",
) -> InformationRequest:
    """The agency answers a thread: text, and either one of its documents or a new file
    (``upload``, already checked by ``iris.questionnaires.forms.check_upload``), stored in
    its evidence register by the questionnaire's own operation."""
    thread = q.threads_of(case.id).get(answer_key)
    _require(bool(thread), _("The auditor has asked nothing about this answer."), 404)
    _require(
        document is None or upload is None,
        _("Link an existing document or upload a new one, not both."),
        400,
    )
    if upload is not None:
        from iris.questionnaires.operations import upload_evidence

        document = upload_evidence(
            case.agency, actor=actor, data=upload.data, file_name=upload.file_name,
            content_type=upload.content_type, title=upload.file_name, doc_type=doc_type,
            language=locale,
        )  # fmt: skip
    if document is not None:
        _require(document.agency_id == case.agency_id, _("Not a document of the agency."), 400)
    msg = InformationRequest(
        case_id=case.id, answer_key=answer_key, from_agency=True, body=body.strip(),
        author_id=actor.id, document_id=document.id if document is not None else None,
    )  # fmt: skip
    db.session.add(msg)
    db.session.flush()
    return msg


# --------------------------------------------------------------------------- steps

#: steps of the case the fieldwork pages offer (the others have their own forms)
STEPS = (
    "start_stage1",
    "start_onsite",
    "issue_findings",
    "submit_cap",
    "return_cap",
    "recommend",
    "review",
    "grant",
    "refuse",
)


def audit_complete(case: CertificationCase) -> None:
    """Every criterion rated and the interview sample met, before findings or a
    recommendation leave stage 2.

    The same checks back the engine's ``criteria_assessed``/``interviews_sampled`` guards
    once ``iris/audits/assessment.py`` re-exports :func:`q.criteria_gaps` and
    :func:`q.interview_gaps`; until then they are enforced here, for the fieldwork pages.
    """
    gaps = q.criteria_gaps(case)
    _require(
        not gaps,
        _("Assess every criterion first; not yet assessed: %(items)s.", items=", ".join(gaps)),
    )
    missing = q.interview_gaps(case)
    _require(
        not missing,
        _("The worker interviews are not complete: %(items)s.", items="; ".join(missing)),
    )


def take_step(
    case: CertificationCase,
    *,
    actor: Any,
    trigger: str,
    reason: str | None,
    recommendation: str | None,
    now: datetime,
) -> None:
    _require(trigger in STEPS, _("There is no such step."), 404)
    if case.state is CaseState.STAGE2 and trigger in ("issue_findings", "recommend"):
        audit_complete(case)
    data: dict[str, Any] = {}
    if recommendation:
        data["recommendation"] = recommendation
    fire(case, trigger, actor, reason=reason or None, now=now, **data)


# --------------------------------------------------------------------------- the report


def report_language(case: CertificationCase) -> str:
    """The language the agency reads: its profile's preferred language, if the service
    speaks it, else English. (The self-assessment has no language of its own: it is
    answered in whatever language the person chose for each page.)"""
    profile = getattr(case.agency, "agency_profile", None)
    language = getattr(profile, "preferred_language", None) or "en"
    return language if language in current_app.config["IRIS_LOCALES"] else "en"


def report_snapshot(
    case: CertificationCase, *, now: datetime, language: str = "en"
) -> dict[str, Any]:
    """The plain data of the audit report: scope, team, dates, ratings, findings and their
    closure, recommendation. No interview personal data (only the number of interviews).

    Codes and ISO dates, as stored; :func:`report_context` puts them in words and in the
    report's ``language`` (criterion titles are taken in that language here)."""
    from iris.core.history import TransitionRecord

    response = q.response_of(case)
    definition = q.definition_of(case, response)
    assessments = q.assessments_of(case.id)
    sc = q.scores(definition, response, assessments)
    agency = case.agency
    records = db.session.scalars(
        sa.select(TransitionRecord)
        .where(TransitionRecord.subject_type == "certification")
        .where(TransitionRecord.subject_id == case.id)
        .order_by(TransitionRecord.seq)
    ).all()
    dates = {r.trigger: r.at.date().isoformat() for r in records}
    visits = db.session.scalars(
        sa.select(SiteVisit).where(SiteVisit.case_id == case.id).order_by(SiteVisit.visited_on)
    ).all()
    criteria = []
    for c in q.criteria_of(definition):
        a = assessments.get(c.code)
        criteria.append(
            {
                "section": c.section,
                "code": c.code,
                "title": text_in(c.title, language),
                "rating": a.rating.value if a else "not assessed",
                "notes": a.notes if a else "",
            }
        )

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{round(x * 100)}%"

    return {
        "case": case.public_id,
        "language": language,
        "audit_type": case.audit_type.value,
        "agency": {
            "name": agency.name,
            "country": agency.country,
            "city": agency.city or "",
            "corridors": [
                f"{c.origin_country} → {c.destination_country}"
                for c in agency.corridors  # type: ignore[attr-defined]
            ],
        },
        "audit_company": case.audit_company.name,
        "team": [{"name": m.user.name, "role": m.team_role.value} for m in case.team],
        "dates": {
            "team assigned": dates.get("assign_team", ""),
            "stage 1": dates.get("start_stage1", ""),
            "stage 2": dates.get("start_stage2", dates.get("start_onsite", "")),
            "findings issued": dates.get("issue_findings", ""),
            "recommended": now.date().isoformat(),
        },
        "sites": [
            {"name": v.site.name, "city": v.site.city, "on": v.visited_on.isoformat()}
            for v in visits
        ],
        "interviews": q.interview_count(case.id),
        "criteria": criteria,
        "scores": [
            {"code": p.code, "declared": pct(p.declared), "verified": pct(p.verified)}
            for p in sc.principles
        ],
        "overall": {"declared": pct(sc.declared), "verified": pct(sc.verified)},
        "findings": [
            {
                "criterion": f.criterion,
                "grade": f.grade.value,
                "statement": f.statement,
                "evidence": f.evidence,
                "due": f.due_at.date().isoformat() if f.due_at else "",
                "status": f.status.value,
                "action": f.action or "",
                "closed": f.verified_at.date().isoformat() if f.verified_at else "",
            }
            for f in q.findings_of(case.id)
        ],
        "recommendation": case.recommendation.value if case.recommendation else "",
        "rationale": case.recommendation_rationale or "",
        "issued": now.date().isoformat(),
    }


def report_context(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The template's plain-dict context: the snapshot with every code in words and every
    date formatted, in the current locale (the caller forces the report's language)."""
    from flask_babel import format_date

    from iris.core.labels import label

    def day(iso: str | None) -> str:
        return str(format_date(date.fromisoformat(iso[:10]))) if iso else ""

    def rating(code: str) -> str:
        return label(code, "Rating") if code in set(Rating) else _("not assessed")

    words = {
        "team assigned": _("Team assigned"),
        "stage 1": _("Stage 1"),
        "stage 2": _("Stage 2"),
        "findings issued": _("Findings issued"),
        "recommended": _("Recommended"),
    }
    r = dict(snapshot)
    r["audit_type"] = label(snapshot["audit_type"], "AuditType")
    r["agency"] = dict(snapshot["agency"], country=country_name(snapshot["agency"]["country"]))
    r["issued"] = day(snapshot["issued"])
    r["team"] = [dict(m, role=label(m["role"], "TeamRole")) for m in snapshot["team"]]
    r["dates"] = [(words.get(k, k), day(v)) for k, v in snapshot["dates"].items()]
    r["sites"] = [dict(v, on=day(v["on"])) for v in snapshot["sites"]]
    r["criteria"] = [dict(c, rating_label=rating(c["rating"])) for c in snapshot["criteria"]]
    r["findings"] = [
        dict(
            f,
            grade_label=label(f["grade"], "FindingGrade"),
            status=label(f["status"], "FindingStatus"),
            due=day(f["due"]),
            closed=day(f["closed"]),
        )
        for f in snapshot["findings"]
    ]
    r["recommendation"] = label(snapshot["recommendation"], "Recommendation")
    r.setdefault("language", "en")
    return {"r": r}


def report_html(snapshot: dict[str, Any], language: str) -> str:
    """The report's HTML in ``language`` (words, labels and dates)."""
    from flask_babel import force_locale

    from iris.core.pdf import render_html

    with force_locale(language):
        return render_html("pdf/audit_report.html", report_context(snapshot))


def store_audit_report(
    case: CertificationCase, *, now: datetime | None = None, session: Any = None
) -> AuditReport:
    """Render the audit report PDF, store its bytes by sha256 and record it on the case.

    Written in the agency's language (:func:`report_language`). Runs inside the ``recommend`` transaction (see :mod:`iris.fieldwork.hooks`): a failed
    render rolls the recommendation back, as the certificate PDF does for a grant.
    """
    from iris.core import storage
    from iris.core.pdf import render_pdf

    now = now or utcnow()
    session = session or db.session
    language = report_language(case)
    snapshot = report_snapshot(case, now=now, language=language)
    data = render_pdf(report_html(snapshot, language))
    digest = storage.file_store().put(data)
    report = AuditReport(
        case_id=case.id, sha256=digest, size=len(data), snapshot=snapshot, issued_at=now
    )
    session.add(report)
    session.flush()
    return report


def latest_report(case_id: int) -> AuditReport | None:
    return db.session.scalar(
        sa.select(AuditReport)
        .where(AuditReport.case_id == case_id)
        .order_by(AuditReport.id.desc())
        .limit(1)
    )
