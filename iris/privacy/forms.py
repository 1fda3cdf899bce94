"""Forms of the personal data pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from iris.core.labels import register_labels
from iris.privacy.models import SubjectKind

KIND_LABELS = register_labels(
    SubjectKind,
    {
        SubjectKind.WORKER_INTERVIEWS: _l("Worker interviews of a case"),
        SubjectKind.RESTRICTED_EVIDENCE: _l("Evidence marked restricted personal data"),
        SubjectKind.COMPLAINANT_IDENTITY: _l("A complainant's name and contact"),
    },
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AccessLogFilterForm(FlaskForm):
    """Filters of the access log, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    person = StringField(
        _l("Person (name or e-mail)"), validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    kind = SelectField(
        _l("What was viewed"),
        validators=[Optional()],
        choices=[("", _l("All")), *((k.value, label) for k, label in KIND_LABELS.items())],
    )
    subject = StringField(
        _l("Case or document id"), validators=[Optional(), Length(max=64)], filters=[_strip]
    )


class EraseForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the erasure"),
        validators=[
            DataRequired(message=_l("Give a reason: it is kept in the administrators' log.")),
            Length(max=2000),
        ],
        filters=[_strip],
        render_kw={"rows": 3},
    )


class DownloadForm(FlaskForm):
    """An empty form: the download button of the personal data page."""
