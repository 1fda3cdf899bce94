from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from iris.audits.models import Relation


class TeamForm(FlaskForm):
    lead = SelectField(_l("Lead auditor"), coerce=int, validators=[InputRequired()])
    auditors = SelectMultipleField(_l("Auditors"), coerce=int)

    def __init__(self, *args: Any, leads: list[Any], auditors: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lead.choices = [(u.id, u.name) for u in leads]
        self.auditors.choices = [(u.id, u.name) for u in auditors]


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
