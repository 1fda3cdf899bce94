"""Forms built per request from a questionnaire version, and the evidence forms.

:func:`section_form` makes a fresh ``FlaskForm`` subclass for one section (page) of one
version every time it is called: nothing global is ever mutated, so two versions or two
languages never share a field. Each answer's WTForms validator converts the input into the
stored JSON value (see ``definition.py``) and sets ``field.answer`` to it, with a clear
message for every type when the input is not acceptable.

Saving never requires an answer (a draft can be left half done at any time); what is still
required is listed by ``queries.missing_items`` and enforced by the application's submit
guard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from iris.core import storage
from iris.questionnaires import definition as d
from iris.questionnaires.models import Confidentiality

UNANSWERED = object()  # a field left empty: the stored answer is removed


# --------------------------------------------------------------------------------------------
# Converting one input into a stored value
# --------------------------------------------------------------------------------------------


def parse_number(raw: str | None, spec: d.Field | d.Column) -> float | int | None:
    """The number typed (a comma is accepted as the decimal mark); ValidationError if not."""
    text = (raw or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(_("Enter a number, for example 12 or 12.5.")) from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        raise ValidationError(_("Enter a number, for example 12 or 12.5."))
    if spec.integer and not value.is_integer():
        raise ValidationError(_("Enter a whole number."))
    if spec.min is not None and value < spec.min:
        raise ValidationError(_("Enter a number of at least %(min)s.", min=_num(spec.min)))
    if spec.max is not None and value > spec.max:
        raise ValidationError(_("Enter a number of at most %(max)s.", max=_num(spec.max)))
    return int(value) if value.is_integer() else value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_date(raw: str | None, spec: d.Field | d.Column, today: dt.date) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("Enter a date as YYYY-MM-DD, for example 2025-03-31.")) from None
    lo = d.resolve_date(spec.min, today)
    hi = d.resolve_date(spec.max, today)
    if lo is not None and day < lo:
        raise ValidationError(_("The date cannot be before %(date)s.", date=lo.isoformat()))
    if hi is not None and day > hi:
        if spec.max == "today":
            raise ValidationError(_("The date cannot be in the future."))
        raise ValidationError(_("The date cannot be after %(date)s.", date=hi.isoformat()))
    return day.isoformat()


def parse_text(raw: str | None, spec: d.Field | d.Column) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    if spec.max_length is not None and len(text) > spec.max_length:
        raise ValidationError(
            _(
                "Use at most %(max)d characters (you used %(n)d).",
                max=spec.max_length,
                n=len(text),
            )
        )
    return text


def parse_choice(raw: Any, allowed: Iterable[str]) -> str | None:
    if raw in (None, "", "None"):
        return None
    if raw not in tuple(allowed):
        raise ValidationError(_("Choose one of the options."))
    return str(raw)


class Answer:
    """The validator of one answer: converts the input and stores it on ``field.answer``."""

    field_flags = {"answer": True}

    def __init__(self, spec: d.Field, today: dt.date, user_id: str | None) -> None:
        self.spec = spec
        self.today = today
        self.user_id = user_id

    def __call__(self, form: Form, wtfield: Field) -> None:
        wtfield.answer = UNANSWERED  # type: ignore[attr-defined]
        spec = self.spec
        kind = spec.type
        if kind in ("yes_no", "ypna", "single_choice"):
            value: Any = parse_choice(wtfield.data, spec.choices)
        elif kind == "multiple_choice":
            chosen = [v for v in (wtfield.data or []) if v]
            if any(v not in spec.choices for v in chosen):
                raise ValidationError(_("Choose only from the options."))
            if chosen and spec.min_choices and len(chosen) < spec.min_choices:
                raise ValidationError(_("Choose at least %(n)d options.", n=spec.min_choices))
            if spec.max_choices and len(chosen) > spec.max_choices:
                raise ValidationError(_("Choose at most %(n)d options.", n=spec.max_choices))
            value = [v for v in spec.choices if v in chosen] or None
        elif kind == "number":
            value = parse_number(wtfield.data, spec)
        elif kind == "text":
            value = parse_text(wtfield.data, spec)
        elif kind == "date":
            value = parse_date(wtfield.data, spec, self.today)
        elif kind == "table":
            value = self.table(wtfield)
        elif kind == "declaration":
            value = self.declaration(wtfield)
        else:  # "file": answered by attaching evidence, nothing typed
            return
        wtfield.answer = value if d.is_answered(value) else None  # type: ignore[attr-defined]

    def table(self, wtfield: Any) -> list[dict[str, Any]] | None:
        spec = self.spec
        rows: list[dict[str, Any]] = []
        problems: list[str] = []
        for number, entry in enumerate(wtfield.entries, start=1):
            raw = {c.name: entry.form[c.name].data for c in spec.columns}
            if all(v in (None, "", "None") for v in raw.values()):
                continue  # a blank row is no row
            row: dict[str, Any] = {}
            for column in spec.columns:
                cell = raw[column.name]
                try:
                    if column.type == "number":
                        row[column.name] = parse_number(cell, column)
                    elif column.type == "date":
                        row[column.name] = parse_date(cell, column, self.today)
                    elif column.type == "text":
                        row[column.name] = parse_text(cell, column)
                    elif column.type == "yes_no":
                        row[column.name] = parse_choice(cell, d.YES_NO)
                    else:
                        row[column.name] = parse_choice(cell, [o.value for o in column.options])
                except ValidationError as exc:
                    problems.append(
                        _("Row %(n)d, %(column)s: %(problem)s", n=number,
                          column=d.text_in(column.text, _locale()), problem=str(exc))
                    )  # fmt: skip
                    continue
                if column.required and row[column.name] is None:
                    problems.append(
                        _("Row %(n)d: fill in “%(column)s”, or leave the whole row empty.",
                          n=number, column=d.text_in(column.text, _locale()))
                    )  # fmt: skip
            rows.append(row)
        if spec.max_rows is not None and len(rows) > spec.max_rows:
            problems.append(_("Give at most %(n)d rows.", n=spec.max_rows))
        if problems:
            raise ValidationError(" ".join(problems))
        return rows or None

    def declaration(self, wtfield: Any) -> dict[str, Any] | None:
        name = (wtfield.data or "").strip()
        signed = bool(wtfield.sign_field.data)
        if signed and not name:
            raise ValidationError(_("Type your full name to sign the declaration."))
        if name and not signed:
            raise ValidationError(_("Tick the box to sign the declaration."))
        if len(name) > 200:
            raise ValidationError(
                _("Use at most %(max)d characters (you used %(n)d).", max=200, n=len(name))
            )
        if not signed:
            return None
        previous = getattr(wtfield, "previous", None) or {}
        if previous.get("name") == name:
            return dict(previous)  # unchanged: keep when and by whom it was signed
        return {
            "name": name,
            "signed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "signed_by": self.user_id,
        }


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


# --------------------------------------------------------------------------------------------
# The section form
# --------------------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Form) -> None:  # choices are checked by Answer
        pass


class LooseRadioField(RadioField):
    """A radio group that may be left empty (Answer checks the choice)."""

    def pre_validate(self, form: Form) -> None:
        pass


class LooseSelectField(SelectField):
    def pre_validate(self, form: Form) -> None:
        pass


def field_name(key: str) -> str:
    return "a__" + key.replace(".", "__")


def sign_name(key: str) -> str:
    return "sig__" + key.replace(".", "__")


def evidence_name(key: str, what: str) -> str:
    return f"ev__{key.replace('.', '__')}__{what}"


@dataclass
class FormPlan:
    """What a section form holds: its answer fields and evidence targets, by key."""

    answer_fields: dict[str, str] = field(default_factory=dict)  # key -> field name
    evidence_keys: list[str] = field(default_factory=list)
    #: fields hidden by a rule under the saved answers: key -> the rules that would show them
    conditional: dict[str, list[d.Condition]] = field(default_factory=dict)


def conditions_of(question: d.Question, spec: d.Field) -> list[d.Condition]:
    rules = [question.main.visible_when]
    if not spec.is_main:
        rules.append(spec.visible_when)
    return [r for r in rules if r is not None]


def condition_json(condition: d.Condition) -> dict[str, Any]:
    """A rule for the page's script: which input to read and how to compare it."""
    if condition.children:
        return {"op": condition.op, "children": [condition_json(c) for c in condition.children]}
    return {
        "op": condition.op,
        "name": field_name(condition.key or ""),
        "value": condition.value,
    }


