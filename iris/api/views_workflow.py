"""The steps of a lifecycle over the API: what may be done now, and doing it.

``GET /api/v1/transitions/<type>/<id>`` lists the steps the table offers the token's user
from the subject's state (``iris.core.workflow.available_actions``, as the buttons of the
subject's page), each with what still blocks it. ``POST .../<trigger>`` takes one step like
the page's form does (iris/workflowui/views.py): the same step form validates the input
(422 naming the field), then ``fire()``; a role that may never take the step gets 403, a
step not possible now 409 with each failed condition. Applications need the
``applications:*`` scopes, certification cases the ``cases:*`` scopes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from iris.accounts.models import User
from iris.api import schemas as s
from iris.api.auth import token_required
from iris.api.blueprint import API_PREFIX, bp
from iris.api.errors import api_error, invalid
from iris.core import workflow
from iris.core.db import db
from iris.workflowui.forms import step_form_class, step_inputs
from workflows.base import roles_for, row_for

TAGS = ["workflow"]
#: the lifecycles open to the API, and the scope family of each
SCOPE_OF = {"application": "applications", "certification": "cases"}
SUBJECT_TYPES = "any(" + ",".join(sorted(SCOPE_OF)) + ")"
INPUTS = ("reason", "reason_code", "requested_items", "eligibility_checklist", "recommendation",
          "panel", "confirm")  # fmt: skip


def _err(status: int, text: str) -> Any:
    return bp.alt_response(status, schema=s.ErrorSchema, description=text)


def _scope(subject_type: str, access: str) -> None:
    wanted = f"{SCOPE_OF[subject_type]}:{access}"
    if wanted not in g.api_token.scope_list:
        abort(403, _("This API token lacks the scope %(scope)s.", scope=wanted))


def _load(subject_type: str, public_id: str) -> Any:
    subject = workflow.visible_subject(subject_type, public_id, current_user)
    if subject is None:
        abort(404)  # unknown, or another organisation's: not acknowledged to exist
    return subject


def _inputs_of(row: Any) -> list[str]:
    names = list(row.fields)
    if row.reason_codes:
        names.insert(0, "reason_code")
    if row.reason_required:
        names.insert(0, "reason")
    if row.irreversible:
        names.append("confirm")
    return names


@bp.route(f"{API_PREFIX}/transitions/<{SUBJECT_TYPES}:subject_type>/<public_id>", tags=TAGS)
@token_required()
@bp.doc(**{"x-scopes": ["applications:read", "cases:read"]})
@bp.response(200, s.ActionsSchema)
@_err(404, "No such subject, or not yours")
def actions(subject_type: str, public_id: str) -> Any:
    """The steps you may take now on an application or a case, and what blocks each"""
    _scope(subject_type, "read")
    subject = _load(subject_type, public_id)
    out = []
    for action in workflow.available_actions(subject, current_user):
        row = action.transition
        out.append(
            {
                "trigger": row.trigger,
                "label": _(row.label) if row.label else row.trigger,
                "allowed": action.allowed,
                "blocked_by": [str(b) for b in action.blocked],
                "reason_required": row.reason_required,
                "reason_codes": list(row.reason_codes),
                "inputs": _inputs_of(row),
                "irreversible": row.irreversible,
            }
        )
    return {
        "subject_type": subject_type,
        "id": subject.public_id,
        "state": str(subject.state),
        "state_label": subject.state_label,
        "actions": out,
    }


def _formdata(row: Any, data: dict[str, Any]) -> MultiDict[str, Any] | dict[str, list[str]]:
    """The step form's input from the JSON body, or the fields it does not take (422)."""
    takes = set(_inputs_of(row))
    extra = {k: [_("This step does not take this input.")] for k, v in data.items()
             if k not in takes and v not in (None, False, [], "")}  # fmt: skip
    if extra:
        return extra
    prefix = row.trigger + "-"
    form: MultiDict[str, Any] = MultiDict()
    for name in ("reason", "reason_code", "recommendation"):
        if data.get(name) is not None:
            form.add(prefix + name, data[name])
    if data.get("requested_items"):
        form.add(prefix + "requested_items", "\n".join(data["requested_items"]))
    for code in data.get("eligibility_checklist") or []:
        form.add(prefix + "eligibility_checklist", code)
    if data.get("panel"):
        ids = dict(
            db.session.execute(
                sa.select(User.public_id, User.id).where(User.public_id.in_(data["panel"]))
            ).all()
        )
        unknown = [p for p in data["panel"] if p not in ids]
        if unknown:
            return {"panel": [_("No such person: %(ids)s.", ids=", ".join(unknown))]}
        for public_id in data["panel"]:
            form.add(prefix + "panel", str(ids[public_id]))
    if data.get("confirm"):
        form.add(prefix + "confirm", "y")
    return form


@bp.route(
    f"{API_PREFIX}/transitions/<{SUBJECT_TYPES}:subject_type>/<public_id>/<trigger>",
    methods=["POST"],
    tags=TAGS,
)
@token_required()
@bp.doc(**{"x-scopes": ["applications:write", "cases:write"]})
@bp.arguments(s.FireSchema)
@bp.response(200, s.FiredSchema)
@_err(404, "No such subject or step, or not yours")
@_err(409, "Not possible now: each failed condition in reasons")
def fire(data: dict[str, Any], subject_type: str, public_id: str, trigger: str) -> Any:
    """Take a step (e.g. submit an application); give a reason where the step needs one"""
    _scope(subject_type, "write")
    item = _load(subject_type, public_id)
    lc = item.lifecycle
    if trigger not in lc.triggers or any(t.timer for t in lc.rows(trigger)):
        abort(404)
    roles = workflow.roles_of(item, current_user)
    if not roles & roles_for(lc, trigger):
        return api_error(403, "forbidden", _("Your role does not allow this step."))
    row = row_for(lc, item.state, trigger) or lc.rows(trigger)[0]
    formdata = _formdata(row, data)
    if not isinstance(formdata, MultiDict):
        return invalid(formdata)
    form = step_form_class(row)(formdata=formdata, prefix=row.trigger, meta={"csrf": False})
    if not form.validate():
        return invalid({name: [str(m) for m in msgs] for name, msgs in form.errors.items()})
    before = None if item.state is None else str(item.state)
    try:
        record = workflow.fire(item, trigger, current_user, **step_inputs(form))
    except workflow.WorkflowError as exc:
        db.session.rollback()
        code = {403: "forbidden", 404: "not_found"}.get(exc.status, "conflict")
        return api_error(exc.status, code, exc.message, reasons=exc.reasons)
    db.session.commit()
    return {
        "subject_type": subject_type,
        "id": item.public_id,
        "trigger": trigger,
        "from_state": before,
        "state": str(item.state),
        "at": record.at,
    }
