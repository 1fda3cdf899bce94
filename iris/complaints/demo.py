"""Demo complaints and an appeal, through ``fire()``; and the recommended demo case passed
on to its decision by the technical reviewer.

Runs after the audit and certificate demos (FEATURES order), so complaints can be about a
certified agency and go to its audit company.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from iris.complaints.models import Appeal, Complaint
from iris.core.db import db, utcnow
from iris.core.workflow import PUBLIC, WorkflowError, fire
from workflows.appeal import AppealAgainst
from workflows.complaint import ComplaintAbout

#: (the state to reach, language, what the complainant wrote)
COMPLAINTS = (
    ("received", "uk", "Я заплатив 600 доларів за візу субагенту у Львові. Чи це законно?"),
    ("acknowledged", "pl", "Agencja zatrzymała mój paszport na dwa tygodnie po przyjeździe."),
    ("investigating", "ru", "Контракт на месте отличался от того, что я подписал дома."),
    ("closed", "en", "The agency charged me for a medical check before departure."),
)
ORDER = ("received", "acknowledged", "triaged", "investigating", "substantiated", "action_taken")


def _complaint(ctx: Any, agency: Any, target: str, language: str, text: str, now: Any) -> Complaint:
    admin = ctx.objects["scheme_admin"]
    complaint = Complaint(
        text=text, language=language, about=ComplaintAbout.AGENCY, agency_id=agency.id,
        channel="web", complainant_contact=None,
    )  # fmt: skip
    start = now - timedelta(days=40)
    fire(complaint, "receive", PUBLIC, now=start)
    steps = ORDER[1 : ORDER.index(target) + 1] if target != "closed" else ORDER[1:]
    for i, step in enumerate(steps, start=1):
        when = start + timedelta(days=2 * i)
        if step == "acknowledge" or step == "acknowledged":
            fire(complaint, "acknowledge", admin, now=when)
        elif step == "triaged":
            fire(complaint, "triage", admin, now=when,
                 reason="About a certified agency: its audit company investigates.")  # fmt: skip
        elif step == "investigating":
            investigator = (
                ctx.objects.get("ac_certa_planner") if complaint.handler_org_id else admin
            )
            fire(complaint, "investigate", investigator, now=when)
        elif step == "substantiated":
            fire(complaint, "substantiate", complaint.investigator, now=when,
                 reason="Two workers confirmed paying the clinic themselves.")  # fmt: skip
        elif step == "action_taken":
            fire(complaint, "take_action", complaint.investigator, now=when,
                 reason_code="finding_raised",
                 reason="A major finding on C.1 at the next surveillance audit.")  # fmt: skip
    if target == "closed":
        fire(complaint, "close", complaint.investigator, now=start + timedelta(days=20))
    return complaint


def seed(ctx: Any) -> None:
    if "scheme_admin" not in ctx.objects:
        return
    now = utcnow().replace(microsecond=0)
    agency = ctx.objects.get("agency_wisla")
    if agency is not None:
        for target, language, text in COMPLAINTS:
            try:
                with db.session.begin_nested():
                    _complaint(ctx, agency, target, language, text, now)
            except WorkflowError as exc:
                print(f"complaints demo: {target} left out: {exc}")

    rejected = ctx.objects.get("application_rejected")
    admin = rejected is not None and ctx.objects.get("agency_dnipro_admin")
    if rejected is not None and admin:
        try:
            with db.session.begin_nested():
                appeal = Appeal(agency_id=rejected.agency_id, against=AppealAgainst.REJECTION,
                                application=rejected)  # fmt: skip
                fire(appeal, "lodge", admin, now=rejected.decided_at + timedelta(days=3),
                     reason="We place workers from Ukraine to Poland: cross-border, in scope.")  # fmt: skip
                panel = [ctx.objects[k].id for k in ("ac_fairlabour_decider",) if k in ctx.objects]
                fire(appeal, "assign_panel", ctx.objects["scheme_admin"], panel=panel,
                     now=rejected.decided_at + timedelta(days=5))  # fmt: skip
        except WorkflowError as exc:
            print(f"complaints demo: appeal left out: {exc}")

    # the recommended case goes on to its decision (the technical review)
    reviewer = ctx.objects.get("ac_certa_reviewer")
    for key in ("case_agency_baltyk",):
        case = ctx.objects.get(key)
        if case is None or reviewer is None or str(case.state) != "recommended":
            continue
        try:
            with db.session.begin_nested():
                fire(case, "review", reviewer, now=now - timedelta(days=1))
        except WorkflowError as exc:
            print(f"complaints demo: {key} not reviewed: {exc}")
