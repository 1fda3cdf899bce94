from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from iris.core.labels import register_labels
from workflows.appeal import AppealAgainst
from workflows.complaint import ACTIONS, REASON_LABELS, ComplaintAbout

AGAINST_LABELS = register_labels(
    AppealAgainst,
    {
        AppealAgainst.REJECTION: _l("Rejection of the application"),
        AppealAgainst.REFUSAL: _l("Refusal of certification"),
        AppealAgainst.SUSPENSION: _l("Suspension of the certificate"),
        AppealAgainst.WITHDRAWAL: _l("Withdrawal of the certificate"),
        AppealAgainst.FINDING_GRADE: _l("Grade of a finding"),
    },
)
ABOUT_LABELS = register_labels(
    ComplaintAbout,
    {
        ComplaintAbout.AGENCY: _l("A recruitment agency"),
        ComplaintAbout.AUDIT_COMPANY: _l("An audit company"),
        ComplaintAbout.SCHEME: _l("The scheme"),
    },
)
#: how a complaint reached the scheme (``Complaint.channel``, a plain string column)
CHANNEL_LABELS = register_labels(
    "complaint_channel",
    {"web": _l("Web form"), "registry": _l("Public registry's concern form")},
)


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token."""


class ActionForm(FlaskForm):
    """The action taken on a substantiated complaint; a finding needs a criterion and grade."""

    reason_code = SelectField(
        _l("Action"),
        choices=[("", _l("Choose…"))] + [(c, _l(REASON_LABELS[c])) for c in ACTIONS],
        validators=[InputRequired(message=_l("Choose the action from the list."))],
    )
    criterion = StringField(_l("Criterion of the finding (e.g. C.1)"), validators=[Optional()])
    grade = SelectField(
        _l("Grade of the finding"),
        choices=[
            ("", "—"),
            ("observation", _l("Observation")),
            ("minor", _l("Minor")),
            ("major", _l("Major")),
            ("critical", _l("Critical")),
        ],
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Details (the finding's statement, or the suspension's reason)"),
        validators=[DataRequired(), Length(max=4000)],
    )


class AppealForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the decision should change"), validators=[DataRequired(), Length(max=4000)]
    )
