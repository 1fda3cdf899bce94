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
