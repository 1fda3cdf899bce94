"""Demo certification cases at every stage, with ratings, interviews, findings and
corrective actions.

Each case is the real thing: the agency's application is created, answered, submitted and
accepted through ``fire()``, the case opened for it, and then moved step by step through
``fire()`` and the fieldwork operations at believable past moments (:func:`drive_case`), so
its history chain, ratings, interviews, findings, corrective actions and report are what
the product itself would have made. The certificates demo uses the same driver for the
certified cases (and :func:`drive_followup` for a recertification).

- agency_vilnius: team pending (the planner's turn);
- agency_iasi: audit planned again, after stage 1 found readiness gaps (FairLabour);
- agency_vinnytsia: stage 1, the document review (FairLabour);
- agency_wisla: stage 2, half the criteria rated, two interviews;
- agency_mazowsze: findings issued, its corrective-action plan returned once;
- agency_dnipro: corrective actions submitted, awaiting the lead auditor's review;
- agency_rzeszow: recommended (report stored), awaiting the technical review;
- agency_baltyk: decision pending (technical review done);
- agency_katowice: refused (its appeal is in the complaints demo);
- agency_poltava: closed, not certified: the corrective-action deadline passed.

Agencies that already have an open case are left alone. The team must speak the corridors'
languages (Romanian, Hindi, Nepali, Uzbek ...), so three approved auditors with those
languages join the first audit company here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from iris.applications.models import Application
from iris.audits.models import CertificationCase
from iris.audits.queries import open_case_for
from iris.core.db import db, utcnow
from iris.core.workflow import SYSTEM, WorkflowError, fire
from iris.fieldwork import operations as ops
from iris.fieldwork import queries as q
from workflows.certification import AuditType

DAY = timedelta(days=1)

#: (agency key, audit company key, the state to reach, days ago its application started)
PLAN = (
    ("agency_vilnius", "ac_certa", "team_pending", 12),
    ("agency_iasi", "ac_fairlabour", "audit_planned", 30),
    ("agency_vinnytsia", "ac_fairlabour", "stage1", 20),
    ("agency_wisla", "ac_certa", "stage2", 30),
    ("agency_mazowsze", "ac_certa", "findings_issued", 60),
    ("agency_dnipro", "ac_certa", "cap_submitted", 55),
    ("agency_rzeszow", "ac_certa", "recommended", 50),
    ("agency_baltyk", "ac_certa", "decision_pending", 60),
    ("agency_katowice", "ac_certa", "refused", 75),
    ("agency_poltava", "ac_certa", "closed_not_certified", 150),
)

#: the targets reached through findings and corrective actions
WITH_FINDINGS = ("findings_issued", "cap_submitted", "refused", "closed_not_certified")

#: (key, name, email, languages, countries) of the interview-language auditors
LANGUAGE_AUDITORS = (
    ("ion", "Ion Rusu", "i.rusu@certa-audit.pl", ["ro", "ru", "en"], ["MD", "PL"]),
    ("ravi", "Ravi Sharma", "r.sharma@certa-audit.pl", ["hi", "ne", "en"], ["IN", "NP", "PL"]),
    ("dilnoza", "Dilnoza Karimova", "d.karimova@certa-audit.pl", ["uz", "ru", "en"], ["UZ", "PL"]),
)


def _language_auditors(ctx: Any, company: Any) -> list[Any]:
    from iris.accounts.models import AuditorProfile, Membership, User
    from iris.core import security
    from workflows.roles import Role

    password_hash = ctx.objects.get("_hash") or security.hash_password(ctx.password)
    out = []
    for key, name, email, languages, countries in LANGUAGE_AUDITORS:
        user = User(email=email, name=name, locale="en", email_verified_at=utcnow(),
                    password_hash=password_hash)  # fmt: skip
        db.session.add(user)
        db.session.add(Membership(user=user, organisation=company, role=Role.AUDITOR))
        db.session.add(AuditorProfile(
            user=user, languages=languages, countries=countries,
            iris_trained_on=utcnow().date() - timedelta(days=2000), approved_at=utcnow(),
        ))  # fmt: skip
        ctx.objects[f"ac_certa_{key}"] = user
        ctx.logins.append((Role.AUDITOR.value, email, company.name))
        out.append(user)
    db.session.flush()
    return out


def people(ctx: Any, company_key: str) -> dict[str, Any]:
    """The audit company's demo staff by job, and the extra language auditors (Certa)."""
    out = {k: ctx.objects.get(f"{company_key}_{k}")
           for k in ("lead", "auditor", "planner", "reviewer", "decider")}  # fmt: skip
    if company_key == "ac_certa":
        if "language_auditors" not in ctx.objects:
            ctx.objects["language_auditors"] = _language_auditors(ctx, ctx.objects["ac_certa"])
        out["extras"] = ctx.objects["language_auditors"]
    else:
        out["extras"] = []
    return out


def _members(case: CertificationCase, staff: dict[str, Any]) -> list[int]:
    """The auditor plus whoever covers the corridors' languages the others do not speak."""
    from iris.audits.workflow import required_languages

    chosen = [staff["auditor"]]
    spoken = {lang for u in (staff["lead"], staff["auditor"])
              for lang in u.auditor_profile.languages}  # fmt: skip
    for extra in staff["extras"]:
        langs = set(extra.auditor_profile.languages)
        if (required_languages(case) - spoken) & langs:
            chosen.append(extra)
            spoken |= langs
    return [u.id for u in chosen]


def accepted_application(ctx: Any, agency: Any, admin: Any, start: datetime) -> Application:
    """A new application of ``agency``, answered, submitted and accepted from ``start`` on."""
    from iris.questionnaires.demo import answer_self_assessment
    from workflows.application import ELIGIBILITY_CHECKLIST

    application = Application(agency_id=agency.id, created_by_id=admin.id)
    application.agency = agency
    fire(application, "create", admin, now=start)
    answer_self_assessment(application, actor=admin, rng=ctx.rng, complete=True)
    reviewer = ctx.objects["app_reviewer"]
    try:
        with db.session.begin_nested():
            # the submit guard's "what is missing" list builds page links: a request context
            with current_app.test_request_context():
                fire(application, "submit", admin, now=start + DAY)
            fire(application, "start_review", reviewer, now=start + 2 * DAY)
            fire(application, "accept", reviewer, now=start + 4 * DAY, reason="Eligible.",
                 eligibility_checklist=[code for code, _label in ELIGIBILITY_CHECKLIST])  # fmt: skip
    except WorkflowError as exc:
        # the application stays a draft (its demo profile has gaps): no case for it
        raise WorkflowError(f"application not accepted: {exc}") from exc
    return application


def _team(ctx: Any, case: CertificationCase, staff: dict[str, Any], at: datetime) -> None:
    ops.assign_team(case, actor=staff["planner"], lead_id=staff["lead"].id,
                    member_ids=_members(case, staff), now=at)  # fmt: skip
    for member in case.team:
        ops.confirm_declaration(case, actor=member.user, now=at)


