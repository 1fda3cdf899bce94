"""Questionnaire definitions: load, validate and read them (pure Python, no Flask).

A definition is data: one YAML (or JSON) file per version in ``definitions/``. The standard is
versioned data, never code, so a corrected catalogue is a new file with a new version.

Format (``format: 1``)::

    code, version (a quoted string), locales: [en, pl, uk, ru], title, description
    answer_labels: {yes, no, partial, na, signed}     texts of the built-in answers
    evidence_types: {name: text}                      vocabulary used by ``evidence.types``
    sections:                                         one page of the form each (a principle)
      - code, kind (principle | management), title
        criteria:
          - code, title, provisional (bool)
            questions:
              - key (stable, unique), type, text, help, label (of the main answer)
                required (default true), weight (1..5), visible_when (a condition)
                critical: {fails_when: <condition>}      evaluated on the question's own answers
                evidence: {types: [...], required: true | false | <condition>, text}
                score: {from: <part name>, points: {value: p}, bands: [{min, max, points}]}
                parts: [<field>, ...]                     sub-fields of a composite question

Composite questions ("yes/no + text", "yes/no + table" ...) are one question with a *main*
answer (stored under the question key, e.g. ``A02``) and *parts* stored under
``<key>.<name>`` (e.g. ``A02.details``). A part usually carries its own ``visible_when``
(``A02.details`` is shown only when ``A02`` is yes). Weight, critical flag, evidence and
score belong to the question; the score is read from the main answer unless ``score.from``
names a part.

Answer types and their stored (JSON) values:

    yes_no           "yes" | "no"
    ypna             "yes" | "partial" | "no" | "na"      (``allow_na: false`` forbids "na")
    number           int or float; ``unit``, ``min``, ``max``, ``integer``
    single_choice    an option value;            options: [{value, text, points?}]
    multiple_choice  a list of option values;    ``min_choices``, ``max_choices``
    text             a string;                   ``max_length`` (required), ``multiline``
    date             "YYYY-MM-DD";               ``min``/``max`` a date or "today"
    file             answered when evidence is attached under the field's key
    table            a list of rows {column: value}; ``columns``, ``min_rows``, ``max_rows``
    declaration      {"name": signer, "signed_at": ISO timestamp}

Conditions (``visible_when``, ``critical.fails_when``, ``evidence.required``)::

    {key: K, equals: V} | not_equals | in: [..] | not_in: [..] | gt | gte | lt | lte
    {key: K, contains: V}          a multiple_choice answer includes V
    {key: K, answered: true|false}
    {all: [..]} | {any: [..]} | {not: {..}}

An unanswered (or hidden) key makes every comparison false; only ``answered`` sees it. A
visibility rule may name only keys that come earlier in the file; a question's other rules
may also name the question's own keys.

YAML is read with YAML 1.2 booleans (only ``true``/``false``), so ``yes``/``no`` stay strings,
and without implicit dates, so dates stay ISO strings.

Validation collects *every* problem with its location before anything is built; a definition
with any problem raises :class:`DefinitionError` listing them all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FORMAT = 1
ANSWER_TYPES = (
    "yes_no",
    "ypna",
    "number",
    "single_choice",
    "multiple_choice",
    "text",
    "date",
    "file",
    "table",
    "declaration",
)
COLUMN_TYPES = ("yes_no", "number", "single_choice", "text", "date")
SECTION_KINDS = ("principle", "management")
YES_NO = ("yes", "no")
YPNA = ("yes", "partial", "no", "na")
ANSWER_LABELS = ("yes", "no", "partial", "na", "signed")
WEIGHT_MIN, WEIGHT_MAX = 1, 5
#: Points of the built-in answers (DOMAIN.md section 6); "na" is excluded from scoring.
DEFAULT_POINTS = {
    "yes_no": {"yes": 1.0, "no": 0.0},
    "ypna": {"yes": 1.0, "partial": 0.5, "no": 0.0},
}
SCORABLE_TYPES = ("yes_no", "ypna", "number", "single_choice", "declaration")

COMPARISONS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "answered",
)
COMBINATORS = ("all", "any", "not")
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Text = Mapping[str, str]


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class DefinitionError(ValueError):
    """A definition with problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------------------------
# The built definition
# --------------------------------------------------------------------------------------------


def text_in(text: Text | None, locale: str, fallback: str = "en") -> str:
    """The text in ``locale``, falling back to English (a validated definition has all)."""
    if not text:
        return ""
    return text.get(locale) or text.get(fallback) or next(iter(text.values()), "")


@dataclass(frozen=True)
class Condition:
    op: str
    key: str | None = None
    value: Any = None
    children: tuple[Condition, ...] = ()

    def keys(self) -> set[str]:
        if self.key is not None:
            return {self.key}
        return set().union(*(c.keys() for c in self.children)) if self.children else set()

    def holds(self, answers: Mapping[str, Any]) -> bool:
        if self.op == "all":
            return all(c.holds(answers) for c in self.children)
        if self.op == "any":
            return any(c.holds(answers) for c in self.children)
        if self.op == "not":
            return not self.children[0].holds(answers)
        assert self.key is not None
        value = answers.get(self.key)
        present = is_answered(value)
        if self.op == "answered":
            return present == bool(self.value)
        if not present:
            return False
        try:
            if self.op == "equals":
                return bool(value == self.value)
            if self.op == "not_equals":
                return bool(value != self.value)
            if self.op == "in":
                return value in self.value
            if self.op == "not_in":
                return value not in self.value
            if self.op == "contains":
                return isinstance(value, list) and self.value in value
            if self.op == "gt":
                return bool(value > self.value)
            if self.op == "gte":
                return bool(value >= self.value)
            if self.op == "lt":
                return bool(value < self.value)
            if self.op == "lte":
                return bool(value <= self.value)
        except TypeError:
            return False
        raise ValueError(f"unknown condition {self.op!r}")  # pragma: no cover (validated)


