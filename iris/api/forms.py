"""The forms of the API token pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from iris.api.models import SCOPES

SCOPE_LABELS = {
    "applications:read": _l("Read applications and the self-assessment"),
    "applications:write": _l("Create applications, answer, upload evidence, take steps"),
    "cases:read": _l("Read audit cases and findings"),
    "cases:write": _l("Raise findings, review corrective actions, take steps of a case"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class NewTokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. “HR system export”."),
    )
    scopes = MultiCheckboxField(
        _l("Scopes"),
        choices=[(s, f"{s} — {SCOPE_LABELS[s]}") for s in SCOPES],
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    expires_on = DateField(
        _l("Expires on"),
        validators=[InputRequired(message=_l("Choose when the token expires."))],
        description=_l("The token stops working at the end of that day (UTC)."),
    )

    def validate_expires_on(self, field: Any) -> None:
        days = int(current_app.config.get("IRIS_API_TOKEN_MAX_DAYS", 365))
        if field.data is None:
            return
        if field.data <= _today():
            raise ValidationError(_l("Choose a day after today."))
        if field.data > _today() + dt.timedelta(days=days):
            raise ValidationError(_l("A token can last at most %(n)s days.", n=days))


class RevokeForm(FlaskForm):
    """The confirmation step: carries the CSRF token only."""
