"""Forms of the agency profile: the details, and one form per kind of row."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from iris.agencies import numbers
from iris.agencies.models import RegistrationKind, Risk, Service
from iris.core import storage
from iris.core.countries import country_choices
from iris.core.db import utcnow
from iris.core.labels import register_labels

SERVICE_LABELS = register_labels(
    Service,
    {
        Service.SOURCING: _l("Sourcing of candidates"),
        Service.SELECTION: _l("Selection and interviews"),
        Service.PLACEMENT: _l("Placement with employers"),
        Service.DOCUMENTATION: _l("Visas, work permits and documents"),
        Service.TRAVEL: _l("Travel arrangements"),
        Service.ORIENTATION: _l("Pre-departure orientation"),
        Service.POST_ARRIVAL: _l("Post-arrival support"),
        Service.TEMPORARY_WORK: _l("Temporary work (agency employer)"),
    },
)

REGISTRATION_LABELS = register_labels(
    RegistrationKind,
    {
        RegistrationKind.NIP: _l("NIP (Polish tax identification number)"),
        RegistrationKind.REGON: _l("REGON (Polish statistical number)"),
        RegistrationKind.KRS: _l("KRS (National Court Register)"),
        RegistrationKind.KRAZ: _l("KRAZ (register of employment agencies)"),
        RegistrationKind.EDRPOU: _l("EDRPOU (Ukrainian company code)"),
        RegistrationKind.OTHER: _l("Other registration number"),
    },
)

#: Short names for tables (``{{ kind|label('registration_short') }}``).
REGISTRATION_SHORT = register_labels(
    "registration_short",
    {
        RegistrationKind.NIP: "NIP",
        RegistrationKind.REGON: "REGON",
        RegistrationKind.KRS: "KRS",
        RegistrationKind.KRAZ: "KRAZ",
        RegistrationKind.EDRPOU: "EDRPOU",
        RegistrationKind.OTHER: _l("Other"),
    },
)

RISK_LABELS = register_labels(
    Risk, {Risk.LOW: _l("Low"), Risk.MEDIUM: _l("Medium"), Risk.HIGH: _l("High")}
)

SECTOR_LABELS = register_labels(
    "sector",
    {
        "agriculture": _l("Agriculture and horticulture"),
        "construction": _l("Construction"),
        "manufacturing": _l("Manufacturing"),
        "food_processing": _l("Food processing"),
        "logistics": _l("Logistics and warehousing"),
        "transport": _l("Transport and driving"),
        "shipbuilding": _l("Shipbuilding and metalwork"),
        "hospitality": _l("Hotels and catering"),
        "healthcare": _l("Healthcare and care work"),
        "cleaning": _l("Cleaning and facility services"),
        "it": _l("IT and engineering"),
        "domestic_work": _l("Domestic work"),
    },
)

PREFERRED_LANGUAGES = (("en", "English"), ("pl", "Polski"), ("uk", "Українська"), ("ru", "Русский"))

POSTAL_CODE_PATTERNS = {
    "PL": (re.compile(r"^\d{2}-\d{3}$"), _l("A Polish postal code looks like 90-006.")),
    "UA": (re.compile(r"^\d{5}$"), _l("A Ukrainian postal code has five digits, like 49000.")),
}


def label_for(mapping: dict[Any, Any], key: Any) -> str:
    try:
        return str(mapping[key])
    except KeyError:
        return str(key)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _website(value: Any) -> Any:
    value = _strip(value)
    if value and not re.match(r"^https?://", value, re.I):
        return "https://" + value
    return value or None


class CountryForm(FlaskForm):
    """A form with country selects: their choices are set per request, in the user's language."""

    country_fields: tuple[str, ...] = ("country",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = country_choices()
        for name in self.country_fields:
            self[name].choices = choices


class DetailsForm(CountryForm):
    name = StringField(
        _l("Legal name"), validators=[DataRequired(), Length(max=300)], filters=[_strip]
    )
    trade_names = TextAreaField(
        _l("Trade names"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One per line: the names the agency uses in advertisements."),
        render_kw={"rows": 3},
    )
    country = SelectField(_l("Country of registration"), choices=[])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    address = StringField(
        _l("Street address"),
        validators=[DataRequired(), Length(max=500)],
        filters=[_strip],
        description=_l("Street, building and unit, as in the register."),
    )
    postal_code = StringField(
        _l("Postal code"), validators=[Optional(), Length(max=20)], filters=[_strip]
    )
    website = StringField(
        _l("Website"),
        filters=[_website],
        validators=[
            Optional(),
            Length(max=300),
            URL(
                require_tld=True, message=_l("Enter a web address such as https://agency.example.")
            ),
        ],
    )
    staff_count = IntegerField(
        _l("Number of staff"),
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000, message=_l("Enter a number of staff of 0 or more.")),
        ],
    )
    preferred_language = SelectField(
        _l("Preferred language for messages"), choices=list(PREFERRED_LANGUAGES)
    )
    services = MultiCheckboxField(
        _l("Services offered"),
        choices=[(s.value, SERVICE_LABELS[s]) for s in Service],
        description=_l("Everything the agency does for candidates, workers or employers."),
    )

    def validate_postal_code(self, field: StringField) -> None:
        rule = POSTAL_CODE_PATTERNS.get(self.country.data or "")
        if field.data and rule and not rule[0].match(field.data):
            raise ValidationError(rule[1])

    def trade_name_list(self) -> list[str]:
        lines = (self.trade_names.data or "").splitlines()
        seen: list[str] = []
        for line in (ln.strip() for ln in lines):
            if line and line not in seen:
                seen.append(line)
        return seen

    def profile_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "trade_names": self.trade_name_list(),
            "country": self.country.data,
            "city": self.city.data,
            "address": self.address.data,
            "postal_code": self.postal_code.data or None,
            "website": self.website.data or None,
            "staff_count": self.staff_count.data,
            "preferred_language": self.preferred_language.data,
            "services": list(self.services.data or []),
        }


