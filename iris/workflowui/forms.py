"""One form per workflow step, built per request from the step's row of the table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from iris.accounts.models import Membership, User
from iris.core.db import db
from workflows.application import ELIGIBILITY_CHECKLIST
from workflows.base import Transition
from workflows.lifecycles import REASON_LABELS
from workflows.roles import Role

PANEL_ROLES = (Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER, Role.DECISION_MAKER)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _panel_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(
        sa.select(User)
        .join(Membership)
        .where(Membership.role.in_(PANEL_ROLES), User.is_active.is_(True))
        .distinct()
        .order_by(User.name)
    )
    return [(u.id, u.name) for u in users]


def step_form_class(row: Transition) -> type[FlaskForm]:
    """A fresh form class for ``row``: never a mutated global."""
    attrs: dict[str, Any] = {}
    if row.reason_codes:
        attrs["reason_code"] = SelectField(
            _l("Reason"),
            choices=[("", _l("Choose…"))] + [(c, _(REASON_LABELS[c])) for c in row.reason_codes],
            validators=[InputRequired(message=_l("Choose the reason from the list."))],
        )
    if row.reason_required:
        attrs["reason"] = TextAreaField(
            _l("Details") if row.reason_codes else _l("Reason"),
            validators=[
                DataRequired(message=_l("Give a reason for this step.")),
                Length(max=4000),
            ],
            render_kw={"rows": 3},
        )
    if "requested_items" in row.fields:
        attrs["requested_items"] = TextAreaField(
            _l("Items the agency must provide, one per line"),
            validators=[DataRequired(message=_l("List at least one item."))],
            render_kw={"rows": 4},
        )
    if "eligibility_checklist" in row.fields:
        attrs["eligibility_checklist"] = MultiCheckboxField(
            _l("Eligibility checklist"),
            choices=[(code, _(label)) for code, label in ELIGIBILITY_CHECKLIST],
        )
    if "recommendation" in row.fields:
        attrs["recommendation"] = RadioField(
            _l("Recommendation"),
            choices=[("grant", _l("Grant")), ("refuse", _l("Refuse"))],
            validators=[InputRequired(message=_l("Recommend either grant or refuse."))],
        )
    if "panel" in row.fields:
        attrs["panel"] = SelectMultipleField(
            _l("Panel members"),
            coerce=int,
            choices=_panel_choices(),
            validators=[DataRequired(message=_l("Name at least one panel member."))],
        )
    if row.irreversible:
        attrs["confirm"] = BooleanField(
            _l("I understand that this cannot be undone."),
            validators=[DataRequired(message=_l("Confirm that you understand this is final."))],
        )
    return type(f"StepForm_{row.trigger}", (FlaskForm,), attrs)


def step_form(row: Transition, **kw: Any) -> FlaskForm:
    return step_form_class(row)(prefix=row.trigger, **kw)


def step_inputs(form: FlaskForm) -> dict[str, Any]:
    """The keyword arguments of ``fire()`` from a validated step form."""
    out: dict[str, Any] = {}
    if "reason" in form:
        out["reason"] = form.reason.data
    if "reason_code" in form:
        out["reason_code"] = form.reason_code.data
    if "requested_items" in form:
        out["requested_items"] = [
            line.strip() for line in (form.requested_items.data or "").splitlines() if line.strip()
        ]
    if "eligibility_checklist" in form:
        out["eligibility_checklist"] = list(form.eligibility_checklist.data or [])
    if "recommendation" in form:
        out["recommendation"] = form.recommendation.data
    if "panel" in form:
        out["panel"] = list(form.panel.data or [])
    return out
