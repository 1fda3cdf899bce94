"""Pages and the audit report show words in the reader's language, never stored codes.

The expected words are computed with ``force_locale`` + ``gettext``, so these tests hold before
and after the Polish catalogue translates them: the page must show exactly what the catalogue
says for the label, and the raw code must not appear.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pypdf
from babel.dates import format_date
from flask_babel import force_locale, gettext

from iris.audits.models import Finding, FindingGrade, FindingStatus
from iris.core.db import utcnow
from iris.fieldwork import operations as ops
from tests.fieldwork.conftest import case_url
from tests.fieldwork.test_journey import as_user, assign_team, confirm
from tests.helpers import text_of


def words(app: Any, locale: str, *messages: str) -> list[str]:
    with app.test_request_context(), force_locale(locale):
        return [str(gettext(m)) for m in messages]


def team_with_findings(client: Any, w: Any, db_session: Any) -> None:
    assign_team(client, w)
    confirm(client, w, w.lead)
    due = utcnow() + timedelta(days=30)
    db_session.add_all(
        [
            Finding(case_id=w.case.id, criterion="C.1", grade=FindingGrade.MINOR,
                    statement="No fee register.", evidence="Seen in the office.", due_at=due,
                    status=FindingStatus.PLAN_SUBMITTED, action="Fee register kept"),
            Finding(case_id=w.case.id, criterion="C.2", grade=FindingGrade.MAJOR,
                    statement="Fees charged.", evidence="Receipts.", due_at=due),
        ]
    )  # fmt: skip
    db_session.flush()


def test_my_cases_in_polish_show_the_audit_type_and_role_in_words(client, world, db_session, app):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    confirm(client, w, w.lead)
    w.lead.locale = "pl"
    db_session.flush()
    html = client.get("/audit/cases").get_data(as_text=True)
    assert '<html lang="pl"' in html
    initial, lead = words(app, "pl", "Initial audit", "Lead auditor")
    assert f"<td>{initial}</td>" in html and f"<td>{lead}</td>" in html
    assert "<td>initial</td>" not in html and "<td>lead</td>" not in html

    w.lead.locale = "en"
    db_session.flush()
    html = client.get("/audit/cases").get_data(as_text=True)
    assert "<td>Initial audit</td>" in html and "<td>Lead auditor</td>" in html


def test_case_pages_in_polish_show_grades_statuses_and_roles_in_words(client, world, db_session, app):  # type: ignore[no-untyped-def]
    w = world
    team_with_findings(client, w, db_session)
    w.lead.locale = "pl"
    db_session.flush()
    minor, submitted, major, open_, lead, initial = words(
        app, "pl", "Minor", "Corrective action submitted", "Major", "Awaiting corrective action", "Lead auditor",
        "Initial audit",
    )  # fmt: skip

    text = text_of(client.get(case_url(w.case)))  # the audit page
    assert f"C.1 · {minor} · {submitted}" in text
    assert f"C.2 · {major} · {open_}" in text
    assert f"Leon Lead ({lead})" in text and initial in text
    for code in ("plan_submitted", "(lead)", " minor ", " open ", "initial audit"):
        assert code not in text, code

    planner = w.planner
    planner.locale = "pl"
    db_session.flush()
    as_user(client, planner)
    page = client.get(f"/cases/{w.case.public_id}")  # the certification case page
    assert page.status_code == 200
    text = text_of(page)
    assert f"Leon Lead ({lead})" in text and initial in text
    assert f"{minor} · C.1: No fee register. {submitted}" in text
    assert "plan_submitted" not in text and "(lead)" not in text and "initial" not in text

    w.admin.locale = "pl"
    db_session.flush()
    as_user(client, w.admin)
    text = text_of(client.get(case_url(w.case)))  # the agency's side, once issued
    assert "plan_submitted" not in text


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_the_audit_report_is_written_in_the_agency_language(client, world, db_session, app):  # type: ignore[no-untyped-def]
    w = world
    team_with_findings(client, w, db_session)
    w.agency.agency_profile.preferred_language = "pl"
    db_session.flush()
    now = utcnow()
    snapshot = ops.report_snapshot(w.case, now=now, language=ops.report_language(w.case))
    assert snapshot["language"] == "pl" and snapshot["audit_type"] == "initial"  # codes stored
    html = ops.report_html(snapshot, "pl")
    team, lead, submitted, minor, evidence, action, initial, assigned = words(
        app, "pl", "Team", "Lead auditor", "Corrective action submitted", "Minor", "Evidence:",
        "Corrective action:", "Initial audit", "Team assigned",
    )  # fmt: skip
    assert '<html lang="pl">' in html
    for expected in (team, f"Leon Lead ({lead})", submitted, minor, evidence, action, initial,
                     assigned, format_date(now.date(), locale="pl")):  # fmt: skip
        assert expected in html, expected
    for code in ("plan_submitted", "plan submitted", "(lead)", ">minor<", "team assigned",
                 "initial audit by", now.date().isoformat()):  # fmt: skip
        assert code not in html, code

    report = ops.store_audit_report(w.case, now=now)
    pdf = _pdf_text(storage_bytes(report.sha256))
    assert ops.report_html(report.snapshot, "pl")  # the stored snapshot renders again
    (heading,) = words(app, "pl", "IRIS audit report")
    assert heading in pdf and "Leon Lead" in pdf and "plan_submitted" not in pdf

    # an English-speaking agency gets the report in English, dates in English
    w.agency.agency_profile.preferred_language = "en"
    db_session.flush()
    assert ops.report_language(w.case) == "en"
    pdf = _pdf_text(storage_bytes(ops.store_audit_report(w.case, now=now).sha256))
    assert "Initial audit by Cert Audit Sp. z o.o." in pdf
    assert "Leon Lead (Lead auditor)" in pdf and "Corrective action submitted" in pdf
    assert format_date(now.date(), locale="en") in pdf


def storage_bytes(sha256: str) -> bytes:
    from iris.core import storage

    return storage.read_bytes(sha256)
