"""One door over HTTP: ``POST /<subject_type>/<public_id>/transition/<trigger>`` for every
step of every lifecycle; its GET shows the step's form and a confirmation for final steps.

Answers: 404 for an unknown or invisible subject or step; 403 (with the reason) for a step
the user may never take; 409 (with every failed condition) for a step not possible now;
422 for an incomplete form. None of them changes anything.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.core import workflow
from iris.core.db import db
from iris.core.errors import render_error, wants_json
from iris.core.permissions import login_required, roles_required
from iris.workflowui.diagram import lifecycle_svg
from iris.workflowui.forms import step_form, step_inputs
from iris.workflowui.queries import STATE_TONES, panel
from workflows.base import mermaid, roles_for, row_for
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role

bp = Blueprint("workflowui", __name__)

#: the page of each kind of subject; the generic subject page serves the others
DETAIL_ENDPOINTS = {
    "application": "applications.detail",
    "certification": "audits.case",
    "complaint": "complaints.detail",
}

SUBJECT_TYPES = "any(" + ",".join(sorted(LIFECYCLES)) + ")"


def detail_url(subject: Any) -> str:
    from flask import current_app

    name = subject.__workflow__
    endpoint = DETAIL_ENDPOINTS.get(name)
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint, public_id=subject.public_id)
    return url_for("workflowui.subject", subject_type=name, public_id=subject.public_id)


@bp.app_template_global("workflow_panel")
def workflow_panel(subject: Any) -> Any:
    return panel(subject, current_user)


@bp.app_template_global("state_tone")
def state_tone(state: Any) -> str:
    return STATE_TONES.get(str(state), "info")


@bp.app_template_global("lifecycle_label")
def lifecycle_label(lifecycle: str, state: str) -> str:
    return LIFECYCLES[lifecycle].state_label(state)


@bp.app_template_global("subject_url")
def subject_url(subject: Any) -> str:
    return detail_url(subject)


def _load(subject_type: str, public_id: str) -> Any:
    subject = workflow.visible_subject(subject_type, public_id, current_user)
    if subject is None:
        abort(404)  # unknown, or another organisation's: not acknowledged to exist
    return subject


@bp.get(f"/<{SUBJECT_TYPES}:subject_type>/<public_id>")
@login_required
def subject(subject_type: str, public_id: str):  # type: ignore[no-untyped-def]
    item = _load(subject_type, public_id)
    return render_template("workflowui/subject.html", subject=item, lifecycle=item.lifecycle)


def _refused(exc: workflow.WorkflowError, item: Any):  # type: ignore[no-untyped-def]
    if wants_json():
        return render_error(exc.status, exc.message)
    title = _("Not allowed") if exc.status == 403 else _("Not possible now")
    return (
        render_template(
            "workflowui/refused.html",
            subject=item,
            title=title,
            reasons=exc.reasons,
            back=detail_url(item),
        ),
        exc.status,
    )


@bp.route(
    f"/<{SUBJECT_TYPES}:subject_type>/<public_id>/transition/<trigger>", methods=["GET", "POST"]
)
@login_required
def transition(subject_type: str, public_id: str, trigger: str):  # type: ignore[no-untyped-def]
    item = _load(subject_type, public_id)
    lc = item.lifecycle
    if trigger not in lc.triggers or any(t.timer for t in lc.rows(trigger)):
        abort(404)
    roles = workflow.roles_of(item, current_user)
    if not roles & roles_for(lc, trigger):
        return _refused(workflow.PermissionDenied(_("Your role does not allow this step.")), item)
    row = row_for(lc, item.state, trigger) or lc.rows(trigger)[0]
    form = step_form(row)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template(
            "workflowui/step.html", subject=item, row=row, form=form, back=detail_url(item)
        ), status
    try:
        workflow.fire(item, trigger, current_user, **step_inputs(form))
    except workflow.WorkflowError as exc:
        db.session.rollback()
        return _refused(exc, item)
    db.session.commit()
    flash(_("Done: %(step)s.", step=_(row.label)), "success")
    return redirect(detail_url(item))


@bp.get("/admin/lifecycles")
@roles_required(Role.SCHEME_ADMIN)
def diagrams():  # type: ignore[no-untyped-def]
    return render_template(
        "workflowui/diagrams.html",
        lifecycles=list(LIFECYCLES.values()),
        mermaid=mermaid,
        drawing=lambda lc: lifecycle_svg(lc, label=_),
    )