class RegistrationForm(FlaskForm):
    kind = SelectField(
        _l("Register"),
        choices=[(k.value, REGISTRATION_LABELS[k]) for k in RegistrationKind],
    )
    value = StringField(
        _l("Number"),
        validators=[DataRequired(), Length(max=64)],
        filters=[_strip],
        description=_l("Spaces and dashes are ignored; Polish and Ukrainian numbers are checked."),
    )

    def validate_value(self, field: StringField) -> None:
        kind = RegistrationKind(self.kind.data)
        v = field.data or ""
        digits = numbers.digits_only(v)
        if kind is RegistrationKind.NIP:
            if not re.fullmatch(r"\d{10}", digits):
                raise ValidationError(_l("A NIP has 10 digits, for example 725-123-45-67."))
            if not numbers.nip_valid(digits):
                raise ValidationError(
                    _l(
                        "This NIP is not valid: its last digit (the check digit) does not match. "
                        "Check for a typing mistake."
                    )
                )
        elif kind is RegistrationKind.REGON:
            if not re.fullmatch(r"\d{9}|\d{14}", digits):
                raise ValidationError(_l("A REGON has 9 or 14 digits."))
            if not numbers.regon_valid(digits):
                raise ValidationError(
                    _l(
                        "This REGON is not valid: its check digit does not match. "
                        "Check for a typing mistake."
                    )
                )
        elif kind is RegistrationKind.KRS:
            if not numbers.krs_valid(digits):
                raise ValidationError(
                    _l("A KRS number has up to 10 digits, for example 0000123456.")
                )
        elif kind is RegistrationKind.KRAZ:
            if not numbers.kraz_valid(digits):
                raise ValidationError(_l("A KRAZ entry number is digits only, for example 12345."))
        elif kind is RegistrationKind.EDRPOU:
            if not re.fullmatch(r"\d{8}", digits):
                raise ValidationError(_l("An EDRPOU code has 8 digits."))
            if not numbers.edrpou_valid(digits):
                raise ValidationError(
                    _l(
                        "This EDRPOU code is not valid: its check digit does not match. "
                        "Check for a typing mistake."
                    )
                )

    def normalised_value(self) -> str:
        kind = RegistrationKind(self.kind.data)
        if kind is RegistrationKind.KRS:
            return numbers.krs_normalise(self.value.data)
        if kind is RegistrationKind.OTHER:
            return self.value.data.strip()
        return numbers.digits_only(self.value.data)

    def row_data(self) -> dict[str, Any]:
        return {"kind": RegistrationKind(self.kind.data), "value": self.normalised_value()}


