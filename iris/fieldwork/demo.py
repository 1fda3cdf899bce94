"""Demo audits at several stages, with ratings, interviews, findings and corrective actions.

Each agency's application is created, submitted and accepted through ``fire()``, the case
is opened for it, and then moved step by step through ``fire()`` and the fieldwork operations, so its history chain, ratings, interviews,
findings, corrective actions and report are the real thing:

- agency_lviv: team pending (the planner's turn) — only once its demo profile can be
  submitted (the agencies demo gives it an expired licence, so today it stays a draft);
- agency_wisla: stage 2, half the criteria rated, two interviews;
- agency_mazowsze: findings issued, one corrective action returned once;
- agency_dnipro: corrective actions submitted, awaiting the lead auditor's review;
- agency_baltyk: recommended (report stored), awaiting the technical review.

Agencies that already have an open case (from another demo) are left alone. The team must
speak the corridors' languages (Romanian, Hindi, Nepali, Uzbek ...), so three approved
auditors with those languages join the first audit company here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from iris.applications.models import Application
from iris.audits.models import CertificationCase
from iris.audits.queries import open_case_for
from iris.core.db import db, utcnow
from iris.core.workflow import WorkflowError, fire
from iris.fieldwork import operations as ops
from iris.fieldwork import queries as q

STAGES = ("team_pending", "stage2", "findings_issued", "cap_submitted", "recommended")
PLAN = (
    ("agency_lviv", "team_pending"),  # left out while its demo licence has expired
    ("agency_wisla", "stage2"),
    ("agency_mazowsze", "findings_issued"),
    ("agency_dnipro", "cap_submitted"),
    ("agency_baltyk", "recommended"),
)


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
            iris_trained_on=utcnow().date() - timedelta(days=200), approved_at=utcnow(),
        ))  # fmt: skip
        ctx.objects[f"ac_certa_{key}"] = user
        ctx.logins.append((Role.AUDITOR.value, email, company.name))
        out.append(user)
    db.session.flush()
    return out


def _members(case: CertificationCase, people: dict[str, Any]) -> list[int]:
    """The auditor plus whoever covers the corridors' languages the others do not speak."""
    from iris.audits.workflow import required_languages

    chosen = [people["auditor"]]
    spoken = {lang for u in (people["lead"], people["auditor"])
              for lang in u.auditor_profile.languages}  # fmt: skip
    for extra in people["extras"]:
        langs = set(extra.auditor_profile.languages)
        if (required_languages(case) - spoken) & langs:
            chosen.append(extra)
            spoken |= langs
    return [u.id for u in chosen]


def _open_case(ctx: Any, agency: Any, admin: Any, company: Any) -> CertificationCase:
    from iris.questionnaires.demo import answer_self_assessment
    from workflows.application import ELIGIBILITY_CHECKLIST

    application = Application(agency_id=agency.id, created_by_id=admin.id)
    application.agency = agency
    fire(application, "create", admin)
    answer_self_assessment(application, actor=admin, rng=ctx.rng, complete=True)
    reviewer = ctx.objects.get("app_reviewer")
    try:
        with db.session.begin_nested():
            # the submit guard's "what is missing" list builds page links: a request context
            with current_app.test_request_context():
                fire(application, "submit", admin)
            fire(application, "start_review", reviewer)
            fire(application, "accept", reviewer, reason="Eligible.",
                 eligibility_checklist=[code for code, _label in ELIGIBILITY_CHECKLIST])  # fmt: skip
    except WorkflowError as exc:
        # the application stays a draft (its demo profile has gaps): no case for it
        raise WorkflowError(f"application not accepted: {exc}") from exc
    case = CertificationCase(
        agency_id=agency.id, audit_company_id=company.id, application_id=application.id
    )
    case.agency = agency
    case.audit_company = company
    case.application = application
    fire(case, "open", admin)
    return case


