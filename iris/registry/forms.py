"""Public forms of the registry (no account needed; CSRF on, like every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

LANGUAGES = [("en", "English"), ("pl", "Polski"), ("uk", "Українська"), ("ru", "Русский")]


class ConcernForm(FlaskForm):
    text = TextAreaField(
        _l("What happened?"),
        validators=[DataRequired(), Length(min=10, max=5000)],
        description=_l(
            "For example: a fee you were asked to pay, a passport kept, a contract changed. "
            "Write in English, Polish, Ukrainian or Russian."
        ),
        render_kw={"rows": 6},
    )
    language = SelectField(_l("Language you wrote in"), choices=LANGUAGES, default="en")
    name = StringField(
        _l("Your name (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to stay anonymous. Only the investigator will see it."),
    )
    contact = EmailField(
        _l("E-mail for updates (optional)"),
        validators=[Optional(), Email(), Length(max=320)],
        description=_l("Only the investigator will see it."),
    )


class BulkCheckForm(FlaskForm):
    file = FileField(
        _l("CSV file of numbers"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l(
            "One certificate number or agency registration number (KRS, NIP, KRAZ, EDRPOU...) "
            "per line; at most 1,000 lines. The first column of each line is read."
        ),
    )
