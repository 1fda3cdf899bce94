from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from iris.audits.models import FindingStatus, Relation
from iris.core.labels import register_labels
from workflows.certification import AuditType, Recommendation, TeamRole

#: A case's kind on its own (a heading, a table cell); sentences use AUDIT_TYPE_WORDS.
AUDIT_TYPE_LABELS = register_labels(
    AuditType,
    {
        AuditType.INITIAL: _l("Initial audit"),
        AuditType.SURVEILLANCE: _l("Surveillance audit"),
        AuditType.RECERTIFICATION: _l("Recertification audit"),
        AuditType.SPECIAL: _l("Special short-notice audit"),
    },
)
TEAM_ROLE_LABELS = register_labels(
    TeamRole, {TeamRole.LEAD: _l("Lead auditor"), TeamRole.AUDITOR: _l("Auditor")}
)
RECOMMENDATION_LABELS = register_labels(
    Recommendation,
    {
        Recommendation.GRANT: _l("Grant certification"),
        Recommendation.REFUSE: _l("Refuse certification"),
    },
)
FINDING_STATUS_LABELS = register_labels(
    FindingStatus,
    {
        FindingStatus.OPEN: _l("Awaiting corrective action"),
        FindingStatus.PLAN_SUBMITTED: _l("Corrective action submitted"),
        FindingStatus.PLAN_ACCEPTED: _l("Corrective action plan accepted"),
        FindingStatus.VERIFIED_CLOSED: _l("Verified and closed"),
    },
)
RELATION_LABELS = register_labels(
    Relation,
    {
        Relation.CONSULTANCY: _l("Consultancy"),
        Relation.EMPLOYMENT: _l("Employment"),
        Relation.FINANCIAL: _l("Financial interest"),
        Relation.FAMILY: _l("Family tie"),
        Relation.OTHER: _l("Other"),
    },
)


class FollowupForm(FlaskForm):
    """Open a surveillance, recertification or special audit of a certified agency."""

    audit_type = RadioField(
        _l("Audit"),
        choices=[
            (t.value, AUDIT_TYPE_LABELS[t])
            for t in (AuditType.SURVEILLANCE, AuditType.RECERTIFICATION, AuditType.SPECIAL)
        ],
        default=AuditType.SURVEILLANCE.value,
        validators=[InputRequired()],
    )


class DeclarationForm(FlaskForm):
    agency = SelectField(_l("Agency"), coerce=int, validators=[InputRequired()])
    relation = SelectField(
        _l("Tie"),
        choices=[(r.value, label) for r, label in RELATION_LABELS.items()],
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