class LicenceForm(CountryForm):
    licence_type = StringField(
        _l("Type of licence"),
        validators=[DataRequired(), Length(max=120)],
        filters=[_strip],
        description=_l(
            "For example: KRAZ certificate (employment agency), licence for employment abroad."
        ),
    )
    number = StringField(
        _l("Licence number"), validators=[DataRequired(), Length(max=120)], filters=[_strip]
    )
    issuer = StringField(
        _l("Issued by"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    country = SelectField(_l("Country"), choices=[])
    valid_from = DateField(
        _l("Valid from"),
        validators=[DataRequired(message=_l("Enter the date the licence became valid."))],
    )
    valid_to = DateField(
        _l("Valid until"),
        validators=[Optional()],
        description=_l("Leave empty if the licence does not expire."),
    )
    file = FileField(
        _l("Licence document (PDF, PNG or JPEG)"),
        description=_l(
            "A scan or the PDF of the licence. On an existing licence, "
            "leave empty to keep the current file."
        ),
    )

    def validate_valid_to(self, field: DateField) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(
                _l(
                    "The licence cannot end before it starts: 'Valid until' is earlier than "
                    "'Valid from'."
                )
            )

    def validate_file(self, field: FileField) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            field.upload = None  # type: ignore[attr-defined]
            return
        data = upload.read()
        limit = current_app.config["IRIS_MAX_UPLOAD_MB"] * 1024 * 1024
        if not data:
            raise ValidationError(_l("The file is empty."))
        if len(data) > limit:
            raise ValidationError(
                _l(
                    "The file is larger than %(mb)s MB.",
                    mb=current_app.config["IRIS_MAX_UPLOAD_MB"],
                )
            )
        actual = storage.sniff(data)
        claimed = storage.mimetype_for_name(upload.filename)
        if actual is None:
            raise ValidationError(
                _l(
                    "“%(name)s” is not a PDF, PNG or JPEG file (checked by its content). "
                    "Upload the licence as a PDF or a scanned image.",
                    name=upload.filename,
                )
            )
        if claimed is not None and claimed != actual:
            raise ValidationError(
                _l(
                    "“%(name)s” is named as a %(claimed)s file but its content is a %(actual)s "
                    "file. Upload the original document, or give the file its true extension.",
                    name=upload.filename,
                    claimed=storage.TYPE_NAMES[claimed],
                    actual=storage.TYPE_NAMES[actual],
                )
            )
        field.upload = (data, upload.filename)  # type: ignore[attr-defined]

    def row_data(self) -> dict[str, Any]:
        return {
            "licence_type": self.licence_type.data,
            "number": self.number.data,
            "issuer": self.issuer.data,
            "country": self.country.data,
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "upload": getattr(self.file, "upload", None),
        }


class SiteForm(CountryForm):
    name = StringField(
        _l("Name of the site"),
        validators=[DataRequired(), Length(max=200)],
        filters=[_strip],
        description=_l("For example: Head office, Branch in Kraków."),
    )
    address = StringField(
        _l("Street address"), validators=[DataRequired(), Length(max=500)], filters=[_strip]
    )
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    country = SelectField(_l("Country"), choices=[])

    def row_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "address": self.address.data,
            "city": self.city.data,
            "country": self.country.data,
        }


class CorridorForm(CountryForm):
    country_fields = ("origin_country", "destination_country")

    origin_country = SelectField(_l("Workers come from"), choices=[])
    destination_country = SelectField(_l("Workers go to"), choices=[])
    sectors = MultiCheckboxField(
        _l("Sectors"),
        choices=[(k, v) for k, v in SECTOR_LABELS.items()],
    )
    workers_per_year = IntegerField(
        _l("Workers placed per year"),
        validators=[
            InputRequired(message=_l("Enter the number of workers placed per year (0 or more).")),
            NumberRange(
                min=0,
                max=10_000_000,
                message=_l("The number of workers per year cannot be negative."),
            ),
        ],
    )

    def validate_destination_country(self, field: SelectField) -> None:
        if field.data and field.data == self.origin_country.data:
            raise ValidationError(
                _l("A corridor crosses a border: the destination must differ from the origin.")
            )

    def row_data(self) -> dict[str, Any]:
        return {
            "origin_country": self.origin_country.data,
            "destination_country": self.destination_country.data,
            "sectors": list(self.sectors.data or []),
            "workers_per_year": self.workers_per_year.data,
        }


class SubAgentForm(CountryForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)], filters=[_strip])
    country = SelectField(_l("Country"), choices=[])
    licence_number = StringField(
        _l("Licence number"),
        validators=[Optional(), Length(max=120)],
        filters=[_strip],
        description=_l("The sub-agent's own recruitment licence, if any."),
    )
    has_contract = BooleanField(_l("A written contract with this sub-agent is in place"))
    last_due_diligence_on = DateField(_l("Last due-diligence check"), validators=[Optional()])
    risk = SelectField(
        _l("Risk"), choices=[(r.value, RISK_LABELS[r]) for r in Risk], default=Risk.MEDIUM.value
    )

    def validate_last_due_diligence_on(self, field: DateField) -> None:
        if field.data and field.data > utcnow().date():
            raise ValidationError(_l("The last due-diligence check cannot be in the future."))

    def row_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "country": self.country.data,
            "licence_number": self.licence_number.data or None,
            "has_contract": bool(self.has_contract.data),
            "last_due_diligence_on": self.last_due_diligence_on.data,
            "risk": Risk(self.risk.data),
        }
