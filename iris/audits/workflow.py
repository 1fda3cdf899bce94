"""Guards and effects of the certification-case lifecycle (``workflows/certification.py``).

Separation of duties is enforced here: conflict-of-interest declarations block the team's
assignment (``team_conflict_free``), nobody on the audit team may do the technical review
(``reviewer_not_on_team``), and nobody on the team nor the technical reviewer may decide
(``four_eyes``). Each refusal says who and why.

Two conditions of the audit itself need the audit's records (criterion ratings, worker
interviews), which the audit feature keeps: ``criteria_assessed`` and ``interviews_sampled``
call ``iris.audits.assessment.criteria_gaps(case)`` / ``interview_gaps(case)`` when that
module exists; until then they are not checked.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from iris.audits.models import ACTION_GRADES, CertificationCase, FindingGrade, FindingStatus
from iris.audits.queries import AUDIT_TYPE_WORDS, open_case_for, ties_with_agency
from iris.certificates.models import certificate_in_force as in_force
from iris.core.dates import add_months
from iris.core.workflow import Firing, bind, fire
from workflows.certificate import CertificateState
from workflows.certification import AuditType, CaseState, Recommendation, TeamRole
from workflows.roles import OrgKind

wf = bind("certification")

#: The main language of a corridor's origin country, for the team's language competence.
COUNTRY_LANGUAGES = {
    "PL": "pl", "UA": "uk", "RU": "ru", "BY": "ru", "KZ": "ru", "MD": "ro", "GE": "ka",
    "AM": "hy", "UZ": "uz", "KG": "ky", "TJ": "tg", "IN": "hi", "NP": "ne", "BD": "bn",
    "PH": "en", "VN": "vi", "ID": "id", "LK": "si", "GB": "en", "DE": "de", "CZ": "cs",
}  # fmt: skip


def _members(case: CertificationCase) -> str:
    return ", ".join(m.user.name for m in case.team)


# ------------------------------------------------------------------ opening


@wf.guard("application_accepted")
def application_accepted(f: Firing) -> str | None:
    app = f.subject.application
    if app is None or str(app.state) != "accepted":
        return _("The application must be accepted first.")
    return None


@wf.guard("audit_company_approved")
def audit_company_approved(f: Firing) -> str | None:
    company = f.subject.audit_company
    if company is None or company.kind is not OrgKind.AUDIT_COMPANY or not company.is_approved:
        return _("Choose an audit company approved by the scheme.")
    return None


@wf.guard("no_open_case")
def no_open_case(f: Firing) -> str | None:
    if open_case_for(f.subject.agency_id, exclude_id=f.subject.id) is not None:
        return _("The agency already has a certification case in progress.")
    return None


@wf.guard("certificate_in_force")
def certificate_in_force(f: Firing) -> str | None:
    cert = in_force(f.session, f.subject.agency_id)
    if cert is None or cert.state not in (CertificateState.ACTIVE, CertificateState.SUSPENDED):
        return _("A follow-up audit needs an active or suspended certificate.")
    if cert.audit_company_id != f.subject.audit_company_id:
        return _("Only the audit company that certified the agency plans its follow-up audits.")
    return None


@wf.guard("followup_audit_type")
def followup_audit_type(f: Firing) -> str | None:
    if f.subject.audit_type is AuditType.INITIAL:
        return _("Choose surveillance, recertification or special as the audit type.")
    return None


def due_followup(cert: Any, now: datetime) -> tuple[AuditType, datetime] | None:
    """The follow-up audit the certificate's schedule says is due at ``now``, and since
    when; ``None`` when none is due.

    Recertification once the certificate is within ``IRIS_RECERTIFICATION_LEAD_MONTHS`` of
    its expiry (it must be decided before expiry); otherwise surveillance once its next
    surveillance date (``IRIS_SURVEILLANCE_MONTHS`` after the last decision) has come.
    """
    if cert is None or cert.state not in (CertificateState.ACTIVE, CertificateState.SUSPENDED):
        return None
    lead = int(current_app.config["IRIS_RECERTIFICATION_LEAD_MONTHS"])
    if cert.expires_at is not None:
        recert_from = add_months(cert.expires_at, -lead)
        if now >= recert_from:
            return AuditType.RECERTIFICATION, recert_from
    due = cert.next_surveillance_due
    if due is not None and now.date() >= due:
        return AuditType.SURVEILLANCE, datetime.combine(due, time.min, UTC)
    return None


@wf.guard("followup_due")
def followup_due(f: Firing) -> str | None:
    """The schedule says this kind of audit is due, and none was opened for it since."""
    found = due_followup(in_force(f.session, f.subject.agency_id), f.now)
    if found is None:
        return _("No surveillance or recertification audit is due yet.")
    kind, since = found
    if f.subject.audit_type is not kind:
        return _("The schedule says a %(due)s audit is due.", due=AUDIT_TYPE_WORDS[kind])
    opened = f.session.scalar(
        sa.select(CertificationCase.id)
        .where(
            CertificationCase.agency_id == f.subject.agency_id,
            CertificationCase.audit_type == kind,
            CertificationCase.created_at >= since,
            CertificationCase.id != f.subject.id,
        )
        .limit(1)
    )
    if opened is not None:
        return _(
            "A %(due)s audit was already opened for this due date.", due=AUDIT_TYPE_WORDS[kind]
        )
    return None


@wf.timer("open_scheduled")
def open_scheduled_due(now: Any) -> sa.Select[Any]:
    # A creating step: there is no row to find. ``iris.audits.operations.on_tick`` opens
    # the due cases (run by ``flask iris tick`` right after the engine's timers).
    return sa.select(CertificationCase).where(sa.false())


# ------------------------------------------------------------------ the team


@wf.guard("lead_auditor_assigned")
def lead_auditor_assigned(f: Firing) -> str | None:
    leads = [m for m in f.subject.team if m.team_role is TeamRole.LEAD]
    if len(leads) != 1:
        return _("Assign exactly one lead auditor.")
    return None


@wf.guard("team_trained")
def team_trained(f: Firing) -> str | None:
    case = f.subject
    problems = []
    for m in case.team:
        profile = getattr(m.user, "auditor_profile", None)
        if (
            profile is None
            or not profile.is_approved
            or profile.iris_trained_on is None
            or not m.user.roles_in(case.audit_company_id)
        ):
            problems.append(m.user.name)
    if problems:
        return _(
            "Not an approved, IRIS-trained auditor of this company: %(names)s.",
            names=", ".join(problems),
        )
    return None


def required_languages(case: CertificationCase) -> set[str]:
    agency = case.agency
    corridors = agency.corridors  # type: ignore[attr-defined]
    languages = {
        COUNTRY_LANGUAGES[c.origin_country]
        for c in corridors
        if c.origin_country in COUNTRY_LANGUAGES
    }
    profile = getattr(agency, "agency_profile", None)
    if profile is not None and profile.preferred_language:
        languages.add(profile.preferred_language)
    return languages


@wf.guard("team_speaks_languages")
def team_speaks_languages(f: Firing) -> str | None:
    spoken: set[str] = set()
    for m in f.subject.team:
        profile = getattr(m.user, "auditor_profile", None)
        spoken |= set(profile.languages if profile else ())
    missing = sorted(required_languages(f.subject) - spoken)
    if missing:
        return _(
            "Nobody on the team speaks the corridor's languages: %(languages)s.",
            languages=", ".join(missing),
        )
    return None


@wf.guard("team_conflict_free")
def team_conflict_free(f: Firing) -> str | None:
    case = f.subject
    reasons: list[str] = []
    for m in case.team:
        reasons += ties_with_agency(m.user, case.agency_id, f.now)
    if reasons:
        return _("Conflict of interest: %(reasons)s", reasons=" ".join(reasons))
    return None


@wf.effect("record_team")
def record_team(f: Firing) -> None:
    f.payload["team"] = [
        {"user_id": m.user_id, "team_role": m.team_role.value} for m in f.subject.team
    ]


# ------------------------------------------------------------------ audit stages


@wf.guard("initial_audit")
def initial_audit(f: Firing) -> str | None:
    if f.subject.audit_type is not AuditType.INITIAL:
        return _("Only an initial audit has a stage 1; start the on-site audit instead.")
    return None


@wf.guard("followup_audit")
def followup_audit(f: Firing) -> str | None:
    if f.subject.audit_type is AuditType.INITIAL:
        return _("An initial audit starts with stage 1 (document review).")
    return None


def _assessment(name: str, case: CertificationCase) -> list[str] | None:
    if importlib.util.find_spec("iris.audits.assessment") is None:
        return None
    from iris.audits import assessment

    check = getattr(assessment, name, None)
    return None if check is None else list(check(case))


@wf.guard("criteria_assessed")
def criteria_assessed(f: Firing) -> str | None:
    gaps = _assessment("criteria_gaps", f.subject)
    if gaps:
        return _(
            "Assess every criterion first; not yet assessed: %(items)s.", items=", ".join(gaps)
        )
    return None


@wf.guard("interviews_sampled")
def interviews_sampled(f: Firing) -> str | None:
    gaps = _assessment("interview_gaps", f.subject)
    if gaps:
        return _("The worker interviews are not complete: %(items)s.", items="; ".join(gaps))
    return None


def _action_findings(case: CertificationCase) -> list[Any]:
    return [x for x in case.findings if x.grade in ACTION_GRADES]


@wf.guard("findings_need_action")
def findings_need_action(f: Firing) -> str | None:
    if not _action_findings(f.subject):
        return _("There is no minor, major or critical finding: recommend a decision instead.")
    return None


@wf.guard("no_findings_need_action")
def no_findings_need_action(f: Firing) -> str | None:
    count = len(_action_findings(f.subject))
    if count:
        return _(
            "%(count)s finding(s) need a corrective action: issue the findings first.",
            count=count,
        )
    return None


@wf.guard("findings_well_formed")
def findings_well_formed(f: Firing) -> str | None:
    bad = [
        x.criterion or "?"
        for x in f.subject.findings
        if not (x.criterion and x.statement and x.evidence and x.grade)
    ]
    if bad:
        return _(
            "Each finding needs a criterion, a statement and objective evidence; incomplete: "
            "%(items)s.",
            items=", ".join(bad),
        )
    return None


@wf.effect("set_cap_due")
def set_cap_due(f: Firing) -> None:
    case = f.subject
    case.cap_due_at = f.now + timedelta(days=int(f.config["IRIS_CAP_DEADLINE_DAYS"]))
    for x in _action_findings(case):
        x.due_at = x.due_at or case.cap_due_at
    f.payload["cap_due_at"] = case.cap_due_at
    f.payload["findings"] = [{"id": x.public_id, "grade": x.grade.value} for x in case.findings]


# ------------------------------------------------------------------ corrective actions


@wf.guard("corrective_action_for_every_finding")
def corrective_action_for_every_finding(f: Firing) -> str | None:
    missing = [x.criterion for x in _action_findings(f.subject) if not x.corrective_action_complete]
    if missing:
        return _(
            "Give a corrective action (correction, root cause, action, owner, date) for every "
            "finding; missing for: %(items)s.",
            items=", ".join(missing),
        )
    return None


@wf.guard("before_cap_due")
def before_cap_due(f: Firing) -> str | None:
    due = f.subject.cap_due_at
    if due is not None and f.now > due:
        return _("The corrective-action deadline passed on %(due)s.", due=due.date())
    return None


@wf.guard("cap_due_passed")
def cap_due_passed(f: Firing) -> str | None:
    due = f.subject.cap_due_at
    if due is None or f.now <= due:
        return _("The corrective-action deadline has not passed yet.")
    return None


@wf.timer("close_overdue")
def close_overdue_due(now: Any) -> sa.Select[Any]:
    return sa.select(CertificationCase).where(CertificationCase.cap_due_at < now)


@wf.guard("majors_closed_with_evidence")
def majors_closed_with_evidence(f: Firing) -> str | None:
    open_majors = [
        x.criterion
        for x in f.subject.findings
        if x.grade in (FindingGrade.MAJOR, FindingGrade.CRITICAL)
        and x.status is not FindingStatus.VERIFIED_CLOSED
    ]
    if open_majors:
        return _(
            "Every major and critical finding must be closed with verified evidence; open: "
            "%(items)s.",
            items=", ".join(open_majors),
        )
    return None


@wf.guard("minors_have_accepted_plan")
def minors_have_accepted_plan(f: Firing) -> str | None:
    pending = [
        x.criterion
        for x in f.subject.findings
        if x.grade is FindingGrade.MINOR
        and x.status not in (FindingStatus.PLAN_ACCEPTED, FindingStatus.VERIFIED_CLOSED)
    ]
    if pending:
        return _(
            "Every minor finding needs an accepted plan; not yet accepted: %(items)s.",
            items=", ".join(pending),
        )
    return None


@wf.guard("recommendation_given", on_input=True)
def recommendation_given(f: Firing) -> str | None:
    if f.data.get("recommendation") not in tuple(Recommendation):
        return _("Recommend either grant or refuse.")
    return None


@wf.effect("record_recommendation")
def record_recommendation(f: Firing) -> None:
    case = f.subject
    case.recommendation = Recommendation(f.data["recommendation"])
    case.recommendation_rationale = f.reason
    f.payload["recommendation"] = case.recommendation


# ------------------------------------------------------------------ review and decision


@wf.guard("reviewer_not_on_team", permission=True)
def reviewer_not_on_team(f: Firing) -> str | None:
    if f.subject.on_team(f.actor_id):
        return _("You were on this case's audit team: another technical reviewer must review it.")
    if ties_with_agency(f.actor, f.subject.agency_id, f.now):
        return _("You have a conflict of interest with this agency.")
    return None


@wf.guard("report_complete")
def report_complete(f: Firing) -> str | None:
    case = f.subject
    if case.recommendation is None or not (case.recommendation_rationale or "").strip():
        return _("The audit report lacks the lead auditor's recommendation and rationale.")
    return None


@wf.effect("record_technical_reviewer")
def record_technical_reviewer(f: Firing) -> None:
    f.subject.technical_reviewer_id = f.actor_id


@wf.guard("four_eyes", permission=True)
def four_eyes(f: Firing) -> str | None:
    case = f.subject
    if case.on_team(f.actor_id):
        return _("Four-eyes rule: you were on this case's audit team, so you cannot decide it.")
    if case.technical_reviewer_id is not None and case.technical_reviewer_id == f.actor_id:
        return _("Four-eyes rule: you did the technical review, so you cannot decide this case.")
    if ties_with_agency(f.actor, case.agency_id, f.now):
        return _("You have a conflict of interest with this agency.")
    return None


@wf.guard("no_open_major_findings")
def no_open_major_findings(f: Firing) -> str | None:
    return majors_closed_with_evidence(f)


@wf.effect("record_decision")
def record_decision(f: Firing) -> None:
    case = f.subject
    case.decision_maker_id = f.actor_id
    case.decided_at = f.now
    case.decision_rationale = f.reason


@wf.effect("issue_certificate")
def issue_certificate(f: Firing) -> None:
    from iris.certificates.workflow import certify

    cert = certify(f.subject, actor=f.actor, now=f.now, session=f.session)
    f.payload["certificate"] = cert.number


@wf.effect("open_appeal_window")
def open_appeal_window(f: Firing) -> None:
    case = f.subject
    case.appeal_due_at = f.now + timedelta(days=int(f.config["IRIS_APPEAL_WINDOW_DAYS"]))
    f.payload["appeal_due_at"] = case.appeal_due_at


@wf.effect("restore_certificate")
def restore_certificate(f: Firing) -> None:
    """A granted surveillance or special audit shows a suspension's cause resolved."""
    case = f.subject
    if case.audit_type not in (AuditType.SURVEILLANCE, AuditType.SPECIAL):
        return
    cert = in_force(f.session, case.agency_id)
    if cert is not None and cert.state is CertificateState.SUSPENDED:
        fire(cert, "restore", f.actor, now=f.now, session=f.session,
             reason=_("Follow-up audit granted: %(r)s", r=f.reason or case.public_id))  # fmt: skip
        f.payload["certificate_restored"] = cert.number


#: why a refused follow-up audit suspends the certificate
REFUSAL_SUSPENSION = {
    AuditType.SURVEILLANCE: "surveillance_refused_or_overdue",
    AuditType.SPECIAL: "unresolved_major_finding",
}


@wf.effect("suspend_certificate")
def suspend_certificate(f: Firing) -> None:
    """A refused surveillance or special audit suspends the certificate in force (DOMAIN.md
    §3.3); a refused recertification leaves it to expire; an initial refusal has none."""
    case = f.subject
    code = REFUSAL_SUSPENSION.get(case.audit_type)
    cert = in_force(f.session, case.agency_id) if code else None
    if cert is None or cert.state is not CertificateState.ACTIVE:
        return
    fire(cert, "suspend", f.actor, now=f.now, session=f.session, reason_code=code,
         reason=f.reason)  # fmt: skip
    f.payload["certificate_suspended"] = cert.number


__all__ = ["CaseState", "wf"]
