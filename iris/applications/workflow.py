"""Guards and effects of the application lifecycle (``workflows/application.py``).

A guard returns ``None`` when its condition holds, otherwise what is missing in the words
of the person who has to act on it.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from iris.agencies.models import profile_gaps
from iris.applications.models import Application
from iris.audits.queries import ties_with_agency
from iris.core.workflow import Firing, bind
from workflows.application import ELIGIBILITY_CHECKLIST, ApplicationState
from workflows.roles import OrgKind

wf = bind("application")


def _days(f: Firing, key: str) -> timedelta:
    return timedelta(days=int(f.config[key]))


# ------------------------------------------------------------------ guards


@wf.guard("agency_profile_exists")
def agency_profile_exists(f: Firing) -> str | None:
    agency = f.subject.agency
    if agency is None or agency.kind is not OrgKind.AGENCY:
        return _("Only a recruitment agency can apply.")
    if getattr(agency, "agency_profile", None) is None:
        return _("Create the agency profile first.")
    return None


@wf.guard("profile_complete")
def profile_complete(f: Firing) -> str | None:
    gaps = profile_gaps(f.subject.agency, f.now.date())
    if gaps:
        return _("The agency profile still needs: %(gaps)s.", gaps="; ".join(gaps))
    return None


def questionnaire_gaps(application: Application) -> list[str] | None:
    """What the self-assessment still lacks, from the questionnaire feature.

    ``None`` while that feature has no ``queries.missing_items`` yet: the check is then
    not made (and the application page says so).
    """
    if importlib.util.find_spec("iris.questionnaires.queries") is None:
        return None
    from iris.questionnaires import queries

    missing_items = getattr(queries, "missing_items", None)
    if missing_items is None:
        return None
    return list(missing_items(application))


@wf.guard("questionnaire_complete")
def questionnaire_complete(f: Firing) -> str | None:
    missing = questionnaire_gaps(f.subject)
    if missing:
        return _("The self-assessment is not complete: %(items)s.", items="; ".join(missing))
    return None


@wf.guard("reviewer_independent", permission=True)
def reviewer_independent(f: Firing) -> str | None:
    ties = ties_with_agency(f.actor, f.subject.agency_id, f.now)
    if ties:
        return _(
            "You cannot review this application: %(ties)s Another reviewer must take it.",
            ties=" ".join(ties),
        )
    return None


@wf.guard("requested_items_listed", on_input=True)
def requested_items_listed(f: Firing) -> str | None:
    items = [str(i).strip() for i in f.data.get("requested_items") or [] if str(i).strip()]
    if not items:
        return _("List at least one item the agency must provide.")
    return None


@wf.guard("requested_items_answered")
def requested_items_answered(f: Firing) -> str | None:
    open_items = f.subject.open_items
    if open_items:
        return _(
            "Answer every requested item first; still open: %(items)s.",
            items="; ".join(i["text"] for i in open_items),
        )
    return None


@wf.guard("before_deferral_due")
def before_deferral_due(f: Firing) -> str | None:
    due = f.subject.deferral_due_at
    if due is not None and f.now > due:
        return _("The deadline for the requested items passed on %(due)s.", due=due.date())
    return None


@wf.guard("deferral_due_passed")
def deferral_due_passed(f: Firing) -> str | None:
    due = f.subject.deferral_due_at
    if due is None or f.now <= due:
        return _("The deadline for the requested items has not passed yet.")
    return None


@wf.guard("eligibility_checklist_passed", on_input=True)
def eligibility_checklist_passed(f: Firing) -> str | None:
    ticked = set(f.data.get("eligibility_checklist") or ())
    missing = [label for code, label in ELIGIBILITY_CHECKLIST if code not in ticked]
    if missing:
        return _(
            "Confirm every point of the eligibility checklist; not confirmed: %(items)s.",
            items="; ".join(_(m) for m in missing),
        )
    return None


# ------------------------------------------------------------------ effects


@wf.effect("record_submission")
def record_submission(f: Firing) -> None:
    f.subject.submitted_at = f.now


@wf.effect("set_review_target")
def set_review_target(f: Firing) -> None:
    app = f.subject
    app.reviewer_id = f.actor_id
    app.review_due_at = f.now + _days(f, "IRIS_REVIEW_TARGET_DAYS")
    f.payload["review_due_at"] = app.review_due_at


@wf.effect("set_deferral_due")
def set_deferral_due(f: Firing) -> None:
    app = f.subject
    items = [str(i).strip() for i in f.data["requested_items"] if str(i).strip()]
    app.requested_items = [{"text": text, "answer": None} for text in items]
    app.deferral_due_at = f.now + _days(f, "IRIS_DEFERRAL_DAYS")
    f.payload.update(requested_items=items, deferral_due_at=app.deferral_due_at)


@wf.effect("record_resubmission")
def record_resubmission(f: Firing) -> None:
    f.payload["answers"] = [
        {"text": i["text"], "answer": i.get("answer")} for i in f.subject.requested_items
    ]


@wf.effect("record_rejection")
def record_rejection(f: Firing) -> None:
    app = f.subject
    app.rejection_reason_code = f.reason_code
    app.decided_at = f.now
    app.appeal_due_at = f.now + _days(f, "IRIS_APPEAL_WINDOW_DAYS")
    f.payload["appeal_due_at"] = app.appeal_due_at


@wf.effect("record_acceptance")
def record_acceptance(f: Firing) -> None:
    f.subject.decided_at = f.now
    f.payload["eligibility_checklist"] = sorted(f.data.get("eligibility_checklist") or ())


# ------------------------------------------------------------------ timers


@wf.timer("lapse")
def lapse_due(now: Any) -> sa.Select[Any]:
    return sa.select(Application).where(
        Application.state == ApplicationState.DEFERRED, Application.deferral_due_at < now
    )