def is_answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


@dataclass(frozen=True)
class Option:
    value: str
    text: Text
    points: float | None = None


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    text: Text
    required: bool = True
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class Field:
    """One answer: the main answer of a question (key ``A02``) or a part (``A02.details``)."""

    key: str
    question_key: str
    type: str
    text: Text
    help: Text | None = None
    required: bool = True
    visible_when: Condition | None = None
    options: tuple[Option, ...] = ()
    allow_na: bool = True
    unit: Text | None = None
    min: Any = None
    max: Any = None
    integer: bool = False
    max_length: int | None = None
    multiline: bool = False
    min_choices: int | None = None
    max_choices: int | None = None
    columns: tuple[Column, ...] = ()
    min_rows: int = 0
    max_rows: int | None = None

    @property
    def is_main(self) -> bool:
        return self.key == self.question_key

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed stored values of a choice-like field."""
        if self.type == "yes_no":
            return YES_NO
        if self.type == "ypna":
            return YPNA if self.allow_na else YPNA[:3]
        return tuple(o.value for o in self.options)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class ScoreRule:
    source: str  # the key of the field the points come from
    points: Mapping[str, float] = field(default_factory=dict)
    bands: tuple[tuple[float | None, float | None, float], ...] = ()


@dataclass(frozen=True)
class EvidenceRule:
    types: tuple[str, ...]
    text: Text
    required: bool | Condition = False

    def required_for(self, answers: Mapping[str, Any]) -> bool:
        if isinstance(self.required, Condition):
            return self.required.holds(answers)
        return self.required


@dataclass(frozen=True)
class Question:
    key: str
    section: str
    criterion: str
    text: Text
    fields: tuple[Field, ...]
    help: Text | None = None
    weight: int = 1
    critical: Condition | None = None
    evidence: EvidenceRule | None = None
    score: ScoreRule | None = None

    @property
    def main(self) -> Field:
        return self.fields[0]

    @property
    def parts(self) -> tuple[Field, ...]:
        return self.fields[1:]

    @property
    def visible_when(self) -> Condition | None:
        return self.main.visible_when


@dataclass(frozen=True)
class Criterion:
    code: str
    title: Text
    provisional: bool
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Section:
    code: str
    kind: str
    title: Text
    criteria: tuple[Criterion, ...]

    @property
    def questions(self) -> Iterator[Question]:
        for criterion in self.criteria:
            yield from criterion.questions


@dataclass(frozen=True)
class Definition:
    code: str
    version: str
    locales: tuple[str, ...]
    title: Text
    description: Text | None
    answer_labels: Mapping[str, Text]
    evidence_types: Mapping[str, Text]
    sections: tuple[Section, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    # indexes, computed once
    def __post_init__(self) -> None:
        questions = {q.key: q for s in self.sections for q in s.questions}
        fields = {f.key: f for q in questions.values() for f in q.fields}
        object.__setattr__(self, "_questions", questions)
        object.__setattr__(self, "_fields", fields)

    @property
    def questions(self) -> Mapping[str, Question]:
        return self._questions  # type: ignore[attr-defined,no-any-return]

    @property
    def fields(self) -> Mapping[str, Field]:
        """Every field by key, in document order."""
        return self._fields  # type: ignore[attr-defined,no-any-return]

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    def question_of(self, key: str) -> Question:
        return self.questions[self.fields[key].question_key]

    def to_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, sort_keys=True)


# --------------------------------------------------------------------------------------------
# Visibility and answer checks (pure; the form and the submit guard use them)
# --------------------------------------------------------------------------------------------


def visible_answers(definition: Definition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of visible fields only, evaluated in document order.

    A field is visible when its question's rule and its own rule hold, each evaluated on the
    answers of fields that are themselves visible: a rule on a hidden answer sees nothing.
    """
    visible: dict[str, Any] = {}
    for question in (q for s in definition.sections for q in s.questions):
        main = question.main
        if main.visible_when is not None and not main.visible_when.holds(visible):
            continue
        for f in question.fields:
            if f is not main and f.visible_when is not None and not f.visible_when.holds(visible):
                continue
            visible[f.key] = answers.get(f.key)
    return visible


def visible_keys(definition: Definition, answers: Mapping[str, Any]) -> list[str]:
    return list(visible_answers(definition, answers))