class SectionFormBase(FlaskForm):
    plan: FormPlan
    save = SubmitField(_l("Save"))
    save_next = SubmitField(_l("Save and continue"))


def _stored_as_input(spec: d.Field, value: Any) -> Any:
    if value is None:
        return None
    if spec.type == "number":
        return _num(value)
    return value


def section_form(
    definition: d.Definition,
    section: d.Section,
    *,
    visible: dict[str, Any],
    documents: list[Any],
    linked: dict[str, list[Any]],
    locale: str,
    today: dt.date,
    user_id: str | None,
    formdata: Any = None,
    evidence_fields: bool = True,
    unbound: frozenset[str] = frozenset(),
    evidence_posted: Callable[[str], bool] | None = None,
) -> SectionFormBase:
    """A fresh form class for ``section``, showing the fields visible under ``visible``.

    ``unbound``: keys of answers that get no WTForms field (they are still in the plan).
    A page that only shows the form (GET) renders those inputs from the definition and the
    stored answers (``rendering.question_card``); a posted form always has every field, so
    every answer is validated on the server.

    ``evidence_posted``: whether the request carries anything in a key's evidence inputs
    (a chosen document, a file, a date); keys with nothing posted get no evidence fields
    (empty inputs attach nothing and cannot be invalid).
    """
    labels = {k: d.text_in(v, locale) for k, v in definition.answer_labels.items()}
    attrs: dict[str, Any] = {}
    plan = FormPlan()
    data: dict[str, Any] = {}
    doc_choices = [(doc.public_id, _doc_label(doc)) for doc in documents]

    # Every field of the section is in the form: those hidden by a rule now may be opened by
    # an answer on this very page (the page's script shows them as soon as that answer is
    # given). After saving, answers of fields still hidden are discarded (save_answers).
    for question in section.questions:
        for spec in question.fields:
            if spec.key not in visible:
                plan.conditional[spec.key] = conditions_of(question, spec)
            name = field_name(spec.key)
            if spec.type != "file":
                plan.answer_fields[spec.key] = name
            if spec.key in unbound:
                continue
            validator = Answer(spec, today, user_id)
            label = d.text_in(spec.text, locale)
            stored = visible.get(spec.key)
            if spec.type in ("yes_no", "ypna"):
                choices = [(c, labels[c]) for c in spec.choices]
                attrs[name] = LooseRadioField(label, choices=choices, validators=[validator])
                data[name] = stored
            elif spec.type == "single_choice":
                choices = [(o.value, d.text_in(o.text, locale)) for o in spec.options]
                attrs[name] = LooseRadioField(label, choices=choices, validators=[validator])
                data[name] = stored
            elif spec.type == "multiple_choice":
                choices = [(o.value, d.text_in(o.text, locale)) for o in spec.options]
                attrs[name] = MultiCheckboxField(label, choices=choices, validators=[validator])
                data[name] = stored or []
            elif spec.type == "number":
                kw = {"inputmode": "decimal", "autocomplete": "off"}
                attrs[name] = StringField(label, validators=[validator], render_kw=kw)
                data[name] = _stored_as_input(spec, stored)
            elif spec.type == "text":
                cls = TextAreaField if spec.multiline else StringField
                kw = {"maxlength": spec.max_length} if spec.max_length else {}
                if spec.multiline:
                    kw["rows"] = 4
                attrs[name] = cls(label, validators=[validator], render_kw=kw)
                data[name] = stored
            elif spec.type == "date":
                attrs[name] = StringField(label, validators=[validator], widget=DateInput())
                data[name] = stored
            elif spec.type == "table":
                row_cls = _row_form(spec, locale, labels)
                rows = list(stored or [])
                blanks = 2 if spec.max_rows is None else max(0, min(2, spec.max_rows - len(rows)))
                attrs[name] = FieldList(
                    FormField(row_cls), label=label, min_entries=len(rows) + blanks,
                    validators=[validator],
                )  # fmt: skip
                data[name] = [_row_input(spec, r) for r in rows]
            elif spec.type == "declaration":
                attrs[name] = StringField(_l("Your full name"), validators=[validator])
                attrs[sign_name(spec.key)] = BooleanField(
                    _l("I sign this declaration on behalf of the agency")
                )
                data[name] = (stored or {}).get("name")
                data[sign_name(spec.key)] = bool(stored)
            if spec.type == "file":
                plan.evidence_keys.append(spec.key)
        if question.evidence is not None:
            plan.evidence_keys.append(question.key)

    # labels translated once per form, not once per question
    link_label = _("Documents from the evidence register")
    file_label = _("Upload a new document")
    valid_label = _("Valid until (optional)")
    date_check = _optional_date(today)
    # A page only shows the evidence inputs (plain markup, see _macros.html); they are form
    # fields, validated, when a form is posted.
    for key in plan.evidence_keys if evidence_fields else ():
        if evidence_posted is not None and not evidence_posted(key):
            continue
        attrs[evidence_name(key, "link")] = MultiCheckboxField(link_label, choices=doc_choices)
        attrs[evidence_name(key, "file")] = FileField(file_label, validators=[_upload_check])
        attrs[evidence_name(key, "valid_to")] = StringField(
            valid_label, widget=DateInput(), validators=[date_check]
        )

    cls = type(f"Section{section.code}Form", (SectionFormBase,), attrs)
    form: SectionFormBase = (
        cls(formdata=formdata, data=data) if formdata is not None else cls(data=data)
    )
    form.plan = plan
    # a signed declaration keeps its time and signer while the name is unchanged
    for key, name in plan.answer_fields.items():
        if definition.fields[key].type == "declaration":
            form[name].previous = visible.get(key)
            form[name].sign_field = form[sign_name(key)]
    return form


