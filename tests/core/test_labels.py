"""Every stored code a person can see has words: the label registry is complete."""

from __future__ import annotations

import enum

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_babel import force_locale, gettext

from iris.core import labels
from iris.core.db import db
from workflows.certification import AuditType
from workflows.lifecycles import LIFECYCLES

#: Stored enums never shown as a word on their own, each with the reason.
NOT_SHOWN_ALONE = {
    # iris.admin.views.action_label writes a whole sentence per kind (and fails on a new kind)
    "AdminActionKind",
}


def _enum_columns() -> dict[str, type[enum.Enum]]:
    found: dict[str, type[enum.Enum]] = {}
    for table in db.metadata.tables.values():
        for column in table.columns:
            enum_class = getattr(column.type, "enum_class", None)
            if isinstance(column.type, sa.Enum) and enum_class is not None:
                found[enum_class.__name__] = enum_class
    return found


def test_every_registered_code_has_a_label(app):  # type: ignore[no-untyped-def]
    vocabularies = labels.registered()
    assert len(vocabularies) > 20
    missing = []
    for name, enum_class in labels.ENUMS.items():
        words = vocabularies[name]
        missing += [f"{name}.{m.name}" for m in enum_class if not str(words.get(m.value, ""))]
    for name, words in vocabularies.items():
        missing += [f"{name}:{code}" for code, text in words.items() if not str(text).strip()]
    assert not missing, f"codes without a label: {missing}"


def test_every_stored_enum_and_every_lifecycle_is_registered(app):  # type: ignore[no-untyped-def]
    stored = _enum_columns()
    assert {"FindingGrade", "AuditType", "TeamRole", "Relation", "Role"} <= set(stored)
    unregistered = sorted(set(stored) - set(labels.ENUMS) - NOT_SHOWN_ALONE)
    assert not unregistered, f"enum columns without labels: {unregistered}"
    for lifecycle in LIFECYCLES.values():
        assert labels.ENUMS[lifecycle.states.__name__] is lifecycle.states


def test_label_speaks_the_locale_and_never_the_code(app):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert labels.label(AuditType.INITIAL) == "Initial audit"
        assert labels.label("lead", "TeamRole") == "Lead auditor"
        assert labels.label(None) == ""
        page = render_template_string(
            "{{ t|label }} / {{ g|label('FindingGrade') }}", t=AuditType.SURVEILLANCE, g="minor"
        )
        assert page == "Surveillance audit / Minor"
        with force_locale("pl"):
            assert labels.label(AuditType.INITIAL) == gettext("Initial audit")
        with pytest.raises(TypeError):
            labels.label("initial")  # a plain code must name its vocabulary


def test_mails_put_codes_in_words_in_the_recipient_language(app):  # type: ignore[no-untyped-def]
    from datetime import date

    from babel.dates import format_date

    from iris.core.mail import render_mail
    from workflows.complaint import ComplaintState

    with app.test_request_context():
        with force_locale("pl"):
            minor, acknowledged = gettext("Minor"), gettext("Acknowledged")
        due = date(2031, 3, 14)
        subject, body = render_mail(
            "corrective_action_due", "pl", grade="minor", criterion="C.1",
            agency_name="Agencja", due_on=due, link="https://example.com/x",
        )  # fmt: skip
        assert minor in body and " minor " not in body
        assert format_date(due, "long", locale="pl") in subject  # 14 marca 2031
        subject, body = render_mail(
            "complaint_update", "pl", reference="C-1", state=ComplaintState.ACKNOWLEDGED
        )
        assert acknowledged in subject and acknowledged in body
        assert "acknowledged" not in body


def test_numbers_and_snapshot_dates_follow_the_locale(app):  # type: ignore[no-untyped-def]
    from babel.numbers import format_decimal

    with app.test_request_context(), force_locale("pl"):
        page = render_template_string("{{ 12345|number }} · {{ '2031-03-14'|isodate }}")
    assert page == f"{format_decimal(12345, locale='pl')} · 14 mar 2031"  # 12 345
