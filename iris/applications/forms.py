from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length


class EmptyForm(FlaskForm):
    """A POST button with its CSRF token."""


class RequestedItemsForm(FlaskForm):
    answers = FieldList(TextAreaField(validators=[Length(max=4000)], render_kw={"rows": 2}))


class OpenCaseForm(FlaskForm):
    audit_company = SelectField(
        _l("Audit company"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose an audit company."))],
    )

    def __init__(self, *args: Any, companies: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.audit_company.choices = [(c.id, f"{c.name} ({c.country})") for c in companies]