def _fieldwork(
    ctx: Any, case: CertificationCase, staff: dict[str, Any], at: datetime, *,
    findings: bool, half: bool = False,
) -> None:  # fmt: skip
    """Rate the criteria (``half``: every other one), raise the findings, visit the first
    site and interview the sample of workers (``half``: two)."""
    lead, auditor = staff["lead"], staff["auditor"]
    for i, c in enumerate(q.criteria_of(q.definition_of(case))):
        if half and i % 2:
            continue
        rating = "conforming"
        if findings and c.code in ("C.1", "E.1"):
            rating = "major" if c.code == "C.1" else "minor"
        ops.rate_criterion(
            case, actor=auditor, criterion=c.code, rating=rating, documents=[], now=at,
            notes="" if rating == "conforming" else "Sample of 5 contracts and the fee register.",
        )  # fmt: skip
    if findings:
        ops.raise_finding(
            case, actor=lead, grade="major", criterion="C.1", now=at, due_on=None,
            statement="Two workers paid for their medical examinations before departure.",
            evidence="Interviews W-1 and W-2; no entry in the fee register.",
        )  # fmt: skip
        ops.raise_finding(
            case, actor=lead, grade="minor", criterion="E.1", now=at, due_on=None,
            statement="One contract was handed over after departure.",
            evidence="Contract sample 4, signed on arrival.",
        )  # fmt: skip
    if str(case.state) == "stage1":
        ops.record_stage1(case, actor=lead, outcome="ready", notes="Policies in place.", now=at)
    site = case.agency.sites[0] if case.agency.sites else None
    if site is not None:
        ops.record_site_visit(case, actor=lead, site=site, visited_on=at.date(), notes="")
    count = 2 if half else q.sampling_minimum(q.workers_placed(case.agency_id))
    for i in range(count):
        paid = findings and i < 2
        ops.record_interview(
            case, actor=auditor, conducted_on=at.date(), site=site,
            language=ctx.rng.choice(["uk", "ru", "uk"]), interpreter=i % 3 == 0,
            channel="in_person" if i % 4 else "phone", fees_paid=paid,
            fee_amount=1200 if paid else None, fee_currency="UAH" if paid else None,
            documents_held=False, contract_timing="before_departure" if i != 3 else "after_arrival",
            contract_language="uk", contract_in_own_language=True, substitution=False,
            knows_grievance=i % 5 != 0, notes="",
        )  # fmt: skip


def _plan(at: datetime) -> dict[str, Any]:
    return dict(
        correction="Refunded both workers.", root_cause="No check of the clinics' invoices.",
        action="The employer pays the clinic directly; fee register reviewed monthly.",
        owner="Compliance manager", target_date=at.date() + timedelta(days=30), document=None,
    )  # fmt: skip


def _decide(case: CertificationCase, target: str, staff: dict[str, Any], at: datetime) -> None:
    """Technical review, then the decision (``target`` says how far)."""
    if target == "recommended":
        return
    fire(case, "review", staff["reviewer"], now=at)
    if target == "decision_pending":
        return
    if target == "refused":
        fire(case, "refuse", staff["decider"], now=at + 2 * DAY,
             reason="Interviews show workers still pay medical fees through the sub-agent; "
                    "the corrective action does not reach the sub-agents.")  # fmt: skip
    else:
        fire(case, "grant", staff["decider"], now=at + 2 * DAY,
             reason="Every criterion conforms or has an accepted corrective action.")  # fmt: skip