def _advance(ctx: Any, case: CertificationCase, target: str, people: dict[str, Any]) -> None:
    now = utcnow()
    lead, auditor, planner, admin = (people[k] for k in ("lead", "auditor", "planner", "admin"))
    ops.assign_team(case, actor=planner, lead_id=lead.id, member_ids=_members(case, people),
                    now=now)  # fmt: skip
    for member in case.team:
        ops.confirm_declaration(case, actor=member.user, now=now)
    fire(case, "start_stage1", lead, now=now)
    criteria = q.criteria_of(q.definition_of(case))
    half = target == "stage2"
    for i, c in enumerate(criteria):
        if half and i % 2:
            continue
        rating = "minor" if c.code == "E.1" else "major" if c.code == "C.1" else "conforming"
        if target == "recommended" and rating == "major":
            rating = "conforming"
        ops.rate_criterion(
            case, actor=auditor, criterion=c.code, rating=rating, documents=[], now=now,
            notes="" if rating == "conforming" else "Sample of 5 contracts and the fee register.",
        )  # fmt: skip
    if target != "recommended":
        ops.raise_finding(
            case, actor=lead, grade="major", criterion="C.1", now=now, due_on=None,
            statement="Two workers paid for their medical examinations before departure.",
            evidence="Interviews W-1 and W-2; no entry in the fee register.",
        )  # fmt: skip
        ops.raise_finding(
            case, actor=lead, grade="minor", criterion="E.1", now=now, due_on=None,
            statement="One contract was handed over after departure.",
            evidence="Contract sample 4, signed on arrival.",
        )  # fmt: skip
    ops.record_stage1(case, actor=lead, outcome="ready", notes="Policies in place.", now=now)
    site = case.agency.sites[0] if case.agency.sites else None  # type: ignore[attr-defined]
    if site is not None:
        ops.record_site_visit(case, actor=lead, site=site, visited_on=now.date(), notes="")
    needed = q.sampling_minimum(q.workers_placed(case.agency_id))
    count = 2 if half else needed
    for i in range(count):
        paid = target != "recommended" and i < 2
        ops.record_interview(
            case, actor=auditor, conducted_on=now.date() - timedelta(days=1), site=site,
            language=ctx.rng.choice(["uk", "ru", "uk"]), interpreter=i % 3 == 0,
            channel="in_person" if i % 4 else "phone", fees_paid=paid,
            fee_amount=1200 if paid else None, fee_currency="UAH" if paid else None,
            documents_held=False, contract_timing="before_departure" if i != 3 else "after_arrival",
            contract_language="uk", contract_in_own_language=True, substitution=False,
            knows_grievance=i % 5 != 0, notes="",
        )  # fmt: skip
    if target == "stage2":
        return
    if target == "recommended":
        ops.take_step(case, actor=lead, trigger="recommend", recommendation="grant", now=now,
                      reason="Every criterion conforms; no finding needs action.")  # fmt: skip
        return
    ops.take_step(case, actor=lead, trigger="issue_findings", reason=None,
                  recommendation=None, now=now)  # fmt: skip
    major, minor = q.findings_of(case.id)
    plan = dict(
        correction="Refunded both workers.", root_cause="No check of the clinics' invoices.",
        action="The employer pays the clinic directly; fee register reviewed monthly.",
        owner="Compliance manager", target_date=now.date() + timedelta(days=30), document=None,
    )  # fmt: skip
    ops.submit_corrective_action(major, actor=admin, now=now, **plan)
    ops.submit_corrective_action(minor, actor=admin, now=now, **plan)
    fire(case, "submit_cap", admin, now=now)
    if target == "findings_issued":
        # returned once: the minor's plan accepted, the major's sent back for receipts
        ops.review_corrective_action(minor, actor=lead, accept=True, comment="", now=now)
        ops.review_corrective_action(major, actor=lead, accept=False, now=now,
                                     comment="Attach the refund receipts.")  # fmt: skip
        fire(case, "return_cap", lead, reason="Refund receipts missing for C.1.", now=now)


def seed(ctx: Any) -> None:
    company = ctx.objects.get("ac_certa")
    if company is None:
        return
    people = {
        "lead": ctx.objects.get("ac_certa_lead"),
        "auditor": ctx.objects.get("ac_certa_auditor"),
        "planner": ctx.objects.get("ac_certa_planner"),
    }
    if any(v is None for v in people.values()):
        return
    db.session.flush()
    people["extras"] = _language_auditors(ctx, company)
    for key, target in PLAN:
        agency = ctx.objects.get(key)
        admin = ctx.objects.get(f"{key}_admin")
        if agency is None or admin is None or open_case_for(agency.id) is not None:
            continue
        try:
            with db.session.begin_nested():
                case = _open_case(ctx, agency, admin, company)
                if target != "team_pending":
                    _advance(ctx, case, target, people | {"admin": admin})
        except (WorkflowError, ops.FieldworkError) as exc:
            print(f"fieldwork demo: {key} left out: {exc}")
            continue
        ctx.objects[f"case_{key}"] = case
