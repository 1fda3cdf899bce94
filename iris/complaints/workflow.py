"""Guards and effects of the complaint and appeal lifecycles (``workflows/complaint.py``,
``workflows/appeal.py``).

The complainant's identity never enters a transition record: records name the complainant
nowhere, and ``inform_complainant`` writes its mail to the outbox (in the same transaction),
not into the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from iris.accounts.models import Membership, User
from iris.audits.models import (
    CertificationCase,
    Finding,
    FindingGrade,
    FindingStatus,
    TeamMember,
)
from iris.audits.queries import ties_with_agency
from iris.certificates.models import Certificate, certificate_in_force
from iris.complaints.models import Appeal, Complaint
from iris.core.db import db
from iris.core.history import TransitionRecord
from iris.core.mail import queue_mail
from iris.core.workflow import Firing, bind, fire
from workflows.appeal import AppealAgainst
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.complaint import ComplaintAbout
from workflows.roles import Role

complaint = bind("complaint")
appeal = bind("appeal")


# ================================================================== complaints


@complaint.guard("complaint_has_text")
def complaint_has_text(f: Firing) -> str | None:
    if len((f.subject.text or "").strip()) < 10:
        return _("Describe what happened in a few sentences.")
    return None


@complaint.effect("set_acknowledgement_due")
def set_acknowledgement_due(f: Firing) -> None:
    days = int(f.config["IRIS_COMPLAINT_ACK_DAYS"])
    f.subject.acknowledgement_due_at = f.now + timedelta(days=days)
    f.payload["acknowledgement_due_at"] = f.subject.acknowledgement_due_at


@complaint.effect("inform_complainant")
def inform_complainant(f: Firing) -> None:
    c: Complaint = f.subject
    contact = (c.complainant_contact or "").strip()
    informed = "@" in contact
    if informed:
        queue_mail(
            contact,
            "complaint_update",
            locale=c.language,
            idempotency_key=f"complaint-{c.public_id}-{c.state}",
            reference=c.reference,
            state=c.state,  # in words in the complainant's language: |label in the mail
        )
    f.payload["complainant_informed"] = informed


def certifying_company(session: Any, agency_id: int | None) -> int | None:
    """The audit company whose certificate of the agency is in force, if any."""
    if agency_id is None:
        return None
    cert = certificate_in_force(session, agency_id)
    return None if cert is None else int(cert.audit_company_id)


@complaint.effect("propose_handler")
def propose_handler(f: Firing) -> None:
    """A complaint about a certified agency is proposed at once to the audit company that
    certified it, which may then triage it beside the scheme manager."""
    c: Complaint = f.subject
    if c.about == ComplaintAbout.AGENCY:
        c.handler_org_id = certifying_company(f.session, c.agency_id)


@complaint.guard("subject_identified")
def subject_identified(f: Firing) -> str | None:
    c: Complaint = f.subject
    if c.about is None:
        return _("Say whom the complaint is about: an agency, an audit company or the scheme.")
    if c.about is ComplaintAbout.AGENCY and c.agency_id is None:
        return _("Name the agency the complaint is about.")
    if c.about is ComplaintAbout.AUDIT_COMPANY and c.audit_company_id is None:
        return _("Name the audit company the complaint is about.")
    return None


@complaint.effect("route_complaint")
def route_complaint(f: Firing) -> None:
    """A complaint about a certified agency goes to its audit company; the rest stays with
    the scheme manager."""
    c: Complaint = f.subject
    handler = None
    if c.about is ComplaintAbout.AGENCY:
        handler = f.session.scalar(
            sa.select(Certificate.audit_company_id)
            .where(
                Certificate.agency_id == c.agency_id,
                Certificate.state.in_((CertificateState.ACTIVE, CertificateState.SUSPENDED)),
            )
            .order_by(Certificate.id.desc())
            .limit(1)
        )
    c.handler_org_id = handler
    f.payload["handler_org_id"] = handler


def _involvement(user: User, c: Complaint, now: datetime) -> list[str]:
    """Why ``user`` is involved with the complaint's subject; empty when independent.

    A member of the agency or of the audit company the complaint is about, anyone with a
    declared tie to the agency, and anyone who audited, reviewed or decided the agency's
    certification are involved. (For a
    complaint about an agency, ``audit_company_id`` only says who certified it.)
    """
    reasons: list[str] = []
    about_company = c.about is ComplaintAbout.AUDIT_COMPANY and c.audit_company_id is not None
    if about_company and user.roles_in(c.audit_company_id):
        reasons.append(_("you belong to the audit company the complaint is about"))
    if c.agency_id is not None:
        reasons += ties_with_agency(user, c.agency_id, now)
        on_team = db.session.scalar(
            sa.select(TeamMember.id)
            .join(CertificationCase)
            .where(CertificationCase.agency_id == c.agency_id, TeamMember.user_id == user.id)
            .limit(1)
        )
        if on_team is not None:
            reasons.append(_("you audited this agency"))
        decided = db.session.scalar(
            sa.select(CertificationCase.id)
            .where(
                CertificationCase.agency_id == c.agency_id,
                sa.or_(
                    CertificationCase.technical_reviewer_id == user.id,
                    CertificationCase.decision_maker_id == user.id,
                ),
            )
            .limit(1)
        )
        if decided is not None:
            reasons.append(_("you reviewed or decided this agency's certification"))
    return reasons


@complaint.guard("investigator_not_involved", permission=True)
def investigator_not_involved(f: Firing) -> str | None:
    reasons = _involvement(f.actor, f.subject, f.now)
    if reasons:
        return _(
            "You cannot investigate this complaint: %(reasons)s. Someone not involved must.",
            reasons="; ".join(str(r) for r in reasons),
        )
    return None


@complaint.effect("record_investigator")
def record_investigator(f: Firing) -> None:
    f.subject.investigator_id = f.actor_id


@complaint.guard("actor_is_investigator", permission=True)
def actor_is_investigator(f: Firing) -> str | None:
    if f.subject.investigator_id != f.actor_id:
        return _("Only the complaint's investigator can take this step.")
    return None


#: the grades a finding raised from a complaint may have
FINDING_GRADES = ("observation", "minor", "major", "critical")
#: special-audit states in which a finding can still be added before findings are issued
OPEN_FOR_FINDINGS = (CaseState.TEAM_PENDING, CaseState.AUDIT_PLANNED, CaseState.STAGE2)


@complaint.guard("action_possible", on_input=True)
def action_possible(f: Firing) -> str | None:
    """What the chosen action needs: a decision maker for a suspension, the special audit
    for a finding (with its criterion and grade)."""
    c: Complaint = f.subject
    code = f.reason_code
    if code == "certificate_suspended":
        cert = certificate_in_force(f.session, c.agency_id) if c.agency_id else None
        if cert is None or cert.state is not CertificateState.ACTIVE:
            return _("The agency has no active certificate to suspend.")
        if not f.actor.has_role(Role.DECISION_MAKER, cert.audit_company_id):
            return _(
                "Only a decision maker of the audit company that certified the agency can "
                "suspend its certificate."
            )
    if code in ("finding_raised", "special_audit") and c.special_case is None:
        return _("Open the special audit first: a finding belongs to an audit.")
    if code == "finding_raised":
        if c.special_case.state not in OPEN_FOR_FINDINGS:
            return _("The special audit has already issued its findings.")
        if f.data.get("grade") not in FINDING_GRADES or not f.data.get("criterion"):
            return _("Give the finding's criterion and grade.")
        codes = _criteria_codes(c.special_case)
        if codes and f.data["criterion"] not in codes:
            return _("No such criterion in the audit: %(c)s.", c=f.data["criterion"])
    return None


def _criteria_codes(case: Any) -> set[str]:
    from iris.fieldwork import queries as fq

    return {row.code for row in fq.criteria_of(fq.definition_of(case))}


@complaint.effect("carry_out_action")
def carry_out_action(f: Firing) -> None:
    """Suspend the certificate (its own ``suspend`` step) or raise the finding in the
    special audit; the other actions are recorded by the step itself."""
    c: Complaint = f.subject
    if f.reason_code == "certificate_suspended":
        cert = certificate_in_force(f.session, c.agency_id)
        fire(cert, "suspend", f.actor, now=f.now, session=f.session,
             reason_code="substantiated_complaint",
             reason=_("Complaint %(ref)s: %(r)s", ref=c.reference, r=f.reason))  # fmt: skip
        f.payload["certificate_suspended"] = cert.number
    elif f.reason_code == "finding_raised":
        finding = Finding(
            case_id=c.special_case.id,
            criterion=str(f.data["criterion"]),
            grade=FindingGrade(f.data["grade"]),
            statement=f.reason or "",
            evidence=_("Substantiated complaint %(ref)s.", ref=c.reference),
            status=FindingStatus.OPEN,
        )
        f.session.add(finding)
        f.session.flush()
        f.payload["finding"] = finding.public_id


# ================================================================== appeals


def appealed_decision(a: Appeal) -> tuple[Any, datetime | None, str | None]:
    """(the decided subject, when it was decided, why it cannot be appealed or None)."""
    if a.against is AppealAgainst.REJECTION:
        app = a.application
        if app is None or str(app.state) != "rejected":
            return app, None, _("No rejected application to appeal.")
        return app, app.decided_at, None
    if a.against is AppealAgainst.REFUSAL:
        case = a.case
        if case is None or str(case.state) != "refused":
            return case, None, _("No refused case to appeal.")
        return case, case.decided_at, None
    if a.against in (AppealAgainst.SUSPENSION, AppealAgainst.WITHDRAWAL):
        cert = a.certificate
        suspension = a.against is AppealAgainst.SUSPENSION
        wanted = "suspended" if suspension else "withdrawn"
        if cert is None or str(cert.state) != wanted:
            return cert, None, _("The certificate is not %(state)s.", state=_(wanted))
        return cert, cert.suspended_at if suspension else cert.withdrawn_at, None
    finding = a.finding
    if finding is None:
        return None, None, _("No finding to appeal.")
    return finding, finding.created_at, None


@appeal.guard("decision_appealable")
def decision_appealable(f: Firing) -> str | None:
    decided, _when, problem = appealed_decision(f.subject)
    if problem:
        return problem
    agency_id = getattr(decided, "agency_id", None)
    if agency_id is None and hasattr(decided, "case"):
        agency_id = decided.case.agency_id
    if agency_id != f.subject.agency_id:
        return _("An agency can only appeal decisions about itself.")
    return None


@appeal.guard("within_appeal_window")
def within_appeal_window(f: Firing) -> str | None:
    _decided, when, _problem = appealed_decision(f.subject)
    days = int(f.config["IRIS_APPEAL_WINDOW_DAYS"])
    if when is None:
        return _("The decision has no date; it cannot be appealed.")
    if f.now > when + timedelta(days=days):
        return _(
            "The %(days)s-day appeal window closed on %(date)s.",
            days=days,
            date=(when + timedelta(days=days)).date(),
        )
    return None


def _panel(f: Firing) -> list[User]:
    ids = {int(i) for i in f.data.get("panel") or ()}
    if not ids:
        return []
    return list(f.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.id)))


@appeal.guard("panel_named", on_input=True)
def panel_named(f: Firing) -> str | None:
    wanted = {int(i) for i in f.data.get("panel") or ()}
    found = _panel(f)
    if not wanted:
        return _("Name at least one panel member.")
    if len(found) != len(wanted):
        return _("Some panel members are unknown.")
    eligible = {Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER, Role.DECISION_MAKER}
    not_eligible = [u.name for u in found if not u.all_roles & eligible]
    if not_eligible:
        return _(
            "Panel members are scheme staff or decision makers; not eligible: %(names)s.",
            names=", ".join(not_eligible),
        )
    return None


def involved_in(a: Appeal) -> set[int]:
    """Everyone who took part in the decision appealed against."""
    decided, _when, _problem = appealed_decision(a)
    if decided is None:
        return set()
    if a.against is AppealAgainst.FINDING_GRADE:
        decided = decided.case
    people = set(
        db.session.scalars(
            sa.select(TransitionRecord.actor_id).where(
                TransitionRecord.subject_type == decided.__workflow__,
                TransitionRecord.subject_id == decided.id,
                TransitionRecord.actor_id.is_not(None),
            )
        )
    )
    if isinstance(decided, CertificationCase):
        people |= {m.user_id for m in decided.team}
    elif isinstance(decided, Certificate) and decided.case is not None:
        people |= {m.user_id for m in decided.case.team}
        people |= {decided.case.technical_reviewer_id, decided.case.decision_maker_id} - {None}
    return people


@appeal.guard("panel_independent", on_input=True)
def panel_independent(f: Firing) -> str | None:
    involved = involved_in(f.subject)
    members = _panel(f)
    bad = [u.name for u in members if u.id in involved]
    bad += [u.name for u in members if u.roles_in(f.subject.agency_id)]
    if bad:
        return _(
            "Nobody involved in the original decision may sit on the panel: %(names)s.",
            names=", ".join(sorted(set(bad))),
        )
    return None


@appeal.effect("record_panel")
def record_panel(f: Firing) -> None:
    f.subject.panel = sorted(u.id for u in _panel(f))
    f.payload["panel"] = f.subject.panel


@appeal.guard("actor_on_panel", permission=True)
def actor_on_panel(f: Firing) -> str | None:
    if f.actor_id not in (f.subject.panel or []):
        return _("Only a member of the appeal panel can decide the appeal.")
    return None


@appeal.effect("inform_appellant")
def inform_appellant(f: Firing) -> None:
    a: Appeal = f.subject
    admins = f.session.scalars(
        sa.select(User)
        .join(Membership)
        .where(Membership.organisation_id == a.agency_id, Membership.role == Role.AGENCY_ADMIN)
    )
    outcome = f.lifecycle.state_label(f.from_state)  # upheld or dismissed
    for user in admins:
        queue_mail(
            user.email,
            "appeal_closed",
            locale=user.locale,
            idempotency_key=f"appeal-{a.public_id}-closed-{user.id}",
            name=user.name,
            outcome=_l(outcome),  # lazy: becomes text in the recipient's language
        )
