"""The audit's pages: the planner's team assignment, the auditor's queue and workspace,
assessment, interviews, findings and corrective actions, requests for information.

All under ``/audit/`` (the audits feature keeps the engine-level case overview, with the
lifecycle's history and the certificate's audit schedule, under ``/cases/``).

Every view: load (404) → authorise (404 where the case must not leak, 403 otherwise) →
validate a FlaskForm → one operation → commit → flash and redirect. A refused step answers
with its status (409/403/400) and the reason.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from iris.audits.models import CertificationCase, Finding
from iris.core.db import db, utcnow, writes
from iris.core.errors import render_error
from iris.core.permissions import login_required, require, roles_required
from iris.core.workflow import WorkflowError, available_actions
from iris.fieldwork import forms as f
from iris.fieldwork import hooks  # noqa: F401  (registers the report and evidence hooks)
from iris.fieldwork import operations as ops
from iris.fieldwork import queries as q
from iris.fieldwork.models import WorkerInterview
from iris.privacy import hooks as privacy
from workflows.certification import AuditType, CaseState
from workflows.roles import Role

bp = Blueprint("fieldwork", __name__, url_prefix="/audit")

AUDIT_ROLES = (
    Role.PLANNER,
    Role.LEAD_AUDITOR,
    Role.AUDITOR,
    Role.TECHNICAL_REVIEWER,
    Role.DECISION_MAKER,
    Role.AGENCY_ADMIN,
    Role.AGENCY_MEMBER,
)


# --------------------------------------------------------------------------- helpers


def _locale() -> str:
    return str(get_locale() or "en")


def _t(text: Any) -> str:
    if not text:
        return ""
    from iris.questionnaires.definition import text_in

    return text_in(text, _locale())


def _case(public_id: str) -> CertificationCase:
    case = q.case_by_public_id(public_id)
    require(case is not None and q.can_see_case(current_user, case), 404)
    assert case is not None
    return case


def _content_or_declaration(case: CertificationCase) -> Any | None:
    """Redirect a team member who has not confirmed the declaration; 404 for others who may
    not see the content (the agency has its own page)."""
    roles = q.case_roles(current_user, case)
    if "team" in roles and "confirmed" not in roles:
        return redirect(url_for("fieldwork.declaration", case=case.public_id))
    require(q.can_see_content(current_user, case), 404)
    return None


def _refused(exc: ops.FieldworkError | WorkflowError) -> Any:
    db.session.rollback()
    return render_error(exc.status, exc.message)


def _documents(case: CertificationCase) -> list[Any]:
    from iris.questionnaires.queries import agency_documents

    return agency_documents(case.agency_id)


def _doc_choices(case: CertificationCase, *, blank: bool) -> list[tuple[str, str]]:
    choices = [(d.public_id, f"{d.title} ({d.file_name})") for d in _documents(case)]
    return [("", "—"), *choices] if blank else choices


def _doc(case: CertificationCase, public_id: str | None) -> Any | None:
    if not public_id:
        return None
    from iris.questionnaires.models import EvidenceDocument

    doc = db.session.scalar(
        sa.select(EvidenceDocument).where(
            EvidenceDocument.public_id == public_id,
            EvidenceDocument.agency_id == case.agency_id,
        )
    )
    require(doc is not None, 400)
    return doc


def _actions(case: CertificationCase) -> list[Any]:
    """The steps of this page the user may take, without the other kind of audit's start
    (stage 1 for an initial audit, the on-site start for a follow-up)."""
    other_start = "start_onsite" if case.audit_type is AuditType.INITIAL else "start_stage1"
    return [
        a
        for a in available_actions(case, current_user)
        if a.trigger in ops.STEPS and a.trigger != other_start
    ]


def _done(case: CertificationCase, message: str, anchor: str = "") -> Any:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("fieldwork.case", case=case.public_id) + anchor)


# --------------------------------------------------------------------------- the queue


@bp.get("/cases")
@roles_required(*AUDIT_ROLES)
def my_cases() -> Any:
    page = request.args.get("page", 1, type=int) or 1
    result = q.my_cases(current_user, page, now=utcnow())
    agency_side = not any(m.role not in q.AGENCY_ROLES for m in current_user.memberships)
    return render_template(
        "fieldwork/my_cases.html", result=result, now=utcnow(), agency_side=agency_side
    )


# --------------------------------------------------------------------------- the case


@bp.get("/cases/<case>")
@login_required
def case(case: str) -> Any:
    c = _case(case)
    roles = q.case_roles(current_user, c)
    now = utcnow()
    if "agency" in roles and not q.can_see_content(current_user, c):
        return _agency_page(c, now)
    if not roles & {"team", "reviewer", "decider"}:
        # a planner without another role sees the team page
        return redirect(url_for("fieldwork.team", case=c.public_id))
    redirect_to = _content_or_declaration(c)
    if redirect_to is not None:
        return redirect_to
    response = q.response_of(c)
    definition = q.definition_of(c, response)
    assessments = q.assessments_of(c.id)
    findings = q.findings_of(c.id)
    scores = q.scores(definition, response, assessments)
    return render_template(
        "fieldwork/case.html",
        c=c,
        roles=roles,
        now=now,
        t=_t,
        agency=c.agency,
        response=response,
        definition=definition,
        evidence=response.evidence_keys() if response is not None else {},
        score=response.score if response is not None else None,
        criteria=q.criteria_of(definition),
        assessments=assessments,
        findings=findings,
        overdue={x.id for x in findings if q.is_overdue(x, now)},
        scores=scores,
        chart=_chart(scores),
        threads=q.threads_of(c.id),
        work=q.fieldwork_of(c),
        interviews=q.interview_count(c.id),
        needed=q.sampling_minimum(q.workers_placed(c.agency_id)),
        show_interviews=q.can_see_interviews(current_user, c),
        can_record=q.can_record(current_user, c),
        actions=_actions(c),
        step_form=f.StepForm(),
        stage1_form=f.Stage1Form(),
        report=ops.latest_report(c.id),
        labels=f.RATING_LABELS,
        grade_labels=f.GRADE_LABELS,
    )


def _agency_page(c: CertificationCase, now: Any) -> Any:
    findings = q.findings_of(c.id)
    return render_template(
        "fieldwork/agency_case.html",
        c=c,
        now=now,
        findings=findings,
        overdue={x.id for x in findings if q.is_overdue(x, now)},
        events=q.finding_events([x.id for x in findings]),
        threads=q.threads_of(c.id),
        actions=_actions(c),
        step_form=f.StepForm(),
        report=ops.latest_report(c.id),
        grade_labels=f.GRADE_LABELS,
    )


def _chart(scores: q.Scores) -> dict[str, Any]:
    """Geometry of the declared-against-verified bar chart (server-rendered SVG)."""
    bar_h, gap, label_w, width = 12, 10, 40, 300
    rows = []
    for i, p in enumerate(scores.principles):
        y = i * (2 * bar_h + gap)
        rows.append(
            {
                "code": p.code,
                "y": y,
                "declared": None if p.declared is None else round(p.declared * width, 1),
                "verified": None if p.verified is None else round(p.verified * width, 1),
                "declared_pct": None if p.declared is None else round(p.declared * 100),
                "verified_pct": None if p.verified is None else round(p.verified * 100),
                "gap": p.gap is not None and abs(p.gap) >= 0.2,
            }
        )
    height = max(1, len(rows)) * (2 * bar_h + gap)
    return {"rows": rows, "bar_h": bar_h, "label_w": label_w, "width": width, "height": height}


# --------------------------------------------------------------------------- the team


@bp.route("/cases/<case>/team", methods=["GET", "POST"])
@roles_required(Role.PLANNER)
def team(case: str) -> Any:
    c = _case(case)
    require("planner" in q.case_roles(current_user, c), 404)
    now = utcnow()
    candidates = ops.eligible_auditors(c, now)
    form = f.AssignTeamForm()
    free = [x for x in candidates if not x["conflicts"] and x["trained"]]
    form.lead.choices = [(x["user"].id, x["user"].name) for x in free if x["can_lead"]]
    form.members.choices = [(x["user"].id, x["user"].name) for x in free]
    if request.method == "POST":
        require(c.state is CaseState.TEAM_PENDING, 409)
    if form.validate_on_submit():
        try:
            ops.assign_team(
                c, actor=current_user, lead_id=form.lead.data, member_ids=form.members.data or [],
                now=now,
            )  # fmt: skip
        except (ops.FieldworkError, WorkflowError) as exc:
            return _refused(exc)
        db.session.commit()
        flash(_("The audit team is assigned."), "success")
        return redirect(url_for("fieldwork.team", case=c.public_id))
    from iris.audits.workflow import required_languages

    return render_template(
        "fieldwork/team.html",
        c=c,
        form=form,
        candidates=candidates,
        languages=sorted(required_languages(c)),
    )


@bp.route("/cases/<case>/declaration", methods=["GET", "POST"])
@login_required
def declaration(case: str) -> Any:
    c = _case(case)
    require("team" in q.case_roles(current_user, c), 404)
    form = f.DeclarationForm()
    if form.validate_on_submit():
        try:
            ops.confirm_declaration(c, actor=current_user, now=utcnow())
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Declaration confirmed."))
    return render_template("fieldwork/declaration.html", c=c, form=form)


# --------------------------------------------------------------------------- steps


@bp.post("/cases/<case>/steps/<trigger>")
@login_required
def step(case: str, trigger: str) -> Any:
    c = _case(case)
    require(trigger in ops.STEPS, 404)
    form = f.StepForm()
    if not form.validate_on_submit():
        return render_error(400, _("Check the form and try again."))
    try:
        ops.take_step(
            c, actor=current_user, trigger=trigger, reason=form.reason.data,
            recommendation=form.recommendation.data or None, now=utcnow(),
        )  # fmt: skip
    except (ops.FieldworkError, WorkflowError) as exc:
        return _refused(exc)
    return _done(c, _("Done: the case is now %(state)s.", state=c.state_label.lower()))


@bp.post("/cases/<case>/stage1")
@login_required
def stage1(case: str) -> Any:
    c = _case(case)
    require("lead" in q.case_roles(current_user, c), 403)
    form = f.Stage1Form()
    if not form.validate_on_submit():
        errors = [e for errs in form.errors.values() for e in errs]
        return render_error(400, " ".join(str(e) for e in errors))
    try:
        ops.record_stage1(
            c, actor=current_user, outcome=form.outcome.data, notes=form.notes.data or "",
            now=utcnow(),
        )  # fmt: skip
    except (ops.FieldworkError, WorkflowError) as exc:
        return _refused(exc)
    return _done(c, _("Stage 1 outcome recorded."))


# --------------------------------------------------------------------------- assessment


@bp.route("/cases/<case>/criteria/<code>", methods=["GET", "POST"])
@login_required
def criterion(case: str, code: str) -> Any:
    c = _case(case)
    redirect_to = _content_or_declaration(c)
    if redirect_to is not None:
        return redirect_to
    definition = q.definition_of(c)
    row = next((x for x in q.criteria_of(definition) if x.code == code), None)
    require(row is not None, 404)
    assert row is not None
    current = q.assessments_of(c.id).get(code)
    form = f.RatingForm(obj=current if request.method == "GET" else None)
    form.documents.choices = _doc_choices(c, blank=False)
    if request.method == "GET" and current is not None:
        form.documents.data = [d.public_id for d in current.documents]
    if form.validate_on_submit():
        require(q.can_record(current_user, c), 403)
        try:
            ops.rate_criterion(
                c, actor=current_user, criterion=code, rating=form.rating.data,
                notes=form.notes.data or "", now=utcnow(),
                documents=[_doc(c, p) for p in form.documents.data or []],
            )  # fmt: skip
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Criterion %(c)s rated.", c=code), "#criteria")
    questions = [qq for s in definition.sections for qq in s.questions if qq.criterion == code]
    return render_template(
        "fieldwork/criterion.html", c=c, row=row, form=form, t=_t, questions=questions,
        can_record=q.can_record(current_user, c),
    )  # fmt: skip


@bp.route("/cases/<case>/visits", methods=["GET", "POST"])
@login_required
def visits(case: str) -> Any:
    c = _case(case)
    redirect_to = _content_or_declaration(c)
    if redirect_to is not None:
        return redirect_to
    from iris.agencies.models import Site
    from iris.fieldwork.models import SiteVisit

    sites = db.session.scalars(
        sa.select(Site).where(Site.organisation_id == c.agency_id).order_by(Site.id)
    ).all()
    form = f.SiteVisitForm()
    form.site.choices = [(s.public_id, f"{s.name}, {s.city}") for s in sites]
    if form.validate_on_submit():
        require(q.can_record(current_user, c), 403)
        site = next(s for s in sites if s.public_id == form.site.data)
        try:
            ops.record_site_visit(
                c, actor=current_user, site=site, visited_on=form.visited_on.data,
                notes=form.notes.data or "",
            )  # fmt: skip
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Site visit recorded."), "#stage2")
    done = db.session.scalars(
        sa.select(SiteVisit).where(SiteVisit.case_id == c.id).order_by(SiteVisit.visited_on)
    ).all()
    return render_template(
        "fieldwork/visits.html", c=c, form=form, visits=done,
        can_record=q.can_record(current_user, c) and c.state is CaseState.STAGE2,
    )  # fmt: skip


def _interviews_allowed(c: CertificationCase) -> Any | None:
    roles = q.case_roles(current_user, c)
    if "team" in roles and "confirmed" not in roles:
        return redirect(url_for("fieldwork.declaration", case=c.public_id))
    require(q.can_see_interviews(current_user, c), 404)
    return None


@bp.get("/cases/<case>/interviews")
@login_required
@writes  # its access log entry (iris.privacy)
def interviews(case: str) -> Any:
    c = _case(case)
    redirect_to = _interviews_allowed(c)
    if redirect_to is not None:
        return redirect_to
    rows = db.session.scalars(
        sa.select(WorkerInterview)
        .where(WorkerInterview.case_id == c.id)
        .order_by(WorkerInterview.id)
    ).all()
    privacy.interviews_viewed(c, rows)
    db.session.commit()  # with its access log entry (iris.privacy)
    return render_template(
        "fieldwork/interviews.html", c=c, interviews=rows,
        needed=q.sampling_minimum(q.workers_placed(c.agency_id)),
        workers=q.workers_placed(c.agency_id), channels=f.CHANNEL_LABELS,
        timings=f.TIMING_LABELS, languages=dict(f.LANGUAGES),
        can_record=q.can_record(current_user, c) and c.state is CaseState.STAGE2,
    )  # fmt: skip


@bp.route("/cases/<case>/interviews/new", methods=["GET", "POST"])
@login_required
def new_interview(case: str) -> Any:
    c = _case(case)
    redirect_to = _interviews_allowed(c)
    if redirect_to is not None:
        return redirect_to
    require(q.can_record(current_user, c), 403)
    from iris.agencies.models import Site

    sites = db.session.scalars(
        sa.select(Site).where(Site.organisation_id == c.agency_id).order_by(Site.id)
    ).all()
    form = f.InterviewForm()
    form.site.choices = [("", "—")] + [(s.public_id, f"{s.name}, {s.city}") for s in sites]
    if form.validate_on_submit():
        site = next((s for s in sites if s.public_id == form.site.data), None)
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "site")}
        try:
            interview = ops.record_interview(c, actor=current_user, site=site, **data)
        except ops.FieldworkError as exc:
            return _refused(exc)
        db.session.commit()
        flash(_("Interview %(code)s recorded.", code=interview.code), "success")
        return redirect(url_for("fieldwork.interviews", case=c.public_id))
    return render_template("fieldwork/interview_form.html", c=c, form=form)


# --------------------------------------------------------------------------- findings


@bp.route("/cases/<case>/findings/new", methods=["GET", "POST"])
@login_required
def new_finding(case: str) -> Any:
    c = _case(case)
    redirect_to = _content_or_declaration(c)
    if redirect_to is not None:
        return redirect_to
    require(q.can_record(current_user, c), 403)
    now = utcnow()
    criteria = q.criteria_of(q.definition_of(c))
    form = f.FindingForm()
    form.criterion.choices = [(x.code, f"{x.code} {_t(x.title)}") for x in criteria]
    if request.method == "GET":
        form.due_on.data = ops.default_due(now)
        form.criterion.data = request.args.get("criterion")
        if request.args.get("grade") in {g.value for g in f.GRADE_LABELS}:
            form.grade.data = request.args["grade"]
        if request.args.get("key"):
            form.evidence.data = _("Self-assessment answer %(key)s.", key=request.args["key"])
    if form.validate_on_submit():
        try:
            ops.raise_finding(
                c, actor=current_user, grade=form.grade.data, criterion=form.criterion.data,
                statement=form.statement.data, evidence=form.evidence.data,
                due_on=form.due_on.data, now=now,
            )  # fmt: skip
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Finding raised."), "#findings")
    return render_template("fieldwork/finding_form.html", c=c, form=form)


def _finding(public_id: str) -> tuple[Finding, CertificationCase]:
    finding = q.finding_by_public_id(public_id)
    require(finding is not None, 404)
    assert finding is not None
    c = _case(finding.case.public_id)
    return finding, c


@bp.route("/findings/<finding>/corrective-action", methods=["GET", "POST"])
@login_required
def corrective_action(finding: str) -> Any:
    x, c = _finding(finding)
    require(q.is_agency_side(current_user, c) or q.can_see_content(current_user, c), 404)
    form = f.CorrectiveActionForm(obj=x if request.method == "GET" else None)
    form.document.choices = _doc_choices(c, blank=True)
    if form.validate_on_submit():
        require(current_user.has_role(Role.AGENCY_ADMIN, c.agency_id), 403)
        try:
            ops.submit_corrective_action(
                x, actor=current_user, correction=form.correction.data,
                root_cause=form.root_cause.data, action=form.action.data, owner=form.owner.data,
                target_date=form.target_date.data, document=_doc(c, form.document.data),
                now=utcnow(),
            )  # fmt: skip
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Corrective action saved for %(c)s.", c=x.criterion), "#findings")
    return render_template(
        "fieldwork/corrective_action.html", c=c, x=x, form=form,
        events=q.finding_events([x.id])[x.id], overdue=q.is_overdue(x, utcnow()),
        grade_labels=f.GRADE_LABELS,
        can_edit=current_user.has_role(Role.AGENCY_ADMIN, c.agency_id)
        and c.state is CaseState.FINDINGS_ISSUED and x.needs_action,
    )  # fmt: skip


@bp.route("/findings/<finding>/review", methods=["GET", "POST"])
@login_required
def review_finding(finding: str) -> Any:
    x, c = _finding(finding)
    redirect_to = _content_or_declaration(c)
    if redirect_to is not None:
        return redirect_to
    require("confirmed" in q.case_roles(current_user, c), 403)
    form = f.ReviewForm()
    if form.validate_on_submit():
        try:
            ops.review_corrective_action(
                x, actor=current_user, accept=form.decision.data == "accept",
                comment=form.comment.data or "", now=utcnow(),
            )  # fmt: skip
        except ops.FieldworkError as exc:
            return _refused(exc)
        return _done(c, _("Corrective action reviewed."), "#findings")
    return render_template(
        "fieldwork/review.html", c=c, x=x, form=form, events=q.finding_events([x.id])[x.id],
        grade_labels=f.GRADE_LABELS, overdue=q.is_overdue(x, utcnow()),
    )  # fmt: skip


# --------------------------------------------------------------------------- requests


@bp.route("/cases/<case>/answers/<key>", methods=["GET", "POST"])
@login_required
def thread(case: str, key: str) -> Any:
    c = _case(case)
    agency_side = q.is_agency_side(current_user, c)
    if not agency_side:
        redirect_to = _content_or_declaration(c)
        if redirect_to is not None:
            return redirect_to
    response = q.response_of(c)
    definition = q.definition_of(c, response)
    require(definition is not None and key in definition.fields, 404)
    messages = q.threads_of(c.id).get(key, [])
    require(bool(messages) or not agency_side, 404)
    form = f.MessageForm()
    form.document.choices = _doc_choices(c, blank=True) if agency_side else [("", "—")]
    if form.validate_on_submit():
        try:
            if agency_side:
                ops.answer_information(
                    c, actor=current_user, answer_key=key, body=form.body.data,
                    document=_doc(c, form.document.data), upload=form.upload, locale=_locale(),
                    doc_type=_evidence_type(definition, key),
                )  # fmt: skip
            else:
                require("confirmed" in q.case_roles(current_user, c), 403)
                ops.ask_information(c, actor=current_user, answer_key=key, body=form.body.data)
        except ops.FieldworkError as exc:
            return _refused(exc)
        db.session.commit()
        flash(_("Message sent."), "success")
        return redirect(url_for("fieldwork.thread", case=c.public_id, key=key))
    spec = definition.fields[key]
    question = definition.question_of(key)
    return render_template(
        "fieldwork/thread.html", c=c, key=key, t=_t, spec=spec, question=question,
        value=(response.answers or {}).get(key) if response is not None else None,
        messages=messages, form=form, agency_side=agency_side,
        version=response.version if response is not None else None,
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _evidence_type(definition: Any, key: str) -> str:
    """The document type an upload for this answer is registered as (its question's first
    evidence type, as the questionnaire does)."""
    question = definition.question_of(key)
    types = question.evidence.types if question is not None and question.evidence else ()
    return types[0] if types else "other"


# --------------------------------------------------------------------------- the report


@bp.get("/cases/<case>/report.pdf")
@login_required
def report(case: str) -> Any:
    c = _case(case)
    require(q.can_see_content(current_user, c) or q.is_agency_side(current_user, c), 404)
    found = ops.latest_report(c.id)
    require(found is not None, 404)
    assert found is not None
    from iris.core.storage import file_store

    data = file_store().read(found.sha256)
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="audit-report-{c.public_id[:8]}.pdf"'
        },
    )
