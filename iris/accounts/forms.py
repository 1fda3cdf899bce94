from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from iris.core.roles import ROLE_LABELS
from workflows.roles import Role

MIN_PASSWORD = 10

#: Countries offered at registration: the scheme's current corridors first, then others.
COUNTRY_CHOICES = [
    ("PL", _l("Poland")),
    ("UA", _l("Ukraine")),
    ("MD", _l("Moldova")),
    ("GE", _l("Georgia")),
    ("PH", _l("Philippines")),
    ("NP", _l("Nepal")),
    ("IN", _l("India")),
    ("BD", _l("Bangladesh")),
    ("VN", _l("Viet Nam")),
    ("UZ", _l("Uzbekistan")),
    ("DE", _l("Germany")),
    ("CZ", _l("Czechia")),
    ("LT", _l("Lithuania")),
]


def _not_email(form: FlaskForm, field: PasswordField) -> None:
    email = getattr(form, "email", None)
    if email is not None and email.data and field.data and field.data.lower() == email.data.lower():
        raise ValidationError(_l("The password must not be your e-mail address."))


def password_field(label: object = None) -> PasswordField:
    return PasswordField(
        label or _l("Password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("Use at least %(n)s characters.", n=MIN_PASSWORD),
            ),
            _not_email,
        ],
        description=_l(
            "At least %(n)s characters. A few unrelated words make a strong password.",
            n=MIN_PASSWORD,
        ),
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Work e-mail"), validators=[DataRequired(), Email(), Length(max=320)])
    password = password_field()
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    agency_name = StringField(_l("Agency legal name"), validators=[DataRequired(), Length(max=300)])
    country = SelectField(_l("Country of registration"), choices=COUNTRY_CHOICES)
    accept = BooleanField(
        _l("I confirm that I may act for this agency and accept the scheme's terms."),
        validators=[DataRequired(message=_l("Please confirm to continue."))],
    )


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=320)])


class ResetPasswordForm(FlaskForm):
    password = password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Colleague's e-mail"), validators=[DataRequired(), Email(), Length(max=320)]
    )
    role = SelectField(_l("Role"), choices=[])

    def set_roles(self, roles: tuple[Role, ...]) -> None:
        self.role.choices = [(r.value, ROLE_LABELS[r]) for r in roles]


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    password = password_field()
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
