"""Forms of the audit pages. Choices that depend on the case are set by the view."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from iris.audits.models import FindingGrade
from iris.core.labels import register_labels
from iris.fieldwork.models import (
    AuditMode,
    Channel,
    ContractTiming,
    Rating,
    Readiness,
    ReviewDecision,
)

RATING_LABELS = register_labels(
    Rating,
    {
        Rating.CONFORMING: _l("Conforming"),
        Rating.OBSERVATION: _l("Observation"),
        Rating.MINOR: _l("Minor nonconformity"),
        Rating.MAJOR: _l("Major nonconformity"),
        Rating.CRITICAL: _l("Critical nonconformity"),
        Rating.NOT_APPLICABLE: _l("Not applicable"),
    },
)
GRADE_LABELS = register_labels(
    FindingGrade,
    {
        FindingGrade.OBSERVATION: _l("Observation"),
        FindingGrade.MINOR: _l("Minor"),
        FindingGrade.MAJOR: _l("Major"),
        FindingGrade.CRITICAL: _l("Critical"),
    },
)
CHANNEL_LABELS = register_labels(
    Channel,
    {
        Channel.IN_PERSON: _l("In person"),
        Channel.PHONE: _l("Phone"),
        Channel.VIDEO: _l("Video call"),
    },
)
TIMING_LABELS = register_labels(
    ContractTiming,
    {
        ContractTiming.BEFORE_DEPARTURE: _l("Before departure"),
        ContractTiming.AFTER_DEPARTURE: _l("After departure, before arrival"),
        ContractTiming.AFTER_ARRIVAL: _l("Only after arrival"),
        ContractTiming.NONE: _l("No written contract"),
    },
)
READINESS_LABELS = register_labels(
    Readiness,
    {
        Readiness.READY: _l("Ready for stage 2"),
        Readiness.NOT_READY: _l("Not ready: back to planning"),
    },
)
MODE_LABELS = register_labels(
    AuditMode,
    {
        AuditMode.ON_SITE: _l("On site"),
        AuditMode.REMOTE: _l("Remote"),
        AuditMode.HYBRID: _l("Hybrid"),
    },
)
DECISION_LABELS = register_labels(
    ReviewDecision,
    {
        ReviewDecision.SUBMITTED: _l("Submitted"),
        ReviewDecision.ACCEPTED: _l("Accepted"),
        ReviewDecision.RETURNED: _l("Returned"),
    },
)
#: languages an interview may be held in (the worker's own language)
LANGUAGES = (
    ("uk", _l("Ukrainian")),
    ("ru", _l("Russian")),
    ("pl", _l("Polish")),
    ("en", _l("English")),
    ("be", _l("Belarusian")),
    ("ka", _l("Georgian")),
    ("uz", _l("Uzbek")),
    ("hi", _l("Hindi")),
    ("ne", _l("Nepali")),
    ("tl", _l("Filipino")),
    ("vi", _l("Vietnamese")),
    ("other", _l("Other")),
)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignTeamForm(FlaskForm):
    lead = SelectField(_l("Lead auditor"), coerce=int, validators=[InputRequired()])
    members = MultiCheckboxField(_l("Other team members"), coerce=int, validators=[Optional()])


class DeclarationForm(FlaskForm):
    confirm = BooleanField(
        _l(
            "I have had no consultancy, employment, financial or family tie with this agency "
            "during the cooling-off period, and I will declare one if it arises."
        ),
        validators=[DataRequired(_l("Confirm the declaration to see the case."))],
    )


class Stage1Form(FlaskForm):
    outcome = RadioField(
        _l("Stage 1 outcome"),
        choices=[(r.value, label) for r, label in READINESS_LABELS.items()],
        validators=[InputRequired()],
    )
    notes = TextAreaField(_l("Readiness gaps and notes"), validators=[Length(max=5000)])

    def validate_notes(self, field: Any) -> None:
        if self.outcome.data == Readiness.NOT_READY.value and not (field.data or "").strip():
            raise ValidationError(_l("List the readiness gaps."))


class RatingForm(FlaskForm):
    rating = SelectField(
        _l("Rating"),
        choices=[(r.value, label) for r, label in RATING_LABELS.items()],
        validators=[InputRequired()],
    )
    notes = TextAreaField(_l("Notes and objective evidence"), validators=[Length(max=5000)])
    documents = MultiCheckboxField(_l("Evidence documents"), validators=[Optional()])


class SiteVisitForm(FlaskForm):
    site = SelectField(_l("Site"), validators=[InputRequired()])
    visited_on = DateField(_l("Visited on"), validators=[InputRequired()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class InterviewForm(FlaskForm):
    conducted_on = DateField(_l("Date"), validators=[InputRequired()])
    site = SelectField(_l("Site"), validators=[Optional()])
    language = SelectField(_l("Language of the interview"), choices=list(LANGUAGES))
    interpreter = BooleanField(_l("An interpreter was used"))
    channel = SelectField(
        _l("Channel"), choices=[(c.value, label) for c, label in CHANNEL_LABELS.items()]
    )
    fees_paid = BooleanField(_l("The worker paid fees or costs for the recruitment"))
    fee_amount = DecimalField(
        _l("Amount paid"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    fee_currency = StringField(
        _l("Currency (ISO code, e.g. PLN, UAH, EUR)"), validators=[Length(max=3)]
    )
    documents_held = BooleanField(_l("Passport, ID or permit held by the employer or agency"))
    contract_timing = SelectField(
        _l("Written contract received"),
        choices=[(t.value, label) for t, label in TIMING_LABELS.items()],
    )
    contract_language = SelectField(
        _l("Language of the contract"), choices=[("", "—"), *LANGUAGES], validators=[Optional()]
    )
    contract_in_own_language = BooleanField(
        _l("The contract is in a language the worker understands")
    )
    substitution = BooleanField(_l("The contract was substituted (terms changed on arrival)"))
    knows_grievance = BooleanField(_l("The worker knows the grievance channel"))
    notes = TextAreaField(
        _l("Notes (no names or other identifying details)"),
        validators=[Optional(), Length(max=5000)],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.fees_paid.data and self.fee_amount.data is None and not self.fee_amount.errors:
            self.fee_amount.errors = [
                *self.fee_amount.errors,
                _l("Give the amount the worker paid."),
            ]
            ok = False
        return ok

    def validate_fee_currency(self, field: Any) -> None:
        if self.fees_paid.data and not (field.data or "").strip():
            raise ValidationError(_l("Give the currency of the amount."))
        value = (field.data or "").strip()
        if value and not (len(value) == 3 and value.isalpha()):
            raise ValidationError(_l("Use a three-letter currency code."))


class FindingForm(FlaskForm):
    grade = SelectField(
        _l("Grade"), choices=[(g.value, label) for g, label in GRADE_LABELS.items()]
    )
    criterion = SelectField(_l("Criterion"), validators=[InputRequired()])
    statement = TextAreaField(
        _l("Statement of the nonconformity"), validators=[DataRequired(), Length(max=5000)]
    )
    evidence = TextAreaField(
        _l("Objective evidence"), validators=[DataRequired(), Length(max=5000)]
    )
    due_on = DateField(_l("Corrective action due"), validators=[Optional()])


class CorrectiveActionForm(FlaskForm):
    correction = TextAreaField(
        _l("Correction (what was done at once)"), validators=[DataRequired(), Length(max=5000)]
    )
    root_cause = TextAreaField(_l("Root cause"), validators=[DataRequired(), Length(max=5000)])
    action = TextAreaField(
        _l("Corrective action (what prevents a recurrence)"),
        validators=[DataRequired(), Length(max=5000)],
    )
    owner = StringField(_l("Owner"), validators=[DataRequired(), Length(max=200)])
    target_date = DateField(_l("Target date"), validators=[InputRequired()])
    document = SelectField(_l("Evidence document"), validators=[Optional()])


class ReviewForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[("accept", _l("Accept")), ("return", _l("Return with comments"))],
        validators=[InputRequired()],
    )
    comment = TextAreaField(_l("Comments"), validators=[Length(max=5000)])

    def validate_comment(self, field: Any) -> None:
        if self.decision.data == "return" and not (field.data or "").strip():
            raise ValidationError(_l("Say what is missing."))


class MessageForm(FlaskForm):
    """A message of a request-for-information thread; the agency's answer may link one of
    its documents or upload a new file (the questionnaire's checks: size, type judged by the
    content, a name that does not lie about it)."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])
    document = SelectField(_l("Evidence document"), validators=[Optional()])
    file = FileField(_l("Or upload a new document (PDF, PNG, JPEG, Word or Excel)"))

    upload: Any = None

    def validate_file(self, field: Any) -> None:
        from iris.questionnaires.forms import check_upload

        self.upload = check_upload(field.data)


class StepForm(FlaskForm):
    reason = TextAreaField(_l("Reason or rationale"), validators=[Optional(), Length(max=5000)])
    recommendation = SelectField(
        _l("Recommendation"),
        choices=[("", "—"), ("grant", _l("Grant")), ("refuse", _l("Refuse"))],
        validators=[Optional()],
    )