def value_problem(f: Field | Column, value: Any, *, today: dt.date | None = None) -> str | None:
    """Why ``value`` (a stored JSON value) is not valid for ``f``, or None if it is.

    Used for answers carried over to another version and for imported answers; the web form
    validates the user's input with WTForms (forms.py) and produces the same values.
    """
    if not is_answered(value):
        return None
    kind = f.type
    if kind in ("yes_no", "ypna", "single_choice"):
        choices = f.choices if isinstance(f, Field) else tuple(o.value for o in f.options)
        if kind == "yes_no" and isinstance(f, Column):
            choices = YES_NO
        return None if value in choices else "not one of the choices"
    if kind == "multiple_choice":
        assert isinstance(f, Field)
        if not isinstance(value, list) or any(v not in f.choices for v in value):
            return "not one of the choices"
        if f.min_choices is not None and len(value) < f.min_choices:
            return "too few choices"
        if f.max_choices is not None and len(value) > f.max_choices:
            return "too many choices"
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "not a number"
        if f.integer and not float(value).is_integer():
            return "not a whole number"
        if f.min is not None and value < f.min:
            return "below the minimum"
        if f.max is not None and value > f.max:
            return "above the maximum"
        return None
    if kind == "text":
        if not isinstance(value, str):
            return "not a text"
        return "too long" if f.max_length is not None and len(value) > f.max_length else None
    if kind == "date":
        if not isinstance(value, str) or not DATE_RE.match(value):
            return "not a date"
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return "not a date"
        lo = resolve_date(f.min, today)
        hi = resolve_date(f.max, today)
        if lo is not None and day < lo:
            return "too early"
        if hi is not None and day > hi:
            return "too late"
        return None
    if kind == "declaration":
        ok = (
            isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip()
        )
        return None if ok else "not signed"
    if kind == "table":
        assert isinstance(f, Field)
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            return "not a table"
        if f.max_rows is not None and len(value) > f.max_rows:
            return "too many rows"
        for row in value:
            for column in f.columns:
                cell = row.get(column.name)
                if column.required and not is_answered(cell):
                    return f"column {column.name} missing"
                if value_problem(column, cell, today=today):
                    return f"column {column.name} invalid"
        return None
    if kind == "file":
        return None
    return "unknown type"


def resolve_date(bound: Any, today: dt.date | None) -> dt.date | None:
    if bound is None:
        return None
    if bound == "today":
        return today or dt.date.today()  # noqa: DTZ011 (a calendar day, the caller passes one)
    return dt.date.fromisoformat(bound)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML with 1.2 booleans (yes/no stay strings), no implicit dates, no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate field {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def read_data(source: str | Path, text: str | None = None) -> Any:
    """Parse a YAML or JSON file (or ``text``); syntax errors become a DefinitionError."""
    name = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DefinitionError([Problem(name, f"cannot read the file: {exc}")]) from exc
    try:
        if name.endswith(".json"):
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except json.JSONDecodeError as exc:
        raise DefinitionError([Problem(f"line {exc.lineno}", exc.msg)]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else name
        message = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(where, f"invalid YAML: {message}")]) from exc


def load_definition(source: str | Path) -> Definition:
    """Read, validate and build a definition file; raises DefinitionError with every problem."""
    return parse_definition(read_data(source))


def parse_definition(data: Any) -> Definition:
    """Validate ``data`` (parsed YAML/JSON) and build it; raises DefinitionError."""
    builder = _Builder(data)
    definition = builder.build()
    if builder.problems or definition is None:
        raise DefinitionError(builder.problems)
    return definition


def validate_definition(data: Any) -> list[Problem]:
    """Every problem of ``data``; an empty list means it can be imported."""
    builder = _Builder(data)
    builder.build()
    return builder.problems


# --------------------------------------------------------------------------------------------
# Validation and building
# --------------------------------------------------------------------------------------------

_TOP_FIELDS = {
    "format",
    "code",
    "version",
    "locales",
    "title",
    "description",
    "answer_labels",
    "evidence_types",
    "sections",
}
_SECTION_FIELDS = {"code", "kind", "title", "criteria"}
_CRITERION_FIELDS = {"code", "title", "provisional", "questions"}
_FIELD_FIELDS = {
    "type",
    "text",
    "help",
    "label",
    "required",
    "visible_when",
    "options",
    "allow_na",
    "unit",
    "min",
    "max",
    "integer",
    "max_length",
    "multiline",
    "min_choices",
    "max_choices",
    "columns",
    "min_rows",
    "max_rows",
}
_QUESTION_FIELDS = _FIELD_FIELDS | {"key", "weight", "critical", "evidence", "score", "parts"}
_PART_FIELDS = _FIELD_FIELDS | {"name"}
_COLUMN_FIELDS = {
    "name",
    "type",
    "text",
    "required",
    "options",
    "min",
    "max",
    "integer",
    "max_length",
}
_TYPE_SETTINGS = {
    "options": ("single_choice", "multiple_choice"),
    "allow_na": ("ypna",),
    "unit": ("number",),
    "integer": ("number",),
    "max_length": ("text",),
    "multiline": ("text",),
    "min_choices": ("multiple_choice",),
    "max_choices": ("multiple_choice",),
    "columns": ("table",),
    "min_rows": ("table",),
    "max_rows": ("table",),
    "min": ("number", "date"),
    "max": ("number", "date"),
}


@dataclass
class _PendingCondition:
    where: str
    raw: Any
    owner: str  # the key of the field the rule belongs to
    question: str
    kind: str  # "visibility" | "critical" | "evidence"
    position: int  # the owner's position in document order
    set: Any  # callback receiving the built Condition