def drive_case(
    ctx: Any, agency_key: str, company_key: str, target: str, start: datetime,
    *, findings: bool | None = None,
) -> CertificationCase:  # fmt: skip
    """An initial case of ``agency_key``, from its application at ``start`` to ``target``.

    About seven weeks from application to decision: accepted on day 4, team on day 7,
    stage 1 on day 9, stage 2 on day 12, findings on day 20, the plan on day 35, the
    recommendation on day 42, the technical review on day 45 and the decision on day 47
    (without findings: recommendation on day 20, review on day 24, decision on day 26).
    ``findings`` overrides whether the audit raises findings (default: by ``target``).
    """
    agency = ctx.objects[agency_key]
    admin = ctx.objects[f"{agency_key}_admin"]
    company = ctx.objects[company_key]
    staff = people(ctx, company_key)
    application = accepted_application(ctx, agency, admin, start)
    case = CertificationCase(
        agency_id=agency.id, audit_company_id=company.id, application_id=application.id
    )
    case.agency, case.audit_company, case.application = agency, company, application
    fire(case, "open", admin, now=start + 5 * DAY)
    if target == "team_pending":
        return case
    _team(ctx, case, staff, start + 7 * DAY)
    lead = staff["lead"]
    fire(case, "start_stage1", lead, now=start + 9 * DAY)
    if target == "stage1":
        return case
    if target == "audit_planned":
        ops.record_stage1(case, actor=lead, outcome="not_ready", now=start + 11 * DAY,
                          notes="No written fee policy for the sub-agents; the grievance "
                                "channel is not yet in Ukrainian.")  # fmt: skip
        return case
    with_findings = target in WITH_FINDINGS if findings is None else findings
    _fieldwork(ctx, case, staff, start + 12 * DAY, findings=with_findings, half=target == "stage2")
    if target == "stage2":
        return case
    if not with_findings:
        ops.take_step(case, actor=lead, trigger="recommend", recommendation="grant",
                      now=start + 20 * DAY,
                      reason="Every criterion conforms; no finding needs action.")  # fmt: skip
        _decide(case, target, staff, start + 24 * DAY)
        return case
    ops.take_step(case, actor=lead, trigger="issue_findings", reason=None,
                  recommendation=None, now=start + 20 * DAY)  # fmt: skip
    if target == "closed_not_certified":  # the agency never answered: the timer closes it
        assert case.cap_due_at is not None  # set by issue_findings
        fire(case, "close_overdue", SYSTEM, now=case.cap_due_at + timedelta(hours=6))
        return case
    at = start + 35 * DAY
    major, minor = q.findings_of(case.id)
    ops.submit_corrective_action(major, actor=admin, now=at, **_plan(at))
    ops.submit_corrective_action(minor, actor=admin, now=at, **_plan(at))
    fire(case, "submit_cap", admin, now=at)
    if target == "cap_submitted":
        return case
    at = start + 40 * DAY
    if target == "findings_issued":
        # returned once: the minor's plan accepted, the major's sent back for receipts
        ops.review_corrective_action(minor, actor=lead, accept=True, comment="", now=at)
        ops.review_corrective_action(major, actor=lead, accept=False, now=at,
                                     comment="Attach the refund receipts.")  # fmt: skip
        fire(case, "return_cap", lead, reason="Refund receipts missing for C.1.", now=at)
        return case
    ops.review_corrective_action(minor, actor=lead, accept=True, comment="", now=at)
    ops.review_corrective_action(major, actor=lead, accept=True, now=at,
                                 comment="Refund receipts seen for both workers.")  # fmt: skip
    refuse = target == "refused"
    ops.take_step(case, actor=lead, trigger="recommend", now=start + 42 * DAY,
                  recommendation="refuse" if refuse else "grant",
                  reason="The fee practice persists at the sub-agents." if refuse
                  else "Findings closed; the minor finding has an accepted plan.")  # fmt: skip
    _decide(case, target, staff, start + 45 * DAY)
    return case


def drive_followup(
    ctx: Any, agency_key: str, company_key: str, audit_type: AuditType, target: str,
    start: datetime,
) -> CertificationCase:  # fmt: skip
    """A surveillance or recertification audit of a certified agency, opened by the planner
    at ``start``: team on day 2, on site on day 5, recommendation on day 10, decision on 14."""
    agency = ctx.objects[agency_key]
    company = ctx.objects[company_key]
    staff = people(ctx, company_key)
    case = CertificationCase(
        agency_id=agency.id, audit_company_id=company.id, audit_type=audit_type
    )
    case.agency, case.audit_company = agency, company
    fire(case, "open_followup", staff["planner"], now=start)
    if target == "team_pending":
        return case
    _team(ctx, case, staff, start + 2 * DAY)
    if target == "audit_planned":
        return case
    fire(case, "start_onsite", staff["lead"], now=start + 5 * DAY)
    _fieldwork(ctx, case, staff, start + 5 * DAY, findings=False, half=target == "stage2")
    if target == "stage2":
        return case
    ops.take_step(case, actor=staff["lead"], trigger="recommend", recommendation="grant",
                  now=start + 10 * DAY,
                  reason="The management system still conforms.")  # fmt: skip
    _decide(case, target, staff, start + 12 * DAY)
    return case


def seed(ctx: Any) -> None:
    if ctx.objects.get("ac_certa_lead") is None or "app_reviewer" not in ctx.objects:
        return
    now = utcnow().replace(microsecond=0)
    for key, company_key, target, days_ago in PLAN:
        agency = ctx.objects.get(key)
        if agency is None or ctx.objects.get(company_key) is None:
            continue
        if open_case_for(agency.id) is not None:
            continue
        try:
            with db.session.begin_nested():
                case = drive_case(ctx, key, company_key, target, now - days_ago * DAY)
        except (WorkflowError, ops.FieldworkError) as exc:
            print(f"fieldwork demo: {key} not taken to {target}: {exc}")
            continue
        ctx.objects[f"case_{key}"] = case
