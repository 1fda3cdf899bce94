"""Changing applications: each function flushes, never commits."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from iris.applications.models import Application
from iris.core.workflow import TransitionNotAllowed, fire
from workflows.application import ApplicationState


def start_application(agency: Any, *, actor: Any) -> Application:
    """A new draft application of ``agency`` (the lifecycle's ``create`` step)."""
    application = Application(agency=agency, agency_id=agency.id, created_by_id=actor.id)
    fire(application, "create", actor)
    return application


def answer_requested_items(application: Application, *, actor: Any, answers: list[str]) -> None:
    """Record the agency's answers to the items the reviewer asked for on deferral."""
    if application.state is not ApplicationState.DEFERRED:
        raise TransitionNotAllowed(_("Requested items can be answered only while deferred."))
    items = []
    for item, answer in zip(application.requested_items, answers, strict=False):
        items.append({**item, "answer": (answer or "").strip() or None})
    application.requested_items = items
