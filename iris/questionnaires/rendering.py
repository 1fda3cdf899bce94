"""Markup for the hot path of long questionnaire pages, built in Python.

A page of the self-assessment repeats the same small widgets for every question (radio
groups, the evidence inputs). Built as Jinja macros they dominated the rendering of a
50-question page (a macro call costs far more than the string it returns), and so did
``Markup.format``; these functions build the same markup with ``escape`` and plain string
joins.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms.widgets import html_params

from iris.questionnaires.forms import _num, evidence_name


def errors_html(messages: Any) -> str:
    return "".join(
        f'<div class="invalid-feedback d-block">{escape(m)}</div>'
        for m in messages or ()
        if isinstance(m, str)
    )


def choice_group(
    field: Any, legend: str, hide_legend: bool, *, inline: bool = True, multiple: bool = False
) -> Markup:
    chosen = set(field.data or []) if multiple else {field.data}
    invalid = " is-invalid" if field.errors else ""
    kind = "checkbox" if multiple else "radio"
    wrapper = "form-check form-check-inline" if inline else "form-check"
    name = escape(field.name)
    hidden = " visually-hidden" if hide_legend else ""
    parts = [f'<fieldset><legend class="form-label fs-6{hidden}">{escape(legend)}</legend>']
    for i, (value, label) in enumerate(field.choices):
        element_id = f"{name}-{i}"
        checked = " checked" if value in chosen else ""
        parts.append(
            f'<div class="{wrapper}"><input class="form-check-input{invalid}" type="{kind}" '
            f'name="{name}" id="{element_id}" value="{escape(value)}"{checked}> '
            f'<label class="form-check-label" for="{element_id}">{escape(label)}</label></div>'
        )
    parts.append(errors_html(field.errors))
    parts.append("</fieldset>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)


def evidence_inputs(
    form: Any, key: str, names: tuple[str, str, str], labels: dict[str, str], doc_options: Markup
) -> Markup:
    """The "attach a document" inputs of one answer (plain markup; see forms.section_form)."""
    link_n, file_n, valid_n = (escape(n) for n in names)
    file_errors = form[file_n].errors if file_n in form else []
    valid_errors = form[valid_n].errors if valid_n in form else []
    valid_value = escape((form[valid_n].data if valid_n in form else "") or "")
    link = ""
    if doc_options:
        link = (
            f'<div class="col-12"><label class="form-label" for="{link_n}">'
            f"{escape(labels['link_label'])}</label>"
            f'<select class="form-select form-select-sm" multiple size="3" name="{link_n}" '
            f'id="{link_n}">{doc_options}</select></div>'
        )
    opened = " open" if file_errors or valid_errors else ""
    file_invalid = " is-invalid" if file_errors else ""
    valid_invalid = " is-invalid" if valid_errors else ""
    return Markup(  # noqa: S704 (every value is escaped)
        f'<details class="small"{opened}><summary>{escape(labels["attach"])}</summary>'
        f'<div class="row g-2 mt-1">{link}'
        f'<div class="col-md-7"><label class="form-label" for="{file_n}">'
        f"{escape(labels['file_label'])}</label>"
        f'<input class="form-control form-control-sm{file_invalid}" type="file" '
        f'name="{file_n}" id="{file_n}">{errors_html(file_errors)}</div>'
        f'<div class="col-md-5"><label class="form-label" for="{valid_n}">'
        f"{escape(labels['valid_label'])}</label>"
        f'<input class="form-control form-control-sm{valid_invalid}" type="date" '
        f'name="{valid_n}" id="{valid_n}" value="{valid_value}">{errors_html(valid_errors)}'
        "</div></div></details>"
    )


# --------------------------------------------------------------------------- question cards

#: Field types a card is built for here; a question with any other field (tables,
#: declarations, file answers) is rendered by the template.
CARD_TYPES = frozenset(
    {"yes_no", "ypna", "single_choice", "multiple_choice", "number", "text", "date"}
)

#: (id of a parsed definition, locale) -> (the definition, its fixed fragments by key)
_FIXED: dict[tuple[int, str], tuple[Any, dict[Any, Any]]] = {}


def fixed_fragments(definition: Any, locale: str) -> dict[Any, Any]:
    """The per-(version, locale) cache of a page's fixed markup: question heads, rule hints.

    A published version's content never changes and parsed definitions are kept per process
    by content (``QuestionnaireVersion.parsed``), so what is built from the definition and
    the locale alone is built once. The cache holds the definition itself, so its id is
    never reused while the entry lives.
    """
    key = (id(definition), locale)
    found = _FIXED.get(key)
    if found is None or found[0] is not definition:
        found = _FIXED[key] = (definition, {})
    return found[1]


CHOICE_TYPES = frozenset({"yes_no", "ypna", "single_choice", "multiple_choice"})


def is_card_question(question: Any) -> bool:
    return all(spec.type in CARD_TYPES for spec in question.fields)


def unbound_keys(section: Any, fixed: dict[Any, Any]) -> frozenset[str]:
    """The answers of ``section`` that :func:`question_card` renders without a form field
    when the page is only shown (see ``forms.section_form(unbound=...)``)."""
    found = fixed.get(("unbound", section.code))
    if found is None:
        found = fixed[("unbound", section.code)] = frozenset(
            spec.key
            for question in section.questions
            if is_card_question(question)
            for spec in question.fields
        )
    return frozenset(found)


def _input_html(spec: Any, name: str, label: str, stored: Any) -> tuple[str, str]:
    """The label and input of a number, text or date answer with no form field: the markup
    WTForms renders for the fields ``forms.section_form`` declares (same attributes)."""
    if stored is None:
        value = ""
    elif spec.type == "number":
        value = _num(stored)
    else:
        value = str(stored)
    label_html = f'<label class="form-label" for="{escape(name)}">{escape(label)}</label>'
    if spec.type == "text" and spec.multiline:
        kw: dict[str, Any] = {"rows": 4}
        if spec.max_length:
            kw["maxlength"] = spec.max_length
        params = html_params(name=name, id=name, class_="form-control", **kw)
        return label_html, f"<textarea {params}>\r\n{escape(value)}</textarea>"
    if spec.type == "number":
        kw = {"inputmode": "decimal", "autocomplete": "off", "type": "text"}
    elif spec.type == "date":
        kw = {"type": "date"}
    else:
        kw = {"type": "text"}
        if spec.max_length:
            kw["maxlength"] = spec.max_length
    params = html_params(name=name, id=name, class_="form-control", value=value, **kw)
    return label_html, f"<input {params}>"


def _choice_parts(question: Any, spec: Any, page: Any) -> tuple[str, list[tuple[Any, str, str]]]:
    """A choice group's fixed markup: the opening with its legend, and for each option its
    value and its markup unchecked and checked (the same markup as :func:`choice_group`)."""
    t = page.t
    legend = t(spec.text)
    if spec.type in ("yes_no", "ypna"):
        choices = [(c, page.labels[c]) for c in spec.choices]
        hide, inline, kind = spec.is_main and legend == t(question.text), True, "radio"
    else:
        choices = [(o.value, t(o.text)) for o in spec.options]
        hide, inline = False, False
        kind = "checkbox" if spec.type == "multiple_choice" else "radio"
    wrapper = "form-check form-check-inline" if inline else "form-check"
    name = escape(page.field_name(spec.key))
    hidden = " visually-hidden" if hide else ""
    head = f'<fieldset><legend class="form-label fs-6{hidden}">{escape(legend)}</legend>'
    options = []
    for i, (value, label) in enumerate(choices):
        element_id = f"{name}-{i}"
        html = (
            f'<div class="{wrapper}"><input class="form-check-input" type="{kind}" '
            f'name="{name}" id="{element_id}" value="{escape(value)}"{{}}> '
            f'<label class="form-check-label" for="{element_id}">{escape(label)}</label></div>'
        )
        options.append((value, html.format(""), html.format(" checked")))
    return head, options


def _choice_html(question: Any, spec: Any, page: Any, field: Any) -> str:
    if field is not None and field.errors:  # a posted page with a mistake here
        legend = field.label.text
        if spec.type in ("yes_no", "ypna"):
            return choice_group(field, legend, spec.is_main and legend == page.t(question.text))
        if spec.type == "single_choice":
            return choice_group(field, legend, False, inline=False)
        return choice_group(field, legend, False, multiple=True)
    parts = page.fixed.get(("cg", spec.key))
    if parts is None:
        parts = page.fixed[("cg", spec.key)] = _choice_parts(question, spec, page)
    head, options = parts
    data = field.data if field is not None else page.visible.get(spec.key)
    if spec.type == "multiple_choice":
        chosen = set(data or [])
        return head + "".join(c if v in chosen else u for v, u, c in options) + "</fieldset>"
    return head + "".join(c if v == data else u for v, u, c in options) + "</fieldset>"


def _head(question: Any, t: Any, critical_word: str) -> str:
    critical = (
        f' <span class="badge text-bg-danger">{escape(critical_word)}</span>'
        if question.critical
        else ""
    )
    help_ = (
        f'<p class="small text-body-secondary">{escape(t(question.help))}</p>'
        if question.help
        else ""
    )
    return (
        f'<p class="mb-2"><span class="badge text-bg-secondary">{escape(question.key)}</span>'
        f"{critical} <strong>{escape(t(question.text))}</strong></p>{help_}"
    )


def question_card(question: Any, page: Any) -> Markup:
    """An editable question's card, the same markup as ``section.html`` builds.

    ``page`` carries the request's pieces (form, visible answers, linked documents, words,
    the template's helpers). The question's head (key, critical badge, text, help) and the
    rule hints come from :func:`fixed_fragments`; the inputs from the form's fields, so
    submitted values and errors show as usual.
    """
    fixed = page.fixed
    form = page.form
    conditional = form.plan.conditional
    head = fixed.get(question.key)
    if head is None:
        head = fixed[question.key] = _head(question, page.t, page.L["critical"])
    key = question.key
    out = [f'<div class="card mb-3" id="q-{escape(key)}"']
    if key in conditional:
        out.append(f" data-show-when='{page.show_when_json(key, False)}'")
    out.append(f'><div class="card-body">{head}')
    if key in conditional:
        out.append(f'<p class="small text-body-secondary iris-when">{page.hint(key, False)}</p>')
    for spec in question.fields:
        own = not spec.is_main and spec.key in conditional and spec.visible_when is not None
        out.append(f'<div class="mb-3" id="q-{escape(spec.key.replace(".", "-"))}"')
        if own:
            out.append(f" data-show-when='{page.show_when_json(spec.key, True)}'")
        out.append(">")
        if own:
            out.append(
                f'<p class="small text-body-secondary mb-1 iris-when">{page.hint(spec.key, True)}</p>'
            )
        field = form._fields.get(page.field_name(spec.key))
        kind = spec.type
        if kind in CHOICE_TYPES:
            out.append(_choice_html(question, spec, page, field))
        else:  # number, text, date: the WTForms widget (attributes as declared in forms.py)
            style = "" if kind == "text" else ' style="max-width: 22rem"'
            unit = (
                f'<span class="input-group-text">{escape(page.t(spec.unit))}</span>'
                if spec.unit
                else ""
            )
            if field is None:  # a shown page: from the definition and the stored answer
                name = page.field_name(spec.key)
                label, control = _input_html(
                    spec, name, page.t(spec.text), page.visible.get(spec.key)
                )
                out.append(f'{label}<div class="input-group"{style}>{control}{unit}</div>')
            else:
                css = "form-control" + (" is-invalid" if field.errors else "")
                out.append(
                    f'{field.label(class_="form-label")}<div class="input-group"{style}>'
                    f"{field(class_=css)}{unit}</div>{errors_html(field.errors)}"
                )
        if not spec.required:
            out.append(f'<div class="form-text">{escape(page.L["optional"])}</div>')
        out.append("</div>")
    if question.evidence:
        required = (
            f' <span class="badge text-bg-warning">{escape(page.L["required"])}</span>'
            if question.evidence.required_for(page.visible)
            else ""
        )
        out.append(
            f'<div class="border-top pt-2"><p class="mb-1 small"><strong>'
            f"{escape(page.L['evidence'])}:</strong> {escape(page.t(question.evidence.text))}"
            f"{required}</p>{page.evidence_block(key)}</div>"
        )
    out.append("</div></div>")
    return Markup("".join(out))  # noqa: S704 (every value above is escaped or markup)


def evidence_html(
    docs: list[Any],
    key: str,
    form: Any,
    labels: dict[str, str],
    doc_options: Markup,
    *,
    download_url: Any,
    unlink_url: Any,
) -> Markup:
    """An editable answer's evidence: its linked documents, then the attach inputs
    (the ``evidence_block`` macro of ``_macros.html`` in edit mode)."""
    from flask_babel import gettext

    out = []
    if docs:
        out.append('<ul class="list-unstyled small mb-2">')
        for doc in docs:
            valid = (
                ", " + escape(gettext("valid until %(date)s", date=doc.valid_to.isoformat()))
                if doc.valid_to
                else ""
            )
            out.append(
                f'<li>📎 <a href="{escape(download_url(doc))}">{escape(doc.title)}</a> '
                f'<span class="text-body-secondary">({escape(doc.file_name)}{valid})</span>'
                f'<button class="btn btn-link btn-sm p-0 ms-2" type="submit" '
                f'formaction="{escape(unlink_url(doc))}">{escape(labels["remove"])}</button></li>'
            )
        out.append("</ul>")
    names = (evidence_name(key, "link"), evidence_name(key, "file"), evidence_name(key, "valid_to"))
    out.append(evidence_inputs(form, key, names, labels, doc_options))
    return Markup("".join(out))  # noqa: S704 (every value above is escaped or markup)
