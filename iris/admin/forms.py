"""Forms of the scheme administration screens."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from iris.accounts.models import OrgStatus
from iris.core.countries import country_choices, language_choices
from iris.core.db import utcnow
from iris.core.labels import register_labels
from iris.core.roles import ROLE_LABELS
from workflows.roles import ROLES_BY_ORG_KIND, OrgKind

KIND_LABELS = register_labels(
    OrgKind,
    {
        OrgKind.AGENCY: _l("Recruitment agency"),
        OrgKind.AUDIT_COMPANY: _l("Audit company"),
        OrgKind.SCHEME_MANAGER: _l("Scheme manager"),
    },
)

STATUS_LABELS = register_labels(
    OrgStatus,
    {
        OrgStatus.ACTIVE: _l("Active"),
        OrgStatus.PENDING: _l("Awaiting approval"),
        OrgStatus.APPROVED: _l("Approved"),
        OrgStatus.SUSPENDED: _l("Suspended"),
    },
)

#: Languages an auditor may interview in: the interface languages and the corridors' ones.
AUDITOR_LANGUAGES = (
    "en",
    "pl",
    "uk",
    "ru",
    "de",
    "cs",
    "lt",
    "ro",
    "ka",
    "uz",
    "ky",
    "tg",
    "hi",
    "ne",
    "bn",
    "ur",
    "vi",
    "tl",
    "id",
    "ar",
    "fr",
    "es",
    "pt",
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class _GetForm(FlaskForm):
    """A search/filter form read from the query string (GET: no CSRF token needed)."""

    class Meta:
        csrf = False


class UserSearchForm(_GetForm):
    q = StringField(
        _l("Name or e-mail"), validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    status = SelectField(
        _l("Status"),
        validators=[Optional()],
        choices=[
            ("", _l("All")),
            ("active", _l("Active")),
            ("inactive", _l("Deactivated")),
            ("unverified", _l("E-mail not confirmed")),
        ],
    )


class OrganisationSearchForm(_GetForm):
    q = StringField(_l("Name or city"), validators=[Optional(), Length(max=200)], filters=[_strip])
    kind = SelectField(
        _l("Kind"),
        validators=[Optional()],
        choices=[("", _l("All kinds"))] + [(k.value, v) for k, v in KIND_LABELS.items()],
    )
    status = SelectField(
        _l("Status"),
        validators=[Optional()],
        choices=[("", _l("All statuses"))] + [(s.value, v) for s, v in STATUS_LABELS.items()],
    )


class AuditorSearchForm(_GetForm):
    q = StringField(
        _l("Name or e-mail"), validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    approval = SelectField(
        _l("Approval"),
        validators=[Optional()],
        choices=[("", _l("All")), ("approved", _l("Approved")), ("pending", _l("Not approved"))],
    )


class OutboxSearchForm(_GetForm):
    q = StringField(_l("Recipient"), validators=[Optional(), Length(max=320)], filters=[_strip])


class ReasonForm(FlaskForm):
    """A confirmation step: a POST with an optional or required reason."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=2000)],
        filters=[_strip],
        render_kw={"rows": 3},
    )

    def require_reason(self) -> None:
        self.reason.validators = [
            DataRequired(message=_l("Give a reason: it is kept in the history.")),
            Length(max=2000),
        ]
        self.reason.flags.required = True


class MembershipForm(FlaskForm):
    organisation = SelectField(
        _l("Organisation"),
        choices=[],
        validators=[DataRequired(message=_l("Choose an organisation."))],
    )
    role = SelectField(
        _l("Role"),
        choices=[(r.value, ROLE_LABELS[r]) for roles in ROLES_BY_ORG_KIND.values() for r in roles],
        description=_l("The role must exist in that kind of organisation."),
    )

    def set_organisations(self, orgs: list[Any]) -> None:
        groups: dict[str, list[tuple[str, str]]] = {}
        for org in orgs:
            groups.setdefault(str(KIND_LABELS[org.kind]), []).append((org.public_id, org.name))
        self.organisation.choices = groups  # type: ignore[assignment]


class AuditCompanyForm(FlaskForm):
    name = StringField(
        _l("Legal name"), validators=[DataRequired(), Length(max=300)], filters=[_strip]
    )
    country = SelectField(_l("Country"), choices=[])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    address = StringField(
        _l("Address"), validators=[DataRequired(), Length(max=500)], filters=[_strip]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class AuditorProfileForm(FlaskForm):
    languages = SelectMultipleField(
        _l("Languages the auditor can interview in"),
        render_kw={"size": 8},
        validators=[DataRequired(message=_l("Choose at least one language."))],
    )
    countries = SelectMultipleField(
        _l("Countries the auditor may audit in"),
        render_kw={"size": 8},
        description=_l("Hold Ctrl (or ⌘) to choose several."),
    )
    iris_trained_on = DateField(_l("IRIS auditor training completed on"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices(AUDITOR_LANGUAGES)
        self.countries.choices = country_choices()

    def validate_iris_trained_on(self, field: DateField) -> None:
        if field.data and field.data > utcnow().date():
            raise ValidationError(_l("The training date cannot be in the future."))