def _doc_label(doc: Any) -> str:
    label = f"{doc.title} ({doc.file_name})"
    if doc.valid_to:
        label += " · " + _("valid until %(date)s", date=doc.valid_to.isoformat())
    return label


def _row_input(spec: d.Field, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in spec.columns:
        value = row.get(column.name)
        out[column.name] = _num(value) if column.type == "number" and value is not None else value
    return out


def _row_form(spec: d.Field, locale: str, labels: dict[str, str]) -> type[Form]:
    attrs: dict[str, Any] = {}
    for column in spec.columns:
        label = d.text_in(column.text, locale)
        if column.type == "date":
            attrs[column.name] = StringField(label, widget=DateInput())
        elif column.type == "number":
            attrs[column.name] = StringField(label, render_kw={"inputmode": "decimal"})
        elif column.type == "yes_no":
            attrs[column.name] = LooseSelectField(
                label, choices=[("", "—")] + [(c, labels[c]) for c in d.YES_NO]
            )
        elif column.type == "single_choice":
            attrs[column.name] = LooseSelectField(
                label,
                choices=[("", "—")]
                + [(o.value, d.text_in(o.text, locale)) for o in column.options],
            )
        else:
            kw = {"maxlength": column.max_length} if column.max_length else {}
            attrs[column.name] = StringField(label, render_kw=kw)
    return type(f"Row{spec.key.replace('.', '_')}", (Form,), attrs)


def _upload_check(form: Form, wtfield: Field) -> None:
    wtfield.upload = None  # type: ignore[attr-defined]
    wtfield.upload = check_upload(wtfield.data)  # type: ignore[attr-defined]


def _optional_date(today: dt.date) -> Any:
    spec = d.Column(name="valid_to", type="date", text={})

    def check(form: Form, wtfield: Field) -> None:
        wtfield.answer = parse_date(wtfield.data, spec, today)  # type: ignore[attr-defined]

    return check


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    data: bytes
    file_name: str
    content_type: str


def check_upload(file: Any) -> Upload | None:
    """The upload's bytes and true type, or ValidationError naming what is wrong with it.

    The type is judged by the content (``storage.sniff``), never by the name or the
    browser's claim; a name whose extension says another type is refused, so a document is
    never stored under a misleading name.
    """
    if not file or not getattr(file, "filename", ""):
        return None
    data = file.read()
    name = file.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    limit_mb = current_app.config["IRIS_MAX_UPLOAD_MB"]
    if not data:
        raise ValidationError(_("“%(name)s” is empty.", name=name))
    if len(data) > limit_mb * 1024 * 1024:
        raise ValidationError(_("“%(name)s” is larger than %(mb)s MB.", name=name, mb=limit_mb))
    actual = storage.sniff(data, storage.DOCUMENTS)
    if actual is None:
        raise ValidationError(
            _(
                "“%(name)s” is not a PDF, an image (PNG, JPEG) or an office document (Word, "
                "Excel), judged by its content.",
                name=name,
            )
        )
    claimed = storage.mimetype_for_name(name, storage.DOCUMENTS)
    if claimed != actual:
        raise ValidationError(
            _(
                "“%(name)s” is named as %(claimed)s but its content is %(actual)s. Upload the "
                "original document, or give the file its true extension.",
                name=name,
                claimed=storage.TYPE_NAMES.get(claimed or "", _("an unknown type")),
                actual=storage.TYPE_NAMES[actual],
            )
        )
    return Upload(data=data, file_name=name, content_type=actual)


class EvidenceForm(FlaskForm):
    """Upload a document into the evidence register, or edit its details (no file)."""

    file = FileField(_l("File (PDF, PNG, JPEG, Word or Excel)"))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    doc_type = SelectField(_l("Type of document"), choices=[])
    language = SelectField(_l("Language of the document"), choices=[])
    valid_from = StringField(_l("Valid from"), widget=DateInput(), validators=[Optional()])
    valid_to = StringField(_l("Valid until"), widget=DateInput(), validators=[Optional()])
    confidentiality = SelectField(
        _l("Confidentiality"),
        choices=[
            (Confidentiality.PUBLIC.value, _l("Public")),
            (Confidentiality.AUDIT_ONLY.value, _l("For the audit only")),
            (Confidentiality.RESTRICTED.value, _l("Restricted: contains personal data")),
        ],
        default=Confidentiality.AUDIT_ONLY.value,
    )
    submit = SubmitField(_l("Save"))

    require_file = True
    upload: Upload | None = None
    dates: tuple[dt.date | None, dt.date | None] = (None, None)

    def validate_file(self, wtfield: Field) -> None:
        self.upload = check_upload(wtfield.data)
        if self.upload is None and self.require_file:
            raise ValidationError(_("Choose a file to upload."))

    @staticmethod
    def _day(raw: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(raw.strip()) if raw and raw.strip() else None
        except ValueError:
            raise ValidationError(
                _("Enter a date as YYYY-MM-DD, for example 2025-03-31.")
            ) from None

    # Each date is checked on its own (Optional() stops a field's chain when it is empty, so a
    # check inside the other field's validator would be skipped); their order once both are
    # valid, in validate().
    def validate_valid_from(self, wtfield: Field) -> None:
        self._day(wtfield.data)

    def validate_valid_to(self, wtfield: Field) -> None:
        self._day(wtfield.data)

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        start, end = self._day(self.valid_from.data), self._day(self.valid_to.data)
        if start and end and end < start:
            self.valid_to.errors = [_("The end of validity cannot be before its start.")]
            return False
        self.dates = (start, end)
        return True


class UpgradeForm(FlaskForm):
    submit = SubmitField(_l("Move my answers to the new version"))


class StartForm(FlaskForm):
    submit = SubmitField(_l("Start the self-assessment"))
