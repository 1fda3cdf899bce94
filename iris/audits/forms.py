from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from iris.audits.models import Relation
from workflows.certification import AuditType


class FollowupForm(FlaskForm):
    """Open a surveillance, recertification or special audit of a certified agency."""

    audit_type = RadioField(
        _l("Audit"),
        choices=[
            (AuditType.SURVEILLANCE.value, _l("Surveillance audit")),
            (AuditType.RECERTIFICATION.value, _l("Recertification audit")),
            (AuditType.SPECIAL.value, _l("Special short-notice audit")),
        ],
        default=AuditType.SURVEILLANCE.value,
        validators=[InputRequired()],
    )


class DeclarationForm(FlaskForm):
    agency = SelectField(_l("Agency"), coerce=int, validators=[InputRequired()])
    relation = SelectField(
        _l("Tie"),
        choices=[
            (Relation.CONSULTANCY.value, _l("Consultancy")),
            (Relation.EMPLOYMENT.value, _l("Employment")),
            (Relation.FINANCIAL.value, _l("Financial interest")),
            (Relation.FAMILY.value, _l("Family tie")),
            (Relation.OTHER.value, _l("Other")),
        ],
    )
    period_start = DateField(_l("From"), validators=[DataRequired()])
    period_end = DateField(_l("Until (empty if it still lasts)"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])

    def __init__(self, *args: Any, agencies: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.agency.choices = [(a.id, f"{a.name} ({a.country})") for a in agencies]

    def validate_period_end(self, field: Any) -> None:
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The end cannot be before the start."))
