"""Demo complaints in every state and appeals in every state, through ``fire()``.

Runs after the fieldwork and certificates demos (FEATURES order): complaints are about the
agency with the active certificate, so they are proposed to its audit company, whose
planner investigates; appeals are lodged against the decisions those demos made — a
rejected application, a refused case, a suspension, a withdrawal and a finding's grade —
and heard by a panel of the scheme's administrator and the other audit company's decision
maker, nobody involved in the decision appealed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from iris.complaints.models import Appeal, Complaint
from iris.core.db import db, utcnow
from iris.core.workflow import PUBLIC, WorkflowError, fire
from workflows.appeal import AppealAgainst
from workflows.complaint import ComplaintAbout

DAY = timedelta(days=1)

#: (the state to reach, language, what the complainant wrote)
COMPLAINTS = (
    ("received", "uk", "Я заплатив 600 доларів за візу субагенту у Львові. Чи це законно?"),
    ("acknowledged", "pl", "Agencja zatrzymała mój paszport na dwa tygodnie po przyjeździe."),
    ("triaged", "en", "We were told to pay for our own work clothes and the bus to the site."),
    ("investigating", "ru", "Контракт на месте отличался от того, что я подписал дома."),
    ("substantiated", "uk", "За медогляд перед виїздом з мене взяли 1500 гривень."),
    ("not_substantiated", "pl", "Nie dostałem umowy w języku ukraińskim przed wyjazdem."),
    ("action_taken", "ru", "Мне не вернули залог за общежитие после окончания договора."),
    ("closed", "en", "The agency charged me for a medical check before departure."),
)
PATH = ("received", "acknowledged", "triaged", "investigating")


def _complaint(ctx: Any, agency: Any, target: str, language: str, text: str, now: datetime) -> None:
    admin = ctx.objects["scheme_admin"]
    complaint = Complaint(
        text=text, language=language, about=ComplaintAbout.AGENCY, agency_id=agency.id,
        channel="web", complainant_contact=None,
    )  # fmt: skip
    start = now - 40 * DAY
    fire(complaint, "receive", PUBLIC, now=start)
    reached = PATH.index(target) if target in PATH else len(PATH) - 1
    if reached >= 1:
        fire(complaint, "acknowledge", admin, now=start + 2 * DAY)
    if reached >= 2:
        fire(complaint, "triage", admin, now=start + 4 * DAY,
             reason="About a certified agency: its audit company investigates.")  # fmt: skip
    if reached >= 3:
        investigator = ctx.objects.get("ac_certa_planner") if complaint.handler_org_id else admin
        fire(complaint, "investigate", investigator, now=start + 6 * DAY)
    if target in PATH:
        return
    who = complaint.investigator
    if target == "not_substantiated":
        fire(complaint, "dismiss", who, now=start + 15 * DAY,
             reason="The signed Ukrainian contract was given 12 days before departure.")  # fmt: skip
        return
    fire(complaint, "substantiate", who, now=start + 15 * DAY,
         reason="Two workers confirmed paying the clinic themselves.")  # fmt: skip
    if target == "substantiated":
        return
    fire(complaint, "take_action", who, now=start + 18 * DAY,
         reason_code="referral_to_labour_inspectorate",
         reason="Referred to the labour inspectorate; refunds to follow.")  # fmt: skip
    if target == "closed":
        fire(complaint, "close", who, now=start + 20 * DAY)


def _appeal(
    ctx: Any, against: AppealAgainst, subject: Any, agency_id: int, decided: datetime,
    target: str, why: str,
) -> Appeal:  # fmt: skip
    admin = ctx.objects["scheme_admin"]
    link = {
        AppealAgainst.REJECTION: "application",
        AppealAgainst.REFUSAL: "case",
        AppealAgainst.SUSPENSION: "certificate",
        AppealAgainst.WITHDRAWAL: "certificate",
        AppealAgainst.FINDING_GRADE: "finding",
    }[against]
    appeal = Appeal(agency_id=agency_id, against=against, **{link: subject})
    agency_admin = next(
        v for k, v in ctx.objects.items()
        if k.endswith("_admin") and k.startswith("agency_")
        and ctx.objects[k.removesuffix("_admin")].id == agency_id
    )  # fmt: skip
    fire(appeal, "lodge", agency_admin, now=decided + 3 * DAY, reason=why)
    if target == "lodged":
        return appeal
    panel = [admin.id] + [ctx.objects[k].id for k in ("ac_fairlabour_decider",) if k in ctx.objects]
    fire(appeal, "assign_panel", admin, panel=panel, now=decided + 5 * DAY)
    if target == "panel_assigned":
        return appeal
    if target == "upheld":
        fire(appeal, "uphold", admin, now=decided + 12 * DAY,
             reason="The refusal relied on interviews from before the corrective action.")  # fmt: skip
        return appeal
    fire(appeal, "dismiss", admin, now=decided + 12 * DAY,
         reason="The decision followed the evidence and the scheme's rules.")  # fmt: skip
    if target == "closed":
        fire(appeal, "close", admin, now=decided + 13 * DAY)
    return appeal


def _appeals(ctx: Any, now: datetime) -> list[tuple[Any, ...]]:
    """(against, subject, agency id, decided at, the state to reach, the appellant's why)."""
    out: list[tuple[Any, ...]] = []
    rejected = ctx.objects.get("application_rejected")
    if rejected is not None:
        out.append((AppealAgainst.REJECTION, rejected, rejected.agency_id, rejected.decided_at,
                    "panel_assigned",
                    "We place workers from Ukraine to Poland: cross-border, in scope."))  # fmt: skip
    refused = ctx.objects.get("case_agency_katowice")
    if refused is not None and str(refused.state) == "refused":
        out.append((AppealAgainst.REFUSAL, refused, refused.agency_id, refused.decided_at,
                    "upheld", "The sub-agents signed the new fee clause before the decision."))  # fmt: skip
    suspended = ctx.objects.get("certificate_agency_kharkiv")
    if suspended is not None and str(suspended.state) == "suspended":
        out.append((AppealAgainst.SUSPENSION, suspended, suspended.agency_id,
                    suspended.suspended_at, "lodged",
                    "We proposed three dates for the surveillance audit in writing."))  # fmt: skip
    withdrawn = ctx.objects.get("certificate_agency_odesa")
    if withdrawn is not None and str(withdrawn.state) == "withdrawn":
        out.append((AppealAgainst.WITHDRAWAL, withdrawn, withdrawn.agency_id,
                    withdrawn.withdrawn_at, "closed",
                    "The fees were repaid; the receipts were sent late by the bank."))  # fmt: skip
    case = ctx.objects.get("case_agency_mazowsze")
    majors = [f for f in getattr(case, "findings", ()) if str(f.grade) == "major"]
    if majors:
        # the findings were issued 40 days ago (the fieldwork demo's timeline)
        out.append((AppealAgainst.FINDING_GRADE, majors[0], case.agency_id, now - 40 * DAY,
                    "dismissed", "The medical examinations were the workers' own choice."))  # fmt: skip
    return out


def seed(ctx: Any) -> None:
    if "scheme_admin" not in ctx.objects:
        return
    now = utcnow().replace(microsecond=0)
    agency = ctx.objects.get("agency_poznan") or ctx.objects.get("agency_wisla")
    if agency is not None:
        for target, language, text in COMPLAINTS:
            try:
                with db.session.begin_nested():
                    _complaint(ctx, agency, target, language, text, now)
            except WorkflowError as exc:
                print(f"complaints demo: complaint {target} left out: {exc}")

    for against, subject, agency_id, decided, target, why in _appeals(ctx, now):
        try:
            with db.session.begin_nested():
                _appeal(ctx, against, subject, agency_id, decided, target, why)
        except WorkflowError as exc:
            print(f"complaints demo: appeal against the {against} left out: {exc}")
