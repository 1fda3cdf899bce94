"""Demo applications in every state, each taken there through ``fire()`` at believable past
moments, so each has its real history chain.

Accepted applications (with their cases) come from the audit demos that follow; this one
adds the other states: draft, submitted, under review, deferred, lapsed (deferral deadline
passed, closed by the timer), rejected and withdrawn.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from iris.applications.models import Application
from iris.core.db import db, utcnow
from iris.core.workflow import SYSTEM, WorkflowError, fire

#: (agency key, the state to reach)
PLAN = (
    ("agency_lviv", "draft"),
    ("agency_wisla", "submitted"),
    ("agency_mazowsze", "under_review"),
    ("agency_dnipro", "deferred"),
    ("agency_baltyk", "lapsed"),
    ("agency_dnipro", "rejected"),
    ("agency_wisla", "withdrawn"),
)
ORDER = ("draft", "submitted", "under_review")


def _reach(ctx: Any, agency: Any, admin: Any, target: str) -> Application:
    from iris.questionnaires.demo import answer_self_assessment

    reviewer = ctx.objects["app_reviewer"]
    now = utcnow().replace(microsecond=0)
    start = now - timedelta(days=90 if target == "lapsed" else 30)
    app = Application(agency_id=agency.id, created_by_id=admin.id)
    app.agency = agency
    fire(app, "create", admin, now=start)
    if target == "draft":
        return app
    if target == "withdrawn":
        fire(app, "withdraw", admin, now=start + timedelta(days=2))
        return app
    answer_self_assessment(app, actor=admin, rng=ctx.rng, complete=True)
    with current_app.test_request_context():  # the submit guard's list of gaps builds links
        fire(app, "submit", admin, now=start + timedelta(days=3))
    if target == "submitted":
        return app
    fire(app, "start_review", reviewer, now=start + timedelta(days=5))
    if target == "under_review":
        return app
    if target == "rejected":
        fire(app, "reject", reviewer, now=start + timedelta(days=12),
             reason_code="outside_scheme_scope",
             reason="The agency recruits only for domestic placements, outside the scheme.")  # fmt: skip
        return app
    fire(app, "defer", reviewer, now=start + timedelta(days=8),
         reason="The KRAZ extract is older than three months.",
         requested_items=["A KRAZ register extract issued in the last three months",
                          "The contract with the sub-agent in Lviv"])  # fmt: skip
    if target == "lapsed":
        fire(app, "lapse", SYSTEM, now=app.deferral_due_at + timedelta(hours=6))
    return app


def seed(ctx: Any) -> None:
    if "app_reviewer" not in ctx.objects:
        return
    for key, target in PLAN:
        agency = ctx.objects.get(key)
        admin = ctx.objects.get(f"{key}_admin")
        if agency is None or admin is None:
            continue
        try:
            with db.session.begin_nested():
                app = _reach(ctx, agency, admin, target)
        except WorkflowError as exc:
            print(f"applications demo: {key} not taken to {target}: {exc}")
            continue
        ctx.objects[f"application_{target}"] = app