class _Builder:
    def __init__(self, data: Any):
        self.data = data
        self.problems: list[Problem] = []
        self.locales: tuple[str, ...] = ()
        self.order: dict[str, int] = {}  # field key -> position in document order
        self.field_where: dict[str, str] = {}
        self.field_types: dict[str, Field | None] = {}
        self.pending: list[_PendingCondition] = []
        self.evidence_types: dict[str, Text] = {}

    # -- helpers ---------------------------------------------------------------------------

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def mapping(self, value: Any, where: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(where, f"must be a mapping, not {_kind(value)}")
            return None
        return value

    def unknown_fields(self, raw: dict[str, Any], allowed: set[str], where: str) -> None:
        for name in raw:
            if name not in allowed:
                self.problem(where, f"unknown field {name!r}")

    def text(
        self, raw: dict[str, Any], name: str, where: str, *, required: bool = True
    ) -> Text | None:
        if name not in raw or raw[name] is None:
            if required:
                self.problem(where, f"missing field {name!r}")
            return None
        return self.translations(raw[name], f"{where}.{name}")

    def translations(self, value: Any, where: str) -> Text | None:
        if isinstance(value, str):
            self.problem(
                where,
                f"must give the text in every locale ({', '.join(self.locales)}), not one string",
            )
            return None
        value = self.mapping(value, where)
        if value is None:
            return None
        for locale in self.locales:
            text = value.get(locale)
            if not isinstance(text, str) or not text.strip():
                self.problem(where, f"missing translation for {locale!r}")
        for locale in value:
            if locale not in self.locales:
                self.problem(where, f"translation for {locale!r}, which is not one of the locales")
        return {k: v for k, v in value.items() if isinstance(v, str)}

    def bool_field(self, raw: dict[str, Any], name: str, where: str, default: bool) -> bool:
        value = raw.get(name, default)
        if not isinstance(value, bool):
            self.problem(f"{where}.{name}", f"must be true or false, not {value!r}")
            return default
        return value

    def int_field(
        self, raw: dict[str, Any], name: str, where: str, *, minimum: int = 0
    ) -> int | None:
        if name not in raw:
            return None
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{where}.{name}", f"must be a whole number, not {value!r}")
            return None
        if value < minimum:
            self.problem(f"{where}.{name}", f"must be at least {minimum}, not {value}")
            return None
        return value

    def list_of(
        self, raw: dict[str, Any], name: str, where: str, *, required: bool = True
    ) -> list[Any]:
        value = raw.get(name)
        if value is None:
            if required:
                self.problem(where, f"missing field {name!r}")
            return []
        if not isinstance(value, list):
            self.problem(f"{where}.{name}", f"must be a list, not {_kind(value)}")
            return []
        if required and not value:
            self.problem(f"{where}.{name}", "must not be empty")
        return value

    # -- top level -------------------------------------------------------------------------

    def build(self) -> Definition | None:
        raw = self.mapping(self.data, "")
        if raw is None:
            return None
        self.unknown_fields(raw, _TOP_FIELDS, "definition")
        if raw.get("format", FORMAT) != FORMAT:
            self.problem("format", f"unsupported format {raw.get('format')!r} (expected {FORMAT})")
        code = raw.get("code")
        if not isinstance(code, str) or not re.match(r"^[a-z0-9][a-z0-9._-]*$", code):
            self.problem(
                "code", "missing or invalid code (lower-case letters, digits, '.', '_', '-')"
            )
        version = raw.get("version")
        if not isinstance(version, str) or not version.strip():
            self.problem(
                "version", f"must be a non-empty string (quote it in YAML), not {version!r}"
            )
        locales = raw.get("locales")
        if (
            not isinstance(locales, list)
            or not locales
            or not all(isinstance(x, str) for x in locales)
        ):
            self.problem("locales", "must be a non-empty list of locale codes")
            locales = ["en"]
        elif "en" not in locales:
            self.problem("locales", "must include 'en' (the fallback)")
        self.locales = tuple(locales)
        title = self.text(raw, "title", "definition")
        description = self.text(raw, "description", "definition", required=False)

        labels_raw = self.mapping(raw.get("answer_labels", {}), "answer_labels") or {}
        answer_labels: dict[str, Text] = {}
        for name in ANSWER_LABELS:
            if name not in labels_raw:
                self.problem("answer_labels", f"missing label {name!r}")
            else:
                answer_labels[name] = (
                    self.translations(labels_raw[name], f"answer_labels.{name}") or {}
                )
        for name in labels_raw:
            if name not in ANSWER_LABELS:
                self.problem("answer_labels", f"unknown label {name!r}")

        types_raw = self.mapping(raw.get("evidence_types", {}), "evidence_types") or {}
        for name, value in types_raw.items():
            self.evidence_types[name] = self.translations(value, f"evidence_types.{name}") or {}

        sections = []
        seen: dict[str, str] = {}
        for i, s in enumerate(self.list_of(raw, "sections", "definition")):
            section = self.section(s, i, seen)
            if section is not None:
                sections.append(section)

        self.resolve_conditions()
        if self.problems:
            return None
        return Definition(
            code=code,  # type: ignore[arg-type]
            version=version,  # type: ignore[arg-type]
            locales=self.locales,
            title=title or {},
            description=description,
            answer_labels=answer_labels,
            evidence_types=dict(self.evidence_types),
            sections=tuple(_section(s) for s in sections),
            raw=raw,
        )

    def unique(self, seen: dict[str, str], name: str, what: str, where: str) -> None:
        if name in seen:
            shown = name.split(":", 1)[1] if ":" in name else name
            first = "earlier in the same list" if seen[name] == where else f"at {seen[name]}"
            self.problem(where, f"duplicate {what} {shown!r} (first used {first})")
        else:
            seen[name] = where

    def section(self, raw: Any, index: int, seen: dict[str, str]) -> dict[str, Any] | None:
        code = raw.get("code") if isinstance(raw, dict) else None
        where = f"sections[{code}]" if isinstance(code, str) else f"sections[{index}]"
        raw = self.mapping(raw, where)
        if raw is None:
            return None
        self.unknown_fields(raw, _SECTION_FIELDS, where)
        if not isinstance(code, str) or not KEY_RE.match(code):
            self.problem(where, f"missing or invalid section code {code!r}")
        else:
            self.unique(seen, f"section:{code}", "section code", where)
        kind = raw.get("kind", "principle")
        if kind not in SECTION_KINDS:
            self.problem(
                f"{where}.kind",
                f"unknown section kind {kind!r} (expected one of: {', '.join(SECTION_KINDS)})",
            )
        title = self.text(raw, "title", where)
        criteria = []
        for i, c in enumerate(self.list_of(raw, "criteria", where)):
            criterion = self.criterion(c, i, where, str(code), seen)
            if criterion is not None:
                criteria.append(criterion)
        return {"code": str(code), "kind": str(kind), "title": title or {}, "criteria": criteria}

    def criterion(
        self, raw: Any, index: int, parent: str, section: str, seen: dict[str, str]
    ) -> dict[str, Any] | None:
        code = raw.get("code") if isinstance(raw, dict) else None
        where = (
            f"{parent}.criteria[{code}]" if isinstance(code, str) else f"{parent}.criteria[{index}]"
        )
        raw = self.mapping(raw, where)
        if raw is None:
            return None
        self.unknown_fields(raw, _CRITERION_FIELDS, where)
        if not isinstance(code, str) or not code.strip():
            self.problem(where, "missing criterion code")
        else:
            self.unique(seen, f"criterion:{code}", "criterion code", where)
        title = self.text(raw, "title", where)
        provisional = self.bool_field(raw, "provisional", where, False)
        questions = []
        for i, q in enumerate(self.list_of(raw, "questions", where)):
            question = self.question(q, i, where, section, str(code), seen)
            if question is not None:
                questions.append(question)
        return {
            "code": str(code),
            "title": title or {},
            "provisional": provisional,
            "questions": questions,
        }

    # -- questions and fields --------------------------------------------------------------

    def question(
        self, raw: Any, index: int, parent: str, section: str, criterion: str, seen: dict[str, str]
    ) -> dict[str, Any] | None:
        key = raw.get("key") if isinstance(raw, dict) else None
        where = (
            f"{parent}.questions[{key}]" if isinstance(key, str) else f"{parent}.questions[{index}]"
        )
        raw = self.mapping(raw, where)
        if raw is None:
            return None
        self.unknown_fields(raw, _QUESTION_FIELDS, where)
        if not isinstance(key, str) or not KEY_RE.match(key):
            self.problem(where, f"missing or invalid question key {key!r} (letters, digits, '_')")
            key = f"#{index}"
        else:
            self.unique(seen, key, "key", where)
        text = self.text(raw, "text", where)
        help_text = self.text(raw, "help", where, required=False)
        main = self.field(raw, key, key, where, main=True, label_default=text)
        fields = [main] if main is not None else []
        part_names: dict[str, str] = {}
        for i, p in enumerate(self.list_of(raw, "parts", where, required=False)):
            name = p.get("name") if isinstance(p, dict) else None
            pwhere = f"{where}.parts[{name}]" if isinstance(name, str) else f"{where}.parts[{i}]"
            if not isinstance(p, dict):
                self.mapping(p, pwhere)
                continue
            self.unknown_fields(p, _PART_FIELDS, pwhere)
            if not isinstance(name, str) or not KEY_RE.match(name):
                self.problem(pwhere, f"missing or invalid part name {name!r}")
                continue
            self.unique(part_names, name, "part name", pwhere)
            self.unique(seen, f"{key}.{name}", "key", pwhere)
            part = self.field(p, f"{key}.{name}", key, pwhere, main=False)
            if part is not None:
                fields.append(part)

        weight = raw.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int):
            self.problem(f"{where}.weight", f"must be a whole number, not {weight!r}")
            weight = 1
        elif not WEIGHT_MIN <= weight <= WEIGHT_MAX:
            self.problem(
                f"{where}.weight", f"weight {weight} is out of range {WEIGHT_MIN}–{WEIGHT_MAX}"
            )

        qkw: dict[str, Any] = {
            "key": key,
            "section": section,
            "criterion": criterion,
            "text": text or {},
            "help": help_text,
            "fields": fields,
            "weight": weight,
        }

        if "critical" in raw:
            cwhere = f"{where}.critical"
            crit = self.mapping(raw["critical"], cwhere)
            if crit is not None:
                self.unknown_fields(crit, {"fails_when"}, cwhere)
                if "fails_when" not in crit:
                    self.problem(cwhere, "missing field 'fails_when' (the answer that fails)")
                else:
                    self.defer(
                        f"{cwhere}.fails_when",
                        crit["fails_when"],
                        key,
                        key,
                        "critical",
                        lambda c: qkw.__setitem__("critical", c),
                    )

        if "evidence" in raw:
            ewhere = f"{where}.evidence"
            ev = self.mapping(raw["evidence"], ewhere)
            if ev is not None:
                self.unknown_fields(ev, {"types", "required", "text"}, ewhere)
                types = self.list_of(ev, "types", ewhere)
                for t in types:
                    if t not in self.evidence_types:
                        self.problem(
                            f"{ewhere}.types",
                            f"unknown evidence type {t!r} (not in evidence_types)",
                        )
                evkw: dict[str, Any] = {
                    "types": tuple(types),
                    "text": self.text(ev, "text", ewhere) or {},
                    "required": False,
                }
                qkw["evidence"] = evkw
                required = ev.get("required", False)
                if isinstance(required, bool):
                    evkw["required"] = required
                else:
                    self.defer(
                        f"{ewhere}.required",
                        required,
                        key,
                        key,
                        "evidence",
                        lambda c: evkw.__setitem__("required", c),
                    )

        qkw["score"] = self.score(
            raw.get("score"), key, fields, where, weight_given="weight" in raw
        )
        return qkw

    def score(
        self, raw: Any, key: str, fields: list[dict[str, Any]], where: str, *, weight_given: bool
    ) -> ScoreRule | None:
        swhere = f"{where}.score"
        by_key = {f["key"]: Field(**f) for f in fields}
        if raw is None:
            main = by_key.get(key)
            if main is None:
                return None
            if main.type in DEFAULT_POINTS:
                return ScoreRule(source=key, points=DEFAULT_POINTS[main.type])
            if main.type == "declaration":
                return ScoreRule(source=key, points={"signed": 1.0})
            if main.type == "single_choice" and all(o.points is not None for o in main.options):
                return ScoreRule(
                    source=key, points={o.value: float(o.points or 0) for o in main.options}
                )
            if weight_given:
                self.problem(
                    where,
                    f"has a weight but no score: a {main.type} answer needs 'score' "
                    "(points or bands)",
                )
            return None
        rule = self.mapping(raw, swhere)
        if rule is None:
            return None
        self.unknown_fields(rule, {"from", "points", "bands"}, swhere)
        source = key if rule.get("from") is None else f"{key}.{rule['from']}"
        f = by_key.get(source)
        if f is None and (rule.get("from") is None or source in self.order):
            return None  # the answer itself is broken, and reported already
        if f is None:
            self.problem(
                f"{swhere}.from",
                f"names {rule.get('from')!r}, which is not a part of this question",
            )
            return None
        if f.type not in SCORABLE_TYPES:
            self.problem(
                swhere, f"cannot score a {f.type} answer (scorable: {', '.join(SCORABLE_TYPES)})"
            )
            return None
        points: dict[str, float] = {}
        bands: list[tuple[float | None, float | None, float]] = []
        if f.type == "number":
            for i, band in enumerate(self.list_of(rule, "bands", swhere)):
                bwhere = f"{swhere}.bands[{i}]"
                band = self.mapping(band, bwhere)
                if band is None:
                    continue
                self.unknown_fields(band, {"min", "max", "points"}, bwhere)
                lo, hi, p = band.get("min"), band.get("max"), band.get("points")
                for name, v in (("min", lo), ("max", hi)):
                    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                        self.problem(f"{bwhere}.{name}", f"must be a number, not {v!r}")
                if self.points_ok(p, f"{bwhere}.points"):
                    bands.append((lo, hi, float(p or 0)))
            if "points" in rule:
                self.problem(f"{swhere}.points", "a number answer is scored with 'bands'")
        else:
            if "bands" in rule:
                self.problem(
                    f"{swhere}.bands", f"only a number answer is scored with bands, not a {f.type}"
                )
            allowed = ("signed",) if f.type == "declaration" else f.choices
            given = rule.get("points")
            if given is None:
                given = DEFAULT_POINTS.get(f.type) or {
                    o.value: o.points for o in f.options if o.points is not None
                }
            given = self.mapping(given, f"{swhere}.points") or {}
            for value, p in given.items():
                if value not in allowed:
                    self.problem(
                        f"{swhere}.points",
                        f"{value!r} is not an answer of {source} (answers: {', '.join(allowed)})",
                    )
                elif self.points_ok(p, f"{swhere}.points.{value}"):
                    points[value] = float(p)
        return ScoreRule(source=source, points=points, bands=tuple(bands))

    def points_ok(self, p: Any, where: str) -> bool:
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            self.problem(where, f"points must be a number from 0 to 1, not {p!r}")
            return False
        return True

    def field(
        self,
        raw: dict[str, Any],
        key: str,
        question: str,
        where: str,
        *,
        main: bool,
        label_default: Text | None = None,
    ) -> dict[str, Any] | None:
        kind = raw.get("type")
        if kind not in ANSWER_TYPES:
            self.problem(
                f"{where}.type",
                f"unknown answer type {kind!r} (expected one of: {', '.join(ANSWER_TYPES)})"
                if kind is not None
                else "missing field 'type'",
            )
            self.register(key, where, None)
            return None
        for setting, types in _TYPE_SETTINGS.items():
            if setting in raw and kind not in types:
                self.problem(f"{where}.{setting}", f"{setting!r} does not apply to a {kind} answer")
        if main:
            label = self.text(raw, "label", where, required=False) or label_default
        else:
            label = self.text(raw, "text", where)
        help_text = None if main else self.text(raw, "help", where, required=False)
        options = self.options(raw, kind, where)
        fkw: dict[str, Any] = dict(
            key=key,
            question_key=question,
            type=kind,
            text=label or {},
            help=help_text,
            required=self.bool_field(raw, "required", where, True),
            options=options,
            allow_na=self.bool_field(raw, "allow_na", where, True),
            unit=self.text(raw, "unit", where, required=False),
            min=self.bound(raw, "min", kind, where),
            max=self.bound(raw, "max", kind, where),
            integer=self.bool_field(raw, "integer", where, False),
            max_length=self.int_field(raw, "max_length", where, minimum=1),
            multiline=self.bool_field(raw, "multiline", where, False),
            min_choices=self.int_field(raw, "min_choices", where),
            max_choices=self.int_field(raw, "max_choices", where, minimum=1),
            columns=self.columns(raw, kind, where),
            min_rows=self.int_field(raw, "min_rows", where) or 0,
            max_rows=self.int_field(raw, "max_rows", where, minimum=1),
        )
        f = Field(**fkw)
        if kind == "text" and f.max_length is None:
            self.problem(where, "a text answer needs 'max_length'")
        if f.min is not None and f.max is not None and _comparable(f.min, f.max) and f.min > f.max:
            self.problem(where, f"min {f.min!r} is greater than max {f.max!r}")
        if f.max_rows is not None and f.min_rows > f.max_rows:
            self.problem(where, f"min_rows {f.min_rows} is greater than max_rows {f.max_rows}")
        self.register(key, where, f)
        if "visible_when" in raw:
            self.defer(
                f"{where}.visible_when",
                raw["visible_when"],
                key,
                question,
                "visibility",
                lambda c: fkw.__setitem__("visible_when", c),
            )
        return fkw

    def register(self, key: str, where: str, f: Field | None) -> None:
        self.order.setdefault(key, len(self.order))
        self.field_where.setdefault(key, where)
        self.field_types[key] = f

    def bound(self, raw: dict[str, Any], name: str, kind: str, where: str) -> Any:
        if name not in raw:
            return None
        v = raw[name]
        if kind == "date":
            if v == "today":
                return v
            if isinstance(v, str) and DATE_RE.match(v):
                try:
                    dt.date.fromisoformat(v)
                    return v
                except ValueError:
                    pass
            self.problem(f"{where}.{name}", f"must be a date YYYY-MM-DD or 'today', not {v!r}")
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.problem(f"{where}.{name}", f"must be a number, not {v!r}")
            return None
        return v

    def options(self, raw: dict[str, Any], kind: str, where: str) -> tuple[Option, ...]:
        if kind not in ("single_choice", "multiple_choice"):
            return ()
        out = []
        seen: dict[str, str] = {}
        for i, o in enumerate(self.list_of(raw, "options", where)):
            value = o.get("value") if isinstance(o, dict) else None
            owhere = (
                f"{where}.options[{value}]" if isinstance(value, str) else f"{where}.options[{i}]"
            )
            o = self.mapping(o, owhere)
            if o is None:
                continue
            self.unknown_fields(o, {"value", "text", "points"}, owhere)
            if not isinstance(value, str) or not KEY_RE.match(value):
                self.problem(owhere, f"missing or invalid option value {value!r}")
                continue
            self.unique(seen, value, "option value", owhere)
            points = o.get("points")
            if points is not None and not self.points_ok(points, f"{owhere}.points"):
                points = None
            out.append(Option(value=value, text=self.text(o, "text", owhere) or {}, points=points))
        return tuple(out)

    def columns(self, raw: dict[str, Any], kind: str, where: str) -> tuple[Column, ...]:
        if kind != "table":
            return ()
        out = []
        seen: dict[str, str] = {}
        for i, c in enumerate(self.list_of(raw, "columns", where)):
            name = c.get("name") if isinstance(c, dict) else None
            cwhere = (
                f"{where}.columns[{name}]" if isinstance(name, str) else f"{where}.columns[{i}]"
            )
            c = self.mapping(c, cwhere)
            if c is None:
                continue
            self.unknown_fields(c, _COLUMN_FIELDS, cwhere)
            if not isinstance(name, str) or not KEY_RE.match(name):
                self.problem(cwhere, f"missing or invalid column name {name!r}")
                continue
            self.unique(seen, name, "column name", cwhere)
            ctype = c.get("type")
            if ctype not in COLUMN_TYPES:
                self.problem(
                    f"{cwhere}.type",
                    f"unknown column type {ctype!r} (expected one of: {', '.join(COLUMN_TYPES)})",
                )
                continue
            column = Column(
                name=name,
                type=ctype,
                text=self.text(c, "text", cwhere) or {},
                required=self.bool_field(c, "required", cwhere, True),
                options=self.options(c, ctype, cwhere),
                min=self.bound(c, "min", ctype, cwhere),
                max=self.bound(c, "max", ctype, cwhere),
                integer=self.bool_field(c, "integer", cwhere, False),
                max_length=self.int_field(c, "max_length", cwhere, minimum=1),
            )
            if ctype == "text" and column.max_length is None:
                self.problem(cwhere, "a text column needs 'max_length'")
            out.append(column)
        return tuple(out)

    # -- conditions ------------------------------------------------------------------------

    def defer(
        self, where: str, raw: Any, owner: str, question: str, kind: str, setter: Any
    ) -> None:
        self.pending.append(
            _PendingCondition(
                where, raw, owner, question, kind, self.order.get(owner, len(self.order)), setter
            )
        )

    def resolve_conditions(self) -> None:
        for p in self.pending:
            condition = self.condition(p.raw, p.where, p)
            if condition is not None:
                p.set(condition)

    def condition(self, raw: Any, where: str, p: _PendingCondition) -> Condition | None:
        raw = self.mapping(raw, where)
        if raw is None:
            return None
        combinators = [c for c in COMBINATORS if c in raw]
        if combinators:
            op = combinators[0]
            if len(raw) != 1:
                self.problem(where, f"{op!r} must stand alone in its mapping")
            items = [raw[op]] if op == "not" else raw[op]
            if op != "not" and (not isinstance(items, list) or not items):
                self.problem(f"{where}.{op}", "must be a non-empty list of conditions")
                return None
            children = [
                self.condition(item, f"{where}.{op}[{i}]" if op != "not" else f"{where}.not", p)
                for i, item in enumerate(items)
            ]
            if any(c is None for c in children):
                return None
            return Condition(op=op, children=tuple(c for c in children if c is not None))
        ops = [o for o in raw if o != "key"]
        unknown = [o for o in ops if o not in COMPARISONS]
        if unknown or len(ops) != 1:
            self.problem(
                where,
                "a condition needs 'key' and exactly one of: "
                f"{', '.join(COMPARISONS + COMBINATORS)}"
                + (f" (unknown: {', '.join(map(repr, unknown))})" if unknown else ""),
            )
            return None
        op = ops[0]
        value = raw[op]
        key = raw.get("key")
        if not isinstance(key, str):
            self.problem(where, "a condition needs 'key'")
            return None
        rule = {
            "visibility": "visibility rule",
            "critical": "critical rule",
            "evidence": "evidence rule",
        }[p.kind]
        if key not in self.order:
            self.problem(where, f"{rule} names {key!r}, which is not a question key")
            return None
        own = key == p.question or key.startswith(p.question + ".")
        if p.kind == "visibility":
            if key == p.owner or (p.owner == p.question and own):
                self.problem(where, f"{rule} of {p.owner} names its own answer {key!r}")
                return None
            if self.order[key] > self.order.get(p.owner, -1):
                self.problem(
                    where,
                    f"{rule} names {key!r}, which comes later ({self.field_where[key]}); "
                    "a rule may only depend on earlier answers",
                )
                return None
        elif not own and self.order[key] > self.order.get(p.question, -1):
            self.problem(
                where,
                f"{rule} names {key!r}, which comes later; "
                "it may name this question's keys or earlier ones",
            )
            return None
        target = self.field_types.get(key)
        if target is not None:
            self.check_operand(target, op, value, where)
        return Condition(op=op, key=key, value=value)

    def check_operand(self, f: Field, op: str, value: Any, where: str) -> None:
        if op == "answered":
            if not isinstance(value, bool):
                self.problem(where, f"'answered' takes true or false, not {value!r}")
            return
        choices = (
            f.choices if f.type in ("yes_no", "ypna", "single_choice", "multiple_choice") else None
        )
        if op == "contains":
            if f.type != "multiple_choice":
                self.problem(
                    where, f"'contains' applies to a multiple_choice answer; {f.key} is {f.type}"
                )
            elif value not in (choices or ()):
                self.problem(
                    where,
                    f"{value!r} is not an option of {f.key} (options: {', '.join(choices or ())})",
                )
            return
        if op in ("gt", "gte", "lt", "lte"):
            if f.type == "number" and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                self.problem(where, f"{op!r} on number {f.key} needs a number, not {value!r}")
            elif f.type == "date" and not (isinstance(value, str) and DATE_RE.match(value)):
                self.problem(
                    where, f"{op!r} on date {f.key} needs a date YYYY-MM-DD, not {value!r}"
                )
            elif f.type not in ("number", "date"):
                self.problem(
                    where, f"{op!r} applies to number and date answers; {f.key} is {f.type}"
                )
            return
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            self.problem(where, f"{op!r} needs a non-empty list, not {value!r}")
            return
        if choices is not None and f.type != "multiple_choice":
            for v in values:
                if v not in choices:
                    hint = " (quote yes/no in YAML)" if isinstance(v, bool) else ""
                    self.problem(
                        where,
                        f"{v!r} is not an answer of {f.key} (answers: {', '.join(choices)}){hint}",
                    )


def _section(kw: dict[str, Any]) -> Section:
    return Section(**{**kw, "criteria": tuple(_criterion(c) for c in kw["criteria"])})


def _criterion(kw: dict[str, Any]) -> Criterion:
    return Criterion(**{**kw, "questions": tuple(_question(q) for q in kw["questions"])})


def _question(kw: dict[str, Any]) -> Question:
    evidence = kw.get("evidence")
    return Question(
        **{
            **kw,
            "fields": tuple(Field(**f) for f in kw["fields"]),
            "evidence": EvidenceRule(**evidence) if evidence else None,
        }
    )


def _comparable(a: Any, b: Any) -> bool:
    return type(a) is type(b) or (isinstance(a, int | float) and isinstance(b, int | float))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )
